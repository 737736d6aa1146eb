"""Notebooks of every structure: each is graded when its answers can be found, otherwise rejected.

Each structure is the demo's partial copy of ex01 (built from release/ and the solutions of
source/) saved in an odd way. Unit tests read and rebuild each one (fast); one grading run
grades them all beside the same answers saved plainly and a correct control copy.
"""

from __future__ import annotations

import codecs
import html
import json
import time
from pathlib import Path
from typing import Callable

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.submissions import notebook_io
from autograder.submissions.collect import check_notebook_bytes, collect
from autograder.course import REPO_ROOT, find_assignments
from coursetools.demo import DEMO_ASSIGNMENT, demo_files
from autograder.execution.preprocessor import rebuild, rebuild_bytes
from autograder.grading.pipeline import run
from autograder.model import Status

from .conftest import tree_digest
from .test_french import typography_errors

NOTEBOOK = f"{DEMO_ASSIGNMENT}.ipynb"
TEMPLATE = REPO_ROOT / "source" / DEMO_ASSIGNMENT / NOTEBOOK
FULL_AUTO = 9.0  # ex01: 10 points, of which 1 is graded by hand
ANSWERS = ("gradient_affine", "carre_et_derivee", "derivee_en", "derivee_cube", "explication")
UNREADABLE_QUESTION = "gradient_affine"  # the answer made unreadable by "source-pas-du-texte"


def _demo(kind: str) -> str:
    return next(content for path, content in demo_files().items() if path.parts[0] == kind)


PLAIN = _demo("demo-partiel")  # some answers right, one wrong, one untouched: a score that tells
CONTROL = _demo("demo-parfait")


def _nb() -> dict:
    return json.loads(PLAIN)


def _grade_id(cell: dict) -> object:
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta.get("grade_id") if isinstance(meta, dict) else None


def _answer(nb: dict, grade_id: str) -> dict:
    return next(c for c in nb["cells"] if _grade_id(c) == grade_id)


def _answers(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if _grade_id(c) in ANSWERS]


def _dump(nb: dict) -> bytes:
    return json.dumps(nb, indent=1).encode("utf-8")


def _edited(edit: Callable[[dict], None]) -> Callable[[], bytes]:
    def build() -> bytes:
        nb = _nb()
        edit(nb)
        return _dump(nb)
    return build


# --------------------------------------------------------------------------
# The structures
# --------------------------------------------------------------------------


def _crlf() -> bytes:
    nb = _nb()
    for cell in _answers(nb):
        cell["source"] = [line.replace("\n", "\r\n") for line in cell["source"]]
    return _dump(nb).replace(b"\n", b"\r\n")


def _grade_id_list(nb: dict) -> None:  # the reported crash: valid JSON, passes nbformat.validate
    _answer(nb, "gradient_affine")["metadata"]["nbgrader"]["grade_id"] = ["gradient_affine"]


def _grade_ids_of_wrong_types(nb: dict) -> None:
    for cell, value in zip(_answers(nb), (1, None, {"id": "x"}, 2.5, True)):
        cell["metadata"]["nbgrader"]["grade_id"] = value


def _no_nbgrader_metadata(nb: dict) -> None:  # cell ids remain: answers are found by them
    for cell in _answers(nb):
        del cell["metadata"]["nbgrader"]


def _metadata_of_wrong_types(nb: dict) -> None:
    first, second, third, *_ = _answers(nb)
    first["metadata"] = ["gradient_affine"]
    second["metadata"]["nbgrader"] = "carre_et_derivee"
    del third["metadata"]


def _duplicated_answer(nb: dict) -> None:  # an earlier copy (a new cell id): the last one counts
    cell = _answer(nb, "gradient_affine")
    earlier = json.loads(json.dumps(cell))
    earlier["id"], earlier["source"] = "copie-plus-ancienne", "def gradient_affine(a, b, x):\n    return 0.0\n"
    nb["cells"].insert(nb["cells"].index(cell), earlier)


def _unreadable_later_copy(nb: dict) -> None:  # a later copy that is not text does not replace the answer
    cell = _answer(nb, "gradient_affine")
    later = json.loads(json.dumps(cell))
    later["id"], later["source"] = "copie-illisible", {"code": 42}
    nb["cells"].append(later)


def _only_answer_cells(nb: dict) -> None:  # statements and tests deleted: they come from source/
    nb["cells"] = _answers(nb)


def _reversed(nb: dict) -> None:
    nb["cells"].reverse()


def _sources_as_strings(nb: dict) -> None:
    for cell in nb["cells"]:
        cell["source"] = "".join(cell["source"])


def _junk_cells(nb: dict) -> None:
    nb["cells"][1:1] = [None, 3, "texte", [], {}, {"cell_type": "inconnu", "metadata": 7, "source": 8},
                        {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "inconnue", "solution": True}},
                         "source": "x = 1", "outputs": "pas une liste"}]


def _extra_fields(nb: dict) -> None:
    nb["champ_inconnu"] = {"a": [1, 2]}
    nb["metadata"] = "pas un dict"
    for cell in nb["cells"]:
        cell["attachments"] = 5
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "inconnu"}, 3]
            cell["execution_count"] = "dix"


def _no_solution_flag(nb: dict) -> None:
    for cell in _answers(nb):
        del cell["metadata"]["nbgrader"]["solution"]


def _nbformat_3() -> bytes:
    notebook = nbformat.reads(PLAIN, as_version=4)
    text = nbformat.writes(nbformat.convert(notebook, 3))
    assert json.loads(text)["nbformat"] == 3 and "worksheets" in json.loads(text)
    return text.encode("utf-8")


def _nbformat_4_0(nb: dict) -> None:
    nb["nbformat_minor"] = 0
    for cell in nb["cells"]:
        del cell["id"]


def _thousands_of_cells(nb: dict) -> None:
    filler = [{"cell_type": "code", "id": f"remplissage-{i}", "metadata": {}, "execution_count": i,
               "source": [f"print({i})\n"], "outputs": [{"output_type": "stream", "name": "stdout", "text": [f"{i}\n"]}]}
              for i in range(5000)]
    nb["cells"] = filler[:2500] + nb["cells"] + filler[2500:]


def _invalid_utf8_in_a_comment() -> bytes:
    nb = _nb()
    _answer(nb, "carre_et_derivee")["source"].insert(0, "# MARQUE-LATIN1\n")
    return _dump(nb).replace(b"MARQUE-LATIN1", "dérivée".encode("latin-1"))


def _lone_surrogate_in_a_comment(nb: dict) -> None:
    _answer(nb, "carre_et_derivee")["source"].insert(0, "# \ud800 seul\n")  # written as the escape \ud800


def _one_source_not_text(nb: dict) -> None:
    _answer(nb, UNREADABLE_QUESTION)["source"] = ["def gradient_affine(a, b, x):\n", 3]


def _cells_not_a_list(nb: dict) -> None:
    nb["cells"] = {str(i): cell for i, cell in enumerate(nb["cells"])}


def _recreated_notebook(nb: dict) -> None:  # answers pasted into a new notebook: no metadata, new ids
    for index, cell in enumerate(nb["cells"]):
        cell["metadata"], cell["id"] = {}, f"nouvelle-{index}"


def _only_unreadable_answers(nb: dict) -> None:
    for cell in _answers(nb):
        cell["source"] = 42


def _nbformat_2() -> bytes:
    return json.dumps({"nbformat": 2, "nbformat_minor": 0, "metadata": {},
                       "worksheets": [{"cells": [{"cell_type": "code", "input": "x = 1"}]}]}).encode()


#: name -> builder of the submitted bytes.
GRADED_AS_PLAIN: dict[str, Callable[[], bytes]] = {
    "bom-utf8": lambda: codecs.BOM_UTF8 + PLAIN.encode("utf-8"),
    "crlf": _crlf,
    "utf16-avec-bom": lambda: PLAIN.encode("utf-16"),
    "grade-id-liste": _edited(_grade_id_list),
    "grade-id-mauvais-types": _edited(_grade_ids_of_wrong_types),
    "metadonnees-nbgrader-absentes": _edited(_no_nbgrader_metadata),
    "metadonnees-mauvais-types": _edited(_metadata_of_wrong_types),
    "reponse-dupliquee": _edited(_duplicated_answer),
    "copie-illisible-apres": _edited(_unreadable_later_copy),
    "cellules-non-reponse-absentes": _edited(_only_answer_cells),
    "cellules-dans-le-desordre": _edited(_reversed),
    "sources-en-une-chaine": _edited(_sources_as_strings),
    "cellules-invalides": _edited(_junk_cells),
    "champs-invalides": _edited(_extra_fields),
    "sans-drapeau-solution": _edited(_no_solution_flag),
    "nbformat-3": _nbformat_3,
    "nbformat-4-0": _edited(_nbformat_4_0),
    "cinq-mille-cellules": _edited(_thousands_of_cells),
    "utf8-invalide-dans-un-commentaire": _invalid_utf8_in_a_comment,
    "surrogate-isole": _edited(_lone_surrogate_in_a_comment),
}
#: Graded, but the answer to UNREADABLE_QUESTION is unreadable (0 for it, the rest as plain).
GRADED_ONE_UNREADABLE: dict[str, Callable[[], bytes]] = {
    "source-pas-du-texte": _edited(_one_source_not_text),
}
#: name -> (builder, words of the French reason).
REJECTED: dict[str, tuple[Callable[[], bytes], str]] = {
    "cellules-pas-une-liste": (_edited(_cells_not_a_list), "aucune liste de cellules"),
    "carnet-recree": (_edited(_recreated_notebook), "aucune cellule de réponse reconnaissable"),
    "reponses-toutes-illisibles": (_edited(_only_unreadable_answers), "sont illisibles"),
    "binaire": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe\x80" * 50, "n'est pas un texte UTF-8"),
    "utf16-sans-bom": (lambda: PLAIN.encode("utf-16-le"), "n'est pas un texte UTF-8"),
    "json-liste": (lambda: b"[1, 2, 3]", "pas un carnet Jupyter"),
    "nbformat-2": (_nbformat_2, "format trop ancien"),
    "json-trop-imbrique": (lambda: b"[" * 200_000 + b"]" * 200_000, "imbriquée trop profondément"),
    "bom-seul": (lambda: codecs.BOM_UTF8 + b"\r\n", "est vide"),
}
STRUCTURES = len(GRADED_AS_PLAIN) + len(GRADED_ONE_UNREADABLE) + len(REJECTED)


def _answer_sources(raw: bytes) -> dict[str, str]:
    notebook = nbformat.reads(rebuild_bytes(TEMPLATE, raw).decode("utf-8"), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in notebook.cells if c.metadata["nbgrader"].get("solution")}


def _clean(text: str) -> str:
    return text.replace("\u00a0", " ")


# --------------------------------------------------------------------------
# Reading and rebuilding (fast)
# --------------------------------------------------------------------------


def test_there_are_at_least_thirty_structures():
    assert STRUCTURES >= 30


@pytest.mark.parametrize("name", sorted(GRADED_AS_PLAIN))
def test_when_a_notebook_has_an_odd_structure_then_the_rebuilt_copy_holds_the_same_answers(name):
    raw = GRADED_AS_PLAIN[name]()
    assert raw != PLAIN.encode("utf-8")
    reason, loaded = check_notebook_bytes(raw, NOTEBOOK)
    assert reason is None and loaded is not None
    expected = _answer_sources(PLAIN.encode("utf-8"))
    got = _answer_sources(raw)
    if name in ("utf8-invalide-dans-un-commentaire", "surrogate-isole"):
        # Only the comment's unreadable characters differ; they are replaced by « � ».
        assert "\ufffd" in got["carre_et_derivee"]
        got["carre_et_derivee"] = got["carre_et_derivee"].split("\n", 1)[1]
    assert got == expected


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_when_no_answer_can_be_found_then_the_reason_is_french_and_says_what_to_do(name):
    build, words = REJECTED[name]
    raw = build()
    reason, loaded = check_notebook_bytes(raw, NOTEBOOK)
    if reason is None:  # readable, but the answers are nowhere
        with pytest.raises(notebook_io.Unusable) as caught:
            rebuild_bytes(TEMPLATE, raw)
        reason = str(caught.value)
    assert words in _clean(reason)
    assert typography_errors(reason) == []
    if loaded is not None:  # the file is a notebook: the student is told how to hand in a usable one
        assert "Recopiez vos réponses dans" in reason and "JupyterLab" in reason


def test_when_an_answer_is_not_text_then_only_that_question_is_lost():
    raw = GRADED_ONE_UNREADABLE["source-pas-du-texte"]()
    got, expected = _answer_sources(raw), _answer_sources(PLAIN.encode("utf-8"))
    assert got.pop(UNREADABLE_QUESTION) == notebook_io.UNREADABLE_ANSWER
    del expected[UNREADABLE_QUESTION]
    assert got == expected


def test_when_a_grade_id_is_a_list_then_the_rebuild_does_not_raise():
    # The crash: TypeError: unhashable type: 'list'.
    notebook = nbformat.reads(GRADED_AS_PLAIN["grade-id-liste"]().decode("utf-8"), as_version=4)
    nbformat.validate(notebook)  # the notebook is valid: only the grader used to choke on it
    rebuilt = rebuild(nbformat.read(TEMPLATE, as_version=4), notebook)
    assert len(rebuilt.cells) == len(nbformat.read(TEMPLATE, as_version=4).cells)


@pytest.mark.parametrize("name", ["cellules-invalides", "metadonnees-mauvais-types", "grade-id-mauvais-types"])
def test_when_a_malformed_notebook_is_given_as_is_then_rebuild_finds_the_same_answers(name):
    # What executor.rebuild gets when a copy reaches nbgrader without being rebuilt first.
    template = nbformat.read(TEMPLATE, as_version=4)
    odd = rebuild(template, json.loads(GRADED_AS_PLAIN[name]()))
    plain = rebuild(template, json.loads(PLAIN))
    assert [c.source for c in odd.cells] == [c.source for c in plain.cells]


@pytest.mark.parametrize("submitted", [None, [], "texte", {"cells": {"0": {}}}, {"cells": None}])
def test_when_a_notebook_has_no_cell_list_then_rebuild_marks_every_answer_missing(submitted):
    template = nbformat.read(TEMPLATE, as_version=4)
    rebuilt = rebuild(template, submitted)
    answers = [c for c in rebuilt.cells if c.metadata["nbgrader"].get("solution")]
    assert {c.source for c in answers if c.cell_type == "code"} == {notebook_io.MISSING_ANSWER}


def test_when_answers_are_duplicated_then_the_last_readable_copy_wins():
    nb = _nb()
    cell = _answer(nb, "gradient_affine")
    first, second = (json.loads(json.dumps(cell)) for _ in range(2))
    first["source"], second["source"] = "premiere = 1", "derniere = 2"
    second["id"] = "autre-id"
    nb["cells"] += [first, {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "gradient_affine"}}, "source": 5},
                    second]
    assert _answer_sources(_dump(nb))["gradient_affine"] == "derniere = 2"


def test_when_a_cell_id_is_ambiguous_then_it_is_not_used():
    nb = _nb()
    _no_nbgrader_metadata(nb)
    twin = json.loads(json.dumps(_answer_by_id(nb, "gradient_affine")))
    twin["source"] = "autre = 1"
    nb["cells"].append(twin)  # two cells bear the answer's id: neither can be trusted
    answers = notebook_io.find_answers(notebook_io.load(_dump(nb)).notebook, nbformat.read(TEMPLATE, as_version=4))
    assert "gradient_affine" not in answers.sources
    assert {"carre_et_derivee", "derivee_en"} <= set(answers.sources) <= set(answers.by_cell_id)


def test_when_metadata_is_present_then_it_wins_over_a_cell_id():
    nb = _nb()
    lost = _answer(nb, "gradient_affine")
    del lost["metadata"]["nbgrader"]
    lost["source"] = "par_identifiant = 1"
    kept = json.loads(json.dumps(_answer(nb, "carre_et_derivee")))
    kept["id"], kept["source"] = "nouvel-id", "par_metadonnees = 1"
    kept["metadata"]["nbgrader"]["grade_id"] = "gradient_affine"
    nb["cells"].insert(0, kept)
    assert _answer_sources(_dump(nb))["gradient_affine"] == "par_metadonnees = 1"


def _answer_by_id(nb: dict, cell_id: str) -> dict:
    return next(c for c in nb["cells"] if c.get("id") == cell_id)


def test_when_bytes_are_not_utf8_then_they_are_counted_and_reported_in_french():
    raw = _invalid_utf8_in_a_comment()
    loaded = notebook_io.load(raw)
    assert loaded.replaced == 2  # the two « é » of « dérivée » in Latin-1
    (note,) = loaded.notes
    assert "UTF-8" in note and "2 séquences d'octets illisibles" in note and typography_errors(note) == []
    assert notebook_io.load(PLAIN.encode("utf-8")).notes == []


def test_when_a_notebook_is_nbformat_3_then_nbformat_converts_it():
    loaded = notebook_io.load(_nbformat_3())
    assert loaded.converted_from == 3
    assert all(isinstance(cell["id"], str) for cell in loaded.notebook["cells"])


def test_when_a_notebook_is_nbformat_4_0_then_it_is_read_as_4_5():
    nb = _nb()
    _nbformat_4_0(nb)
    loaded = notebook_io.load(_dump(nb))
    assert loaded.notebook["nbformat_minor"] == 5
    assert all(isinstance(cell["id"], str) for cell in loaded.notebook["cells"])


def test_when_a_string_holds_a_raw_tab_then_the_answer_keeps_it():
    nb = _nb()
    _answer(nb, "derivee_cube")["source"].append("\nfin = 1  # MARQUE-TAB")
    raw = _dump(nb).replace(b"MARQUE-TAB", b"\t")  # a raw control character: not strict JSON
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert _answer_sources(raw)["derivee_cube"].endswith("fin = 1  # \t")


def test_when_a_notebook_has_thousands_of_cells_then_reading_and_rebuilding_stay_fast():
    nb = _nb()
    _thousands_of_cells(nb)
    raw = _dump(nb)
    started = time.perf_counter()
    reason, _ = check_notebook_bytes(raw, NOTEBOOK)
    rebuilt = rebuild_bytes(TEMPLATE, raw)
    elapsed = time.perf_counter() - started
    assert reason is None and rebuilt == rebuild_bytes(TEMPLATE, PLAIN.encode("utf-8"))
    assert elapsed < 3.0, f"{elapsed:.2f} s for {len(nb['cells'])} cells"


def test_when_a_notebook_is_read_then_the_bytes_given_are_not_modified():
    raw = bytearray(GRADED_AS_PLAIN["bom-utf8"]())
    before = bytes(raw)
    rebuild_bytes(TEMPLATE, bytes(raw))
    assert bytes(raw) == before


def test_when_rebuilding_one_copy_fails_unexpectedly_then_only_that_copy_is_rejected(tmp_path):
    root = tmp_path / "rendus"
    for student in ("a", "b"):
        (root / student / DEMO_ASSIGNMENT).mkdir(parents=True)
        (root / student / DEMO_ASSIGNMENT / NOTEBOOK).write_text(PLAIN, encoding="utf-8")
    calls = []

    def transform(raw: bytes, assignment: str, notebook: str) -> bytes:
        calls.append(raw)
        if len(calls) == 1:
            raise RecursionError("imprévu")
        return rebuild_bytes(TEMPLATE, raw)

    found = collect([root], tmp_path / "submitted", find_assignments(REPO_ROOT / "source"), transform=transform)
    assert found.ready == [("b", DEMO_ASSIGNMENT)]
    (problem,) = found.problems
    assert problem.student_id == "a" and "n'a pas pu être préparé" in problem.message
    assert typography_errors(problem.message) == []
    assert not (tmp_path / "submitted" / "a").exists() and (tmp_path / "submitted" / "b" / DEMO_ASSIGNMENT / NOTEBOOK).is_file()


def test_when_copies_go_to_nbgrader_unrebuilt_then_only_what_nbgrader_reads_is_accepted(tmp_path):
    # Without the sandbox (--sans-bac-a-sable) copies are not rebuilt: nbgrader reads them as they are.
    root = tmp_path / "rendus"
    for student, content in (("bom", codecs.BOM_UTF8 + PLAIN.encode("utf-8")), ("clair", PLAIN.encode("utf-8"))):
        (root / student / DEMO_ASSIGNMENT).mkdir(parents=True)
        (root / student / DEMO_ASSIGNMENT / NOTEBOOK).write_bytes(content)
    found = collect([root], tmp_path / "submitted", find_assignments(REPO_ROOT / "source"))
    assert found.ready == [("clair", DEMO_ASSIGNMENT)]
    (problem,) = found.problems
    assert problem.student_id == "bom" and "UTF-8 sans BOM" in problem.message
    assert typography_errors(problem.message) == []


# --------------------------------------------------------------------------
# One grading run with every structure
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def structures_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("structures")
    root = base / "rendus"

    def write(student: str, content: bytes) -> None:
        folder = root / student / DEMO_ASSIGNMENT
        folder.mkdir(parents=True)
        (folder / NOTEBOOK).write_bytes(content)

    write("temoin-correct", CONTROL.encode("utf-8"))
    write("memes-reponses-en-clair", PLAIN.encode("utf-8"))
    for name, build in {**GRADED_AS_PLAIN, **GRADED_ONE_UNREADABLE}.items():
        write(name, build())
    for name, (build, _) in REJECTED.items():
        write(name, build())
    before = tree_digest(root)
    result = run(root, base / "out")
    with Gradebook(f"sqlite:///{result.workspace / 'gradebook.db'}") as gradebook:
        scores = {}
        for outcome in result.outcomes:
            if outcome.status == Status.GRADED:
                submission = gradebook.find_submission(DEMO_ASSIGNMENT, outcome.student_id)
                scores[outcome.student_id] = {
                    g.name: (g.auto_score, g.needs_manual_grade) for nb in submission.notebooks for g in nb.grades
                }
    return {
        "outcomes": {o.student_id: o for o in result.outcomes},
        "scores": scores,
        "root": root,
        "before": before,
        "workspace": result.workspace,
    }


def test_when_every_structure_is_graded_then_the_control_copy_gets_full_marks(structures_run):
    control = structures_run["outcomes"]["temoin-correct"]
    assert (control.status, control.score) == (Status.GRADED, FULL_AUTO), control.message
    plain = structures_run["outcomes"]["memes-reponses-en-clair"]
    assert plain.status == Status.GRADED and 0.0 < plain.score < FULL_AUTO  # a score that tells answers apart


@pytest.mark.parametrize("name", sorted(GRADED_AS_PLAIN))
def test_when_answers_can_be_found_then_the_odd_copy_gets_the_score_of_the_plain_one(structures_run, name):
    outcome = structures_run["outcomes"][name]
    plain = structures_run["outcomes"]["memes-reponses-en-clair"]
    assert (outcome.status, outcome.score) == (Status.GRADED, plain.score), outcome.message
    assert structures_run["scores"][name] == structures_run["scores"]["memes-reponses-en-clair"]


def test_when_an_answer_is_not_text_then_that_question_scores_zero_and_the_others_as_plain(structures_run):
    scores = dict(structures_run["scores"]["source-pas-du-texte"])
    plain = dict(structures_run["scores"]["memes-reponses-en-clair"])
    assert plain[f"test_{UNREADABLE_QUESTION}"][0] > 0 and scores.pop(f"test_{UNREADABLE_QUESTION}")[0] == 0
    del plain[f"test_{UNREADABLE_QUESTION}"]
    assert scores == plain


def test_when_bytes_were_not_utf8_then_the_graded_outcome_says_so(structures_run):
    message = _clean(structures_run["outcomes"]["utf8-invalide-dans-un-commentaire"].message)
    assert "pas entièrement en UTF-8" in message


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_when_no_answer_can_be_found_then_the_copy_is_rejected_with_a_french_page(structures_run, name):
    outcome = structures_run["outcomes"][name]
    assert (outcome.status, outcome.score) == (Status.REJECTED, 0.0)
    assert REJECTED[name][1] in _clean(outcome.message), outcome.message
    page = structures_run["workspace"] / "feedback" / name / DEMO_ASSIGNMENT / f"{Path(NOTEBOOK).stem}.html"
    assert REJECTED[name][1] in _clean(html.unescape(page.read_text(encoding="utf-8")))


def test_when_every_structure_is_graded_then_each_copy_has_an_outcome(structures_run):
    expected = {"temoin-correct", "memes-reponses-en-clair", *GRADED_AS_PLAIN, *GRADED_ONE_UNREADABLE, *REJECTED}
    assert set(structures_run["outcomes"]) == expected


def test_when_every_structure_is_graded_then_the_submitted_files_are_untouched(structures_run):
    assert tree_digest(structures_run["root"]) == structures_run["before"]


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
