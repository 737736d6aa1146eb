"""What the warm server prepares once, for every process forked from it (test processes, students' sandboxes, feedback writers).

Only ``forkserver.context`` names this module, as the server's preload: importing it builds IPython's
shell of the student's process (``runner.prepare_shell``) in the importing process.
"""

import atexit
import os
import sys

from autograder.course import prepare_environment


def _end_at_once() -> None:
    """The server's last act: leave without freeing TensorFlow's heap object by object.

    The server ends when the grading process does; tearing its interpreter down costs about a
    second, during which it still holds the grader's output streams (a pipe reading them waits).
    Nothing is left to save: its children are gone or independent. Registered first, this
    handler runs after the others.
    """
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


atexit.register(_end_at_once)

prepare_environment()  # quiet TensorFlow, no OpenBLAS thread: inherited by every forked process

import tensorflow  # noqa: E402,F401 - about 2 s of CPU, paid once here

import autograder.execution.tester  # noqa: E402,F401 - does not import nbgrader
import autograder.grading.feedback  # noqa: E402,F401 - nbgrader and nbconvert, for the feedback writers
import IPython.lib.lexers  # noqa: E402,F401 - the pages' highlighting (about 0.1 s per writer otherwise)
import pygments.formatters.html  # noqa: E402,F401
from autograder.execution.runner import prepare_shell  # noqa: E402

try:
    prepare_shell()
except Exception:  # noqa: BLE001 - each student's process then builds its own shell (slower, same result)
    pass

try:
    from autograder.course import REPO_ROOT
    from autograder.grading.feedback_warm_up import warm_up

    warm_up(REPO_ROOT)  # the feedback pages' templates compiled once, for every writer forked from here
except Exception:  # noqa: BLE001 - each writer then compiles them on its first page (slower, same pages)
    pass
