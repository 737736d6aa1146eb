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

The preprocessors are nbgrader's own classes, from the configuration; the four that would open
a ``Gradebook`` of their own use the run's instead (nbgrader_steps.py). With the sandbox, the
copy's outputs (computed ahead by the execution backends) are handed to SandboxedExecute by
``record``. nbgrader is not modified.

Transactions: the gradebook's session is joined to one connection-level transaction per batch
of copies (SQLAlchemy's ``join_transaction_mode="rollback_only"``): nbgrader's many
``commit()`` calls only flush, and a batch is committed at once. A copy whose recording fails
rolls the batch back; the batch's other copies are recorded again, and the failed one becomes
a grading failure (no grade). The gradebook, formgrader and ``nbgrader export`` see the same
rows as after ``nbgrader autograde``.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from nbconvert.exporters import Exporter, NotebookExporter
from nbconvert.exporters.exporter import ResourcesDict
from nbconvert.writers import FilesWriter
from nbformat.v4.rwbase import strip_transient
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from nbgrader.coursedir import CourseDirectory
from sqlalchemy.exc import SAWarning
from sqlalchemy.orm import scoped_session, sessionmaker
from traitlets.config import Config

from autograder import checks
from autograder.execution.preprocessor import SandboxedExecute
from autograder.grading.nbgrader_steps import OnRunGradebook, SourceCells, with_run_gradebook
from autograder.grading.outcomes import failure_outcome, read_outcome
from autograder.model import Outcome

#: A batch is committed when it holds this many copies, or when it is this old (seconds).
BATCH_COPIES = 64
BATCH_SECONDS = 1.0

_QUIET = logging.getLogger("autograder.grading.record")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


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
    outputs: dict = field(default_factory=dict)  # the sandboxed run's outputs, kept for a replay


class Recorder:
    """nbgrader's autograde for many copies: one gradebook, one converter, a transaction per batch.

    Use as a context manager; ``record`` and ``fail`` return the outcomes of the copies whose
    batch has just been committed (in the order they came), ``flush`` commits the open batch.
    """

    def __init__(self, config: Config, workspace: Path) -> None:
        self.workspace = workspace
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(workspace)
        #: nbgrader's own converter: its configuration, paths, file copies and permissions.
        self.converter = Autograde(coursedir=self.coursedir, config=config, log=_QUIET)
        self.converter.force = True
        self.converter.create_student = True
        self.converter.writer = FilesWriter(parent=self.converter, config=self.converter.config)
        self._steps: list = []  # the preprocessors' instances, both exporters
        # The sanitize pass hands a notebook (nbconvert's base Exporter), the autograde pass its file's text.
        self.sanitize = self._exporter(Exporter, self.converter.sanitize_preprocessors)
        self.autograde = self._exporter(NotebookExporter, self.converter.autograde_preprocessors)
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
        for step in self._steps:
            if isinstance(step, OnRunGradebook):
                step.run_gradebook = self.gradebook
                step.run_sources = self.sources
        self._batch: list[_Pending] = []
        self._opened = time.perf_counter()
        #: Seconds spent recording (nbgrader's work and the gradebook), for the run's stage times.
        self.seconds = 0.0

    def _exporter(self, kind: type[Exporter], preprocessors: list) -> Exporter:
        # As nbgrader: an exporter given only a parent would start from its default configuration.
        exporter = kind(parent=self.converter, config=self.converter.config)
        # nbconvert's documented option: the notebook is validated once, after the last preprocessor (and
        # again when written), instead of after each of them. A preprocessor that broke it still fails the copy.
        exporter.optimistic_validation = True
        for item in preprocessors:
            step = with_run_gradebook(item)(parent=exporter)
            exporter.register_preprocessor(step)  # as nbgrader: enabled as configured
            self._steps.append(step)
        return exporter

    # -- the public steps ------------------------------------------------------------------

    def record(self, student: str, assignment: str, outputs: dict | None = None) -> list[Outcome]:
        """Autograde one submitted copy into the open batch; the outcomes of a batch committed now.

        ``outputs``: with the sandbox, the outputs of the copy's run (backends.CopyResult.outputs).
        """
        started = time.perf_counter()
        pending = _Pending(student, assignment, 0.0, outputs=outputs or {})
        try:
            self._record_copy(pending)
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
        # nbgrader 0.9's gradebook code makes SQLAlchemy 2 warn, for every copy, that an object "not in
        # session" is not added along a relationship: harmless (it is saved through the other one), and kept
        # off the terminal of whoever grades, from the command line or from a script.
        self._quiet = warnings.catch_warnings()
        self._quiet.__enter__()
        warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session", category=SAWarning)
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self.close()
        finally:
            self._quiet.__exit__(None, None, None)

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
            try:
                self._record_copy(other)
            except Exception as again:  # noqa: BLE001 - then it fails too, for its own reason
                self._recover(other, again)
                return

    def _remove_destination(self, student: str, assignment: str) -> None:
        dest = Path(self.coursedir.format_path(self.coursedir.autograded_directory, student, assignment))
        if dest.exists():
            utils.rmtree(str(dest))

    def _record_copy(self, pending: _Pending) -> None:
        student, assignment = pending.student, pending.assignment
        coursedir, converter = self.coursedir, self.converter
        for step in self._steps:
            if isinstance(step, SandboxedExecute):
                step.outputs, step.require_outputs = pending.outputs, True
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
        """Sanitize, then autograde, one notebook (nbgrader's Autograde.convert_single_notebook).

        nbgrader writes the sanitized notebook where the autograded one goes, reads it back for the
        second pass, then writes it again over the same file. Here the sanitized notebook goes to the
        second pass in memory, as that round trip gives it: transient fields stripped (nbformat does it
        on every write and read), the resources of a notebook read from the destination folder. One read
        and one write per copy instead of two each; tests/test_record.py compares the files byte for
        byte with nbgrader's autograde.
        """
        converter = self.converter
        output, _ = self.sanitize.from_filename(filename, resources=self._resources(filename))
        strip_transient(output)
        destination = self.coursedir.format_path(self.coursedir.autograded_directory, self.coursedir.student_id,
                                                 self.coursedir.assignment_id)
        resources = self._resources(filename)
        resources["metadata"] = ResourcesDict(
            name=os.path.splitext(os.path.basename(filename))[0], path=destination,
            modified_date=datetime.now(timezone.utc).strftime("%B %-d, %Y"))
        with utils.setenv(NBGRADER_EXECUTION="autograde"):
            output, resources = self.autograde.from_notebook_node(output, resources=resources)
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
