"""Copy the course's check library beside each assignment's notebook, so that it runs anywhere.

A released assignment folder (``release/exNN_…/``) must work alone: in a university's JupyterHub,
in a student's own Jupyter with TensorFlow, NumPy and Matplotlib, without this repository. Its
cells import ``autograder.checks``: this tool writes ``source/exNN_…/autograder/`` (the package
``checks/``, all its modules, and whatever they import from ``autograder``, copied from the
package, which stays the one source), and ``nbgrader generate_assignment`` copies it into
``release/`` with the notebook.

Grading never uses these copies: the grader imports its own package.

    python tools/bundle_checks.py            # write the copies (make release does it)
    python tools/bundle_checks.py --check    # exit 1 if a copy differs from the package
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "autograder"
ENTRY = "checks"
FOLDER = "autograder"
HEADER = '''"""Copie des vérifications du cours « Dérivation automatique avec tf.GradientTape ».

Ce dossier accompagne le carnet du devoir pour que ses cellules de test fonctionnent dans
n'importe quel Jupyter. Ne le modifiez pas : il est régénéré depuis le cours, et la correction
utilise sa propre version des vérifications, jamais celle-ci.
"""
'''


def _module_path(name: str) -> Path:
    package = PACKAGE / name
    return package / "__init__.py" if package.is_dir() else PACKAGE / f"{name}.py"


def _local_imports(path: Path, package: str) -> set[str]:
    """Modules of the package that ``path`` imports (relative or ``autograder.…`` imports).

    Each is named by its first part below the package (``checks`` for ``.checks.numeric``); a
    relative import is read from the folder of ``path``, which may be a subpackage (``checks/``).
    """
    here = list(path.relative_to(PACKAGE).parent.parts)  # [] for a module of the package itself
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom):
            continue
        named = node.module.split(".") if node.module else []
        if node.level:
            if node.level - 1 > len(here):
                continue
            parts = here[:len(here) - node.level + 1] + named
        elif named[:1] == [package]:
            parts = named[1:]
        else:
            continue
        if parts:
            found.add(parts[0])
        else:  # ``from . import x`` in the package itself: x is a module when it has a file
            found.update(alias.name for alias in node.names if _module_path(alias.name).exists())
    return found


def needed_files() -> dict[str, bytes]:
    """Relative path in the bundle -> content: the entry module and everything it imports from the package."""
    files: dict[str, bytes] = {"__init__.py": HEADER.encode("utf-8")}
    pending, seen = [ENTRY], set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        source = _module_path(name)
        if source.name == "__init__.py":  # a subpackage: all its modules
            for path in sorted(source.parent.rglob("*.py")):
                files[str(path.relative_to(PACKAGE))] = path.read_bytes()
                pending += sorted(_local_imports(path, "autograder"))
        else:
            files[source.name] = source.read_bytes()
            pending += sorted(_local_imports(source, "autograder"))
    return files


def assignments() -> list[Path]:
    return sorted(p for p in (REPO_ROOT / "source").iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def stale(folder: Path, files: dict[str, bytes]) -> bool:
    target = folder / FOLDER
    present = {str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*.py")} if target.is_dir() else {}
    return present != files


def write(folder: Path, files: dict[str, bytes]) -> None:
    import shutil

    target = folder / FOLDER
    if target.exists():
        shutil.rmtree(target)
    for name, content in files.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="vérifie seulement que les copies sont à jour")
    args = parser.parse_args(argv)
    files = needed_files()
    outdated = [folder for folder in assignments() if stale(folder, files)]
    if args.check:
        for folder in outdated:
            print(f"Copie des vérifications périmée : {folder / FOLDER} (lancez « make release »)", file=sys.stderr)
        return 1 if outdated else 0
    for folder in outdated:
        write(folder, files)
        print(f"écrit : {folder / FOLDER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
