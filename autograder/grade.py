"""Grade a folder of submissions with nbgrader: autograde, feedback, grades.csv.

The output directory is an nbgrader course root of its own (``source/`` copied
from the course, ``submitted/``, ``autograded/``, ``feedback/``,
``gradebook.db``), so plain ``nbgrader`` commands (formgrader, export…) work on
it afterwards.
"""

from __future__ import annotations

import hashlib
import html
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.plugins.export import CsvExportPlugin
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import checks
from .collect import DEFAULT_MAX_BYTES, Problem, collect
from .course import REPO_ROOT, find_assignments, prepare_environment

GRADED = "corrigé"
UNREADABLE = "rejeté"
FAILED = "échec de la correction"


class GradingError(Exception):
    """A grading run cannot start; the message is French and meant for the instructor."""


@dataclass
class Outcome:
    """The result of one student's assignment."""

    student_id: str
    assignment: str
    score: float
    max_score: float
    status: str
    message: str = ""
    feedback: Path | None = None
    seconds: float = 0.0


@dataclass
class RunResult:
    """Everything a grading run produced."""

    workspace: Path
    grades_csv: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0


ProgressCallback = Callable[[str, str], None]


def load_config(workspace: Path, course_root: Path = REPO_ROOT) -> Config:
    """The course's nbgrader configuration, with ``workspace`` as nbgrader root."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.CourseDirectory.root = str(workspace)
    return config


#: Working data of a grading run, deleted by ``reset``.
WORKING_DATA = ("submitted", "autograded", "feedback", "release", "gradebook.db", "grades.csv")


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def changed_assignments(workspace: Path, course_root: Path) -> list[str]:
    """Assignments whose source differs from the copy graded earlier in ``workspace``."""
    old, new = workspace / "source", course_root / "source"
    if workspace == course_root or not old.is_dir():
        return []
    return sorted(
        folder.name
        for folder in old.iterdir()
        if folder.is_dir() and (new / folder.name).is_dir() and _digest(folder) != _digest(new / folder.name)
    )


def reset_workspace(workspace: Path) -> None:
    """Delete the working data of earlier runs (grades, manual grades included)."""
    for name in WORKING_DATA:
        path = workspace / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def prepare_workspace(workspace: Path, course_root: Path) -> None:
    """Make ``workspace`` an nbgrader course root using the course's sources."""
    workspace.mkdir(parents=True, exist_ok=True)
    if workspace == course_root:
        return
    source = workspace / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(course_root / "source", source, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    (workspace / "nbgrader_config.py").write_text(
        "# Written by the grading run: the course's nbgrader configuration, rooted here.\n"
        "c = get_config()  # noqa: F821\n"
        f"load_subconfig({str(course_root / 'nbgrader_config.py')!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(workspace)!r}\n",
        encoding="utf-8",
    )


def _last_error_line(result: dict) -> str:
    text = (result.get("error") or result.get("log") or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "erreur inconnue"


def write_problem_feedback(path: Path, problem: Problem) -> None:
    """A French feedback page for a submission that could not be graded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html lang=\"fr\">\n<head><meta charset=\"utf-8\">"
        f"<title>{html.escape(problem.assignment)} : rendu non corrigé</title></head>\n<body>\n"
        f"<h1>{html.escape(problem.assignment)} : votre rendu n'a pas pu être corrigé</h1>\n"
        f"<p>{html.escape(problem.message)}</p>\n"
        "<p>Note : 0. Vérifiez le fichier (ouvrez-le dans JupyterLab, enregistrez-le, "
        "puis rendez le fichier <code>.ipynb</code> sans le renommer) et contactez votre "
        "enseignant ou enseignante.</p>\n</body>\n</html>\n",
        encoding="utf-8",
    )


def run(
    submissions: Path,
    out: Path,
    *,
    course_root: Path = REPO_ROOT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    reset: bool = False,
    on_progress: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunResult:
    """Grade every submission of ``submissions``; write everything under ``out``."""
    started = time.perf_counter()
    submissions = submissions.resolve()
    workspace = out.resolve()
    course_root = course_root.resolve()
    if not submissions.is_dir():
        raise GradingError(f"Le dossier de rendus « {submissions} » n'existe pas.")
    if workspace == submissions or submissions in workspace.parents:
        raise GradingError(
            f"Le dossier de sortie « {workspace} » ne doit pas se trouver dans le dossier de rendus."
        )
    prepare_environment()
    if reset and workspace != course_root:
        reset_workspace(workspace)
    changed = changed_assignments(workspace, course_root)
    if changed and (workspace / "gradebook.db").exists():
        raise GradingError(
            "Le devoir " + ", ".join(f"« {name} »" for name in changed) + " a changé depuis la correction "
            f"enregistrée dans « {workspace} ». Pour tout recorriger avec la nouvelle version (les notes "
            "manuelles de ce dossier seront perdues), relancez avec --reset, ou choisissez un autre dossier --out."
        )
    prepare_workspace(workspace, course_root)
    assignments = find_assignments(workspace / "source")
    if not assignments:
        raise GradingError(f"Aucun devoir trouvé dans « {workspace / 'source'} ».")

    collection = collect(submissions, workspace / "submitted", assignments, max_bytes)
    config = load_config(workspace, course_root)
    api = NbGraderAPI(config=config)
    result = RunResult(workspace=workspace, grades_csv=workspace / "grades.csv")

    used = sorted({a for _, a in collection.ready} | {p.assignment for p in collection.problems if p.assignment in assignments})
    for assignment in used:
        generated = api.generate_assignment(assignment, force=True, create=True)
        if not generated["success"]:
            raise GradingError(
                f"Impossible de préparer le devoir « {assignment} » : {_last_error_line(generated)}"
            )

    if on_start:
        on_start(len(collection.ready))
    for student, assignment in collection.ready:
        if on_progress:
            on_progress(student, assignment)
        result.outcomes.append(_grade_one(api, workspace, student, assignment))

    with Gradebook(api.coursedir.db_url) as gradebook:
        for problem in collection.problems:
            max_score = 0.0
            if problem.assignment in assignments:
                gradebook.update_or_create_student(problem.student_id)
                max_score = gradebook.find_assignment(problem.assignment).max_score
            notebook = assignments[problem.assignment].notebooks[0] if problem.assignment in assignments else "rendu.ipynb"
            page = workspace / "feedback" / problem.student_id / problem.assignment / (Path(notebook).stem + ".html")
            write_problem_feedback(page, problem)
            result.outcomes.append(
                Outcome(problem.student_id, problem.assignment, 0.0, max_score, UNREADABLE, problem.message, page)
            )
        CsvExportPlugin(to=str(result.grades_csv), assignment=used).export(gradebook)

    result.outcomes.sort(key=lambda o: (o.assignment, o.student_id))
    result.seconds = time.perf_counter() - started
    return result


def _grade_one(api: NbGraderAPI, workspace: Path, student: str, assignment: str) -> Outcome:
    """Autograde one submission and generate its feedback; never raises."""
    started = time.perf_counter()
    os.environ[checks.STUDENT_ID_ENV] = student
    try:
        graded = api.autograde(assignment, student, force=True, create=True)
    finally:
        os.environ.pop(checks.STUDENT_ID_ENV, None)
    score, max_score, missed, manual = 0.0, 0.0, [], []
    with Gradebook(api.coursedir.db_url) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
        try:
            submission = gradebook.find_submission(assignment, student)
            score = submission.score if graded["success"] else 0.0
            missed = [
                grade.name
                for notebook in submission.notebooks
                for grade in notebook.grades
                if grade.cell_type == "code" and not grade.needs_manual_grade and grade.score < grade.max_score
            ]
            manual = [
                grade.name for notebook in submission.notebooks for grade in notebook.grades if grade.needs_manual_grade
            ]
        except MissingEntry:
            score = 0.0
    if not graded["success"]:
        return Outcome(
            student, assignment, 0.0, max_score, FAILED,
            f"la correction automatique a échoué : {_last_error_line(graded)}",
            seconds=time.perf_counter() - started,
        )
    feedback = api.generate_feedback(assignment, student, force=True)
    page = workspace / "feedback" / student / assignment
    remarks = []
    if missed:
        remarks.append("points perdus : " + ", ".join(missed))
    if manual:
        remarks.append("à noter à la main : " + ", ".join(manual))
    message = " ; ".join(remarks)
    if not feedback["success"]:
        message = f"retour non généré : {_last_error_line(feedback)}"
    return Outcome(
        student, assignment, score, max_score, GRADED, message,
        page if feedback["success"] else None, time.perf_counter() - started,
    )
