"""Record the autograded copies of a class in nbgrader's gradebook, in one pass.

``nbgrader autograde`` is an application: for each copy it starts a converter, and its
converter and preprocessors open about ten ``Gradebook`` objects (each a new SQLAlchemy
engine, a schema check and several commits). Here a whole class is recorded with one
``Gradebook`` and one converter, while doing for each copy exactly what nbgrader's
``Autograde`` converter does (nbgrader/converters/autograde.py and base.py, 0.9):

- the destination ``autograded/<student>/<assignment>/`` is emptied, the copy's other files
  (``timestamp.txt``…) and the source's files are copied there;
- the student, the submission (with its timestamp) are created or updated, missing
  notebooks get zero;
- each notebook goes through the configured sanitize preprocessors, then through the
  configured autograde preprocessors (with ``NBGRADER_EXECUTION=autograde``), and is written
  where nbgrader writes it, with nbgrader's file permissions.

The preprocessors are nbgrader's own classes, from the configuration. The four that open a
``Gradebook`` of their own from ``resources['nbgrader']['db_url']`` (OverwriteKernelspec,
OverwriteCells, SaveAutoGrades, AssignLatePenalties) are replaced by subclasses that use the
run's gradebook: their ``preprocess`` method repeats nbgrader's few lines around the
gradebook; their per-cell logic (scores, comments, checksums, late penalties) is nbgrader's,
inherited. nbgrader is not modified.

Transactions: the gradebook's session is joined to one connection-level transaction per batch
of copies (SQLAlchemy's ``join_transaction_mode="rollback_only"``): nbgrader's many
``commit()`` calls only flush, and a batch is committed at once. A copy whose recording fails
rolls the batch back; the batch's other copies are recorded again, and the failed one becomes
a grading failure (no grade). The gradebook, formgrader and ``nbgrader export`` see the same
rows as after ``nbgrader autograde``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from nbconvert.exporters import NotebookExporter
from nbconvert.writers import FilesWriter
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (
    AssignLatePenalties,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)
from sqlalchemy.orm import scoped_session, sessionmaker
from traitlets.config import Config

from autograder import checks
from autograder.model import Outcome, Status

#: A batch is committed when it holds this many copies, or when it is this old (seconds).
BATCH_COPIES = 64
BATCH_SECONDS = 1.0

_QUIET = logging.getLogger("autograder.grading.record")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


# --------------------------------------------------------------------------
# nbgrader's preprocessors, on the run's gradebook
# --------------------------------------------------------------------------


class _OnRunGradebook:
    """Mixin: the gradebook of the run, given by the Recorder before use."""

    run_gradebook: Gradebook | None = None
    #: The assignment's cells as written by generate_assignment (unchanged during a run), read once.
    run_sources: "SourceCells | None" = None


class SourceCells:
    """What OverwriteCells and OverwriteKernelspec read of the source notebooks, read once per run.

    The same lookups as nbgrader's Gradebook (``find_notebook``, ``find_source_cell``,
    ``find_graded_cell``), answered with plain copies of the rows: these preprocessors only read
    them, and they do not change while a class is graded. This spares some thirty queries per copy.
    """

    def __init__(self, gradebook: Gradebook) -> None:
        self._gradebook = gradebook
        self._notebooks: dict[tuple[str, str], SimpleNamespace] = {}

    def find_notebook(self, name: str, assignment: str) -> SimpleNamespace:
        key = (name, assignment)
        if key not in self._notebooks:
            notebook = self._gradebook.find_notebook(name, assignment)

            def plain(cell: Any) -> SimpleNamespace:
                fields = ("name", "cell_type", "locked", "checksum", "source", "max_score")
                return SimpleNamespace(**{f: getattr(cell, f) for f in fields if hasattr(cell, f)})

            self._notebooks[key] = SimpleNamespace(
                kernelspec=notebook.kernelspec,
                source_cells=[plain(c) for c in notebook.source_cells],
                grade_cells=[plain(c) for c in notebook.grade_cells],
                solution_cells=[plain(c) for c in notebook.solution_cells],
                task_cells=[plain(c) for c in notebook.task_cells],
            )
        return self._notebooks[key]

    def _find(self, kind: str, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        for cell in getattr(self.find_notebook(notebook, assignment), kind):
            if cell.name == name:
                return cell
        raise MissingEntry()

    def find_source_cell(self, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        return self._find("source_cells", name, notebook, assignment)

    def find_graded_cell(self, name: str, notebook: str, assignment: str) -> SimpleNamespace:
        try:
            return self._find("grade_cells", name, notebook, assignment)
        except MissingEntry:
            return self._find("task_cells", name, notebook, assignment)


class RunOverwriteKernelspec(_OnRunGradebook, OverwriteKernelspec):
    """nbgrader's OverwriteKernelspec (same lines), on the run's gradebook."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        kernelspec = self.run_sources.find_notebook(info["notebook"], info["assignment"]).kernelspec
        if kernelspec is not None:
            kernelspec = json.loads(kernelspec)
        if kernelspec:
            nb.metadata["kernelspec"] = kernelspec
        return nb, resources


class RunOverwriteCells(_OnRunGradebook, OverwriteCells):
    """nbgrader's OverwriteCells, on the run's gradebook (its cell logic is inherited)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = self.run_sources  # only reads the source cells
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
        if self.add_missing_cells:
            nb, resources = self.add_missing_grade_cells(nb, resources)
            nb, resources = self.add_missing_task_cells(nb, resources)
        return nb, resources


class RunSaveAutoGrades(_OnRunGradebook, SaveAutoGrades):
    """nbgrader's SaveAutoGrades, on the run's gradebook (its scoring and comments are inherited)."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = self.run_gradebook
        return NbGraderPreprocessor.preprocess(self, nb, resources)


class RunAssignLatePenalties(_OnRunGradebook, AssignLatePenalties):
    """nbgrader's AssignLatePenalties (same lines, same plugin), on the run's gradebook."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.init_plugin()
        self.gradebook = self.run_gradebook
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
        assignment = self.gradebook.find_submission(self.assignment_id, self.student_id)
        notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
        notebook.late_submission_penalty = None
        if assignment.total_seconds_late > 0:
            late_penalty = self.plugin_inst.late_submission_penalty(
                self.student_id, notebook.score, assignment.total_seconds_late)
            if late_penalty is not None:
                notebook.late_submission_penalty = self._check_late_penalty(notebook, late_penalty)
        self.gradebook.db.commit()
        return nb, resources


#: nbgrader's preprocessors that open their own Gradebook, and their replacement.
ON_RUN_GRADEBOOK: dict[type, type] = {
    OverwriteKernelspec: RunOverwriteKernelspec,
    OverwriteCells: RunOverwriteCells,
    SaveAutoGrades: RunSaveAutoGrades,
    AssignLatePenalties: RunAssignLatePenalties,
}


def _preprocessor_class(item: Any) -> type:
    if isinstance(item, str):
        from traitlets.utils.importstring import import_item

        item = import_item(item)
    return ON_RUN_GRADEBOOK.get(item, item)


# --------------------------------------------------------------------------
# Reading an outcome back
# --------------------------------------------------------------------------


def read_outcome(gradebook: Gradebook, workspace: Path, student: str, assignment: str, seconds: float) -> Outcome:
    """The outcome of a graded submission, as recorded in the gradebook."""
    missed, manual = [], []
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
        remarks.append(f"rendu en retard ({duration(late)})")
    page = workspace / "feedback" / student / assignment
    return Outcome(
        student, assignment, score, max_score, Status.GRADED, "\u00a0; ".join(remarks),
        page if page.is_dir() else None, seconds, late, manual,
    )


def duration(seconds: float) -> str:
    """A lateness in French words."""
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d}"
    return f"{hours // 24} jours"


def failure_outcome(gradebook: Gradebook, workspace: Path, student: str, assignment: str, reason: str,
                    seconds: float = 0.0) -> Outcome:
    """A copy the grader could not judge: no grade, no feedback page (an earlier one would be stale)."""
    max_score = gradebook.find_assignment(assignment).max_score
    stale = workspace / "feedback" / student / assignment
    if stale.is_dir():
        shutil.rmtree(stale)
    return Outcome(
        student, assignment, 0.0, max_score, Status.FAILED,
        f"la copie n'a pas pu être corrigée ({reason}) ; ce n'est pas une note : relancez la même commande "
        "pour la corriger de nouveau.", seconds=seconds,
    )


# --------------------------------------------------------------------------
# The recorder
# --------------------------------------------------------------------------


@dataclass
class _Pending:
    """A copy recorded in the open batch (its outcome is read once the batch is committed)."""

    student: str
    assignment: str
    seconds: float
    failure: str | None = None
    outputs: dict = field(default_factory=dict)  # what the executor gave it, kept for a replay


class Recorder:
    """nbgrader's autograde for many copies: one gradebook, one converter, a transaction per batch.

    Use as a context manager; ``record`` and ``fail`` return the outcomes of the copies whose
    batch has just been committed (in the order they came), ``flush`` commits the open batch.
    """

    def __init__(self, config: Config, workspace: Path, *, take: Callable[[str, str], dict] | None = None,
                 restore: Callable[[str, str, dict], None] | None = None) -> None:
        """``take(student, assignment)``: a copy of what the executor left for the copy (consumed while it
        is recorded); ``restore(student, assignment, taken)`` puts it back to record the copy again."""
        self.workspace = workspace
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(workspace)
        #: nbgrader's own converter: its configuration, paths, file copies and permissions.
        self.converter = Autograde(coursedir=self.coursedir, config=config, log=_QUIET)
        self.converter.force = True
        self.converter.create_student = True
        self.converter.writer = FilesWriter(parent=self.converter, config=self.converter.config)
        self.sanitize = self._exporter(self.converter.sanitize_preprocessors)
        self.autograde = self._exporter(self.converter.autograde_preprocessors)
        self.converter.exporter = self.autograde
        self.gradebook = Gradebook(self.coursedir.db_url, self.coursedir.course_id)
        self.sources = SourceCells(self.gradebook)
        self._connection = self.gradebook.engine.connect()
        self._transaction = self._connection.begin()
        # nbgrader's Gradebook opens its own session; it is joined to the batch's transaction instead,
        # so that nbgrader's commit() calls only flush (SQLAlchemy's documented way of doing so).
        self.gradebook.db.remove()
        self.gradebook.db = scoped_session(sessionmaker(
            bind=self._connection, autoflush=True, join_transaction_mode="rollback_only"))
        for exporter in (self.sanitize, self.autograde):
            for preprocessor in exporter._preprocessors:
                if isinstance(preprocessor, _OnRunGradebook):
                    preprocessor.run_gradebook = self.gradebook
                    preprocessor.run_sources = self.sources
        self._take = take
        self._restore = restore
        self._batch: list[_Pending] = []
        self._opened = time.perf_counter()
        #: Seconds spent recording (nbgrader's work and the gradebook), for the run's stage times.
        self.seconds = 0.0

    def _exporter(self, preprocessors: list) -> NotebookExporter:
        # As nbgrader: an exporter given only a parent would start from its default configuration.
        exporter = NotebookExporter(parent=self.converter, config=self.converter.config)
        for item in preprocessors:
            exporter.register_preprocessor(_preprocessor_class(item)(parent=exporter))  # as nbgrader: enabled as configured
        return exporter

    # -- the public steps ------------------------------------------------------------------

    def record(self, student: str, assignment: str) -> list[Outcome]:
        """Autograde one submitted copy into the open batch; the outcomes of a batch committed now."""
        started = time.perf_counter()
        pending = _Pending(student, assignment, 0.0)
        if self._take is not None:
            pending.outputs = self._take(student, assignment)
        try:
            self._record_copy(student, assignment)
        except Exception as exc:  # noqa: BLE001 - one copy never stops the others
            self._recover(pending, exc)
        pending.seconds = time.perf_counter() - started
        self.seconds += pending.seconds
        self._batch.append(pending)
        return self._maybe_commit()

    def fail(self, student: str, assignment: str, reason: str) -> list[Outcome]:
        """A copy the sandboxes could not run: a grading failure (nothing recorded)."""
        self._batch.append(_Pending(student, assignment, 0.0, failure=reason))
        return self._maybe_commit()

    def flush(self) -> list[Outcome]:
        """Commit the open batch; the outcomes of its copies."""
        if not self._batch:
            return []
        started = time.perf_counter()
        self.gradebook.db.commit()
        self._transaction.commit()
        self._transaction = self._connection.begin()
        batch, self._batch = self._batch, []
        self._opened = time.perf_counter()
        outcomes = []
        for pending in batch:
            if pending.failure is not None:
                outcome = failure_outcome(self.gradebook, self.workspace, pending.student, pending.assignment,
                                          pending.failure, pending.seconds)
            else:
                outcome = read_outcome(self.gradebook, self.workspace, pending.student, pending.assignment,
                                       pending.seconds)
            outcomes.append(outcome)
        self.gradebook.db.commit()  # ends the read-only session transaction (nothing to write)
        self.seconds += time.perf_counter() - started
        return outcomes

    def close(self) -> None:
        self.gradebook.db.remove()
        if self._transaction.is_active:
            self._transaction.rollback()
        self._connection.close()
        self.gradebook.engine.dispose()

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- what nbgrader's Autograde converter does for one copy ------------------------------

    def _maybe_commit(self) -> list[Outcome]:
        if len(self._batch) >= BATCH_COPIES or time.perf_counter() - self._opened >= BATCH_SECONDS:
            return self.flush()
        return []

    def _recover(self, pending: _Pending, exc: Exception) -> None:
        """Roll back the batch, record its other copies again; ``pending`` becomes a grading failure."""
        self.gradebook.db.rollback()
        if self._transaction.is_active:
            self._transaction.rollback()
        self._transaction = self._connection.begin()
        self._remove_destination(pending.student, pending.assignment)
        pending.failure = f"nbgrader : {type(exc).__name__} : {str(exc)[:300]}"
        for other in self._batch:
            if other.failure is not None:
                continue
            if self._restore is not None:
                self._restore(other.student, other.assignment, other.outputs)
            try:
                self._record_copy(other.student, other.assignment)
            except Exception as again:  # noqa: BLE001 - then it fails too, for its own reason
                self._recover(other, again)
                return

    def _remove_destination(self, student: str, assignment: str) -> None:
        dest = Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))
        if dest.exists():
            utils.rmtree(str(dest))

    def _record_copy(self, student: str, assignment: str) -> None:
        coursedir, converter, gradebook = self.coursedir, self.converter, self.gradebook
        coursedir.assignment_id, coursedir.student_id = assignment, student
        submitted = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        notebooks = sorted(str(p) for p in Path(submitted).glob(coursedir.notebook_id + ".ipynb"))
        converter.notebooks = notebooks
        os.environ[checks.STUDENT_ID_ENV] = student
        try:
            if not converter.init_destination(assignment, student):
                return
            converter.run_pre_convert_hook()
            self._init_assignment(assignment, student)
            for notebook in converter.notebooks:
                self._convert_notebook(notebook)
            converter.set_permissions(assignment, student)
            converter.run_post_convert_hook()
        except BaseException:
            self._remove_destination(student, assignment)
            raise
        finally:
            os.environ.pop(checks.STUDENT_ID_ENV, None)

    def _init_assignment(self, assignment: str, student: str) -> None:
        """nbgrader's Autograde.init_assignment, with the run's gradebook."""
        coursedir, converter, gradebook = self.coursedir, self.converter, self.gradebook
        BaseConverter.init_assignment(converter, assignment, student)  # the copy's other files (timestamp.txt…)
        gradebook.update_or_create_student(student)
        gradebook.find_assignment(assignment)
        submitted = coursedir.format_path(coursedir.submitted_directory, student, assignment)
        timestamp = coursedir.get_existing_timestamp(submitted)
        if timestamp:
            gradebook.update_or_create_submission(assignment, student, timestamp=timestamp)
        else:
            gradebook.update_or_create_submission(assignment, student)
        dest = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        source = coursedir.format_path(coursedir.source_directory, ".", assignment)
        source_files = set(utils.find_all_files(source, coursedir.ignore + ["*.ipynb"]))
        excluded = {os.path.join(source, x) for x in converter.exclude_overwriting.get(assignment, [])}
        for filename in sorted(source_files - excluded):
            target = os.path.join(dest, os.path.relpath(filename, source))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.exists(target):
                os.remove(target)
            shutil.copy(filename, target)
        known = []
        for notebook in converter.notebooks:
            try:
                gradebook.find_notebook(os.path.splitext(os.path.basename(notebook))[0], assignment)
            except MissingEntry:
                continue
            known.append(notebook)
        converter.notebooks = known
        if not known:
            raise RuntimeError("No notebooks found, did you forget to run 'nbgrader generate_assignment'?")
        for notebook in gradebook.find_assignment(assignment).notebooks:
            if not os.path.exists(os.path.join(submitted, f"{notebook.name}.ipynb")):
                for grade in gradebook.find_submission_notebook(notebook.name, assignment, student).grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
                gradebook.db.commit()

    def _convert_notebook(self, filename: str) -> None:
        """Sanitize, then autograde, one notebook (nbgrader's Autograde.convert_single_notebook)."""
        converter = self.converter
        output, resources = self.sanitize.from_filename(filename, resources=self._resources(filename))
        converter.write_single_notebook(output, resources)
        written = os.path.join(converter.writer.build_directory, os.path.basename(filename))
        with utils.setenv(NBGRADER_EXECUTION="autograde"):
            output, resources = self.autograde.from_filename(written, resources=self._resources(filename))
        converter.write_single_notebook(output, resources)

    def _resources(self, filename: str) -> dict:
        """The resources nbgrader's BaseConverter.init_single_notebook_resources gives a notebook."""
        notebook_id = os.path.splitext(os.path.basename(filename))[0]
        return {
            "unique_key": notebook_id,
            "output_files_dir": f"{notebook_id}_files",
            "nbgrader": {
                "student": self.coursedir.student_id,
                "assignment": self.coursedir.assignment_id,
                "notebook": notebook_id,
                "db_url": self.coursedir.db_url,
            },
        }
