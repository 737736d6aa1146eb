"""The pristine test process: runs the test cells, outside the student's process.

For one submission it starts the student's process in the sandbox (runner.py),
sends it the answer cells to execute, and runs every test cell here, in a
fresh namespace holding the instructor's set-up. A test cell reaches the
student's functions through proxies: each call sends plain data to the
student's process and gets plain data back. No student object, hidden test or
expected value ever crosses the boundary the wrong way.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import json
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from autograder import checks
from autograder.execution import protocol
from autograder.execution import sandbox

#: Largest answer accepted from the student's process for one call.
MAX_ANSWER = 16 * 1024 * 1024


class StudentProcessGone(Exception):
    """The student's process stopped answering (crash, time limit, protocol error)."""


class InfrastructureFailure(Exception):
    """The grader could not run the submission (sandbox start, internal error): not the student's doing."""


#: Seconds the sandboxed process has to answer its first request (nothing of the student's has run yet).
START_TIMEOUT = 60.0


@dataclass
class Settings:
    cell_timeout: float = 120.0
    limits: sandbox.Limits = sandbox.Limits()
    slot: int = 0  # grading slot: submissions graded at the same time use different slots


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


class Runner:
    """Client side of the student's process."""

    def __init__(self, settings: Settings, fresh: bool = False) -> None:
        self.settings = settings
        if sandbox.fast_path_available() and not fresh:
            # This process is warm (TensorFlow imported) and holds no secret yet: fork it into a sandbox.
            self.pid, self.write_fd, self.read_fd = sandbox.fork_runner(settings.limits, settings.slot)
            self.process = None
        else:
            self.process, self.write_fd, self.read_fd = sandbox.start(settings.limits)
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
        """The runner's Python: the first process below ours whose command is Python."""
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
                os.waitpid(self.pid, 0)
        except Exception:  # noqa: BLE001
            pass


class RemoteFunction:
    """A student's function, living in the student's process."""

    def __init__(self, runner: Runner, name: str, source: str | None, tf: Any) -> None:
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


def _free_names(source: str, namespace: dict) -> list[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return sorted(n for n in loaded - stored if n not in namespace and not hasattr(builtins, n))


def _run_here(source: str, namespace: dict, filename: str) -> tuple[str, Any, BaseException | None]:
    """Execute trusted code here; return (stdout, value of a last expression, error)."""
    import linecache

    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    buffer = io.StringIO()
    value, error = None, None
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        try:
            tree = ast.parse(source, filename)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            exec(compile(tree, filename, "exec"), namespace)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
        except Exception as exc:  # noqa: BLE001 - reported as the cell's error
            error = exc
    return buffer.getvalue(), value, error


def _stream(text: str, name: str = "stdout") -> list[dict]:
    return [{"output_type": "stream", "name": name, "text": text}] if text else []


def _error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


def start_runner(settings: Settings) -> Runner | str:
    """The student's process, or the French reason why it could not start."""
    try:
        return Runner(settings)
    except (sandbox.SandboxUnavailable, OSError) as exc:
        return f"le bac à sable ne démarre pas ({exc})"


def run_cells(cells_json: str, student_id: str, settings: Settings, runner: Runner | str | None = None) -> str:
    """Run one submission's rebuilt cells; return JSON ``{"outputs": [...], "deaths": [...]}``.

    ``outputs`` has one list of outputs per cell; ``deaths`` lists, as [cell index, request
    number], each time the student's process died of something else than our time limits
    (its own doing, or a kill from outside: the caller tells them apart by running again).
    Raises InfrastructureFailure when the sandbox cannot start: no cell is judged then.

    Start the runner (``start_runner``) before reading the cells: it is forked from this
    process, which must not hold the hidden tests at that moment.
    """
    runner = runner if runner is not None else start_runner(settings)
    if isinstance(runner, str):
        raise InfrastructureFailure(runner)
    cells = json.loads(cells_json)
    os.environ[checks.STUDENT_ID_ENV] = student_id
    os.environ.pop("NBGRADER_EXECUTION", None)
    outputs: list[list[dict]] = [[] for _ in cells]
    deaths: list[list[int]] = []
    namespace: dict = {"__name__": "__main__"}
    done: list[str] = []  # student-side cells that ran, to replay in a new process after a crash
    restarted = False
    try:
        for index, cell in enumerate(cells):
            if cell.get("cell_type") != "code":
                continue
            if cell.get("test"):
                outputs[index] = _run_test(cell, index, namespace, runner)
                if runner.death is not None and [index, runner.death] not in deaths:
                    deaths.append([index, runner.death])
                continue
            outputs[index] = _run_student_cell(cell, runner)
            if runner.death is not None and [index, runner.death] not in deaths:
                deaths.append([index, runner.death])
            if runner.gone and not restarted:
                # The cell killed its process (time limit, crash): as Jupyter would after a restart,
                # go on in a fresh sandboxed process (a new interpreter: this one now holds the tests)
                # with the cells that had run before.
                restarted = True
                try:
                    runner = Runner(settings, fresh=True)
                except (sandbox.SandboxUnavailable, OSError) as exc:
                    raise InfrastructureFailure(f"le bac à sable ne redémarre pas ({exc})") from None
                try:
                    for source in done:
                        runner.request({"op": "exec", "source": source})
                except StudentProcessGone:
                    pass
                for name in [n for n, v in namespace.items() if isinstance(v, RemoteFunction)]:
                    del namespace[name]
            elif not any(o.get("output_type") == "error" for o in outputs[index]):
                done.append(cell["source"])
            if cell.get("instructor"):
                _run_here(cell["source"], namespace, f"<cellule {index}>")
                # Helpers marked @in_student_process run where the student's functions live.
                tf = __import__("sys").modules.get("tensorflow")
                for name, value in list(namespace.items()):
                    if getattr(value, "__in_student_process__", False) and not isinstance(value, RemoteFunction):
                        namespace[name] = RemoteFunction(runner, name, None, tf)
    finally:
        runner.stop()
    return json.dumps({"outputs": outputs, "deaths": deaths})


def _run_student_cell(cell: dict, runner: Runner) -> list[dict]:
    try:
        answer = runner.request({"op": "exec", "source": cell["source"]})
    except StudentProcessGone as exc:
        return [_error("Arrêt", f"cellule non exécutée : {exc}")]
    result = _stream(str(answer.get("stdout", ""))) + _stream(str(answer.get("stderr", "")), "stderr")
    if answer.get("timeout"):
        result.append(_error("TimeoutError", f"délai dépassé ({runner.settings.cell_timeout:.0f} s) : cellule interrompue"))
    elif answer.get("error"):
        error = answer["error"]
        result = [o for o in result if o["name"] == "stdout" and "Traceback" not in o["text"]]
        result.append(_error(str(error.get("ename", "Erreur"))[:100], str(error.get("evalue", ""))[:2000]))
    return result


def _run_test(cell: dict, index: int, namespace: dict, runner: Runner) -> list[dict]:
    import sys

    tf = sys.modules.get("tensorflow")
    names = _free_names(cell["source"], namespace)
    if names and not runner.gone:
        try:
            answer = runner.request({"op": "lookup", "names": names})
        except StudentProcessGone:
            answer = {"kinds": {}}
        sources = answer.get("sources") if isinstance(answer.get("sources"), dict) else {}
        for name, kind in (answer.get("kinds") or {}).items():
            if name not in names:
                continue
            if kind == "function":
                # The source as the student's process reads it (checks.source_with_helpers), as in a kernel.
                source = sources.get(name)
                source = source[:checks.MAX_SOURCE] if isinstance(source, str) else None
                namespace[name] = RemoteFunction(runner, name, source, tf)
            elif kind == "value":
                try:
                    namespace[name] = protocol.decode((answer.get("values") or {}).get(name), tf=tf)
                except protocol.ProtocolError:
                    pass
    stdout, value, error = _run_here(cell["source"], namespace, f"<test {index}>")
    result = _stream(stdout)
    if error is not None:
        result.append(_error(type(error).__name__, str(error)))
    elif value is not None:
        result.append({"output_type": "execute_result", "execution_count": index + 1, "metadata": {},
                       "data": {"text/plain": repr(value)}})
    return result


def serve_one(connection, student_id: str, settings: Settings) -> None:
    """Entry point of a test process forked from the warm server: one submission, then exit."""
    try:
        preload()
        runner = start_runner(settings)  # forked before the cells (hidden tests) arrive
        cells_json = connection.recv_bytes().decode("utf-8")
        connection.send_bytes(run_cells(cells_json, student_id, settings, runner).encode("utf-8"))
    except InfrastructureFailure as exc:
        connection.send_bytes(json.dumps({"failure": str(exc)}).encode("utf-8"))
    except BaseException as exc:  # noqa: BLE001 - the parent needs a reason, not a traceback
        connection.send_bytes(json.dumps({"failure": f"{type(exc).__name__} : {exc}"}).encode("utf-8"))
    finally:
        connection.close()


def preload() -> None:
    """Imports shared by every test process (done once, before forking)."""
    from autograder.course import prepare_environment

    prepare_environment()
    import tensorflow  # noqa: F401
