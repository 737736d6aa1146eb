"""What the warm server prepares once, for every process forked from it (test processes, students' sandboxes, feedback writers).

Only ``forkserver.context`` names this module, as the server's preload: importing it builds IPython's
shell of the student's process (``runner.prepare_shell``) in the importing process.
"""

from autograder.course import prepare_environment

prepare_environment()  # quiet TensorFlow, no OpenBLAS thread: inherited by every forked process

import tensorflow  # noqa: E402,F401 - about 2 s of CPU, paid once here

import autograder.execution.tester  # noqa: E402,F401 - does not import nbgrader
import autograder.grading.feedback  # noqa: E402,F401 - nbgrader and nbconvert, for the feedback writers
from autograder.execution.runner import prepare_shell  # noqa: E402

try:
    prepare_shell()
except Exception:  # noqa: BLE001 - each student's process then builds its own shell (slower, same result)
    pass
