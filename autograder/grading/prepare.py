"""Prepare a grading folder: the course's sources and configuration, the gradebook, the assignments.

The grading folder is an nbgrader course root of its own (``source/`` copied from the course,
``submitted/``, ``autograded/``, ``feedback/``, ``gradebook.db``), so that plain ``nbgrader``
commands (formgrader, export…) work on it afterwards.
"""

from __future__ import annotations

import re
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dateutil import parser as date_parser
from dateutil import tz
from traitlets.config import Config

from autograder.course import Assignment
from autograder.grading.config import Grading
from autograder.grading.errors import GradingError
from autograder.grading.journal import Journal
from autograder.grading.options import Options
from autograder.submissions.collect import Collection, CollectError, collect
from autograder.submissions.roster import Roster, RosterError


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


def create_gradebook(db_url: str) -> None:
    """Create the gradebook, if new.

    For a new database, nbgrader's ``Gradebook`` asks the ``alembic heads`` command, in a subprocess
    that imports all of nbgrader again (one to two seconds of CPU at the busiest moment of the run),
    for the revision to stamp it with. The same revision is read here with alembic's own API on
    nbgrader's migration folder, and the ``alembic_version`` table is written as nbgrader writes it;
    nbgrader then finds an existing database and creates its tables, without a subprocess (about
    0.05 s; tests/unit/test_prepare.py compares the result with a gradebook nbgrader created alone).
    Any error is reported by nbgrader itself when generate_assignment opens the gradebook.
    """
    from alembic.script import ScriptDirectory
    from nbgrader.api import Gradebook
    from nbgrader.dbutil import ALEMBIC_DIR
    from sqlalchemy import create_engine, inspect, text

    try:
        engine = create_engine(db_url, future=True)
        try:
            with engine.begin() as connection:
                if not inspect(connection).get_table_names():
                    head = ScriptDirectory(ALEMBIC_DIR).get_current_head()
                    connection.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL);"))
                    connection.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head);"),
                                       {"head": head})
        finally:
            engine.dispose()
        Gradebook(db_url).close()
    except Exception:  # noqa: BLE001 - see above
        pass


_OFFSET = re.compile(r"^[+-]\d{2}:?\d{2}$")


def parse_due(text: str, assignment: str) -> datetime:
    """A due date such as '2026-12-01 23:59:00 Europe/Paris', as naive UTC (nbgrader's convention).

    Read by nbgrader's own ``parse_utc`` (a date, a time and a time zone name, or an ISO date);
    a time zone name it does not know, or a numeric offset (which ``parse_utc`` would read as
    seconds), is checked here first.
    """
    from nbgrader.utils import parse_utc

    parts = text.strip().split()
    try:
        if len(parts) == 3 and _OFFSET.match(parts[2]):
            due = date_parser.parse(" ".join(parts))
            return due if due.tzinfo is None else due.astimezone(tz.UTC).replace(tzinfo=None)
        if len(parts) == 3 and tz.gettz(parts[2]) is None:
            date_parser.parse(" ".join(parts[:2]))  # an unreadable date is reported as such
            raise GradingError(
                f"Date limite illisible pour « {assignment} » : « {text} » (fuseau horaire « {parts[2]} » inconnu : "
                "écrivez-le comme « Europe/Paris » ou « UTC »)."
            )
        with warnings.catch_warnings():
            # A zone dateutil does not know, glued to the date, would be dropped and the date read as UTC.
            warnings.simplefilter("error", date_parser.UnknownTimezoneWarning)
            return parse_utc(" ".join(parts))
    except (ValueError, OverflowError, date_parser.UnknownTimezoneWarning):
        raise GradingError(
            f"Date limite illisible pour « {assignment} » : « {text} » (écrivez-la comme "
            "« 2026-12-01 23:59:00 Europe/Paris »)."
        ) from None


def generate_assignments(api, names: list[str]) -> None:
    """nbgrader's generate_assignment for each assignment used (it records their cells in the gradebook)."""
    for name in names:
        generated = api.generate_assignment(name, force=True, create=True)
        if not generated["success"]:
            raise GradingError(f"Impossible de préparer le devoir « {name} » : {_last_error_line(generated)}")


def _last_error_line(result: dict) -> str:
    text = (result.get("error") or result.get("log") or "").strip()
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "erreur inconnue"


def register(db_url: str, names: list[str], due_dates: dict[str, str], students: dict[str, object | None]) -> None:
    """Record the assignments (with their due dates) and the students (with what the class list knows) in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        for name in names:
            due = due_dates.get(name)
            gradebook.update_or_create_assignment(name, duedate=parse_due(due, name) if due else None)
        for student_id, student in students.items():
            known = {}
            if student:
                fields = ("last_name", "first_name", "email", "lms_user_id")
                known = {f: getattr(student, f) for f in fields if getattr(student, f)}
            gradebook.update_or_create_student(student_id, **known)


@dataclass
class Prepared:
    """The grading folder ready for the copies: configuration, assignments, gradebook, journal."""

    config: Config
    grading: Grading
    assignments: dict[str, Assignment]
    db_url: str
    used: list[str]  # assignments with at least one copy (graded or rejected)
    journal: Journal
    to_grade: list[tuple[str, str]]  # (student, assignment) not graded yet with these files and this grader
    worksheets: list


@dataclass
class ClassFiles:
    """The instructor's files about the class: the class list and the Moodle grading worksheets, read."""

    roster: Roster | None
    worksheets: list


def read_class_files(options: Options) -> ClassFiles:
    """Read the class list and the worksheets given (a mistyped path is refused before anything starts)."""
    from autograder.submissions.moodle_worksheet import WorksheetError, read_worksheet

    try:
        class_list = Roster.load(options.roster) if options.roster else None
    except RosterError as exc:
        raise GradingError(str(exc)) from None
    try:
        worksheets = [read_worksheet(path) for path in options.moodle_worksheets]
    except WorksheetError as exc:
        raise GradingError(str(exc)) from None
    return ClassFiles(class_list, worksheets)


def collect_stage(options: Options, assignments: dict[str, Assignment], grading: Grading,
                  class_files: ClassFiles) -> Collection:
    """Check and copy the submissions into ``submitted/``, matched to the class files read before."""
    workspace = options.out
    class_list, worksheets = class_files.roster, class_files.worksheets
    limit = options.max_bytes if options.max_bytes is not None else int(grading.max_file_size_mb * 1024 * 1024)
    transform = None
    if options.sandboxed:
        from autograder.execution.preprocessor import rebuild_bytes

        # Only the answers of each copy reach nbgrader: tests, points and metadata come from source/.
        def transform(raw: bytes, name: str, notebook: str) -> bytes:
            return rebuild_bytes(workspace / "source" / name / notebook, raw)

    try:
        collection = collect(
            options.submissions, workspace / "submitted", assignments,
            roster=class_list, assignment=options.assignment, max_bytes=limit, timezone_name=grading.timezone,
            transform=transform, worksheets=worksheets,
        )
    except CollectError as exc:
        raise GradingError(str(exc)) from None
    if not collection.ready and not collection.problems:
        sources = ", ".join(f"« {s} »" for s in options.submissions)
        raise GradingError(
            f"Aucun rendu trouvé dans {sources}. Un dossier de rendus contient un dossier par étudiant·e (nommé "
            "d'après son identifiant), et dedans un dossier par devoir (« ada/ex01_premiers-pas/ex01_premiers-pas.ipynb », "
            "comme le submitted/ de nbgrader) ou directement le carnet (« ada/ex01_premiers-pas.ipynb ») ; "
            "une archive Moodle se donne telle qu'elle a été téléchargée (.zip)."
            + "".join(f"\n  – {w}" for w in collection.warnings)
        )
    unused = [w.path for w in worksheets if w.path not in collection.worksheets_used]
    if unused:
        raise GradingError(
            "Feuille d'évaluation sans archive correspondante : " + ", ".join(f"« {p.name} »" for p in unused)
            + ". Aucun de ses participants n'a de dossier dans les archives Moodle données (--submissions) : "
            "elle appartient sans doute à un autre devoir."
        )
    return collection


def prepare_stage(prepared: Prepared, collection: Collection, backend, workspace: Path,
                  while_waiting: Callable[[], None] | None = None) -> float:
    """nbgrader's generate_assignment, the canary, the students and due dates; the canary's seconds.

    ``while_waiting`` is called once the assignments are generated, while the canary may still run (the
    sandboxes' warm server importing TensorFlow): work that would otherwise wait for the end of the run.
    """
    from nbgrader.apps import NbGraderAPI

    canary = None
    if backend is not None and prepared.to_grade:
        # The instructor's solution first, in the same sandbox and configuration: a grader that
        # cannot give it full marks must not grade anyone. It runs in the sandboxes while nbgrader
        # generates the assignments here; no student is touched before its verdict.
        from concurrent.futures import ThreadPoolExecutor

        from autograder.grading.canary import check

        background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="canary")
        canary = background.submit(check, workspace / "source", prepared.assignments,
                                   sorted({a for _, a in prepared.to_grade}), prepared.config, backend)
        background.shutdown(wait=False)
    generate_assignments(NbGraderAPI(config=prepared.config), prepared.used)
    if while_waiting is not None:
        while_waiting()
    seconds = 0.0
    if canary is not None:
        from autograder.grading.canary import CanaryError

        try:
            seconds = canary.result()
        except CanaryError as exc:
            raise GradingError(str(exc)) from None
    students = {s: collection.students.get(s) for s, _ in collection.ready}
    students.update({p.student_id: collection.students.get(p.student_id) for p in collection.problems})
    register(prepared.db_url, prepared.used, prepared.grading.due_dates, students)
    return seconds
