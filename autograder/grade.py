"""Grade a class with nbgrader: collect, autograde, feedback, exports, class report.

The output directory is an nbgrader course root of its own (``source/`` copied
from the course, ``submitted/``, ``autograded/``, ``feedback/``,
``gradebook.db``), so plain ``nbgrader`` commands (formgrader, export…) work on
it afterwards.
"""

from __future__ import annotations

import hashlib
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
from .collect import CollectError, collect
from .course import REPO_ROOT, find_assignments, prepare_environment
from .model import Outcome, RunResult, Status
from .pages import write_rejected_page
from .roster import Roster, RosterError
from .settings import Grading
from .workspace import JOURNAL, Lock, WorkspaceError, check_location, claim

# The three outcomes (kept under their former names for scripts that import them).
GRADED = Status.GRADED
UNREADABLE = Status.REJECTED
FAILED = Status.FAILED


class GradingError(Exception):
    """A grading run cannot start (or must stop); the message is French and meant for the instructor."""


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
    """A digest of an assignment's files (the copy of the check library beside them is the grader's code)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not {".ipynb_checkpoints", "autograder",
                                                                            "__pycache__"} & set(p.relative_to(folder).parts)):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def grader_digest(config: Config, course_root: Path, sandboxed: bool) -> str:
    """A digest of everything besides the copy and the assignment that decides a grade.

    The grading code (the autograder package, its templates), the course's nbgrader
    configuration as written and as loaded, the mode (sandbox or not) and the versions of
    nbgrader and TensorFlow: changing any of them makes the next run grade every copy again.
    """
    from importlib import metadata

    import autograder

    digest = hashlib.sha256()
    package = Path(autograder.__file__).resolve().parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and p.suffix in {".py", ".tpl", ".j2", ".css", ".html"}
                       and "__pycache__" not in p.parts):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes())
    config_file = course_root / "nbgrader_config.py"
    digest.update(config_file.read_bytes() if config_file.is_file() else b"")
    loaded = {k: v for k, v in config.items() if k != "CourseDirectory"}
    digest.update(json.dumps(loaded, sort_keys=True, default=repr).encode())
    digest.update(f"sandboxed={sandboxed}".encode())
    for package_name in ("nbgrader", "tensorflow-cpu", "tensorflow", "numpy"):
        try:
            digest.update(f"{package_name}={metadata.version(package_name)}".encode())
        except metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()


def changed_assignments(workspace: Path, course_root: Path, db_url: str) -> list[str]:
    """Assignments graded earlier in ``workspace`` (or its gradebook, whatever its URL) whose source has changed since."""
    old, new = workspace / "source", course_root / "source"
    if not old.is_dir():
        return []
    changed = [
        folder.name for folder in old.iterdir()
        if folder.is_dir() and (new / folder.name).is_dir() and _digest(folder) != _digest(new / folder.name)
    ]
    if not changed:
        return []
    graded = {p.name for p in (workspace / "autograded").glob("*/*") if p.is_dir()}
    try:
        with Gradebook(db_url) as gradebook:
            for name in changed:
                try:
                    if gradebook.find_assignment(name).submissions:
                        graded.add(name)
                except MissingEntry:
                    pass
    except Exception:  # noqa: BLE001 - an unreachable gradebook is reported later, by nbgrader itself
        pass
    return sorted(name for name in changed if name in graded)


def prepare_workspace(workspace: Path, course_root: Path, db_url: str | None) -> None:
    """Make ``workspace`` an nbgrader course root using the course's sources."""
    workspace.mkdir(parents=True, exist_ok=True)
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
    moodle_worksheets: Sequence[Path] = (),
    moodle_comments: bool = False,
) -> RunResult:
    """Grade every submission of ``submissions`` (folders or Moodle zips); write everything under ``out``.

    Submissions graded by an earlier run in ``out`` whose files, assignment, grading code and
    configuration have not changed are not graded again (an interrupted run resumes), unless ``force``.
    A copy the grader could not judge (grading failure) gets no grade and is graded again next time.
    """
    started = time.perf_counter()
    sources = [Path(submissions)] if isinstance(submissions, (str, Path)) else [Path(s) for s in submissions]
    sources = [s.resolve() for s in sources]
    workspace = out.resolve()
    course_root = course_root.resolve()
    try:
        check_location(workspace, course_root, sources)
    except WorkspaceError as exc:
        raise GradingError(str(exc)) from None
    for source in sources:
        if not source.exists():
            raise GradingError(f"Le dossier de rendus « {source} » n'existe pas.")
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
        claim(workspace)
        with Lock(workspace):
            options = _Options(
                roster=roster, assignment=assignment, db_url=db_url, max_bytes=max_bytes, reset=reset, force=force,
                moodle_worksheets=[Path(p) for p in moodle_worksheets], moodle_comments=moodle_comments,
                report=report, sandboxed=sandboxed, workers=workers or os.cpu_count() or 1, remote=remote,
                on_progress=on_progress, on_start=on_start, started=started,
            )
            return _run(sources, workspace, course_root, options)
    except WorkspaceError as exc:
        raise GradingError(str(exc)) from None
    finally:
        if remote is not None:
            remote.close()


@dataclass
class _Options:
    """The options of one run, as ``run`` received them."""

    roster: Path | None
    assignment: str | None
    db_url: str | None
    max_bytes: int | None
    reset: bool
    force: bool
    report: bool
    sandboxed: bool
    workers: int
    remote: object | None
    on_progress: ProgressCallback | None
    on_start: Callable[[int], None] | None
    started: float
    moodle_worksheets: list[Path] = field(default_factory=list)
    moodle_comments: bool = False


def _run(sources: list[Path], workspace: Path, course_root: Path, options: _Options) -> RunResult:
    from .workspace import reset as reset_workspace

    if options.reset:
        reset_workspace(workspace)
    nbgrader_db = options.db_url or f"sqlite:///{workspace / 'gradebook.db'}"
    changed = changed_assignments(workspace, course_root, nbgrader_db)
    if changed:
        raise GradingError(
            "Le devoir " + ", ".join(f"« {name} »" for name in changed) + " a changé depuis la correction "
            f"enregistrée dans « {workspace} ». Pour tout recorriger avec la nouvelle version (les notes "
            "manuelles de ce dossier seront perdues), relancez avec --reset, ou choisissez un autre dossier --out."
        )
    prepare_workspace(workspace, course_root, options.db_url)
    assignments = find_assignments(workspace / "source")
    if not assignments:
        raise GradingError(f"Aucun devoir trouvé dans « {workspace / 'source'} ».")
    if options.assignment and options.assignment not in assignments:
        raise GradingError(
            f"Devoir inconnu « {options.assignment} » (devoirs du cours : {', '.join(sorted(assignments))})."
        )

    config = load_config(workspace, course_root, options.db_url, options.sandboxed)
    settings = Grading(config=config)
    try:
        class_list = Roster.load(options.roster) if options.roster else None
    except RosterError as exc:
        raise GradingError(str(exc)) from None
    limit = options.max_bytes if options.max_bytes is not None else int(settings.max_file_size_mb * 1024 * 1024)
    transform = None
    if options.sandboxed:
        from .executor import rebuild_bytes

        # Only the answers of each copy reach nbgrader: tests, points and metadata come from source/.
        def transform(raw: bytes, name: str, notebook: str) -> bytes:
            return rebuild_bytes(workspace / "source" / name / notebook, raw)

    from .moodle import WorksheetError, read_worksheet

    try:
        worksheets = [read_worksheet(path) for path in options.moodle_worksheets]
    except WorksheetError as exc:
        raise GradingError(str(exc)) from None
    try:
        collection = collect(
            sources, workspace / "submitted", assignments,
            roster=class_list, assignment=options.assignment, max_bytes=limit, timezone_name=settings.timezone,
            transform=transform, worksheets=worksheets,
        )
    except CollectError as exc:
        raise GradingError(str(exc)) from None
    unused = [w.path for w in worksheets if w.path not in collection.worksheets_used]
    if unused:
        raise GradingError(
            "Feuille d'évaluation sans archive correspondante : " + ", ".join(f"« {p.name} »" for p in unused)
            + ". Aucun de ses participants n'a de dossier dans les archives Moodle données (--submissions) : "
            "elle appartient sans doute à un autre devoir."
        )

    api = NbGraderAPI(config=config)
    result = RunResult(workspace=workspace, grades_csv=workspace / "grades.csv")
    used = sorted({a for _, a in collection.ready} | {p.assignment for p in collection.problems if p.assignment in assignments})
    for name in used:
        generated = api.generate_assignment(name, force=True, create=True)
        if not generated["success"]:
            raise GradingError(f"Impossible de préparer le devoir « {name} » : {_last_error_line(generated)}")

    journal = {} if options.force else _load_journal(workspace)
    sources_digest = {name: _digest(workspace / "source" / name) for name in used}
    grader = grader_digest(config, course_root, options.sandboxed)

    def fingerprint_of(student: str, name: str) -> dict:
        return {"submission": collection.digests.get((student, name), ""), "source": sources_digest[name],
                "grader": grader}

    def up_to_date(student: str, name: str) -> bool:
        previous = journal.get(f"{student}/{name}")
        return bool(previous) and previous.get("fingerprint") == fingerprint_of(student, name) and (
            workspace / "autograded" / student / name).is_dir()

    to_grade = [(s, a) for s, a in collection.ready if not up_to_date(s, a)]
    if options.sandboxed and to_grade:
        # The instructor's solution first, in the same sandbox and configuration: a grader that
        # cannot give it full marks must not grade anyone.
        from .canary import CanaryError, check

        try:
            result.canary_seconds = check(
                workspace / "source", assignments, sorted({a for _, a in to_grade}), config, options.workers,
                cluster=options.remote,
            )
        except CanaryError as exc:
            raise GradingError(str(exc)) from None

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

    if options.on_start:
        options.on_start(len(collection.ready))
    if options.sandboxed and to_grade:
        # The costly part (running the code, in sandboxes) runs for the next submissions on every core
        # (or on a Dask cluster) while nbgrader records each finished one here: a single writer to the
        # gradebook.
        from .executor import precompute

        jobs = [
            (student, name, workspace / "source" / name / notebook, workspace / "submitted" / student / name / notebook)
            for student, name in to_grade
            for notebook in assignments[name].notebooks
        ]
        order = precompute(jobs, config, options.workers, cluster=options.remote)
    else:
        order = ((student, name, None) for student, name in to_grade)
    graded: dict[tuple[str, str], Outcome] = {}
    failures = 0
    try:
        for student, name, failure in order:
            if failure is None:
                outcome = _grade_one(api, workspace, student, name)
            else:
                outcome = _failure(workspace, student, name, failure, gradebook_url=api.coursedir.db_url)
            graded[(student, name)] = outcome
            if outcome.status is Status.FAILED:
                failures += 1
                journal.pop(f"{student}/{name}", None)
            else:
                journal[f"{student}/{name}"] = {"fingerprint": fingerprint_of(student, name)}
            _save_journal(workspace, journal)
            if options.on_progress:
                options.on_progress(student, name)
            if failures >= MIN_FAILURES_TO_STOP and failures > settings.max_failure_share * len(graded):
                raise GradingError(
                    f"Correction arrêtée : {failures} des {len(graded)} copies traitées n'ont pas pu être corrigées "
                    f"(échec de la correction, ce n'est pas une note), au-delà du seuil de "
                    f"{settings.max_failure_share:.0%} (c.Grading.max_failure_share). Dernière cause : "
                    f"{outcome.message} Les notes déjà obtenues sont conservées ; réglez le problème puis relancez "
                    "la même commande : seules les copies restantes seront corrigées."
                )
    finally:
        close = getattr(order, "close", None)
        if close:
            close()
    for student, name in collection.ready:
        outcome = graded.get((student, name))
        if outcome is None:
            outcome = _read_outcome(api, workspace, student, name, seconds=0.0)
            outcome.reused = True
            if options.on_progress:
                options.on_progress(student, name)
        for note in collection.notes.get((student, name), []):
            outcome.message = "\u00a0; ".join(filter(None, [outcome.message, note]))
        result.outcomes.append(outcome)

    for name in sorted({a for _, a in collection.ready}):
        students = sorted({o.student_id for o in result.outcomes if o.assignment == name and o.status is Status.GRADED})
        failure = generate_feedback(config, name, students, options.workers) if students else None
        for outcome in result.outcomes:
            if outcome.assignment != name or outcome.status is not Status.GRADED:
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
            write_rejected_page(page, problem)
            result.outcomes.append(
                Outcome(problem.student_id, problem.assignment, 0.0, max_score, Status.REJECTED, problem.message, page)
            )

    from .export import export_grades, export_moodle

    outcomes_by_key = {(o.student_id, o.assignment): o for o in result.outcomes}
    export_grades(api.coursedir.db_url, result.grades_csv, used, outcomes_by_key)
    if (workspace / "moodle").is_dir():
        shutil.rmtree(workspace / "moodle")  # only this run's Moodle files: never an older class's
    exported = export_moodle(
        api.coursedir.db_url, workspace / "moodle", collection.moodle, outcomes_by_key, settings, worksheets,
        comments=options.moodle_comments,
    )
    result.moodle_csvs, result.feedback_zips = exported.worksheets, exported.feedback_zips
    result.warnings = collection.warnings + exported.notes
    result.ambiguities = collection.ambiguities
    result.outcomes.sort(key=lambda o: (o.assignment, o.student_id))
    if options.report:
        from .report import write_report

        result.report = write_report(result, api.coursedir.db_url, workspace / "rapport.html")
    result.seconds = time.perf_counter() - options.started
    return result


#: A run stops for too many grading failures only once it has seen at least this many.
MIN_FAILURES_TO_STOP = 3


def _failure(workspace: Path, student: str, assignment: str, reason: str, *, gradebook_url: str) -> Outcome:
    """A copy the grader could not judge: no grade, no feedback page (an earlier one would be stale)."""
    with Gradebook(gradebook_url) as gradebook:
        max_score = gradebook.find_assignment(assignment).max_score
    stale = workspace / "feedback" / student / assignment
    if stale.is_dir():
        shutil.rmtree(stale)
    return Outcome(
        student, assignment, 0.0, max_score, Status.FAILED,
        f"la copie n'a pas pu être corrigée ({reason}) ; ce n'est pas une note : relancez la même commande "
        "pour la corriger de nouveau.",
    )


def generate_feedback(config: Config, assignment: str, students: list[str], workers: int) -> str | None:
    """nbgrader's feedback pages of ``students``, ``workers`` processes at once; a French reason on failure.

    The pages only read the gradebook: each process renders its share of the students
    (nbgrader's ``student_id_exclude`` hides the others from it).
    """
    parts = min(workers, len(students) // 8)  # a process for a handful of pages costs more than it saves
    if parts < 2 or any("," in s or "*" in s or "?" in s for s in students):
        return _feedback_part(config, assignment, [])
    import multiprocessing

    # Never fork here: this process has threads (progress display, Dask client, thread pools) and a
    # fork would copy their locks in whatever state they are.
    context = multiprocessing.get_context("spawn")
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
        connection.send(f"{type(exc).__name__} : {exc}")
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
            return Outcome(student, assignment, 0.0, max_score, Status.FAILED,
                           "aucune note enregistrée : relancez la même commande pour corriger cette copie",
                           seconds=seconds)
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
        student, assignment, score, max_score, Status.GRADED, "\u00a0; ".join(remarks),
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
        outcome = _failure(workspace, student, assignment, f"nbgrader : {_last_error_line(graded)}",
                           gradebook_url=api.coursedir.db_url)
        outcome.seconds = time.perf_counter() - started
        return outcome
    # Feedback pages are generated afterwards, for every student of the assignment in one nbgrader run.
    return _read_outcome(api, workspace, student, assignment, time.perf_counter() - started)
