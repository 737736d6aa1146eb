"""The grader's own HTML pages, rendered from the Jinja2 templates in ``autograder/templates``.

Also the stage that gives rejected copies their zero and their page.

(The feedback page of a graded notebook is nbconvert's, from ``templates/feedback``; the pages
here are the ones the grader writes itself: the class report and the page of a rejected copy.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from autograder.grading.french import format_duration, format_number
from autograder.model import Outcome, Status

if TYPE_CHECKING:
    from autograder.grading.prepare import Prepared
    from autograder.model import RunResult
    from autograder.submissions.collect import Collection, Problem


@cache
def environment() -> Environment:
    """The templates' environment, built once: HTML templates (``*.html.j2``) are autoescaped."""
    env = Environment(
        loader=PackageLoader("autograder", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = format_number
    env.filters["duration"] = format_duration
    return env


def render(name: str, **context: Any) -> str:
    """The template ``name`` rendered with ``context``."""
    return environment().get_template(name).render(**context)


def write_rejected_page(path: Path, problem: "Problem") -> Path:
    """Write the French page of a submission that could not be graded; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render("rejected.html.j2", problem=problem), encoding="utf-8")
    return path


def rejected_stage(prepared: "Prepared", collection: "Collection", result: "RunResult") -> None:
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
