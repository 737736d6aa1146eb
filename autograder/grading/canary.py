"""The canary: before any student, the instructor's solution is graded the way the class will be.

Each assignment used by a run is graded from its own source notebook (the solutions are
its answers), in the same sandbox, configuration and backend (local or Dask). If it does not
get every automatic point, something is wrong with the grader, not with the students: the
run stops before touching any copy, with the question that failed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.preprocessors import IgnorePattern
from nbgrader.utils import determine_grade
from traitlets.config import Config

from autograder.execution.backends import UNREADABLE_COPY, Backend, Job, run_jobs
from autograder.execution.preprocessor import is_test_cell, prepare_job, rebuild, run_parameters
from autograder.grading.french import format_number

#: The student id the solution is graded under (it seeds the hidden tests' inputs like any other id).
CANARY_ID = "solution-de-reference"


@dataclass(frozen=True)
class CanaryFailure:
    """A question of the solution that lost points."""

    assignment: str
    notebook: str
    question: str
    score: float
    max_score: float
    reason: str

    def describe(self) -> str:
        points = f"{format_number(self.score)} / {format_number(self.max_score)}"
        return f"« {self.assignment} », question « {self.question} » ({points}) : {self.reason}"


def _reason(cell: nbformat.NotebookNode) -> str:
    """The first French explanation a test cell printed or raised."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', '')} : {output.get('evalue', '')}".strip(" :")[:300]
        if output.get("output_type") == "stream":
            lines = [line.strip() for line in str(output.get("text", "")).splitlines() if line.strip()]
            failed = [line for line in lines if line.startswith("✘")]
            if output.get("name") == "stderr":
                return "sortie d'erreur : " + (lines[0][:200] if lines else "")
            if failed:
                detail = lines[lines.index(failed[-1]) + 1] if lines.index(failed[-1]) + 1 < len(lines) else ""
                return (failed[-1] + (" — " + detail if detail else ""))[:300]
    return "points perdus"


def score_notebook(
    notebook: nbformat.NotebookNode, outputs: list, config: Config, assignment: str, name: str
) -> list[CanaryFailure]:
    """Score the test cells of ``notebook`` given ``outputs`` as nbgrader would; the questions that lost points."""
    for cell, cell_outputs in zip(notebook.cells, outputs):
        if cell.cell_type == "code":
            cell.outputs = [nbformat.from_dict(output) for output in cell_outputs]
    notebook, _ = IgnorePattern(config=config).preprocess(notebook, {})
    failures = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or not is_test_cell(cell):
            continue
        score, max_score = determine_grade(cell)
        if score is None or score < max_score:
            failures.append(CanaryFailure(
                assignment, name, str(cell.metadata["nbgrader"].get("grade_id", "?")),
                float(score or 0.0), float(max_score), _reason(cell),
            ))
    return failures


def check(source: Path, assignments: dict, names: list[str], config: Config, backend: Backend) -> float:
    """Grade the solution of each assignment of ``names`` on ``backend``; raise CanaryError if one loses points.

    ``source``: the workspace's source/ folder. Returns the seconds it took.
    """
    started = time.perf_counter()
    jobs = [
        Job(CANARY_ID, name, source / name / notebook, source / name / notebook)
        for name in names
        for notebook in assignments[name].notebooks
    ]
    parameters, timeout = run_parameters(config)
    failures: list[CanaryFailure] = []
    infrastructure: list[str] = []
    for result in run_jobs(jobs, prepare_job, backend, parameters, timeout):
        name, execution = result.job.assignment, result.execution
        if result.key is None or execution is None:
            infrastructure.append(f"« {name} » : {UNREADABLE_COPY}")
        elif execution.infrastructure or execution.outputs is None:
            infrastructure.append(f"« {name} » : {execution.failure}")
        elif execution.failure:
            failures.append(CanaryFailure(name, result.job.source.name, "(toutes)", 0.0, 0.0, execution.failure))
        else:
            source_notebook = nbformat.read(result.job.source, as_version=4)
            notebook = rebuild(source_notebook, source_notebook)
            failures += score_notebook(notebook, execution.outputs, config, name, result.job.source.name)
    if infrastructure or failures:
        raise CanaryError(infrastructure, failures)
    return time.perf_counter() - started


class CanaryError(Exception):
    """The solution did not get all its points: the grader is not fit to grade (French message)."""

    def __init__(self, infrastructure: list[str], failures: list[CanaryFailure]) -> None:
        self.infrastructure, self.failures = infrastructure, failures
        lines = ["Contrôle préalable échoué : la solution de l'enseignant·e, corrigée dans le bac à sable avec "
                 "la configuration de cette correction, n'obtient pas tous ses points. Aucune copie n'a été corrigée."]
        lines += [f"  – correction impossible pour {text}" for text in infrastructure]
        lines += [f"  – {failure.describe()}" for failure in failures]
        lines.append("Vérifiez source/, nbgrader_config.py (délais, mémoire) et le bac à sable, puis relancez.")
        super().__init__("\n".join(lines))
