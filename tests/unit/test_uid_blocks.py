"""Blocks of sandbox uids: two gradings on one machine at the same time never share a uid."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from autograder.execution import sandbox, uid_blocks

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox uids are claimed only as root")

#: Claims a block as a grading run does, prints it, and holds it until its input ends.
HOLDER = (
    "import sys\n"
    "from autograder.execution import uid_blocks\n"
    "print(uid_blocks.claim_uid_block(inherited={inherited}), uid_blocks.uid_base(), flush=True)\n"
    "sys.stdin.read()\n"
)


def _holder(inherited: bool = False, **env: str) -> tuple[subprocess.Popen, int, int]:
    process = subprocess.Popen([sys.executable, "-c", HOLDER.format(inherited=inherited)], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env={**os.environ, **env})
    block, base = (int(v) for v in process.stdout.readline().split())
    return process, block, base


def _release(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.stdin.close()
        process.wait(30)


def test_when_two_runs_claim_uids_at_the_same_time_then_their_blocks_and_uids_differ():
    first, block_1, base_1 = _holder()
    second, block_2, base_2 = _holder()
    try:
        assert block_1 != block_2
        assert uid_blocks.sandbox_uids(8, base_1).isdisjoint(uid_blocks.sandbox_uids(8, base_2))
        # Neither holds the block of this test session (claimed by conftest for its own gradings).
        assert int(os.environ[uid_blocks.UID_BLOCK_ENV]) not in {block_1, block_2}
    finally:
        _release(first, second)
    # A block is free again once the run that held it has ended.
    third, block_3, _ = _holder()
    _release(third)
    assert block_3 == min(block_1, block_2)


def test_when_a_parent_gives_its_block_then_its_commands_use_it_and_a_dask_worker_claims_its_own():
    session = int(os.environ[uid_blocks.UID_BLOCK_ENV])
    child, block, base = _holder(inherited=True)
    worker, worker_block, _ = _holder(inherited=False)
    _release(child, worker)
    assert (block, base) == (session, uid_blocks.SLOT_UID_BASE + uid_blocks.UID_BLOCK_SIZE * session)
    assert worker_block != session


def test_a_block_holds_a_uid_per_slot_and_one_for_the_process_that_follows_a_crash():
    base = uid_blocks.SLOT_UID_BASE + 3 * uid_blocks.UID_BLOCK_SIZE
    uids = uid_blocks.sandbox_uids(2, base)
    assert uids == {base, base + 1, base + uid_blocks.UID_BLOCK_SIZE - 1}
    assert max(uid_blocks.sandbox_uids(10_000, base)) < base + uid_blocks.UID_BLOCK_SIZE  # never into the next block
    assert sandbox.NOBODY not in uids
