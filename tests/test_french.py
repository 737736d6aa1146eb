"""French typography of everything students read (DESIGN.md, section « French »)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from autograder.course import REPO_ROOT

NBSP = "\u00a0"
NNBSP = "\u202f"
NO_BREAK = NBSP + NNBSP

NOTEBOOKS = sorted(
    [*REPO_ROOT.glob("course/*.ipynb"), *REPO_ROOT.glob("source/*/*.ipynb"), *REPO_ROOT.glob("release/*/*.ipynb")]
)

# What is not French prose: code, mathematics, addresses, HTML tags, table rules.
NOT_PROSE = [
    re.compile(r"```.*?```", re.S),
    re.compile(r"`[^`\n]*`"),
    re.compile(r"\$\$.*?\$\$", re.S),
    re.compile(r"\$[^$\n]*\$"),
    re.compile(r"!\[[^\]]*\]\([^)]*\)"),
    re.compile(r"\]\([^)]*\)"),
    re.compile(r"https?://\S+"),
    re.compile(r"<[^>\n]+>"),
    re.compile(r"^\s*\|?\s*:?-{3,}.*$", re.M),
]


def prose(markdown: str) -> str:
    for pattern in NOT_PROSE:
        markdown = pattern.sub(" ", markdown)
    return markdown


def typography_errors(text: str) -> list[str]:
    """Places where French typography is broken, with some context."""
    errors = []
    for match in re.finditer(r"[:;?!]", text):
        i = match.start()
        before = text[i - 1] if i else "\n"
        if before in NO_BREAK or before in "!?":
            continue
        if match.group() == ":" and i + 1 < len(text) and text[i + 1].isdigit() and before.isdigit():
            continue  # a time or a ratio, such as 10:30
        errors.append(f"espace insécable manquante avant « {match.group()} » : …{text[max(0, i - 25):i + 5]!r}")
    for match in re.finditer("«", text):
        if text[match.end():match.end() + 1] not in NO_BREAK:
            errors.append(f"espace insécable manquante après « : …{text[match.start():match.start() + 25]!r}")
    for match in re.finditer("»", text):
        if match.start() == 0 or text[match.start() - 1] not in NO_BREAK:
            errors.append(f"espace insécable manquante avant » : …{text[max(0, match.start() - 25):match.end()]!r}")
    return errors


def test_when_prose_is_correct_then_no_error_is_found():
    text = f"Le gradient{NBSP}: une somme{NBSP}; vraiment{NBSP}? Oui{NBSP}! «{NBSP}ruban{NBSP}»"
    assert typography_errors(text) == []


def test_when_a_plain_space_precedes_a_colon_then_it_is_reported():
    assert typography_errors("Le gradient : une somme") != []
    assert typography_errors("Le gradient: une somme") != []
    assert typography_errors("« ruban »") != []


def test_when_colons_are_in_code_or_math_then_they_are_ignored():
    assert typography_errors(prose("Écrivez `x[:, 0]` et $f: x \\mapsto x^2$ (voir https://a.b/c:d).")) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_when_a_notebook_is_read_then_its_markdown_follows_french_typography(path: Path):
    notebook = nbformat.read(path, as_version=4)
    errors = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            errors += [f"cellule {index} : {e}" for e in typography_errors(prose(cell.source))]
    assert not errors, "\n".join(errors)


def french_string_literals(path: Path) -> list[tuple[int, str]]:
    """String literals of a Python file that hold French text (accented letters or guillemets)."""
    import io
    import tokenize

    found = []
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    kinds = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
    for token in tokens:
        if token.string.startswith(('"' * 3, "'" * 3)):
            continue  # docstrings are English, for developers
        if token.type in kinds and re.search(r"[éèêàâçùûôîœ«]", token.string):
            found.append((token.start[0], token.string))
    return found


@pytest.mark.parametrize(
    "path", sorted((REPO_ROOT / "autograder").rglob("*.py")),
    ids=lambda p: p.relative_to(REPO_ROOT / "autograder").as_posix(),
)
def test_when_the_grader_speaks_french_then_it_follows_french_typography(path: Path):
    errors = []
    for line, literal in french_string_literals(path):
        # Code spans and format fields are not prose.
        text = re.sub(r"\{[^{}]*\}", "X", prose(literal))
        errors += [f"ligne {line} : {e}" for e in typography_errors(text)]
    assert not errors, "\n".join(errors)


def test_when_the_readme_is_read_then_its_french_prose_follows_french_typography():
    text = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    french = text.split("## In English")[0]
    assert typography_errors(prose(french)) == []
