"""The lessons of course/: same opening and closing, figures, and the seed's examples with its values."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from autograder.course import REPO_ROOT

LESSONS = sorted(REPO_ROOT.glob("course/[0-9][0-9]_*.ipynb"))
NUMBERED = [p for p in LESSONS if not p.name.startswith("00_")]

# Values of the seed notebook, as TensorFlow prints them, by lesson.
SEED_OUTPUTS = {
    "01": [
        "numpy=5.0>", "numpy=13.0>", "numpy=2.0>",  # y = 2x + 3 at x = 5
        "array([[2., 2.],\n       [2., 2.]], dtype=float32)",  # on a 2×2 random variable
        "numpy=3.0>", "numpy=9.0>", "numpy=6.0>",  # x**2 at 3
        "array([ 9., 16.], dtype=float32)", "array([6., 8.], dtype=float32)",  # on [3, 4]
    ],
    "02": [
        "array([20., 34.], dtype=float32)", "array([4., 6.], dtype=float32)", "array([ 8., 10.], dtype=float32)",
        "numpy=73.0>", "array([ 6., 32.], dtype=float32)",
        "numpy=12.0>", "array([4., 3.], dtype=float32)",
    ],
    "03": [
        "array([ 5.,  9., 13.], dtype=float32)", "array([ 6., 24.], dtype=float32)",
        "array([[9., 9.]], dtype=float32)", "array([3., 3.], dtype=float32)",
        "array([2., 2.], dtype=float32)",
    ],
}


def outputs_text(notebook: nbformat.NotebookNode) -> str:
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


def headings(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        line.strip()
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for line in cell.source.splitlines()
        if line.startswith("## ")
    ]


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_when_a_lesson_opens_then_it_has_title_summary_objectives_and_setup(path: Path):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0].source.splitlines()
    number = int(path.name[:2])
    assert first[0].startswith(f"# Leçon {number} — "), first[0]
    summary = [line for line in first[1:] if line.strip()]
    assert summary and re.fullmatch(r"\*[^*].*[^*]\*", summary[0]), "une ligne de résumé en italique"
    found = headings(notebook)
    assert found[0] == "## Objectifs" and found[1] == "## Mise en place", found[:2]
    setup = next(c for c in notebook.cells if c.cell_type == "code")
    assert "set_random_seed" in setup.source and "TF_CPP_MIN_LOG_LEVEL" in setup.source


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_when_a_lesson_closes_then_it_has_exercises_summary_and_further_reading(path: Path):
    found = headings(nbformat.read(path, as_version=4))
    assert any(h.startswith("## À vous") for h in found), "une section « À vous »"
    assert found[-2:] == ["## À retenir", "## Pour aller plus loin"], found[-2:]


@pytest.mark.parametrize("path", NUMBERED, ids=lambda p: p.name)
def test_when_a_lesson_is_stored_then_it_has_outputs_and_at_least_one_figure(path: Path):
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code), "toutes les cellules de code sont exécutées"
    figures = [o for c in code for o in c.outputs if "image/png" in o.get("data", {})]
    assert figures, "au moins une figure"


@pytest.mark.parametrize("number", sorted(SEED_OUTPUTS))
def test_when_a_lesson_reproduces_the_seed_then_the_seed_values_are_shown(number: str):
    (path,) = REPO_ROOT.glob(f"course/{number}_*.ipynb")
    text = outputs_text(nbformat.read(path, as_version=4))
    missing = [value for value in SEED_OUTPUTS[number] if value not in text]
    assert not missing, f"valeurs du carnet d'origine absentes : {missing}"


def test_the_index_lists_every_lesson():
    index = nbformat.read(REPO_ROOT / "course" / "00_sommaire.ipynb", as_version=4)
    text = "\n".join(c.source for c in index.cells)
    for path in NUMBERED:
        assert f"({path.name})" in text, path.name
