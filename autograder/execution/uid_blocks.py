"""Blocks of sandbox uids: two gradings on one machine at the same time never share a uid.

As root, each student's process runs as a uid of its own run's block (the grader forks it into its
sandbox as that uid, see sandbox.fork_runner); without root, bubblewrap maps its user onto the
grader's own and the blocks do not matter.
"""

from __future__ import annotations

import os
from pathlib import Path

from autograder.execution.sandbox import SandboxUnavailable

#: The sandboxes' uids, as root: blocks of UID_BLOCK_SIZE uids from SLOT_UID_BASE. A grading run (or a
#: Dask worker process) claims a block of its own for its whole life: two runs on the same machine at the
#: same time never share a uid, so that a student's code can neither signal nor trace another run's
#: processes. In a block, slot n (a copy graded at the same time as others) runs as base + n, and the
#: student's process that follows a crash as base + UID_BLOCK_SIZE - 1.
SLOT_UID_BASE = 61000
UID_BLOCK_SIZE = 64
UID_BLOCKS = 32
#: Slots a block holds (its last uid is the restart uid: the process that follows a crash).
MAX_SLOTS = UID_BLOCK_SIZE - 1
#: The block claimed by a parent process for this whole process tree (a test session, say): its
#: children use it without claiming one (they run while the parent waits for them).
UID_BLOCK_ENV = "AUTOGRADER_UID_BLOCK"
#: Where the claims are held: a lock file per block, locked for the claiming process's life.
CLAIMS = Path("/run/autograder-sandbox")

_CLAIMED: dict[str, int] = {}  # "block" -> index of the block this process holds or was given
_CLAIM_FILES: list[int] = []  # descriptors of the held locks (kept open: the lock lives with them)


def _claims_folder() -> Path:
    folder = CLAIMS if os.access(CLAIMS.parent, os.W_OK) else Path("/var/lock/autograder-sandbox")
    folder.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if not os.path.isdir(folder) or os.path.islink(folder) or info.st_uid != 0 or info.st_mode & 0o022:
        raise SandboxUnavailable(f"le dossier des identifiants du bac à sable « {folder} » n'est pas sûr "
                                 "(il doit appartenir à root, sans droit d'écriture pour les autres).")
    return folder


def claim_uid_block(inherited: bool = True) -> int:
    """The index of this process's block of sandbox uids: given by a parent (``inherited``) or claimed now.

    A claimed block stays this process's until it ends (an exclusive lock on its file); the first free
    block is taken. Without root the uids do not matter (a user namespace maps them to the grader's own):
    block 0, nothing claimed.
    """
    if "block" in _CLAIMED:
        return _CLAIMED["block"]
    given = os.environ.get(UID_BLOCK_ENV, "") if inherited else ""
    if given.isdigit() and int(given) < UID_BLOCKS:
        _CLAIMED["block"] = int(given)
        return _CLAIMED["block"]
    if os.geteuid() != 0:
        _CLAIMED["block"] = 0
        return 0
    import fcntl

    folder = _claims_folder()
    for index in range(UID_BLOCKS):
        fd = os.open(folder / f"bloc-{index}.verrou", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        _CLAIM_FILES.append(fd)
        _CLAIMED["block"] = index
        return index
    raise SandboxUnavailable(
        f"les {UID_BLOCKS} blocs d'identifiants du bac à sable sont tous pris par d'autres corrections en cours "
        "sur cette machine : attendez la fin de l'une d'elles."
    )


def uid_base(inherited: bool = True) -> int:
    """The first uid of this process's block (claimed at the first call)."""
    return SLOT_UID_BASE + UID_BLOCK_SIZE * claim_uid_block(inherited)


def restart_uid(base: int) -> int:
    """The uid of the student's process that follows a crash, in the block starting at ``base``."""
    return base + UID_BLOCK_SIZE - 1


def sandbox_uids(workers: int, base: int | None = None) -> set[int]:
    """Host uids of the student's processes in a run of ``workers`` submissions at a time.

    As root: the run's block (``base``, by default this process's): one uid per slot on the fast path,
    and the block's last uid for the process that follows a crash (after a cell killed its
    process). Otherwise bubblewrap maps its user onto the grader's own uid (a user namespace): seen from
    the host, the student's processes then share the grader's uid.
    """
    if os.geteuid() == 0:
        base = uid_base() if base is None else base
        return {base + slot for slot in range(min(workers, MAX_SLOTS))} | {restart_uid(base)}
    return {os.geteuid()}
