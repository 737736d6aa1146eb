"""`python -m autograder`: the course's grading tool."""

from autograder.cli import entry

entry()
