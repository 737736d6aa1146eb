"""Every assignment: solutions get full marks, untouched student versions get 0, release/ is in sync."""

from __future__ import annotations

import csv
import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT, find_assignments
from coursetools.demo import check_demo

ASSIGNMENTS = find_assignments(REPO_ROOT / "source")
NBGRADER = str(Path(sys.executable).parent / "nbgrader")


def course_copy(tmp_path: Path) -> Path:
    """A throwaway nbgrader course root with the course's source/ and configuration."""
    root = tmp_path / "course"
    root.mkdir()
    shutil.copytree(REPO_ROOT / "source", root / "source")
    (root / "nbgrader_config.py").write_text(
        f"load_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n", encoding="utf-8"
    )
    return root


def nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([NBGRADER, *args], cwd=root, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A course root where nbgrader generated every assignment (from the course's source/ and configuration).

    nbgrader's API runs in this process, as nbgrader's own tests run its applications: the same
    converters as ``nbgrader generate_assignment``, without starting nbgrader once per assignment.
    """
    from nbgrader.apps import NbGraderAPI

    from autograder.grading.config import load_config

    root = course_copy(tmp_path_factory.mktemp("generated"))
    api = NbGraderAPI(config=load_config(root))
    for name in ASSIGNMENTS:
        done = api.generate_assignment(name, force=True)
        assert done["success"], done.get("error") or done.get("log")
    return root


def test_when_release_is_regenerated_then_it_is_identical(generated):
    comparison = filecmp.dircmp(generated / "release", REPO_ROOT / "release")
    differing = []

    def walk(cmp: filecmp.dircmp, prefix: str = "") -> None:
        differing.extend(prefix + n for n in cmp.left_only + cmp.right_only + cmp.diff_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    walk(comparison)
    assert not differing, f"release/ n'est pas à jour (lancez « make release ») : {differing}"


def test_when_demo_is_rebuilt_then_it_is_identical():
    assert check_demo() == [], "demo/ n'est pas à jour (lancez « make demo »)"


def manual_points(assignment_name: str) -> float:
    """Points of the answers graded by hand in formgrader (autograde leaves them at 0)."""
    import nbformat

    total = 0.0
    for name in ASSIGNMENTS[assignment_name].notebooks:
        notebook = nbformat.read(REPO_ROOT / "source" / assignment_name / name, as_version=4)
        for cell in notebook.cells:
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade") and meta.get("solution"):
                total += float(meta.get("points", 0))
    return total


def test_every_assignment_has_graded_parts_with_points():
    import nbformat

    for assignment in ASSIGNMENTS.values():
        for name in assignment.notebooks:
            notebook = nbformat.read(REPO_ROOT / "source" / assignment.name / name, as_version=4)
            tests = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
            assert len(tests) >= 3, assignment.name
            assert all(c.metadata["nbgrader"].get("points", 0) > 0 for c in tests)


@pytest.mark.e2e
def test_when_plain_nbgrader_grades_solutions_and_blank_copies_then_full_marks_and_zero(generated):
    """Plain nbgrader (no pipeline): the instructor version scores full marks, the student version 0.

    nbgrader's autograde converter with the course's configuration, as an instructor runs it (a kernel
    per copy, nbgrader's Execute), through nbgrader's API in this process; the grades through the
    ``nbgrader export`` command.
    """
    from nbgrader.apps import NbGraderAPI

    from autograder.grading.config import load_config

    root = generated
    api = NbGraderAPI(config=load_config(root))
    for name, assignment in ASSIGNMENTS.items():
        for student, origin in (("solution", root / "source"), ("vierge", root / "release")):
            target = root / "submitted" / student / name
            target.mkdir(parents=True)
            for notebook in assignment.notebooks:
                shutil.copyfile(origin / name / notebook, target / notebook)
            done = api.autograde(name, student, force=True, create=True)
            assert done["success"], done.get("error") or done.get("log")
    nbgrader(root, "export", "--to=grades.csv")
    with (root / "grades.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(ASSIGNMENTS)
    for row in rows:
        full = float(row["max_score"]) - manual_points(row["assignment"])
        expected = full if row["student_id"] == "solution" else 0.0
        assert float(row["score"]) == expected, row
        assert float(row["max_score"]) > 0


@pytest.mark.e2e
@pytest.mark.sandbox
def test_when_the_course_grader_grades_solutions_and_blank_copies_then_full_marks_and_zero(tmp_path):
    """The project's sandboxed grading: instructor versions score every automatic point, student versions 0."""
    from autograder.grading.pipeline import run

    root = tmp_path / "rendus"
    for name, assignment in ASSIGNMENTS.items():
        for student, origin in (("solution", REPO_ROOT / "source"), ("vierge", REPO_ROOT / "release")):
            target = root / student / name
            target.mkdir(parents=True)
            for notebook in assignment.notebooks:
                shutil.copyfile(origin / name / notebook, target / notebook)
    result = run(root, tmp_path / "out")
    for outcome in result.outcomes:
        full = outcome.max_score - manual_points(outcome.assignment)
        expected = full if outcome.student_id == "solution" else 0.0
        assert outcome.score == expected, (outcome.assignment, outcome.student_id, outcome.score, outcome.message)

