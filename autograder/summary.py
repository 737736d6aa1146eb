"""Terminal display of a grading run: progress bar, then a table of scores."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from .french import format_number
from .model import RunResult, Status


class ProgressDisplay:
    """A progress bar with the time remaining, fed by the grading run's callbacks."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]Correction[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("écoulé"),
            TimeElapsedColumn(),
            TextColumn("reste"),
            TimeRemainingColumn(),
            TextColumn("{task.description}"),
            console=self.console,
            transient=True,
        )
        self.task = None

    def __enter__(self) -> "ProgressDisplay":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[self.task].total)
        self.progress.__exit__(*exc)

    def start(self, total: int) -> None:
        self.task = self.progress.add_task("", total=total)

    def advance(self, student: str, assignment: str) -> None:
        """One more submission done."""
        if self.task is None:
            return
        self.progress.advance(self.task)
        self.progress.update(self.task, description=f"{student} · {assignment}")


def print_summary(result: RunResult, console: Console | None = None) -> None:
    """Print the table of scores and where the files are."""
    console = console or Console()
    table = Table(title="Résultats de la correction", title_justify="left")
    table.add_column("Devoir")
    table.add_column("Étudiant·e")
    table.add_column("Note", justify="right")
    table.add_column("État")
    table.add_column("Remarque", overflow="fold")
    for outcome in result.outcomes:
        style = {Status.GRADED: "", Status.FAILED: "bold magenta"}.get(outcome.status, "red")
        table.add_row(
            outcome.assignment,
            outcome.student_id,
            "—" if outcome.status is Status.FAILED else
            f"{format_number(outcome.score)} / {format_number(outcome.max_score)}",
            outcome.status.label,
            outcome.message,
            style=style,
        )
    console.print(table)
    graded = [o for o in result.outcomes if o.status is Status.GRADED]
    fresh = [o for o in graded if not o.reused]
    per_submission = result.seconds / len(fresh) if fresh else 0.0
    console.print(
        f"{len(result.outcomes)} rendu(s) : {len(graded)} corrigé(s), "
        f"{sum(1 for o in result.outcomes if o.status is Status.REJECTED)} rejeté(s), "
        f"{len(result.failures)} en échec de correction, en {format_number(result.seconds)} s"
        + (f" ({format_number(per_submission)} s par rendu corrigé, préparation comprise)." if fresh else ".")
    )
    if result.failures:
        console.print(
            f"[bold magenta]{len(result.failures)} copie(s) n'ont pas pu être corrigées (échec de la correction : "
            "ce n'est pas une note, aucune note n'est enregistrée). Relancez la même commande pour les corriger "
            "de nouveau.[/bold magenta]"
        )
    if result.canary_seconds:
        console.print(
            f"Contrôle préalable réussi : la solution de référence obtient tous ses points "
            f"({format_number(result.canary_seconds)} s)."
        )
    reused = sum(1 for o in result.outcomes if o.reused)
    if reused:
        console.print(f"{reused} rendu(s) inchangé(s) depuis la correction précédente : notes reprises.")
    console.print(f"Notes : {result.grades_csv}")
    for path in result.moodle_csvs:
        console.print(f"Feuille d'évaluation Moodle : {path}")
    for path in result.feedback_zips:
        console.print(f"Fichiers de feedback pour Moodle : {path}")
    for text in result.ambiguities:
        console.print(f"[bold]Identité à vérifier[/bold] : {text}")
    for text in result.warnings:
        console.print(f"Remarque : {text}")
    console.print(f"Retours : {result.workspace / 'feedback'}")
    if result.report:
        console.print(f"Rapport : {result.report}")
