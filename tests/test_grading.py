"""End-to-end grading of the demo submissions shipped with the course."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.model import Status

from .conftest import tree_digest

# Automatic scores; the written answer (1 point) waits for manual grading.
EXPECTED_DEMO_SCORES = {
    "demo-parfait": 9.0,
    "demo-partiel": 4.0,
    "demo-vierge": 0.0,
    "demo-illisible": 0.0,
}


def read_grades(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


def test_when_demo_is_graded_then_each_student_gets_the_expected_score(demo_run):
    grades = read_grades(demo_run["result"].grades_csv)
    assert {k: float(v["score"]) for k, v in grades.items()} == EXPECTED_DEMO_SCORES
    assert all(float(row["max_score"]) == 10.0 for row in grades.values())
    assert all(row["assignment"] == "ex01_premiers-pas" for row in grades.values())


def test_when_demo_is_graded_then_the_summary_matches_the_csv(demo_run):
    outcomes = {o.student_id: o for o in demo_run["result"].outcomes}
    assert {k: o.score for k, o in outcomes.items()} == EXPECTED_DEMO_SCORES
    assert outcomes["demo-illisible"].status == Status.REJECTED
    assert "JSON invalide" in outcomes["demo-illisible"].message
    assert all(outcomes[s].status == Status.GRADED for s in ("demo-parfait", "demo-partiel", "demo-vierge"))


def test_when_a_file_is_malformed_then_it_gets_a_french_feedback_page(demo_run):
    page = demo_run["result"].workspace / "feedback" / "demo-illisible" / "ex01_premiers-pas" / "ex01_premiers-pas.html"
    text = page.read_text(encoding="utf-8")
    assert "n'a pas pu être corrigé" in text and "JSON invalide" in text


def test_when_feedback_is_written_then_it_is_french_and_shows_the_diagnostic(demo_run):
    page = demo_run["result"].workspace / "feedback" / "demo-partiel" / "ex01_premiers-pas" / "ex01_premiers-pas.html"
    text = page.read_text(encoding="utf-8")
    assert 'lang="fr"' in text and "Votre réponse" in text
    assert "multipliées par un même facteur" in text  # the factor-2 mistake of question 2
    assert "pas encore écrite" in text  # question 3 left as a stub
    assert "Pas de réponse" in text and "No response." not in text


@pytest.mark.parametrize("student", sorted(EXPECTED_DEMO_SCORES))
def test_when_feedback_is_written_then_hidden_tests_never_appear(demo_run, student):
    page = demo_run["result"].workspace / "feedback" / student / "ex01_premiers-pas" / "ex01_premiers-pas.html"
    text = page.read_text(encoding="utf-8")
    assert "HIDDEN TESTS" not in text
    assert "hidden_rng(" not in text
    assert "Traceback (most recent call last)" not in text


def test_when_grading_then_submitted_files_are_never_modified(demo_run):
    assert tree_digest(demo_run["submissions"]) == demo_run["submissions_before"]


def test_when_grading_elsewhere_then_tracked_files_are_untouched(demo_run, repo_root):
    for name, digest in demo_run["tracked_before"].items():
        assert tree_digest(repo_root / name) == digest, name


def test_when_out_is_an_nbgrader_course_then_plain_nbgrader_export_works(demo_run, tmp_path):
    workspace = demo_run["result"].workspace
    target = tmp_path / "export.csv"
    done = subprocess.run(
        [str(Path(sys.executable).parent / "nbgrader"), "export", f"--to={target}"],
        cwd=workspace, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert read_grades(target)["demo-parfait"]["score"] == "9.0"


def test_when_grading_twice_then_grades_are_identical(demo_run, tmp_path):
    from autograder.grading.pipeline import run

    first = read_grades(demo_run["result"].grades_csv)
    again = run(demo_run["submissions"], demo_run["result"].workspace)
    assert read_grades(again.grades_csv) == first
    assert len(again.outcomes) == len(EXPECTED_DEMO_SCORES)


def test_when_the_submissions_folder_is_missing_then_the_cli_says_so_in_french(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", "--submissions", str(tmp_path / "absent"), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 2
    assert "n'existe pas" in done.stderr and "Traceback" not in done.stderr


def test_when_help_is_asked_then_it_is_in_french():
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", "--help"], capture_output=True, text=True, check=True)
    assert "dossier de rendus" in done.stdout


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
