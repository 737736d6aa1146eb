"""Reading the student's code: the source of a function and of its helpers, and what it says.

The source is read where the function lives (the student's kernel, or the student's process
at grading), so that every check reads the same text in both places.
"""

from __future__ import annotations

from typing import Any, Callable


#: Calls that compute a derivative with the tape (or forward mode).
TAPE_CALLS = {"gradient", "jacobian", "batch_jacobian", "jvp"}
#: Ways to get a derivative without the tape, forbidden where the tape is the lesson.
FORBIDDEN_NAMES = {"compute_gradient", "approx_fprime"}
FORBIDDEN_MODULES = {"jax", "torch", "autograd", "sympy", "scipy"}
MAX_SOURCE = 200_000


def dotted_name(node: Any) -> str:
    import ast

    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{dotted_name(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return dotted_name(node.func)
    return ""


def _unwrap(obj: Any) -> Any:
    """The Python function behind a tf.function, a decorator or a bound method."""
    for _ in range(10):
        inner = getattr(obj, "python_function", None) or getattr(obj, "__wrapped__", None) or getattr(obj, "__func__", None)
        if inner is None or inner is obj:
            return obj
        obj = inner
    return obj


def _code_names(code: Any) -> set[str]:
    import types

    names = set(code.co_names) | set(code.co_freevars)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def source_with_helpers(function: Callable[..., Any]) -> str | None:
    """The source of ``function`` followed by that of the functions, lambdas and classes of
    the same module that it uses (transitively), or ``None`` if it cannot be read.

    Computed where the function lives (the student's kernel, or the student's process at
    grading), so that every check reads the same text in both places.
    """
    import inspect
    import textwrap
    import types

    root = _unwrap(function)
    module = getattr(root, "__module__", None)
    pending, seen, texts = [root], set(), []
    while pending and len(seen) < 100:
        obj = _unwrap(pending.pop(0))
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, type):
            pending += [v for v in vars(obj).values() if isinstance(v, (types.FunctionType, staticmethod, classmethod))]
            continue
        if not isinstance(obj, types.FunctionType):
            if obj is not root and getattr(type(obj), "__module__", None) == module and module is not None:
                pending.append(type(obj))  # an instance of a class of the student's: its methods
            continue
        try:
            text = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            text = getattr(obj, "__source__", None) if obj is root else None
        if isinstance(text, str) and text not in texts:
            texts.append(text)
        names = _code_names(obj.__code__)
        found = [obj.__globals__[n] for n in sorted(names) if n in obj.__globals__]
        found += [cell.cell_contents for cell in obj.__closure__ or () if _has_contents(cell)]
        for value in found:
            value = _unwrap(value)
            if getattr(value, "__module__", None) == module or (
                not isinstance(value, (type, types.FunctionType, types.ModuleType))
                and getattr(type(value), "__module__", None) == module
            ):
                pending.append(value)
    if not texts:
        return None
    return "\n\n".join(texts)[:MAX_SOURCE]


def _has_contents(cell: Any) -> bool:
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


def source_of(function: Callable[..., Any]) -> str | None:
    """The source code of ``function`` and of its helpers (a proxy provides it as ``__source__``)."""
    text = getattr(function, "__source__", None)
    if isinstance(text, str) and getattr(function, "__remote_name__", None):
        return text
    try:
        return source_with_helpers(function)
    except Exception:  # noqa: BLE001 - an unreadable function has no source
        return text if isinstance(text, str) else None


def static_facts(source: str | None) -> dict:
    """What the text of the function and its helpers says (forbidden tools, stub, tape written)."""
    import ast

    facts = {"readable": False, "forbidden": [], "unwritten": False, "tape_written": False}
    if source is None:
        return facts
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return facts
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    called = {dotted_name(n.func).split(".")[-1] for n in ast.walk(tree) if isinstance(n, ast.Call)}
    roots = {dotted_name(n).split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    imported = {
        alias.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for alias in n.names
    } | {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    raised = {dotted_name(n.exc) for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc is not None}
    tape_written = bool({"GradientTape", "ForwardAccumulator"} & (attributes | names))
    facts.update(
        readable=True,
        forbidden=sorted(called & FORBIDDEN_NAMES | (imported | roots) & FORBIDDEN_MODULES),
        unwritten="NotImplementedError" in raised and not tape_written,
        tape_written=tape_written,
    )
    return facts
