"""The warm server that test processes (and feedback writers) are forked from.

Kept apart from executor.py, which needs nbgrader: a grading run starts this server (TensorFlow
and nbgrader are then imported there, in the background) before it imports nbgrader itself.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

_CONTEXT: Any = None


def context():
    """The forkserver that test processes are forked from (started once, TensorFlow preloaded)."""
    global _CONTEXT
    if _CONTEXT is None:
        from autograder.course import prepare_environment

        prepare_environment()  # inherited by the server: quiet TensorFlow, no OpenBLAS thread
        _CONTEXT = multiprocessing.get_context("forkserver")
        # Everything a forked process needs is prepared once, in the server (warm_server.py). The children's
        # target (tester.serve_one) lives in a module that does not import nbgrader: an import left to each
        # child costs up to 1.7 s per submission. (The main module is not re-imported in the children
        # when the grader runs as ``python -m autograder`` or ``python -c``.)
        _CONTEXT.set_forkserver_preload(["autograder.execution.warm_server"])
    return _CONTEXT


def warm_up() -> None:
    """Start the warm server now (it imports TensorFlow in the background while nbgrader prepares)."""
    from multiprocessing import forkserver

    context()
    forkserver.ensure_running()
