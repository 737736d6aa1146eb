"""The grading output folder: proof that it belongs to a grading run, a lock, and safe resets.

A folder becomes a grading workspace when a run creates it (or finds it empty) and writes its
marker. The tool never empties or writes into a non-empty folder without that marker, never
works in a folder that overlaps the course or a source of submissions, and holds a lock for
the whole run so that two runs on the same folder cannot interleave.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

#: The folder of the grader's own files inside a workspace.
STATE = Path(".correction")
MARKER = STATE / "dossier-de-correction.json"
LOCK = STATE / "verrou"
JOURNAL = STATE / "journal.json"

#: Working data of a grading run, deleted by a reset (the marker and the lock stay).
WORKING_DATA = ("submitted", "autograded", "feedback", "release", "source", "gradebook.db", "grades.csv",
                "rapport.html", "moodle", "nbgrader_config.py", str(JOURNAL))

#: Inside the course, only this folder may hold grading workspaces (it is not part of the course).
SCRATCH = "build"


class WorkspaceError(Exception):
    """The output folder cannot be used; the message is French and meant for the instructor."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_location(workspace: Path, course_root: Path, sources: list[Path]) -> None:
    """Refuse an output folder that overlaps the course or a source of submissions (either way round)."""
    for source in sources:
        if _inside(workspace, source) or (source.is_dir() and _inside(source, workspace)) or (
            source.is_file() and _inside(source, workspace)
        ):
            raise WorkspaceError(
                f"Le dossier de sortie « {workspace} » et la source de rendus « {source} » se recouvrent : "
                "choisissez un dossier de sortie à part (les rendus ne sont jamais placés dans le dossier de "
                "sortie, ni l'inverse)."
            )
    if _inside(course_root, workspace):
        raise WorkspaceError(
            f"Le dossier de sortie « {workspace} » contient le cours « {course_root} » : choisissez un dossier "
            "à part, par exemple un dossier vide à côté du cours."
        )
    if _inside(workspace, course_root) and not _inside(workspace, course_root / SCRATCH):
        raise WorkspaceError(
            f"Le dossier de sortie « {workspace} » est à l'intérieur du cours « {course_root} » : choisissez un "
            f"dossier hors du cours, ou un sous-dossier de « {course_root / SCRATCH} »."
        )


def is_workspace(folder: Path) -> bool:
    """Whether ``folder`` was made by a grading run (its marker, or the journal of an earlier version)."""
    return (folder / MARKER).is_file() or (folder / JOURNAL).is_file()


def claim(workspace: Path) -> None:
    """Make ``workspace`` a grading workspace, or refuse a non-empty folder that is not one."""
    if workspace.exists() and not workspace.is_dir():
        raise WorkspaceError(f"Le dossier de sortie « {workspace} » est un fichier, pas un dossier.")
    if workspace.is_dir() and not is_workspace(workspace) and any(workspace.iterdir()):
        raise WorkspaceError(
            f"Le dossier de sortie « {workspace} » n'est pas vide et ne vient pas d'une correction : il n'est "
            "ni vidé ni modifié. Choisissez un dossier vide ou un nouveau nom de dossier."
        )
    (workspace / STATE).mkdir(parents=True, exist_ok=True)
    if not (workspace / MARKER).is_file():
        (workspace / MARKER).write_text(json.dumps({
            "role": "dossier de sortie d'une correction du cours « Dérivation automatique avec tf.GradientTape »",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


class Lock:
    """An exclusive lock on a workspace for the length of a run (released if the process dies)."""

    def __init__(self, workspace: Path) -> None:
        self.path = workspace / LOCK
        self.handle: IO[str] | None = None

    def __enter__(self) -> "Lock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "un autre processus"
            handle.close()
            raise WorkspaceError(
                f"Une autre correction est en cours dans « {self.path.parent.parent} » ({holder}) : attendez "
                "qu'elle se termine, ou choisissez un autre dossier de sortie."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"processus {os.getpid()} sur {socket.gethostname()}, "
                     f"depuis le {datetime.now().strftime('%d/%m/%Y à %H:%M:%S')}\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, *exc: object) -> None:
        if self.handle is not None:
            self.handle.seek(0)
            self.handle.truncate()
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def reset(workspace: Path) -> None:
    """Delete the working data of earlier runs (grades, manual grades included); only in a workspace."""
    if not is_workspace(workspace):
        raise WorkspaceError(f"« {workspace} » n'est pas un dossier de correction : rien n'est effacé.")
    for name in WORKING_DATA:
        path = workspace / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
