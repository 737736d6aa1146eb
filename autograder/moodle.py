"""Moodle: read the zip of « Télécharger tous les travaux remis », write a grading worksheet.

In the zip, each participant has a folder ``<Full Name>_<participant>_assignsubmission_file_``
holding the files they submitted. The worksheet uses the participant number to
match the grades back (« Importer une feuille d'évaluation »).
"""

from __future__ import annotations

import csv
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

FOLDER = re.compile(r"^(?P<name>.+?)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")


@dataclass(frozen=True)
class MoodleFile:
    """One file of a participant in a Moodle download."""

    full_name: str
    participant: str
    plugin: str  # "file" for uploaded files, "onlinetext" for text typed in Moodle
    name: str  # file name, as uploaded
    size: int
    timestamp: datetime  # when it was uploaded (UTC)
    member: zipfile.ZipInfo


def is_moodle_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and zipfile.is_zipfile(path)


def read_moodle_zip(path: Path, timezone: str = "Europe/Paris") -> tuple[list[MoodleFile], list[str]]:
    """Files of every participant, and the entries that do not follow Moodle's layout."""
    zone = ZoneInfo(timezone)
    files, strays = [], []
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            parts = member.filename.replace("\\", "/").split("/")
            match = FOLDER.match(parts[0]) if len(parts) >= 2 else None
            if not match:
                strays.append(member.filename)
                continue
            local = datetime(*member.date_time, tzinfo=zone)
            files.append(
                MoodleFile(
                    full_name=match["name"].strip(),
                    participant=match["participant"],
                    plugin=match["plugin"],
                    name=parts[-1],
                    size=member.file_size,
                    timestamp=local.astimezone(ZoneInfo("UTC")),
                    member=member,
                )
            )
    return files, strays


def read_member(path: Path, member: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """The bytes of one entry, never more than ``max_bytes`` + 1 (zip bombs stop there)."""
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        return handle.read(max_bytes + 1)


def write_worksheet(
    path: Path,
    rows: list[dict[str, str]],
    *,
    id_column: str,
    name_column: str,
    grade_column: str,
    modified_column: str,
    feedback_column: str,
) -> None:
    """A CSV in the format of Moodle's grading worksheet (« feuille d'évaluation »)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([id_column, name_column, grade_column, modified_column, feedback_column])
        for row in rows:
            writer.writerow([row["id"], row["name"], row["grade"], row["modified"], row["feedback"]])
