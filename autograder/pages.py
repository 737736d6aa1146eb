"""The grader's own HTML pages, rendered from the Jinja2 templates in ``autograder/templates``.

(The feedback page of a graded notebook is nbconvert's, from ``templates/feedback``; the pages
here are the ones the grader writes itself: the class report and the page of a rejected copy.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .french import format_duration, format_number

if TYPE_CHECKING:
    from .collect import Problem


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
