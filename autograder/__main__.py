"""`python -m autograder`: the course's grading tool."""

import sys

from .cli import main

sys.exit(main())
