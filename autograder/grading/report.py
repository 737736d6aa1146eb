"""The class report (rapport.html): what the instructor reads after a grading run."""

from __future__ import annotations

import base64
import io
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder.execution.preprocessor import is_test_cell
from autograder.model import Status
from autograder.grading.pages import render

if TYPE_CHECKING:
    from autograder.model import RunResult

NBSP = "\u00a0"


def _figure(fig) -> str:
    """A matplotlib figure as PNG data in base64 (closed afterwards), for an inline image."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def diagnostic_kind(line: str) -> str:
    """The kind of a diagnostic: the message without what it is about, numbers and code."""
    text = line.strip()
    parts = re.split(rf"{NBSP}: | : ", text, maxsplit=1)
    if len(parts) == 2 and len(parts[0]) < 120:
        text = parts[1]
    text = re.sub(r"(?<![\w`(])-?\d+(?:[.,]\d+)?(?:e-?\d+)?", "…", text)
    return text[:200]


def cell_diagnostics(cell: nbformat.NotebookNode) -> list[str]:
    """The French diagnostics a test cell printed (failed parts) or raised."""
    found = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            lines = output.get("text", "").splitlines()
            for index, line in enumerate(lines):
                if line.startswith("  ✘ ") and index + 1 < len(lines) and lines[index + 1].startswith("      "):
                    found.append(diagnostic_kind(lines[index + 1]))
        elif output.get("output_type") == "error":
            found.append(diagnostic_kind(f"{output.get('ename', '')}: {output.get('evalue', '')}"))
    return found


def collect_stats(result: "RunResult", db_url: str) -> dict:
    """Scores per assignment, success per graded part, frequent diagnostics per part."""
    scores: dict[str, list[float]] = defaultdict(list)
    max_scores: dict[str, float] = {}
    parts: dict[tuple[str, str], list[float]] = defaultdict(list)  # (assignment, cell) -> fraction of points
    manual: list[tuple[str, str, list[str]]] = []
    diagnostics: dict[tuple[str, str], Counter] = defaultdict(Counter)
    with Gradebook(db_url) as gradebook:
        for outcome in result.outcomes:
            if outcome.status is Status.FAILED:
                continue  # not a grade: it appears in its own section, never in the figures
            scores[outcome.assignment].append(outcome.score)
            max_scores[outcome.assignment] = outcome.max_score
            if outcome.manual:
                manual.append((outcome.assignment, outcome.student_id, outcome.manual))
            try:
                submission = gradebook.find_submission(outcome.assignment, outcome.student_id)
            except MissingEntry:
                continue
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.needs_manual_grade or not grade.max_score:
                        continue
                    if grade.cell_type == "code" and grade.auto_score is not None:
                        parts[(outcome.assignment, grade.name)].append((grade.score or 0.0) / grade.max_score)
    for outcome in result.outcomes:
        if outcome.status is not Status.GRADED:
            continue
        folder = result.workspace / "autograded" / outcome.student_id / outcome.assignment
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            try:
                notebook = nbformat.read(path, as_version=4)
            except Exception:  # noqa: BLE001 - a broken autograded file is skipped, not fatal
                continue
            for cell in notebook.cells:
                meta = cell.metadata.get("nbgrader", {})
                if cell.cell_type == "code" and is_test_cell(cell):
                    diagnostics[(outcome.assignment, meta.get("grade_id", "?"))].update(set(cell_diagnostics(cell)))
    return {"scores": scores, "max_scores": max_scores, "parts": parts, "manual": manual, "diagnostics": diagnostics}


def preload_plotting() -> None:
    """Import matplotlib (about 0.4 s), with the backend the report draws with (no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401


def write_report(result: "RunResult", db_url: str, path: Path) -> Path:
    """Write the class report; return its path."""
    preload_plotting()
    import matplotlib.pyplot as plt

    stats = collect_stats(result, db_url)
    assignments = []
    for assignment in sorted(stats["scores"]):
        values = stats["scores"][assignment]
        top = stats["max_scores"][assignment]
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(values, bins=min(20, max(5, int(top) + 1)), range=(0, top or 1), color="#4c72b0", edgecolor="white")
        ax.set_xlabel("note")
        ax.set_ylabel("nombre de copies")
        ax.set_title(f"Distribution des notes ({assignment})")
        histogram = _figure(fig)

        success, diagnostics = None, []
        names = sorted(k[1] for k in stats["parts"] if k[0] == assignment)
        if names:
            rates = [100 * statistics.mean(stats["parts"][(assignment, n)]) for n in names]
            fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(names)))
            ax.barh(names, rates, color="#55a868")
            ax.set_xlim(0, 100)
            ax.invert_yaxis()
            ax.set_xlabel("points obtenus (% du maximum, moyenne de la classe)")
            ax.set_title("Réussite par question")
            success = _figure(fig)
            diagnostics = [
                (name, text, count)
                for name in names
                for text, count in stats["diagnostics"][(assignment, name)].most_common(3)
            ]
        assignments.append({
            "name": assignment,
            "mean": statistics.mean(values),
            "median": statistics.median(values),
            "top": top,
            "count": len(values),
            "histogram": histogram,
            "success": success,
            "diagnostics": diagnostics,
        })

    page = render(
        "report.html.j2",
        outcomes=result.outcomes,
        graded=[o for o in result.outcomes if o.status is Status.GRADED],
        rejected=[o for o in result.outcomes if o.status is Status.REJECTED],
        failed=[o for o in result.outcomes if o.status is Status.FAILED],
        now=datetime.now(),
        assignments=assignments,
        manual=sorted(stats["manual"]),
        ambiguities=result.ambiguities,
        warnings=result.warnings,
        late=[o for o in result.outcomes if o.late_seconds > 0],
    )
    path.write_text(page, encoding="utf-8")
    return path
