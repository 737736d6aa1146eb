"""Where submissions run: this machine's cores or a Dask cluster, behind one interface and one loop.

A backend starts the run of one job and gives back a ``concurrent.futures.Future`` of its
``Execution``. ``run_jobs`` keeps a few jobs per slot in flight (the class is never sent all at
once, so memory does not grow with its size) and yields each result as it finishes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import queue
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator, Protocol

from autograder.execution import uid_blocks
from autograder.execution.execute import Execution, execute, stop_test_processes
from autograder.execution.student_process import RunParameters

#: Jobs kept in flight per slot of the backend.
IN_FLIGHT_PER_SLOT = 2


@dataclass(frozen=True)
class Job:
    """One notebook of one submission to run."""

    student: str
    assignment: str
    source: Path  # the assignment's notebook in source/
    submitted: Path  # the submitted notebook (already rebuilt on the source by collect)


@dataclass
class JobResult:
    """What a job gave: ``key`` of its rebuilt notebook (None: unreadable), its Execution (None: unreadable)."""

    job: Job
    key: str | None
    execution: Execution | None


def job_key(student: str, roles_json: str) -> str:
    """The key under which a rebuilt notebook's outputs are handed to SandboxedExecute."""
    return hashlib.sha256(student.encode() + b"\0" + roles_json.encode()).hexdigest()


#: Turns a job into the JSON of its rebuilt notebook's cell roles (None if it cannot be read).
Prepare = Callable[[Job], "str | None"]


class Backend(Protocol):
    """Runs prepared notebooks somewhere."""

    slots: int

    def start(self, roles_json: str, job: Job, parameters: RunParameters, timeout: float) -> Future: ...

    def close(self) -> None: ...


class LocalBackend:
    """This machine: ``slots`` submissions at a time, each in its own sandbox slot (its own uid)."""

    def __init__(self, slots: int) -> None:
        self.slots = max(1, min(slots, uid_blocks.MAX_SLOTS))  # one uid of the run's block each
        self._pool = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix="copie")
        self._free: queue.Queue[int] = queue.Queue()
        for slot in range(self.slots):
            self._free.put(slot)

    def start(self, roles_json: str, job: Job, parameters: RunParameters, timeout: float) -> Future:
        return self._pool.submit(self._run, roles_json, job.student, parameters, timeout)

    def _run(self, roles_json: str, student: str, parameters: RunParameters, timeout: float) -> Execution:
        slot = self._free.get()
        try:
            return execute(roles_json, student, dataclasses.replace(parameters, slot=slot), timeout)
        finally:
            self._free.put(slot)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        stop_test_processes()


def run_jobs(jobs: Iterable[Job], prepare: Prepare, backend: Backend, parameters: RunParameters,
             timeout: float) -> Iterator[JobResult]:
    """Run ``jobs`` on ``backend``, a few per slot at a time; yield each JobResult as it finishes."""
    remaining = iter(jobs)
    window = IN_FLIGHT_PER_SLOT * backend.slots
    running: dict[Future, tuple[Job, str]] = {}
    unreadable: list[Job] = []

    def start_next() -> bool:
        job = next(remaining, None)
        if job is None:
            return False
        roles_json = prepare(job)
        if roles_json is None:
            unreadable.append(job)
        else:
            running[backend.start(roles_json, job, parameters, timeout)] = (job, job_key(job.student, roles_json))
        return True

    while True:
        while len(running) < window and start_next():
            pass
        while unreadable:
            yield JobResult(unreadable.pop(0), None, None)
        if not running:
            return
        done, _ = wait(list(running), return_when=FIRST_COMPLETED)
        for future in done:
            job, key = running.pop(future)
            yield JobResult(job, key, future.result())


@dataclass
class CopyResult:
    """All the notebooks of one submission have run.

    ``outputs``: key of each rebuilt notebook -> (outputs, failure), for SandboxedExecute;
    ``failure``: None, or the French reason of a grading failure (then nothing of it is recorded).
    """

    student: str
    assignment: str
    outputs: dict[str, tuple[list, str | None]]
    failure: str | None


UNREADABLE_COPY = "la copie préparée pour la correction est illisible (erreur interne du correcteur)."


def run_copies(jobs: list[Job], prepare: Prepare, backend: Backend, parameters: RunParameters,
               timeout: float) -> Iterator[CopyResult]:
    """Run the notebooks of many submissions; yield each submission once all its notebooks have run."""
    pending: dict[tuple[str, str], int] = {}
    for job in jobs:
        pending[(job.student, job.assignment)] = pending.get((job.student, job.assignment), 0) + 1
    outputs: dict[tuple[str, str], dict] = {}
    failures: dict[tuple[str, str], str] = {}
    for result in run_jobs(jobs, prepare, backend, parameters, timeout):
        copy = (result.job.student, result.job.assignment)
        if result.key is None or result.execution is None:
            failures.setdefault(copy, UNREADABLE_COPY)
        elif result.execution.infrastructure:
            failures.setdefault(copy, result.execution.failure or "échec inconnu")
        else:
            outputs.setdefault(copy, {})[result.key] = (result.execution.outputs, result.execution.failure)
        pending[copy] -= 1
        if pending[copy] == 0:
            failure = failures.pop(copy, None)
            ready = outputs.pop(copy, {})
            yield CopyResult(copy[0], copy[1], {} if failure else ready, failure)

