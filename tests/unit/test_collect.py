"""Collecting submissions: nbgrader folders and Moodle downloads, odd files, and sources left untouched."""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from autograder.submissions import collect
from autograder.course import REPO_ROOT, find_assignments
from autograder.submissions.roster import Roster, Student

from ..conftest import tree_digest

EX01, EX02 = "ex01_premiers-pas", "ex02_plusieurs-variables"
NB01, NB02 = f"{EX01}.ipynb", f"{EX02}.ipynb"
DOWNLOAD_TIME = (2026, 12, 5, 8, 30, 0)


@pytest.fixture(scope="module")
def assignments():
    return find_assignments(REPO_ROOT / "source")


@pytest.fixture(scope="module")
def released() -> dict[str, bytes]:
    """The notebooks as students receive them (release/), the exact bytes they hand back untouched."""
    return {
        EX01: (REPO_ROOT / "release" / EX01 / NB01).read_bytes(),
        EX02: (REPO_ROOT / "release" / EX02 / NB02).read_bytes(),
    }


def answered(raw: bytes, marker: str) -> bytes:
    """The released notebook with a comment added to its first answer cell (to tell copies apart)."""
    notebook = json.loads(raw)
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = [f"# {marker}\n"] + cell["source"]
            break
    return json.dumps(notebook, indent=1, ensure_ascii=False).encode("utf-8")


def write(root: Path, relative: str, content: bytes | str) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def moodle_download(path: Path, entries: list[tuple[str, bytes]]) -> Path:
    """A zip as Moodle streams it: every entry dated at the download time."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries:
            archive.writestr(zipfile.ZipInfo(name, date_time=DOWNLOAD_TIME), data)
    return path


def messages(result: collect.Collection) -> dict[tuple[str, str], str]:
    return {(p.student_id, p.assignment): p.message for p in result.problems}


# --------------------------------------------------------------------------
# nbgrader's layout
# --------------------------------------------------------------------------


def test_when_folders_follow_nbgrader_layout_then_each_copy_and_its_timestamp_are_copied(
        tmp_path, assignments, released):
    source = tmp_path / "rendus"
    write(source, f"marie/{EX01}/{NB01}", released[EX01])
    write(source, f"marie/{EX01}/timestamp.txt", "2026-11-30 22:15:00.000000 UTC")
    write(source, f"paul/{EX02}/{NB02}", released[EX02])
    result = collect.collect([source], tmp_path / "submitted", assignments)

    assert sorted(result.ready) == [("marie", EX01), ("paul", EX02)]
    assert result.problems == []
    assert (tmp_path / "submitted" / "marie" / EX01 / NB01).read_bytes() == released[EX01]
    assert (tmp_path / "submitted" / "paul" / EX02 / NB02).read_bytes() == released[EX02]
    assert result.timestamps[("marie", EX01)] == datetime(2026, 11, 30, 22, 15, tzinfo=timezone.utc)
    assert (tmp_path / "submitted" / "marie" / EX01 / "timestamp.txt").read_text() == "2026-11-30 22:15:00.000000 UTC"
    assert not (tmp_path / "submitted" / "paul" / EX02 / "timestamp.txt").exists()
    assert set(result.students) == {"marie", "paul"}


def test_when_the_only_source_is_the_submitted_folder_then_nothing_is_copied_or_removed(tmp_path, assignments, released):
    submitted = tmp_path / "submitted"
    write(submitted, f"marie/{EX01}/{NB01}", released[EX01])
    before = tree_digest(submitted)
    result = collect.collect([submitted], submitted, assignments)
    assert result.ready == [("marie", EX01)]
    assert tree_digest(submitted) == before


def test_when_a_previous_submitted_folder_exists_then_it_is_rebuilt_from_scratch(tmp_path, assignments, released):
    write(tmp_path / "submitted", f"ancien/{EX01}/{NB01}", released[EX01])
    write(tmp_path / "rendus", f"marie/{EX01}/{NB01}", released[EX01])
    collect.collect([tmp_path / "rendus"], tmp_path / "submitted", assignments)
    assert sorted(p.name for p in (tmp_path / "submitted").iterdir()) == ["marie"]


def test_when_hidden_files_checkpoints_and_mac_folders_are_present_then_they_are_ignored(
        tmp_path, assignments, released):
    source = tmp_path / "rendus"
    write(source, f"marie/{EX01}/{NB01}", released[EX01])
    write(source, f"marie/{EX01}/.DS_Store", b"\x00\x00\x00\x01Bud1")
    write(source, f"marie/{EX01}/._{NB01}", b"\x00\x05\x16\x07 AppleDouble")
    write(source, f"marie/{EX01}/.ipynb_checkpoints/{EX01}-checkpoint.ipynb", b"{}")
    write(source, f"marie/.{EX01}-ancien/{NB01}", b"{}")
    write(source, f".Trash-1000/files/{EX01}/{NB01}", b"{}")
    write(source, f"__MACOSX/marie/{EX01}/._{NB01}", b"\x00\x05\x16\x07 AppleDouble")
    result = collect.collect([source], tmp_path / "submitted", assignments)
    assert result.ready == [("marie", EX01)]
    assert result.problems == []
    assert set(result.students) == {"marie"}
    assert sorted(p.name for p in (tmp_path / "submitted" / "marie" / EX01).iterdir()) == [NB01]


def test_when_a_browser_renamed_a_second_download_then_the_latest_is_chosen_and_noted(tmp_path, assignments, released):
    source = tmp_path / "rendus"
    write(source, f"marie/{EX01}/{NB01}", answered(released[EX01], "premier essai"))
    write(source, f"marie/{EX01}/{EX01} (1).ipynb", answered(released[EX01], "deuxième essai"))
    write(source, f"marie/{EX01}/{EX01} (2).ipynb", answered(released[EX01], "dernier essai"))
    result = collect.collect([source], tmp_path / "submitted", assignments)
    assert result.ready == [("marie", EX01)]
    copied = (tmp_path / "submitted" / "marie" / EX01 / NB01).read_bytes()
    assert b"# dernier essai" in copied
    assert result.notes[("marie", EX01)] == [
        f"3 versions de « {NB01} » reçues : la plus récente est corrigée (« {EX01} (2).ipynb »)"
    ]


@pytest.mark.parametrize("files, expected", [
    ({"copie.ipynb": "ex01"}, f"carnet « {NB01} » introuvable (reçu : « copie.ipynb »). Rendez le carnet sans le renommer."),
    ({"rapport.pdf": b"%PDF-1.4"}, "format non pris en charge (« rapport.pdf ») : rendez le carnet Jupyter (.ipynb) lui-même."),
    ({}, "aucun fichier rendu."),
    ({NB01: "ex02"}, f"« {NB01} » est le carnet du devoir « {EX02} », pas celui de « {EX01} »."),
    ({NB01: b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5'},
     f"Le fichier « {NB01} » n'est pas un carnet Jupyter lisible"),
    ({NB01: b""}, f"Le fichier « {NB01} » est vide."),
])
def test_when_a_copy_is_wrong_then_its_problem_is_explained_in_french(tmp_path, assignments, released, files, expected):
    folder = tmp_path / "rendus" / "marie" / EX01
    folder.mkdir(parents=True)
    for name, content in files.items():
        if content in ("ex01", "ex02"):
            content = released[EX01 if content == "ex01" else EX02]
        write(folder, name, content)
    result = collect.collect([tmp_path / "rendus"], tmp_path / "submitted", assignments)
    assert result.ready == []
    assert messages(result)[("marie", EX01)].startswith(expected)
    assert not (tmp_path / "submitted" / "marie").exists()


def test_when_a_folder_names_an_unknown_assignment_then_the_known_ones_are_listed(tmp_path, assignments, released):
    write(tmp_path / "rendus", f"marie/tp-inconnu/{NB01}", released[EX01])
    result = collect.collect([tmp_path / "rendus"], tmp_path / "submitted", assignments)
    message = messages(result)[("marie", "tp-inconnu")]
    assert message.startswith("devoir inconnu « tp-inconnu » (devoirs du cours : ex01_premiers-pas, ")
    assert "ex08_gradients-personnalises" in message


def test_when_a_copy_is_over_the_size_limit_then_it_is_refused_with_the_limit_in_megabytes(
        tmp_path, assignments, released):
    write(tmp_path / "rendus", f"marie/{EX01}/{NB01}", released[EX01])
    limit = len(released[EX01]) - 1
    result = collect.collect([tmp_path / "rendus"], tmp_path / "submitted", assignments, max_bytes=limit)
    assert messages(result)[("marie", EX01)].startswith(f"Le fichier « {NB01} » est trop volumineux (plus de ")


def test_when_a_transform_fails_on_one_copy_then_only_that_copy_is_a_problem(tmp_path, assignments, released):
    write(tmp_path / "rendus", f"marie/{EX01}/{NB01}", released[EX01])
    write(tmp_path / "rendus", f"paul/{EX01}/{NB01}", answered(released[EX01], "paul"))

    def transform(raw: bytes, assignment: str, notebook: str) -> bytes:
        if b"# paul" in raw:
            raise KeyError("boom")
        return raw.upper()

    result = collect.collect([tmp_path / "rendus"], tmp_path / "submitted", assignments, transform=transform)
    assert result.ready == [("marie", EX01)]
    assert (tmp_path / "submitted" / "marie" / EX01 / NB01).read_bytes() == released[EX01].upper()
    assert messages(result)[("paul", EX01)] == (
        f"« {NB01} » n'a pas pu être préparé pour la correction (KeyError). "
        "Ouvrez-le dans JupyterLab, enregistrez-le, puis rendez-le à nouveau."
    )


def test_when_a_class_list_is_given_then_unknown_ids_get_a_note(tmp_path, assignments, released):
    write(tmp_path / "rendus", f"inconnu/{EX01}/{NB01}", released[EX01])
    roster = Roster([Student("marie", "Dupont", "Marie")])
    result = collect.collect([tmp_path / "rendus"], tmp_path / "submitted", assignments, roster=roster)
    assert result.notes[("inconnu", EX01)] == ["identifiant absent de la liste de la classe"]
    assert set(result.students) == {"marie", "inconnu"}


@pytest.mark.parametrize("make, expected", [
    (lambda p: p / "absent", "Le dossier de rendus « {p}/absent » n'existe pas."),
    (lambda p: write(p, "notes.txt", "?"), "« {p}/notes.txt » n'est ni un dossier de rendus ni une archive .zip"),
])
def test_when_a_source_cannot_be_read_then_collect_error_says_why(tmp_path, assignments, make, expected):
    source = make(tmp_path)
    with pytest.raises(collect.CollectError) as error:
        collect.collect([source], tmp_path / "submitted", assignments)
    assert str(error.value).startswith(expected.format(p=tmp_path))


# --------------------------------------------------------------------------
# Moodle downloads
# --------------------------------------------------------------------------


def test_when_a_moodle_download_is_collected_then_every_layout_is_matched_to_the_class_list(
        tmp_path, assignments, released):
    archive = moodle_download(tmp_path / "tp1.zip", [
        (f"Marie Dupont_101_assignsubmission_file/{NB01}", released[EX01]),  # Moodle ≥ 4.1
        (f"Paul Martin_102_assignsubmission_file_/{NB01}", answered(released[EX01], "paul")),  # before 4.1
        (f"Léa Durand_103_assignsubmission_file_{NB01}", answered(released[EX01], "léa")),  # flat download
        ("Léa Durand_103_assignsubmission_onlinetext_/onlinetext.html", b"<p>voir le carnet</p>"),
        (f"__MACOSX/Marie Dupont_101_assignsubmission_file/._{NB01}", b"\x00\x05\x16\x07"),
    ])
    roster = Roster([Student("mdupont", "Dupont", "Marie"), Student("pmartin", "Martin", "Paul"),
                     Student("ldurand", "Durand", "Léa")])
    before = tree_digest(tmp_path)
    result = collect.collect([archive], tmp_path / "submitted", assignments, roster=roster, assignment=EX01)

    assert sorted(result.ready) == [("ldurand", EX01), ("mdupont", EX01), ("pmartin", EX01)]
    assert result.problems == []
    assert (tmp_path / "submitted" / "mdupont" / EX01 / NB01).read_bytes() == released[EX01]
    assert b"# l\xc3\xa9a" in (tmp_path / "submitted" / "ldurand" / EX01 / NB01).read_bytes()
    assert result.moodle[("pmartin", EX01)].participants == ("102",)
    assert result.notes[("ldurand", EX01)] == [
        "texte saisi en ligne dans Moodle ignoré (« onlinetext.html ») : seul le carnet rendu est corrigé"
    ]
    # Without the worksheet, dates of the zip (the download's) are never taken as hand-in times.
    assert result.timestamps == {}
    assert len(result.warnings) == 1 and "--moodle-worksheet" in result.warnings[0]
    assert {k: v for k, v in tree_digest(tmp_path).items() if not k.startswith("submitted")} == before


def test_when_moodle_names_a_notebook_with_no_assignment_given_then_it_is_recognised_from_its_cells(
        tmp_path, assignments, released):
    archive = moodle_download(tmp_path / "rendus.zip", [
        ("Marie Dupont_101_assignsubmission_file/mon-travail.ipynb", released[EX02]),
    ])
    result = collect.collect([archive], tmp_path / "submitted", assignments)
    assert list(messages(result)) == [("marie-dupont-101", EX02)]
    assert messages(result)[("marie-dupont-101", EX02)] == (
        f"carnet « {NB02} » introuvable (reçu : « mon-travail.ipynb »). Rendez le carnet sans le renommer."
    )


def test_when_a_zip_is_not_a_moodle_download_then_collect_error_names_the_expected_layout(tmp_path, assignments):
    archive = moodle_download(tmp_path / "perso.zip", [(f"mes-devoirs/{NB01}", b"{}")])
    before = archive.read_bytes()
    with pytest.raises(collect.CollectError, match="n'est pas un téléchargement de devoir Moodle"):
        collect.collect([archive], tmp_path / "submitted", assignments)
    assert archive.read_bytes() == before


def test_when_homonyms_hand_in_then_neither_is_given_a_class_list_id(tmp_path, assignments, released):
    archive = moodle_download(tmp_path / "tp1.zip", [
        (f"Marie Dupont_101_assignsubmission_file/{NB01}", released[EX01]),
        (f"Marie Dupont_202_assignsubmission_file/{NB01}", answered(released[EX01], "l'autre")),
    ])
    roster = Roster([Student("mdupont1", "Dupont", "Marie"), Student("mdupont2", "Dupont", "Marie")])
    result = collect.collect([archive], tmp_path / "submitted", assignments, roster=roster, assignment=EX01)
    assert sorted(result.ready) == [("homonyme-marie-dupont-101", EX01), ("homonyme-marie-dupont-202", EX01)]
    assert len(result.ambiguities) == 2
    assert all("2 personnes de ce nom" in text and "mdupont1, mdupont2" in text for text in result.ambiguities)


def test_when_sources_of_every_kind_are_collected_then_none_of_their_bytes_change(tmp_path, assignments, released):
    sources = tmp_path / "sources"
    write(sources, f"dossier/marie/{EX01}/{NB01}", released[EX01])
    write(sources, f"dossier/marie/{EX01}/timestamp.txt", "2026-11-30 22:15:00 UTC")
    write(sources, f"dossier/paul/{EX01}/copie.ipynb", b"{\"cells\": 3}")
    moodle_download(sources / "tp1.zip", [
        (f"Léa Durand_103_assignsubmission_file/{NB01}", released[EX01]),
        (f"Léa Durand_103_assignsubmission_file/{EX01} (1).ipynb", answered(released[EX01], "léa")),
    ])
    before = tree_digest(sources)
    result = collect.collect([sources / "dossier", sources / "tp1.zip"], tmp_path / "submitted", assignments,
                             assignment=EX01, transform=lambda raw, name, notebook: raw + b"\n")
    assert len(result.ready) == 2 and len(result.problems) == 1
    assert tree_digest(sources) == before


# --------------------------------------------------------------------------
# Helpers that read notebooks
# --------------------------------------------------------------------------


def test_when_cells_carry_grade_ids_then_only_graded_and_answer_cells_count():
    notebook = {"cells": [
        {"metadata": {"nbgrader": {"grade_id": "q1", "solution": True}}},
        {"metadata": {"nbgrader": {"grade_id": "t1", "grade": True}}},
        {"metadata": {"nbgrader": {"grade_id": "consigne", "grade": False, "solution": False}}},
        {"metadata": {"nbgrader": {"grade_id": 7, "solution": True}}},
        {"metadata": "pas un dict"}, "pas une cellule", {},
    ]}
    assert collect.cell_grade_ids(notebook) == {"q1", "t1"}
    assert collect.cell_grade_ids({"cells": "rien"}) == set() and collect.cell_grade_ids([]) == set()


def test_when_notebook_bytes_are_checked_then_a_valid_one_is_loaded_and_others_get_a_reason(released):
    reason, loaded = collect.check_notebook_bytes(released[EX01], NB01)
    assert reason is None and len(loaded.notebook["cells"]) == len(json.loads(released[EX01])["cells"])
    reason, loaded = collect.check_notebook_bytes(b"[1, 2]", "x.ipynb")
    assert loaded is None
    assert reason == "le fichier « x.ipynb » est un JSON, mais pas un carnet Jupyter (aucune liste de cellules)."


def test_a_notebook_put_directly_in_a_student_folder_is_recognised_by_its_cells(tmp_path, assignments, released):
    root = tmp_path / "rendus"
    write(root, f"ada/{NB01}", answered(released[EX01], "ada"))
    write(root, f"ben/{NB02}", answered(released[EX02], "ben"))
    write(root, "eve/renomme.ipynb", answered(released[EX02], "eve"))  # recognised, but renamed: refused as in a folder
    write(root, f"cyd/{EX01}/{NB01}", answered(released[EX01], "cyd"))
    write(root, "dan/notes.ipynb", json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    result = collect.collect([root], tmp_path / "submitted", assignments)
    assert sorted(result.ready) == [("ada", EX01), ("ben", EX02), ("cyd", EX01)]
    assert b"# ada" in (tmp_path / "submitted" / "ada" / EX01 / NB01).read_bytes()
    assert b"# ben" in (tmp_path / "submitted" / "ben" / EX02 / NB02).read_bytes()
    problems = {(p.student_id, p.assignment): p.message for p in result.problems}
    assert sorted(problems) == [("dan", "?"), ("eve", EX02)]
    assert "aucun devoir du cours" in problems[("dan", "?")]
    assert "sans le renommer" in problems[("eve", EX02)]


def test_a_notebook_at_the_top_of_the_folder_is_named_in_a_warning(tmp_path, assignments, released):
    root = tmp_path / "rendus"
    write(root, NB01, released[EX01])
    write(root, f"ada/{EX01}/{NB01}", released[EX01])
    result = collect.collect([root], tmp_path / "submitted", assignments)
    assert result.ready == [("ada", EX01)]
    assert len(result.warnings) == 1 and f"« {NB01} » ignoré" in result.warnings[0].replace("\u00a0", " ")
