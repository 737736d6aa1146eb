"""The class list: the CSV of ``nbgrader db student import`` however a spreadsheet saved it, and name matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from autograder.submissions import roster
from autograder.submissions.roster import Roster, RosterError, Student

HEADER = "id,last_name,first_name,email,lms_user_id"


def class_list(tmp_path: Path, text: str, *, encoding: str = "utf-8", bom: bool = False) -> Path:
    path = tmp_path / "classe.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
    return path


@pytest.mark.parametrize("separator", [",", ";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_when_a_class_list_is_read_then_any_separator_and_a_bom_give_the_same_students(tmp_path, separator, bom):
    text = "\r\n".join(line.replace(",", separator) for line in [
        HEADER, "mdupont,Dupont,Marie,Marie.Dupont@example.org,101", "ehebert, Hébert ,Élodie,,", "",
    ])
    loaded = Roster.load(class_list(tmp_path, text, bom=bom))
    assert loaded.students == {
        "mdupont": Student("mdupont", "Dupont", "Marie", "Marie.Dupont@example.org", "101"),
        "ehebert": Student("ehebert", "Hébert", "Élodie", "", ""),
    }


def test_when_only_the_id_column_is_present_then_the_other_fields_are_empty(tmp_path):
    loaded = Roster.load(class_list(tmp_path, "id\nmdupont\n  \npmartin\n"))
    assert loaded.students == {"mdupont": Student("mdupont"), "pmartin": Student("pmartin")}
    assert "mdupont" in loaded and "absent" not in loaded


def test_when_the_id_column_is_missing_then_the_error_names_the_expected_columns_in_french(tmp_path):
    path = class_list(tmp_path, "nom,prénom\nDupont,Marie\n")
    with pytest.raises(RosterError) as error:
        Roster.load(path)
    assert str(error.value) == (
        f"La liste de la classe «\u00a0{path}\u00a0» doit avoir une colonne «\u00a0id\u00a0» "
        "(colonnes reconnues\u00a0: id, last_name, first_name, email, lms_user_id)."
    )


def test_when_a_spreadsheet_saved_the_list_in_cp1252_then_the_error_says_it_is_unreadable(tmp_path):
    path = class_list(tmp_path, f"{HEADER}\nehebert,Hébert,Élodie,,\n", encoding="cp1252")
    with pytest.raises(RosterError, match="^La liste de la classe «\u00a0.*\u00a0» est illisible\u00a0: .*codec"):
        Roster.load(path)


def test_when_the_file_does_not_exist_then_the_error_says_so_in_french(tmp_path):
    with pytest.raises(RosterError) as error:
        Roster.load(tmp_path / "absente.csv")
    assert str(error.value) == f"La liste de la classe «\u00a0{tmp_path / 'absente.csv'}\u00a0» n'existe pas."


def test_when_the_file_is_empty_then_the_class_is_empty():
    assert Roster([]).students == {}


def test_when_an_empty_file_is_loaded_then_the_class_is_empty(tmp_path):
    assert Roster.load(class_list(tmp_path, "")).students == {}


def test_when_a_name_is_looked_up_then_order_case_accents_and_removed_characters_do_not_matter():
    students = Roster([Student("jdarc", "D'Arc", "Jeanne"), Student("ehebert", "Hébert", "Élodie")])
    assert students.by_name("Jeanne DArc").id == "jdarc"  # Moodle's clean_filename drops the apostrophe
    assert students.by_name("darc jeanne").id == "jdarc"
    assert students.by_name("HEBERT Elodie").id == "ehebert"
    assert students.by_name("Élodie") is None


def test_when_two_students_share_a_name_then_by_name_refuses_to_choose_and_named_lists_both():
    students = Roster([Student("mdupont1", "Dupont", "Marie"), Student("mdupont2", "Dupont", "Marie")])
    assert students.by_name("Marie Dupont") is None
    assert [s.id for s in students.named("Dupont Marie")] == ["mdupont1", "mdupont2"]


def test_when_an_email_is_looked_up_then_case_and_spaces_do_not_matter_but_a_shared_address_matches_nobody():
    students = Roster([Student("a", email="Marie.Dupont@Example.org "), Student("b", email="x@example.org"),
                       Student("c", email="x@example.org"), Student("d")])
    assert students.by_email(" marie.dupont@example.ORG").id == "a"
    assert students.by_email("x@example.org") is None
    assert students.by_email("") is None


@pytest.mark.parametrize("name, expected", [
    ("Élodie Hébert", "elodie-hebert"), ("Jeanne D'Arc", "jeanne-d-arc"), ("  ", "etudiant"), ("李", "etudiant"),
])
def test_when_an_id_is_made_from_a_name_then_it_is_lower_case_ascii_with_dashes(name, expected):
    assert roster.slug(name) == expected


def test_when_name_keys_are_compared_then_word_order_does_not_matter():
    assert roster.name_key("Hébert  Élodie") == roster.name_key("élodie hebert") == "elodie hebert"
