"""Shared fixtures of the test suite."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from autograder.course import REPO_ROOT, prepare_environment

prepare_environment()


#: make test runs the suite in two groups at the same time, one per core (``--groupe 1`` and ``--groupe 2``).
#: The first: the tests that grade in the sandbox or drive a browser or the hub, but the Dask cluster's; files
#: are moved from one group to the other below so that both take about as long.
SECOND_GROUP_FILES = {"test_trust.py", "test_pipeline.py", "test_tape_verdict.py", "test_bench.py", "test_pages.py",
                      "test_structures.py", "test_record.py", "test_moodle.py"}
FIRST_GROUP_FILES = {"test_standalone.py", "test_warm_kernel.py"}
FIRST_GROUP_MARKERS = {"sandbox", "hub", "browser"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--groupe", choices=("1", "2"), default=None,
                     help="one of make test's two groups of tests (run at the same time)")


def in_first_group(item: pytest.Item) -> bool:
    if item.path.suffix == ".ipynb":  # nbval's notebooks: each group's command names its own folder
        return item.config.getoption("--groupe") == "1"
    if item.path.name in FIRST_GROUP_FILES or item.path.name in SECOND_GROUP_FILES:
        return item.path.name in FIRST_GROUP_FILES
    markers = {mark.name for mark in item.iter_markers()}
    return bool(markers & FIRST_GROUP_MARKERS) and "cluster" not in markers


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    group = config.getoption("--groupe")
    if group is None:
        return
    kept, left = [], []
    for item in items:
        (kept if in_first_group(item) == (group == "1") else left).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


def pytest_configure(config: pytest.Config) -> None:
    # Build matplotlib's font cache now: on a fresh machine the first import in a
    # kernel would print "Matplotlib is building the font cache" to stderr.
    import matplotlib.font_manager  # noqa: F401
    import os

    from autograder.execution import uid_blocks

    # One block of sandbox uids for the session, claimed here and given to every grading it starts (in this
    # process or in a command it runs): the session's gradings run one after the other, and another
    # session (the other group of make test) claims another block, so both may grade at the same time.
    os.environ[uid_blocks.UID_BLOCK_ENV] = str(uid_blocks.claim_uid_block(inherited=False))

    # The kernels this session starts (plain nbgrader, released folders run alone, test_warm_kernel's)
    # are forked from a process that imported TensorFlow once (coursetools/warm_kernel.py). JupyterLab
    # and the hub, other processes, start theirs as usual.
    from coursetools.warm_kernel import use_warm_kernels

    use_warm_kernels()


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
