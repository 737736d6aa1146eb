"""nbgrader settings of an instructor's JupyterLab on the course's JupyterHub.

The instructor's course is a copy of this repository in the instructor's home folder,
~/tf-gradienttape/ by default (TF_COURSE_ROOT), private to the instructor: source/ and its
hidden tests, the submissions collected from the exchange, the gradebook. nbgrader's commands
run from that folder (`nbgrader release_assignment`, `nbgrader collect`,
`nbgrader release_feedback`) and JupyterLab's Formgrader find the course there.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

COURSE = os.environ.get("TF_COURSE_ROOT", os.path.expanduser("~/tf-gradienttape"))
if os.path.isfile(os.path.join(COURSE, "nbgrader_config.py")):
    load_subconfig(os.path.join(COURSE, "nbgrader_config.py"))  # noqa: F821 - provided by traitlets
c.CourseDirectory.root = COURSE
c.Exchange.root = os.environ.get("TF_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
