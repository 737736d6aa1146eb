"""JupyterHub of the course: one class on one machine (`make hub`, see the README).

Everyone logs in with a Unix account of the machine (PAM: the machine's users and passwords);
each user's JupyterLab runs as that Unix user (LocalProcessSpawner), so that students cannot
read each other's files nor the instructor's course. Assignments and feedback go through
nbgrader's exchange, a folder shared by all accounts.

Everything that changes from one class to another comes from environment variables (set by
`make hub`, or by the systemd unit of a real deployment):

TF_COURSE_INSTRUCTORS   accounts of the instructors, separated by spaces
TF_COURSE_STUDENTS      accounts of the students (empty: every account that PAM accepts)
TF_COURSE_HUB_DIR       the hub's own state: database, cookie secret (default: build/hub/)
TF_COURSE_EXCHANGE      nbgrader's exchange folder (default: nbgrader's, /srv/nbgrader/exchange)
TF_COURSE_PYTHON        the Python of the course's environment, which every user's server runs
                        (default: the hub's Python)
"""

import os
import sys

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def accounts(variable):
    return set(os.environ.get(variable, "").split())


INSTRUCTORS = accounts("TF_COURSE_INSTRUCTORS")
STUDENTS = accounts("TF_COURSE_STUDENTS")
STATE = os.environ.get("TF_COURSE_HUB_DIR", os.path.join(ROOT, "build", "hub"))
EXCHANGE = os.environ.get("TF_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
PYTHON = os.environ.get("TF_COURSE_PYTHON", sys.executable)

# --- Who may log in ---------------------------------------------------------------------
# PAM (JupyterHub's default): the machine's Unix accounts. For a university's login, replace
# this section (see the README: LTI from Moodle, OAuth/CAS, LDAP).
c.JupyterHub.authenticator_class = "pam"
if STUDENTS or INSTRUCTORS:
    c.Authenticator.allowed_users = STUDENTS | INSTRUCTORS
else:
    c.Authenticator.allow_all = True
# Instructors are the members of this JupyterHub group: their JupyterLab has nbgrader's
# instructor tools, the students' does not.
INSTRUCTORS_GROUP = "instructors"
c.JupyterHub.load_groups = {INSTRUCTORS_GROUP: {"users": sorted(INSTRUCTORS)}}

# --- Each user's JupyterLab ------------------------------------------------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [PYTHON, "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.args = ["--LabApp.news_url=None"]
# Importing TensorFlow in a first kernel on a busy machine takes time.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    # TensorFlow's log lines would cost points at Validate (see nbgrader_config.py).
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "TF_COURSE_EXCHANGE": EXCHANGE,
}


def course_settings(spawner):
    """Jupyter settings by role: hub/instructor/, or hub/student/ and lab/student/."""
    groups = {group.name for group in spawner.user.groups}
    if INSTRUCTORS_GROUP in groups:
        folders = [os.path.join(HERE, "instructor")]
    else:
        folders = [os.path.join(HERE, "student"), os.path.join(ROOT, "lab", "student")]
    spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(folders)


c.Spawner.pre_spawn_hook = course_settings

# --- The hub itself --------------------------------------------------------------------
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.JupyterHub.db_url = "sqlite:///" + os.path.join(STATE, "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(STATE, "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(STATE, "jupyterhub.pid")
c.ConfigurableHTTPProxy.command = [os.path.join(HERE, "node_modules", ".bin", "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = os.path.join(STATE, "proxy.pid")
# The French login page and messages (hub/templates/).
c.JupyterHub.template_paths = [os.path.join(HERE, "templates")]
