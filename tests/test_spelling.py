"""Spell check of the lessons' French prose with Debian's French dictionary (hunspell-fr)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest

from autograder.course import REPO_ROOT

from .test_french import prose

LESSONS = sorted(REPO_ROOT.glob("course/*.ipynb"))
EXERCISES = sorted(REPO_ROOT.glob("source/*/*.ipynb"))
WORDLIST = Path(__file__).with_name("mots-du-cours.txt")
MAX_UNKNOWN_RATE = 0.01


# Foreign terms and titles of references are in italics (DESIGN.md): not checked.
ITALICS = re.compile(r"(?<![*\w])([*_])(?![*_\s])[^*_\n]+?(?<![*_\s])\1(?![*\w])")


def markdown_prose(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return "\n".join(ITALICS.sub(" ", prose(c.source)) for c in notebook.cells if c.cell_type == "markdown")


def unknown_words(text: str) -> list[str]:
    if shutil.which("hunspell") is None:
        pytest.fail("hunspell est absent : lancez « make test », qui installe hunspell et hunspell-fr.")
    done = subprocess.run(
        ["hunspell", "-d", "fr_FR", "-p", str(WORDLIST), "-l"],
        input=text, capture_output=True, text=True, check=True,
    )
    words = (w.strip(".,;:!?…»«()[]'’") for w in done.stdout.split())
    return [w for w in words if w and not any(ch.isdigit() for ch in w)]


def test_when_a_misspelled_word_is_checked_then_it_is_reported():
    assert unknown_words("La dérivée est calculée par le rubann.") == ["rubann"]


@pytest.mark.parametrize("path", LESSONS + EXERCISES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_when_a_notebook_is_spell_checked_then_unknown_words_stay_below_one_percent(path: Path):
    text = markdown_prose(path)
    words = re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text)
    unknown = unknown_words(text)
    rate = len(unknown) / max(len(words), 1)
    assert rate < MAX_UNKNOWN_RATE, (
        f"{len(unknown)} mots inconnus sur {len(words)} ({rate:.1%}) : {sorted(set(unknown))}"
    )
