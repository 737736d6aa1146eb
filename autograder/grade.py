"""Grade a class with nbgrader: collect, autograde, feedback, exports, class report.

The output directory is an nbgrader course root of its own (``source/`` copied
from the course, ``submitted/``, ``autograded/``, ``feedback/``,
``gradebook.db``), so plain ``nbgrader`` commands (formgrader, export…) work on
it afterwards.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from dateutil import parser as date_parser
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from . import checks
from .collect import CollectError, Problem, collect
from .course import REPO_ROOT, find_assignments, prepare_environment
from .roster import Roster, RosterError
from .settings import Grading

GRADED = "corrigé"
UNREADABLE = "rejeté"
FAILED = "échec de la correction"

#: Working data of a grading run, deleted by ``reset``.
WORKING_DATA = ("submitted", "autograded", "feedback", "release", "gradebook.db", "grades.csv", "rapport.html",
                "moodle", ".correction")
JOURNAL = Path(".correction") / "journal.json"


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
    late_seconds: float = 0.0
    manual: list[str] = field(default_factory=list)
    reused: bool = False


@dataclass
class RunResult:
    """Everything a grading run produced."""

    workspace: Path
    grades_csv: Path
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    report: Path | None = None
    moodle_csvs: list[Path] = field(default_factory=list)


ProgressCallback = Callable[[str, str], None]


#: nbgrader's autograde preprocessors, with its in-kernel Execute replaced by the sandbox.
#: nbgrader's CheckCellMetadata is left out here and in the sanitizing step: every cell's metadata
#: comes from source/ (the submission is rebuilt on it at collect time and again by SandboxedExecute),
#: and generate_assignment has checked source/ just before. It cost a fifth of nbgrader's time per copy
#: (a JSON-schema check of the schema itself for every cell).
SANDBOXED_AUTOGRADE = [
    "autograder.executor.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
]
SANDBOXED_SANITIZE = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
]


def load_config(
    workspace: Path, course_root: Path = REPO_ROOT, db_url: str | None = None, sandboxed: bool = False
) -> Config:
    """The course's nbgrader configuration, with ``workspace`` as nbgrader root."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.CourseDirectory.root = str(workspace)
    if db_url:
        config.CourseDirectory.db_url = db_url
    if sandboxed:
        config.Autograde.autograde_preprocessors = SANDBOXED_AUTOGRADE
        config.Autograde.sanitize_preprocessors = SANDBOXED_SANITIZE
    return config


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".ipynb_checkpoints" not in p.parts):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def changed_assignments(workspace: Path, course_root: Path) -> list[str]:
    """Assignments graded earlier in ``workspace`` whose source has changed since."""
    old, new = workspace / "source", course_root / "source"
    if workspace == course_root or not old.is_dir():
        return []
    graded = {p.name for p in (workspace / "autograded").glob("*/*") if p.is_dir()}
    return sorted(
        folder.name
        for folder in old.iterdir()
        if folder.name in graded and (new / folder.name).is_dir() and _digest(folder) != _digest(new / folder.name)
    )


def reset_workspace(workspace: Path) -> None:
    """Delete the working data of earlier runs (grades, manual grades included)."""
    for name in WORKING_DATA:
        path = workspace / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def prepare_workspace(workspace: Path, course_root: Path, db_url: str | None) -> None:
    """Make ``workspace`` an nbgrader course root using the course's sources."""
    workspace.mkdir(parents=True, exist_ok=True)
    if workspace == course_root:
        return
    source = workspace / "source"
    if source.exists():
        shutil.rmtree(source)
    shutil.copytree(course_root / "source", source, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    lines = [
        "# Written by the grading run: the course's nbgrader configuration, rooted here.",
        "c = get_config()  # noqa: F821",
        f"load_subconfig({str(course_root / 'nbgrader_config.py')!r})  # noqa: F821",
        f"c.CourseDirectory.root = {str(workspace)!r}",
    ]
    if db_url:
        lines.append(f"c.CourseDirectory.db_url = {db_url!r}")
    (workspace / "nbgrader_config.py").write_text("\n".join(lines) + "\n", encoding="utf-8")


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


def _load_journal(workspace: Path) -> dict[str, dict]:
    try:
        return json.loads((workspace / JOURNAL).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _save_journal(workspace: Path, journal: dict[str, dict]) -> None:
    path = workspace / JOURNAL
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(journal, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def _parse_due(text: str, assignment: str) -> datetime:
    """A due date such as '2026-12-01 23:59:00 Europe/Paris', as naive UTC (nbgrader's convention)."""
    from zoneinfo import ZoneInfo

    head, _, last = text.strip().rpartition(" ")
    zone = None
    if head and "/" in last or last.upper() == "UTC":
        try:
            zone = ZoneInfo(last)
        except (ValueError, KeyError):
            zone = None
    try:
        due = date_parser.parse(head if zone else text)
    except (ValueError, OverflowError) as exc:
        raise GradingError(f"Date limite illisible pour « {assignment} » : « {text} » ({exc}).") from None
    if zone:
        due = due.replace(tzinfo=zone)
    elif due.tzinfo is None:
        due = due.replace(tzinfo=timezone.utc)
    return due.astimezone(timezone.utc).replace(tzinfo=None)


def run(
    submissions: Path | Sequence[Path],
    out: Path,
    *,
    course_root: Path = REPO_ROOT,
    roster: Path | None = None,
    assignment: str | None = None,
    db_url: str | None = None,
    max_bytes: int | None = None,
    reset: bool = False,
    force: bool = False,
    report: bool = True,
    sandboxed: bool = True,
    workers: int | None = None,
    scheduler: str | None = None,
    on_progress: ProgressCallback | None = None,
    on_start: Callable[[int], None] | None = None,
) -> RunResult:
    """Grade every submission of ``submissions`` (folders or Moodle zips); write everything under ``out``.

    Submissions graded by an earlier run in ``out`` whose files have not changed
    are not graded again (an interrupted run resumes), unless ``force``.
    """
    started = time.perf_counter()
    sources = [Path(submissions)] if isinstance(submissions, (str, Path)) else [Path(s) for s in submissions]
    sources = [s.resolve() for s in sources]
    workspace = out.resolve()
    course_root = course_root.resolve()
    for source in sources:
        if not source.exists():
            raise GradingError(f"Le dossier de rendus « {source} » n'existe pas.")
        if source.is_dir() and (workspace == source or source in workspace.parents):
            raise GradingError(
                f"Le dossier de sortie « {workspace} » ne doit pas se trouver dans le dossier de rendus."
            )
    prepare_environment()
    if scheduler and not sandboxed:
        raise GradingError("La répartition sur une grappe Dask (--scheduler) n'existe qu'avec le bac à sable.")
    remote = None
    if sandboxed and scheduler:
        from .cluster import Cluster, ClusterError

        try:
            remote = Cluster.connect(scheduler)
        except ClusterError as exc:
            raise GradingError(f"Correction refusée : {exc}") from None
    elif sandboxed:
        from . import sandbox
        from .executor import warm_up

        try:
            sandbox.check()
        except sandbox.SandboxUnavailable as exc:
            raise GradingError(
                f"Correction refusée : {exc} Le code des étudiant·es ne s'exécute jamais hors du bac à sable, "
                "sauf si vous le demandez explicitement (--sans-bac-a-sable)."
            ) from None
        warm_up()  # TensorFlow is imported in the background while the submissions are collected
    try:
        return _run(
            sources, workspace, course_root, roster=roster, assignment=assignment, db_url=db_url,
            max_bytes=max_bytes, reset=reset, force=force, report=report, sandboxed=sandboxed, workers=workers,
            remote=remote, on_progress=on_progress, on_start=on_start, started=started,
        )
    finally:
        if remote is not None:
            remote.close()


def _run(
    sources: list[Path], workspace: Path, course_root: Path, *, roster, assignment, db_url, max_bytes, reset, force,
    report, sandboxed, workers, remote, on_progress, on_start, started,
) -> RunResult:
    if reset and workspace != course_root:
        reset_workspace(workspace)
    changed = changed_assignments(workspace, course_root)
    if changed and (workspace / "gradebook.db").exists():
        raise GradingError(
            "Le devoir " + ", ".join(f"« {name} »" for name in changed) + " a changé depuis la correction "
            f"enregistrée dans « {workspace} ». Pour tout recorriger avec la nouvelle version (les notes "
            "manuelles de ce dossier seront perdues), relancez avec --reset, ou choisissez un autre dossier --out."
        )
    prepare_workspace(workspace, course_root, db_url)
    assignments = find_assignments(workspace / "source")
    if not assignments:
        raise GradingError(f"Aucun devoir trouvé dans « {workspace / 'source'} ».")
    if assignment and assignment not in assignments:
        raise GradingError(f"Devoir inconnu « {assignment} » (devoirs du cours : {', '.join(sorted(assignments))}).")

    config = load_config(workspace, course_root, db_url, sandboxed)
    settings = Grading(config=config)
    try:
        class_list = Roster.load(roster) if roster else None
    except RosterError as exc:
        raise GradingError(str(exc)) from None
    limit = max_bytes if max_bytes is not None else int(settings.max_file_size_mb * 1024 * 1024)
    transform = None
    if sandboxed:
        from .executor import rebuild_bytes

        # Only the answers of each copy reach nbgrader: tests, points and metadata come from source/.
        def transform(raw: bytes, name: str, notebook: str) -> bytes:
            return rebuild_bytes(workspace / "source" / name / notebook, raw)

    try:
        collection = collect(
            sources, workspace / "submitted", assignments,
            roster=class_list, assignment=assignment, max_bytes=limit, timezone_name=settings.timezone,
            transform=transform,
        )
    except CollectError as exc:
        raise GradingError(str(exc)) from None

    api = NbGraderAPI(config=config)
    result = RunResult(workspace=workspace, grades_csv=workspace / "grades.csv")
    used = sorted({a for _, a in collection.ready} | {p.assignment for p in collection.problems if p.assignment in assignments})
    for name in used:
        generated = api.generate_assignment(name, force=True, create=True)
        if not generated["success"]:
            raise GradingError(f"Impossible de préparer le devoir « {name} » : {_last_error_line(generated)}")

    with Gradebook(api.coursedir.db_url) as gradebook:
        for name in used:
            due = settings.due_dates.get(name)
            gradebook.update_or_create_assignment(name, duedate=_parse_due(due, name) if due else None)
        for student_id in {s for s, _ in collection.ready} | {p.student_id for p in collection.problems}:
            student = collection.students.get(student_id)
            known = {}
            if student:
                fields = ("last_name", "first_name", "email", "lms_user_id")
                known = {f: getattr(student, f) for f in fields if getattr(student, f)}
            gradebook.update_or_create_student(student_id, **known)

    journal = {} if force else _load_journal(workspace)
    sources_digest = {name: _digest(workspace / "source" / name) for name in used}

    def fingerprint_of(student: str, name: str) -> dict:
        return {"submission": collection.digests.get((student, name), ""), "source": sources_digest[name]}

    def up_to_date(student: str, name: str) -> bool:
        previous = journal.get(f"{student}/{name}")
        return bool(previous) and previous.get("fingerprint") == fingerprint_of(student, name) and (
            workspace / "autograded" / student / name).is_dir()

    if on_start:
        on_start(len(collection.ready))
    to_grade = [(s, a) for s, a in collection.ready if not up_to_date(s, a)]
    if sandboxed and to_grade:
        # The costly part (running the code, in sandboxes) runs for the next submissions on every core
        # (or on a Dask cluster) while nbgrader records each finished one here: a single writer to the
        # gradebook.
        from .executor import precompute

        jobs = [
            (student, name, workspace / "source" / name / notebook, workspace / "submitted" / student / name / notebook)
            for student, name in to_grade
            for notebook in assignments[name].notebooks
        ]
        order = precompute(jobs, config, workers or os.cpu_count() or 1, cluster=remote)
    else:
        order = iter(to_grade)
    graded: dict[tuple[str, str], Outcome] = {}
    for student, name in order:
        outcome = graded[(student, name)] = _grade_one(api, workspace, student, name)
        if outcome.status == GRADED:
            journal[f"{student}/{name}"] = {"fingerprint": fingerprint_of(student, name)}
            _save_journal(workspace, journal)
        if on_progress:
            on_progress(student, name)
    for student, name in collection.ready:
        outcome = graded.get((student, name))
        if outcome is None:
            outcome = _read_outcome(api, workspace, student, name, seconds=0.0)
            outcome.reused = True
            if on_progress:
                on_progress(student, name)
        for note in collection.notes.get((student, name), []):
            outcome.message = "\u00a0; ".join(filter(None, [outcome.message, note]))
        result.outcomes.append(outcome)

    for name in sorted({a for _, a in collection.ready}):
        students = sorted({s for s, a in collection.ready if a == name})
        failure = generate_feedback(config, name, students, workers or os.cpu_count() or 1)
        for outcome in result.outcomes:
            if outcome.assignment != name or outcome.status != GRADED:
                continue
            page = workspace / "feedback" / outcome.student_id / name
            outcome.feedback = page if page.is_dir() else None
            if failure and outcome.feedback is None:
                outcome.message = "\u00a0; ".join(filter(None, [outcome.message, f"retour non généré : {failure}"]))

    with Gradebook(api.coursedir.db_url) as gradebook:
        for problem in collection.problems:
            max_score = 0.0
            if problem.assignment in assignments:
                max_score = gradebook.find_assignment(problem.assignment).max_score
                _remove_submission(gradebook, problem.assignment, problem.student_id)
            notebook = assignments[problem.assignment].notebooks[0] if problem.assignment in assignments else "rendu.ipynb"
            page = workspace / "feedback" / problem.student_id / problem.assignment / (Path(notebook).stem + ".html")
            write_problem_feedback(page, problem)
            result.outcomes.append(
                Outcome(problem.student_id, problem.assignment, 0.0, max_score, UNREADABLE, problem.message, page)
            )

    from .export import export_grades, export_moodle

    outcomes_by_key = {(o.student_id, o.assignment): o for o in result.outcomes}
    export_grades(api.coursedir.db_url, result.grades_csv, used, outcomes_by_key)
    result.moodle_csvs = export_moodle(
        api.coursedir.db_url, workspace / "moodle", collection.participants, outcomes_by_key, settings
    )
    result.outcomes.sort(key=lambda o: (o.assignment, o.student_id))
    if report:
        from .report import write_report

        result.report = write_report(result, api.coursedir.db_url, workspace / "rapport.html")
    result.seconds = time.perf_counter() - started
    return result


def generate_feedback(config: Config, assignment: str, students: list[str], workers: int) -> str | None:
    """nbgrader's feedback pages of ``students``, ``workers`` processes at once; a French reason on failure.

    The pages only read the gradebook: each process renders its share of the students
    (nbgrader's ``student_id_exclude`` hides the others from it).
    """
    parts = min(workers, len(students) // 8)  # a process for a handful of pages costs more than it saves
    if parts < 2 or any("," in s or "*" in s or "?" in s for s in students):
        return _feedback_part(config, assignment, [])
    import multiprocessing

    context = multiprocessing.get_context("fork")  # this process has nbgrader imported: no import again
    shares = [students[i::parts] for i in range(parts)]
    running = []
    for share in shares:
        receiver, sender = context.Pipe(duplex=False)
        mine = set(share)
        others = [s for s in students if s not in mine]
        process = context.Process(target=_feedback_child, args=(config, assignment, others, sender), daemon=True)
        process.start()
        sender.close()
        running.append((process, receiver))
    failures = []
    for process, receiver in running:
        try:
            failures.append(receiver.recv())
        except EOFError:
            failures.append("le processus de génération des retours s'est arrêté")
        process.join()
    return next((f for f in failures if f), None)


def _feedback_part(config: Config, assignment: str, excluded: list[str]) -> str | None:
    part = Config(config)
    part.CourseDirectory.student_id_exclude = ",".join(excluded)
    feedback = NbGraderAPI(config=part).generate_feedback(assignment, force=True)
    return None if feedback["success"] else _last_error_line(feedback)


def _feedback_child(config: Config, assignment: str, excluded: list[str], connection) -> None:
    try:
        connection.send(_feedback_part(config, assignment, excluded))
    except BaseException as exc:  # noqa: BLE001 - the parent needs a reason
        connection.send(f"{type(exc).__name__} : {exc}")
    finally:
        connection.close()


def _remove_submission(gradebook: Gradebook, assignment: str, student: str) -> None:
    """Forget an earlier graded submission replaced by one that cannot be graded (it must score 0)."""
    try:
        gradebook.remove_submission(assignment, student)
    except MissingEntry:
        pass


def _read_outcome(api: NbGraderAPI, workspace: Path, student: str, assignment: str, seconds: float) -> Outcome:
    """The outcome of a graded submission, as recorded in the gradebook."""
    score, max_score, missed, manual, late = 0.0, 0.0, [], [], 0.0
    with Gradebook(api.coursedir.db_url) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
        try:
            submission = gradebook.find_submission(assignment, student)
        except MissingEntry:
            return Outcome(student, assignment, 0.0, max_score, FAILED, "aucune note enregistrée", seconds=seconds)
        score = submission.score
        late = submission.total_seconds_late or 0.0
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                if grade.needs_manual_grade:
                    manual.append(grade.name)
                elif grade.cell_type == "code" and (grade.score or 0.0) < grade.max_score:
                    missed.append(grade.name)
    remarks = []
    if missed:
        remarks.append("points perdus : " + ", ".join(missed))
    if manual:
        remarks.append("à noter à la main : " + ", ".join(manual))
    if late > 0:
        remarks.append(f"rendu en retard ({_duration(late)})")
    page = workspace / "feedback" / student / assignment
    return Outcome(
        student, assignment, score, max_score, GRADED, "\u00a0; ".join(remarks),
        page if page.is_dir() else None, seconds, late, manual,
    )


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d}"
    return f"{hours // 24} jours"


def _grade_one(api: NbGraderAPI, workspace: Path, student: str, assignment: str) -> Outcome:
    """Autograde one submission and generate its feedback; never raises."""
    started = time.perf_counter()
    os.environ[checks.STUDENT_ID_ENV] = student
    try:
        graded = api.autograde(assignment, student, force=True, create=True)
    finally:
        os.environ.pop(checks.STUDENT_ID_ENV, None)
    if not graded["success"]:
        with Gradebook(api.coursedir.db_url) as gradebook:
            max_score = gradebook.find_assignment(assignment).max_score
            _remove_submission(gradebook, assignment, student)
        return Outcome(
            student, assignment, 0.0, max_score, FAILED,
            f"la correction automatique a échoué : {_last_error_line(graded)}",
            seconds=time.perf_counter() - started,
        )
    # Feedback pages are generated afterwards, for every student of the assignment in one nbgrader run.
    return _read_outcome(api, workspace, student, assignment, time.perf_counter() - started)
