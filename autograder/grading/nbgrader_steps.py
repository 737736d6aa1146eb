"""nbgrader's autograde preprocessors, on the run's one gradebook.

The four preprocessors of nbgrader that open a ``Gradebook`` of their own from
``resources['nbgrader']['db_url']`` (OverwriteKernelspec, OverwriteCells, SaveAutoGrades,
AssignLatePenalties) are replaced by subclasses that use the run's gradebook: their ``preprocess``
method repeats nbgrader's few lines around the gradebook; their per-cell logic (scores, comments,
checksums, late penalties) is nbgrader's, inherited. nbgrader is not modified.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from nbformat import NotebookNode
from nbgrader.api import BaseCell, Comment, Grade, GradeCell, Gradebook, MissingEntry, SolutionCell
from nbgrader.preprocessors import (
    AssignLatePenalties,
    NbGraderPreprocessor,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)


class OnRunGradebook:
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


class RunOverwriteKernelspec(OnRunGradebook, OverwriteKernelspec):
    """nbgrader's OverwriteKernelspec (same lines), on the run's gradebook."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        info = resources["nbgrader"]
        kernelspec = self.run_sources.find_notebook(info["notebook"], info["assignment"]).kernelspec
        if kernelspec is not None:
            kernelspec = json.loads(kernelspec)
        if kernelspec:
            nb.metadata["kernelspec"] = kernelspec
        return nb, resources


class RunOverwriteCells(OnRunGradebook, OverwriteCells):
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


class _FlushAtTheEnd:
    """A gradebook session whose ``commit`` waits: the caller commits once, after the notebook."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def commit(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class SubmittedRows:
    """The grades and comments of one submitted notebook, for SaveAutoGrades: two reads instead of one per cell.

    nbgrader's ``find_grade`` and ``find_comment`` join six tables for each graded cell (then its
    ``commit``). Here the same rows, the session's own objects that nbgrader then changes in place,
    are found by cell name among the submitted notebook's grades and comments, preferring the kind of
    cell nbgrader looks for first (grade cell, then task cell; solution cell, then task cell). Any
    other lookup goes to the gradebook itself.
    """

    def __init__(self, gradebook: Gradebook, notebook: str, assignment: str, student: str) -> None:
        self._gradebook = gradebook
        self._key = (notebook, assignment, student)
        submitted = gradebook.find_submission_notebook(notebook, assignment, student)
        self._grades = self._by_name(gradebook, Grade, submitted.id, GradeCell)
        self._comments = self._by_name(gradebook, Comment, submitted.id, SolutionCell)
        self.db = _FlushAtTheEnd(gradebook.db)

    @staticmethod
    def _by_name(gradebook: Gradebook, rows: type, submitted_id: str, first: type) -> dict:
        """The notebook's rows of ``rows`` (Grade or Comment) by cell name, with each cell's name and kind
        read in the same query (a row's ``cell``, loaded one by one, would cost a query per row)."""
        first_kind = first.__mapper__.polymorphic_identity
        found: dict = {}
        query = (gradebook.db.query(rows, BaseCell.name, BaseCell.type)
                 .join(BaseCell, rows.cell_id == BaseCell.id).filter(rows.notebook_id == submitted_id))
        for row, name, kind in query:
            if name not in found or kind == first_kind:
                found[name] = row
        return found

    def find_grade(self, cell: str, notebook: str, assignment: str, student: str) -> Any:
        if (notebook, assignment, student) != self._key:
            return self._gradebook.find_grade(cell, notebook, assignment, student)
        if cell not in self._grades:
            raise MissingEntry()
        return self._grades[cell]

    def find_comment(self, cell: str, notebook: str, assignment: str, student: str) -> Any:
        if (notebook, assignment, student) != self._key:
            return self._gradebook.find_comment(cell, notebook, assignment, student)
        if cell not in self._comments:
            raise MissingEntry()
        return self._comments[cell]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gradebook, name)


class RunSaveAutoGrades(OnRunGradebook, SaveAutoGrades):
    """nbgrader's SaveAutoGrades, on the run's gradebook (its scoring and comments are inherited).

    Its rows are read once per notebook (SubmittedRows) and its changes committed once, after the
    notebook: in a run the session's commits only flush into the batch's transaction (record.py), so
    the gradebook ends the same.
    """

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        self.notebook_id = resources["nbgrader"]["notebook"]
        self.assignment_id = resources["nbgrader"]["assignment"]
        self.student_id = resources["nbgrader"]["student"]
        self.db_url = resources["nbgrader"]["db_url"]
        self.gradebook = SubmittedRows(self.run_gradebook, self.notebook_id, self.assignment_id, self.student_id)
        nb, resources = NbGraderPreprocessor.preprocess(self, nb, resources)
        self.run_gradebook.db.commit()
        return nb, resources


class RunAssignLatePenalties(OnRunGradebook, AssignLatePenalties):
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


def with_run_gradebook(item: Any) -> type:
    if isinstance(item, str):
        from traitlets.utils.importstring import import_item

        item = import_item(item)
    return ON_RUN_GRADEBOOK.get(item, item)
