"""Run the code cells of an assignment notebook in this process (fast, for trusted code).

Used by the mutation tests: the instructor's solution, with one answer replaced
by a typical wrong variant, is executed cell by cell, and each test cell is
scored the way nbgrader scores it (an error gives 0, a number on the last line
is the partial credit, otherwise full points).

:func:`run_assignment` runs a whole notebook. :func:`run_mutants` runs many
mutants of one notebook without running the whole notebook for each: a worker
process imports the notebook's modules (TensorFlow above all) once, then forks a
child per answer, which runs each mutant of that answer in turn: the set-up and the
answers before the mutated one, the mutated answer, the cells up to its test cell (but
no other test cell) and that test cell, for each student in turn, each time from a
fresh namespace and the first cell. No mutant sees another answer's mutants, and
TensorFlow's caches (kernels, traced graphs) warmed by the first run make the next
ones about twice as fast (all mutants: 66 → 47 s of CPU against one child per mutant,
with identical outcomes).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import io
import linecache
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder import checks
from coursetools.demo import strip_solution_markers

#: Longest time a mutant may run (in seconds) before it is stopped and reported.
MUTANT_TIMEOUT = 300.0


@dataclass
class CellOutcome:
    grade_id: str
    points: float
    score: float
    output: str


@dataclass(frozen=True)
class Cell:
    """A code cell of a notebook, as the runner sees it."""

    grade_id: str
    source: str  # without the solution markers
    solution: bool
    test: bool  # a graded cell that is not an answer: a test cell
    points: float


def read_cells(path: Path) -> list[Cell]:
    """The code cells of the notebook ``path``, in order."""
    notebook = nbformat.read(path, as_version=4)
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        solution = bool(meta.get("solution"))
        cells.append(Cell(
            grade_id=meta.get("grade_id", f"cell{index}"),
            source=strip_solution_markers(cell.source),
            solution=solution,
            test=bool(meta.get("grade")) and not solution,
            points=float(meta.get("points", 0)),
        ))
    return cells


def _register(source: str, filename: str) -> None:
    lines = source.splitlines(keepends=True)
    linecache.cache[filename] = (len(source), None, lines, filename)


def _execute(source: str, filename: str, namespace: dict) -> object:
    """Execute a cell; return the value of its last line if it is an expression."""
    _register(source, filename)
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        return eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
    return None


def _run_cell(cell: Cell, source: str, namespace: dict, path: Path, student_id: str) -> CellOutcome | None:
    """Execute one cell; score it if it is a test cell.

    A failing answer is left to its test cell; any other failing cell stops the run.
    """
    filename = f"<cell {path.stem}:{cell.grade_id}:{student_id}>"
    buffer = io.StringIO()
    error = None
    value = None
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            value = _execute(source, filename, namespace)
        except Exception as exc:  # noqa: BLE001 - scored as nbgrader does
            error = exc
    if cell.test:
        if error is not None:
            score = 0.0
            text = buffer.getvalue() + f"{type(error).__name__}: {error}"
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            score = min(float(value), cell.points)
            text = buffer.getvalue()
        else:
            score = cell.points
            text = buffer.getvalue()
        return CellOutcome(cell.grade_id, cell.points, score, text)
    if error is not None and not cell.solution:
        raise RuntimeError(f"la cellule {cell.grade_id} a échoué : {error}") from error
    return None


@contextlib.contextmanager
def _student(student_id: str):
    previous = os.environ.get(checks.STUDENT_ID_ENV)
    os.environ[checks.STUDENT_ID_ENV] = student_id
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(checks.STUDENT_ID_ENV, None)
        else:
            os.environ[checks.STUDENT_ID_ENV] = previous


def run_assignment(
    path: Path, student_id: str, answers: dict[str, str] | None = None, until: str | None = None
) -> dict[str, CellOutcome]:
    """Execute ``path`` (an instructor notebook) with some answers replaced; score its test cells.

    ``until``: the grade id of the last cell to run (the cells after it cannot change its outcome).
    """
    answers = answers or {}
    namespace: dict = {"__name__": "__main__"}
    outcomes: dict[str, CellOutcome] = {}
    with _student(student_id):
        for cell in read_cells(path):
            outcome = _run_cell(cell, answers.get(cell.grade_id, cell.source), namespace, path, student_id)
            if outcome is not None:
                outcomes[cell.grade_id] = outcome
            if cell.grade_id == until:
                break
    return outcomes


# --------------------------------------------------------------------------
# Mutants, each in a forked child of a worker process
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MutantRun:
    """One mutant to run: the answer ``answer`` replaced by ``source``, scored by ``test``."""

    answer: str
    source: str
    test: str


class MutantFailure(RuntimeError):
    """A mutant could not be scored (a cell other than its answer failed, or it did not finish)."""


def _in_child(function: Callable[[], Any], timeout: float | None = None) -> Any:
    """Call ``function`` in a forked child; return its result (or raise its error)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        status = 0
        try:
            os.close(read_end)
            try:
                reply = ("ok", function())
            except BaseException:  # noqa: BLE001 - sent to the parent
                reply = ("error", traceback.format_exc())
            data = pickle.dumps(reply)
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(data)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    chunks = []
    try:
        while True:
            ready, _, _ = select.select([read_end], [], [], timeout)
            if not ready:
                os.kill(pid, signal.SIGKILL)
                raise MutantFailure(f"pas de réponse après {timeout:g} s")
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if not chunks:
        raise MutantFailure("le processus s'est arrêté sans répondre")
    kind, value = pickle.loads(b"".join(chunks))
    if kind == "error":
        raise MutantFailure(value)
    return value


def _run_one_mutant(cells: list[Cell], start: int, end: int, run: MutantRun,
                    path: Path, student_id: str) -> CellOutcome:
    """The non-test cells before the answer ``cells[start]``, the mutated answer, the
    non-test cells after it, then its test cell ``cells[end]``: the outcome of that test."""
    namespace: dict = {"__name__": "__main__"}
    with _student(student_id):
        for index, cell in enumerate(cells[:end + 1]):
            if index == start:
                _run_cell(cell, run.source, namespace, path, student_id)
            elif not cell.test:
                _run_cell(cell, cell.source, namespace, path, student_id)
        outcome = _run_cell(cells[end], cells[end].source, namespace, path, student_id)
    assert outcome is not None
    return outcome


def _run_mutant_for_students(cells: list[Cell], start: int, end: int, run: MutantRun,
                             path: Path, students: list[str]) -> list[CellOutcome | str]:
    """In one child: the mutant's outcome for each student, one after the other (or why it failed)."""
    outcomes: list[CellOutcome | str] = []
    for student_id in students:
        try:
            outcomes.append(_run_one_mutant(cells, start, end, run, path, student_id))
        except Exception:  # noqa: BLE001 - this student's run could not be scored; the next ones still run
            outcomes.append(traceback.format_exc())
    return outcomes


def _imported_modules(cells: list[Cell]) -> list[str]:
    """The modules that the top level of the non-test cells imports."""
    names = []
    for cell in cells:
        if cell.test:
            continue
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
    return list(dict.fromkeys(names))


def _tensorflow_started() -> bool:
    """Whether TensorFlow's runtime (and its thread pools) started in this process."""
    if "tensorflow" not in sys.modules:
        return False
    from tensorflow.python.eager import context

    return context.context()._context_handle is not None


def _run_mutant_batch(path: Path, students: list[str], runs: list[MutantRun]) -> list[list[CellOutcome | str]]:
    """In the worker: the outcome of each mutant for each student (or why it could not be scored).

    The worker imports the notebook's modules once; each mutant runs in a child forked
    from it. A child may not inherit a started TensorFlow runtime: its thread pools do
    not survive a fork, and a child running a ``tf.function`` or a Jacobian would wait
    for them forever. The cells themselves therefore run in the child; only those of
    the mutated question, and the answers and set-up before it, run (they take a few
    hundredths of a second; the test cells take the time).
    """
    cells = read_cells(path)
    position = {cell.grade_id: i for i, cell in enumerate(cells)}
    for run in runs:
        for name in (run.answer, run.test):
            if name not in position:
                raise ValueError(f"{path.name} : pas de cellule {name}")
        if not cells[position[run.test]].test or position[run.test] < position[run.answer]:
            raise ValueError(f"{path.name} : {run.test} n'est pas une cellule de test après {run.answer}")
    for module in _imported_modules(cells):
        importlib.import_module(module)
    if _tensorflow_started():
        raise RuntimeError("TensorFlow a démarré dans le processus des mutants : il ne peut plus se dupliquer")
    by_answer: dict[str, list[int]] = {}
    for index, run in enumerate(runs):
        by_answer.setdefault(run.answer, []).append(index)
    results: list[list[CellOutcome | str]] = [[] for _ in runs]
    for members in by_answer.values():
        batch = [runs[i] for i in members]
        try:
            outcomes = _in_child(functools.partial(_run_mutants_of_one_answer, cells, position, batch, path, students),
                                 MUTANT_TIMEOUT * len(students) * len(batch))
        except MutantFailure as failure:
            outcomes = [[str(failure)] * len(students) for _ in batch]
        for index, outcome in zip(members, outcomes):
            results[index] = outcome
    return results


def _run_mutants_of_one_answer(cells: list[Cell], position: dict[str, int], batch: list[MutantRun], path: Path,
                               students: list[str]) -> list[list[CellOutcome | str]]:
    """In one child: the mutants of one answer, one after the other, each for every student in turn."""
    return [_run_mutant_for_students(cells, position[run.answer], position[run.test], run, path, students)
            for run in batch]


def _send(stream: Any, value: Any) -> None:
    data = pickle.dumps(value)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def _receive(stream: Any) -> Any:
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    (size,) = struct.unpack("<Q", header)
    return pickle.loads(stream.read(size))


def _serve() -> None:
    """Worker loop: read batches of mutants on stdin, answer their outcomes on stdout."""
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a cell writes to the real stdout must not mix with the replies
    requests = sys.stdin.buffer
    while True:
        try:
            path, students, runs = _receive(requests)
        except EOFError:
            return
        try:
            reply = ("ok", _run_mutant_batch(path, students, runs))
        except Exception:  # noqa: BLE001 - reported to the caller
            reply = ("error", traceback.format_exc())
        _send(replies, reply)


_worker: subprocess.Popen | None = None


def _worker_process() -> subprocess.Popen:
    global _worker
    if _worker is None or _worker.poll() is not None:
        root = Path(__file__).resolve().parent.parent
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
        _worker = subprocess.Popen(
            [sys.executable, "-c", "from tests.nbrun import _serve; _serve()"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=root, env=env,
        )
    return _worker


def stop_worker() -> None:
    """Stop the worker process, if it runs."""
    global _worker
    if _worker is not None:
        _worker.stdin.close()
        _worker.wait(timeout=60)
        _worker = None


def run_mutants(path: Path, students: list[str], runs: list[MutantRun]) -> list[dict[str, CellOutcome | str]]:
    """For each run, the outcome of its mutant's test cell by student, or why it could not be scored.

    Equivalent to ``run_assignment(path, student, {run.answer: run.source})[run.test]`` for each
    run and student, as long as no test cell prepares anything for a later cell.
    """
    students = list(students)
    worker = _worker_process()
    _send(worker.stdin, (Path(path), students, list(runs)))
    try:
        kind, value = _receive(worker.stdout)
    except EOFError:
        raise RuntimeError("le processus des mutants s'est arrêté") from None
    if kind == "error":
        raise RuntimeError(value)
    return [dict(zip(students, outcomes)) for outcomes in value]
