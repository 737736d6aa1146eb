"""The class list: student ids and names, in the CSV format of ``nbgrader db student import``.

Columns: ``id`` (required), ``last_name``, ``first_name``, ``email``, ``lms_user_id``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path


class RosterError(Exception):
    """The class list cannot be read; the message is French."""


@dataclass(frozen=True)
class Student:
    id: str
    last_name: str = ""
    first_name: str = ""
    email: str = ""
    lms_user_id: str = ""


def name_key(name: str) -> str:
    """Order-, case- and accent-insensitive key of a full name.

    The characters Moodle's ``clean_filename`` removes from folder names are removed first, so that
    « Jeanne D'Arc » of a class list matches the « Jeanne DArc » of a download.
    """
    text = unicodedata.normalize("NFKD", re.sub(r"[&<>\"`|':\\/’]", "", name))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(sorted(re.findall(r"[a-z0-9]+", text)))


def slug(name: str) -> str:
    """A student id made from a name: lower case, no accents, words joined by dashes."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return "-".join(re.findall(r"[a-z0-9]+", text)) or "etudiant"


class Roster:
    """Students of the class, found by id or by full name."""

    def __init__(self, students: list[Student]) -> None:
        self.students = {s.id: s for s in students}
        self._by_name: dict[str, list[Student]] = {}
        for student in students:
            key = name_key(f"{student.first_name} {student.last_name}")
            if key:
                self._by_name.setdefault(key, []).append(student)

    @classmethod
    def load(cls, path: Path) -> "Roster":
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                sample = handle.read(4096)
                handle.seek(0)
                try:
                    dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample else csv.excel
                except csv.Error:  # one column (« id » alone): no delimiter to find
                    dialect = csv.excel
                rows = list(csv.DictReader(handle, dialect=dialect))
        except FileNotFoundError:
            raise RosterError(f"La liste de la classe « {path} » n'existe pas.") from None
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise RosterError(f"La liste de la classe « {path} » est illisible : {exc}.") from None
        if rows and "id" not in rows[0]:
            raise RosterError(
                f"La liste de la classe « {path} » doit avoir une colonne « id » "
                "(colonnes reconnues : id, last_name, first_name, email, lms_user_id)."
            )
        students = [
            Student(
                id=row["id"].strip(),
                last_name=(row.get("last_name") or "").strip(),
                first_name=(row.get("first_name") or "").strip(),
                email=(row.get("email") or "").strip(),
                lms_user_id=(row.get("lms_user_id") or "").strip(),
            )
            for row in rows
            if (row.get("id") or "").strip()
        ]
        return cls(students)

    def by_name(self, full_name: str) -> Student | None:
        """The only student with this full name (any order of first and last names), or None."""
        matches = self.named(full_name)
        return matches[0] if len(matches) == 1 else None

    def named(self, full_name: str) -> list[Student]:
        """Every student with this full name (homonyms included)."""
        return list(self._by_name.get(name_key(full_name), []))

    def by_email(self, email: str) -> Student | None:
        """The student with this e-mail address (case-insensitive), or None."""
        wanted = email.strip().casefold()
        matches = [s for s in self.students.values() if wanted and s.email.strip().casefold() == wanted]
        return matches[0] if len(matches) == 1 else None

    def __contains__(self, student_id: str) -> bool:
        return student_id in self.students
