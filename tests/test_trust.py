"""A grade is never the grader's fault: canary, grading failures, faults injected, safe folders, journal.

The end-to-end tests grade small classes of ex01 (right, partly wrong and blank copies) and
compare every grade with a clean run of the same copies.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import signal
import threading
import time
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook

from autograder.grading import workspace as ws
from autograder.course import REPO_ROOT
from coursetools.demo import DEMO_ASSIGNMENT, demo_files
from autograder.grading.config import load_config
from autograder.grading.errors import GradingError
from autograder.grading.journal import grader_digest
from autograder.grading.pipeline import run
from autograder.model import Status

from .conftest import tree_digest

NOTEBOOK = f"{DEMO_ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def notebooks() -> dict[str, bytes]:
    pick = {path.parts[0]: content.encode("utf-8") for path, content in demo_files().items()}
    return {"perfect": pick["demo-parfait"], "partial": pick["demo-partiel"], "blank": pick["demo-vierge"]}


def make_class(root: Path, notebooks: dict[str, bytes], size: int) -> Path:
    kinds = ["perfect", "partial", "blank"]
    for index in range(size):
        folder = root / f"etu{index:02d}" / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_bytes(notebooks[kinds[index % len(kinds)]])
    return root


def course_with_config(base: Path, extra: str, *, solution: tuple[str, str] | None = None) -> Path:
    """A course root with the course's source/ and a configuration that adds ``extra``."""
    root = base / "cours"
    root.mkdir(parents=True)
    shutil.copytree(REPO_ROOT / "source", root / "source")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n{extra}\n", encoding="utf-8"
    )
    if solution:
        path = root / "source" / DEMO_ASSIGNMENT / NOTEBOOK
        text = path.read_text(encoding="utf-8")
        assert solution[0] in text
        path.write_text(text.replace(solution[0], solution[1], 1), encoding="utf-8")
    return root


def grades(result) -> dict[str, tuple[Status, float]]:
    return {o.student_id: (o.status, o.score) for o in result.outcomes}


def csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["student_id"]: row for row in csv.DictReader(handle)}


# --------------------------------------------------------------------------
# Faults injected during a run
# --------------------------------------------------------------------------


def grading_processes() -> list[psutil.Process]:
    """The processes that grade copies: test processes forked by the warm server, and their sandboxes."""
    from multiprocessing import forkserver

    server = forkserver._forkserver._forkserver_pid
    if not server:
        return []
    try:
        return psutil.Process(server).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


class Killer(threading.Thread):
    """Sends SIGKILL to random grading processes, from the test, once grading has started."""

    def __init__(self, kills: int, interval: tuple[float, float], seed: int = 7) -> None:
        super().__init__(daemon=True)
        self.kills, self.interval, self.random = kills, interval, random.Random(seed)
        self.started_grading = threading.Event()
        self.stopped = threading.Event()
        self.killed: list[str] = []

    def run(self) -> None:
        self.started_grading.wait()
        while len(self.killed) < self.kills and not self.stopped.is_set():
            time.sleep(self.random.uniform(*self.interval))
            if self.stopped.is_set():
                return
            victims = grading_processes()
            if not victims:
                continue
            victim = self.random.choice(victims)
            try:
                name = " ".join(victim.cmdline())[:60] or victim.name()
                os.kill(victim.pid, signal.SIGKILL)
                self.killed.append(f"{victim.pid} ({victim.username()}) {name}")
            except (psutil.Error, ProcessLookupError, PermissionError):
                continue


@pytest.fixture(scope="module")
def clean_and_faulty(tmp_path_factory, notebooks):
    """The same class graded cleanly, then with processes killed at random, then re-run."""
    base = tmp_path_factory.mktemp("pannes")
    submissions = make_class(base / "rendus", notebooks, 16)
    course = course_with_config(base, "c.Grading.max_failure_share = 1.0")
    before = tree_digest(submissions)
    clean = run(submissions, base / "propre", course_root=course, report=False)
    killer = Killer(kills=6, interval=(0.1, 0.6))
    killer.start()
    faulty = run(submissions, base / "panne", course_root=course, report=False,
                 on_start=lambda total: killer.started_grading.set())
    killer.stopped.set()
    killer.join(5)
    faulty_csv = csv_rows(faulty.grades_csv)
    again = run(submissions, base / "panne", course_root=course, report=False)
    return {"clean": clean, "faulty": faulty, "faulty_csv": faulty_csv, "again": again, "killer": killer,
            "submissions": submissions, "before": before}


def test_when_processes_are_killed_then_no_copy_gets_a_grade_it_does_not_deserve(clean_and_faulty):
    clean, faulty = grades(clean_and_faulty["clean"]), grades(clean_and_faulty["faulty"])
    assert len(clean_and_faulty["killer"].killed) >= 3, clean_and_faulty["killer"].killed
    assert all(status is Status.GRADED for status, _ in clean.values())
    for student, (status, score) in faulty.items():
        assert status is Status.FAILED or (status, score) == clean[student], (student, status, score, clean[student])


def test_when_a_run_had_faults_then_a_plain_rerun_gives_every_copy_its_clean_grade(clean_and_faulty):
    clean, again = grades(clean_and_faulty["clean"]), grades(clean_and_faulty["again"])
    assert again == clean
    failed = {o.student_id for o in clean_and_faulty["faulty"].outcomes if o.status is Status.FAILED}
    regraded = {o.student_id for o in clean_and_faulty["again"].outcomes if not o.reused}
    assert regraded == failed  # graded copies are kept, failures are graded again


def test_when_a_copy_could_not_be_graded_then_exports_leave_its_grade_empty(clean_and_faulty):
    failed = {o.student_id for o in clean_and_faulty["faulty"].outcomes if o.status is Status.FAILED}
    for student, row in clean_and_faulty["faulty_csv"].items():
        if student in failed:
            assert (row["score"], row["outcome"], row["status"]) == ("", "grading_failure", "échec de la correction")
        else:
            assert row["outcome"] == "graded" and row["score"] != ""


def test_when_processes_are_killed_then_the_submitted_files_are_untouched(clean_and_faulty):
    assert tree_digest(clean_and_faulty["submissions"]) == clean_and_faulty["before"]


def test_when_most_copies_fail_then_the_run_stops_and_a_rerun_grades_them(tmp_path, notebooks):
    submissions = make_class(tmp_path / "rendus", notebooks, 8)
    killer = Killer(kills=10_000, interval=(0.02, 0.05))
    killer.start()
    with pytest.raises(GradingError, match="Correction arrêtée") as stopped:
        run(submissions, tmp_path / "out", report=False, on_start=lambda total: killer.started_grading.set())
    killer.stopped.set()
    killer.join(5)
    assert "relancez" in str(stopped.value)
    journal = json.loads((tmp_path / "out" / ws.JOURNAL).read_text(encoding="utf-8"))
    assert len(journal) < 8
    again = run(submissions, tmp_path / "out", report=False)
    assert [o.status for o in again.outcomes] == [Status.GRADED] * 8
    assert sorted(o.score for o in again.outcomes) == sorted(
        o.score for o in run(submissions, tmp_path / "temoin", report=False).outcomes
    )


# --------------------------------------------------------------------------
# Canary
# --------------------------------------------------------------------------


def test_when_the_solution_loses_points_then_no_student_is_touched(tmp_path, notebooks):
    submissions = make_class(tmp_path / "rendus", notebooks, 3)
    course = course_with_config(tmp_path, "", solution=("return tape.gradient(y, x)", "return -tape.gradient(y, x)"))
    with pytest.raises(GradingError) as refused:
        run(submissions, tmp_path / "out", course_root=course)
    message = str(refused.value)
    assert "Contrôle préalable échoué" in message and "test_gradient_affine" in message
    assert "Aucune copie n'a été corrigée" in message
    assert not (tmp_path / "out" / "grades.csv").exists()
    assert not (tmp_path / "out" / "autograded").exists()
    with Gradebook(f"sqlite:///{tmp_path / 'out' / 'gradebook.db'}") as gradebook:
        assert gradebook.students == [] and gradebook.find_assignment(DEMO_ASSIGNMENT).submissions == []


def test_when_the_sandbox_cannot_run_the_solution_then_the_run_stops_before_any_student(tmp_path, notebooks):
    submissions = make_class(tmp_path / "rendus", notebooks, 3)
    course = course_with_config(tmp_path, "c.SandboxedExecute.memory_mb = 20")
    with pytest.raises(GradingError, match="Contrôle préalable échoué"):
        run(submissions, tmp_path / "out", course_root=course)
    assert not (tmp_path / "out" / "autograded").exists()


def test_when_a_copy_crashes_its_process_then_the_cells_after_it_are_graded_as_in_a_fresh_kernel(tmp_path, notebooks):
    """After a crash, a new student's process replays the cells that ran: never at the student's expense.

    With a cell time limit (1.5 s) shorter than a cold import of TensorFlow in the sandbox, the new process must start as warm
    as the first (TensorFlow imported) and replay the set-up without the cell limit: the other answers
    keep their points.
    """
    perfect = json.loads(notebooks["perfect"])
    for cell in perfect["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "gradient_affine":
            cell["source"] = "import os\nos._exit(0)\n"
    folder = tmp_path / "rendus" / "plantage" / DEMO_ASSIGNMENT
    folder.mkdir(parents=True)
    (folder / NOTEBOOK).write_text(json.dumps(perfect), encoding="utf-8")
    course = course_with_config(tmp_path, "c.SandboxedExecute.cell_timeout = 1.5")
    result = run(tmp_path / "rendus", tmp_path / "out", course_root=course, report=False)
    (outcome,) = result.outcomes
    assert (outcome.status, outcome.score) == (Status.GRADED, 7.0), outcome.message
    assert outcome.message.startswith("points perdus\u00a0: test_gradient_affine\u00a0;"), outcome.message


# --------------------------------------------------------------------------
# Journal
# --------------------------------------------------------------------------


def test_when_the_grading_configuration_changes_then_the_fingerprint_changes(tmp_path):
    first = course_with_config(tmp_path / "a", "c.SandboxedExecute.cell_timeout = 60")
    second = course_with_config(tmp_path / "b", "c.SandboxedExecute.cell_timeout = 61")
    digests = {
        grader_digest(load_config(tmp_path / "out", course, sandboxed=True), course, True)
        for course in (first, second)
    }
    assert len(digests) == 2
    same = load_config(tmp_path / "out", first, sandboxed=True)
    assert grader_digest(same, first, True) == grader_digest(same, first, True)
    assert grader_digest(same, first, True) != grader_digest(same, first, False)


def test_when_the_grading_configuration_changes_then_a_rerun_grades_again(tmp_path, notebooks):
    submissions = make_class(tmp_path / "rendus", notebooks, 2)
    first = course_with_config(tmp_path / "a", "c.SandboxedExecute.cell_timeout = 60")
    second = course_with_config(tmp_path / "b", "c.SandboxedExecute.cell_timeout = 90")
    run(submissions, tmp_path / "out", course_root=first, report=False)
    unchanged = run(submissions, tmp_path / "out", course_root=first, report=False)
    assert all(o.reused for o in unchanged.outcomes)
    changed = run(submissions, tmp_path / "out", course_root=second, report=False)
    assert not any(o.reused for o in changed.outcomes)


# --------------------------------------------------------------------------
# Output folder
# --------------------------------------------------------------------------


def test_when_the_output_folder_overlaps_an_input_then_it_is_refused(tmp_path):
    course, submissions = tmp_path / "cours", tmp_path / "rendus"
    (course / "source").mkdir(parents=True)
    submissions.mkdir()
    archive = tmp_path / "moodle.zip"
    archive.write_bytes(b"PK")
    for out, sources in [
        (submissions, [submissions]),
        (submissions / "notes", [submissions]),
        (tmp_path, [submissions]),
        (tmp_path, [archive]),
        (course, [submissions]),
        (course / "source" / "notes", [submissions]),
        (tmp_path, []),  # holds the course
    ]:
        with pytest.raises(ws.WorkspaceError):
            ws.check_location(out.resolve(), course.resolve(), [s.resolve() for s in sources])
    ws.check_location((course / "build" / "notes").resolve(), course.resolve(), [submissions.resolve()])
    ws.check_location((tmp_path / "notes").resolve(), course.resolve(), [submissions.resolve(), archive.resolve()])


def test_when_reset_is_asked_on_the_submissions_inside_the_output_then_nothing_is_deleted(tmp_path, notebooks):
    out = tmp_path / "out"
    make_class(out / "submitted", notebooks, 2)
    before = tree_digest(out)
    with pytest.raises(GradingError, match="se recouvrent"):
        run(out / "submitted", out, reset=True)
    assert tree_digest(out) == before


def test_when_the_output_folder_is_not_a_grading_folder_then_it_is_neither_emptied_nor_written(tmp_path, notebooks):
    submissions = make_class(tmp_path / "rendus", notebooks, 1)
    out = tmp_path / "mes-documents"
    (out / "submitted").mkdir(parents=True)
    (out / "submitted" / "important.txt").write_text("à garder", encoding="utf-8")
    (out / "gradebook.db").write_bytes(b"pas un carnet de notes")
    before = tree_digest(out)
    for reset in (False, True):
        with pytest.raises(GradingError, match="ne vient pas d'une correction"):
            run(submissions, out, reset=reset)
        assert tree_digest(out) == before
    with pytest.raises(ws.WorkspaceError):
        ws.reset(out)
    assert tree_digest(out) == before


def test_when_a_grading_folder_is_claimed_then_it_carries_a_marker_and_can_be_reset(tmp_path):
    out = tmp_path / "notes"
    ws.claim(out)
    assert ws.is_workspace(out)
    (out / "grades.csv").write_text("x", encoding="utf-8")
    (out / "submitted").mkdir()
    ws.claim(out)  # an existing grading folder is accepted
    ws.reset(out)
    assert not (out / "grades.csv").exists() and not (out / "submitted").exists()
    assert (out / ws.MARKER).is_file()


def test_when_a_run_holds_the_folder_then_a_second_run_refuses(tmp_path, notebooks):
    submissions = make_class(tmp_path / "rendus", notebooks, 1)
    out = tmp_path / "notes"
    ws.claim(out)
    with ws.Lock(out):
        with pytest.raises(ws.WorkspaceError, match="Une autre correction est en cours"):
            with ws.Lock(out):
                pass
        with pytest.raises(GradingError, match="Une autre correction est en cours"):
            run(submissions, out)
        assert not (out / "submitted").exists()
    with ws.Lock(out):  # released: taken again
        pass


WARM_SERVER_STATE = """
import json, os
from multiprocessing import forkserver
from autograder.execution.forkserver import context, warm_up
warm_up()
# A child is forked only once the server's preload is over; it reports what it inherited.
inherited = "len(__import__('autograder.grading.feedback', fromlist=['_']).COMPILED_TEMPLATES._code)"
with context().Pool(1) as pool:
    templates = pool.apply(eval, (inherited,))
server = forkserver._forkserver._forkserver_pid
print(json.dumps({"threads": len(os.listdir(f"/proc/{server}/task")), "templates": templates}))
"""


def test_when_the_warm_server_is_ready_then_it_has_one_thread_and_the_feedback_templates_compiled():
    """A fork copies a thread's locks but not the thread: the server forked for every copy must have one thread.

    Its children (feedback writers among them) inherit the feedback pages' templates, compiled once there.
    """
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}  # as on an instructor's machine
    done = subprocess.run([sys.executable, "-c", WARM_SERVER_STATE], env=env, capture_output=True, text=True,
                          timeout=300, cwd=REPO_ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["threads"] == 1, state
    assert state["templates"] >= 3, state  # the course's page and the nbconvert templates it extends


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
