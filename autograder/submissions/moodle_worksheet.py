"""Moodle's offline grading worksheet (« Feuille d'évaluation hors ligne »), as Moodle reads and writes it.

``mod/assign/gradingtable.php`` exports it, ``mod/assign/feedback/offline/importgradeslib.php``
imports it: headers in the exporting user's language, one row per participant.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo


class WorksheetError(Exception):
    """A grading worksheet cannot be used; the message is French and meant for the instructor."""



#: Column headers of the worksheet, as Moodle's English and French language packs write them.
HEADERS = {
    "id": ("Identifier", "Identifiant"),
    "name": ("Full name", "Nom complet"),
    "email": ("Email address", "Adresse de courriel", "Adresse courriel", "Courriel", "Email", "E-mail"),
    "status": ("Status", "Statut"),
    "group": ("Group", "Groupe"),
    "grade": ("Grade", "Note"),
    "max": ("Maximum grade", "Note maximale"),
    "scale": ("Scale", "Barème"),
    "changeable": ("Grade can be changed", "La note peut être modifiée"),
    "submitted": ("Last modified (submission)", "Dernière modification (travail remis)"),
    "modified": ("Last modified (grade)", "Dernière modification (note)"),
    "comments": ("Feedback comments", "Commentaires de feedback", "Commentaires en feedback"),
}
REQUIRED = ("id", "grade", "modified")
#: Columns that may follow « Last modified (grade) » and are not feedback comments.
OTHER_COLUMNS = {"outcomes", "objectifs", "compétences", "résultats", "final grade", "note finale"}
YES = {"yes", "oui"}

MONTHS = {
    name: index + 1
    for names in (
        ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
         "november", "december"),
        ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
         "novembre", "décembre"),
    )
    for index, name in enumerate(names)
}
DATE = re.compile(
    r"(?P<day>\d{1,2})\s+(?P<month>[^\W\d_]+)\.?\s+(?P<year>\d{4}),?\s+(?:\xe0\s+)?"
    r"(?P<hour>\d{1,2})[:h](?P<minute>\d{2})\s*(?P<ampm>[AaPp][Mm])?"
)


def parse_moodle_date(text: str, timezone: str) -> datetime | None:
    """A date as Moodle's ``userdate`` writes it, in English or French (« lundi 1 décembre 2026, 23:59 »)."""
    match = DATE.search(unicodedata.normalize("NFC", text or ""))
    if not match or match["month"].casefold() not in MONTHS:
        return None
    hour = int(match["hour"])
    if match["ampm"]:
        hour = hour % 12 + (12 if match["ampm"].lower() == "pm" else 0)
    try:
        return datetime(int(match["year"]), MONTHS[match["month"].casefold()], int(match["day"]), hour,
                        int(match["minute"]), tzinfo=ZoneInfo(timezone))
    except ValueError:
        return None


@dataclass
class Worksheet:
    """A grading worksheet exported by Moodle, kept exactly as read so that it can be written back."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    columns: dict[str, int]
    delimiter: str = ","
    bom: bool = False
    by_participant: dict[str, int] = field(default_factory=dict)

    def value(self, participant: str, role: str) -> str:
        index = self.columns.get(role)
        row = self.rows[self.by_participant[participant]]
        return row[index].strip() if index is not None and index < len(row) else ""

    @property
    def participants(self) -> list[str]:
        return list(self.by_participant)

    def max_grade(self, participant: str) -> Decimal | None:
        text = self.value(participant, "max").replace("\u00a0", "").replace(" ", "").replace(",", ".")
        try:
            return Decimal(text)
        except ArithmeticError:
            return None

    def decimal_separator(self) -> str:
        """The separator the site writes grades with (read in the maximum grade column)."""
        index = self.columns.get("max")
        for row in self.rows:
            if index is not None and index < len(row) and "," in row[index]:
                return ","
        return "."

    def can_change(self, participant: str) -> bool:
        value = self.value(participant, "changeable")
        return not value or value.casefold() in YES

    def submitted_at(self, participant: str, timezone: str) -> datetime | None:
        return parse_moodle_date(self.value(participant, "submitted"), timezone)

    def group_of(self, participant: str) -> str:
        return self.value(participant, "group")


def participant_number(identifier: str) -> str | None:
    """The number of « Participant 12345 » (English) or « Participant12345 » (French)."""
    match = re.search(r"(\d+)\s*$", identifier or "")
    return match.group(1) if match else None


def _decode(raw: bytes) -> tuple[str, bool]:
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), True
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), False  # a spreadsheet's re-save on Windows


def read_worksheet(path: Path) -> Worksheet:
    """Read a grading worksheet exported by Moodle (any of its languages, encodings and delimiters)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise WorksheetError(f"La feuille d'évaluation « {path} » est illisible ({exc.strerror or exc}).") from None
    text, bom = _decode(raw)
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max((",", ";", "\t"), key=first.count) if first else ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise WorksheetError(f"« {path.name} » n'est pas un fichier CSV lisible ({exc}).") from None
    table = [row for row in table if any(cell.strip() for cell in row)]
    if not table:
        raise WorksheetError(f"« {path.name} » est vide : ce n'est pas une feuille d'évaluation Moodle.")
    header = table[0]
    normalized = [unicodedata.normalize("NFC", h).strip().casefold() for h in header]
    columns: dict[str, int] = {}
    for role, names in HEADERS.items():
        for name in names:
            key = unicodedata.normalize("NFC", name).casefold()
            if key in normalized:
                columns[role] = normalized.index(key)
                break
    if "id" not in columns:
        raise WorksheetError(
            f"« {path.name} » n'est pas une feuille d'évaluation Moodle : colonne « Identifiant » "
            "(« Identifier ») introuvable. Téléchargez-la depuis le devoir : « Consulter tous les travaux "
            "remis », puis « Télécharger la feuille d'évaluation »."
        )
    after = columns["modified"] + 1 if "modified" in columns else len(header)
    if "comments" not in columns and after < len(header) and normalized[after] not in OTHER_COLUMNS:
        # The feedback plugins' columns follow « Last modified (grade) »; the comments' header is
        # the plugin's name, which differs between versions of the language packs.
        columns["comments"] = after
    missing = [role for role in (*REQUIRED, "max") if role not in columns]
    if "max" in missing and "scale" in columns:
        raise WorksheetError(
            f"« {path.name} » : ce devoir est noté avec un barème (colonne « {header[columns['scale']]} ») ; "
            "seules les notes numériques sont prises en charge. Choisissez le type de note « Point » dans Moodle."
        )
    if missing:
        names = ", ".join(f"« {HEADERS[role][1]} » (« {HEADERS[role][0]} »)" for role in missing)
        raise WorksheetError(
            f"« {path.name} » : colonne(s) {names} introuvable(s). Activez « Feuille d'évaluation hors ligne » "
            "dans les types de feedback du devoir, puis téléchargez de nouveau la feuille sans la modifier."
        )
    worksheet = Worksheet(path, header, table[1:], columns, delimiter, bom)
    for index, row in enumerate(worksheet.rows):
        if len(row) != len(header):
            raise WorksheetError(
                f"« {path.name} », ligne {index + 2} : {len(row)} champs au lieu de {len(header)} "
                "(le fichier a été modifié ou mal enregistré)."
            )
        number = participant_number(row[columns["id"]])
        if number is None:
            raise WorksheetError(
                f"« {path.name} », ligne {index + 2} : identifiant « {row[columns['id']]} » sans numéro de participant."
            )
        worksheet.by_participant[number] = index
    return worksheet


def moodle_grade(score: float, max_score: float, scale: Decimal, separator: str = ".") -> str:
    """A score on Moodle's scale: ``score / max_score × scale``, two decimals (half up), never above the scale."""
    if max_score <= 0:
        return ""
    value = (Decimal(repr(score)) / Decimal(repr(max_score)) * scale).quantize(Decimal("0.01"), ROUND_HALF_UP)
    value = max(Decimal("0.00"), min(value, scale.quantize(Decimal("0.01"), ROUND_HALF_UP)))
    return f"{value:.2f}".replace(".", separator)


def write_worksheet_back(worksheet: Worksheet, path: Path, grades: dict[str, str], comments: dict[str, str]) -> None:
    """The worksheet Moodle exported, filled in: same headers, columns, rows and format; grades (and comments) set.

    ``grades``: participant → grade text ("" leaves the cell empty: Moodle then skips the row).
    Participants not in ``grades`` keep their row exactly as exported.
    """
    grade_index, comment_index = worksheet.columns["grade"], worksheet.columns.get("comments")
    rows = [list(row) for row in worksheet.rows]
    for participant, grade in grades.items():
        row = rows[worksheet.by_participant[participant]]
        row[grade_index] = grade
        if comment_index is not None and participant in comments:
            row[comment_index] = comments[participant]
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=worksheet.delimiter, lineterminator="\r\n")
    writer.writerow(worksheet.header)
    writer.writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if worksheet.bom else b"") + buffer.getvalue().encode("utf-8"))


#: Headers of a worksheet written without one exported by Moodle, in each interface language.
NEW_HEADERS = {
    "fr": ("Identifiant", "Nom complet", "Note", "Note maximale", "Dernière modification (note)"),
    "en": ("Identifier", "Full name", "Grade", "Maximum grade", "Last modified (grade)"),
}
#: Moodle's « Participant » prefix of an identifier in each language (French has no space).
PARTICIPANT_PREFIX = {"fr": "Participant", "en": "Participant "}


def write_new_worksheet(path: Path, rows: list[tuple[str, str, str, str]], language: str) -> None:
    """A worksheet Moodle can import, when none was exported: (participant, name, grade, maximum) rows.

    « Last modified (grade) » is « - », Moodle's own value for a row never graded: Moodle then never
    overwrites a grade given in Moodle unless the teacher ticks « Ignorer les modifications ».
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(NEW_HEADERS[language])
    for participant, name, grade, maximum in rows:
        writer.writerow([f"{PARTICIPANT_PREFIX[language]}{participant}", name, grade, maximum, "-"])
    path.write_text(buffer.getvalue(), encoding="utf-8")
