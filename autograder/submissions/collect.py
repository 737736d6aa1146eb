"""Collect submissions: find each student's notebook, check it, copy it into submitted/.

Sources are folders in nbgrader's layout (``<student_id>/<assignment>/<notebook>.ipynb``,
with an optional ``timestamp.txt``; a notebook directly in ``<student_id>/`` is recognised by
its graded cells) or zips downloaded from Moodle (« Télécharger
tous les travaux remis »). Submitted files are only read, never modified.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

import nbformat

from autograder.submissions import moodle
from autograder.submissions import moodle_worksheet
from autograder.submissions import notebook_io
from autograder.course import Assignment, identify
from autograder.submissions.received import (
    Collection,
    CollectError,
    Key,
    Problem,
    Received,
    from_folder,
    from_moodle,
)
from autograder.submissions.roster import Roster, Student

#: Default size limit of one submitted notebook.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

def check_notebook_bytes(
    raw: bytes, name: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[str | None, notebook_io.Loaded | None]:
    """Return (French reason why this is not a notebook, or None; the notebook as read).

    Any structure is read (see notebook_io): whether its answers can be found is decided when
    the copy is rebuilt on the source notebook.
    """
    if len(raw) > max_bytes:
        return (
            f"le fichier « {name} » est trop volumineux (plus de {max_bytes / 1e6:.0f} Mo) : "
            "effacez les sorties volumineuses (Édition › Effacer les sorties de toutes les cellules) avant de rendre.",
            None,
        )
    try:
        return None, notebook_io.load(raw, name)
    except notebook_io.Unusable as exc:
        return str(exc), None


def _nbformat_problem(raw: bytes, name: str) -> str | None:
    """Why stock nbgrader could not read these bytes as they are (copies graded without rebuilding)."""
    try:
        nbformat.validate(nbformat.reads(raw.decode("utf-8"), as_version=4))
    except (UnicodeDecodeError, nbformat.reader.NotJSONError):
        return (
            f"le fichier « {name} » n'est pas enregistré comme JupyterLab l'enregistre (UTF-8 sans BOM) : "
            "ouvrez-le dans JupyterLab, enregistrez-le, puis rendez-le à nouveau."
        )
    except Exception as exc:  # noqa: BLE001 - nbformat raises several types
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        return f"le fichier « {name} » ne respecte pas le format des carnets Jupyter ({first})."
    return None


def cell_grade_ids(data: dict) -> set[str]:
    """The grade_ids of the graded and answer cells of a notebook as read (wrong types ignored)."""
    ids = set()
    cells = data.get("cells") if isinstance(data, dict) else None
    for cell in cells if isinstance(cells, list) else []:
        metadata = cell.get("metadata") if isinstance(cell, dict) else None
        meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        if isinstance(meta, dict) and (meta.get("grade") or meta.get("solution")) and isinstance(meta.get("grade_id"), str):
            ids.add(meta["grade_id"])
    return ids


def _download_number(name: str) -> int:
    """The « (n) » a browser adds to the n-th download of a file of the same name (0 without)."""
    match = re.search(r"\((\d+)\)(?=\.ipynb$)", name, flags=re.I)
    return int(match.group(1)) if match else 0


def _plain_name(name: str) -> str:
    """The file name without the « (1) » a browser adds to a second download."""
    return re.sub(r"\s*\(\d+\)(?=\.ipynb$)", "", name, flags=re.I)


# --------------------------------------------------------------------------
# Collect
# --------------------------------------------------------------------------


def collect(
    sources: Sequence[Path],
    submitted: Path,
    assignments: dict[str, Assignment],
    *,
    roster: Roster | None = None,
    assignment: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timezone_name: str = "Europe/Paris",
    transform: Callable[[bytes, str, str], bytes] | None = None,
    worksheets: list[moodle_worksheet.Worksheet] | None = None,
) -> Collection:
    """Check every submission of ``sources`` and copy the gradable ones into ``submitted``.

    ``submitted`` is rebuilt from scratch unless it is the only source (then
    nothing is copied and the files are graded where they are). ``transform``
    (raw bytes, assignment, notebook name) -> bytes rewrites each copy; a copy it cannot rewrite
    (notebook_io.Unusable, or any other error) is a problem of that copy only.
    """
    if isinstance(sources, (str, Path)):
        sources = [Path(sources)]
    sources = [Path(s) for s in sources]
    in_place = len(sources) == 1 and sources[0].is_dir() and sources[0].resolve() == submitted.resolve()
    result = Collection()
    if roster:
        result.students.update(roster.students)

    received: list[Received] = []
    for source in sources:
        if source.is_dir():
            received += from_folder(source, result.warnings)
        elif moodle.is_moodle_zip(source):
            received += from_moodle(source, roster, assignment, timezone_name, result, worksheets or [])
        elif source.exists():
            raise CollectError(
                f"« {source} » n'est ni un dossier de rendus ni une archive .zip téléchargée depuis Moodle."
            )
        else:
            raise CollectError(f"Le dossier de rendus « {source} » n'existe pas.")

    # Parse every notebook once (needed to recognise the assignment of a Moodle file).
    parsed: dict[int, tuple[bytes, str | None, notebook_io.Loaded | None]] = {}
    for index, item in enumerate(received):
        if item.name.lower().endswith(".ipynb"):
            raw = item.read(max_bytes) if item.size <= max_bytes else b"x" * (max_bytes + 1)
            reason, data = check_notebook_bytes(raw, item.name, max_bytes)
            parsed[index] = (raw, reason, data)

    groups: dict[Key, list[int]] = {}
    for index, item in enumerate(received):
        name = item.assignment
        if name is None:
            loaded = parsed.get(index, (b"", None, None))[2]
            name = identify(cell_grade_ids(loaded.notebook), assignments) if loaded else None
            name = name or "?"
        groups.setdefault((item.student_id, name), []).append(index)
        if item.student_id not in result.students:
            result.students[item.student_id] = Student(id=item.student_id)
        if roster and item.student_id not in roster:
            note = "identifiant absent de la liste de la classe"
            if note not in result.notes.get((item.student_id, name), []):
                result.note((item.student_id, name), note)

    if not in_place and submitted.exists():
        shutil.rmtree(submitted)
    rebuilt = transform is not None and not in_place
    for (student, name), indexes in sorted(groups.items()):
        key = (student, name)
        # Moodle participants were recorded before the assignment was known.
        if (student, "") in result.moodle and key not in result.moodle:
            result.moodle[key] = result.moodle[(student, "")]
        for note in result.notes.get((student, ""), []) if name else []:
            if note not in result.notes.get(key, []):
                result.note(key, note)
        if student in result.blocked:
            result.problems.append(Problem(student, name, result.blocked[student]))
            continue
        problem, chosen = _check_group(key, [received[i] for i in indexes], indexes, parsed, assignments, result,
                                       rebuilt=rebuilt)
        if not problem and rebuilt:
            problem, chosen = _transform(chosen, name, transform)
        if problem:
            result.problems.append(Problem(student, name, problem))
            result.digests.pop(key, None)
            result.timestamps.pop(key, None)
            continue
        result.ready.append(key)
        if in_place:
            continue
        target = submitted / student / name
        target.mkdir(parents=True, exist_ok=True)
        for notebook, content in chosen.items():
            (target / notebook).write_bytes(content)
        if key in result.timestamps:
            stamp = result.timestamps[key].astimezone(timezone.utc)
            (target / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"), encoding="utf-8")
    for key in [k for k in result.moodle if k[1] == ""]:
        del result.moodle[key]
    for key in [k for k in result.notes if k[1] == ""]:
        del result.notes[key]
    for student in result.blocked:  # a group folder with no notebook at all is reported too
        if not any(p.student_id == student for p in result.problems):
            result.problems.append(Problem(student, assignment or "?", result.blocked[student]))
    return result


def _transform(
    chosen: dict[str, bytes], name: str, transform: Callable[[bytes, str, str], bytes]
) -> tuple[str | None, dict[str, bytes]]:
    """The chosen notebooks rebuilt by ``transform``, or the French reason why one cannot be."""
    rebuilt = {}
    for notebook, raw in chosen.items():
        try:
            rebuilt[notebook] = transform(raw, name, notebook)
        except notebook_io.Unusable as exc:
            return f"« {notebook} » : {exc}", {}
        except Exception as exc:  # noqa: BLE001 - one copy never stops the others
            return (
                f"« {notebook} » n'a pas pu être préparé pour la correction "
                f"({type(exc).__name__}). Ouvrez-le dans JupyterLab, enregistrez-le, puis rendez-le à nouveau."
            ), {}
    return None, rebuilt


def _check_group(
    key: Key,
    items: list[Received],
    indexes: list[int],
    parsed: dict[int, tuple[bytes, str | None, notebook_io.Loaded | None]],
    assignments: dict[str, Assignment],
    result: Collection,
    *,
    rebuilt: bool,
) -> tuple[str | None, dict[str, bytes]]:
    """Choose the notebook(s) of one student's assignment.

    Returns a French problem (or None) and the chosen notebooks' bytes by name. With ``rebuilt``,
    the copies will be rebuilt on the source notebooks (which find the answers, or say why not);
    without, they go to nbgrader as they are, and must be notebooks nbgrader reads.
    """
    problem, chosen = _choose(key, items, indexes, parsed, assignments, result, rebuilt)
    if problem is None:
        result.digests[key] = hashlib.sha256(b"".join(chosen[n] for n in sorted(chosen))).hexdigest()
    return problem, chosen


def _choose(
    key: Key,
    items: list[Received],
    indexes: list[int],
    parsed: dict[int, tuple[bytes, str | None, notebook_io.Loaded | None]],
    assignments: dict[str, Assignment],
    result: Collection,
    rebuilt: bool,
) -> tuple[str | None, dict[str, bytes]]:
    _, name = key
    none: dict[str, bytes] = {}
    if name == "?":
        return "ce carnet n'appartient à aucun devoir du cours (ses cellules notées sont introuvables).", none
    if name not in assignments:
        known = ", ".join(sorted(assignments)) or "aucun"
        return f"devoir inconnu « {name} » (devoirs du cours : {known}).", none
    notebooks = [i for i in indexes if i in parsed]
    if not notebooks:
        others = [received.name for received in items if received.name]
        if not others:
            return "aucun fichier rendu.", none
        listing = ", ".join(f"« {o} »" for o in others)
        return f"format non pris en charge ({listing}) : rendez le carnet Jupyter (.ipynb) lui-même.", none
    chosen: dict[str, bytes] = {}
    for expected in assignments[name].notebooks:
        candidates = [i for i in notebooks if _plain_name(_received_name(i, items, indexes)) == expected]
        if not candidates:
            names = ", ".join(f"« {_received_name(i, items, indexes)} »" for i in notebooks)
            return f"carnet « {expected} » introuvable (reçu : {names}). Rendez le carnet sans le renommer.", none
        def when(i: int) -> tuple:
            # Files of one submission share its time: a browser's « (2) » marks the later download.
            stamp = items[indexes.index(i)].timestamp
            return (stamp or datetime.min.replace(tzinfo=timezone.utc),
                    _download_number(_received_name(i, items, indexes)), i)
        latest = max(candidates, key=when)
        if len(candidates) > 1:
            result.note(
                key, f"{len(candidates)} versions de « {expected} » reçues : la plus récente est corrigée "
                f"(« {_received_name(latest, items, indexes)} »)"
            )
        raw, reason, loaded = parsed[latest]
        if not reason and not rebuilt:
            reason = _nbformat_problem(raw, expected)
        if reason or loaded is None:
            reason = reason or f"le fichier « {expected} » est illisible."
            return reason[0].upper() + reason[1:], none
        owner = identify(cell_grade_ids(loaded.notebook), assignments)
        # A copy whose answer cells lost their grade_id may still be recognised when rebuilt (by cell id).
        if owner is None and not rebuilt:
            return (
                f"« {expected} » ne contient aucune cellule notée du devoir « {name} » : "
                "avez-vous rendu le bon fichier ?"
            ), none
        if owner is not None and owner != name:
            return f"« {expected} » est le carnet du devoir « {owner} », pas celui de « {name} ».", none
        chosen[expected] = raw
        for note in loaded.notes:
            result.note(key, note)
        stamp = items[indexes.index(latest)].timestamp
        if stamp:
            result.timestamps[key] = stamp
    return None, chosen


def _received_name(index: int, items: list[Received], indexes: list[int]) -> str:
    return items[indexes.index(index)].name
