"""A warm process that forks IPython kernels (run as a script by coursetools.warm_kernel).

It imports what every kernel of the course imports at its first cell (TensorFlow above all,
about 3 s of CPU), then waits on the Unix socket given as its argument. Each request is the
command line, environment and folder of a kernel, with its standard streams; the process forks,
and the child becomes that kernel exactly as ``python -m ipykernel_launcher …`` would (new
session, environment, folder, ``sys.path[0]``, ``sys.argv``), without importing anything again.

Only third-party packages are imported here, never a module of the course: a notebook still finds
its own modules (the check library copied beside a released notebook) in its own folder.
TensorFlow's runtime is not started here (its thread pools would not survive a fork).
Standard library only at the top level: this file runs in the kernel's interpreter.
"""

import ctypes
import json
import os
import runpy
import signal
import socket
import sys

#: Imported once, if the interpreter has them (the order of a lesson's first cell).
PRELOAD = ("ipykernel.kernelapp", "numpy", "tensorflow", "matplotlib.pyplot")

PR_SET_PDEATHSIG = 1


def _reap(signum, frame):
    """Reap the kernels that ended (they are this process's children)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _forget_tensorflow_logger() -> None:
    """Undo the configuration of TensorFlow's logger made at its import in this warm process.

    TensorFlow configures its logger once, at its first use: in a kernel (an interactive shell)
    at level INFO towards the notebook's stdout, here towards this process's stderr. Forgotten,
    it is configured again at its first use in the kernel, as in a kernel that imported it.
    (``_logger`` is TensorFlow's module-level cache of that configuration; there is no public reset.)
    """
    tf_logging = sys.modules.get("tensorflow.python.platform.tf_logging")
    if tf_logging is None or getattr(tf_logging, "_logger", None) is None:
        return
    import logging

    logger = tf_logging._logger
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    logger.setLevel(logging.NOTSET)
    tf_logging._logger = None


def _become_kernel(request: dict, fds: list[int], channel: socket.socket) -> None:
    """In the forked child: turn into the requested kernel; never returns."""
    code = 1
    try:
        channel.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()  # as jupyter_client's launcher: the kernel leads its own process group
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # What `python -m` puts first on the path: the folder the kernel starts in.
        sys.path[0] = os.getcwd()
        sys.argv = [request["argv"][0], *request["argv"][1:]]
        if "numpy" in sys.modules:  # its global generator was seeded at import, in this process
            sys.modules["numpy"].random.seed()
        _forget_tensorflow_logger()
        runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the kernel's stderr
        import traceback

        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(fd: int) -> None:
    channel = socket.socket(fileno=fd)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel does
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    signal.signal(signal.SIGCHLD, _reap)
    channel.send(json.dumps({"ready": os.getpid()}).encode())
    while True:
        message, fds, _, _ = socket.recv_fds(channel, 1 << 20, 3)
        if not message:
            return
        request = json.loads(message)
        pid = os.fork()
        if pid == 0:
            _become_kernel(request, fds, channel)
        for received in fds:
            os.close(received)
        channel.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    serve(int(sys.argv[1]))
