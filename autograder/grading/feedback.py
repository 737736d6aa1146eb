"""Feedback pages of a class: nbgrader's ``generate_feedback``, with one warm exporter per process.

``nbgrader generate_feedback`` starts an application, and its GetGrades preprocessor opens a new
``Gradebook`` (a SQLAlchemy engine and a schema check) for every notebook. Here each process
builds nbgrader's GenerateFeedback converter, its HTML exporter (templates compiled once) and
one read-only ``Gradebook`` once, then writes the pages of the students it is given, doing for
each what the converter does (nbgrader/converters/base.py): empty ``feedback/<student>/<assignment>/``,
copy the copy's other files, render each autograded notebook with the configured preprocessors
(GetGrades on the process's gradebook), set nbgrader's permissions.

Pages are written while the class is still being graded: ``Pages`` hands the students of each
committed batch to a small pool of such processes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from jinja2 import BytecodeCache
from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.writers import FilesWriter
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import GetGrades, NbGraderPreprocessor
from traitlets.config import Config

_QUIET = logging.getLogger("autograder.grading.feedback")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class RunGetGrades(GetGrades):
    """nbgrader's GetGrades (same lines; the per-cell reads are inherited), on the process's gradebook."""

    run_gradebook: Gradebook | None = None

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = self.run_gradebook
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
        notebook = self.gradebook.find_submission_notebook(self.notebook_id, self.assignment_id, self.student_id)
        late_penalty = notebook.late_submission_penalty
        if late_penalty is None:
            late_penalty = 0
        resources["nbgrader"]["score"] = notebook.score - late_penalty
        resources["nbgrader"]["max_score"] = notebook.max_score
        resources["nbgrader"]["late_penalty"] = late_penalty
        return nb, resources


#: An ``<img`` tag without an ``alt`` attribute (the templates write ``<img src=…>``).
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)(?=[\s>/])", re.IGNORECASE)
#: What is not markup, even if it holds the text ``<img``: scripts, styles, comments, text areas.
_NOT_MARKUP = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<textarea\b.*?</textarea\s*>)",
                         re.IGNORECASE | re.DOTALL)
NO_ALT_TEXT = "Image sans description"


def describe_images(html: str) -> str:
    """``html`` with an ``alt`` text on every image tag that has none (outside scripts, styles and comments)."""
    parts = _NOT_MARKUP.split(html)  # odd indexes: the parts left as they are
    return "".join(part if index % 2 else _IMG_WITHOUT_ALT.sub(f'<img alt="{NO_ALT_TEXT}"', part)
                   for index, part in enumerate(parts))


class RememberedHighlight:
    """nbconvert's highlighting filter, run once per distinct cell: most cells are the same on every page of a class.

    Pygments' highlighting is about a third of a page's CPU; its result depends only on the
    filter's settings (one instance per lexer) and on the call's arguments, which are the key.
    """

    LIMIT = 4096

    def __init__(self, highlight: Highlight2HTML) -> None:
        self._highlight = highlight
        self._done: dict[tuple, str] = {}

    def __call__(self, source: str, language: str | None = None, metadata: Any = None) -> str:
        key = (source, language, json.dumps(metadata, sort_keys=True, default=repr))
        if key not in self._done:
            if len(self._done) >= self.LIMIT:
                self._done.clear()
            self._done[key] = self._highlight(source, language, metadata)
        return self._done[key]


class CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, kept in this process's memory (a Jinja bytecode cache).

    Compiling the templates of a feedback page (the course's ``feedback`` template and nbconvert's
    templates it extends) is most of a writer's first page: about 0.3 s of CPU in every run. The
    warm server compiles them once (feedback_warm_up.py); the writers forked from it load the compiled code
    from here. Jinja checks each entry against its template's source: a changed template is
    compiled again.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Any) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Any) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter, without its last pass over the whole page.

    ``HTMLExporter.from_notebook_node`` (nbconvert 7.17, pinned) renders the template, then parses the
    page again with BeautifulSoup's pure-Python parser to add accessibility attributes: a ``tabindex``
    on JupyterLab's cell classes, which the classic template of feedback pages does not use, and an
    English ``alt`` text on images without one. That pass costs half the CPU of a page (about 50 ms of
    the 86 ms of a page of ex01). Here the same filters are registered and the same template rendered;
    images without ``alt`` get a French text. ``tests/test_record.py`` checks the pages against
    ``nbgrader generate_feedback``'s, once reserialized as BeautifulSoup does.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._highlighters: dict[str | None, RememberedHighlight] = {}

    def from_notebook_node(self, nb: NotebookNode, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
        # As HTMLExporter.from_notebook_node, up to its call of the template exporter (the highlighting
        # filter remembered from page to page).
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        if "highlight_code" in self.filters:
            highlight_code = self.filters["highlight_code"]
        else:
            if lexer not in self._highlighters:
                self._highlighters[lexer] = RememberedHighlight(Highlight2HTML(pygments_lexer=lexer, parent=self))
            highlight_code = self._highlighters[lexer]
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources)
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        self.environment.bytecode_cache = COMPILED_TEMPLATES
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return describe_images(html), resources


def feedback_converter(coursedir: CourseDirectory, config: Config) -> GenerateFeedback:
    """nbgrader's GenerateFeedback converter, with the template NbGraderAPI.generate_feedback forces."""
    converter = GenerateFeedback(coursedir=coursedir, config=config, log=_QUIET)
    forced = Config()
    forced.HTMLExporter.template_name = "feedback"
    converter.update_config(forced)
    return converter


def _preprocessor_class(item: Any) -> type:
    if isinstance(item, str):
        from traitlets.utils.importstring import import_item

        item = import_item(item)
    return RunGetGrades if item is GetGrades else item


class FeedbackWriter:
    """Writes feedback pages as ``nbgrader generate_feedback --force`` would, reusing everything between pages."""

    def __init__(self, config: Config, workspace: Path) -> None:
        self.coursedir = CourseDirectory(config=config)
        self.coursedir.root = str(workspace)
        converter = feedback_converter(self.coursedir, config)
        converter.force = True
        converter.writer = FilesWriter(parent=converter, config=converter.config)
        converter.exporter = FeedbackExporter(parent=converter, config=converter.config)
        converter.exporter.optimistic_validation = True  # validated once, after the last preprocessor (nbconvert's option)
        self.gradebook = Gradebook(self.coursedir.db_url, self.coursedir.course_id)
        for item in converter.preprocessors:
            preprocessor = _preprocessor_class(item)(parent=converter.exporter)
            if isinstance(preprocessor, RunGetGrades):
                preprocessor.run_gradebook = self.gradebook
            converter.exporter.register_preprocessor(preprocessor)  # enabled as configured, as nbgrader
        self.converter = converter

    def write(self, assignment: str, student: str) -> None:
        """The pages of one student's assignment (raises on failure, leaving no partial page)."""
        coursedir, converter = self.coursedir, self.converter
        coursedir.assignment_id, coursedir.student_id = assignment, student
        source = coursedir.format_path(coursedir.autograded_directory, student, assignment)
        converter.notebooks = sorted(str(p) for p in Path(source).glob(coursedir.notebook_id + ".ipynb"))
        try:
            if not converter.init_destination(assignment, student):
                return
            converter.run_pre_convert_hook()
            converter.init_assignment(assignment, student)
            for notebook in converter.notebooks:
                notebook_id = os.path.splitext(os.path.basename(notebook))[0]
                resources = {
                    "unique_key": notebook_id,
                    "output_files_dir": f"{notebook_id}_files",
                    "nbgrader": {"student": student, "assignment": assignment, "notebook": notebook_id,
                                 "db_url": coursedir.db_url},
                }
                output, resources = converter.exporter.from_filename(notebook, resources=resources)
                converter.write_single_notebook(output, resources)
            converter.set_permissions(assignment, student)
            converter.run_post_convert_hook()
        except BaseException:
            dest = coursedir.format_path(coursedir.feedback_directory, student, assignment)
            if os.path.exists(dest):
                utils.rmtree(dest)
            raise
        finally:
            self.gradebook.db.rollback()  # ends the read transaction: the recorder commits meanwhile

    def close(self) -> None:
        self.gradebook.close()


# --------------------------------------------------------------------------
# A pool of writers, fed while the class is graded
# --------------------------------------------------------------------------

_WRITER: FeedbackWriter | None = None  # the writer of a pool process (one per process)


#: Scheduling priority of the writer processes: below the main process, which records the copies one
#: after the other (the run's critical path), and below the sandboxes; the pages use the spare CPU.
WRITER_NICENESS = 10


def _start_writer(config: Config, workspace: str) -> None:
    global _WRITER
    from autograder.execution.sandbox import name_process

    name_process("ag-feedback")
    os.nice(WRITER_NICENESS)
    _WRITER = FeedbackWriter(config, Path(workspace))


def _write_in_pool(assignment: str, student: str) -> tuple[str, str, str | None]:
    try:
        _WRITER.write(assignment, student)
        return assignment, student, None
    except Exception as exc:  # noqa: BLE001 - the parent needs a reason, not a traceback
        return assignment, student, f"{type(exc).__name__} : {str(exc)[:300]}"


#: Why a page is missing when the process writing it was killed twice.
WRITER_LOST = "le processus de génération des retours s'est arrêté"


class Pages:
    """Feedback pages written by ``processes`` warm writers while the main process records the next copies.

    ``add`` hands a recorded copy over (only once its grades are committed); ``finish`` waits for
    every page and returns the French reason of each page that could not be written. A writer
    process that dies (killed from outside) loses no page: the pages it had not written are given
    to new processes once; only a second loss leaves them unwritten.
    """

    def __init__(self, config: Config, workspace: Path, processes: int, context: Any = None) -> None:
        # Never fork this process (it has threads); the warm server of the sandboxes, when there is one,
        # already holds these modules.
        self._context = context or multiprocessing.get_context("spawn")
        self._processes = max(1, processes)
        self._initargs = (config, str(workspace))
        self._pool = self._new_pool()
        self._futures: dict[tuple[str, str], Future] = {}

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(self._processes, mp_context=self._context, initializer=_start_writer,
                                   initargs=self._initargs)

    def _submit(self, assignment: str, student: str) -> Future:
        try:
            return self._pool.submit(_write_in_pool, assignment, student)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False)
            self._pool = self._new_pool()
            return self._pool.submit(_write_in_pool, assignment, student)

    def add(self, assignment: str, student: str) -> None:
        self._futures[(student, assignment)] = self._submit(assignment, student)

    def finish(self) -> dict[tuple[str, str], str]:
        """Wait for every page; (student, assignment) -> French reason, for the pages not written."""
        failures: dict[tuple[str, str], str] = {}
        try:
            for attempt in (1, 2):
                lost = []
                for key, future in self._futures.items():
                    try:
                        _, _, failure = future.result()
                    except BrokenProcessPool:
                        lost.append(key)
                        continue
                    if failure:
                        failures[key] = failure
                if not lost:
                    break
                if attempt == 1:
                    self._pool.shutdown(wait=False)
                    self._pool = self._new_pool()
                    self._futures = {key: self._submit(key[1], key[0]) for key in lost}
                else:
                    failures.update({key: WRITER_LOST for key in lost})
        finally:
            self._pool.shutdown(wait=True)
        return failures

    def abandon(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


#: Processes writing feedback pages. One is enough: pages are handed over as the main process records the
#: copies, one after the other (about 70 ms each, so at most about 14 copies per second), and a page takes a
#: writer about 30 ms. Each writer more only adds its start (about 0.5 s of CPU: gradebook opened, templates
#: compiled): on 60 real copies of ex01, 1 writer used 1 s of CPU less than 2 for the same duration, and on
#: 400 copies the last pages were written 0.3 s after the last copy was recorded.
FEEDBACK_WRITERS = 1
