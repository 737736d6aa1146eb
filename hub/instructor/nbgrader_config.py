"""nbgrader settings of an instructor's JupyterLab on the course's JupyterHub.

The instructor's course is a copy of this repository in the instructor's home folder,
~/tf-gradienttape/ by default (TF_COURSE_ROOT), private to the instructor: source/ and its
hidden tests, the submissions collected from the exchange, the gradebook. JupyterLab's
Formgrader and Create Assignment panel find the course there. nbgrader's commands run from a
course folder (`nbgrader release_assignment`, `nbgrader collect`, `nbgrader release_feedback`)
and the grading command keep their own course folder: the one they run in, which has its own
nbgrader_config.py.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

COURSE = os.environ.get("TF_COURSE_ROOT", os.path.expanduser("~/tf-gradienttape"))
if not os.path.isfile("nbgrader_config.py") and os.path.isfile(os.path.join(COURSE, "nbgrader_config.py")):
    load_subconfig(os.path.join(COURSE, "nbgrader_config.py"))  # noqa: F821 - provided by traitlets
    c.CourseDirectory.root = COURSE
c.Exchange.root = os.environ.get("TF_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
