"""Moodle's grading worksheet (read in English and French, written back), grades on Moodle's scale, dates."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from autograder.submissions import moodle
from autograder.submissions import moodle_worksheet

EN_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade", "Grade can be changed",
             "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
FR_HEADER = ["Identifiant", "Nom complet", "Adresse de courriel", "Statut", "Note", "Note maximale",
             "La note peut être modifiée", "Dernière modification (travail remis)", "Dernière modification (note)",
             "Feedback par commentaires"]
FR_ROWS = [
    ["Participant101", "Élodie Hébert", "e@example.org", "Remis pour évaluation", "", "20,00", "Oui",
     "lundi 30 novembre 2026, 23:59", "-", ""],
    ["Participant102", "Paul Martin", "p@example.org", "Aucun travail remis", "12,00", "20,00", "Non", "-", "-",
     "Bien vu\u00a0!"],
]


def worksheet_bytes(header, rows, delimiter=",", encoding="utf-8", bom=False) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode(encoding)


def saved(tmp_path: Path, data: bytes, name: str = "feuille.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


def test_when_an_english_worksheet_is_read_then_every_column_role_is_found(tmp_path):
    rows = [["Participant 7", "Marie Dupont", "m@example.org", "Submitted for grading", "", "10.00", "Yes",
             "Monday, 30 November 2026, 11:59 PM", "-", ""]]
    sheet = moodle_worksheet.read_worksheet(saved(tmp_path, worksheet_bytes(EN_HEADER, rows)))
    assert sheet.columns == {"id": 0, "name": 1, "email": 2, "status": 3, "grade": 4, "max": 5, "changeable": 6,
                             "submitted": 7, "modified": 8, "comments": 9}
    assert sheet.participants == ["7"] and not sheet.bom and sheet.delimiter == ","
    assert sheet.value("7", "name") == "Marie Dupont" and sheet.max_grade("7") == Decimal("10.00")
    assert sheet.decimal_separator() == "." and sheet.can_change("7")
    assert sheet.submitted_at("7", "Europe/Paris") == datetime(2026, 11, 30, 23, 59, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize("encoding, delimiter, bom", [
    ("utf-8", ",", True), ("utf-8", ";", False), ("cp1252", ";", False), ("utf-8", "\t", False),
])
def test_when_a_french_worksheet_is_saved_by_any_spreadsheet_then_it_reads_the_same(tmp_path, encoding, delimiter, bom):
    path = saved(tmp_path, worksheet_bytes(FR_HEADER, FR_ROWS, delimiter, encoding, bom))
    sheet = moodle_worksheet.read_worksheet(path)
    assert (sheet.delimiter, sheet.bom) == (delimiter, bom)
    assert sheet.participants == ["101", "102"]
    assert sheet.value("101", "name") == "Élodie Hébert"
    assert sheet.value("102", "comments") == "Bien vu\u00a0!"
    assert sheet.max_grade("101") == Decimal("20.00") and sheet.decimal_separator() == ","
    assert sheet.can_change("101") and not sheet.can_change("102")
    assert sheet.submitted_at("101", "Europe/Paris") == datetime(2026, 11, 30, 23, 59, tzinfo=ZoneInfo("Europe/Paris"))
    assert sheet.submitted_at("102", "Europe/Paris") is None


def test_when_the_comments_header_is_not_a_known_one_then_the_column_after_the_grade_date_is_taken(tmp_path):
    header = FR_HEADER[:-1] + ["Commentaires (version du paquet de langue)"]
    sheet = moodle_worksheet.read_worksheet(saved(tmp_path, worksheet_bytes(header, FR_ROWS)))
    assert sheet.columns["comments"] == 9
    header = FR_HEADER[:-1] + ["Note finale"]
    assert "comments" not in moodle_worksheet.read_worksheet(saved(tmp_path, worksheet_bytes(header, FR_ROWS))).columns


@pytest.mark.parametrize("header, rows, expected", [
    (["id", "last_name"], [["mdupont", "Dupont"]],
     "«\u00a0feuille.csv\u00a0» n'est pas une feuille d'évaluation Moodle\u00a0: colonne «\u00a0Identifiant\u00a0» "
     "(«\u00a0Identifier\u00a0») introuvable."),
    ([h for h in FR_HEADER if h != "Note maximale"], [["Participant1"] + [""] * 8],
     "«\u00a0feuille.csv\u00a0»\u00a0: colonne(s) «\u00a0Note maximale\u00a0» («\u00a0Maximum grade\u00a0») introuvable(s)."),
    ([h if h != "Note maximale" else "Barème" for h in FR_HEADER], [["Participant1"] + [""] * 9],
     "«\u00a0feuille.csv\u00a0»\u00a0: ce devoir est noté avec un barème (colonne «\u00a0Barème\u00a0»)"),
    (FR_HEADER, [["Participant1", "trop court"]],
     "«\u00a0feuille.csv\u00a0», ligne 2\u00a0: 2 champs au lieu de 10"),
    (FR_HEADER, [["Marie"] + [""] * 9],
     "«\u00a0feuille.csv\u00a0», ligne 2\u00a0: identifiant «\u00a0Marie\u00a0» sans numéro de participant."),
])
def test_when_a_file_is_not_a_usable_worksheet_then_the_french_message_says_what_is_wrong(tmp_path, header, rows, expected):
    with pytest.raises(moodle_worksheet.WorksheetError) as error:
        moodle_worksheet.read_worksheet(saved(tmp_path, worksheet_bytes(header, rows)))
    assert str(error.value).startswith(expected)


@pytest.mark.parametrize("data", [b"", b"\r\n ,, \r\n"])
def test_when_a_worksheet_is_empty_then_it_is_refused(tmp_path, data):
    with pytest.raises(moodle_worksheet.WorksheetError, match="est vide"):
        moodle_worksheet.read_worksheet(saved(tmp_path, data))


def test_when_the_worksheet_does_not_exist_then_the_message_is_french(tmp_path):
    with pytest.raises(moodle_worksheet.WorksheetError, match="^La feuille d'évaluation «\u00a0.*absente.csv\u00a0» est illisible"):
        moodle_worksheet.read_worksheet(tmp_path / "absente.csv")


@pytest.mark.parametrize("identifier, number", [
    ("Participant 12345", "12345"), ("Participant12345", "12345"), ("Participant", None), ("", None),
])
def test_when_an_identifier_is_read_then_the_participant_number_is_its_trailing_digits(identifier, number):
    assert moodle_worksheet.participant_number(identifier) == number


@pytest.mark.parametrize("text, expected", [
    ("lundi 1 décembre 2026, 23:59", (2026, 12, 1, 23, 59)),
    ("Monday, 1 December 2026, 11:59 PM", (2026, 12, 1, 23, 59)),
    ("Tuesday, 2 December 2026, 12:05 AM", (2026, 12, 2, 0, 5)),
    ("mardi 2 déc. 2026, 9h05", None),  # an abbreviated month is not one Moodle writes in full
    ("mardi 2 décembre 2026 à 9h05", (2026, 12, 2, 9, 5)),
    ("31 février 2026, 10:00", None),
    ("-", None), ("", None),
])
def test_when_a_moodle_date_is_parsed_then_english_and_french_forms_give_the_local_time(text, expected):
    parsed = moodle_worksheet.parse_moodle_date(text, "Europe/Paris")
    if expected is None:
        assert parsed is None
    else:
        assert parsed == datetime(*expected, tzinfo=ZoneInfo("Europe/Paris"))


# --------------------------------------------------------------------------
# Grades and writing back
# --------------------------------------------------------------------------


@pytest.mark.parametrize("score, maximum, scale, separator, expected", [
    (7.5, 10, "20", ".", "15.00"),
    (2, 3, "20", ".", "13.33"),
    (1, 3, "20", ",", "6,67"),
    (1, 8, "1", ".", "0.13"),  # 0.125: half up, not to even
    (0.3, 1.2, "10", ".", "2.50"),  # decimal arithmetic: no 2.4999…
    (12, 10, "20", ".", "20.00"),  # never above the scale
    (-1, 10, "20", ".", "0.00"),
    (5, 0, "20", ".", ""),
])
def test_when_a_score_is_put_on_moodles_scale_then_it_is_rounded_half_up_to_two_decimals(
        score, maximum, scale, separator, expected):
    assert moodle_worksheet.moodle_grade(score, maximum, Decimal(scale), separator) == expected


def test_when_a_worksheet_is_written_back_then_only_the_given_grades_and_comments_change(tmp_path):
    original = worksheet_bytes(FR_HEADER, FR_ROWS, ";", bom=True)
    sheet = moodle_worksheet.read_worksheet(saved(tmp_path, original))
    out = tmp_path / "sortie" / "feuille.csv"
    moodle_worksheet.write_worksheet_back(sheet, out, {"101": "17,50"}, {"101": "Très bien\u00a0; voir le retour.", "102": "x"})
    written = out.read_bytes()
    assert written.startswith(b"\xef\xbb\xbf")
    expected_rows = [list(FR_ROWS[0]), FR_ROWS[1]]
    expected_rows[0][4], expected_rows[0][9] = "17,50", "Très bien\u00a0; voir le retour."
    assert written == worksheet_bytes(FR_HEADER, expected_rows, ";", bom=True)
    again = moodle_worksheet.read_worksheet(out)
    assert again.value("101", "grade") == "17,50" and again.value("102", "grade") == "12,00"


def test_when_no_worksheet_was_exported_then_a_new_one_has_the_headers_of_the_language(tmp_path):
    path = tmp_path / "nouvelle.csv"
    moodle_worksheet.write_new_worksheet(path, [("101", "Élodie Hébert", "15,00", "20,00")], "fr")
    assert path.read_bytes().decode("utf-8") == (
        "Identifiant,Nom complet,Note,Note maximale,Dernière modification (note)\r\n"
        "Participant101,Élodie Hébert,\"15,00\",\"20,00\",-\r\n"
    )
    moodle_worksheet.write_new_worksheet(path, [("101", "Marie Dupont", "15.00", "20.00")], "en")
    sheet = moodle_worksheet.read_worksheet(path)
    assert sheet.participants == ["101"] and sheet.value("101", "grade") == "15.00"


def test_when_a_feedback_folder_is_named_then_moodles_forbidden_characters_are_removed():
    assert moodle.feedback_folder("Jeanne D'Arc_x", "104") == "Jeanne DArc x_104_assignsubmission_file"
    assert moodle.feedback_folder("", "105") == "Participant_105_assignsubmission_file"
