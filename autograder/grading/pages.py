"""The page a student reads when the submission could not be graded (rejected copy)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.grading.prepare import Prepared

from autograder.model import Outcome, RunResult, Status
from autograder.submissions.collect import Collection, Problem


def write_rejected_page(path: Path, problem: Problem) -> None:
    """A French feedback page for a submission that could not be graded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\">"
        f"<title>{html.escape(problem.assignment)} : rendu non corrigé</title></head>\n<body>\n"
        f"<h1>{html.escape(problem.assignment)} : votre rendu n'a pas pu être corrigé</h1>\n"
        f"<p>{html.escape(problem.message)}</p>\n"
        "<p>Note : 0. Vérifiez le fichier (ouvrez-le dans JupyterLab, enregistrez-le, "
        "puis rendez le fichier <code>.ipynb</code> sans le renommer) et contactez votre "
        "enseignant ou enseignante.</p>\n</body>\n</html>\n",
        encoding="utf-8",
    )


def rejected_stage(prepared: "Prepared", collection: Collection, result: RunResult) -> None:
    """Copies that cannot be graded: zero, a page that says why, and no earlier grade left in the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(prepared.db_url) as gradebook:
        for problem in collection.problems:
            max_score = 0.0
            known = problem.assignment in prepared.assignments
            if known:
                max_score = gradebook.find_assignment(problem.assignment).max_score
                try:
                    gradebook.remove_submission(problem.assignment, problem.student_id)  # it must score 0
                except MissingEntry:
                    pass
            notebook = prepared.assignments[problem.assignment].notebooks[0] if known else "rendu.ipynb"
            page = result.workspace / "feedback" / problem.student_id / problem.assignment / (Path(notebook).stem + ".html")
            write_rejected_page(page, problem)
            result.outcomes.append(
                Outcome(problem.student_id, problem.assignment, 0.0, max_score, Status.REJECTED, problem.message, page)
            )
