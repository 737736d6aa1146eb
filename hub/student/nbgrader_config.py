"""nbgrader settings of a student's JupyterLab on the course's JupyterHub.

The hub puts this folder (and lab/student/) on the JUPYTER_CONFIG_PATH of every student's server.
The course's nbgrader_config.py gives the course id and the French Validate messages; the
assignment list goes through the exchange shared by the class (nbgrader's multi-user exchange).
Fetched assignments and fetched feedback go into the student's home folder.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
load_subconfig(os.path.join(ROOT, "nbgrader_config.py"))  # noqa: F821 - provided by traitlets

c.Exchange.root = os.environ.get("TF_COURSE_EXCHANGE", "/srv/nbgrader/exchange")
c.Exchange.assignment_dir = os.path.expanduser("~")
