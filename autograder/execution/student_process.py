"""The student's sandboxed process, seen from the test process: start it, send requests, proxies.

``StudentProcess`` starts runner.py in the sandbox and talks to it with the protocol; a
``RemoteFunction`` stands in the test cells' namespace for a function that lives in the
student's process: each call sends plain data there and gets plain data back.
"""

from __future__ import annotations

import builtins
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import checks
from autograder.execution import protocol, sandbox, uid_blocks


class StudentProcessGone(Exception):
    """The student's process stopped answering (crash, time limit, protocol error)."""


#: Seconds the sandboxed process has to answer its first request (nothing of the student's has run yet).
START_TIMEOUT = 60.0


@dataclass
class RunParameters:
    """How a submission runs: the time a cell may take, the sandbox's limits, the grading slot and its uids."""

    cell_timeout: float = 120.0
    limits: sandbox.Limits = sandbox.Limits()
    slot: int = 0  # grading slot: submissions graded at the same time use different slots
    #: First uid of the run's block (uid_blocks.claim_uid_block), claimed by the process that makes the parameters.
    uid_base: int = field(default_factory=uid_blocks.uid_base)


# Exceptions raised in the student's process come back as their name and message.
_BUILTIN_ERRORS = {
    name: getattr(builtins, name)
    for name in dir(builtins)
    if isinstance(getattr(builtins, name), type) and issubclass(getattr(builtins, name), Exception)
}


def _rebuild_error(error: dict) -> Exception:
    name = str(error.get("ename", "Exception"))[:100]
    message = str(error.get("evalue", ""))[:2000]
    if name == "Diagnostic":  # raised by an instructor helper run in the student's process
        return checks.Diagnostic(message)
    kind = _BUILTIN_ERRORS.get(name)
    if kind is None:
        kind = type(name if name.isidentifier() else "Exception", (Exception,), {})
    try:
        return kind(message)
    except Exception:  # noqa: BLE001 - some exception types need other arguments
        return type(name if name.isidentifier() else "Exception", (Exception,), {})(message)


class StudentProcess:
    """The test process's end of the student's sandboxed process (runner.py runs at the other end)."""

    def __init__(self, settings: RunParameters, fresh: bool = False, forked: tuple[int, int, int] | None = None) -> None:
        """Start the student's process: ``forked`` (pid, fd to write, fd to read) when a spawner already
        forked it (spawner.py), else a fork of this process or, if ``fresh``, a new interpreter."""
        self.settings = settings
        if forked is not None:
            self.pid, self.write_fd, self.read_fd = forked
            self.process = None
        elif sandbox.fast_path_available() and not fresh:
            # This process is warm (TensorFlow imported) and holds no secret yet: fork it into a sandbox.
            self.pid, self.write_fd, self.read_fd = sandbox.fork_runner(settings.limits, settings.uid_base + settings.slot)
            self.process = None
        else:
            uid = uid_blocks.restart_uid(settings.uid_base)
            self.process, self.write_fd, self.read_fd = sandbox.start(settings.limits, uid)
            self.pid = self.process.pid
        self.counter = 0
        self.gone: str | None = None
        #: Request number at which the process died of something other than our own time limits.
        self.death: int | None = None
        try:
            self.request({"op": "ping"}, timeout=START_TIMEOUT)
        except StudentProcessGone as exc:
            raise sandbox.SandboxUnavailable(f"le processus isolé n'a pas démarré ({exc})") from None

    def request(self, message: dict, timeout: float | None = None) -> dict:
        if self.gone:
            raise StudentProcessGone(self.gone)
        self.counter += 1
        message = {**message, "id": self.counter}
        try:
            protocol.send(self.write_fd, message)
            while True:
                answer = protocol.receive(self.read_fd, timeout or self.settings.cell_timeout)
                if answer.get("id") == self.counter:
                    return answer
        except TimeoutError:
            if self._interrupt():
                try:
                    answer = protocol.receive(self.read_fd, 10)
                    if answer.get("id") == self.counter:
                        answer["timeout"] = True
                        return answer
                except (TimeoutError, EOFError, protocol.ProtocolError, OSError):
                    pass
            self.stop(f"délai dépassé ({self.settings.cell_timeout:.0f} s) : le processus a été arrêté")
        except (EOFError, OSError, BrokenPipeError):
            self.death = self.counter
            self.stop("le processus s'est arrêté (plantage, limite de mémoire ou de temps de calcul dépassée)")
        except protocol.ProtocolError as exc:
            self.death = self.counter
            self.stop(f"réponse invalide du processus ({exc})")
        raise StudentProcessGone(self.gone)

    def _interrupt(self) -> bool:
        """Send SIGINT to the student's Python (as Jupyter does on a time-out)."""
        try:
            target = self._python_pid()
            if target is None:
                return False
            os.kill(target, signal.SIGINT)
            return True
        except (OSError, ValueError):
            return False

    def _python_pid(self) -> int | None:
        """The runner's Python: the forked process itself, or the first process below bubblewrap whose command is Python."""
        if self.process is None:
            return self.pid
        pending = [self.pid]
        for _ in range(4):
            found = []
            for pid in pending:
                path = Path(f"/proc/{pid}/task/{pid}/children")
                found += [int(p) for p in path.read_text().split()] if path.exists() else []
            for pid in found:
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                except OSError:
                    continue
                if b"python" in Path(command.decode(errors="replace")).name.encode():
                    return pid
            pending = found
        return None

    def stop(self, reason: str = "processus terminé") -> None:
        self.gone = self.gone or reason
        for fd in (self.write_fd, self.read_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.write_fd = self.read_fd = -1
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            if self.process is not None:
                self.process.wait(timeout=10)
            else:
                os.waitpid(self.pid, 0)  # not our child when a spawner forked it: the spawner reaps it
        except Exception:  # noqa: BLE001
            pass


class RemoteFunction:
    """A student's function, living in the student's process."""

    def __init__(self, runner: StudentProcess, name: str, source: str | None, tf: Any) -> None:
        self._runner, self.__name__, self.__source__, self._tf = runner, name, source, tf
        self.__qualname__ = self.__remote_name__ = name

    def __observe_tape__(self, args: tuple | list | None) -> dict:
        """What ran under the tape during a call, observed in the student's process (checks.observe_tape)."""
        try:
            payload = protocol.encode(list(args or []))
        except protocol.Unsupported as exc:
            raise TypeError(f"argument impossible à transmettre : {exc}") from None
        try:
            answer = self._runner.request({"op": "observe", "name": self.__name__, "args": payload, "call": args is not None})
        except StudentProcessGone as exc:
            raise RuntimeError(f"votre code ne répond plus : {exc}") from None
        if answer.get("stdout"):
            print(str(answer["stdout"]), end="")
        if answer.get("timeout"):
            raise TimeoutError(f"délai dépassé ({self._runner.settings.cell_timeout:.0f} s) : la fonction a été interrompue")
        if answer.get("error"):
            raise _rebuild_error(answer["error"])
        observation = answer.get("observation")
        return observation if isinstance(observation, dict) else {}

    def __deepcopy__(self, memo: dict) -> "RemoteFunction":
        return self

    def __copy__(self) -> "RemoteFunction":
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            payload = protocol.encode(list(args))
            keywords = protocol.encode(dict(kwargs))
        except protocol.Unsupported as exc:
            raise TypeError(f"argument impossible à transmettre : {exc}") from None
        try:
            answer = self._runner.request({"op": "call", "name": self.__name__, "args": payload, "kwargs": keywords})
        except StudentProcessGone as exc:
            raise RuntimeError(f"votre code ne répond plus : {exc}") from None
        if answer.get("stdout"):
            print(str(answer["stdout"]), end="")
        if answer.get("timeout"):
            raise TimeoutError(f"délai dépassé ({self._runner.settings.cell_timeout:.0f} s) : la fonction a été interrompue")
        if answer.get("error"):
            error = answer["error"]
            if error.get("ename") == "TooLarge":
                raise checks.Diagnostic(
                    f"{self.__name__} renvoie une valeur trop volumineuse pour être vérifiée ({error.get('evalue')})."
                )
            if error.get("ename") == "Unsupported":
                raise checks.Diagnostic(
                    f"{self.__name__} renvoie une valeur d'un type non pris en charge ({error.get('evalue')}) : "
                    "renvoyez des nombres, des tableaux NumPy, des tenseurs, ou des listes de ceux-ci."
                )
            raise _rebuild_error(error)
        try:
            return protocol.decode(answer.get("result"), tf=self._tf)
        except protocol.ProtocolError as exc:
            raise checks.Diagnostic(f"{self.__name__} : réponse illisible ({exc}).") from None
