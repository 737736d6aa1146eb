"""Shared fixtures of the test suite."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT, prepare_environment

prepare_environment()


def pytest_configure(config: pytest.Config) -> None:
    # Build matplotlib's font cache now: on a fresh machine the first import in a
    # kernel would print "Matplotlib is building the font cache" to stderr.
    import matplotlib.font_manager  # noqa: F401
    import os

    from autograder.execution import sandbox

    # One block of sandbox uids for the session, claimed here and given to every grading it starts (in this
    # process or in a command it runs): the session's gradings run one after the other, and another
    # session (the other group of make test) claims another block, so both may grade at the same time.
    os.environ[sandbox.UID_BLOCK_ENV] = str(sandbox.claim_uid_block(inherited=False))


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    """Grade the demo submissions once for the whole session (from a copy)."""
    from autograder.grading.pipeline import run

    base = tmp_path_factory.mktemp("demo")
    submissions = base / "submitted"
    shutil.copytree(REPO_ROOT / "demo" / "submitted", submissions)
    before = tree_digest(submissions)
    tracked_before = {name: tree_digest(REPO_ROOT / name) for name in ("source", "release", "demo", "course")}
    result = run(submissions, base / "out")
    return {
        "result": result,
        "submissions": submissions,
        "submissions_before": before,
        "tracked_before": tracked_before,
    }
