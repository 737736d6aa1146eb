"""Reading a submitted notebook whatever its bytes, and rebuilding its answers into the source notebook."""

from __future__ import annotations

import codecs
import json

import nbformat
import pytest

from autograder.submissions import notebook_io
from autograder.course import REPO_ROOT

EX01 = "ex01_premiers-pas"
ANSWERS = ("gradient_affine", "carre_et_derivee", "derivee_en", "derivee_cube", "explication")


@pytest.fixture(scope="module")
def source():
    return nbformat.read(REPO_ROOT / "source" / EX01 / f"{EX01}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def released() -> dict:
    return json.loads((REPO_ROOT / "release" / EX01 / f"{EX01}.ipynb").read_text(encoding="utf-8"))


def copy_with(released: dict, answers: dict[str, object]) -> dict:
    """The released notebook with some answer cells' sources replaced."""
    notebook = json.loads(json.dumps(released))
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
    return notebook


def cells_by_grade_id(notebook) -> dict[str, dict]:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in notebook["cells"] if "nbgrader" in c["metadata"]}


# --------------------------------------------------------------------------
# Reading bytes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [
    lambda t: t.encode("utf-8"),
    lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    lambda t: t.encode("utf-16"),
    lambda t: t.encode("utf-32"),
    lambda t: t.replace("\n", "\r\n").encode("utf-8"),
], ids=["utf-8", "utf-8-bom", "utf-16", "utf-32", "crlf"])
def test_when_a_notebook_is_saved_in_any_unicode_form_then_the_same_cells_are_read(released, encode):
    text = json.dumps(released, indent=1, ensure_ascii=False)
    loaded = notebook_io.load(encode(text), "copie.ipynb")
    assert loaded.replaced == 0 and loaded.notes == []
    assert [c["id"] for c in loaded.notebook["cells"]] == [c["id"] for c in released["cells"]]
    assert loaded.notebook["cells"][0]["source"] == released["cells"][0]["source"]


def test_when_a_stray_latin1_byte_is_inside_then_it_is_replaced_and_the_student_is_told(released):
    notebook = copy_with(released, {"gradient_affine": "# gar\u00e7on d\u00e9j\u00e0 l\u00e0\nreturn 1\n"})
    raw = json.dumps(notebook, ensure_ascii=False).encode("utf-8")
    raw = raw.replace("gar\u00e7on d\u00e9j\u00e0".encode(), "gar\u00e7on d\u00e9j\u00e0".encode("latin-1"))
    loaded = notebook_io.load(raw, "copie.ipynb")
    assert loaded.replaced == 3
    assert loaded.notes == [
        "fichier qui n'est pas entièrement en UTF-8\u00a0: 3 séquences d'octets illisibles remplacées par "
        "«\u00a0�\u00a0» (enregistrez vos carnets depuis JupyterLab)"
    ]
    assert notebook_io.find_answers(loaded.notebook, {"cells": released["cells"]}).sources["gradient_affine"] == (
        "# gar\ufffdon d\ufffdj\ufffd l\u00e0\nreturn 1\n"
    )


@pytest.mark.parametrize("raw, expected", [
    (b"", "le fichier «\u00a0copie.ipynb\u00a0» est vide."),
    (b"  \n", "le fichier «\u00a0copie.ipynb\u00a0» est vide."),
    (b'{"cells": [', "le fichier «\u00a0copie.ipynb\u00a0» n'est pas un carnet Jupyter lisible\u00a0: JSON invalide "
                     "(ligne 1, colonne 12). Le fichier a peut-être été tronqué ou modifié hors de JupyterLab."),
    (b"\xe9\xe8 pas du JSON", "le fichier «\u00a0copie.ipynb\u00a0» n'est pas un texte UTF-8\u00a0: ce n'est pas un carnet Jupyter."),
    (b"[" * 100_000, None),
    (b"[" * 100_000 + b"]" * 100_000, "le fichier «\u00a0copie.ipynb\u00a0» n'est pas un carnet Jupyter lisible\u00a0: "
                                      "structure JSON imbriquée trop profondément."),
    (b"[1, 2]", "le fichier «\u00a0copie.ipynb\u00a0» est un JSON, mais pas un carnet Jupyter (aucune liste de cellules)."),
    (b'{"cells": {}}', "le fichier «\u00a0copie.ipynb\u00a0» est un JSON, mais pas un carnet Jupyter (aucune liste de cellules)."),
    (b'{"nbformat": 2, "worksheets": []}', "le fichier «\u00a0copie.ipynb\u00a0» est un carnet d'un format trop ancien "
                                           "(nbformat 2)\u00a0: ouvrez-le dans JupyterLab, enregistrez-le, puis rendez-le à nouveau."),
])
def test_when_bytes_are_not_a_usable_notebook_then_unusable_gives_the_french_reason(raw, expected):
    with pytest.raises(notebook_io.Unusable) as error:
        notebook_io.load(raw, "copie.ipynb")
    if expected is not None:
        assert str(error.value) == expected
    else:
        assert str(error.value).startswith("le fichier «\u00a0copie.ipynb\u00a0» n'est pas un carnet Jupyter lisible")


def test_when_a_notebook_is_in_format_3_then_its_cells_are_converted(released):
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["x = 1\n", "y = 2"], "metadata": {"nbgrader": {"grade_id": "q", "solution": True}}},
        {"cell_type": "heading", "level": 2, "source": "Titre", "metadata": {}},
        {"cell_type": "code", "input": 42, "metadata": {}},
        "pas une cellule",
    ]}]}
    loaded = notebook_io.load(json.dumps(v3).encode(), "ancien.ipynb")
    assert loaded.converted_from == 3
    cells = loaded.notebook["cells"]
    assert [c["cell_type"] for c in cells] == ["code", "markdown", "code"]
    assert cells[0]["source"] == "x = 1\ny = 2" and cells[0]["metadata"] == {"nbgrader": {"grade_id": "q", "solution": True}}
    assert cells[1]["source"] == "## Titre"
    assert cells[2]["source"] is None  # not text: unreadable, never invented


def test_when_a_notebook_is_of_an_older_minor_version_then_its_cells_get_ids():
    v40 = {"nbformat": 4, "nbformat_minor": 0, "metadata": {},
           "cells": [{"cell_type": "code", "source": "1", "metadata": {}, "outputs": [], "execution_count": None}]}
    cells = notebook_io.load(json.dumps(v40).encode()).notebook["cells"]
    assert isinstance(cells[0]["id"], str) and cells[0]["id"] and cells[0]["source"] == "1"


# --------------------------------------------------------------------------
# Answers and rebuilding
# --------------------------------------------------------------------------


def test_when_a_copy_is_rebuilt_then_only_its_answers_enter_the_source_notebook(source, released):
    copy = copy_with(released, {"gradient_affine": ["def gradient_affine(a, b, x):\n", "    return a\n"],
                                "explication": "Parce que."})
    for cell in copy["cells"]:  # a student who edited a test and the instructions: ignored
        if cell["metadata"].get("nbgrader", {}).get("grade") and not cell["metadata"]["nbgrader"].get("solution"):
            cell["source"] = "assert True"
    answers = notebook_io.usable_answers(notebook_io.load(json.dumps(copy).encode()).notebook, source)
    rebuilt = notebook_io.rebuild(source, answers)

    nbformat.validate(rebuilt)
    assert [c["id"] for c in rebuilt.cells] == [c["id"] for c in source.cells]
    cells, originals = cells_by_grade_id(rebuilt), cells_by_grade_id(source)
    assert cells["gradient_affine"].source == "def gradient_affine(a, b, x):\n    return a\n"
    assert cells["explication"].source == "Parce que."
    assert cells["test_gradient_affine"].source == originals["test_gradient_affine"].source != "assert True"
    # Untouched answers come back as the released stub, with the stub's checksum (nbgrader sees « no answer »).
    released_cells = cells_by_grade_id(released)
    assert cells["derivee_en"].source == "".join(released_cells["derivee_en"]["source"])
    assert cells["derivee_en"].metadata.nbgrader.checksum == released_cells["derivee_en"]["metadata"]["nbgrader"]["checksum"]
    assert all(c.outputs == [] and c.execution_count is None for c in rebuilt.cells if c.cell_type == "code")


def test_when_answer_cells_are_missing_or_not_text_then_they_raise_in_the_rebuilt_notebook(source, released):
    copy = copy_with(released, {"gradient_affine": {"pas": "du texte"}, "carre_et_derivee": "def carre_et_derivee(x): ..."})
    copy["cells"] = [c for c in copy["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") != "derivee_cube"]
    answers = notebook_io.find_answers(copy, source)
    assert answers.unreadable == {"gradient_affine"}
    cells = cells_by_grade_id(notebook_io.rebuild(source, answers))
    assert cells["gradient_affine"].source == notebook_io.UNREADABLE_ANSWER
    assert cells["derivee_cube"].source == notebook_io.MISSING_ANSWER
    assert cells["carre_et_derivee"].source == "def carre_et_derivee(x): ..."


def test_when_nbgrader_metadata_was_lost_then_the_answer_is_found_by_its_unique_cell_id(source, released):
    copy = copy_with(released, {"gradient_affine": "return 'par id'", "derivee_en": "return 'doublon'"})
    for cell in copy["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") in ("gradient_affine", "derivee_en"):
            cell["metadata"] = {}
    duplicate = next(c for c in copy["cells"] if c["source"] == "return 'doublon'")
    copy["cells"].append(dict(duplicate))  # a cell id borne twice: neither copy is trusted
    answers = notebook_io.find_answers(copy, source)
    assert answers.sources["gradient_affine"] == "return 'par id'"
    assert answers.by_cell_id == {"gradient_affine"}
    assert "derivee_en" not in answers.sources


def test_when_an_answer_cell_is_duplicated_then_the_last_readable_copy_wins(source, released):
    copy = copy_with(released, {"gradient_affine": "return 1"})
    later = json.loads(json.dumps(next(c for c in copy["cells"] if c["source"] == "return 1")))
    later["source"], later["id"] = "return 2", "autre-id"
    unreadable = dict(later, source=None, id="encore-un")
    copy["cells"] += [later, unreadable]
    assert notebook_io.find_answers(copy, source).sources["gradient_affine"] == "return 2"


@pytest.mark.parametrize("submitted", [
    {"cells": []}, {"cells": "rien"}, None, [], {"cells": [{"cell_type": "code", "source": "x", "metadata": {}}]},
])
def test_when_no_answer_can_be_found_then_usable_answers_explains_how_to_hand_in_again(source, submitted):
    with pytest.raises(notebook_io.Unusable) as error:
        notebook_io.usable_answers(submitted, source)
    assert str(error.value) == notebook_io.NO_ANSWER
    assert str(error.value).startswith("aucune cellule de réponse reconnaissable dans le carnet rendu\u00a0:")


def test_when_every_answer_is_unreadable_then_usable_answers_says_they_are_not_text(source, released):
    copy = copy_with(released, {grade_id: [1, 2] for grade_id in ANSWERS})
    with pytest.raises(notebook_io.Unusable) as error:
        notebook_io.usable_answers(copy, source)
    assert str(error.value) == notebook_io.ONLY_UNREADABLE_ANSWERS


def test_when_a_source_has_carriage_returns_or_lone_surrogates_then_the_answer_is_clean_text(source, released):
    raw = json.dumps(copy_with(released, {"gradient_affine": "a = 1\r\nb = '\ud800'\rc = 3"})).encode()
    answers = notebook_io.find_answers(notebook_io.load(raw).notebook, source)
    assert answers.sources["gradient_affine"] == "a = 1\nb = '\ufffd'\nc = 3"
    nbformat.writes(notebook_io.rebuild(source, answers)).encode("utf-8")  # writable as UTF-8
