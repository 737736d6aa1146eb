"""Run one rebuilt notebook in a fresh test process and sandbox, and tell faults from the student's doing.

A fresh test process, forked from the warm server (multiprocessing's forkserver, see
forkserver.py), starts the student's process in the sandbox, executes the answer cells there
and runs the test cells itself (tester.py). Its outputs come back as plain JSON.

Faults are told apart from the student's doing: a sandbox that cannot start, a test process that
dies or answers nonsense are grading failures (no grade is recorded; the copy is graded again at
the next run). A run in which the student's process died is repeated: a death is the student's
only when two runs without any fault die at the same point.

This module never imports nbgrader: Dask workers and the warm server's children use it.
"""

from __future__ import annotations

import dataclasses
import json

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
    submission itself made the run fail (e.g. the total time limit) and every test cell scores 0.
    ``deaths``: where the student's process died ([cell index, request number] pairs).
    """

    outputs: list | None
    failure: str | None = None
    infrastructure: bool = False
    deaths: list = dataclasses.field(default_factory=list)


def run_sandboxed(roles_json: str, student: str, parameters: RunParameters, timeout: float) -> Execution:
    """Execute one rebuilt notebook once, in a fresh test process and sandbox."""
    server = context()
    try:
        receiver, sender = server.Pipe(duplex=True)
        process = server.Process(target=tester.serve_one, args=(sender, student, parameters))
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
