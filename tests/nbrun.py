"""Run the code cells of an assignment notebook in this process (fast, for trusted code).

Used by the mutation tests: the instructor's solution, with one answer replaced
by a typical wrong variant, is executed cell by cell, and each test cell is
scored the way nbgrader scores it (an error gives 0, a number on the last line
is the partial credit, otherwise full points).
"""

from __future__ import annotations

import ast
import contextlib
import io
import linecache
import os
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder import checks
from coursetools.demo import strip_solution_markers


@dataclass
class CellOutcome:
    grade_id: str
    points: float
    score: float
    output: str


def _register(source: str, filename: str) -> None:
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)


def _execute(source: str, filename: str, namespace: dict) -> object:
    """Execute a cell; return the value of its last line if it is an expression."""
    _register(source, filename)
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        return eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
    return None


def run_assignment(
    path: Path, student_id: str, answers: dict[str, str] | None = None
) -> dict[str, CellOutcome]:
    """Execute ``path`` (an instructor notebook) with some answers replaced; score its test cells."""
    notebook = nbformat.read(path, as_version=4)
    answers = answers or {}
    namespace: dict = {"__name__": "__main__"}
    outcomes: dict[str, CellOutcome] = {}
    previous = os.environ.get(checks.STUDENT_ID_ENV)
    os.environ[checks.STUDENT_ID_ENV] = student_id
    try:
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            grade_id = meta.get("grade_id", f"cell{index}")
            source = answers.get(grade_id, strip_solution_markers(cell.source))
            filename = f"<cell {path.stem}:{grade_id}:{student_id}>"
            buffer = io.StringIO()
            error = None
            value = None
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                try:
                    value = _execute(source, filename, namespace)
                except Exception as exc:  # noqa: BLE001 - scored as nbgrader does
                    error = exc
            if meta.get("grade") and not meta.get("solution"):
                points = float(meta.get("points", 0))
                if error is not None:
                    score = 0.0
                    text = buffer.getvalue() + f"{type(error).__name__}: {error}"
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    score = min(float(value), points)
                    text = buffer.getvalue()
                else:
                    score = points
                    text = buffer.getvalue()
                outcomes[grade_id] = CellOutcome(grade_id, points, score, text)
            elif error is not None and not meta.get("solution"):
                raise RuntimeError(f"la cellule {grade_id} a échoué : {error}") from error
    finally:
        if previous is None:
            os.environ.pop(checks.STUDENT_ID_ENV, None)
        else:
            os.environ[checks.STUDENT_ID_ENV] = previous
    return outcomes
