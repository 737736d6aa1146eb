"""The grader's package keeps the layout the README describes: small modules, no import cycle at import
time, no private name used from another module, no course tooling or test library loaded with it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import autograder

PACKAGE = Path(autograder.__file__).resolve().parent
#: Longest module, in lines: past it, a module holds more than one reason to change.
MAX_LINES = 350
#: What the runtime package never imports when it is loaded (the course's tools, the test suite's libraries).
OUTSIDE_THE_PACKAGE = {"coursetools", "tests", "tools", "benchmarks", "pytest", "playwright"}


def _modules(package: Path = PACKAGE) -> dict[str, Path]:
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _imports(name: str, path: Path, top_level_only: bool) -> list[tuple[str, str]]:
    """(module imported, name taken from it or "") for each import of ``path`` (module ``name``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = list(_loaded(tree)) if top_level_only else list(ast.walk(tree))
    found = []
    for node in nodes:
        if isinstance(node, ast.Import):
            found += [(alias.name, "") for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")[: len(name.split(".")) - node.level + (path.name == "__init__.py")]
                base = ".".join(anchor + ([base] if base else []))
            found += [(base, alias.name) for alias in node.names]
    return found


def _loaded(node: ast.AST):
    """The nodes run when the module is loaded: all but the bodies of functions (and of methods)."""
    for child in ast.iter_child_nodes(node):
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield from _loaded(child)


def _dependencies(modules: dict[str, Path]) -> dict[str, set[str]]:
    """The package's modules each module loads when it is imported."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = set()
        for base, taken in _imports(name, path, top_level_only=True):
            target = f"{base}.{taken}" if f"{base}.{taken}" in modules else base
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                graph[name].add(target)
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for following in sorted(graph[node]):
            if state.get(following) == 1:
                return path[path.index(following):] + [following]
            if following not in state and (found := visit(following)):
                return found
        path.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_every_module_of_the_package_is_short():
    long = {name: n for name, path in _modules().items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_module_of_the_package_imports_itself_back_when_loaded():
    assert _cycle(_dependencies(_modules())) == []


def test_no_module_takes_a_private_name_from_another():
    modules = _modules()
    taken = [f"{name}: {base}.{imported}" for name, path in modules.items()
             for base, imported in _imports(name, path, top_level_only=False)
             if base.startswith("autograder") and imported.startswith("_") and not imported.startswith("__")]
    assert taken == []


def test_the_package_loads_no_course_tooling_and_no_test_library():
    loaded = [f"{name}: {base or imported}" for name, path in _modules().items()
              for base, imported in _imports(name, path, top_level_only=True)
              if (base or imported).split(".")[0] in OUTSIDE_THE_PACKAGE]
    assert loaded == []


@pytest.mark.parametrize("source, broken", [
    ({"a/__init__.py": "", "a/b.py": "import a.c\n", "a/c.py": "from a.b import x\n"}, "cycle"),
    ({"a/__init__.py": "", "a/b.py": "from . import c\n", "a/c.py": "if True:\n    from .b import x\n"}, "cycle"),
    ({"a/__init__.py": "", "a/b.py": "def f():\n    import a.c\n", "a/c.py": "import a.b\n"}, None),
    ({"a/__init__.py": "", "a/b.py": "class B:\n    def f(self):\n        import a.c\n", "a/c.py": "import a.b\n"}, None),
])
def test_when_modules_import_each_other_at_load_time_then_the_cycle_is_found(tmp_path, source, broken):
    for relative, text in source.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    cycle = _cycle(_dependencies(_modules(tmp_path / "a")))
    assert (cycle != []) == (broken == "cycle"), cycle
