"""The course tree: where things are, which assignments exist."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

#: Root of the course repository (holds nbgrader_config.py, source/, release/).
REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment every TensorFlow process of the course needs (see nbgrader_config.py).
TF_QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
}


def prepare_environment() -> None:
    """Environment for nbgrader and the kernels it starts (inherited by child processes).

    TensorFlow is kept quiet (:data:`TF_QUIET_ENV`), and the directory of this
    Python's executables goes first on PATH: nbgrader runs ``alembic`` when it
    creates a gradebook.
    """
    for key, value in TF_QUIET_ENV.items():
        os.environ.setdefault(key, value)
    bin_dir = os.path.dirname(sys.executable)
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + path


@dataclass(frozen=True)
class Assignment:
    """An nbgrader assignment: a folder of source/ and its notebooks."""

    name: str
    notebooks: tuple[str, ...]


def find_assignments(source_dir: Path) -> dict[str, Assignment]:
    """Assignments of ``source_dir``, by name (folders holding at least one notebook)."""
    found: dict[str, Assignment] = {}
    if not source_dir.is_dir():
        return found
    for folder in sorted(p for p in source_dir.iterdir() if p.is_dir()):
        notebooks = tuple(sorted(p.name for p in folder.glob("*.ipynb")))
        if notebooks and not folder.name.startswith("."):
            found[folder.name] = Assignment(folder.name, notebooks)
    return found
