"""Collect submissions: check each notebook, copy the readable ones into submitted/.

Input layout (nbgrader's): ``<submissions>/<student_id>/<assignment>/<notebook>.ipynb``.
The submitted files are only read, never modified.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .course import Assignment

#: Default size limit of one submitted notebook.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """A submission that cannot be graded, with the reason in French."""

    student_id: str
    assignment: str
    message: str


@dataclass
class Collection:
    """What collect found: gradable (student, assignment) pairs and problems."""

    ready: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def check_notebook(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str | None:
    """Return a French reason why ``path`` is not a gradable notebook, or None if it is."""
    size = path.stat().st_size
    if size > max_bytes:
        return (
            f"le fichier « {path.name} » est trop volumineux ({size / 1e6:.1f} Mo, "
            f"limite : {max_bytes / 1e6:.0f} Mo)."
        )
    if size == 0:
        return f"le fichier « {path.name} » est vide."
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"le fichier « {path.name} » n'est pas un texte UTF-8 : ce n'est pas un carnet Jupyter."
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            f"le fichier « {path.name} » n'est pas un carnet Jupyter lisible : JSON invalide "
            f"(ligne {exc.lineno}, colonne {exc.colno}). Le fichier a peut-être été tronqué "
            "ou modifié hors de JupyterLab."
        )
    if not isinstance(data, dict) or "cells" not in data:
        return f"le fichier « {path.name} » est un JSON, mais pas un carnet Jupyter (aucune liste de cellules)."
    try:
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
    except Exception as exc:  # noqa: BLE001 - nbformat raises several types
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return f"le fichier « {path.name} » ne respecte pas le format des carnets Jupyter ({first})."
    return None


def collect(
    submissions: Path,
    submitted: Path,
    assignments: dict[str, Assignment],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Collection:
    """Check every submission of ``submissions`` and copy the gradable ones into ``submitted``.

    ``submitted`` is rebuilt from scratch unless it is ``submissions`` itself
    (then nothing is copied).
    """
    in_place = submissions.resolve() == submitted.resolve()
    if not in_place and submitted.exists():
        shutil.rmtree(submitted)
    result = Collection()
    students = sorted(p for p in submissions.iterdir() if p.is_dir() and not p.name.startswith("."))
    for student_dir in students:
        student = student_dir.name
        for assignment_dir in sorted(p for p in student_dir.iterdir() if p.is_dir() and not p.name.startswith(".")):
            name = assignment_dir.name
            if name not in assignments:
                known = ", ".join(sorted(assignments)) or "aucun"
                result.problems.append(
                    Problem(student, name, f"devoir inconnu « {name} » (devoirs du cours : {known}).")
                )
                continue
            reasons = []
            for notebook in assignments[name].notebooks:
                path = assignment_dir / notebook
                if not path.is_file():
                    received = sorted(p.name for p in assignment_dir.iterdir() if p.is_file())
                    listing = ", ".join(f"« {r} »" for r in received) or "aucun fichier"
                    reasons.append(f"carnet « {notebook} » introuvable (reçu : {listing}).")
                    continue
                reason = check_notebook(path, max_bytes)
                if reason:
                    reasons.append(reason)
            if reasons:
                result.problems.append(Problem(student, name, " ".join(r[0].upper() + r[1:] for r in reasons)))
                continue
            if not in_place:
                target = submitted / student / name
                target.mkdir(parents=True, exist_ok=True)
                for notebook in assignments[name].notebooks:
                    shutil.copyfile(assignment_dir / notebook, target / notebook)
                timestamp = assignment_dir / "timestamp.txt"
                if timestamp.is_file():
                    shutil.copyfile(timestamp, target / "timestamp.txt")
            result.ready.append((student, name))
    return result
