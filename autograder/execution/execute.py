"""Run one rebuilt notebook in a test process and a fresh sandbox, and tell faults from the student's doing.

A test process, forked from the warm server (multiprocessing's forkserver, see forkserver.py),
grades the copies of one grading slot one after the other (tester.serve_many): for each, a new
student's process is forked into the sandbox by the test process's spawner (a copy of it made
before it received any test, see spawner.py); the answer cells run there, the test cells in the
test process. Its outputs come back as plain JSON. A test process that failed in any way is
replaced; each is replaced after COPIES_PER_TEST_PROCESS copies.

Faults are told apart from the student's doing: a sandbox that cannot start, a test process that
dies or answers nonsense are grading failures (no grade is recorded; the copy is graded again at
the next run). A run in which the student's process died is repeated: a death is the student's
only when two runs without any fault die at the same point.

This module never imports nbgrader: Dask workers and the warm server's children use it.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing.util
import threading
import time

from autograder.execution import tester
from autograder.execution.forkserver import context
from autograder.execution.student_process import RunParameters

#: Runs of one notebook at most, before its copy is called a grading failure.
MAX_ATTEMPTS = 3


@dataclasses.dataclass
class Execution:
    """What running one notebook gave.

    ``outputs``: one list of outputs per cell (None on a grading failure). ``failure``: a French
    reason; with ``infrastructure`` it is a grading failure (nothing is judged), without it the
    submission itself made the run fail (the total time limit): the cells it had done keep their
    outputs, the others (None in ``outputs``) score 0 with the reason.
    ``deaths``: where the student's process died ([cell index, request number] pairs).
    """

    outputs: list | None
    failure: str | None = None
    infrastructure: bool = False
    deaths: list = dataclasses.field(default_factory=list)


#: Copies a test process grades before it is replaced (what it keeps between copies stays bounded).
COPIES_PER_TEST_PROCESS = 100


class TestProcess:
    """A test process of the warm server, grading one copy after another (tester.serve_many)."""

    def __init__(self) -> None:
        server = context()
        self.connection, theirs = server.Pipe(duplex=True)
        self.process = server.Process(target=tester.serve_many, args=(theirs,))
        self.process.start()
        theirs.close()
        self.copies = 0

    def stop(self) -> None:
        try:
            self.connection.close()
        except OSError:
            pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join(10)


_IDLE: dict[tuple[int, int], TestProcess] = {}  # (first uid of the block, slot) -> its test process
_IDLE_LOCK = threading.Lock()


def _take(parameters: RunParameters) -> TestProcess:
    with _IDLE_LOCK:
        process = _IDLE.pop((parameters.uid_base, parameters.slot), None)
    return process if process is not None else TestProcess()


def _give_back(parameters: RunParameters, process: TestProcess) -> None:
    if process.copies >= COPIES_PER_TEST_PROCESS:
        process.stop()
        return
    with _IDLE_LOCK:
        previous = _IDLE.pop((parameters.uid_base, parameters.slot), None)
        _IDLE[(parameters.uid_base, parameters.slot)] = process
    if previous is not None:
        previous.stop()


def stop_test_processes() -> None:
    """End the idle test processes of this process (at the end of a run)."""
    with _IDLE_LOCK:
        processes = list(_IDLE.values())
        _IDLE.clear()
    for process in processes:
        process.stop()


# At exit, multiprocessing joins every child process still running: idle test processes, waiting for their
# next copy, would keep it waiting forever. Its exit function (atexit in the main process; the end of a process
# that multiprocessing started, such as a Dask worker under its nanny, where atexit does not run) first runs the
# finalizers of priority 0 and above: the idle test processes are stopped there, before the join.
multiprocessing.util.Finalize(None, stop_test_processes, exitpriority=10)


def run_sandboxed(roles_json: str, student: str, parameters: RunParameters, timeout: float) -> Execution:
    """Execute one rebuilt notebook once: in the slot's test process, with a fresh sandbox."""
    try:
        process = _take(parameters)
    except Exception as exc:  # noqa: BLE001 - the warm server itself is gone or cannot fork
        return Execution(None, f"le processus de correction n'a pas démarré ({type(exc).__name__} : {exc}).", True)
    sound = False  # only a test process that answered properly grades the next copy
    cells = json.loads(roles_json)
    done: dict[int, list] = {}  # the code cells done so far, and the deaths up to them
    deaths_so_far: list = []
    try:
        try:
            process.connection.send((roles_json, student, parameters))
            deadline = time.monotonic() + timeout
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not process.connection.poll(remaining):
                    return Execution(_kept(cells, done, deaths_so_far), TOTAL_TIMEOUT.format(timeout))
                data = json.loads(process.connection.recv_bytes(64 * 1024 * 1024).decode("utf-8"))
                if not (isinstance(data, dict) and "cell" in data):
                    break
                index, outputs, deaths = data.get("cell"), data.get("outputs"), data.get("deaths")
                if isinstance(index, int) and 0 <= index < len(cells) and isinstance(outputs, list):
                    done[index] = outputs
                if isinstance(deaths, list):
                    deaths_so_far = deaths
        except (EOFError, OSError, ValueError) as exc:
            return Execution(None, f"le processus de correction s'est arrêté sans résultat ({exc or type(exc).__name__}).",
                             True)
        if isinstance(data, dict) and "failure" in data:
            return Execution(None, str(data.get("failure") or "échec inconnu")[:500], True)
        outputs = data.get("outputs") if isinstance(data, dict) else None
        deaths = data.get("deaths") if isinstance(data, dict) else None
        if not isinstance(outputs, list) or len(outputs) != len(cells) or not isinstance(deaths, list):
            return Execution(None, "résultat incomplet du processus de correction.", True)
        sound = True
        process.copies += 1
        return Execution(outputs, None, False, deaths)
    finally:
        if sound:
            _give_back(parameters, process)
        else:
            process.stop()


TOTAL_TIMEOUT = "délai total dépassé ({:.0f} s) : la correction de ce rendu a été arrêtée."


def _kept(cells: list, done: dict[int, list], deaths: list) -> list:
    """The outputs a copy stopped by its total time-out keeps: those of the code cells done before it stopped,
    None for the others (they score 0 with the reason). A cell after a death of the student's process is not
    kept: one run is not enough to tell the student's doing from a kill from outside."""
    first_death = min((d[0] for d in deaths if isinstance(d, list) and d and isinstance(d[0], int)), default=len(cells))
    return [done.get(index) if index < first_death else None for index in range(len(cells))]


DIFFERENT_DEATHS = (
    "le processus qui exécutait ce rendu s'est arrêté à des moments différents lors de plusieurs essais : "
    "arrêt venu de l'extérieur, la copie sera corrigée de nouveau."
)


def execute(roles_json: str, student: str, parameters: RunParameters, timeout: float) -> Execution:
    """Execute one rebuilt notebook; run it again after a fault, to tell faults from the student's doing.

    A run is kept when it is clean (no fault, no death of the student's process), or when its
    deaths are those of an earlier run without fault (the student's code causes them). A fault
    (sandbox start, test process killed, protocol error) that happens twice in a row stays a
    grading failure; so do deaths that never happen twice at the same point (something outside
    kills processes). A death is never taken as the student's on the word of a single run.
    """
    attempts: list[Execution] = []
    while len(attempts) < MAX_ATTEMPTS:
        result = run_sandboxed(roles_json, student, parameters, timeout)
        if not result.infrastructure and (
            not result.deaths or any(not a.infrastructure and a.deaths == result.deaths for a in attempts)
        ):
            return result
        attempts.append(result)
        if len(attempts) >= 2 and attempts[-1].infrastructure and attempts[-2].infrastructure:
            return result
    last = attempts[-1]
    return last if last.infrastructure else Execution(None, DIFFERENT_DEATHS, True)
