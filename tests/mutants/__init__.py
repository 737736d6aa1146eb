"""Typical wrong answers (mutants) of each assignment, which the hidden tests must reject.

Each module ``exNN.py`` defines ``MUTANTS``: a list of :class:`Mutant`. A mutant
replaces text in the instructor's solution of one answer cell (or the whole
cell), and names the French diagnostic the test cell must give.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Mutant:
    """A wrong variant of one answer."""

    answer: str  # grade_id of the answer cell
    name: str  # what the mistake is, in a few words
    expect: str  # a piece of the French diagnostic the test must print
    old: str = ""  # text of the solution to replace...
    new: str = ""  # ...by this text
    source: str = ""  # or: the whole new cell
    test: str = ""  # grade_id of the test cell (default: "test_" + answer)

    @property
    def test_id(self) -> str:
        return self.test or f"test_{self.answer}"

    def apply(self, solution: str) -> str:
        if self.source:
            return self.source.strip("\n")
        if self.old not in solution:
            raise ValueError(f"mutant « {self.name} » : texte introuvable dans la solution : {self.old!r}")
        return solution.replace(self.old, self.new)


def all_mutants() -> dict[str, list[Mutant]]:
    """Mutants by assignment (the module exNN.py holds those of source/exNN_*)."""
    found: dict[str, list[Mutant]] = {}
    for path in sorted(Path(__file__).parent.glob("ex*.py")):
        module = importlib.import_module(f"{__name__}.{path.stem}")
        found[path.stem] = list(module.MUTANTS)
    return found
