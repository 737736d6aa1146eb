"""What a student handed in, as found in the sources: nbgrader-style folders and Moodle downloads.

The data collect builds (``Received`` files, the ``Collection``, ``Problem`` copies) and the two
readers of sources. Submitted files are only read, never modified.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from autograder.submissions import identity, moodle, moodle_worksheet
from autograder.submissions.roster import Roster, Student

Key = tuple[str, str]  # (student_id, assignment)


@dataclass(frozen=True)
class Problem:
    """A submission that cannot be graded, with the reason in French."""

    student_id: str
    assignment: str
    message: str


@dataclass(frozen=True)
class Received:
    """One file a student handed in."""

    student_id: str
    assignment: str | None  # None: to be recognised from the notebook's cells
    name: str
    size: int
    timestamp: datetime | None
    read: Callable[[int], bytes]  # read(max_bytes) -> at most max_bytes + 1 bytes
    origin: str  # where it comes from, for messages


@dataclass
class Collection:
    """What collect found."""

    ready: list[Key] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: dict[Key, list[str]] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)
    moodle: dict[Key, "identity.MoodleLink"] = field(default_factory=dict)  # copies from a Moodle download
    blocked: dict[str, str] = field(default_factory=dict)  # student id -> why their copy cannot be graded
    ambiguities: list[str] = field(default_factory=list)  # identities to check by hand
    warnings: list[str] = field(default_factory=list)
    worksheets_used: set[Path] = field(default_factory=set)
    digests: dict[Key, str] = field(default_factory=dict)
    timestamps: dict[Key, datetime] = field(default_factory=dict)

    def note(self, key: Key, text: str) -> None:
        self.notes.setdefault(key, []).append(text)


class CollectError(Exception):
    """A source of submissions cannot be read at all; the message is French."""


# --------------------------------------------------------------------------
# Checking one notebook
# --------------------------------------------------------------------------




def read_timestamp(folder: Path) -> datetime | None:
    path = folder / "timestamp.txt"
    if not path.is_file():
        return None
    from nbgrader.utils import parse_utc

    try:
        return parse_utc(path.read_text(encoding="utf-8").strip()).replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, TypeError):
        return None


def file_reader(path: Path) -> Callable[[int], bytes]:
    def read(max_bytes: int) -> bytes:
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)

    return read


def listed(path: Path) -> bool:
    """Whether a folder is a student's or an assignment's: not hidden, not a Mac archive's « __MACOSX »."""
    return path.is_dir() and not path.name.startswith(".") and path.name != "__MACOSX"


def from_folder(root: Path, warnings: list[str] | None = None) -> list[Received]:
    """The files of a folder of submissions: ``<student>/<assignment>/<files>``.

    A notebook put directly in a student's folder (``<student>/<notebook>.ipynb``) is taken too: its
    assignment is recognised from its graded cells, as for a Moodle file. What cannot belong to a
    student (a notebook at the top of the folder) is named in ``warnings``.
    """
    received = []
    for path in sorted(p for p in root.iterdir() if p.is_file() and p.name.lower().endswith(".ipynb")):
        if warnings is not None:
            warnings.append(
                f"« {path.name} » ignoré : un carnet placé à la racine de « {root} » n'appartient à personne ; "
                f"rangez-le dans un dossier au nom de l'étudiant·e (« {root / 'identifiant' / path.name} »)."
            )
    for student_dir in sorted(p for p in root.iterdir() if listed(p)):
        for path in sorted(p for p in student_dir.iterdir() if p.is_file() and p.name.lower().endswith(".ipynb")
                           and not p.name.startswith(".")):
            received.append(Received(student_dir.name, None, path.name, path.stat().st_size, None,
                                     file_reader(path), str(path)))
        for assignment_dir in sorted(p for p in student_dir.iterdir() if listed(p)):
            stamp = read_timestamp(assignment_dir)
            files = sorted(
                p for p in assignment_dir.iterdir()
                if p.is_file() and not p.name.startswith(".") and p.name != "timestamp.txt"
            )
            if not files:
                received.append(Received(student_dir.name, assignment_dir.name, "", 0, stamp, lambda m: b"", str(assignment_dir)))
            for path in files:
                received.append(
                    Received(student_dir.name, assignment_dir.name, path.name, path.stat().st_size, stamp,
                             file_reader(path), str(path))
                )
    return received


def from_moodle(path: Path, roster: Roster | None, assignment: str | None, tz: str,
                 result: Collection, worksheets: list[moodle_worksheet.Worksheet]) -> list[Received]:
    files, strays = moodle.read_moodle_zip(path)
    if not files:
        raise CollectError(
            f"« {path.name} » n'est pas un téléchargement de devoir Moodle : aucun dossier ni fichier "
            "« Nom Prénom_12345_assignsubmission_file » dedans."
        )
    worksheet = identity.choose_worksheet(files, worksheets)
    if worksheet is None:
        result.warnings.append(
            f"« {path.name} » : sans la feuille d'évaluation Moodle du devoir (--moodle-worksheet), les retards ne "
            "sont pas calculés (les dates d'une archive Moodle sont celles du téléchargement) et les noms ne sont "
            "reliés à la liste de la classe que lorsqu'ils n'y sont pas ambigus."
        )
    else:
        result.worksheets_used.add(worksheet.path)
    taken = {s for s, _ in result.moodle} | set(result.blocked)
    found = identity.identify_folders(path, files, roster, worksheet, taken)
    received = []
    for item in files:
        who = found[item.folder]
        student_id = who.student.id
        result.students.setdefault(student_id, who.student)
        key = (student_id, assignment or "")
        result.moodle[key] = who.link
        for note in who.notes:
            if note not in result.notes.get(key, []):
                result.note(key, note)
        if who.ambiguity and who.ambiguity not in result.ambiguities:
            result.ambiguities.append(who.ambiguity)
        if who.problem:
            result.blocked[student_id] = who.problem
        if item.plugin != "file":
            note = f"texte saisi en ligne dans Moodle ignoré (« {item.name} ») : seul le carnet rendu est corrigé"
            if note not in result.notes.get(key, []):
                result.note(key, note)
            continue
        stamp = None
        if worksheet is not None and who.link.participants and who.link.participants[0] in worksheet.by_participant:
            stamp = worksheet.submitted_at(who.link.participants[0], tz)

        def read(max_bytes: int, member=item.member) -> bytes:
            return moodle.read_member(path, member, max_bytes)

        received.append(
            Received(student_id, assignment, item.name, item.size, stamp, read, f"{path.name} › {item.member.filename}")
        )
    return received
