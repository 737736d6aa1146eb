"""Moodle's formats, built in the tests as Moodle's own code writes them.

- Downloads (``mod/assign/classes/downloader.php`` ≥ 4.1, ``locallib.php`` before): folders
  ``<Full name>_<participant>_assignsubmission_file`` (a trailing ``_`` before 4.1), flat entries,
  online text, group folders ``<group name>_<group id>`` and the default group without a number;
  every zip entry stamped with the download time.
- Grading worksheets (``mod/assign/gradingtable.php``): headers in the exporting user's language,
  dates written by ``userdate`` (« Monday, 1 December 2026, 11:59 PM », « lundi 1 décembre 2026, 23:59 »).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest

from autograder.submissions import moodle
from autograder.submissions import moodle_worksheet
from autograder.submissions.identity import choose_worksheet, identify_folders
from autograder.submissions.roster import Roster, Student

DOWNLOAD_TIME = (2026, 12, 5, 8, 30, 0)  # the morning after the deadline: every entry carries it

EN_HEADER = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum grade", "Grade can be changed",
             "Last modified (submission)", "Last modified (grade)", "Feedback comments"]
FR_HEADER = ["Identifiant", "Nom complet", "Adresse de courriel", "Statut", "Note", "Note maximale",
             "La note peut être modifiée", "Dernière modification (travail remis)", "Dernière modification (note)",
             "Feedback par commentaires"]
FR_GROUP_HEADER = FR_HEADER[:4] + ["Groupe"] + FR_HEADER[4:]


def moodle_download(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """A zip as Moodle streams it: every entry dated at the download time."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=DOWNLOAD_TIME), data)
    return path


def worksheet_text(header: list[str], rows: list[list[str]], delimiter: str = ",") -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def fr_row(number: int, name: str, email: str, submitted: str, *, grade: str = "", group: str | None = None,
           changeable: str = "Oui", comment: str = "") -> list[str]:
    row = [f"Participant{number}", name, email, "Remis pour évaluation - Non évalué"]
    if group is not None:
        row.append(group)
    return row + [grade, "20,00", changeable, submitted, "-", comment]


# --------------------------------------------------------------------------
# Downloads
# --------------------------------------------------------------------------


def test_when_a_download_is_read_then_every_moodle_layout_gives_the_participant(tmp_path):
    path = moodle_download(tmp_path / "d.zip", [
        ("Marie Dupont_101_assignsubmission_file/ex.ipynb", b"{}"),  # 4.1+
        ("Paul Martin_102_assignsubmission_file_/ex.ipynb", b"{}"),  # 3.x
        ("Léa Durand_103_assignsubmission_file_ex.ipynb", b"{}"),  # flat
        ("Jeanne DArc_104_assignsubmission_onlinetext/onlinetext.html", b"<p>"),
        ("Participant_105_assignsubmission_file/ex.ipynb", b"{}"),  # anonymous marking
        ("Groupe par défaut_assignsubmission_file/ex.ipynb", b"{}"),  # default group: no number
        ("notes.txt", b"?"),
    ])
    files, strays = moodle.read_moodle_zip(path)
    seen = {(f.name_part, f.number, f.plugin, f.name, f.flat) for f in files}
    assert seen == {
        ("Marie Dupont", "101", "file", "ex.ipynb", False),
        ("Paul Martin", "102", "file", "ex.ipynb", False),
        ("Léa Durand", "103", "file", "ex.ipynb", True),
        ("Jeanne DArc", "104", "onlinetext", "onlinetext.html", False),
        ("Participant", "105", "file", "ex.ipynb", False),
        ("Groupe par défaut", None, "file", "ex.ipynb", False),
    }
    assert strays == ["notes.txt"]


# --------------------------------------------------------------------------
# Worksheets
# --------------------------------------------------------------------------


def test_when_an_english_worksheet_with_a_bom_is_read_then_its_columns_and_dates_are_found(tmp_path):
    path = tmp_path / "Grades-TP-ex01.csv"
    text = worksheet_text(EN_HEADER, [
        ["Participant 101", "Marie Dupont", "marie@example.org", "Submitted for grading", "", "20.00", "Yes",
         "Monday, 30 November 2026, 11:59 PM", "-", ""],
    ])
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    sheet = moodle_worksheet.read_worksheet(path)
    assert sheet.bom and sheet.delimiter == "," and sheet.participants == ["101"]
    assert sheet.value("101", "email") == "marie@example.org"
    assert sheet.max_grade("101") == Decimal("20.00") and sheet.can_change("101")
    stamp = sheet.submitted_at("101", "Europe/Paris")
    assert (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute) == (2026, 11, 30, 23, 59)
    assert sheet.columns["comments"] == EN_HEADER.index("Feedback comments")


def test_when_a_spreadsheet_resaved_a_french_worksheet_then_it_is_still_read(tmp_path):
    path = tmp_path / "notes.csv"
    text = worksheet_text(FR_HEADER, [fr_row(101, "Élodie Hébert", "e@example.org", "lundi 30 novembre 2026, 23:59")],
                          delimiter=";")
    path.write_bytes(text.encode("cp1252"))
    sheet = moodle_worksheet.read_worksheet(path)
    assert sheet.delimiter == ";" and sheet.value("101", "name") == "Élodie Hébert"
    assert sheet.max_grade("101") == Decimal("20.00") and sheet.decimal_separator() == ","
    assert sheet.submitted_at("101", "Europe/Paris").hour == 23
    # The French comments header differs between language packs: it is the column after « Dernière modification (note) ».
    assert sheet.columns["comments"] == FR_HEADER.index("Feedback par commentaires")


@pytest.mark.parametrize("content, message", [
    ("id,last_name\nmdupont,Dupont\n", "Identifiant"),
    (worksheet_text([h for h in FR_HEADER if h != "Note maximale"], [["Participant1"] + [""] * 8]), "Note maximale"),
    (worksheet_text([h for h in EN_HEADER if h != "Last modified (grade)"], [["Participant 1"] + [""] * 8]),
     "Dernière modification (note)"),
    ("", "vide"),
])
def test_when_a_file_is_not_a_usable_worksheet_then_the_message_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "feuille.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(moodle_worksheet.WorksheetError, match=re.escape(message)):
        moodle_worksheet.read_worksheet(path)


def test_when_a_worksheet_is_written_back_then_only_the_grades_change(tmp_path):
    rows = [fr_row(101, "Marie Dupont", "m@example.org", "lundi 30 novembre 2026, 23:59", comment="Bien vu !"),
            fr_row(102, "Paul Martin", "p@example.org", "-", grade="12,00")]
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbf" + worksheet_text(FR_HEADER, rows).encode("utf-8"))
    sheet = moodle_worksheet.read_worksheet(path)
    moodle_worksheet.write_worksheet_back(sheet, tmp_path / "out.csv", {"101": "17,50"}, {})
    out = tmp_path / "out.csv"
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    written = list(csv.reader(io.StringIO(out.read_bytes()[3:].decode("utf-8"))))
    assert written[0] == FR_HEADER
    expected = [list(r) for r in rows]
    expected[0][FR_HEADER.index("Note")] = "17,50"
    assert written[1:] == expected  # the teacher's comment and every other cell are kept


@pytest.mark.parametrize("score, top, scale, expected", [
    (9.0, 10.0, "20.00", "18.00"),
    (2.0, 3.0, "20.00", "13.33"),
    (1.0, 8.0, "20.00", "2.50"),
    (0.125, 1.0, "10.00", "1.25"),
    (10.0, 10.0, "20.00", "20.00"),
    (10.5, 10.0, "20.00", "20.00"),  # never above Moodle's maximum (Moodle would skip the row)
])
def test_when_a_score_goes_to_moodle_then_it_is_on_the_worksheets_scale(score, top, scale, expected):
    assert moodle_worksheet.moodle_grade(score, top, Decimal(scale)) == expected
    assert moodle_worksheet.moodle_grade(score, top, Decimal(scale), ",") == expected.replace(".", ",")


@pytest.mark.parametrize("text, expected", [
    ("Monday, 30 November 2026, 11:59 PM", (2026, 11, 30, 23, 59)),
    ("Tuesday, 1 December 2026, 9:05 AM", (2026, 12, 1, 9, 5)),
    ("lundi 30 novembre 2026, 23:59", (2026, 11, 30, 23, 59)),
    ("mardi 1 décembre 2026, 09:05", (2026, 12, 1, 9, 5)),
])
def test_when_moodle_writes_a_date_then_it_is_read_in_english_and_french(text, expected):
    stamp = moodle_worksheet.parse_moodle_date(text, "Europe/Paris")
    assert (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute) == expected
    assert moodle_worksheet.parse_moodle_date("-", "Europe/Paris") is None


# --------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------


def _files(tmp_path: Path, folders: list[str]) -> list[moodle.MoodleFile]:
    path = moodle_download(tmp_path / "d.zip", [(f"{f}/ex.ipynb", b"{}") for f in folders])
    return moodle.read_moodle_zip(path)[0]


HOMONYMS = Roster([
    Student("mdupont1", "Dupont", "Marie", "marie.dupont@example.org"),
    Student("mdupont2", "Dupont", "Marie", "marie.dupont2@example.org"),
    Student("jdarc", "D'Arc", "Jeanne", "jeanne@example.org"),
])


def test_when_homonyms_come_with_the_worksheet_then_each_gets_their_class_list_id(tmp_path):
    files = _files(tmp_path, ["Marie Dupont_101_assignsubmission_file", "Marie Dupont_102_assignsubmission_file"])
    path = tmp_path / "feuille.csv"
    path.write_text(worksheet_text(FR_HEADER, [
        fr_row(101, "Marie Dupont", "marie.dupont2@example.org", "-"),
        fr_row(102, "Marie Dupont", "MARIE.DUPONT@example.org", "-"),
    ]), encoding="utf-8")
    found = identify_folders(tmp_path / "d.zip", files, HOMONYMS, moodle_worksheet.read_worksheet(path), set())
    ids = {f.link.participants[0]: f.student.id for f in found.values()}
    assert ids == {"101": "mdupont2", "102": "mdupont1"}


def test_when_homonyms_come_without_worksheet_then_no_name_is_guessed(tmp_path):
    files = _files(tmp_path, ["Marie Dupont_101_assignsubmission_file", "Marie Dupont_102_assignsubmission_file",
                              "Jeanne DArc_103_assignsubmission_file"])
    found = identify_folders(tmp_path / "d.zip", files, HOMONYMS, None, set())
    by_number = {f.link.participants[0]: f for f in found.values()}
    assert by_number["103"].student.id == "jdarc"  # clean_filename removed the apostrophe
    for number in ("101", "102"):
        assert by_number[number].student.id not in {"mdupont1", "mdupont2"}
        assert number in by_number[number].student.id and by_number[number].ambiguity
    assert len({f.student.id for f in found.values()}) == 3


def test_when_names_are_unknown_then_two_participants_never_share_an_id(tmp_path):
    files = _files(tmp_path, ["Ana Roux_201_assignsubmission_file", "Ana Roux_202_assignsubmission_file",
                              "Participant_203_assignsubmission_file"])
    found = identify_folders(tmp_path / "d.zip", files, None, None, {"ana-roux-201"})
    ids = sorted(f.student.id for f in found.values())
    assert len(set(ids)) == 3 and "ana-roux-201" not in ids and "participant-203" in ids


def test_when_a_group_submits_then_its_copy_grades_every_member_of_the_worksheet(tmp_path):
    files = _files(tmp_path, ["Groupe A_7_assignsubmission_file", "Groupe par défaut_assignsubmission_file"])
    path = tmp_path / "feuille.csv"
    path.write_text(worksheet_text(FR_GROUP_HEADER, [
        fr_row(301, "Marie Dupont", "m@example.org", "-", group="Groupe A"),
        fr_row(302, "Paul Martin", "p@example.org", "-", group="Groupe A"),
        fr_row(303, "Léa Durand", "l@example.org", "-", group="Groupe par défaut"),
    ]), encoding="utf-8")
    found = identify_folders(tmp_path / "d.zip", files, None, moodle_worksheet.read_worksheet(path), set())
    group = found["Groupe A_7_assignsubmission_file"]
    assert group.link.participants == ("301", "302") and group.problem is None
    assert found["Groupe par défaut_assignsubmission_file"].link.participants == ("303",)


def test_when_a_default_group_folder_comes_without_worksheet_then_it_is_reported(tmp_path):
    files = _files(tmp_path, ["Groupe par défaut_assignsubmission_file"])
    (found,) = identify_folders(tmp_path / "d.zip", files, None, None, set()).values()
    assert found.problem and "feuille d'évaluation" in found.problem


def test_when_worksheets_are_given_then_each_download_takes_its_own(tmp_path):
    files = _files(tmp_path, ["Marie Dupont_101_assignsubmission_file"])
    mine, other = tmp_path / "a.csv", tmp_path / "b.csv"
    mine.write_text(worksheet_text(FR_HEADER, [fr_row(101, "Marie Dupont", "", "-")]), encoding="utf-8")
    other.write_text(worksheet_text(FR_HEADER, [fr_row(999, "Marie Dupont", "", "-")]), encoding="utf-8")
    sheets = [moodle_worksheet.read_worksheet(other), moodle_worksheet.read_worksheet(mine)]
    assert choose_worksheet(files, sheets).path == mine
    assert choose_worksheet(files, sheets[:1]) is None


# --------------------------------------------------------------------------
# The round trip, end to end
# --------------------------------------------------------------------------

from coursetools.demo import DEMO_ASSIGNMENT, demo_files  # noqa: E402
from autograder.grading.pipeline import run  # noqa: E402
from autograder.model import Status  # noqa: E402

from .conftest import tree_digest  # noqa: E402

NOTEBOOK = f"{DEMO_ASSIGNMENT}.ipynb"


@pytest.fixture(scope="module")
def notebooks() -> dict[str, bytes]:
    pick = {path.parts[0]: content.encode("utf-8") for path, content in demo_files().items()}
    return {"perfect": pick["demo-parfait"], "partial": pick["demo-partiel"], "blank": pick["demo-vierge"]}


def course_with_due_date(base: Path) -> Path:
    import shutil

    from autograder.course import REPO_ROOT

    root = base / "cours"
    shutil.copytree(REPO_ROOT / "source", root / "source")
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(REPO_ROOT / 'nbgrader_config.py')!r})\n"
        f'c.Grading.due_dates = {{"{DEMO_ASSIGNMENT}": "2026-11-30 23:59:00 Europe/Paris"}}\n', encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory, notebooks):
    base = tmp_path_factory.mktemp("aller-retour")
    download = moodle_download(base / "TP1-ex01-42.zip", [
        (f"Marie Dupont_101_assignsubmission_file/{NOTEBOOK}", notebooks["perfect"]),
        (f"Marie Dupont_102_assignsubmission_file/{NOTEBOOK}", notebooks["partial"]),
        (f"Jeanne DArc_103_assignsubmission_file/{NOTEBOOK}", notebooks["blank"]),
        ("Jeanne DArc_103_assignsubmission_file/ex01_premiers-pas (1).ipynb", notebooks["perfect"]),
        ("Jeanne DArc_103_assignsubmission_onlinetext/onlinetext.html", b"<p>Bonjour</p>"),
        (f"Ana Roux_104_assignsubmission_file/{NOTEBOOK}", notebooks["partial"]),
    ])
    sheet = base / "Notes-TP1-ex01.csv"
    sheet.write_bytes(b"\xef\xbb\xbf" + worksheet_text(FR_HEADER, [
        fr_row(101, "Marie Dupont", "marie.dupont2@example.org", "lundi 30 novembre 2026, 22:10"),
        fr_row(102, "Marie Dupont", "marie.dupont@example.org", "mardi 1 décembre 2026, 10:00", comment="Bien vu !"),
        fr_row(103, "Jeanne D'Arc", "jeanne@example.org", "lundi 30 novembre 2026, 20:00"),
        fr_row(104, "Ana Roux", "ana@example.org", "lundi 30 novembre 2026, 23:00", changeable="Non"),
        fr_row(105, "Zoé Absente", "zoe@example.org", "-"),
    ]).encode("utf-8"))
    roster = base / "classe.csv"
    roster.write_text(
        "id,last_name,first_name,email,lms_user_id\n"
        "mdupont1,Dupont,Marie,marie.dupont@example.org,\n"
        "mdupont2,Dupont,Marie,marie.dupont2@example.org,\n"
        "jdarc,D'Arc,Jeanne,jeanne@example.org,\n", encoding="utf-8")
    before = tree_digest(base)
    result = run([download], base / "notes", course_root=course_with_due_date(base), roster=roster,
                 moodle_worksheets=[sheet])
    return {"result": result, "base": base, "before": before, "sheet": sheet}


def test_when_the_worksheet_is_given_then_homonyms_get_their_class_list_ids(round_trip):
    outcomes = {o.student_id: o for o in round_trip["result"].outcomes}
    assert set(outcomes) == {"mdupont1", "mdupont2", "jdarc", "ana-roux-104"}
    assert outcomes["mdupont2"].score == 9.0 and outcomes["jdarc"].score == 9.0  # the « (1) » copy is the later one
    assert all(o.status is Status.GRADED for o in outcomes.values())


def test_when_a_class_is_downloaded_after_the_deadline_then_only_late_submissions_are_late(round_trip):
    late = {o.student_id: o.late_seconds for o in round_trip["result"].outcomes}
    assert late["mdupont2"] == 0 and late["jdarc"] == 0 and late["ana-roux-104"] == 0
    assert 10 * 3600 <= late["mdupont1"] <= 11 * 3600  # handed in at 10:00 the next morning (Paris)


def test_when_the_worksheet_is_written_back_then_only_grades_change_on_moodles_scale(round_trip):
    (path,) = round_trip["result"].moodle_csvs
    assert path.name == round_trip["sheet"].name
    original = list(csv.reader(io.StringIO(round_trip["sheet"].read_bytes()[3:].decode("utf-8"))))
    written = list(csv.reader(io.StringIO(path.read_bytes()[3:].decode("utf-8"))))
    assert written[0] == original[0] and len(written) == len(original)
    grade = FR_HEADER.index("Note")
    for before, after in zip(original[1:], written[1:]):
        assert before[:grade] + before[grade + 1:] == after[:grade] + after[grade + 1:]  # comments kept
    grades = {row[0]: row[grade] for row in written[1:]}
    # 9 of 10 points is 18 out of Moodle's 20; the partial copy, 4 of 10, is 8.
    assert grades == {"Participant101": "18,00", "Participant102": "8,00", "Participant103": "18,00",
                      "Participant104": "", "Participant105": ""}


def test_when_grades_go_back_then_a_feedback_zip_mirrors_the_download(round_trip):
    (archive,) = round_trip["result"].feedback_zips
    with zipfile.ZipFile(archive) as handle:
        names = sorted(handle.namelist())
        page = handle.read(f"Marie Dupont_102_assignsubmission_file/{DEMO_ASSIGNMENT}.html").decode("utf-8")
    assert names == sorted(f"{folder}_assignsubmission_file/{DEMO_ASSIGNMENT}.html" for folder in (
        "Marie Dupont_101", "Marie Dupont_102", "Jeanne DArc_103", "Ana Roux_104"))
    assert 'lang="fr"' in page or "Question" in page


def test_when_the_round_trip_ends_then_locked_grades_and_online_text_are_reported(round_trip):
    result = round_trip["result"]
    assert any("104" in note and "verrouillée" in note for note in result.warnings)
    jdarc = next(o for o in result.outcomes if o.student_id == "jdarc")
    assert "texte saisi en ligne" in jdarc.message


def test_when_the_round_trip_ends_then_no_input_was_modified(round_trip):
    after = {k: v for k, v in tree_digest(round_trip["base"]).items() if not k.startswith(("notes/", "cours/"))}
    assert after == {k: v for k, v in round_trip["before"].items() if not k.startswith("cours/")}


def test_when_a_worksheet_belongs_to_another_assignment_then_the_run_refuses(tmp_path, notebooks):
    from autograder.grading.errors import GradingError

    download = moodle_download(tmp_path / "d.zip", [(f"Marie Dupont_101_assignsubmission_file/{NOTEBOOK}",
                                                     notebooks["perfect"])])
    other = tmp_path / "autre.csv"
    other.write_text(worksheet_text(FR_HEADER, [fr_row(999, "Paul Martin", "", "-")]), encoding="utf-8")
    with pytest.raises(GradingError, match="autre devoir"):
        run([download], tmp_path / "notes", moodle_worksheets=[other])


@pytest.fixture(scope="module")
def group_trip(tmp_path_factory, notebooks):
    base = tmp_path_factory.mktemp("groupes")
    download = moodle_download(base / "projet.zip", [
        (f"Groupe A_7_assignsubmission_file/{NOTEBOOK}", notebooks["perfect"]),
        (f"Groupe par défaut_assignsubmission_file/{NOTEBOOK}", notebooks["partial"]),
    ])
    sheet = base / "feuille.csv"
    sheet.write_text(worksheet_text(FR_GROUP_HEADER, [
        fr_row(301, "Marie Dupont", "m@example.org", "lundi 30 novembre 2026, 22:10", group="Groupe A"),
        fr_row(302, "Paul Martin", "p@example.org", "lundi 30 novembre 2026, 22:10", group="Groupe A"),
        fr_row(303, "Léa Durand", "l@example.org", "lundi 30 novembre 2026, 21:00", group="Groupe par défaut",
               comment="Mon commentaire"),
    ]), encoding="utf-8")
    result = run([download], base / "notes", moodle_worksheets=[sheet], moodle_comments=True)
    return {"result": result, "sheet": sheet}


def test_when_a_group_submits_then_every_member_gets_the_groups_grade(group_trip):
    (path,) = group_trip["result"].moodle_csvs
    written = {row[0]: row for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8")))}
    grade, comment = FR_GROUP_HEADER.index("Note"), FR_GROUP_HEADER.index("Feedback par commentaires")
    assert written["Participant301"][grade] == written["Participant302"][grade] == "18,00"
    assert written["Participant303"][grade] == "8,00"
    text = written["Participant301"][comment]
    assert text.startswith("Correction automatique") and "test_gradient_affine" in text
    assert "Mon commentaire" not in written["Participant303"][comment]  # asked for: the comment column is filled
    (archive,) = group_trip["result"].feedback_zips
    with zipfile.ZipFile(archive) as handle:
        folders = {name.split("/")[0] for name in handle.namelist()}
    assert folders == {"Marie Dupont_301_assignsubmission_file", "Paul Martin_302_assignsubmission_file",
                       "Léa Durand_303_assignsubmission_file"}


def test_when_homonyms_come_without_worksheet_then_the_report_lists_them(tmp_path, notebooks):
    download = moodle_download(tmp_path / "d.zip", [
        (f"Marie Dupont_101_assignsubmission_file/{NOTEBOOK}", notebooks["perfect"]),
        (f"Marie Dupont_102_assignsubmission_file/{NOTEBOOK}", notebooks["blank"]),
    ])
    roster = tmp_path / "classe.csv"
    roster.write_text("id,last_name,first_name,email\nmdupont1,Dupont,Marie,\nmdupont2,Dupont,Marie,\n", encoding="utf-8")
    result = run([download], tmp_path / "notes", roster=roster)
    ids = sorted(o.student_id for o in result.outcomes)
    assert ids == ["homonyme-marie-dupont-101", "homonyme-marie-dupont-102"]
    report = result.report.read_text(encoding="utf-8")
    assert "Identités à vérifier" in report and "mdupont1" in report and "mdupont2" in report
    assert any("feuille d" in warning for warning in result.warnings)  # and why no lateness is computed


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
