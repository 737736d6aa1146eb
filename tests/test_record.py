"""One-pass recording (autograder/record.py) against nbgrader's own ``autograde``, copy for copy."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from nbgrader.apps import NbGraderAPI

from autograder.execution.backends import Job, LocalBackend, run_copies
from autograder.execution.preprocessor import prepare_job, run_parameters
from autograder.grading.config import load_config
from autograder.grading.pipeline import run
from autograder.grading.record import Recorder
from autograder.model import Status
from coursetools.demo import DEMO_ASSIGNMENT

from .test_pipeline import NOTEBOOK, course_with_config, notebooks, write_submission  # noqa: F401 - a fixture

STUDENTS = ("parfait", "partiel", "vierge", "en-retard", "cellules-manquantes", "note-manuelle")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, notebooks):  # noqa: F811 - the fixture imported above
    """A class graded once (due date, late penalty, a manual grade given afterwards), and its course root."""
    tmp_path = tmp_path_factory.mktemp("record")
    course = course_with_config(tmp_path, "\n".join([
        f'c.Grading.due_dates = {{"{DEMO_ASSIGNMENT}": "2026-11-20 12:00:00 Europe/Paris"}}',
        'c.LateSubmissionPlugin.penalty_method = "zero"',
    ]))
    root = tmp_path / "rendus"
    kinds = {"parfait": "perfect", "partiel": "partial", "vierge": "blank", "en-retard": "perfect",
             "cellules-manquantes": "partial", "note-manuelle": "perfect"}
    for student, kind in kinds.items():
        late = "2026-11-20 13:00:00 UTC" if student == "en-retard" else "2026-11-20 10:00:00 UTC"
        write_submission(root, student, notebooks[kind], timestamp=late)
    result = run(root, tmp_path / "base", course_root=course, report=False)
    assert {o.status for o in result.outcomes} == {Status.GRADED}
    with Gradebook(f"sqlite:///{result.workspace / 'gradebook.db'}") as gradebook:
        grade = gradebook.find_grade("explication", NOTEBOOK.removesuffix(".ipynb"), DEMO_ASSIGNMENT, "note-manuelle")
        grade.manual_score = 1.0  # what formgrader does: the next autograde must ask for a review
        grade.needs_manual_grade = False
        gradebook.db.commit()
    return result.workspace, course


def _copy_of(graded, tmp_path: Path, name: str) -> Path:
    """A copy of the graded workspace, with one copy edited in submitted/ (test cell deleted, locked cell changed)."""
    base, _ = graded
    workspace = tmp_path / name
    shutil.copytree(base, workspace, symlinks=True)
    for folder in (workspace / "autograded").glob("*/*"):
        for path in folder.rglob("*"):
            path.chmod(0o644)
    path = workspace / "submitted" / "cellules-manquantes" / DEMO_ASSIGNMENT / NOTEBOOK
    notebook = json.loads(path.read_text(encoding="utf-8"))
    tests = [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_derivee_cube"]
    notebook["cells"].remove(tests[0])
    locked = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("locked")
                  and not c["metadata"]["nbgrader"].get("grade"))
    locked["source"] = "# modifiée par l'étudiant·e\n" + "".join(locked["source"])
    path.write_text(json.dumps(notebook), encoding="utf-8")
    return workspace


def _precompute(workspace: Path, config) -> dict[str, dict]:
    """Each copy's outputs, run on this machine's sandboxes as a grading run does."""
    jobs = [Job(s, DEMO_ASSIGNMENT, workspace / "source" / DEMO_ASSIGNMENT / NOTEBOOK,
                workspace / "submitted" / s / DEMO_ASSIGNMENT / NOTEBOOK) for s in STUDENTS]
    parameters, timeout = run_parameters(config)
    backend = LocalBackend(2)
    try:
        copies = list(run_copies(jobs, prepare_job, backend, parameters, timeout))
    finally:
        backend.close()
    assert [c.failure for c in copies] == [None] * len(STUDENTS)
    return {c.student: c.outputs for c in copies}


def _gradebook_rows(workspace: Path) -> dict:
    """Everything formgrader and ``nbgrader export`` read, without the random ids."""

    def clean(row: dict) -> dict:
        return {k: v for k, v in row.items() if k != "id" and not k.endswith("_id") or k == "student_id"}

    notebook_id = NOTEBOOK.removesuffix(".ipynb")
    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}") as gradebook:
        rows: dict = {
            "submissions": sorted((clean(d) for d in gradebook.submission_dicts(DEMO_ASSIGNMENT)),
                                  key=lambda d: d["student"]),
            "notebooks": sorted((clean(d) for d in gradebook.notebook_submission_dicts(notebook_id, DEMO_ASSIGNMENT)),
                                key=lambda d: d["student"]),
        }
        for student in STUDENTS:
            submission = gradebook.find_submission(DEMO_ASSIGNMENT, student)
            rows[student] = {
                "timestamp": submission.timestamp, "seconds_late": submission.total_seconds_late,
                "score": submission.score, "late_penalty": submission.late_submission_penalty,
                "needs_manual_grade": submission.needs_manual_grade,
                "grades": sorted((g.name, g.auto_score, g.manual_score, g.extra_credit, g.needs_manual_grade, g.score,
                                  g.max_score) for nb in submission.notebooks for g in nb.grades),
                "comments": sorted((c.name, c.auto_comment, c.manual_comment)
                                   for nb in submission.notebooks for c in nb.comments),
                "notebook_penalties": [nb.late_submission_penalty for nb in submission.notebooks],
            }
    return rows


def _autograded_files(workspace: Path) -> dict:
    root = workspace / "autograded"
    return {str(p.relative_to(root)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_when_a_class_is_recorded_in_one_pass_then_gradebook_and_notebooks_are_those_of_nbgrader_autograde(
    graded, tmp_path
):
    _, course = graded
    stock, ours = _copy_of(graded, tmp_path, "stock"), _copy_of(graded, tmp_path, "ours")
    stock_config = load_config(stock, course, sandboxed=True)
    outputs = _precompute(ours, load_config(ours, course, sandboxed=True))

    # Plain nbgrader autograde, with the sandbox's preprocessor running each copy itself.
    api = NbGraderAPI(config=stock_config)
    for student in STUDENTS:
        assert api.autograde(DEMO_ASSIGNMENT, student, force=True, create=True)["success"]

    with Recorder(load_config(ours, course, sandboxed=True), ours) as recorder:
        outcomes = [o for student in STUDENTS for o in recorder.record(student, DEMO_ASSIGNMENT, outputs[student])]
        outcomes += recorder.flush()
    assert [o.student_id for o in outcomes] == list(STUDENTS)

    expected, got = _gradebook_rows(stock), _gradebook_rows(ours)
    assert got == expected
    # The cases are really exercised: lateness with its penalty, a review asked after a manual grade, a
    # deleted test cell put back, a blank copy's automatic comment.
    assert got["en-retard"]["seconds_late"] == 7200.0 and got["en-retard"]["late_penalty"] == 9.0
    assert ("explication", None, 1.0, None, True, 1.0, 1.0) in got["note-manuelle"]["grades"]
    assert ("test_derivee_cube", 0.0, None, None, False, 0.0, 2.0) in got["cellules-manquantes"]["grades"] or any(
        g[0] == "test_derivee_cube" for g in got["cellules-manquantes"]["grades"])
    assert any(c[1] == "No response." for c in got["vierge"]["comments"])
    assert _autograded_files(ours) == _autograded_files(stock)
    restored = (ours / "autograded" / "cellules-manquantes" / DEMO_ASSIGNMENT / NOTEBOOK).read_text(encoding="utf-8")
    assert "test_derivee_cube" in restored and "modifiée par l'étudiant" not in restored
    assert {o.student_id: o.score for o in outcomes}["parfait"] == 9.0


def test_when_a_copys_outputs_are_missing_then_it_is_a_grading_failure_never_run_out_of_the_parallel_run(
    graded, tmp_path
):
    _, course = graded
    workspace = _copy_of(graded, tmp_path, "ours")
    with Recorder(load_config(workspace, course, sandboxed=True), workspace) as recorder:
        outcomes = recorder.record("parfait", DEMO_ASSIGNMENT, {}) + recorder.flush()
    (outcome,) = outcomes
    assert outcome.status is Status.FAILED
    assert "résultat d'exécution introuvable" in outcome.message


def test_when_one_copy_cannot_be_recorded_then_it_is_a_grading_failure_and_the_batch_is_kept(graded, tmp_path):
    _, course = graded
    workspace = _copy_of(graded, tmp_path, "ours")
    config = load_config(workspace, course, sandboxed=True)
    outputs = _precompute(workspace, config)
    # After its execution, the copy of « vierge » becomes unreadable: nbgrader cannot read it to record it.
    (workspace / "submitted" / "vierge" / DEMO_ASSIGNMENT / NOTEBOOK).write_text("{ pas du JSON", encoding="utf-8")
    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}") as gradebook:
        gradebook.remove_submission(DEMO_ASSIGNMENT, "parfait")
    with Recorder(config, workspace) as recorder:
        outcomes = [o for student in STUDENTS for o in recorder.record(student, DEMO_ASSIGNMENT, outputs[student])]
        outcomes += recorder.flush()
    statuses = {o.student_id: o.status for o in outcomes}
    assert statuses == {s: Status.FAILED if s == "vierge" else Status.GRADED for s in STUDENTS}
    assert "nbgrader" in next(o.message for o in outcomes if o.student_id == "vierge")
    # The copies recorded before the failing one, in the same batch, are in the gradebook (recorded again).
    scores = {o.student_id: o.score for o in outcomes}
    assert scores["parfait"] == 9.0 and scores["partiel"] == 4.0
    with Gradebook(f"sqlite:///{workspace / 'gradebook.db'}") as gradebook:
        assert gradebook.find_submission(DEMO_ASSIGNMENT, "parfait").score == 9.0
    assert not (workspace / "autograded" / "vierge").exists() or not any((workspace / "autograded" / "vierge").rglob("*.ipynb"))


def test_when_pages_are_written_by_a_warm_writer_then_they_are_those_of_nbgrader_generate_feedback(graded, tmp_path):
    from autograder.grading.feedback import FeedbackWriter

    base, course = graded
    stock, ours = tmp_path / "stock", tmp_path / "ours"
    for workspace in (stock, ours):
        shutil.copytree(base, workspace, symlinks=True)
        shutil.rmtree(workspace / "feedback")
    assert NbGraderAPI(config=load_config(stock, course, sandboxed=True)).generate_feedback(
        DEMO_ASSIGNMENT, force=True)["success"]
    writer = FeedbackWriter(load_config(ours, course, sandboxed=True), ours)
    try:
        for student in STUDENTS:
            writer.write(DEMO_ASSIGNMENT, student)
    finally:
        writer.close()

    def pages(workspace: Path) -> dict:
        root = workspace / "feedback"
        return {str(p.relative_to(root)): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
                for p in sorted(root.rglob("*")) if p.is_file()}

    def reserialized(pages: dict) -> dict:
        # nbgrader's exporter passes each page through BeautifulSoup (an accessibility pass that
        # changes nothing on these pages but their serialization); ours leaves the template's output.
        from bs4 import BeautifulSoup

        return {name: (str(BeautifulSoup(data.decode(), features="html.parser")).encode(), mode)
                if name.endswith(".html") else (data, mode) for name, (data, mode) in pages.items()}

    expected = pages(stock)
    assert len([name for name in expected if name.endswith(".html")]) == len(STUDENTS)
    assert reserialized(pages(ours)) == expected


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
