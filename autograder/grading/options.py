"""The options of a grading run: what ``python -m autograder grade`` and ``grading.pipeline.run`` take."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from autograder.course import REPO_ROOT

#: Called with (student id, assignment) each time a copy is done.
ProgressCallback = Callable[[str, str], None]


@dataclass
class Options:
    """One grading run, as the instructor asked for it.

    ``submissions``: folders or Moodle zips; ``out``: the grading folder (an nbgrader course root
    of its own). The other fields are the command's options (see ``python -m autograder grade -h``).
    """

    submissions: list[Path]
    out: Path
    course_root: Path = REPO_ROOT
    roster: Path | None = None
    assignment: str | None = None
    db_url: str | None = None
    max_bytes: int | None = None
    reset: bool = False
    force: bool = False
    report: bool = True
    sandboxed: bool = True
    workers: int = 0  # 0: one per core
    scheduler: str | None = None
    on_progress: ProgressCallback | None = None
    on_start: Callable[[int], None] | None = None
    moodle_worksheets: list[Path] = field(default_factory=list)
    moodle_comments: bool = False

    def __post_init__(self) -> None:
        self.submissions = [Path(s).resolve() for s in self.submissions]
        self.out = Path(self.out).resolve()
        self.course_root = Path(self.course_root).resolve()
        self.moodle_worksheets = [Path(p) for p in self.moodle_worksheets]
        self.workers = self.workers or os.cpu_count() or 1
