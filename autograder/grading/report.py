"""The class report (rapport.html): what the instructor reads after a grading run."""

from __future__ import annotations

import base64
import html
import io
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from autograder.grading.french import format_number

from autograder.model import Status

if TYPE_CHECKING:
    from autograder.model import RunResult

NBSP = "\u00a0"


def _figure(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="figure" src="data:image/png;base64,{data}">'


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
                if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
                    diagnostics[(outcome.assignment, meta.get("grade_id", "?"))].update(set(cell_diagnostics(cell)))
    return {"scores": scores, "max_scores": max_scores, "parts": parts, "manual": manual, "diagnostics": diagnostics}


def write_report(result: "RunResult", db_url: str, path: Path) -> Path:
    """Write the class report; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = collect_stats(result, db_url)
    body: list[str] = []
    graded = [o for o in result.outcomes if o.status is Status.GRADED]
    rejected = [o for o in result.outcomes if o.status is Status.REJECTED]
    failed = [o for o in result.outcomes if o.status is Status.FAILED]
    body.append(
        f"<p>{len(result.outcomes)} rendu(s) : {len(graded)} corrigé(s), {len(rejected)} rejeté(s), "
        f"{len(failed)} en échec de correction. Correction du {datetime.now().strftime('%d/%m/%Y à %H:%M')}.</p>"
    )
    if failed:
        body.append(
            "<h2>Copies non corrigées (échec de la correction)</h2><p>Le correcteur n'a pas pu juger ces copies : "
            "ce ne sont pas des notes, elles n'apparaissent ni dans les figures ni dans les moyennes, et leur note "
            "est laissée vide dans les exports. Relancez la même commande pour les corriger de nouveau.</p>"
            "<table><tr><th>Devoir</th><th>Étudiant·e</th><th>Cause</th></tr>"
        )
        for outcome in failed:
            body.append(f"<tr><td>{html.escape(outcome.assignment)}</td><td>{html.escape(outcome.student_id)}</td>"
                        f"<td>{html.escape(outcome.message)}</td></tr>")
        body.append("</table>")
    for assignment in sorted(stats["scores"]):
        values = stats["scores"][assignment]
        top = stats["max_scores"][assignment]
        body.append(f"<h2>{html.escape(assignment)}</h2>")
        body.append(
            f"<p>Moyenne : {format_number(statistics.mean(values))} / {format_number(top)} ; "
            f"médiane : {format_number(statistics.median(values))} ; {len(values)} copie(s).</p>"
        )
        body.append("<h3>Distribution des notes</h3>")
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(values, bins=min(20, max(5, int(top) + 1)), range=(0, top or 1), color="#4c72b0", edgecolor="white")
        ax.set_xlabel("note")
        ax.set_ylabel("nombre de copies")
        ax.set_title(f"Distribution des notes ({assignment})")
        body.append(_figure(fig))

        names = sorted(k[1] for k in stats["parts"] if k[0] == assignment)
        if names:
            rates = [100 * statistics.mean(stats["parts"][(assignment, n)]) for n in names]
            body.append("<h3>Réussite par question</h3>")
            fig, ax = plt.subplots(figsize=(6, 0.5 + 0.4 * len(names)))
            ax.barh(names, rates, color="#55a868")
            ax.set_xlim(0, 100)
            ax.invert_yaxis()
            ax.set_xlabel("points obtenus (% du maximum, moyenne de la classe)")
            ax.set_title("Réussite par question")
            body.append(_figure(fig))
            body.append("<h3>Diagnostics les plus fréquents par question</h3><table><tr><th>Question</th>"
                        "<th>Diagnostic</th><th>Copies</th></tr>")
            for name in names:
                for text, count in stats["diagnostics"][(assignment, name)].most_common(3):
                    body.append(f"<tr><td>{html.escape(name)}</td><td>{html.escape(text)}</td><td>{count}</td></tr>")
            body.append("</table>")

    body.append("<h2>À noter à la main</h2>")
    if stats["manual"]:
        body.append("<table><tr><th>Devoir</th><th>Étudiant·e</th><th>Cellules</th></tr>")
        for assignment, student, cells in sorted(stats["manual"]):
            body.append(f"<tr><td>{html.escape(assignment)}</td><td>{html.escape(student)}</td>"
                        f"<td>{html.escape(', '.join(cells))}</td></tr>")
        body.append("</table><p>Ouvrez le formgrader de nbgrader dans ce dossier pour les noter, puis relancez "
                    "la correction : les exports reprendront les notes manuelles.</p>")
    else:
        body.append("<p>Aucune réponse à noter à la main.</p>")

    body.append("<h2>Rendus rejetés</h2>")
    if rejected:
        body.append("<table><tr><th>Devoir</th><th>Étudiant·e</th><th>État</th><th>Raison</th></tr>")
        for outcome in rejected:
            body.append(f"<tr><td>{html.escape(outcome.assignment)}</td><td>{html.escape(outcome.student_id)}</td>"
                        f"<td>{html.escape(outcome.status.label)}</td><td>{html.escape(outcome.message)}</td></tr>")
        body.append("</table>")
    else:
        body.append("<p>Aucun.</p>")

    if result.ambiguities or result.warnings:
        body.append("<h2>Identités à vérifier et remarques</h2><ul>")
        body += [f"<li><strong>Identité à vérifier</strong> : {html.escape(text)}</li>" for text in result.ambiguities]
        body += [f"<li>{html.escape(text)}</li>" for text in result.warnings]
        body.append("</ul>")

    late = [o for o in result.outcomes if o.late_seconds > 0]
    if late:
        body.append("<h2>Rendus en retard</h2><table><tr><th>Devoir</th><th>Étudiant·e</th><th>Retard</th></tr>")
        from autograder.grading.french import format_lateness

        for outcome in late:
            body.append(f"<tr><td>{html.escape(outcome.assignment)}</td><td>{html.escape(outcome.student_id)}</td>"
                        f"<td>{format_lateness(outcome.late_seconds)}</td></tr>")
        body.append("</table>")

    page = (
        '<!DOCTYPE html>\n<html lang="fr">\n<head><meta charset="utf-8"><title>Rapport de correction</title>\n'
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left}"
        "img{max-width:100%}</style></head>\n<body>\n<h1>Rapport de correction</h1>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path
