"""Command line of the course's grading tool (French for its users)."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from pathlib import Path


class QuickExit:
    """Leave the process once its exit handlers have run, without tearing the interpreter down.

    After a grading, freeing nbgrader's, SQLAlchemy's and nbconvert's objects one by one takes about
    0.4 s, for nothing: every file is closed and every gradebook connection released by then, and the
    exit handlers (logging, multiprocessing's clean-up, the sandboxes' stop) still run. Created first,
    its handler runs after all the others, then ends the process with ``status``.
    """

    def __init__(self) -> None:
        self.status = 1  # an uncaught exception: its traceback is printed, then the handlers run
        atexit.register(self._leave)

    def _leave(self) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(self.status)


def entry() -> None:
    """The command (``python -m autograder``, ``cours-correction``): ``main``, then a quick exit."""
    quick = QuickExit()
    try:
        quick.status = main()
    except SystemExit as exc:  # argparse's --help and usage errors: the status Python would give
        quick.status = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
        raise
    except KeyboardInterrupt:
        quick.status = 130  # as a shell reports a process stopped by Ctrl-C
        raise
    sys.exit(quick.status)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m autograder",
        description="Correction automatique du cours « Dérivation automatique avec tf.GradientTape ».",
    )
    commands = parser.add_subparsers(dest="command", required=True, title="commandes")

    grade = commands.add_parser(
        "grade",
        help="corrige un dossier de rendus et écrit notes, retours et grades.csv",
        description=(
            "Corrige chaque rendu <dossier>/<identifiant>/<devoir>/<carnet>.ipynb avec nbgrader, "
            "puis écrit dans le dossier de sortie : grades.csv, feedback/<identifiant>/<devoir>/*.html "
            "et gradebook.db."
        ),
    )
    grade.add_argument("--submissions", type=Path, required=True, nargs="+", metavar="SOURCE",
                       help="dossier de rendus au format de nbgrader, ou archive .zip téléchargée depuis Moodle "
                            "(« Télécharger tous les travaux remis ») ; plusieurs sources possibles")
    grade.add_argument("--out", type=Path, required=True, metavar="DOSSIER",
                       help="dossier de sortie (créé au besoin)")
    grade.add_argument("--roster", type=Path, metavar="CSV",
                       help="liste de la classe (colonnes id, last_name, first_name, email, lms_user_id, "
                            "comme « nbgrader db student import ») : relie les noms Moodle aux identifiants")
    grade.add_argument("--moodle-worksheet", dest="moodle_worksheets", type=Path, action="append", default=[],
                       metavar="CSV",
                       help="feuille d'évaluation exportée par Moodle pour ce devoir (« Télécharger la feuille "
                            "d'évaluation ») : identités, dates de remise, note maximale ; elle est réécrite "
                            "remplie dans <sortie>/moodle/ (option répétable, une par devoir)")
    grade.add_argument("--moodle-commentaires", dest="moodle_comments", action="store_true",
                       help="remplit aussi la colonne des commentaires de feedback de la feuille (note par "
                            "question) ; sans cette option, les commentaires de l'enseignant·e restent intacts")
    grade.add_argument("--assignment", metavar="DEVOIR",
                       help="devoir des archives Moodle (par défaut : reconnu d'après le contenu des carnets)")
    grade.add_argument("--db", metavar="URL",
                       help="carnet de notes : URL SQLAlchemy, par exemple postgresql://hote/base "
                            "(par défaut : SQLite, <sortie>/gradebook.db)")
    grade.add_argument("--max-size-mo", type=float, metavar="MO",
                       help="taille maximale d'un carnet rendu, en Mo (défaut : c.Grading.max_file_size_mb, 20)")
    grade.add_argument("--reset", action="store_true",
                       help="efface d'abord les données d'une correction précédente dans le dossier de sortie "
                            "(notes manuelles comprises)")
    grade.add_argument("--sans-bac-a-sable", dest="sandboxed", action="store_false",
                       help="exécute le code des étudiant·es sans bac à sable, comme nbgrader ordinaire "
                            "(à réserver à du code de confiance)")
    grade.add_argument("--workers", type=int, metavar="N",
                       help="nombre de copies exécutées en même temps, chacune dans son bac à sable "
                            "(défaut : le nombre de cœurs)")
    grade.add_argument("--scheduler", metavar="tcp://HOTE:PORT",
                       help="répartit l'exécution des copies sur une grappe Dask (adresse de son ordonnanceur) ; "
                            "par défaut, tout s'exécute sur cette machine")
    grade.add_argument("--force", action="store_true",
                       help="recorrige aussi les rendus inchangés depuis la correction précédente")

    retours = commands.add_parser(
        "retours",
        help="depuis le cours de l'enseignant·e : prépare les pages de retour d'une correction pour "
             "« nbgrader release_feedback »",
        description=(
            "Copie les pages de retour de DOSSIER (une correction de « grade ») dans feedback/ du cours "
            "courant, avec l'horodatage et le secret de chaque rendu relevé par « nbgrader collect »."
        ),
    )
    retours.add_argument("grading", type=Path, metavar="DOSSIER", help="dossier de sortie de la correction (--out)")

    demo = commands.add_parser(
        "demo",
        help="reconstruit les rendus de démonstration à partir de release/ et source/",
    )
    demo.add_argument("--check", action="store_true",
                      help="vérifie seulement que les rendus de démonstration sont à jour")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "grade":
        from autograder.grading.errors import GradingError
        from autograder.grading.pipeline import run
        from autograder.grading.summary import ProgressDisplay, print_summary

        display = ProgressDisplay()
        try:
            with display:
                result = run(
                    args.submissions, args.out,
                    roster=args.roster, assignment=args.assignment, db_url=args.db,
                    max_bytes=int(args.max_size_mo * 1024 * 1024) if args.max_size_mo else None,
                    reset=args.reset, force=args.force, sandboxed=args.sandboxed, workers=args.workers,
                    scheduler=args.scheduler, moodle_worksheets=args.moodle_worksheets,
                    moodle_comments=args.moodle_comments,
                    on_start=display.start, on_progress=display.advance,
                )
        except GradingError as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            return 2
        print_summary(result)
        # A run with copies the grader could not judge is not complete: say so to scripts too.
        return 3 if result.failures else 0
    if args.command == "retours":
        from autograder.grading.feedback_release import stage_feedback_command

        return stage_feedback_command(Path.cwd(), args.grading)
    if args.command == "demo":
        try:
            from coursetools.demo import build_demo, check_demo
        except ImportError:
            print("La commande « demo » se lance depuis le dépôt du cours (elle utilise son dossier coursetools/).",
                  file=sys.stderr)
            return 2

        if args.check:
            stale = check_demo()
            if stale:
                print("Rendus de démonstration périmés : " + ", ".join(stale), file=sys.stderr)
                print("Lancez « make demo » pour les reconstruire.", file=sys.stderr)
                return 1
            print("Les rendus de démonstration sont à jour.")
            return 0
        for path in build_demo():
            print(f"écrit : {path}")
        return 0
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
