"""Scale-out: the same grading, with the submissions run on the workers of a local Dask cluster."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import dask
import pytest
from distributed import Client, LocalCluster

from autograder.grading import pipeline as grade
from autograder.execution.dask_backend import Cluster, package_digest

from .conftest import tree_digest
from .test_grading import EXPECTED_DEMO_SCORES


def _cluster(daemon: bool) -> LocalCluster:
    with dask.config.set({"distributed.worker.daemon": daemon}):
        return LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )


@pytest.fixture(scope="module")
def cluster():
    local = _cluster(daemon=False)
    try:
        yield local
    finally:
        local.close()


def test_when_a_scheduler_is_given_then_the_copies_run_on_its_workers_with_the_same_scores(
    cluster, repo_root, tmp_path, demo_run
):
    submissions = repo_root / "demo" / "submitted"
    before = tree_digest(submissions)
    observer = Client(cluster.scheduler_address, set_as_default=False)
    observer.get_task_stream()  # the scheduler records every task from now on
    started = time.time()
    result = grade.run(submissions, tmp_path / "notes", scheduler=cluster.scheduler_address)
    scores = {o.student_id: o.score for o in result.outcomes}
    assert scores == EXPECTED_DEMO_SCORES
    # The same grades, feedback and exports as the local run (the demo_run fixture).
    with result.grades_csv.open(encoding="utf-8") as ours, demo_run["result"].grades_csv.open(encoding="utf-8") as local:
        keep = ("student_id", "score", "max_score", "status")
        assert [{k: r[k] for k in keep} for r in csv.DictReader(ours)] == [
            {k: r[k] for k in keep} for r in csv.DictReader(local)
        ]
    page = tmp_path / "notes" / "feedback" / "demo-partiel" / "ex01_premiers-pas" / "ex01_premiers-pas.html"
    assert "multipliées par un même facteur" in page.read_text(encoding="utf-8")
    # The three readable copies ran on the cluster's workers (the broken file never leaves the machine),
    # after the reference solution (the canary), graded there too.
    with observer:
        stream = observer.get_task_stream(start=started)
    copies = [task for task in stream if str(task["key"]).startswith("copie-")]
    assert len(copies) == 3 + 1
    assert {task["worker"] for task in copies} <= set(cluster.scheduler_info["workers"])
    assert tree_digest(submissions) == before


def test_when_workers_run_as_daemons_then_grading_is_refused_in_french(repo_root, tmp_path):
    daemonic = _cluster(daemon=True)
    try:
        with pytest.raises(grade.GradingError, match="processus démon.*DASK_DISTRIBUTED__WORKER__DAEMON=False"):
            grade.run(repo_root / "demo" / "submitted", tmp_path / "notes", scheduler=daemonic.scheduler_address)
    finally:
        daemonic.close()
    assert not (tmp_path / "notes" / "gradebook.db").exists()


def test_when_the_scheduler_cannot_be_reached_then_grading_is_refused_in_french(repo_root, tmp_path, monkeypatch):
    # Dask retries a refused connection until the time-out (10 s by default): 1 s is enough to be refused.
    connect = Cluster.connect
    monkeypatch.setattr(Cluster, "connect", lambda address, timeout=10.0: connect(address, timeout=1.0))
    with pytest.raises(grade.GradingError, match="impossible de joindre l'ordonnanceur Dask «\u00a0tcp://127.0.0.1:9\u00a0»"):
        grade.run(repo_root / "demo" / "submitted", tmp_path / "notes", scheduler="tcp://127.0.0.1:9")


def test_when_scale_out_is_asked_without_the_sandbox_then_it_is_refused(repo_root, tmp_path):
    with pytest.raises(grade.GradingError, match="n'existe qu'avec le bac à sable"):
        grade.run(repo_root / "demo" / "submitted", tmp_path / "notes", scheduler="tcp://127.0.0.1:9", sandboxed=False)


@pytest.mark.parametrize("module", ["grading/pipeline.py", "checks/numeric.py"])
def test_when_a_module_of_the_package_changes_then_the_package_digest_changes(module, tmp_path, monkeypatch):
    import shutil

    import autograder

    copy = tmp_path / "autograder"
    shutil.copytree(Path(autograder.__file__).parent, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(autograder, "__file__", str(copy / "__init__.py"))
    same = package_digest()
    (copy / module).write_text((copy / module).read_text() + "\n# changed\n")
    assert package_digest() != same


def test_when_the_documented_dask_commands_are_used_then_the_command_line_grades_on_the_cluster(repo_root, tmp_path):
    """`dask scheduler`, `dask worker` (README) and `python -m autograder grade --scheduler`."""
    import json
    import os
    import signal
    import subprocess
    import sys

    bin_dir = Path(sys.executable).parent
    scheduler_file = tmp_path / "ordonnanceur.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    processes = [subprocess.Popen(
        [str(bin_dir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
         "--scheduler-file", str(scheduler_file)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        worker_log = (tmp_path / "worker.log").open("w")
        processes.append(subprocess.Popen(
            [str(bin_dir / "dask"), "worker", address, "--nthreads", "2", "--no-dashboard"],
            env=env, stdout=subprocess.DEVNULL, stderr=worker_log, start_new_session=True,
        ))
        done = subprocess.run(
            [sys.executable, "-m", "autograder", "grade", "--submissions", str(repo_root / "demo" / "submitted"),
             "--out", str(tmp_path / "notes"), "--scheduler", address],
            capture_output=True, text=True, timeout=300, cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip() == ""  # the table goes to stdout; no warning or log line for the instructor
        with (tmp_path / "notes" / "grades.csv").open(encoding="utf-8") as handle:
            scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
        assert scores == EXPECTED_DEMO_SCORES
        # Stopped as a service manager stops it (SIGTERM to `dask worker`, its nanny), the worker process ends
        # by itself: its idle test processes do not keep it waiting until the nanny kills it.
        os.kill(processes[1].pid, signal.SIGTERM)
        processes[1].wait(timeout=60)
        worker_log.close()
        assert "still alive" not in (tmp_path / "worker.log").read_text(encoding="utf-8")
    finally:
        for process in reversed(processes):
            if process.poll() is not None:
                continue
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


#: A Dask cluster started by the test grades end to end.
pytestmark = [pytest.mark.cluster, pytest.mark.e2e, pytest.mark.sandbox]
