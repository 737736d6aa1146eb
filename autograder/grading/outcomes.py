"""The outcome of a copy, as the gradebook records it: a grade with its remarks, or a grading failure."""

from __future__ import annotations

import shutil
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from autograder.grading.french import format_duration
from autograder.model import Outcome, Status


def read_outcome(gradebook: Gradebook, workspace: Path, student: str, assignment: str, seconds: float) -> Outcome:
    """The outcome of a graded submission, as recorded in the gradebook."""
    missed, manual = [], []
    max_score = gradebook.find_assignment(assignment).max_score
    try:
        submission = gradebook.find_submission(assignment, student)
    except MissingEntry:
        return Outcome(student, assignment, 0.0, max_score, Status.FAILED,
                       "aucune note enregistrée : relancez la même commande pour corriger cette copie",
                       seconds=seconds)
    score = submission.score
    late = submission.total_seconds_late or 0.0
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.needs_manual_grade:
                manual.append(grade.name)
            elif grade.cell_type == "code" and (grade.score or 0.0) < grade.max_score:
                missed.append(grade.name)
    remarks = []
    if missed:
        remarks.append("points perdus : " + ", ".join(missed))
    if manual:
        remarks.append("à noter à la main : " + ", ".join(manual))
    if late > 0:
        remarks.append(f"rendu en retard ({format_duration(late)})")
    page = workspace / "feedback" / student / assignment
    return Outcome(
        student, assignment, score, max_score, Status.GRADED, "\u00a0; ".join(remarks),
        page if page.is_dir() else None, seconds, late, manual,
    )


def failure_outcome(gradebook: Gradebook, workspace: Path, student: str, assignment: str, reason: str,
                    seconds: float = 0.0) -> Outcome:
    """A copy the grader could not judge: no grade, no feedback page (an earlier one would be stale)."""
    max_score = gradebook.find_assignment(assignment).max_score
    stale = workspace / "feedback" / student / assignment
    if stale.is_dir():
        shutil.rmtree(stale)
    return Outcome(
        student, assignment, 0.0, max_score, Status.FAILED,
        f"la copie n'a pas pu être corrigée ({reason}) ; ce n'est pas une note : relancez la même commande "
        "pour la corriger de nouveau.", seconds=seconds,
    )
