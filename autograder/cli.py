"""Command line of the course's grading tool (French for its users)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .collect import DEFAULT_MAX_BYTES


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
    grade.add_argument("--submissions", type=Path, required=True, metavar="DOSSIER",
                       help="dossier des rendus, au format de nbgrader")
    grade.add_argument("--out", type=Path, required=True, metavar="DOSSIER",
                       help="dossier de sortie (créé au besoin)")
    grade.add_argument("--reset", action="store_true",
                       help="efface d'abord les données d'une correction précédente dans le dossier de sortie "
                            "(notes manuelles comprises)")
    grade.add_argument("--max-size-mo", type=float, default=DEFAULT_MAX_BYTES / 1024 / 1024, metavar="MO",
                       help="taille maximale d'un carnet rendu, en Mo (défaut : %(default)s)")

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
        from .grade import GradingError, run
        from .summary import ProgressDisplay, print_summary

        display = ProgressDisplay()
        try:
            with display:
                result = run(
                    args.submissions, args.out,
                    max_bytes=int(args.max_size_mo * 1024 * 1024), reset=args.reset,
                    on_start=display.start, on_progress=display.advance,
                )
        except GradingError as exc:
            print(f"Erreur : {exc}", file=sys.stderr)
            return 2
        print_summary(result)
        return 0
    if args.command == "demo":
        from .demo import build_demo, check_demo

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
