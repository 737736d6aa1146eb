"""Exports of a grading run: grades.csv (nbgrader's columns and more) and Moodle worksheets."""

from __future__ import annotations

import csv
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from nbgrader.api import Gradebook, MissingEntry

from autograder.model import Outcome, Status

if TYPE_CHECKING:
    from autograder.grading.config import Grading
    from autograder.grading.options import Options
    from autograder.grading.prepare import Prepared
    from autograder.model import RunResult
    from autograder.submissions.collect import Collection

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


@dataclass
class MoodleExport:
    """What was written for Moodle."""

    worksheets: list[Path] = field(default_factory=list)
    feedback_zips: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _points(gradebook: Gradebook, assignment: str, student: str) -> tuple[float, list[tuple[str, float, float]]] | None:
    """(score after late penalty, [(question, score, max)]) of a recorded submission, or None."""
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return None
    questions = [
        (grade.name, float(grade.score or 0.0), float(grade.max_score))
        for notebook in submission.notebooks for grade in notebook.grades if grade.max_score
    ]
    return float(submission.score - submission.late_submission_penalty), questions


def feedback_comment(outcome: Outcome, points, max_score: float, moodle_max: str) -> str:
    """A short French comment for Moodle: the score and the points of each question (no internal remark)."""
    from autograder.grading.french import format_number

    if outcome.status is Status.REJECTED:
        return f"Rendu rejeté, note 0 : {outcome.message}"
    if points is None:
        return ""
    score, questions = points
    parts = [f"{name} : {format_number(got)} / {format_number(top)}" for name, got, top in questions]
    text = f"Correction automatique : {format_number(score)} / {format_number(max_score)} points"
    if moodle_max:
        text += f" (note sur {moodle_max})"
    return text + (". " + " ; ".join(parts) + "." if parts else ".") + " Le détail est dans le fichier de feedback."


def export_moodle(
    db_url: str,
    folder: Path,
    links: dict,
    outcomes: dict,
    settings: "Grading",
    worksheets: list | None = None,
    *,
    comments: bool = False,
) -> MoodleExport:
    """For each assignment collected from a Moodle zip: the grading worksheet and a feedback zip.

    ``links``: (student, assignment) → identity.MoodleLink. With the worksheet Moodle exported
    (``worksheets``), it is written back filled in (same headers, columns and rows: only the grades
    and, with ``comments``, the feedback comments change). Without, a new worksheet is written in the
    language and on the scale of the settings (``c.Grading.moodle_language``, ``moodle_max_grade``).
    """
    from decimal import Decimal

    from autograder.submissions import moodle

    from autograder.submissions import moodle_worksheet

    result = MoodleExport()
    sheets = {sheet.path: sheet for sheet in worksheets or []}
    by_target: dict[tuple[str, Path | None, Path], list] = {}
    for (student, assignment), link in links.items():
        by_target.setdefault((assignment, link.worksheet, link.zip), []).append((student, link))
    with Gradebook(db_url) as gradebook:
        for (assignment, sheet_path, zip_path), people in sorted(by_target.items(), key=lambda t: (t[0][0], str(t[0][1]), str(t[0][2]))):
            try:
                max_score = float(gradebook.find_assignment(assignment).max_score)
            except MissingEntry:
                continue
            grades: dict[str, str] = {}
            texts: dict[str, str] = {}
            new_rows = []
            pages: list[tuple[str, Path]] = []
            sheet = sheets.get(sheet_path) if sheet_path else None
            separator = sheet.decimal_separator() if sheet else "."
            for student, link in sorted(people, key=lambda p: p[1].participants):
                locked = False
                outcome: Outcome | None = outcomes.get((student, assignment))
                points = _points(gradebook, assignment, student)
                for number, name in zip(link.participants, link.names):
                    if sheet is not None:
                        if number not in sheet.by_participant:
                            continue
                        locked = not sheet.can_change(number)
                        if locked:
                            result.notes.append(
                                f"{assignment} : la note du participant {number} ne peut pas être modifiée dans "
                                "Moodle (note verrouillée) ; sa ligne est laissée telle quelle."
                            )
                        scale = sheet.max_grade(number)
                    else:
                        scale = Decimal(repr(float(settings.moodle_max_grade)))
                    if outcome is None or outcome.status is Status.FAILED or scale is None:
                        grade = ""  # no grade: Moodle skips the row (never a 0 the student did not earn)
                    elif outcome.status is Status.REJECTED or points is None:
                        grade = moodle_worksheet.moodle_grade(0.0, max_score or 1.0, scale, separator)
                    else:
                        grade = moodle_worksheet.moodle_grade(points[0], max_score, scale, separator)
                    if sheet is None or not locked:
                        grades[number] = grade
                    if comments and not locked and outcome is not None and outcome.status is not Status.FAILED:
                        texts[number] = feedback_comment(outcome, points, max_score, f"{scale}".replace(".", separator))
                    new_rows.append((number, name, grade, f"{scale:.2f}"))
                    if outcome is not None and outcome.status is not Status.FAILED:
                        for page in _pages(outcome):
                            target = link.folder if link.group is None else moodle.feedback_folder(name, number)
                            pages.append((f"{target}/{page.name}", page))
            if sheet is not None:
                path = folder / sheet.path.name
                moodle_worksheet.write_worksheet_back(sheet, path, grades, texts)
            else:
                path = folder / f"moodle-{assignment}.csv"
                moodle_worksheet.write_new_worksheet(path, sorted(new_rows, key=lambda r: int(r[0])), settings.moodle_language)
            result.worksheets.append(path)
            if pages:
                archive = folder / f"retours-{assignment}-{zip_path.stem}.zip"
                moodle.write_feedback_zip(archive, pages)
                result.feedback_zips.append(archive)
    return result


def _pages(outcome: Outcome) -> list[Path]:
    """The French feedback page(s) of an outcome."""
    if outcome.feedback is None:
        return []
    if outcome.feedback.is_file():
        return [outcome.feedback]
    return sorted(outcome.feedback.glob("*.html")) if outcome.feedback.is_dir() else []


def export_stage(prepared: "Prepared", collection: "Collection", options: "Options", result: "RunResult") -> None:
    """grades.csv, and the Moodle worksheets and feedback zips for copies from Moodle downloads."""
    mark = time.perf_counter()
    workspace = options.out
    outcomes_by_key = {(o.student_id, o.assignment): o for o in result.outcomes}
    export_grades(prepared.db_url, result.grades_csv, prepared.used, outcomes_by_key)
    if (workspace / "moodle").is_dir():
        shutil.rmtree(workspace / "moodle")  # only this run's Moodle files: never an older class's
    exported = export_moodle(
        prepared.db_url, workspace / "moodle", collection.moodle, outcomes_by_key, prepared.grading,
        prepared.worksheets, comments=options.moodle_comments,
    )
    result.moodle_csvs, result.feedback_zips = exported.worksheets, exported.feedback_zips
    result.warnings = collection.warnings + exported.notes
    result.ambiguities = collection.ambiguities
    result.outcomes.sort(key=lambda o: (o.assignment, o.student_id))
    result.stages["export"] = time.perf_counter() - mark
