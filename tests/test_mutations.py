"""Mutation testing: the hidden tests reject typical wrong answers with the right diagnostic.

Every mutant is run for several student ids (so on several draws of hidden
inputs). A mutant is *killed* when its test cell loses points and prints the
expected French diagnostic.
"""

from __future__ import annotations

import nbformat
import pytest

from autograder.course import REPO_ROOT, find_assignments
from coursetools.demo import strip_solution_markers

from .mutants import Mutant, all_mutants
from .nbrun import run_assignment

ASSIGNMENTS = find_assignments(REPO_ROOT / "source")
MUTANTS = all_mutants()
STUDENTS = ("alice", "bob", "chloe")


def assignment_of(prefix: str) -> str:
    matches = [name for name in ASSIGNMENTS if name.startswith(prefix + "_")]
    assert len(matches) == 1, f"aucun devoir unique pour {prefix}"
    return matches[0]


def solutions(assignment: str) -> dict[str, str]:
    (notebook_name,) = ASSIGNMENTS[assignment].notebooks
    notebook = nbformat.read(REPO_ROOT / "source" / assignment / notebook_name, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: strip_solution_markers(c.source)
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    }


CASES = [(prefix, mutant) for prefix, mutants in MUTANTS.items() for mutant in mutants]


@pytest.mark.parametrize("prefix", sorted(MUTANTS))
def test_every_graded_answer_has_mutants(prefix):
    answers = set(solutions(assignment_of(prefix)))
    covered = {m.answer for m in MUTANTS[prefix]}
    assert answers <= covered, f"réponses sans mutant : {sorted(answers - covered)}"


@pytest.mark.parametrize("prefix", sorted(MUTANTS))
def test_when_the_solution_runs_then_every_test_cell_gives_full_marks(prefix):
    assignment = assignment_of(prefix)
    (notebook_name,) = ASSIGNMENTS[assignment].notebooks
    for student in STUDENTS:
        outcomes = run_assignment(REPO_ROOT / "source" / assignment / notebook_name, student)
        assert outcomes and all(o.score == o.points for o in outcomes.values()), {
            k: o.output for k, o in outcomes.items() if o.score != o.points
        }


@pytest.mark.parametrize("prefix,mutant", CASES, ids=[f"{p}-{m.answer}-{m.name}" for p, m in CASES])
def test_when_a_typical_mistake_is_made_then_hidden_tests_reject_it_with_the_right_diagnostic(prefix, mutant: Mutant):
    assignment = assignment_of(prefix)
    (notebook_name,) = ASSIGNMENTS[assignment].notebooks
    answers = {mutant.answer: mutant.apply(solutions(assignment)[mutant.answer])}
    for student in STUDENTS:
        outcomes = run_assignment(REPO_ROOT / "source" / assignment / notebook_name, student, answers)
        outcome = outcomes[mutant.test_id]
        assert outcome.score < outcome.points, f"{student} : mutant non détecté\n{outcome.output}"
        assert mutant.expect in outcome.output, f"{student} : diagnostic attendu « {mutant.expect} »\n{outcome.output}"
