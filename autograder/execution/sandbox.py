"""The sandbox of the student's process: bubblewrap, resource limits, an unprivileged user.

Inside the sandbox the student's code sees a read-only Python installation, the
course's ``autograder`` package and an empty writable /tmp; no network, no
course files, no gradebook, no other submission, no environment variable of
the grader. Every process it starts is killed when the sandbox ends.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import autograder

NOBODY = 65534


class SandboxUnavailable(Exception):
    """The sandbox cannot be set up here; the message is French."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one student's process (and everything it starts)."""

    cpu_seconds: int = 300
    memory_bytes: int = 6 * 1024**3  # address space: TensorFlow alone reserves about 2 GB
    processes: int = 64
    file_bytes: int = 16 * 1024**2
    open_files: int = 256


def _set_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _limits_prefix(limits: Limits) -> list[str]:
    """``prlimit`` in front of a command: the limits without code run between fork and exec.

    (A ``preexec_fn`` is unsafe in a process with threads, which the grader's processes have:
    progress display, TensorFlow's thread pools, a Dask client.)
    """
    prlimit = shutil.which("prlimit") or "/usr/bin/prlimit"
    return [
        prlimit, f"--cpu={limits.cpu_seconds}", f"--as={limits.memory_bytes}", f"--nproc={limits.processes}",
        f"--fsize={limits.file_bytes}", f"--nofile={limits.open_files}", "--core=0", "--",
    ]


def _python_paths() -> list[str]:
    """Folders the sandboxed Python needs, read-only."""
    paths = {sys.prefix, sys.base_prefix, os.path.realpath(sys.base_prefix)}
    paths.add(str(Path(autograder.__file__).resolve().parent))  # the checks, not the course
    return sorted(p for p in paths if p and os.path.isdir(p))


def command(python: str | None = None, fds: tuple[int, int] = (3, 4), uid: int = NOBODY) -> list[str]:
    """The command line that starts the runner in the sandbox, reading on ``fds[0]``, writing on ``fds[1]``.

    As root, the student's code runs as ``uid``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (commande bwrap) est absent : installez le paquet Debian « bubblewrap » "
            "(make grade le fait), ou corrigez sans bac à sable en connaissance de cause (--sans-bac-a-sable)."
        )
    args = [
        bwrap,
        "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
        "--die-with-parent", "--new-session",
        "--clearenv",
        "--setenv", "PATH", "/usr/bin:/bin",
        "--setenv", "HOME", "/tmp",
        "--setenv", "LANG", "C.UTF-8",
        "--setenv", "TF_CPP_MIN_LOG_LEVEL", "3",
        "--setenv", "TF_ENABLE_ONEDNN_OPTS", "0",
        "--setenv", "MPLBACKEND", "Agg",
        "--setenv", "MPLCONFIGDIR", "/tmp/matplotlib",
        "--setenv", "IPYTHONDIR", "/tmp/ipython",
        "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin",
        "--symlink", "usr/lib", "/lib",
        "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/sbin", "/sbin",
        "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache",
        "--ro-bind-try", "/etc/localtime", "/etc/localtime",
        "--proc", "/proc",
        "--dev", "/dev",
        "--perms", "1777", "--tmpfs", "/tmp",
        "--chdir", "/tmp",
    ]
    made: set[str] = {"/", "/usr", "/tmp", "/proc", "/dev", "/etc"}
    for path in _python_paths():
        # Parent folders bubblewrap would create are private to root: make them traversable.
        for parent in reversed(Path(path).parents):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", path, path]
    if os.geteuid() == 0:
        # bubblewrap runs as root to set the sandbox up; the student's code runs as ``uid``,
        # with no capability and no way to gain one.
        inner = [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                 "--clear-groups", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
    else:
        args += ["--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY)]
        inner = []
    python = python or sys.executable
    # -I: no PYTHON* variable, no user site folder, no current folder on sys.path.
    return args + ["--", *inner, python, "-I", "-c", f"from autograder.execution.runner import main; main({fds[0]}, {fds[1]})"]


def start(limits: Limits = Limits(), uid: int = NOBODY) -> tuple[subprocess.Popen, int, int]:
    """Start a sandboxed runner (a fresh interpreter, run as ``uid`` when root); return (process, fd to write
    requests, fd to read answers)."""
    to_runner_r, to_runner_w = os.pipe()
    from_runner_r, from_runner_w = os.pipe()
    argv = _limits_prefix(limits) + command(fds=(to_runner_r, from_runner_w), uid=uid)
    process = subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        pass_fds=(to_runner_r, from_runner_w), close_fds=True, start_new_session=True,
    )
    os.close(to_runner_r)
    os.close(from_runner_w)
    return process, to_runner_w, from_runner_r


def check() -> None:
    """Raise SandboxUnavailable (French message) unless a sandboxed Python runs here."""
    argv = command()
    probe = argv[: argv.index("-c") + 1] + ["import numpy; print('ok')"]
    try:
        done = subprocess.run(_limits_prefix(Limits()) + probe, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"le bac à sable ne démarre pas ({exc}).") from None
    if done.returncode != 0 or done.stdout.strip() != "ok":
        detail = (done.stderr.strip().splitlines() or ["sans message"])[-1]
        raise SandboxUnavailable(
            f"le bac à sable ne démarre pas ({detail}). Sur Ubuntu 24.04 et suivantes, les espaces de noms "
            "non privilégiés sont bloqués par AppArmor : lancez la correction en root ou installez le profil "
            "AppArmor de bubblewrap."
        )


# --------------------------------------------------------------------------
# Fast path: fork an already warm process (TensorFlow imported) into a fresh sandbox
# --------------------------------------------------------------------------

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x20000000, 0x40000000,
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 32, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
def fast_path_available() -> bool:
    """Namespaces and mounts need root; elsewhere bubblewrap starts a fresh interpreter."""
    return os.geteuid() == 0 and sys.platform.startswith("linux")


def name_process(name: str) -> None:
    """Name this process (``ps``, ``top``, ``perf`` show it): its role in a grading run."""
    try:
        _libc()[1].prctl(15, name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
    except OSError:
        pass


def die_with_parent() -> None:
    """Have the kernel kill this process when its parent ends."""
    _libc()[1].prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)


def _libc():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return ctypes, libc


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        errno = ctypes.get_errno()
        raise OSError(errno, f"{what} : {os.strerror(errno)}")


def _mount(libc, source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)), f"mount {target}")


def _enter_sandbox(read_fd: int, write_fd: int, limits: Limits, uid: int) -> None:
    """In the forked process (already the first process of its own PID namespace): new namespaces,
    a minimal read-only root, an unprivileged uid."""
    ctypes, libc = _libc()
    _check(libc.unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET), "unshare")
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    # A mount point shared by every sandbox: each one mounts its own tmpfs on it, in its own mount namespace.
    root = "/tmp/.autograder-root"
    os.makedirs(root, mode=0o700, exist_ok=True)
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    # /tmp first: a Python installed under /tmp (a checkout there) is bound inside it, not hidden by it.
    os.makedirs(f"{root}/tmp", exist_ok=True)
    _mount(libc, "tmpfs", f"{root}/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64m,mode=1777")
    for path in ["/usr", *_python_paths()]:
        target = root + path
        os.makedirs(target, exist_ok=True)
        _mount(libc, path, target, None, MS_BIND | MS_REC)
        _mount(libc, None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC | MS_NOSUID | MS_NODEV)
    for name in ("bin", "lib", "lib64", "sbin"):
        if os.path.exists(f"/usr/{name}"):
            os.symlink(f"usr/{name}", f"{root}/{name}")
    os.makedirs(f"{root}/etc", exist_ok=True)
    os.makedirs(f"{root}/dev", exist_ok=True)
    for device in ("null", "zero", "urandom", "random"):
        open(f"{root}/dev/{device}", "w").close()
        _mount(libc, f"/dev/{device}", f"{root}/dev/{device}", None, MS_BIND)
    os.makedirs(f"{root}/proc", exist_ok=True)
    _mount(libc, "proc", f"{root}/proc", "proc", MS_NOSUID | MS_NODEV)
    _mount(libc, None, root, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir("/tmp")
    libc.sethostname(b"sandbox", 7)
    # Descriptors: the protocol on 3 and 4, /dev/null for the rest. The pipe ends are first copied to free
    # numbers above every descriptor in use (fixed numbers could be one of the two ends themselves).
    import fcntl

    read_fd, write_fd = fcntl.fcntl(read_fd, fcntl.F_DUPFD, 64), fcntl.fcntl(write_fd, fcntl.F_DUPFD, 64)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.dup2(read_fd, 3)
    os.dup2(write_fd, 4)
    os.closerange(5, 65536)
    _set_limits(limits)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # from root to another uid: every capability is dropped
    libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)  # a change of uid cleared it
    _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    os.environ.clear()
    os.environ.update({
        "PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython", "PYTHONDONTWRITEBYTECODE": "1",
    })


def fork_runner(limits: Limits, uid: int) -> tuple[int, int, int]:
    """Fork this (warm) process into a fresh sandbox running the runner as ``uid``.

    Returns (pid to kill at the end, fd to write requests, fd to read answers). The caller
    must not hold any secret in memory yet: the forked process starts with a copy of it.

    The forked process is the first of a new PID namespace: every process it starts ends with it
    (a single fork of this large process; the namespace is entered for that fork only, and this
    process's next children are born in its own namespace again).
    """
    ctypes, libc = _libc()
    to_runner_r, to_runner_w = os.pipe()
    from_runner_r, from_runner_w = os.pipe()
    own_namespace = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        _check(libc.unshare(CLONE_NEWPID), "unshare")
        try:
            pid = os.fork()
        except BaseException:
            _check(libc.setns(own_namespace, CLONE_NEWPID), "setns")
            raise
        if pid:
            _check(libc.setns(own_namespace, CLONE_NEWPID), "setns")
    finally:
        os.close(own_namespace)
    if pid == 0:
        try:
            name_process("ag-sandbox")
            os.close(to_runner_w)
            os.close(from_runner_r)
            os.setsid()
            # Killed with the process that started it (the grader kills it on a total time-out),
            # and with it the whole sandbox: it is the first process of its PID namespace. (If that
            # process ended before this line, the runner reads the end of its requests and stops.)
            libc.prctl(PR_SET_PDEATHSIG, 9, 0, 0, 0)
            _enter_sandbox(to_runner_r, from_runner_w, limits, uid)
            from autograder.execution.runner import main

            main()
        finally:
            os._exit(0)
    os.close(to_runner_r)
    os.close(from_runner_w)
    return pid, to_runner_w, from_runner_r
