"""Demo submissions: built from release/ (what students receive) and source/ (solutions).

``make grade`` grades them by default, so that a newcomer sees the whole chain:

- ``demo-parfait``: every answer is the instructor's solution (full marks; the written
  answer waits for manual grading);
- ``demo-partiel``: questions 1 and 4 right, question 2 with a factor-2 error, question 3 untouched;
- ``demo-vierge``: the student notebook as released (0);
- ``demo-illisible``: a notebook cut in the middle of its JSON (0, with a French message).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

from autograder.course import REPO_ROOT

DEMO_ASSIGNMENT = "ex01_premiers-pas"

#: (grade_id, text to replace, replacement) applied to the solution of the partial student.
PARTIAL_MISTAKES = [
    ("carre_et_derivee", "return y, tape.gradient(y, x)", "return y, 2 * tape.gradient(y, x)"),
]
PARTIAL_UNANSWERED = {"derivee_en"}


def strip_solution_markers(source: str) -> str:
    """The instructor's solution as a student would write it (markers and grading notes removed)."""
    source = re.sub(r"<!--.*?-->\n*", "", source, flags=re.S)
    lines = [line for line in source.splitlines() if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line]
    return "\n".join(lines).strip("\n")


def _solutions(source_nb: nbformat.NotebookNode) -> dict[str, str]:
    return {
        cell.metadata["nbgrader"]["grade_id"]: strip_solution_markers(cell.source)
        for cell in source_nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def _answer(release_nb: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(release_nb)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


def demo_files(root: Path = REPO_ROOT) -> dict[Path, str]:
    """Relative path → content of every demo submission."""
    name = f"{DEMO_ASSIGNMENT}.ipynb"
    release_nb = nbformat.read(root / "release" / DEMO_ASSIGNMENT / name, as_version=4)
    source_nb = nbformat.read(root / "source" / DEMO_ASSIGNMENT / name, as_version=4)
    solutions = _solutions(source_nb)

    partial = {k: v for k, v in solutions.items() if k not in PARTIAL_UNANSWERED}
    for grade_id, old, new in PARTIAL_MISTAKES:
        assert old in partial[grade_id], f"{old!r} is not in the solution of {grade_id}"
        partial[grade_id] = partial[grade_id].replace(old, new)

    def text(nb: nbformat.NotebookNode) -> str:
        return nbformat.writes(nb) + "\n"

    perfect = text(_answer(release_nb, solutions))
    return {
        Path("demo-parfait", DEMO_ASSIGNMENT, name): perfect,
        Path("demo-partiel", DEMO_ASSIGNMENT, name): text(_answer(release_nb, partial)),
        Path("demo-vierge", DEMO_ASSIGNMENT, name): text(release_nb),
        # A download cut short: the JSON stops in the middle of the notebook.
        Path("demo-illisible", DEMO_ASSIGNMENT, name): perfect[: len(perfect) // 2],
    }


def build_demo(root: Path = REPO_ROOT) -> list[Path]:
    """Write the demo submissions under demo/submitted/."""
    written = []
    for relative, content in demo_files(root).items():
        path = root / "demo" / "submitted" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def check_demo(root: Path = REPO_ROOT) -> list[str]:
    """Demo submissions that differ from what build_demo would write."""
    stale = []
    for relative, content in demo_files(root).items():
        path = root / "demo" / "submitted" / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            stale.append(str(relative))
    return stale
