"""The course tree: where things are, which assignments exist."""

from __future__ import annotations

import json
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
    # NumPy's OpenBLAS otherwise starts a thread at import: the warm server that test processes are
    # forked from must have none (a fork copies a thread's locks, not the thread).
    "OPENBLAS_NUM_THREADS": "1",
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
    #: grade_id of every answer and test cell (they identify the assignment's notebooks).
    grade_ids: frozenset[str] = frozenset()


def _graded_ids(path: Path) -> set[str]:
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return set()
    ids = set()
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if (meta.get("grade") or meta.get("solution")) and meta.get("grade_id"):
            ids.add(meta["grade_id"])
    return ids


def find_assignments(source_dir: Path) -> dict[str, Assignment]:
    """Assignments of ``source_dir``, by name (folders holding at least one notebook)."""
    found: dict[str, Assignment] = {}
    if not source_dir.is_dir():
        return found
    for folder in sorted(p for p in source_dir.iterdir() if p.is_dir()):
        paths = sorted(folder.glob("*.ipynb"))
        if paths and not folder.name.startswith("."):
            ids = frozenset().union(*(_graded_ids(p) for p in paths))
            found[folder.name] = Assignment(folder.name, tuple(p.name for p in paths), ids)
    return found


def identify(grade_ids: set[str], assignments: dict[str, Assignment]) -> str | None:
    """The assignment a notebook belongs to, from the grade_ids of its cells (None if unknown)."""
    scores = {name: len(grade_ids & a.grade_ids) for name, a in assignments.items()}
    best = max(scores.values(), default=0)
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if best > 0 and len(winners) == 1 else None
