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
import threading
from pathlib import Path
from concurrent.futures import Future
from typing import Any

import autograder

#: Task slots of a worker process: each runs as a uid of the block of sandbox uids the process claims.
_SLOTS_PER_WORKER = 16


class ClusterError(Exception):
    """The Dask cluster cannot be used; the message is French and meant for the instructor."""


def package_digest() -> str:
    """A digest of the autograder package's code: the workers must run the same version."""
    digest = hashlib.sha256()
    folder = Path(autograder.__file__).resolve().parent
    for path in sorted(folder.rglob("*.py")):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def worker_status() -> dict[str, Any]:
    """Run on each worker before grading: can it grade, with the same code as ours?"""
    import multiprocessing

    from autograder.execution import sandbox
    from autograder.course import prepare_environment

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


def run_remote(roles_json: str, student: str, parameters: Any, timeout: float) -> Any:
    """Run on a worker: one rebuilt notebook in a fresh sandbox (see execute.execute); an Execution."""
    import dataclasses
    import queue

    from autograder.execution import uid_blocks
    from autograder.execution.execute import execute

    global _LOCAL_SLOTS
    if _LOCAL_SLOTS is None:
        with _SLOTS_LOCK:
            if _LOCAL_SLOTS is None:
                # A block of its own, even when the worker was started by a grading process that holds one
                # (a local cluster): the workers run copies at the same time as each other.
                uid_blocks.claim_uid_block(inherited=False)
                slots: queue.Queue[int] = queue.Queue()
                for index in range(_SLOTS_PER_WORKER):
                    slots.put(index)
                _LOCAL_SLOTS = slots
    slot = _LOCAL_SLOTS.get()
    try:
        parameters = dataclasses.replace(parameters, slot=slot, uid_base=uid_blocks.uid_base())
        return execute(roles_json, student, parameters, timeout)
    finally:
        _LOCAL_SLOTS.put(slot)


class Cluster:
    """A connection to a Dask scheduler whose workers are ready to grade."""

    def __init__(self, client: Any, threads: int) -> None:
        self.client = client
        #: Notebooks the workers run at a time (their threads): the backend's slots.
        self.slots = threads
        self._remote: dict[Future, Any] = {}

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

    def start(self, roles_json: str, job: Any, parameters: Any, timeout: float) -> Future:
        """Send one prepared notebook to the cluster; a Future of its Execution (a lost worker: a grading failure)."""
        key = hashlib.sha256(f"{job.student}/{job.assignment}/{job.submitted}".encode()).hexdigest()[:16]
        remote = self.client.submit(run_remote, roles_json, job.student, parameters, timeout, pure=False,
                                    key=f"copie-{key}")
        done: Future = Future()
        self._remote[done] = remote  # a Dask future that is dropped is cancelled: keep it until it ends

        def relay(finished: Any) -> None:
            try:
                done.set_result(finished.result())
            except Exception as exc:  # noqa: BLE001 - a lost worker is a grading failure, never a grade
                from autograder.execution.execute import Execution

                done.set_result(Execution(
                    None, f"le worker Dask chargé de ce rendu a échoué ({type(exc).__name__} : {exc}).", True))
            finally:
                self._remote.pop(done, None)
                finished.release()

        remote.add_done_callback(relay)
        return done

    def close(self) -> None:
        self.client.close()
