"""The course tree: where things are, which assignments exist."""

from __future__ import annotations

import os
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


def quiet_tensorflow() -> None:
    """Set :data:`TF_QUIET_ENV` in this process (inherited by the kernels it starts)."""
    for key, value in TF_QUIET_ENV.items():
        os.environ.setdefault(key, value)


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
