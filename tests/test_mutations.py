"""Mutation testing: the hidden tests reject typical wrong answers with the right diagnostic.

Every mutant is run for several student ids (so on several draws of hidden
inputs). A mutant is *killed* when its test cell loses points and prints the
expected French diagnostic.

A mutant does not need the whole notebook: :func:`tests.nbrun.run_mutants` runs
the mutants of each answer in a process of their own, forked from a worker that
imported TensorFlow once, with only the set-up, the answers before the mutated one,
the mutated answer and its test cell (no other test cell); the child runs each mutant
for each student in turn, each from a fresh namespace. The solutions are still run as
whole notebooks, and one test checks, on two mutants per assignment (one that runs
after the other mutants of its answer), that running a mutant alone, for a student who
comes after another in the same child, gives the same outcome as running it in the
whole notebook.
"""

from __future__ import annotations

import nbformat
import pytest

from autograder.course import REPO_ROOT, find_assignments
from coursetools.demo import strip_solution_markers

from .mutants import Mutant, all_mutants
from .nbrun import CellOutcome, MutantRun, run_assignment, run_mutants, stop_worker

pytestmark = pytest.mark.slow

ASSIGNMENTS = find_assignments(REPO_ROOT / "source")
MUTANTS = all_mutants()
STUDENTS = ("alice", "bob", "chloe")


def notebook_of(prefix: str):
    assignment = assignment_of(prefix)
    (notebook_name,) = ASSIGNMENTS[assignment].notebooks
    return REPO_ROOT / "source" / assignment / notebook_name


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


def mutant_run(prefix: str, mutant: Mutant) -> MutantRun:
    return MutantRun(mutant.answer, mutant.apply(solutions(assignment_of(prefix))[mutant.answer]), mutant.test_id)


MUTATION_TEST = "test_when_a_typical_mistake_is_made_then_hidden_tests_reject_it_with_the_right_diagnostic"


@pytest.fixture(scope="module")
def mutant_outcomes(request: pytest.FixtureRequest):
    """Outcome of each mutant's test cell, by student: ``outcomes(prefix, mutant)[student]``.

    The first request for an assignment runs all its selected mutants at once.
    """
    cache: dict[tuple[str, Mutant], dict[str, CellOutcome | str]] = {}

    def outcomes(prefix: str, mutant: Mutant) -> dict[str, CellOutcome | str]:
        if (prefix, mutant) not in cache:
            selected = [
                item.callspec.params["mutant"]
                for item in request.session.items
                if getattr(item, "originalname", None) == MUTATION_TEST and item.callspec.params["prefix"] == prefix
            ]
            batch = list(dict.fromkeys(selected + [mutant]))
            runs = [mutant_run(prefix, m) for m in batch]
            for m, by_student in zip(batch, run_mutants(notebook_of(prefix), STUDENTS, runs)):
                cache[prefix, m] = by_student
        return cache[prefix, mutant]

    yield outcomes
    stop_worker()


@pytest.mark.parametrize("prefix,mutant", CASES, ids=[f"{p}-{m.answer}-{m.name}" for p, m in CASES])
def test_when_a_typical_mistake_is_made_then_hidden_tests_reject_it_with_the_right_diagnostic(
    prefix, mutant: Mutant, mutant_outcomes
):
    for student, outcome in mutant_outcomes(prefix, mutant).items():
        assert isinstance(outcome, CellOutcome), f"{student} : le mutant n'a pas pu être noté\n{outcome}"
        assert outcome.score < outcome.points, f"{student} : mutant non détecté\n{outcome.output}"
        assert mutant.expect in outcome.output, f"{student} : diagnostic attendu « {mutant.expect} »\n{outcome.output}"


def guarded_mutants(prefix: str) -> list[Mutant]:
    """The first mutant of the first answer and the last mutant of the last answer."""
    mutants = MUTANTS[prefix]
    return [mutants[0], mutants[-1]]


@pytest.mark.parametrize("prefix", sorted(MUTANTS))
def test_when_a_mutant_runs_alone_then_its_test_cell_scores_as_in_the_whole_notebook(prefix, mutant_outcomes):
    # A student whose run follows another one in the mutant's process: what it inherits must not matter.
    later = STUDENTS[1:]
    student = later[sorted(MUTANTS).index(prefix) % len(later)]
    for mutant in guarded_mutants(prefix):
        run = mutant_run(prefix, mutant)
        # The whole notebook up to the mutant's test cell: every cell before it, test cells included.
        whole = run_assignment(notebook_of(prefix), student, {run.answer: run.source}, until=run.test)[run.test]
        alone = mutant_outcomes(prefix, mutant)[student]
        assert alone == whole, f"{mutant.name} ({student}) : seul\n{alone}\ndans le carnet entier\n{whole}"
