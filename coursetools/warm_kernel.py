"""A kernel provisioner whose IPython kernels are forked from a warm process (for the test suite).

Every notebook of the course imports TensorFlow in its first cell: about 3 s of CPU for each
kernel, and the test suite starts about fifty kernels (nbval on the lessons and the instructor
notebooks, plain nbgrader on every solution and blank copy, each released folder run alone).
This provisioner is jupyter_client's local one, except that a kernel launched with
``<python> [options] -m ipykernel_launcher …`` is forked from a process of that same interpreter,
options and import-time environment that imported ipykernel, NumPy, TensorFlow and Matplotlib
once (kernel_zygote.py). The child is then exactly that kernel: its own session, environment,
folder, command line and standard streams; the notebook's modules are imported by the notebook.
Any other command (another language, ``-c``…) is launched as usual.

jupyter_client's documented extension point: the entry point ``warm-fork-provisioner`` of the
group ``jupyter_client.kernel_provisioners`` (pyproject.toml), chosen as the default provisioner of
the test session only (tests/conftest.py); JupyterLab and the hub keep the local provisioner.
"""

from __future__ import annotations

import json
import os
import pathlib
import select
import shutil
import signal
import socket
import subprocess
import threading
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

NAME = "warm-fork-provisioner"
ZYGOTE = pathlib.Path(__file__).with_name("kernel_zygote.py")
LAUNCHER = ["-m", "ipykernel_launcher"]
#: Variables read when the preloaded packages are imported: a warm process serves only kernels
#: whose values are its own.
#: (ipykernel reads JPY_PARENT_PID when its module is imported: the launching process, the same for all.)
IMPORT_TIME_PREFIXES = ("PYTHON", "TF_", "MPL", "KERAS", "OMP_", "MKL_", "OPENBLAS", "CUDA", "LD_", "XLA", "IPYTHON",
                        "JUPYTER", "JPY_PARENT_PID")


class ZygoteError(RuntimeError):
    """The warm process could not fork a kernel (the kernel is then launched as usual)."""


class ForkedKernel:
    """What jupyter_client's local provisioner needs of a ``Popen``, for a forked kernel.

    The kernel is the warm process's child, not ours: its end is watched through a pidfd,
    and signals are sent through it (never to a pid reused by another process).
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd: int | None = os.pidfd_open(pid)

    def poll(self) -> int | None:
        if self.returncode is None and self._pidfd is not None:
            ready, _, _ = select.select([self._pidfd], [], [], 0)
            if ready:
                self._ended()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None and self._pidfd is not None:
            ready, _, _ = select.select([self._pidfd], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            self._ended()
        return self.returncode if self.returncode is not None else 0

    def _ended(self) -> None:
        # Its parent collects the exit status; an ended kernel is reported as exited normally.
        self.returncode = 0
        os.close(self._pidfd)
        self._pidfd = None

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            signal.pidfd_send_signal(self._pidfd, signum)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class Zygote:
    """A warm process of one interpreter and import-time environment, and its socket."""

    def __init__(self, prefix: list[str], env: dict[str, str]) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        zygote_env = {name: value for name, value in env.items() if name != "JPY_SESSION_NAME"}
        self.process = subprocess.Popen(
            [*prefix, str(ZYGOTE), str(theirs.fileno())], pass_fds=[theirs.fileno()], env=zygote_env,
            cwd="/", stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.channel = ours
        self.lock = threading.Lock()
        ours.settimeout(120)
        try:
            ready = json.loads(ours.recv(4096) or b"{}")
        except (OSError, ValueError) as exc:
            ready = {"error": exc}
        if "ready" not in ready:  # not left behind: each later kernel would otherwise start another one
            self.stop()
            raise ZygoteError(f"le processus chaud n'a pas démarré : {ready.get('error', 'arrêté')}")

    def fork(self, argv: list[str], env: dict[str, str], cwd: str, streams: list[int]) -> ForkedKernel:
        request = json.dumps({"argv": argv, "env": env, "cwd": cwd}).encode()
        with self.lock:
            try:
                socket.send_fds(self.channel, [request], streams)
                reply = json.loads(self.channel.recv(4096) or b"{}")
            except (OSError, ValueError) as exc:
                raise ZygoteError(f"le processus chaud ne répond plus : {exc}") from exc
        if "pid" not in reply:
            raise ZygoteError("le processus chaud s'est arrêté")
        return ForkedKernel(reply["pid"])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        self.channel.close()  # the warm process ends when its socket does
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_ZYGOTES: dict[tuple, Zygote] = {}
_ZYGOTES_LOCK = threading.Lock()


def _split(cmd: list[str], env: dict[str, str]) -> tuple[list[str], list[str]] | None:
    """``(interpreter and its options, kernel arguments)`` for an IPython kernel's command, else None."""
    for start in range(1, len(cmd) - 1):
        if cmd[start:start + 2] == LAUNCHER:
            prefix, arguments = list(cmd[:start]), list(cmd[start + 2:])
            if any(not option.startswith("-") or option in ("-c", "-m") for option in prefix[1:]):
                return None
            executable = shutil.which(prefix[0], path=env.get("PATH"))
            if executable is None:
                return None
            return [os.path.abspath(executable), *prefix[1:]], arguments
    return None


def _zygote(prefix: list[str], env: dict[str, str]) -> Zygote:
    key = (tuple(prefix), tuple(sorted((k, v) for k, v in env.items() if k.startswith(IMPORT_TIME_PREFIXES))))
    with _ZYGOTES_LOCK:
        zygote = _ZYGOTES.get(key)
        if zygote is None or not zygote.alive():
            zygote = _ZYGOTES[key] = Zygote(prefix, env)
        return zygote


def stop_zygotes() -> None:
    """Stop the warm processes (their kernels end with them)."""
    with _ZYGOTES_LOCK:
        for zygote in _ZYGOTES.values():
            zygote.stop()
        _ZYGOTES.clear()


def _stream(value: Any, default: int) -> int | None:
    """The descriptor a kernel's standard stream goes to; None when it cannot be passed on."""
    if value is None:
        return default
    if isinstance(value, int):
        return value if value >= 0 else None  # subprocess.PIPE, DEVNULL…: launched as usual
    try:
        return value.fileno()
    except (AttributeError, OSError, ValueError):
        return None


class WarmForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with IPython kernels forked from a warm process."""

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        env = dict(kwargs.get("env") or os.environ)
        split = _split(cmd, env)
        streams = [_stream(kwargs.get("stdout"), 1), _stream(kwargs.get("stderr"), 2)]
        if split is None or None in streams or kwargs.get("independent"):
            return await super().launch_kernel(cmd, **kwargs)
        prefix, arguments = split
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env["JPY_PARENT_PID"] = str(os.getpid())  # as jupyter_client's launcher (before the zygote's key)
        stdin = os.open(os.devnull, os.O_RDONLY)
        try:
            process = _zygote(prefix, env).fork(
                [str(prefix[0]), *arguments], env, cwd, [stdin, *streams])
        except ZygoteError:
            return await super().launch_kernel(cmd, **kwargs)
        finally:
            os.close(stdin)
        self.process = process
        self.pid = self.pgid = process.pid
        self.cwd = cwd
        return self.connection_info


def use_warm_kernels() -> None:
    """Make the warm provisioner the default of this process's kernel managers."""
    import atexit

    from jupyter_client.provisioning import KernelProvisionerFactory

    KernelProvisionerFactory.instance().default_provisioner_name = NAME
    atexit.register(stop_zygotes)


def pytest_configure(config: Any) -> None:
    """As a pytest plugin (``-p coursetools.warm_kernel``, for nbval): warm kernels for the session."""
    use_warm_kernels()
