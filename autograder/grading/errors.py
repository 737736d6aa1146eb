"""The error that stops a grading run."""


class GradingError(Exception):
    """A grading run cannot start (or must stop); the message is French and meant for the instructor."""
