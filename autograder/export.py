"""Exports of a grading run: grades.csv (nbgrader's columns and more) and Moodle worksheets."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from nbgrader.api import Gradebook, MissingEntry

from .model import Outcome, Status

if TYPE_CHECKING:
    from .settings import Grading

#: nbgrader export's columns, then ours.
COLUMNS = [
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
    "seconds_late", "needs_manual_grade", "status", "message", "outcome",
]
"""``status`` is the French word shown to people; ``outcome`` the same for scripts: ``graded``,
``rejected`` (not a usable notebook: 0), ``grading_failure`` (no grade: the scores are left empty,
the copy is graded again at the next run) or ``not_submitted``."""


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def grade_rows(gradebook: Gradebook, assignments: list[str], outcomes: dict) -> list[dict[str, str]]:
    """One row per student and assignment (a student with no submission scores 0)."""
    rows = []
    for assignment in gradebook.assignments:
        if assignments and assignment.name not in assignments:
            continue
        for student in gradebook.students:
            outcome = outcomes.get((student.id, assignment.name))
            row = {
                "assignment": assignment.name,
                "duedate": str(assignment.duedate or ""),
                "timestamp": "",
                "student_id": student.id,
                "last_name": student.last_name or "",
                "first_name": student.first_name or "",
                "email": student.email or "",
                "raw_score": "0.0",
                "late_submission_penalty": "0.0",
                "score": "0.0",
                "max_score": _number(assignment.max_score),
                "seconds_late": "0.0",
                "needs_manual_grade": "False",
                "status": (outcome.status if outcome else Status.NOT_SUBMITTED).label,
                "message": outcome.message if outcome else "",
                "outcome": (outcome.status if outcome else Status.NOT_SUBMITTED).value,
            }
            if outcome is not None and outcome.status is Status.FAILED:
                # Not a grade: an earlier submission's score in the gradebook must not stand in for it.
                row.update(raw_score="", late_submission_penalty="", score="", seconds_late="")
                rows.append(row)
                continue
            try:
                submission = gradebook.find_submission(assignment.name, student.id)
            except MissingEntry:
                pass
            else:
                row.update(
                    timestamp=str(submission.timestamp or ""),
                    raw_score=_number(submission.score),
                    late_submission_penalty=_number(submission.late_submission_penalty),
                    score=_number(submission.score - submission.late_submission_penalty),
                    seconds_late=_number(submission.total_seconds_late),
                    needs_manual_grade=str(bool(submission.needs_manual_grade)),
                )
            rows.append(row)
    return rows


def export_grades(db_url: str, path: Path, assignments: list[str], outcomes: dict | None = None) -> None:
    """Write ``grades.csv``: nbgrader export's columns, plus lateness, manual grading and status."""
    with Gradebook(db_url) as gradebook:
        rows = grade_rows(gradebook, assignments, outcomes or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def export_moodle(
    db_url: str,
    folder: Path,
    participants: dict[tuple[str, str], tuple[str, str]],
    outcomes: dict,
    settings: "Grading",
) -> list[Path]:
    """One grading worksheet per assignment collected from a Moodle zip (participants matched by number)."""
    by_assignment: dict[str, list[tuple[str, str, str]]] = {}
    for (student, assignment), (participant, full_name) in participants.items():
        by_assignment.setdefault(assignment, []).append((student, participant, full_name))
    written = []
    now = datetime.now().strftime("%Y-%m-%d %H:%M:%S")  # a format PHP strtotime() reads
    with Gradebook(db_url) as gradebook:
        for assignment, people in sorted(by_assignment.items()):
            try:
                gradebook.find_assignment(assignment)
            except MissingEntry:
                continue
            rows = []
            for student, participant, full_name in sorted(people, key=lambda p: int(p[1])):
                outcome: Outcome | None = outcomes.get((student, assignment))
                try:
                    submission = gradebook.find_submission(assignment, student)
                    grade = f"{submission.score - submission.late_submission_penalty:.2f}"
                except MissingEntry:
                    grade = "0.00"
                if outcome is not None and outcome.status is Status.FAILED:
                    grade = ""  # no grade: Moodle keeps the cell empty (never a 0 the student did not earn)
                rows.append({
                    "id": f"{settings.moodle_participant_prefix}{participant}",
                    "name": full_name,
                    "grade": grade,
                    "modified": now,
                    "feedback": outcome.message if outcome else "",
                })
            path = folder / f"moodle-{assignment}.csv"
            from .moodle import write_worksheet

            write_worksheet(
                path, rows,
                id_column=settings.moodle_id_column, name_column=settings.moodle_name_column,
                grade_column=settings.moodle_grade_column, modified_column=settings.moodle_modified_column,
                feedback_column=settings.moodle_feedback_column,
            )
            written.append(path)
    return written
