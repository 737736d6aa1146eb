"""Who handed in each folder of a Moodle download: participant number first, then e-mail, then name.

The participant number of a folder is the key. With the grading worksheet exported by Moodle,
it gives the participant's full name and e-mail address, and the class list is matched on the
e-mail; without it, on the full name, and only when exactly one student of the class list has
that name. A name is never guessed: homonyms are graded under an id that says so. Two
participants never share a student id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from autograder.submissions.moodle import ANONYMOUS, DEFAULT_GROUP, MoodleFile, folder_name_key
from autograder.submissions.moodle_worksheet import Worksheet
from autograder.submissions.roster import Roster, Student, slug


@dataclass(frozen=True)
class MoodleLink:
    """What ties a graded copy back to Moodle: the download's folder and the participants it grades."""

    zip: Path
    folder: str
    participants: tuple[str, ...]
    names: tuple[str, ...]
    group: str | None = None
    worksheet: Path | None = None


@dataclass
class Identified:
    """The student id a folder is graded under, what links it to Moodle, and what to tell about it."""

    student: Student
    link: MoodleLink
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    ambiguity: str | None = None


def choose_worksheet(files: list[MoodleFile], worksheets: list[Worksheet]) -> Worksheet | None:
    """The worksheet of the same assignment as a download: the one that knows most of its folders."""
    def score(sheet: Worksheet) -> int:
        known = set(sheet.participants)
        groups = {folder_name_key(sheet.group_of(p)) for p in known if sheet.group_of(p)}
        return sum(1 for f in {(f.number, f.name_part) for f in files}
                   if f[0] in known or folder_name_key(f[1]) in groups)

    scored = [(score(sheet), index) for index, sheet in enumerate(worksheets)]
    best = max(scored, default=(0, -1))
    return worksheets[best[1]] if best[0] > 0 else None


def _from_class_list(roster: Roster | None, email: str, name: str) -> tuple[Student | None, list[Student]]:
    """The class-list student of this e-mail (or else this name), and the homonyms if the name is ambiguous."""
    if roster is None:
        return None, []
    if email:
        student = roster.by_email(email)
        if student is not None:
            return student, []
    if not name or name == ANONYMOUS:
        return None, []
    named = roster.named(name)
    return (named[0], []) if len(named) == 1 else (None, named)


def identify_folders(
    zip_path: Path, files: list[MoodleFile], roster: Roster | None, worksheet: Worksheet | None,
    taken: set[str],
) -> dict[str, Identified]:
    """Identify every folder of a download; ``taken``: student ids already used (updated)."""
    found: dict[str, Identified] = {}
    sheet_path = worksheet.path if worksheet else None
    # Ids made here never take a class-list id (it belongs to someone else).
    avoid = set(roster.students) if roster else set()
    group_names: dict[str, list[str]] = {}
    if worksheet is not None and "group" in worksheet.columns:
        for number in worksheet.participants:
            group_names.setdefault(folder_name_key(worksheet.group_of(number)), []).append(number)
    # One person (or group) may have several folders, one per submission plugin (file, online text):
    # they are identified once, by the folder of their files when there is one.
    prefixes: dict[tuple[str | None, str], list[MoodleFile]] = {}
    for item in files:
        prefixes.setdefault((item.number, item.name_part), []).append(item)
    for same in prefixes.values():
        item = next((f for f in same if f.plugin == "file"), same[0])
        if item.folder in found:
            continue
        key = folder_name_key(item.name_part)
        is_default = item.number is None and key in {folder_name_key(n) for n in DEFAULT_GROUP}
        if worksheet is not None and (item.number is None or key in group_names) and (
            key in group_names or is_default
        ):
            members = group_names.get(key) or [
                n for name in DEFAULT_GROUP for n in group_names.get(folder_name_key(name), [])
            ]
            found[item.folder] = _group(zip_path, item, worksheet, members, taken, avoid, sheet_path)
            continue
        if item.number is None:
            group_student = Student(id=_unique(f"groupe-{slug(item.name_part)}", taken, avoid))
            taken.add(group_student.id)
            found[item.folder] = Identified(
                group_student,
                MoodleLink(zip_path, item.folder, (), (), item.name_part, sheet_path),
                problem=(
                    f"rendu de groupe « {item.name_part} » sans numéro : ses membres ne peuvent être connus que "
                    "par la feuille d'évaluation du devoir (--moodle-worksheet)."
                ),
            )
            continue
        found[item.folder] = _participant(zip_path, item, roster, worksheet, taken, avoid, sheet_path)
    for same in prefixes.values():
        chosen = next(found[f.folder] for f in same if f.folder in found)
        for other in same:
            found.setdefault(other.folder, chosen)
    return found


def _participant(
    zip_path: Path, item: MoodleFile, roster: Roster | None, worksheet: Worksheet | None, taken: set[str],
    avoid: set[str], sheet_path: Path | None,
) -> Identified:
    number = str(item.number)
    in_sheet = worksheet is not None and number in worksheet.by_participant
    name = worksheet.value(number, "name") if in_sheet else ""
    name = name or item.name_part
    email = worksheet.value(number, "email") if in_sheet else ""
    notes = []
    if worksheet is not None and not in_sheet:
        notes.append(f"participant {number} absent de la feuille d'évaluation « {worksheet.path.name} »")
    student, homonyms = _from_class_list(roster, email, name)
    ambiguity = None
    if student is None:
        if homonyms:
            base = f"homonyme-{slug(name)}-{number}"
            ambiguity = (
                f"« {name} » (participant {number}) : {len(homonyms)} personnes de ce nom dans la liste de la classe ("
                + ", ".join(s.id for s in homonyms) + ") ; rendu corrigé sous un identifiant à part, à rattacher à la main"
            )
            notes.append("homonymes dans la liste de la classe : identité à vérifier")
        elif name == ANONYMOUS or not name:
            base = f"participant-{number}"
        else:
            base = f"{slug(name)}-{number}"
            if roster is not None:
                notes.append("nom absent de la liste de la classe")
        student = Student(id=_unique(base, taken, avoid), last_name=name, email=email)
    elif student.id in taken:
        # Two folders resolve to one person of the class list: never merge them silently.
        ambiguity = f"participant {number} et un autre dossier désignent tous deux « {student.id} »"
        student = Student(id=_unique(f"{student.id}-{number}", taken, avoid), last_name=name, email=email)
        notes.append("deux dossiers pour une même personne de la liste de la classe : identité à vérifier")
    taken.add(student.id)
    link = MoodleLink(zip_path, item.folder, (number,), (name,), None, sheet_path)
    return Identified(student, link, notes, ambiguity=ambiguity)


def _group(
    zip_path: Path, item: MoodleFile, worksheet: Worksheet, members: list[str], taken: set[str],
    avoid: set[str], sheet_path: Path | None,
) -> Identified:
    group_id = item.number or "defaut"
    student = Student(id=_unique(f"groupe-{slug(item.name_part)}-{group_id}", taken, avoid),
                      last_name=item.name_part)
    taken.add(student.id)
    names = tuple(worksheet.value(n, "name") for n in members)
    link = MoodleLink(zip_path, item.folder, tuple(members), names, item.name_part, sheet_path)
    notes = [f"rendu du groupe « {item.name_part} » : la note vaut pour ses {len(members)} membre(s)"]
    problem = None if members else (
        f"groupe « {item.name_part} » : aucun membre dans la feuille d'évaluation « {worksheet.path.name} »."
    )
    return Identified(student, link, notes, problem=problem)


def _unique(base: str, taken: set[str], avoid: set[str] = frozenset()) -> str:
    candidate, index = base, 2
    while candidate in taken or candidate in avoid:
        candidate, index = f"{base}-{index}", index + 1
    return candidate
