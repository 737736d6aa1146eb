"""Sandboxed execution for nbgrader: replaces its Execute preprocessor during autograde.

1. The notebook is rebuilt from the pristine source: every cell, its metadata,
   points and the kernelspec come from source/; only the student's answer cells
   (matched by grade_id) come from the submission.
2. A fresh test process, forked from a warm server (multiprocessing's
   forkserver), starts the student's process in the sandbox, executes the answer
   cells there, and runs the test cells itself (tester.py).
3. The outputs come back as plain JSON and are written into the cells, so that
   nbgrader's SaveAutoGrades scores them and feedback, export and formgrader
   work as usual.
4. Faults are told apart from the student's doing: a sandbox that cannot start, a
   test process that dies or answers nonsense, a lost Dask worker are grading
   failures (no grade is recorded; the copy is graded again at the next run). A
   student's process that dies is run again once: a death that does not happen
   again at the same point was not the student's doing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Float, Int

from autograder.submissions import notebook_io
from autograder.execution import tester
from autograder.execution.forkserver import context as _context  # the warm server (started before nbgrader is imported)
from autograder.execution.forkserver import warm_up  # noqa: F401 - kept here for callers

MISSING_ANSWER = notebook_io.MISSING_ANSWER


def rebuild(source: NotebookNode, submitted: Any) -> NotebookNode:
    """The notebook to grade: the source's cells, with the student's answers by grade_id.

    ``submitted`` may be malformed in any way (see notebook_io): what cannot be read is ignored.
    """
    return notebook_io.rebuild(source, notebook_io.find_answers(submitted, source))


def rebuild_bytes(template: Path, raw: bytes) -> bytes:
    """A submitted notebook rebuilt on ``template`` (the source notebook): only its answers are kept.

    Raises notebook_io.Unusable (French reason) when ``raw`` holds no recognisable answer.
    """
    source = nbformat.read(template, as_version=4)
    answers = notebook_io.usable_answers(notebook_io.load(raw, template.name).notebook, source)
    return nbformat.writes(notebook_io.rebuild(source, answers)).encode("utf-8")


def cell_roles(notebook: NotebookNode) -> list[dict]:
    """What the test process needs to know of each cell."""
    roles = []
    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        test = bool(meta.get("grade")) and not meta.get("solution")
        roles.append({
            "cell_type": cell.cell_type,
            "source": cell.source,
            "test": test and cell.cell_type == "code",
            "student": bool(meta.get("solution")),
            "instructor": cell.cell_type == "code" and not test and not meta.get("solution"),
        })
    return roles


class SandboxedExecute(NbGraderPreprocessor):
    """Execute a submission in the sandbox, with the test cells in a separate pristine process."""

    cell_timeout = Float(120.0, help="Seconds a cell (or one call of a student's function) may run.").tag(config=True)
    timeout = Float(900.0, help="Seconds one whole submission may run.").tag(config=True)
    cpu_seconds = Int(600, help="CPU seconds of the student's process.").tag(config=True)
    memory_mb = Int(6144, help="Address space of the student's process, in MB.").tag(config=True)

    def _source_notebook(self, resources: dict) -> NotebookNode:
        coursedir = CourseDirectory(parent=self)
        info = resources["nbgrader"]
        folder = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
        return nbformat.read(folder / f"{info['notebook']}.ipynb", as_version=4)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        source = self._source_notebook(resources)
        rebuilt = rebuild(source, nb)
        student = str(resources["nbgrader"]["student"])
        copy = (student, str(resources["nbgrader"]["assignment"]))
        roles_json = json.dumps(cell_roles(rebuilt))
        key = _key(student, roles_json)
        ready = PRECOMPUTED.get(copy, {})
        if key not in ready:
            # Never run a copy here, out of the parallel run's accounting: a missing result is a grading failure.
            raise RuntimeError("résultat d'exécution introuvable pour ce rendu (erreur interne du correcteur)")
        outputs, failure = ready.pop(key)
        if not ready:
            PRECOMPUTED.pop(copy, None)
        for index, cell in enumerate(rebuilt.cells):
            if cell.cell_type != "code":
                continue
            cell.execution_count = index + 1
            meta = cell.metadata.get("nbgrader", {})
            is_test = bool(meta.get("grade")) and not meta.get("solution")
            if failure is not None:
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename="Erreur de correction", evalue=failure,
                    traceback=[f"Erreur de correction : {failure}"],
                )] if is_test else []
                continue
            cell.outputs = [nbformat.from_dict(output) for output in outputs[index]]
        nb.cells, nb.metadata = rebuilt.cells, rebuilt.metadata
        return nb, resources


@dataclasses.dataclass
class Execution:
    """What running one notebook gave.

    ``outputs``: one list of outputs per cell (None on a grading failure). ``failure``: a French
    reason; with ``infrastructure`` it is a grading failure (nothing is judged), without it the
    submission itself made the run fail (e.g. the total time limit) and every test cell scores 0.
    ``deaths``: where the student's process died ([cell index, request number] pairs).
    """

    outputs: list | None
    failure: str | None = None
    infrastructure: bool = False
    deaths: list = dataclasses.field(default_factory=list)


def settings_from(config) -> tuple["tester.Settings", float]:
    """The sandbox settings configured for SandboxedExecute (nbgrader_config.py)."""
    from autograder.execution.sandbox import Limits

    configured = SandboxedExecute(config=config)
    return tester.Settings(
        cell_timeout=configured.cell_timeout,
        limits=Limits(cpu_seconds=configured.cpu_seconds, memory_bytes=configured.memory_mb * 1024 * 1024),
    ), configured.timeout


def _key(student: str, roles_json: str) -> str:
    return hashlib.sha256(student.encode() + b"\0" + roles_json.encode()).hexdigest()


#: Outputs computed ahead (in parallel) for the notebooks nbgrader is about to autograde:
#: (student, assignment) -> key of a rebuilt notebook -> (outputs, failure).
PRECOMPUTED: dict[tuple[str, str], dict[str, tuple[list, str | None]]] = {}


def take(student: str, assignment: str) -> dict:
    """A copy of the outputs waiting for one submission (to record it again after a rollback)."""
    return dict(PRECOMPUTED.get((student, assignment), {}))


def restore(student: str, assignment: str, taken: dict) -> None:
    """Put back outputs consumed by a recording that was rolled back."""
    if taken:
        PRECOMPUTED.setdefault((student, assignment), {}).update(taken)


def run_sandboxed(roles_json: str, student: str, settings: "tester.Settings", timeout: float) -> Execution:
    """Execute one rebuilt notebook once, in a fresh test process and sandbox."""
    context = _context()
    try:
        receiver, sender = context.Pipe(duplex=True)
        process = context.Process(target=tester.serve_one, args=(sender, student, settings))
        process.start()
    except Exception as exc:  # noqa: BLE001 - the warm server itself is gone or cannot fork
        return Execution(None, f"le processus de correction n'a pas démarré ({type(exc).__name__} : {exc}).", True)
    sender.close()
    try:
        receiver.send_bytes(roles_json.encode("utf-8"))
        if not receiver.poll(timeout):
            return Execution([], f"délai total dépassé ({timeout:.0f} s) : la correction de ce rendu a été arrêtée.")
        data = json.loads(receiver.recv_bytes(64 * 1024 * 1024).decode("utf-8"))
    except (EOFError, OSError, ValueError) as exc:
        return Execution(None, f"le processus de correction s'est arrêté sans résultat ({exc or type(exc).__name__}).", True)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(10)
    cells = json.loads(roles_json)
    if isinstance(data, dict) and "failure" in data:
        return Execution(None, str(data.get("failure") or "échec inconnu")[:500], True)
    outputs = data.get("outputs") if isinstance(data, dict) else None
    deaths = data.get("deaths") if isinstance(data, dict) else None
    if not isinstance(outputs, list) or len(outputs) != len(cells) or not isinstance(deaths, list):
        return Execution(None, "résultat incomplet du processus de correction.", True)
    return Execution(outputs, None, False, deaths)


def execute(roles_json: str, student: str, settings: "tester.Settings", timeout: float) -> Execution:
    """Execute one rebuilt notebook; run it again once after a fault, to tell faults from the student's doing.

    - A grading failure (sandbox start, test process killed, protocol error) is retried once;
      if it happens again, it stays a grading failure.
    - A death of the student's process is retried once: the second run is kept if it has no death
      (the first was a fault from outside) or the same deaths (the student's code causes them);
      deaths at other points are a grading failure (something outside kills processes).
    """
    first = run_sandboxed(roles_json, student, settings, timeout)
    if not first.infrastructure and not first.deaths:
        return first
    second = run_sandboxed(roles_json, student, settings, timeout)
    if first.infrastructure or second.infrastructure or not second.deaths or second.deaths == first.deaths:
        return second
    return Execution(
        None,
        "le processus qui exécutait ce rendu s'est arrêté à des moments différents lors de deux essais : "
        "arrêt venu de l'extérieur, la copie sera corrigée de nouveau.",
        True,
    )


def _prepare(job) -> str | None:
    """The rebuilt notebook to run, as JSON; None if it cannot be read (a grading failure: collect checked it)."""
    student, assignment, source_path, submitted_path = job
    try:
        submitted = notebook_io.load(Path(submitted_path).read_bytes(), Path(submitted_path).name).notebook
        return json.dumps(cell_roles(rebuild(nbformat.read(source_path, as_version=4), submitted)))
    except Exception:  # noqa: BLE001 - one unreadable copy never stops the others
        return None


UNREADABLE_COPY = "la copie préparée pour la correction est illisible (erreur interne du correcteur)."


def precompute(jobs, config, workers, cluster=None):
    """Run the sandboxed part of many submissions at once; yield (student, assignment, failure) when ready.

    ``jobs``: (student, assignment, source notebook, submitted notebook) tuples. The results wait in
    PRECOMPUTED for nbgrader, which records them one by one (a single writer to the gradebook) while
    the next submissions run. At most a few submissions per worker are run ahead of nbgrader, so
    memory does not grow with the size of the class. ``failure`` is None, or the French reason of a
    grading failure of one of the submission's notebooks (then nothing of it is to be recorded).

    With ``cluster`` (a cluster.Cluster), the submissions run on the Dask cluster's workers instead
    of this machine; only their outputs come back.
    """
    settings, timeout = settings_from(config)
    pending_notebooks: dict[tuple[str, str], int] = {}
    failures: dict[tuple[str, str], str] = {}
    for student, assignment, _, _ in jobs:
        pending_notebooks[(student, assignment)] = pending_notebooks.get((student, assignment), 0) + 1
    if cluster is not None:
        results = cluster.run(jobs, _prepare, _key, settings, timeout)
    else:
        results = run_jobs(jobs, settings, timeout, workers)
    for (student, assignment), key, result in results:
        if key is None:
            failures.setdefault((student, assignment), UNREADABLE_COPY)
        elif result.infrastructure:
            failures.setdefault((student, assignment), result.failure or "échec inconnu")
        else:
            PRECOMPUTED.setdefault((student, assignment), {})[key] = (result.outputs, result.failure)
        pending_notebooks[(student, assignment)] -= 1
        if pending_notebooks[(student, assignment)] == 0:
            failure = failures.pop((student, assignment), None)
            if failure is not None:
                PRECOMPUTED.pop((student, assignment), None)  # nothing of a copy with a grading failure is recorded
            yield student, assignment, failure


def run_jobs(jobs, settings, timeout: float, workers: int):
    """Yield ((student, assignment), key, Execution) as the sandboxes finish, ``workers`` at a time (key None: unreadable)."""
    import queue
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    slots: queue.Queue[int] = queue.Queue()
    for slot in range(workers):
        slots.put(slot)

    def work(job):
        student, assignment = job[0], job[1]
        roles_json = _prepare(job)
        if roles_json is None:
            return (student, assignment), None, None
        slot = slots.get()
        try:
            result = execute(roles_json, student, dataclasses.replace(settings, slot=slot), timeout)
        finally:
            slots.put(slot)
        return (student, assignment), _key(student, roles_json), result

    window = 2 * workers  # submissions started ahead of the ones nbgrader is recording
    remaining = iter(jobs)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        running = set()
        while True:
            while len(running) < window:
                job = next(remaining, None)
                if job is None:
                    break
                running.add(pool.submit(work, job))
            if not running:
                return
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
