"""The failure that every check raises: a French message meant for the student."""

from __future__ import annotations


class Diagnostic(AssertionError):
    """A check failed. The message is in French and meant for the student."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the student reads the
        # diagnostic, not the lines of the test cell (which may hold hidden tests).
        return [f"\x1b[1;31mÉchec du test\x1b[0m : {self}"]
