"""Scale-out: run the sandboxed part of the grading on the workers of a Dask cluster.

The grading machine prepares every submission (the notebook rebuilt on the
course's source, as JSON) and sends it to a worker, which runs it exactly as
the local grader does (a sandbox forked from its own warm server) and sends
back the outputs of the cells. Nothing else is shared: the workers need
neither the submissions folder nor the gradebook, and the grading machine
alone writes the results into the gradebook, one submission at a time.

Each worker machine needs the course's environment (``make venv``) and runs,
as root (or with bubblewrap installed)::

    DASK_DISTRIBUTED__WORKER__DAEMON=False .venv/bin/dask worker tcp://scheduler:8786

(the sandbox's test processes are children of the worker: Dask must not run
its workers as daemonic processes).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import autograder

#: The uids of a worker's sandboxes: a block per worker process (by pid), a uid per task slot.
_SLOTS_PER_WORKER = 16


class ClusterError(Exception):
    """The Dask cluster cannot be used; the message is French and meant for the instructor."""


def package_digest() -> str:
    """A digest of the autograder package's code: the workers must run the same version."""
    digest = hashlib.sha256()
    folder = Path(autograder.__file__).resolve().parent
    for path in sorted(folder.rglob("*.py")):  # the subpackages too (checks/)
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def worker_status() -> dict[str, Any]:
    """Run on each worker before grading: can it grade, with the same code as ours?"""
    import multiprocessing

    from . import sandbox
    from .course import prepare_environment

    prepare_environment()
    status: dict[str, Any] = {"digest": package_digest(), "problem": None}
    if multiprocessing.current_process().daemon:
        status["problem"] = (
            "le worker tourne en processus démon et ne peut pas lancer de bac à sable "
            "(démarrez-le avec DASK_DISTRIBUTED__WORKER__DAEMON=False)"
        )
        return status
    try:
        sandbox.check()
    except sandbox.SandboxUnavailable as exc:
        status["problem"] = str(exc)
    return status


_LOCAL_SLOTS: Any = None
_SLOTS_LOCK = threading.Lock()


def run_remote(roles_json: str, student: str, settings: Any, timeout: float) -> Any:
    """Run on a worker: one rebuilt notebook in a fresh sandbox (see executor.execute); an Execution."""
    import dataclasses
    import queue

    from . import executor

    global _LOCAL_SLOTS
    if _LOCAL_SLOTS is None:
        with _SLOTS_LOCK:
            if _LOCAL_SLOTS is None:
                slots: queue.Queue[int] = queue.Queue()
                base = _SLOTS_PER_WORKER * (1 + os.getpid() % 2000)
                for index in range(_SLOTS_PER_WORKER):
                    slots.put(base + index)
                _LOCAL_SLOTS = slots
    slot = _LOCAL_SLOTS.get()
    try:
        return executor.execute(roles_json, student, dataclasses.replace(settings, slot=slot), timeout)
    finally:
        _LOCAL_SLOTS.put(slot)


class Cluster:
    """A connection to a Dask scheduler whose workers are ready to grade."""

    def __init__(self, client: Any, threads: int) -> None:
        self.client, self.threads = client, threads

    @classmethod
    def connect(cls, address: str, timeout: float = 10.0) -> "Cluster":
        try:
            from distributed import Client
        except ImportError:  # pragma: no cover - distributed is in requirements.txt
            raise ClusterError("le paquet Python « distributed » (Dask) n'est pas installé.") from None
        try:
            client = Client(address, timeout=f"{timeout}s", set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"impossible de joindre l'ordonnanceur Dask « {address} » ({exc}).") from None
        try:
            workers = client.scheduler_info(n_workers=-1).get("workers", {})
            if not workers:
                client.wait_for_workers(1, timeout=timeout)
                workers = client.scheduler_info(n_workers=-1).get("workers", {})
            statuses = client.run(worker_status)
        except Exception as exc:  # noqa: BLE001 - any failure here means the cluster cannot grade
            client.close()
            raise ClusterError(f"la grappe Dask « {address} » ne répond pas comme prévu ({exc}).") from None
        ours = package_digest()
        for worker, status in sorted(statuses.items()):
            problem = status.get("problem")
            if status.get("digest") != ours:
                problem = "sa version du paquet autograder diffère de celle de cette machine"
            if problem:
                client.close()
                raise ClusterError(f"le worker Dask {worker} ne peut pas corriger : {problem}.")
        threads = sum(int(info.get("nthreads", 1)) for info in workers.values()) or 1
        return cls(client, threads)

    def run(
        self, jobs: Iterable[Any], prepare: Callable[[Any], str], key: Callable[[str, str], str],
        settings: Any, timeout: float,
    ) -> Iterator[tuple[tuple[str, str], str | None, Any]]:
        """Yield ((student, assignment), key, Execution) as the workers finish (key None: unreadable).

        A few submissions per worker thread are in flight at a time: the class is not
        sent all at once.
        """
        from distributed import as_completed

        window = 2 * self.threads
        remaining = iter(jobs)
        submitted = as_completed(loop=self.client.loop)
        meta: dict[Any, tuple[tuple[str, str], str]] = {}

        def submit_next() -> bool:
            """Send the next readable copy to the cluster; False when none is left."""
            while True:
                job = next(remaining, None)
                if job is None:
                    return False
                student, assignment = job[0], job[1]
                roles_json = prepare(job)
                if roles_json is not None:
                    break
                unreadable.append((student, assignment))  # nbgrader reports it on this machine
            future = self.client.submit(
                run_remote, roles_json, student, settings, timeout, pure=False,
                key=f"copie-{hashlib.sha256(f'{student}/{assignment}/{job[3]}'.encode()).hexdigest()[:16]}",
            )
            meta[future] = ((student, assignment), key(student, roles_json))
            submitted.add(future)
            return True

        unreadable: list[tuple[str, str]] = []
        for _ in range(window):
            if not submit_next():
                break
        while unreadable:
            yield unreadable.pop(), None, None
        for future in submitted:
            identity, digest = meta.pop(future)
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker is a grading failure, never a grade
                from .executor import Execution

                result = Execution(None, f"le worker Dask chargé de ce rendu a échoué ({type(exc).__name__} : {exc}).", True)
            future.release()
            yield identity, digest, result
            submit_next()
            while unreadable:
                yield unreadable.pop(), None, None

    def close(self) -> None:
        self.client.close()
