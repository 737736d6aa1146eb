"""What a grading folder remembers between runs: which copy was graded with what.

Each graded copy is recorded with a fingerprint: the digest of the submitted files, of the
assignment's source and of the grader (its code, configuration and versions). A copy whose
fingerprint has not changed is not graded again (an interrupted run resumes); a grading failure
is never recorded, so the next run grades it again.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from traitlets.config import Config

from autograder.grading.workspace import JOURNAL


def assignment_digest(folder: Path) -> str:
    """A digest of an assignment's files (the copy of the check library beside them is the grader's code)."""
    digest = hashlib.sha256()
    ignored = {".ipynb_checkpoints", "autograder", "__pycache__"}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not ignored & set(p.relative_to(folder).parts)):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def grader_digest(config: Config, course_root: Path, sandboxed: bool) -> str:
    """A digest of everything besides the copy and the assignment that decides a grade.

    The grading code (the autograder package, its templates), the course's nbgrader
    configuration as written and as loaded, the mode (sandbox or not) and the versions of
    nbgrader and TensorFlow: changing any of them makes the next run grade every copy again.
    """
    from importlib import metadata

    import autograder

    digest = hashlib.sha256()
    package = Path(autograder.__file__).resolve().parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in {".py", ".tpl", ".j2", ".css", ".html"}
                       and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    config_file = course_root / "nbgrader_config.py"
    digest.update(config_file.read_bytes() if config_file.is_file() else b"")
    loaded = {k: v for k, v in config.items() if k != "CourseDirectory"}
    digest.update(json.dumps(loaded, sort_keys=True, default=repr).encode())
    digest.update(f"sandboxed={sandboxed}".encode())
    for package_name in ("nbgrader", "tensorflow-cpu", "tensorflow", "numpy"):
        try:
            digest.update(f"{package_name}={metadata.version(package_name)}".encode())
        except metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()


def changed_assignments(workspace: Path, course_root: Path, db_url: str) -> list[str]:
    """Assignments graded earlier in ``workspace`` (or its gradebook, whatever its URL) whose source has changed since."""
    old, new = workspace / "source", course_root / "source"
    if not old.is_dir():
        return []
    changed = [
        folder.name for folder in old.iterdir()
        if folder.is_dir() and (new / folder.name).is_dir() and assignment_digest(folder) != assignment_digest(new / folder.name)
    ]
    if not changed:
        return []
    graded = {p.name for p in (workspace / "autograded").glob("*/*") if p.is_dir()}
    from nbgrader.api import Gradebook, MissingEntry

    try:
        with Gradebook(db_url) as gradebook:
            for name in changed:
                try:
                    if gradebook.find_assignment(name).submissions:
                        graded.add(name)
                except MissingEntry:
                    pass
    except Exception:  # noqa: BLE001 - an unreachable gradebook is reported later, by nbgrader itself
        pass
    return sorted(name for name in changed if name in graded)


class Journal:
    """The fingerprints of the copies graded in a folder (``.correction/journal.json``)."""

    def __init__(self, workspace: Path, *, grader: str, sources: dict[str, str], submissions: dict[tuple[str, str], str],
                 fresh: bool = False) -> None:
        """``grader``: grader_digest; ``sources``: assignment -> assignment_digest; ``submissions``:
        (student, assignment) -> digest of the submitted files; ``fresh``: ignore what was recorded."""
        self.path = workspace / JOURNAL
        self.workspace = workspace
        self._grader, self._sources, self._submissions = grader, sources, submissions
        self._entries: dict[str, dict] = {} if fresh else self._load()

    def _load(self) -> dict[str, dict]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def fingerprint(self, student: str, assignment: str) -> dict:
        return {"submission": self._submissions.get((student, assignment), ""), "source": self._sources[assignment],
                "grader": self._grader}

    def up_to_date(self, student: str, assignment: str) -> bool:
        """Graded earlier with the same files, assignment and grader (and its autograded copy is still there)."""
        previous = self._entries.get(f"{student}/{assignment}")
        return bool(previous) and previous.get("fingerprint") == self.fingerprint(student, assignment) and (
            self.workspace / "autograded" / student / assignment).is_dir()

    def graded(self, student: str, assignment: str) -> None:
        self._entries[f"{student}/{assignment}"] = {"fingerprint": self.fingerprint(student, assignment)}

    def forget(self, student: str, assignment: str) -> None:
        self._entries.pop(f"{student}/{assignment}", None)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self._entries, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)
