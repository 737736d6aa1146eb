"""Sandboxed execution for nbgrader: the preprocessor that replaces its Execute during autograde.

1. The notebook is rebuilt from the pristine source: every cell, its metadata, points and the
   kernelspec come from source/; only the student's answer cells (matched by grade_id) come from
   the submission.
2. In a grading run, the rebuilt notebook has already run in the sandbox (backends.run_copies, in
   parallel): the recorder hands its outputs to this preprocessor (``outputs``, with
   ``require_outputs``: a copy is never run here, out of the parallel run's accounting; missing
   outputs are a grading failure). Used by plain ``nbgrader autograde``, it runs the copy itself,
   in the same sandbox.
3. The outputs are written into the cells, so that nbgrader's SaveAutoGrades scores them and
   feedback, export and formgrader work as usual.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
from nbformat import NotebookNode
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Bool, Dict, Float, Int

from autograder.execution.backends import Job, job_key
from autograder.execution.sandbox import Limits
from autograder.execution.student_process import RunParameters
from autograder.submissions import notebook_io


def is_test_cell(cell: Any) -> bool:
    """A test cell: graded, not an answer (nbgrader's own predicates)."""
    return bool(is_grade(cell)) and not is_solution(cell)


def rebuild(source: NotebookNode, submitted: Any) -> NotebookNode:
    """The notebook to grade: the source's cells, with the student's answers by grade_id.

    ``submitted`` may be malformed in any way (see notebook_io): what cannot be read is ignored.
    """
    return notebook_io.rebuild(source, notebook_io.find_answers(submitted, source))


def rebuild_bytes(template: Path, raw: bytes) -> bytes:
    """A submitted notebook rebuilt on ``template`` (the source notebook): only its answers are kept.

    Raises notebook_io.Unusable (French reason) when ``raw`` holds no recognisable answer.
    """
    source = nbformat.read(template, as_version=4)
    answers = notebook_io.usable_answers(notebook_io.load(raw, template.name).notebook, source)
    return nbformat.writes(notebook_io.rebuild(source, answers)).encode("utf-8")


def cell_roles(notebook: NotebookNode) -> list[dict]:
    """What the test process needs to know of each cell."""
    roles = []
    for cell in notebook.cells:
        test = is_test_cell(cell)
        roles.append({
            "cell_type": cell.cell_type,
            "source": cell.source,
            "test": test and cell.cell_type == "code",
            "student": bool(is_solution(cell)),
            "instructor": cell.cell_type == "code" and not test and not is_solution(cell),
        })
    return roles


def prepare_job(job: Job) -> str | None:
    """The rebuilt notebook of a job, as the JSON of its cell roles; None if it cannot be read."""
    try:
        submitted = notebook_io.load(Path(job.submitted).read_bytes(), Path(job.submitted).name).notebook
        return json.dumps(cell_roles(rebuild(nbformat.read(job.source, as_version=4), submitted)))
    except Exception:  # noqa: BLE001 - one unreadable copy never stops the others (a grading failure)
        return None


class SandboxedExecute(NbGraderPreprocessor):
    """Write the outputs of a submission's sandboxed run into its rebuilt notebook."""

    cell_timeout = Float(120.0, help="Seconds a cell (or one call of a student's function) may run.").tag(config=True)
    timeout = Float(900.0, help="Seconds one whole submission may run.").tag(config=True)
    cpu_seconds = Int(600, help="CPU seconds of the student's process.").tag(config=True)
    memory_mb = Int(6144, help="Address space of the student's process, in MB.").tag(config=True)

    #: Outputs of the copy being recorded, by key of its rebuilt notebooks (given by the recorder).
    outputs = Dict()
    #: True in a grading run: outputs missing from ``outputs`` are an error, never a run here.
    require_outputs = Bool(False)

    def _source_notebook(self, resources: dict) -> NotebookNode:
        coursedir = CourseDirectory(parent=self)
        info = resources["nbgrader"]
        folder = Path(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]))
        return nbformat.read(folder / f"{info['notebook']}.ipynb", as_version=4)

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        source = self._source_notebook(resources)
        rebuilt = rebuild(source, nb)
        student = str(resources["nbgrader"]["student"])
        roles_json = json.dumps(cell_roles(rebuilt))
        key = job_key(student, roles_json)
        if key in self.outputs:
            outputs, failure = self.outputs[key]
        elif self.require_outputs:
            raise RuntimeError("résultat d'exécution introuvable pour ce rendu (erreur interne du correcteur)")
        else:
            outputs, failure = self._run_here(roles_json, student)
        for index, cell in enumerate(rebuilt.cells):
            if cell.cell_type != "code":
                continue
            cell.execution_count = index + 1
            done = outputs[index] if outputs is not None and index < len(outputs) else None
            if failure is not None and done is None:  # not reached before the run stopped: 0, with the reason
                cell.outputs = [nbformat.v4.new_output(
                    "error", ename="Erreur de correction", evalue=failure,
                    traceback=[f"Erreur de correction : {failure}"],
                )] if is_test_cell(cell) else []
                continue
            cell.outputs = [nbformat.from_dict(output) for output in done]
        nb.cells, nb.metadata = rebuilt.cells, rebuilt.metadata
        return nb, resources

    def _run_here(self, roles_json: str, student: str) -> tuple[list, str | None]:
        """Run the copy now, in the sandbox (plain ``nbgrader autograde``); a grading failure is an error."""
        from autograder.execution.execute import execute

        parameters, timeout = run_parameters(self.config)
        result = execute(roles_json, student, parameters, timeout)
        if result.infrastructure or result.outputs is None:
            raise RuntimeError(f"la copie n'a pas pu être exécutée ({result.failure})")
        return result.outputs, result.failure


def run_parameters(config) -> tuple[RunParameters, float]:
    """How submissions run, as configured for SandboxedExecute (nbgrader_config.py), and the total time-out."""
    configured = SandboxedExecute(config=config)
    return RunParameters(
        cell_timeout=configured.cell_timeout,
        limits=Limits(cpu_seconds=configured.cpu_seconds, memory_bytes=configured.memory_mb * 1024 * 1024),
    ), configured.timeout
