"""The feedback writers' first page, prepared once in the warm server.

A writer's first page used to cost about 0.3 s of CPU more than the next ones, in every run: Jinja
compiled the page's templates, nbformat compiled its validator, SQLAlchemy set up nbgrader's classes.
The warm server (execution/warm_server.py) renders here, once, the page of a tiny graded notebook with
the course's configuration; the writers forked from it inherit the compiled templates
(feedback.COMPILED_TEMPLATES) and the rest.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.orm import configure_mappers

from autograder.grading.config import load_config
from autograder.grading.feedback import FeedbackExporter, feedback_converter


def course_exporter(course_root: Path) -> FeedbackExporter:
    """The feedback pages' exporter with the course's configuration and FeedbackWriter's converter (no preprocessor)."""
    config = load_config(Path(course_root), course_root=Path(course_root))
    converter = feedback_converter(CourseDirectory(config=config), config)
    return FeedbackExporter(parent=converter, config=converter.config)


def tiny_graded_notebook() -> tuple[NotebookNode, dict]:
    """A graded notebook of two cells (a text, a test cell with its score) and its page's resources."""
    grade = {"grade": True, "solution": False, "locked": True, "points": 1, "score": 1, "comment": "",
             "grade_id": "test", "schema_version": 3}
    test = new_code_cell("assert True", metadata={"nbgrader": grade}, execution_count=1,
                         outputs=[new_output("stream", name="stdout", text="ok\n")])
    notebook = new_notebook(cells=[new_markdown_cell("# Titre\n\n*texte* `code`"), test],
                            metadata={"language_info": {"name": "python", "pygments_lexer": "ipython3"}})
    resources = {"nbgrader": {"score": 1, "max_score": 1, "late_penalty": 0, "student": "x", "assignment": "x",
                              "notebook": "x"}}
    return notebook, resources


def warm_up(course_root: Path) -> None:
    """Compile, once, what each writer's first page would: its templates, the notebook validator, the highlighter.

    Called in the warm server, with the course's configuration: the page of a tiny graded notebook is
    rendered in memory (no gradebook, nothing written). A failure only leaves the writers to do it.
    """
    configure_mappers()  # nbgrader's gradebook classes, set up once (each writer opens a gradebook)
    notebook, resources = tiny_graded_notebook()
    nbformat.validate(notebook)
    course_exporter(course_root).from_notebook_node(notebook, resources=resources)
