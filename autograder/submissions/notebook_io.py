"""Read a submitted notebook whatever its structure, and find the student's answers in it.

A submission is untrusted bytes. Reading it never raises anything but :class:`Unusable`
(with a French reason), and never needs more than one pass over its cells:

1. Decoding: UTF-8, with or without a byte-order mark (as Windows editors save it), or
   UTF-16/32 announced by their byte-order mark. Bytes that are not valid UTF-8 are replaced
   by « � » and counted: the answers stay usable (a stray Latin-1 accent is usually in a
   comment or a string), and the student is told. Line ends (CRLF, CR) do not matter.
2. JSON, then the notebook format: nbformat 4.x is read as 4.5 and nbformat 3 is converted
   by nbformat's own conversion (``nbformat.v4.upgrade``).
3. Answers, by the source notebook: a cell answers the source's answer cell whose nbgrader
   ``grade_id`` it carries (the last copy wins, as in nbgrader's DeduplicateIds). A cell that
   lost its nbgrader metadata (or whose ``grade_id`` is not a string) still answers if its
   cell id is the id of a source answer cell, and only that cell bears it: cell ids are
   written by nbgrader when the notebook is released, and never typed by a student.
   Cells, metadata and ``grade_id`` of the wrong type are ignored; a source that is neither a
   string nor a list of strings (both are legal on disk) makes the answer unreadable.
"""

from __future__ import annotations

import codecs
import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

import nbformat
from nbformat import NotebookNode

#: What an answer cell of code holds when the submission has no cell for it.
MISSING_ANSWER = "# Cellule de réponse absente du rendu.\nraise NotImplementedError()"
#: What it holds when the submission's cell for it is not text.
UNREADABLE_ANSWER = (
    "# Le contenu de cette cellule de réponse est illisible dans le rendu (ce n'est pas du texte).\n"
    "raise NotImplementedError()"
)

NO_ANSWER = (
    "aucune cellule de réponse reconnaissable dans le carnet rendu : les informations qui "
    "repèrent les cellules de réponse ont été perdues (carnet recréé, ou enregistré par un autre "
    "logiciel que JupyterLab). Recopiez vos réponses dans les cellules prévues du carnet distribué, "
    "enregistrez-le dans JupyterLab, puis rendez ce fichier sans le renommer."
)
ONLY_UNREADABLE_ANSWERS = (
    "les cellules de réponse du carnet rendu sont illisibles (leur contenu n'est pas du texte) : "
    "le fichier a été modifié hors de JupyterLab. Recopiez vos réponses dans le carnet distribué, "
    "enregistrez-le dans JupyterLab, puis rendez ce fichier sans le renommer."
)

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_REPLACEMENT = "\ufffd".encode("utf-8")


class Unusable(ValueError):
    """The bytes are not a notebook whose answers can be found; the message is French."""


@dataclass(frozen=True)
class Loaded:
    """A submission read as nbformat 4.5: ``notebook["cells"]`` is a list of cell dicts.

    Only what finding the answers needs is kept (cell type, id, nbgrader metadata, source).
    """

    notebook: dict
    replaced: int = 0  # byte sequences that were not UTF-8, replaced by « � »
    converted_from: int | None = None  # nbformat major version converted from, if not 4

    @property
    def notes(self) -> list[str]:
        """What the student and the instructor should know about the reading (French)."""
        if not self.replaced:
            return []
        plural = "s" if self.replaced > 1 else ""
        return [
            f"fichier qui n'est pas entièrement en UTF-8 : {self.replaced} séquence{plural} d'octets "
            f"illisible{plural} remplacée{plural} par « � » (enregistrez vos carnets depuis JupyterLab)"
        ]


@dataclass
class Answers:
    """The answers found in a submission, by the grade_id of the source's answer cells."""

    sources: dict[str, str] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    unreadable: set[str] = field(default_factory=set)  # found, but not text
    by_cell_id: set[str] = field(default_factory=set)  # found by the cell id (nbgrader metadata lost)


# --------------------------------------------------------------------------
# Bytes → notebook
# --------------------------------------------------------------------------


def decode(raw: bytes) -> tuple[str, int]:
    """The text of ``raw`` and the number of invalid UTF-8 sequences replaced in it."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            try:
                return raw.decode(encoding), 0
            except UnicodeDecodeError:
                break  # not what the mark announces: read as UTF-8 below
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError:
        text = raw.removeprefix(codecs.BOM_UTF8).decode("utf-8", "replace")
        return text, text.count("\ufffd") - raw.count(_REPLACEMENT)


def load(raw: bytes, name: str = "carnet.ipynb") -> Loaded:
    """Read a submitted notebook; raise :class:`Unusable` with a French reason if it is not one."""
    text, replaced = decode(raw)
    if not text.strip():
        raise Unusable(f"le fichier « {name} » est vide.")
    try:
        data = json.loads(text, strict=False)  # strict=False: raw tabs or line ends inside strings
    except json.JSONDecodeError as exc:
        if replaced:
            raise Unusable(f"le fichier « {name} » n'est pas un texte UTF-8 : ce n'est pas un carnet Jupyter.") from None
        raise Unusable(
            f"le fichier « {name} » n'est pas un carnet Jupyter lisible : JSON invalide "
            f"(ligne {exc.lineno}, colonne {exc.colno}). Le fichier a peut-être été tronqué "
            "ou modifié hors de JupyterLab."
        ) from None
    except RecursionError:
        raise Unusable(
            f"le fichier « {name} » n'est pas un carnet Jupyter lisible : structure JSON "
            "imbriquée trop profondément."
        ) from None
    not_a_notebook = Unusable(
        f"le fichier « {name} » est un JSON, mais pas un carnet Jupyter (aucune liste de cellules)."
    )
    if not isinstance(data, dict):
        raise not_a_notebook
    major = data.get("nbformat")
    if isinstance(data.get("cells"), list):
        minor = data.get("nbformat_minor")
        cells = _upgrade_minor([_reduce(cell) for cell in data["cells"] if isinstance(cell, dict)], minor)
        return Loaded(_v4(cells), replaced)
    if major == 3 and isinstance(data.get("worksheets"), list):
        return Loaded(_v4(_from_v3(data, name)), replaced, converted_from=3)
    if isinstance(major, int) and not isinstance(major, bool) and major < 3:
        raise Unusable(
            f"le fichier « {name} » est un carnet d'un format trop ancien (nbformat {major}) : "
            "ouvrez-le dans JupyterLab, enregistrez-le, puis rendez-le à nouveau."
        )
    raise not_a_notebook


def _v4(cells: list[dict]) -> dict:
    return {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}


def _reduce(cell: Mapping) -> dict:
    """What finding the answers needs of a cell (the rest is never read)."""
    metadata = cell.get("metadata")
    nbgrader_meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return {
        "cell_type": cell.get("cell_type"),
        "id": cell.get("id"),
        "metadata": {"nbgrader": nbgrader_meta} if isinstance(nbgrader_meta, dict) else {},
        "source": cell.get("source"),
    }


def _upgrade_minor(cells: list[dict], minor: Any) -> list[dict]:
    """nbformat 4.0–4.4 → 4.5 by nbformat's own upgrade (it gives the cells random ids)."""
    if not isinstance(minor, int) or isinstance(minor, bool) or minor >= 5:
        return cells
    notebook = NotebookNode(nbformat=4, nbformat_minor=max(minor, 0), metadata=NotebookNode(),
                            cells=[NotebookNode(cell) for cell in cells])
    upgraded = nbformat.v4.upgrade(notebook, from_version=4, from_minor=max(minor, 0))
    return [dict(cell) for cell in upgraded.cells]


def _from_v3(data: dict, name: str) -> list[dict]:
    """The cells of an nbformat 3 notebook, converted by nbformat (v3 → v4)."""
    cells3, unreadable = [], []
    for sheet in data["worksheets"]:
        if not isinstance(sheet, dict) or not isinstance(sheet.get("cells"), list):
            continue
        for cell in sheet["cells"]:
            if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
                continue
            # A well-formed v3 cell of the same type and text (outputs dropped: never read), so
            # that nbformat's conversion neither fails nor logs on malformed parts.
            kind = cell["cell_type"] if cell["cell_type"] in ("code", "markdown", "raw", "heading") else "raw"
            text = _text(cell.get("input" if kind == "code" else "source"))
            unreadable.append(text is None)
            metadata = _reduce(cell)["metadata"]
            reduced = {"cell_type": kind, "metadata": metadata}
            if kind == "code":
                reduced.update(input=text or "", language="python", outputs=[], collapsed=False)
            else:
                reduced["source"] = text or ""
            if kind == "heading":
                level = cell.get("level")
                reduced["level"] = level if isinstance(level, int) and not isinstance(level, bool) and 1 <= level <= 6 else 1
            cells3.append(reduced)
    notebook3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""},
                 "worksheets": [{"cells": cells3, "metadata": {}}]}
    try:
        converted = nbformat.converter.convert(nbformat.from_dict(notebook3), 4)
    except Exception:  # noqa: BLE001 - whatever nbformat raises, the reason is the same
        raise Unusable(
            f"le fichier « {name} » est un carnet au format 3 que la conversion au format 4 "
            "n'a pas pu lire : ouvrez-le dans JupyterLab, enregistrez-le, puis rendez-le à nouveau."
        ) from None
    cells = [_reduce(cell) for cell in converted.cells]
    for cell, bad in zip(cells, unreadable):
        if bad:
            cell["source"] = None
    return cells


# --------------------------------------------------------------------------
# Notebook → answers → notebook to grade
# --------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A cell's source as text (a string, or a list of strings as on disk); None if it is not text."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, list) and all(isinstance(line, str) for line in value):
        text = "".join(value)
    else:
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    # A lone surrogate (legal as a JSON escape) cannot be written back as UTF-8.
    return _SURROGATE.sub("\ufffd", text)


def _nbgrader(cell: Any) -> dict:
    if not isinstance(cell, Mapping):
        return {}
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def answer_cells(template: Mapping) -> tuple[dict[str, str], dict[str, str]]:
    """The source's answer cells: (grade_id → cell type, cell id → grade_id)."""
    kinds, ids = {}, {}
    for cell in template.get("cells", []):
        meta = _nbgrader(cell)
        if meta.get("solution") and isinstance(meta.get("grade_id"), str):
            kinds[meta["grade_id"]] = cell.get("cell_type")
            if isinstance(cell.get("id"), str):
                ids[cell["id"]] = meta["grade_id"]
    return kinds, ids


def find_answers(submitted: Any, template: Mapping) -> Answers:
    """The student's answers in ``submitted`` (a notebook dict, however malformed), by grade_id."""
    kinds, ids = answer_cells(template)
    cells = submitted.get("cells") if isinstance(submitted, Mapping) else None
    found = Answers()
    by_id: dict[str, list[Mapping]] = {}
    id_counts: dict[str, int] = {}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, Mapping):
            continue
        cell_id = cell.get("id")
        if isinstance(cell_id, str):
            id_counts[cell_id] = id_counts.get(cell_id, 0) + 1
        grade_id = _nbgrader(cell).get("grade_id")
        if isinstance(grade_id, str):
            if grade_id in kinds:
                _take(found, grade_id, cell)
        elif isinstance(cell_id, str) and cell_id in ids:
            by_id.setdefault(cell_id, []).append(cell)
    for cell_id, candidates in by_id.items():
        grade_id = ids[cell_id]
        if id_counts[cell_id] == 1 and grade_id not in found.sources and grade_id not in found.unreadable:
            _take(found, grade_id, candidates[0])
            found.by_cell_id.add(grade_id)
    return found


def _take(found: Answers, grade_id: str, cell: Mapping) -> None:
    """Record ``cell`` as the answer ``grade_id``: a later readable copy replaces an earlier one."""
    text = _text(cell.get("source"))
    if text is None:
        if grade_id not in found.sources:
            found.unreadable.add(grade_id)
        return
    found.unreadable.discard(grade_id)
    found.sources[grade_id] = text
    checksum = _nbgrader(cell).get("checksum")
    if isinstance(checksum, str):
        # The stub's checksum lets nbgrader recognise an untouched answer (0 and « No response. »).
        found.checksums[grade_id] = checksum
    else:
        found.checksums.pop(grade_id, None)


def rebuild(template: Mapping, answers: Answers) -> NotebookNode:
    """The notebook to grade: every cell of the source, with the student's answers by grade_id."""
    rebuilt = nbformat.v4.new_notebook(metadata=nbformat.from_dict(json.loads(json.dumps(template.get("metadata", {})))))
    for cell in template.get("cells", []):
        copy = nbformat.from_dict(json.loads(json.dumps(cell)))
        meta = copy.get("metadata", {}).get("nbgrader", {})
        grade_id = meta.get("grade_id")
        if meta.get("solution"):
            if grade_id in answers.sources:
                copy.source = answers.sources[grade_id]
            elif copy.cell_type != "code":
                copy.source = ""
            else:
                copy.source = UNREADABLE_ANSWER if grade_id in answers.unreadable else MISSING_ANSWER
            if grade_id in answers.checksums:
                meta["checksum"] = answers.checksums[grade_id]
        if copy.cell_type == "code":
            copy.outputs, copy.execution_count = [], None
        rebuilt.cells.append(copy)
    return rebuilt


def usable_answers(submitted: Any, template: Mapping) -> Answers:
    """The answers of ``submitted``; raise :class:`Unusable` if none can be found."""
    answers = find_answers(submitted, template)
    if not answers.sources:
        raise Unusable(ONLY_UNREADABLE_ANSWERS if answers.unreadable else NO_ANSWER)
    return answers
