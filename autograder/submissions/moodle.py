"""Moodle's formats, as Moodle's own code writes and reads them.

- The zip of « Télécharger tous les travaux remis » (``mod/assign/classes/downloader.php``):
  a folder ``<prefix>_assignsubmission_file`` per participant (Moodle ≥ 4.1; with a trailing
  ``_`` before 4.1), or flat entries ``<prefix>_assignsubmission_file_<file>`` when « download
  in folders » is off. The prefix is ``clean_filename(<full name> _ <participant number>)``, or,
  for group submissions, ``<group name>_<group id>`` (the default group has no number). Entry
  dates are the download time: they say nothing about when a file was handed in.
- The offline grading worksheet: see moodle_worksheet.py.
- The feedback zip (« Téléverser plusieurs fichiers de feedback dans un zip »,
  ``mod/assign/feedback/file/importziplib.php``): matched by ``<name>_<participant>_<plugin>_<type>``.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

#: ``<prefix>_assignsubmission_<plugin>`` (a trailing ``_`` before Moodle 4.1).
FOLDER = re.compile(r"^(?P<prefix>.+?)_assignsubmission_(?P<plugin>[a-z]+)_?$")
#: Flat download: ``<prefix>_assignsubmission_<plugin>_<file>``.
FLAT = re.compile(r"^(?P<prefix>.+?)_assignsubmission_(?P<plugin>file|onlinetext|[a-z]+?)_(?P<file>.+)$")
#: A prefix ``<full name>_<number>`` (the full name has no ``_``: Moodle turns them into spaces).
NUMBERED = re.compile(r"^(?P<name>.*)_(?P<number>\d+)$")

#: Moodle's name of the group of users in no group (English, French).
DEFAULT_GROUP = ("Default group", "Groupe par défaut")
#: Moodle's name shown instead of a student's under anonymous (blind) marking.
ANONYMOUS = "Participant"



def clean_filename(text: str) -> str:
    """What Moodle's ``clean_filename`` leaves of a name (control characters and ``&<>"`|':\\/`` removed)."""
    return re.sub(r"[\x00-\x1f\x7f&<>\"`|':\\/]", "", text).strip()


def folder_name_key(text: str) -> str:
    """A name as it can be compared with a folder of the download: cleaned, ``_`` as spaces, case-insensitive."""
    text = unicodedata.normalize("NFC", clean_filename(text.replace("_", " ")))
    return " ".join(text.casefold().split())


# --------------------------------------------------------------------------
# The download
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class MoodleFile:
    """One file of a Moodle download."""

    folder: str  # the participant's (or group's) folder in the zip, or the flat prefix
    name_part: str  # what the folder says of the person or group (a full name, a group name, « Participant »)
    number: str | None  # participant number, or group id (None: the default group)
    plugin: str  # "file" for uploaded files, "onlinetext" for text typed in Moodle
    name: str  # file name, as uploaded
    size: int
    member: zipfile.ZipInfo
    flat: bool = False


def is_moodle_zip(path: Path) -> bool:
    return path.suffix.lower() == ".zip" and zipfile.is_zipfile(path)


def _entry(member: zipfile.ZipInfo) -> MoodleFile | None:
    parts = [p for p in member.filename.replace("\\", "/").split("/") if p]
    if not parts:
        return None
    flat = len(parts) == 1
    match = FLAT.match(parts[0]) if flat else FOLDER.match(parts[0])
    if not match:
        return None
    prefix = match["prefix"]
    numbered = NUMBERED.match(prefix)
    name_part, number = (numbered["name"], numbered["number"]) if numbered else (prefix, None)
    # A user name may come first (« username_Full Name »): the full name has no underscore.
    name_part = name_part.rsplit("_", 1)[-1].strip()
    folder = f"{prefix}_assignsubmission_{match['plugin']}" if flat else parts[0]
    return MoodleFile(folder, name_part, number, match["plugin"], match["file"] if flat else parts[-1],
                      member.file_size, member, flat)


def read_moodle_zip(path: Path) -> tuple[list[MoodleFile], list[str]]:
    """Files of every participant or group, and the entries that do not follow Moodle's layout."""
    files, strays = [], []
    with zipfile.ZipFile(path) as archive:
        for member in archive.infolist():
            if member.is_dir():
                continue
            entry = _entry(member)
            if entry is None:
                strays.append(member.filename)
            else:
                files.append(entry)
    return files, strays


def read_member(path: Path, member: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """The bytes of one entry, never more than ``max_bytes`` + 1 (zip bombs stop there)."""
    with zipfile.ZipFile(path) as archive, archive.open(member) as handle:
        return handle.read(max_bytes + 1)


def feedback_folder(full_name: str, participant: str) -> str:
    """The folder of a participant in a feedback zip, as Moodle ≥ 4.1 names it in a download."""
    name = clean_filename(full_name.replace("_", " ")) or ANONYMOUS
    return f"{name}_{participant}_assignsubmission_file"


def write_feedback_zip(path: Path, entries: list[tuple[str, Path]]) -> None:
    """A zip for « Téléverser plusieurs fichiers de feedback dans un zip »: (path in the zip, file) entries."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, source in entries:
            archive.write(source, name)
