"""`python -m autograder`: the course's grading tool."""

import sys

from autograder.cli import main

sys.exit(main())
