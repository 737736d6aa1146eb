"""The student's process: runs inside the sandbox, executes answer cells, answers calls.

It reads requests on file descriptor 3 and writes answers on descriptor 4
(length-prefixed JSON, see protocol.py). It never sees a test cell, a hidden
input's expected value, the gradebook or the course files.
"""

from __future__ import annotations

import atexit
import io
import os
import sys

READ_FD, WRITE_FD = 3, 4
MAX_OUTPUT = 100_000


class CappedText(io.TextIOBase):
    """A text stream that keeps at most MAX_OUTPUT characters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.truncated = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = MAX_OUTPUT - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(len(text), room)
        if len(text) > room:
            self.truncated = True
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts) + ("\n[… sortie tronquée]\n" if self.truncated else "")


class _Answered(Exception):
    """The answer of an "observe" request is complete."""


def _error(exc: BaseException) -> dict:
    return {"ename": type(exc).__name__[:100], "evalue": str(exc)[:2000]}


def new_shell(ipython_dir: str | None = None):
    """IPython's shell, as in a kernel, without history (no database, no thread that fork would lose)."""
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.enabled = False
    return InteractiveShell.instance(colors="NoColor", config=config, ipython_dir=ipython_dir)


def prepare_shell() -> None:
    """Build the shell in the warm server, so that each student's process forked from it starts with one.

    Building it costs about 25 ms of CPU, paid once here instead of in every sandbox. Its global side
    effects (the ``__main__`` module, ``display`` and ``__IPYTHON__`` among the builtins, the prompts)
    are undone here: the test processes forked from the same server must not see them. ``main`` puts
    them back in the student's process, as the shell's constructor would have.
    """
    import builtins
    import shutil
    import tempfile

    saved_main = sys.modules.get("__main__")
    saved_builtins = {name: builtins.__dict__[name] for name in ("__IPYTHON__", "display") if name in builtins.__dict__}
    # Its profile folder in a private temporary folder of /tmp, removed at once: never in the grader's
    # home (a grader run as root would leave a ~/.ipython its owner can no longer write to). The
    # student's process makes the folder again in the sandbox's own /tmp.
    ipython_dir = tempfile.mkdtemp(prefix="ipython-", dir="/tmp")
    try:
        shell = new_shell(ipython_dir)
    finally:
        shutil.rmtree(ipython_dir, ignore_errors=True)
    # Its exit handler would run in the server, at the end of every grading: a full garbage collection
    # over TensorFlow's objects (about 0.25 s, holding the grader's output meanwhile). _shell puts it back.
    atexit.unregister(shell.atexit_operations)
    if saved_main is not None:
        sys.modules["__main__"] = saved_main
    for name in ("__IPYTHON__", "display"):
        builtins.__dict__.pop(name, None)
    builtins.__dict__.update(saved_builtins)
    for name in ("ps1", "ps2", "ps3"):
        if hasattr(sys, name):
            delattr(sys, name)


def _shell():
    """The shell of this student's process: the one the warm server built, made current, or a new one."""
    from IPython.core.interactiveshell import InteractiveShell

    if not InteractiveShell.initialized():
        return new_shell()
    shell = InteractiveShell.instance()
    try:
        os.makedirs(shell.profile_dir.location, exist_ok=True)
    except OSError:
        pass
    atexit.register(shell.atexit_operations)
    shell.init_sys_modules()
    shell.init_builtins()
    shell.init_prompts()
    return shell


def main(read_fd: int = READ_FD, write_fd: int = WRITE_FD) -> None:
    from autograder.execution.sandbox import name_process

    name_process("ag-student")

    from autograder import checks
    from autograder.execution import protocol

    # A new process after a crash starts as warm as the first one (TensorFlow imported): the next
    # cell's time limit is not spent importing it.
    try:
        import tensorflow  # noqa: F401
    except ImportError:  # pragma: no cover - TensorFlow is a dependency of the course
        pass

    # Bound before any student code runs: rebinding the module's names later changes nothing here.
    observe_tape, source_with_helpers = checks.observe_tape, checks.source_with_helpers
    shell = _shell()
    while True:
        try:
            request = protocol.receive(read_fd)
        except (EOFError, protocol.ProtocolError):
            return
        op = request.get("op")
        out, err = CappedText(), CappedText()
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = out, err
        answer: dict = {"id": request.get("id")}
        try:
            if op == "ping":
                answer["ready"] = True  # the sandbox is up: what follows is the student's code
            elif op == "exec":
                result = shell.run_cell(str(request.get("source", "")), store_history=False)
                failure = result.error_before_exec or result.error_in_exec
                answer["error"] = _error(failure) if failure is not None else None
            elif op == "lookup":
                kinds, values, sources = {}, {}, {}
                for name in request.get("names", []):
                    if name not in shell.user_ns:
                        kinds[name] = "missing"
                        continue
                    value = shell.user_ns[name]
                    if callable(value):
                        kinds[name] = "function"
                        try:  # the text every check reads: the function and its helpers, as in a kernel
                            text = source_with_helpers(value)
                        except Exception:  # noqa: BLE001 - an unreadable function has no source
                            text = None
                        if isinstance(text, str):
                            sources[name] = text
                        continue
                    try:
                        values[name] = protocol.encode(value)
                        kinds[name] = "value"
                    except protocol.Unsupported:
                        kinds[name] = "unsupported"
                answer.update(kinds=kinds, values=values, sources=sources)
            elif op in ("call", "observe"):
                function = shell.user_ns.get(str(request.get("name")))
                try:
                    if function is None:
                        raise NameError(f"name '{request.get('name')}' is not defined")
                    def resolve(name: str):
                        if name not in shell.user_ns:
                            raise NameError(f"name '{name}' is not defined")
                        return shell.user_ns[name]

                    args = protocol.decode(request.get("args"), resolve=resolve)
                    if op == "observe":  # what ran under the tape during a call, judged by the test process
                        answer["observation"] = observe_tape(function, args if request.get("call") else None)
                        answer["error"] = None
                        raise _Answered
                    kwargs = protocol.decode(request.get("kwargs", {"t": "dict", "v": []}), resolve=resolve)
                    value = function(*args, **kwargs)
                    answer["result"] = protocol.encode(value)
                    answer["error"] = None
                except _Answered:
                    pass
                except protocol.Unsupported as exc:
                    answer["error"] = {"ename": type(exc).__name__, "evalue": str(exc)}
                except BaseException as exc:  # noqa: BLE001 - everything the student raises is reported
                    answer["error"] = _error(exc)
            else:
                answer["error"] = {"ename": "ProtocolError", "evalue": f"opération inconnue {op!r}"}
        except BaseException as exc:  # noqa: BLE001 - the runner keeps serving whatever happens
            answer["error"] = _error(exc)
        finally:
            sys.stdout, sys.stderr = saved
        answer["stdout"], answer["stderr"] = out.getvalue(), err.getvalue()
        try:
            protocol.send(write_fd, answer)
        except (ValueError, protocol.ProtocolError, OSError) as exc:
            protocol.send(write_fd, {"id": request.get("id"), "error": _error(exc), "stdout": "", "stderr": ""})


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    main()
