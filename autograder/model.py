"""What a grading run produces, as plain data shared by every stage (no stage imports another)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path


class Status(Enum):
    """The three outcomes of a submission, never confused, plus the absence of one.

    - ``GRADED``: the student's code ran and was judged; the score is the student's.
    - ``REJECTED``: the file is not a usable notebook; 0, with a French reason for the student.
    - ``FAILED``: the grader could not judge (sandbox, killed or lost process, internal error);
      no grade is recorded, and the next run grades the copy again.
    """

    GRADED = "graded"
    REJECTED = "rejected"
    FAILED = "grading_failure"
    NOT_SUBMITTED = "not_submitted"

    @property
    def label(self) -> str:
        """The French word shown to instructors."""
        return _LABELS[self]


_LABELS = {
    Status.GRADED: "corrigé",
    Status.REJECTED: "rejeté",
    Status.FAILED: "échec de la correction",
    Status.NOT_SUBMITTED: "non rendu",
}


@dataclass
class Outcome:
    """The result of one student's assignment."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: Status
    message: str = ""
    feedback: Path | None = None
    seconds: float = 0.0
    late_seconds: float = 0.0
    manual: list[str] = field(default_factory=list)
    reused: bool = False


@dataclass
class RunResult:
    """Everything a grading run produced."""

    workspace: Path
    grades_csv: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    report: Path | None = None
    moodle_csvs: list[Path] = field(default_factory=list)
    feedback_zips: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    ambiguities: list[str] = field(default_factory=list)
    canary_seconds: float = 0.0
    #: Wall-clock seconds of each stage of the run (collect, execute, record, feedback, export, report).
    stages: dict[str, float] = field(default_factory=dict)

    @property
    def failures(self) -> list[Outcome]:
        """Copies the grader could not judge: to grade again."""
        return [o for o in self.outcomes if o.status is Status.FAILED]

