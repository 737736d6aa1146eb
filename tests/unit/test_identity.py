"""Who handed in each folder of a Moodle download: participant number, e-mail, then name; never a guess."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from autograder.submissions import identity
from autograder.submissions import moodle
from autograder.submissions import moodle_worksheet
from autograder.submissions.roster import Roster, Student

FR_HEADER = ["Identifiant", "Nom complet", "Adresse de courriel", "Note", "Note maximale",
             "Dernière modification (note)"]
FR_GROUP_HEADER = FR_HEADER[:3] + ["Groupe"] + FR_HEADER[3:]
NB = "ex01_premiers-pas.ipynb"


def download(tmp_path: Path, folders: list[str]) -> tuple[Path, list[moodle.MoodleFile]]:
    path = tmp_path / "tp1.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for folder in folders:
            archive.writestr(zipfile.ZipInfo(f"{folder}/{NB}", date_time=(2026, 12, 5, 8, 30, 0)), b"{}")
    files, strays = moodle.read_moodle_zip(path)
    assert strays == []
    return path, files


def worksheet(tmp_path: Path, header: list[str], rows: list[list[str]], name: str = "feuille.csv") -> moodle_worksheet.Worksheet:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    (tmp_path / name).write_text(buffer.getvalue(), encoding="utf-8")
    return moodle_worksheet.read_worksheet(tmp_path / name)


def by_folder(found: dict[str, identity.Identified]) -> dict[str, str]:
    return {folder.split("_assignsubmission")[0]: who.student.id for folder, who in found.items()}


def test_when_the_worksheet_gives_an_email_then_it_wins_over_a_differently_written_name(tmp_path):
    path, files = download(tmp_path, ["Marie Dupont-Leroy_101_assignsubmission_file"])
    sheet = worksheet(tmp_path, FR_HEADER, [["Participant101", "Marie Dupont-Leroy", "MARIE@example.org", "", "20,00", "-"]])
    roster = Roster([Student("mdupont", "Dupont", "Marie", "marie@example.org")])
    found = identity.identify_folders(path, files, roster, sheet, set())
    who = found["Marie Dupont-Leroy_101_assignsubmission_file"]
    assert who.student.id == "mdupont" and who.notes == [] and who.ambiguity is None
    assert who.link.participants == ("101",) and who.link.names == ("Marie Dupont-Leroy",)
    assert who.link.worksheet == tmp_path / "feuille.csv"


def test_when_there_is_no_worksheet_then_a_unique_name_of_the_class_list_is_matched(tmp_path):
    path, files = download(tmp_path, ["Jeanne DArc_104_assignsubmission_file", "Inconnu Total_105_assignsubmission_file"])
    roster = Roster([Student("jdarc", "D'Arc", "Jeanne")])
    found = identity.identify_folders(path, files, roster, None, set())
    assert by_folder(found) == {"Jeanne DArc_104": "jdarc", "Inconnu Total_105": "inconnu-total-105"}
    assert found["Inconnu Total_105_assignsubmission_file"].notes == ["nom absent de la liste de la classe"]


def test_when_homonyms_are_in_the_class_list_then_each_folder_gets_its_own_id_and_an_ambiguity(tmp_path):
    path, files = download(tmp_path, ["Marie Dupont_101_assignsubmission_file"])
    roster = Roster([Student("mdupont1", "Dupont", "Marie"), Student("mdupont2", "Dupont", "Marie")])
    who = identity.identify_folders(path, files, roster, None, set())["Marie Dupont_101_assignsubmission_file"]
    assert who.student.id == "homonyme-marie-dupont-101"
    assert who.ambiguity == (
        "«\u00a0Marie Dupont\u00a0» (participant 101)\u00a0: 2 personnes de ce nom dans la liste de la classe "
        "(mdupont1, mdupont2)\u00a0; rendu corrigé sous un identifiant à part, à rattacher à la main"
    )
    assert who.notes == ["homonymes dans la liste de la classe\u00a0: identité à vérifier"]


def test_when_two_folders_resolve_to_one_student_then_they_are_never_merged(tmp_path):
    path, files = download(tmp_path, ["Marie Dupont_101_assignsubmission_file", "Marie Dupont_202_assignsubmission_file"])
    sheet = worksheet(tmp_path, FR_HEADER, [
        ["Participant101", "Marie Dupont", "marie@example.org", "", "20,00", "-"],
        ["Participant202", "Marie Dupont", "marie@example.org", "", "20,00", "-"],
    ])
    roster = Roster([Student("mdupont", "Dupont", "Marie", "marie@example.org")])
    found = identity.identify_folders(path, files, roster, sheet, set())
    assert by_folder(found) == {"Marie Dupont_101": "mdupont", "Marie Dupont_202": "mdupont-202"}
    assert found["Marie Dupont_202_assignsubmission_file"].ambiguity == (
        "participant 202 et un autre dossier désignent tous deux «\u00a0mdupont\u00a0»"
    )


def test_when_an_id_made_from_a_name_is_a_class_list_id_then_another_one_is_chosen(tmp_path):
    path, files = download(tmp_path, ["Paul Martin_7_assignsubmission_file"])
    roster = Roster([Student("paul-martin-7", "Autre", "Personne")])
    taken = {"paul-martin-7-2"}
    found = identity.identify_folders(path, files, roster, None, taken)
    assert by_folder(found) == {"Paul Martin_7": "paul-martin-7-3"}
    assert "paul-martin-7-3" in taken


def test_when_marking_is_anonymous_then_the_participant_number_is_the_id(tmp_path):
    path, files = download(tmp_path, ["Participant_105_assignsubmission_file"])
    roster = Roster([Student("p", "Participant", "")])  # a name never matched under anonymous marking
    assert by_folder(identity.identify_folders(path, files, roster, None, set())) == {"Participant_105": "participant-105"}


def test_when_a_participant_is_missing_from_the_worksheet_then_it_is_noted(tmp_path):
    path, files = download(tmp_path, ["Marie Dupont_101_assignsubmission_file"])
    sheet = worksheet(tmp_path, FR_HEADER, [["Participant999", "Autre", "", "", "20,00", "-"]])
    who = identity.identify_folders(path, files, None, sheet, set())["Marie Dupont_101_assignsubmission_file"]
    assert who.student.id == "marie-dupont-101"
    assert who.notes == ["participant 101 absent de la feuille d'évaluation «\u00a0feuille.csv\u00a0»"]


def test_when_a_group_hands_in_then_the_worksheet_gives_its_members(tmp_path):
    path, files = download(tmp_path, ["Groupe A_12_assignsubmission_file", "Groupe par défaut_assignsubmission_file"])
    sheet = worksheet(tmp_path, FR_GROUP_HEADER, [
        ["Participant101", "Marie Dupont", "m@example.org", "Groupe A", "", "20,00", "-"],
        ["Participant102", "Paul Martin", "p@example.org", "Groupe A", "", "20,00", "-"],
        ["Participant103", "Léa Durand", "l@example.org", "Groupe par défaut", "", "20,00", "-"],
    ])
    found = identity.identify_folders(path, files, None, sheet, set())
    group = found["Groupe A_12_assignsubmission_file"]
    assert group.student.id == "groupe-groupe-a-12"
    assert group.link.participants == ("101", "102") and group.link.names == ("Marie Dupont", "Paul Martin")
    assert group.notes == ["rendu du groupe «\u00a0Groupe A\u00a0»\u00a0: la note vaut pour ses 2 membre(s)"]
    default = found["Groupe par défaut_assignsubmission_file"]
    assert default.link.participants == ("103",) and default.problem is None


def test_when_a_group_without_number_comes_without_worksheet_then_it_cannot_be_graded(tmp_path):
    path, files = download(tmp_path, ["Groupe par défaut_assignsubmission_file"])
    who = identity.identify_folders(path, files, None, None, set())["Groupe par défaut_assignsubmission_file"]
    assert who.student.id == "groupe-groupe-par-defaut"
    assert who.problem.startswith("rendu de groupe «\u00a0Groupe par défaut\u00a0» sans numéro")


def test_when_several_worksheets_are_given_then_the_one_knowing_the_download_is_chosen(tmp_path):
    _, files = download(tmp_path, ["Marie Dupont_101_assignsubmission_file", "Paul Martin_102_assignsubmission_file"])
    other = worksheet(tmp_path, FR_HEADER, [["Participant555", "X", "", "", "20,00", "-"]], "autre.csv")
    right = worksheet(tmp_path, FR_HEADER, [["Participant101", "Marie Dupont", "", "", "20,00", "-"],
                                            ["Participant102", "Paul Martin", "", "", "20,00", "-"]], "tp1.csv")
    assert identity.choose_worksheet(files, [other, right]) is right
    assert identity.choose_worksheet(files, [other]) is None
