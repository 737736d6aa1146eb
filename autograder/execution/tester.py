"""The test process: runs the test cells, outside the student's process.

For each submission it starts a new student's process in the sandbox (runner.py,
forked by the spawner: spawner.py), sends it the answer cells to execute, and
runs every test cell here, in a fresh namespace holding the instructor's set-up.
A test cell reaches the student's functions through proxies: each call sends plain data to the
student's process and gets plain data back. No student object, hidden test or
expected value ever crosses the boundary the wrong way.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import json
import os
from typing import Any, Callable


from autograder import checks
from autograder.execution import protocol, sandbox, uid_blocks
from autograder.execution.student_process import (
    RemoteFunction,
    RunParameters,
    StudentProcess,
    StudentProcessGone,
)

#: Seconds each earlier cell may take when it is run again in a new student's process (after a crash).
REPLAY_TIMEOUT = 120.0


class InfrastructureFailure(Exception):
    """The grader could not run the submission (sandbox start, internal error): not the student's doing."""


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


def start_runner(settings: RunParameters) -> StudentProcess | str:
    """The student's process, or the French reason why it could not start."""
    try:
        return StudentProcess(settings)
    except (sandbox.SandboxUnavailable, OSError) as exc:
        return f"le bac à sable ne démarre pas ({exc})"


def run_cells(cells_json: str, student_id: str, settings: RunParameters, runner: StudentProcess | str | None = None,
              respawn: Callable[[], StudentProcess] | None = None,
              on_cell: Callable[[int, list, list], None] | None = None) -> str:
    """Run one submission's rebuilt cells; return JSON ``{"outputs": [...], "deaths": [...]}``.

    ``outputs`` has one list of outputs per cell; ``deaths`` lists, as [cell index, request
    number], each time the student's process died of something else than our time limits
    (its own doing, or a kill from outside: the caller tells them apart by running again).
    Raises InfrastructureFailure when the sandbox cannot start: no cell is judged then.

    Start the runner (``start_runner``) before reading the cells: it is forked from this
    process, which must not hold the hidden tests at that moment. ``respawn`` starts the student's
    process that follows a crash: by default a new interpreter (this process holds the tests by
    then); a test process with a spawner forks it from there instead (``serve_many``). ``on_cell`` is
    given each code cell's index and outputs, and the deaths so far, as soon as the cell is done.
    """
    runner = runner if runner is not None else start_runner(settings)
    if respawn is None:
        def respawn() -> StudentProcess:
            return StudentProcess(settings, fresh=True)
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
                if on_cell is not None:
                    on_cell(index, outputs[index], deaths)
                continue
            outputs[index] = _run_student_cell(cell, runner)
            if runner.death is not None and [index, runner.death] not in deaths:
                deaths.append([index, runner.death])
            if runner.gone and not restarted:
                # The cell killed its process (time limit, crash): as Jupyter would after a restart,
                # go on in a new sandboxed process, never forked from this one (it now holds the tests),
                # with the cells that had run before.
                restarted = True
                try:
                    runner = respawn()
                except (sandbox.SandboxUnavailable, OSError) as exc:
                    raise InfrastructureFailure(f"le bac à sable ne redémarre pas ({exc})") from None
                # The cells that ran before are run again: they succeeded once, so a failure now is the
                # grader's (a slow or killed new process), never points taken from the student.
                try:
                    for source in done:
                        answer = runner.request({"op": "exec", "source": source}, timeout=REPLAY_TIMEOUT)
                        if answer.get("timeout") or answer.get("error"):
                            raise StudentProcessGone("une cellule déjà exécutée a échoué en étant rejouée")
                except StudentProcessGone as exc:
                    runner.stop()
                    raise InfrastructureFailure(f"le processus de l'étudiant·e n'a pas pu être relancé ({exc})") from None
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
            if on_cell is not None:
                on_cell(index, outputs[index], deaths)
    finally:
        runner.stop()
    return json.dumps({"outputs": outputs, "deaths": deaths})


def _run_student_cell(cell: dict, runner: StudentProcess) -> list[dict]:
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


def _run_test(cell: dict, index: int, namespace: dict, runner: StudentProcess) -> list[dict]:
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


def serve_many(connection) -> None:
    """Entry point of a test process that grades one copy after another (execute.TestProcess).

    Its spawner is forked first, while this process holds no test (spawner.py): every student's
    process comes from it. Each request is (cells JSON, student id, RunParameters); each answer the
    JSON of ``run_cells``, or ``{"failure": reason}``, after one message per code cell done
    (``{"cell": index, "outputs": [...], "deaths": [...]}``). What a copy leaves behind in this process is
    reset before the next: the test cells' namespace is new for each copy, and so is the check
    library's memory of the last function called (checks.LAST_CALLED).
    """
    from autograder.execution.spawner import Spawner

    sandbox.name_process("ag-test")
    preload()
    # Without root, bubblewrap starts each student's process as a new interpreter: nothing to fork from.
    spawner = Spawner() if sandbox.fast_path_available() else None
    try:
        while True:
            try:
                cells_json, student_id, settings = connection.recv()
            except (EOFError, OSError):
                return
            checks.LAST_CALLED.clear()
            respawn = None if spawner is None else functools.partial(_spawn, spawner, settings, True)
            try:
                try:
                    if spawner is None:
                        runner: StudentProcess | str = StudentProcess(settings, fresh=True)
                    else:
                        runner = _spawn(spawner, settings)
                except (sandbox.SandboxUnavailable, OSError) as exc:
                    runner = f"le bac à sable ne démarre pas ({exc})"
                answer = run_cells(cells_json, student_id, settings, runner, respawn,
                                   functools.partial(_send_cell, connection))
            except InfrastructureFailure as exc:
                answer = json.dumps({"failure": str(exc)})
            except Exception as exc:  # noqa: BLE001 - the parent needs a reason, not a traceback
                answer = json.dumps({"failure": f"{type(exc).__name__} : {exc}"})
            connection.send_bytes(answer.encode("utf-8"))
    finally:
        if spawner is not None:
            spawner.close()
        connection.close()


def _send_cell(connection, index: int, outputs: list, deaths: list) -> None:
    """A cell done, sent at once: what a copy stopped by its total time-out keeps (execute.run_sandboxed)."""
    connection.send_bytes(json.dumps({"cell": index, "outputs": outputs, "deaths": deaths}).encode("utf-8"))


def _spawn(spawner, settings: RunParameters, after_crash: bool = False) -> StudentProcess:
    """A student's process forked by the test process's spawner: as the slot's uid, or after a crash as the
    block's restart uid (uid_blocks.restart_uid). Raises SandboxUnavailable when the spawner does not answer."""
    from autograder.execution.spawner import SpawnerGone

    uid = uid_blocks.restart_uid(settings.uid_base) if after_crash else settings.uid_base + settings.slot
    try:
        return StudentProcess(settings, forked=spawner.fork_student(settings.limits, uid))
    except SpawnerGone as exc:
        raise sandbox.SandboxUnavailable(str(exc)) from None


def preload() -> None:
    """Imports shared by every test process (done once, before forking)."""
    from autograder.course import prepare_environment

    prepare_environment()
    import tensorflow  # noqa: F401
