"""The retry policy of execute.execute: a death of the student's process counts only when it happens twice."""

from __future__ import annotations

import pytest

from autograder.execution import execute as execution
from autograder.execution.execute import DIFFERENT_DEATHS, Execution
from autograder.execution.student_process import RunParameters

CLEAN = Execution([["sortie"]], None, False, [])
FAULT = Execution(None, "le processus de correction s'est arrêté sans résultat", True)


def died(cell: int, request: int) -> Execution:
    return Execution([["avant l'arrêt"]], None, False, [[cell, request]])


@pytest.fixture
def scripted(monkeypatch):
    """Replace the sandboxed run by a script of results; the calls made are recorded."""
    calls: list[Execution] = []

    def script(*results: Execution):
        queue = list(results)

        def run_sandboxed(roles_json, student, parameters, timeout):
            result = queue.pop(0)
            calls.append(result)
            return result

        monkeypatch.setattr(execution, "run_sandboxed", run_sandboxed)
        return execution.execute("[]", "etu", RunParameters(), 10.0)

    script.calls = calls
    return script


def test_when_the_first_run_is_clean_then_it_is_kept_without_a_second(scripted):
    assert scripted(CLEAN) is CLEAN and len(scripted.calls) == 1


def test_when_the_student_process_dies_twice_at_the_same_point_then_the_death_is_the_students(scripted):
    result = scripted(died(3, 7), died(3, 7))
    assert not result.infrastructure and result.deaths == [[3, 7]]


def test_when_a_death_does_not_happen_again_then_the_clean_run_is_kept(scripted):
    assert scripted(died(3, 7), CLEAN) is CLEAN


def test_when_a_fault_is_followed_by_a_death_then_the_death_is_checked_by_a_third_run(scripted):
    # A killed test process, then a killed student process: neither is the student's doing.
    assert scripted(FAULT, died(5, 2), CLEAN) is CLEAN
    assert len(scripted.calls) == 3


def test_when_a_fault_is_followed_by_a_death_that_never_repeats_then_it_is_a_grading_failure(scripted):
    result = scripted(FAULT, died(5, 2), died(6, 1))
    assert result.infrastructure and result.failure == DIFFERENT_DEATHS


def test_when_a_fault_is_followed_by_the_same_death_twice_then_the_death_is_the_students(scripted):
    result = scripted(FAULT, died(5, 2), died(5, 2))
    assert not result.infrastructure and result.deaths == [[5, 2]]


def test_when_two_faults_follow_each_other_then_it_is_a_grading_failure(scripted):
    result = scripted(FAULT, FAULT)
    assert result.infrastructure and len(scripted.calls) == 2


def test_when_deaths_happen_at_different_points_then_it_is_a_grading_failure(scripted):
    result = scripted(died(1, 1), died(2, 2), died(3, 3))
    assert result.infrastructure and result.failure == DIFFERENT_DEATHS


def test_when_the_total_time_out_stops_a_copy_then_the_cells_done_before_keep_their_outputs():
    done = {1: [{"output_type": "stream", "name": "stdout", "text": "1"}], 2: [], 4: [{"output_type": "stream"}]}
    assert execution._kept([{}] * 6, done, []) == [None, done[1], done[2], None, done[4], None]


def test_when_the_student_process_died_before_the_total_time_out_then_nothing_from_the_death_on_is_kept():
    # One run cannot tell the student's doing from a kill from outside: the cells from the death on are not kept.
    done = {0: [], 1: [{"output_type": "error", "ename": "Arrêt"}], 2: [], 3: []}
    assert execution._kept([{}] * 4, done, [[1, 3]]) == [[], None, None, None]
