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
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from dateutil import parser as date_parser
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from autograder.submissions.collect import CollectError, Problem, collect
from autograder.course import REPO_ROOT, find_assignments, prepare_environment
from autograder.model import Outcome, RunResult, Status
from autograder.submissions.roster import Roster, RosterError
from autograder.grading.config import Grading
from autograder.grading.workspace import JOURNAL, Lock, WorkspaceError, check_location, claim

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
    "autograder.execution.preprocessor.SandboxedExecute",
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
    from nbgrader.api import Gradebook, MissingEntry

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


def _create_gradebook(db_url: str) -> threading.Thread:
    """Create the gradebook, if new, in the background: nbgrader then runs ``alembic heads`` in a subprocess
    (a second or more), which overlaps with the collection of the copies. Any error is reported by nbgrader
    itself when generate_assignment opens it."""

    def create() -> None:
        from nbgrader.api import Gradebook

        try:
            Gradebook(db_url).close()
        except Exception:  # noqa: BLE001 - see above
            pass

    thread = threading.Thread(target=create, name="gradebook", daemon=True)
    thread.start()
    return thread


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
        from autograder.execution.dask_backend import Cluster, ClusterError

        try:
            remote = Cluster.connect(scheduler)
        except ClusterError as exc:
            raise GradingError(f"Correction refusée : {exc}") from None
    elif sandboxed:
        from autograder.execution import sandbox
        from autograder.execution.forkserver import warm_up

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
    # nbgrader takes seconds to import: only now, once the sandboxes' warm server is starting.
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    from autograder.grading.workspace import reset as reset_workspace

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
    gradebook_created = _create_gradebook(nbgrader_db)  # meanwhile, the copies are collected
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
        from autograder.execution.preprocessor import rebuild_bytes

        # Only the answers of each copy reach nbgrader: tests, points and metadata come from source/.
        def transform(raw: bytes, name: str, notebook: str) -> bytes:
            return rebuild_bytes(workspace / "source" / name / notebook, raw)

    from autograder.submissions.moodle import WorksheetError, read_worksheet

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

    mark = time.perf_counter()
    stages = {"collect": mark - options.started}
    api = NbGraderAPI(config=config)
    result = RunResult(workspace=workspace, grades_csv=workspace / "grades.csv", stages=stages)
    used = sorted({a for _, a in collection.ready} | {p.assignment for p in collection.problems if p.assignment in assignments})
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
    canary = None
    if options.sandboxed and to_grade:
        # The instructor's solution first, in the same sandbox and configuration: a grader that
        # cannot give it full marks must not grade anyone. It runs in the sandboxes while nbgrader
        # generates the assignments here; no student is touched before its verdict.
        from concurrent.futures import ThreadPoolExecutor

        from autograder.grading.canary import check

        background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canary")
        canary = background.submit(
            check, workspace / "source", assignments, sorted({a for _, a in to_grade}), config, options.workers,
            cluster=options.remote,
        )
        background.shutdown(wait=False)

    gradebook_created.join()
    for name in used:
        generated = api.generate_assignment(name, force=True, create=True)
        if not generated["success"]:
            raise GradingError(f"Impossible de préparer le devoir « {name} » : {_last_error_line(generated)}")
    if canary is not None:
        from autograder.grading.canary import CanaryError

        try:
            result.canary_seconds = canary.result()
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

    stages["prepare"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if options.on_start:
        options.on_start(len(collection.ready))
    if options.sandboxed and to_grade:
        # The costly part (running the code, in sandboxes) runs for the next submissions on every core
        # (or on a Dask cluster) while nbgrader records each finished one here: a single writer to the
        # gradebook.
        from autograder.execution.preprocessor import precompute

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

    def recorded(outcomes: list[Outcome]) -> None:
        """Copies whose grades are committed: journal, progress, and the stop on too many failures."""
        nonlocal failures
        for outcome in outcomes:
            student, name = outcome.student_id, outcome.assignment
            graded[(student, name)] = outcome
            if outcome.status is Status.FAILED:
                failures += 1
                journal.pop(f"{student}/{name}", None)
            else:
                journal[f"{student}/{name}"] = {"fingerprint": fingerprint_of(student, name)}
                pages.add(name, student)  # its grades are committed: its page can be written now
            if options.on_progress:
                options.on_progress(student, name)
        if outcomes:
            _save_journal(workspace, journal)
        if outcomes and failures >= MIN_FAILURES_TO_STOP and failures > settings.max_failure_share * len(graded):
            raise GradingError(
                f"Correction arrêtée : {failures} des {len(graded)} copies traitées n'ont pas pu être corrigées "
                f"(échec de la correction, ce n'est pas une note), au-delà du seuil de "
                f"{settings.max_failure_share:.0%} (c.Grading.max_failure_share). Dernière cause : "
                f"{next((o.message for o in reversed(outcomes) if o.status is Status.FAILED), '')} Les notes déjà obtenues "
                "sont conservées ; réglez le problème puis relancez la même commande : seules les copies restantes "
                "seront corrigées."
            )

    from autograder.execution.preprocessor import restore, take
    from autograder.grading.feedback import Pages
    from autograder.grading.record import Recorder, read_outcome

    pages = Pages(config, workspace, feedback_processes(options.workers, len(collection.ready)),
                  context=_warm_context(options))
    try:
        with Recorder(config, workspace, take=take, restore=restore) as recorder:
            try:
                for student, name, failure in order:
                    if failure is None:
                        recorded(_grade_one(recorder, workspace, student, name))
                    else:
                        recorded(recorder.fail(student, name, failure))
            finally:
                close = getattr(order, "close", None)
                if close:
                    close()
                # The copies recorded so far are kept, even when the run stops (Ctrl+C, too many failures).
                recorded(recorder.flush())
            for student, name in collection.ready:
                outcome = graded.get((student, name))
                if outcome is None:
                    outcome = read_outcome(recorder.gradebook, workspace, student, name, seconds=0.0)
                    outcome.reused = True
                    if outcome.status is Status.GRADED:
                        pages.add(name, student)
                    if options.on_progress:
                        options.on_progress(student, name)
                for note in collection.notes.get((student, name), []):
                    outcome.message = "\u00a0; ".join(filter(None, [outcome.message, note]))
                result.outcomes.append(outcome)
    except BaseException:
        pages.abandon()
        raise

    stages["record"] = recorder.seconds
    stages["execute"] = time.perf_counter() - mark - recorder.seconds
    mark = time.perf_counter()
    unwritten = pages.finish()
    for outcome in result.outcomes:
        if outcome.status is not Status.GRADED:
            continue
        page = workspace / "feedback" / outcome.student_id / outcome.assignment
        outcome.feedback = page if page.is_dir() else None
        if outcome.feedback is None:
            failure = unwritten.get((outcome.student_id, outcome.assignment)) or "page absente"
            outcome.message = "\u00a0; ".join(filter(None, [outcome.message, f"retour non généré : {failure}"]))

    stages["feedback"] = time.perf_counter() - mark
    mark = time.perf_counter()
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
                Outcome(problem.student_id, problem.assignment, 0.0, max_score, Status.REJECTED, problem.message, page)
            )

    from autograder.grading.export import export_grades, export_moodle

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
    stages["export"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if options.report:
        from autograder.grading.report import write_report

        result.report = write_report(result, api.coursedir.db_url, workspace / "rapport.html")
    stages["report"] = time.perf_counter() - mark
    result.seconds = time.perf_counter() - options.started
    return result


#: A run stops for too many grading failures only once it has seen at least this many.
MIN_FAILURES_TO_STOP = 3


def feedback_processes(workers: int, copies: int) -> int:
    """Processes writing feedback pages: one per core, but a process for a handful of pages costs more than it saves."""
    return max(1, min(workers, copies // 8))


def _warm_context(options: "_Options"):
    """Where the feedback processes start from: the sandboxes' warm server when this run has one (it holds
    nbgrader and nbconvert already), otherwise fresh interpreters."""
    if options.sandboxed and options.remote is None:
        from autograder.execution.forkserver import context

        return context()
    return None


def _remove_submission(gradebook: "Gradebook", assignment: str, student: str) -> None:
    """Forget an earlier graded submission replaced by one that cannot be graded (it must score 0)."""
    from nbgrader.api import MissingEntry

    try:
        gradebook.remove_submission(assignment, student)
    except MissingEntry:
        pass


def _grade_one(recorder, workspace: Path, student: str, assignment: str) -> list[Outcome]:
    """Autograde one submission into the recorder's open batch; the outcomes of a batch committed now."""
    return recorder.record(student, assignment)
