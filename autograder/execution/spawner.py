"""The spawner of a test process: forks each student's sandboxed process from a copy that never held a test.

A test process that grades one copy after another holds hidden tests after its first copy: a
student's process forked from it would start with a copy of them in memory. So, before it receives
anything, the test process forks a spawner: a small loop that holds no test, ever, and forks each
student's process into its sandbox on request (sandbox.fork_runner), then hands the new process's
pid and pipe ends to the test process over a Unix socket (descriptors passed with SCM_RIGHTS). It
reaps the processes it forked, and dies with the test process (so do they: each is the first
process of its PID namespace, killed with its parent).
"""

from __future__ import annotations

import json
import os
import socket

from autograder.execution import sandbox

#: Bytes a request or an answer may take.
MESSAGE_SIZE = 4096


class SpawnerGone(Exception):
    """The spawner does not answer (killed, or failed); the message is French."""


def _reap() -> None:
    """Collect the student processes that have ended (their parent is the spawner)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _serve(channel: socket.socket) -> None:
    """The spawner's loop: one request, one forked student's process, until the test process goes."""
    sandbox.name_process("ag-spawner")
    sandbox.die_with_parent()
    while True:
        try:
            request = channel.recv(MESSAGE_SIZE)
        except OSError:
            return
        if not request:
            return
        _reap()
        try:
            asked = json.loads(request)
            limits = sandbox.Limits(**asked["limits"])
            pid, write_fd, read_fd = sandbox.fork_runner(limits, int(asked["uid"]))
        except Exception as exc:  # noqa: BLE001 - the test process gets the reason, the loop goes on
            channel.send(json.dumps({"error": f"{type(exc).__name__} : {exc}"[:500]}).encode())
            continue
        try:
            socket.send_fds(channel, [json.dumps({"pid": pid}).encode()], [write_fd, read_fd])
        finally:
            os.close(write_fd)
            os.close(read_fd)


class Spawner:
    """The test process's end of its spawner (fork it before the first test arrives)."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                ours.close()
                _serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid, self.channel = pid, ours

    def fork_student(self, limits: sandbox.Limits, uid: int) -> tuple[int, int, int]:
        """A new student's process in its sandbox, running as ``uid``: (pid, fd to write, fd to read)."""
        request = {"limits": {name: getattr(limits, name) for name in limits.__dataclass_fields__}, "uid": uid}
        try:
            self.channel.send(json.dumps(request).encode())
            message, fds, _, _ = socket.recv_fds(self.channel, MESSAGE_SIZE, 2)
        except OSError as exc:
            raise SpawnerGone(f"le lanceur des processus isolés ne répond plus ({exc})") from None
        try:
            answer = json.loads(message or b"{}")
        except ValueError:
            answer = {}
        if len(fds) != 2 or "pid" not in answer:
            for fd in fds:
                os.close(fd)
            raise SpawnerGone(str(answer.get("error") or "le lanceur des processus isolés s'est arrêté"))
        return int(answer["pid"]), fds[0], fds[1]

    def close(self) -> None:
        self.channel.close()
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
