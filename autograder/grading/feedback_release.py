"""Hand the feedback pages of a grading run back to nbgrader's exchange (``nbgrader release_feedback``).

Run from the instructor's nbgrader course (its ``submitted/`` holds what ``nbgrader collect``
gathered): ``python -m autograder retours <grading folder>`` copies each page into ``feedback/``,
with the submission's timestamp and secret, so that ``nbgrader release_feedback`` hands it to
its author.
"""

from __future__ import annotations

import shutil
from pathlib import Path


#: What nbgrader's release_feedback needs beside each page: the submission's timestamp and its secret
#: (the secret names the page in the exchange, so that only that submission's author finds it).
SUBMISSION_FILES = ("timestamp.txt", "submission_secret.txt")


def stage_feedback(course: Path, grading: Path) -> tuple[list[str], list[str]]:
    """Copy the feedback pages of a grading run into ``course``/feedback/, for `nbgrader release_feedback`.

    A page goes with the submission it was made from: ``course``/submitted/<student>/<assignment>/
    gives its timestamp and secret. A page older than that submission (collected again since the
    grading) is left out. Returns the staged and the left-out pages, as student/assignment/page.
    """
    staged, stale = [], []
    for page in sorted((grading / "feedback").glob("*/*/*.html")):
        assignment_dir = page.parent
        student, assignment = assignment_dir.parent.name, assignment_dir.name
        submitted = course / "submitted" / student / assignment
        label = f"{student}/{assignment}/{page.name}"
        notebook = submitted / (page.stem + ".ipynb")
        if not notebook.is_file() or notebook.stat().st_mtime > page.stat().st_mtime:
            stale.append(label)
            continue
        target = course / "feedback" / student / assignment
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(page, target / page.name)
        for name in SUBMISSION_FILES:
            if (submitted / name).is_file():
                shutil.copy2(submitted / name, target / name)
        staged.append(label)
    return staged, stale


def stage_feedback_command(course: Path, grading: Path) -> int:
    """``python -m autograder retours``: stage the pages, say what was done in French; the exit code."""
    staged, stale = stage_feedback(course, grading)
    for label in stale:
        print(f"Page laissée de côté (rendu relevé de nouveau depuis la correction : corrigez-le) : {label}")
    print(f"{len(staged)} page(s) de retour prête(s) dans feedback/ : lancez « nbgrader release_feedback <devoir> ».")
    return 0 if staged or not stale else 1
