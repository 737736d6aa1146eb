"""nbgrader settings of `make lab` only: the assignment list of the student's JupyterLab.

`make lab` puts this folder on JUPYTER_CONFIG_PATH; nbgrader's lab extension reads this file and
then the course's nbgrader_config.py (course id, Validate messages) from the repository root.
Grading never reads it. `make lab` publishes release/ into the local exchange below, so
*Nbgrader › Assignment List* lists the course's assignments; *Fetch* copies one into
mes-devoirs/ (release/ stays untouched) and *Submit* copies it into the exchange's inbound.
"""

import os

c = get_config()  # noqa: F821 - provided by traitlets when it loads this file

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "build", "lab")

c.Exchange.root = os.path.join(LAB, "exchange")
c.Exchange.cache = os.path.join(LAB, "cache")
c.Exchange.assignment_dir = os.path.join(ROOT, "mes-devoirs")
