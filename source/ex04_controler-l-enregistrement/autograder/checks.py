"""Checks used by the test cells of the exercise notebooks.

Every failure raises :class:`Diagnostic` (an ``AssertionError``) whose message is
French and explains *what* is wrong (``None`` gradient, shape, sign, constant
factor, transposition, sum versus per-element…) without ever revealing the
expected value of a hidden input.

Test cells follow DESIGN.md principle 4: they call the student's function with
plain data (numbers, NumPy arrays) through :func:`call` and compare plain data
through :func:`assert_close`.
"""

from __future__ import annotations

import copy
import hashlib
import os
import pathlib
from typing import Any, Callable

import numpy as np

#: Environment variable through which a grading run gives the student id.
STUDENT_ID_ENV = "AUTOGRADER_STUDENT_ID"

NONE_CAUSES = (
    "Causes fréquentes d'un gradient `None` :\n"
    "  • la source est une constante (`tf.constant`, tableau NumPy) que le ruban ne surveille pas : "
    "utilisez `tf.Variable` ou `tape.watch(x)` ;\n"
    "  • la source est de type entier (`tf.Variable(3)`) : utilisez des flottants (`3.0`) ;\n"
    "  • le calcul a été fait en dehors du bloc `with tf.GradientTape() as tape:` ;\n"
    "  • le calcul passe par NumPy (`np.…`, `.numpy()`) : restez dans TensorFlow ;\n"
    "  • `x = x + 1` a remplacé la variable par un tenseur : utilisez `x.assign_add(1.0)`."
)


class Diagnostic(AssertionError):
    """A check failed. The message is in French and meant for the student."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows these lines instead of a traceback: the student reads the
        # diagnostic, not the lines of the test cell (which may hold hidden tests).
        return [f"\x1b[1;31mÉchec du test\x1b[0m : {self}"]


def in_student_process(function: Callable[..., Any]) -> Callable[..., Any]:
    """Mark an instructor helper that must run in the student's process.

    Under the course's grader, test cells run in a separate process and reach
    the student's functions through proxies; a helper that needs the student's
    objects themselves (for instance to differentiate through them with a tape)
    is called there instead. Everywhere else (JupyterLab, plain nbgrader) this
    decorator changes nothing.
    """
    function.__in_student_process__ = True  # type: ignore[attr-defined]
    return function


# --------------------------------------------------------------------------
# Reproducible randomness for hidden tests
# --------------------------------------------------------------------------


def student_id() -> str | None:
    """Return the id of the student being graded, or ``None`` outside grading.

    The grading run sets :data:`STUDENT_ID_ENV`. Under plain ``nbgrader
    autograde`` the notebook runs in ``autograded/<student>/<assignment>/``,
    so the id is read from the working directory.
    """
    sid = os.environ.get(STUDENT_ID_ENV, "").strip()
    if sid:
        return sid
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return pathlib.Path.cwd().parent.name or None
    return None


def hidden_rng(part: str) -> np.random.Generator:
    """Random generator for the hidden tests of one graded part.

    Seeded from the student id during grading (feedback is reproducible),
    fresh otherwise (each *Validate* draws new inputs).
    """
    sid = student_id()
    if sid is None:
        return np.random.default_rng()
    digest = hashlib.sha256(f"{sid}\x00{part}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def random_shape(
    rng: np.random.Generator, min_rank: int = 0, max_rank: int = 3, max_dim: int = 4
) -> tuple[int, ...]:
    """Draw a tensor shape: rank in [min_rank, max_rank], each dimension in [1, max_dim]."""
    rank = int(rng.integers(min_rank, max_rank + 1))
    return tuple(int(d) for d in rng.integers(1, max_dim + 1, size=rank))


def random_array(
    rng: np.random.Generator, shape: tuple[int, ...], low: float = -3.0, high: float = 3.0
) -> np.ndarray:
    """Uniform float32 values in [low, high) with the given shape."""
    return rng.uniform(low, high, size=shape).astype(np.float32)


# --------------------------------------------------------------------------
# Calling the student's code
# --------------------------------------------------------------------------


def _explain_exception(exc: BaseException) -> str:
    """A French hint for the exceptions that gradient code typically raises."""
    text = str(exc)
    name = type(exc).__name__
    if isinstance(exc, NameError):
        return (
            f"un nom n'est pas défini ({text}). Exécutez la cellule où vous écrivez la fonction, "
            "dans l'ordre du carnet, sans changer le nom de la fonction."
        )
    if isinstance(exc, NotImplementedError):
        return "la fonction n'est pas encore écrite (elle lève `NotImplementedError`)."
    if "non-persistent" in text:
        return (
            "un ruban non persistant a servi deux fois. Un `tf.GradientTape()` ne calcule "
            "qu'un seul jeu de gradients : créez-le avec `persistent=True` (puis `del tape`), "
            "ou utilisez un ruban par calcul."
        )
    if "NoneType" in text:
        return (
            f"une opération a reçu `None` ({name} : {text}). Un gradient valait "
            "sans doute `None`.\n" + NONE_CAUSES
        )
    if "has no attribute '_id'" in text:
        return (
            "un tableau NumPy a été passé à `tape.gradient` : le calcul est sorti de "
            "TensorFlow (fonction `np.…` ou `.numpy()` dans le ruban)."
        )
    if "Passed in object" in text and "not tf.Tensor" in text:
        return (
            "`tape.watch` n'accepte que des tenseurs ou des variables : convertissez d'abord "
            "la valeur avec `tf.constant(…)` ou `tf.convert_to_tensor(…)`."
        )
    if "double tensor" in text or "float tensor" in text or "Cannot convert" in text:
        return (
            f"les types ne concordent pas ({name} : {text.splitlines()[0]}). Mélanger "
            "`float64` (NumPy) et `float32` (TensorFlow), ou entiers et flottants, est interdit : "
            "convertissez avec `tf.cast` ou `dtype=tf.float32`."
        )
    if isinstance(exc, LookupError) and "gradient" in text:
        return f"une opération sans gradient défini a été utilisée ({text})."
    first_line = text.splitlines()[0] if text else ""
    return f"{name} : {first_line}" if first_line else name


def describe(value: Any) -> str:
    """A short description of an argument, for messages (arrays by their shape)."""
    if isinstance(value, (bool, int, float, np.floating, np.integer)):
        return f"{float(value):.6g}" if not isinstance(value, (bool, int)) else repr(value)
    shape = getattr(value, "shape", None)
    if shape is None and isinstance(value, (list, tuple)):
        shape = np.shape(value)
    if shape is not None:
        return f"tableau de forme {_shape(tuple(shape))}"
    return type(value).__name__


def call(function: Callable[..., Any], *args: Any, what: str | None = None) -> Any:
    """Call the student's ``function`` on deep copies of ``args``.

    Copies keep an in-place mutation from affecting the check. Any exception
    becomes a :class:`Diagnostic` with a French explanation.
    """
    __tracebackhide__ = True
    name = getattr(function, "__name__", "la fonction")
    label = what or f"{name}({', '.join(describe(a) for a in args)})"
    if not callable(function):
        raise Diagnostic(f"{label} : l'objet attendu n'est pas une fonction.")
    _LAST_CALLED[:] = [function]
    try:
        return function(*copy.deepcopy(args))
    except Diagnostic:
        raise
    except Exception as exc:  # noqa: BLE001 - any student error is reported, not raised
        raise Diagnostic(f"{label} : {_explain_exception(exc)}") from None


# --------------------------------------------------------------------------
# Comparing plain data
# --------------------------------------------------------------------------


def to_array(value: Any, *, what: str) -> np.ndarray:
    """Convert a number, list, NumPy array, tf.Tensor or tf.Variable to float64."""
    __tracebackhide__ = True
    if value is None:
        raise Diagnostic(_none_message(what))
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise Diagnostic(
            f"{what} n'est ni un nombre ni un tableau de nombres "
            f"(type reçu : `{type(value).__name__}`)."
        ) from None
    return array


def _fmt(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), precision=4, separator=", ", threshold=20)


def _shape(shape: tuple[int, ...]) -> str:
    return "()" if not shape else "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _close(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _shape_diagnostic(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    if got.ndim == 2 and got.T.shape == expected.shape and _close(got.T, expected, rtol, atol):
        return "le résultat est transposé (lignes et colonnes inversées)"
    if got.size == 1 and expected.size > 1 and _close(
        got.reshape(()), np.asarray(expected.sum()), rtol, atol * expected.size
    ):
        return (
            "vous avez renvoyé la somme des dérivées au lieu d'une dérivée par élément : "
            "le gradient a la forme de la source"
        )
    if expected.size == 1 and got.size > 1 and _close(
        np.asarray(got.sum()), expected.reshape(()), rtol, atol * got.size
    ):
        return (
            "vous avez renvoyé une valeur par élément là où une seule valeur (leur somme) "
            "est attendue"
        )
    return (
        f"forme attendue {_shape(expected.shape)}, forme reçue {_shape(got.shape)} "
        "(le gradient a toujours la forme de la source)"
    )


def _value_diagnostic(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    if got.size >= 2 and not np.any(got) and np.any(np.abs(expected) > atol):
        return (
            "tous les éléments valent 0 : la source n'est sans doute pas surveillée par le ruban, "
            "ou le calcul ne dépend pas d'elle (`unconnected_gradients=ZERO`, `tf.stop_gradient`…)"
        )
    if _close(got, -expected, rtol, atol):
        return "le signe est inversé"
    nonzero = np.abs(expected) > max(atol, 1e-6)
    if nonzero.any():
        ratios = got[nonzero] / expected[nonzero]
        factor = float(np.median(ratios))
        # One number against one number always has "a factor": only name a factor that
        # is shared by several values, or a simple one (2, 3, 1/2…) for a single value.
        shared = int(nonzero.sum()) >= 2
        simple = any(np.isclose(abs(factor), k, rtol=1e-3) for k in (2.0, 3.0, 4.0, 1 / 2, 1 / 3, 1 / 4))
        if (shared or simple) and not np.isclose(factor, 1.0, rtol=rtol) and _close(got, factor * expected, rtol, atol):
            return (
                f"toutes les valeurs sont multipliées par un même facteur (≈ {factor:.3g}) : "
                "un coefficient est oublié ou en trop"
            ) if shared else (
                f"la valeur est multipliée par {factor:.3g} : un coefficient est oublié ou en trop"
            )
    if got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1 and _close(
        got.T, expected, rtol, atol
    ):
        return "le résultat est transposé (lignes et colonnes inversées)"
    wrong = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if expected.size > 1:
        return f"{int(wrong.sum())} valeur(s) incorrecte(s) sur {expected.size}"
    return "la valeur est incorrecte"


def assert_close(
    got: Any,
    expected: Any,
    *,
    what: str,
    reveal: bool = False,
    rtol: float = 1e-4,
    atol: float = 1e-5,
) -> None:
    """Check that ``got`` matches ``expected`` (same shape, values within tolerance).

    ``reveal=True`` (visible examples only) shows the expected and received
    values in the message; hidden checks never show them.
    """
    __tracebackhide__ = True
    got_array = to_array(got, what=what)
    expected_array = np.asarray(expected, dtype=np.float64)
    if not np.all(np.isfinite(got_array)):
        kind = "NaN (valeur non définie)" if np.isnan(got_array).any() else "une valeur infinie"
        raise Diagnostic(
            f"{what} contient {kind}. Cherchez une division par zéro, un logarithme ou une "
            "racine d'un nombre négatif ou nul, ou un débordement de l'exponentielle."
        )
    if got_array.shape != expected_array.shape:
        if got_array.size == expected_array.size == 1:
            got_array = got_array.reshape(expected_array.shape)
        else:
            raise Diagnostic(f"{what} : {_shape_diagnostic(got_array, expected_array, rtol, atol)}.")
    if np.allclose(got_array, expected_array, rtol=rtol, atol=atol):
        return
    message = f"{what} : {_value_diagnostic(got_array, expected_array, rtol, atol)}."
    if reveal:
        message += f"\n  attendu : {_fmt(expected_array)}\n  obtenu  : {_fmt(got_array)}"
    raise Diagnostic(message)


def assert_pair(got: Any, *, what: str, names: tuple[str, str] = ("première", "seconde")) -> tuple[Any, Any]:
    """Check that ``got`` is a pair (tuple or list of two items) and return it."""
    __tracebackhide__ = True
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise Diagnostic(
            f"{what} doit renvoyer un couple de deux valeurs, par exemple `return y, dy_dx` "
            f"(reçu : `{type(got).__name__}`)."
        )
    return got[0], got[1]


# --------------------------------------------------------------------------
# Was the tape used? Observed where the student's function runs, judged here
# --------------------------------------------------------------------------
#
# The verdict has two halves, so that a student's kernel and the grader agree by
# construction. ``observe_tape`` runs in the process that holds the student's
# function (the kernel itself, or the sandboxed student process at grading): it
# calls the function while watching the tape's methods, and returns plain data.
# ``judge_tape`` reads that plain data and decides, in the test's process.
#
# "The result comes from the tape" is defined by a counterfactual: the function
# is called a second time with the same arguments, every derivative returned by
# the tape (``gradient``, ``jacobian``, ``batch_jacobian``, ``jvp``) being
# shifted by 0.25 (1 + |d|); a part of the result depends on the tape when it
# changes. A gradient returned as is, converted (``.numpy()``, ``float``), put in
# a tuple or a dict, scaled, or used for a descent step all change; a formula
# written by hand beside a tape whose output is unused, or a tape block that
# never runs, do not.

#: Calls that compute a derivative with the tape (or forward mode).
TAPE_CALLS = {"gradient", "jacobian", "batch_jacobian", "jvp"}
#: Ways to get a derivative without the tape, forbidden where the tape is the lesson.
FORBIDDEN_NAMES = {"compute_gradient", "approx_fprime"}
FORBIDDEN_MODULES = {"jax", "torch", "autograd", "sympy", "scipy"}
#: Most parts of a result (leaves) compared between the two calls.
MAX_LEAVES = 1000
MAX_SOURCE = 200_000
_UNREADABLE = object()


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


def _static_facts(source: str | None) -> dict:
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
    called = {_dotted(n.func).split(".")[-1] for n in ast.walk(tree) if isinstance(n, ast.Call)}
    roots = {_dotted(n).split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    imported = {
        alias.name.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for alias in n.names
    } | {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    raised = {_dotted(n.exc) for n in ast.walk(tree) if isinstance(n, ast.Raise) and n.exc is not None}
    tape_written = bool({"GradientTape", "ForwardAccumulator"} & (attributes | names))
    facts.update(
        readable=True,
        forbidden=sorted(called & FORBIDDEN_NAMES | (imported | roots) & FORBIDDEN_MODULES),
        unwritten="NotImplementedError" in raised and not tape_written,
        tape_written=tape_written,
    )
    return facts


class _TapeSpy:
    """Replaces the tape's derivative methods for one call; records what they returned."""

    def __init__(self, tf: Any, shift: bool) -> None:
        self.tf, self.shift = tf, shift
        self.ran: list[str] = []
        self.returned_none = False
        self._depth = 0
        self._saved: list[tuple[type, str, Any]] = []

    def __enter__(self) -> "_TapeSpy":
        tf = self.tf
        for cls, names in ((tf.GradientTape, ("gradient", "jacobian", "batch_jacobian")),
                           (tf.autodiff.ForwardAccumulator, ("jvp",))):
            for name in names:
                original = cls.__dict__[name]
                self._saved.append((cls, name, original))
                setattr(cls, name, self._wrap(name, original))
        self._eager = tf.config.functions_run_eagerly()
        tf.config.run_functions_eagerly(True)  # a tf.function body runs (and is watched) at each call
        return self

    def __exit__(self, *_exc: Any) -> None:
        for cls, name, original in reversed(self._saved):
            setattr(cls, name, original)
        self.tf.config.run_functions_eagerly(self._eager)

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        spy = self

        def watched(tape: Any, *args: Any, **kwargs: Any) -> Any:
            if spy._depth:  # jacobian calls gradient: count the outer call only
                return original(tape, *args, **kwargs)
            spy._depth += 1
            spy.tf.config.run_functions_eagerly(spy._eager)  # TensorFlow's own functions (jacobian) compiled
            try:
                result = original(tape, *args, **kwargs)
            finally:
                spy.tf.config.run_functions_eagerly(True)
                spy._depth -= 1
            if len(spy.ran) < 10_000:
                spy.ran.append(name)
            spy.returned_none = spy.returned_none or _holds_none(result)
            return spy._shifted(result) if spy.shift else result

        watched.__name__ = watched.__qualname__ = name
        watched.__doc__ = original.__doc__
        return watched

    def _shifted(self, value: Any) -> Any:
        tf = self.tf
        if isinstance(value, dict):
            return {k: self._shifted(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            items = [self._shifted(v) for v in value]
            return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
        if isinstance(value, tf.IndexedSlices):
            return tf.IndexedSlices(self._shifted(value.values), value.indices, value.dense_shape)
        if tf.is_tensor(value) and value.dtype.is_floating:
            return value + 0.25 * (1.0 + tf.abs(value))
        return value


def _holds_none(value: Any, depth: int = 0) -> bool:
    if value is None:
        return True
    if depth > 20:
        return False
    if isinstance(value, dict):
        return any(_holds_none(v, depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_holds_none(v, depth + 1) for v in value)
    return False


def _leaves(value: Any) -> list[tuple[tuple, Any]]:
    """The parts of a result as (path, NumPy array | None | _UNREADABLE), read at once."""
    out: list[tuple[tuple, Any]] = []

    def walk(item: Any, path: tuple, depth: int) -> None:
        if len(out) >= MAX_LEAVES:
            return
        if item is None:
            out.append((path, None))
            return
        if isinstance(item, dict) and depth < 20:
            for key, sub in list(item.items())[:MAX_LEAVES]:
                walk(sub, path + (key if isinstance(key, (str, int)) else repr(key)[:100],), depth + 1)
            return
        if isinstance(item, (list, tuple)) and depth < 20 and not _plain_numbers(item):
            for index, sub in enumerate(item[:MAX_LEAVES]):
                walk(sub, path + (index,), depth + 1)
            return
        try:
            if type(item).__name__ == "IndexedSlices":
                import tensorflow as tf

                item = tf.convert_to_tensor(item)
            if hasattr(item, "numpy") and callable(item.numpy) and (type(item).__module__ or "").startswith(("tensorflow", "keras")):
                item = item.numpy()
            array = np.array(item)
            out.append((path, array if array.dtype.kind in "fiubc" else _UNREADABLE))
        except Exception:  # noqa: BLE001 - an object that is not a number
            out.append((path, _UNREADABLE))

    walk(value, (), 0)
    return out


def _plain_numbers(item: Any, depth: int = 0) -> bool:
    """A (nested) list of Python or NumPy numbers only, read as one array."""
    if isinstance(item, (list, tuple)):
        return depth < 20 and len(item) > 0 and all(_plain_numbers(v, depth + 1) for v in item)
    return isinstance(item, (int, float, np.generic)) and not isinstance(item, (bool, np.bool_))


def _changed(before: Any, after: Any) -> bool:
    if before is _UNREADABLE or after is _UNREADABLE:
        return False
    if before is None or after is None:
        return (before is None) != (after is None)
    if before.shape != after.shape or before.dtype != after.dtype:
        return True
    return not np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")


def observe_tape(function: Callable[..., Any], args: tuple | list | None = None) -> dict:
    """Call ``function(*args)`` watching the tape; return what happened, as plain data.

    Runs where ``function`` lives. ``args=None`` only reads the code. The function is
    called twice (the second time with shifted derivatives, output silenced) on deep
    copies of ``args``.
    """
    import contextlib
    import io
    import warnings

    source = None
    with contextlib.suppress(Exception):
        source = source_with_helpers(function)
    observation: dict = {"static": _static_facts(source), "called": args is not None,
                         "error": None, "ran": [], "returned_none": False, "leaves": []}
    if args is None or not callable(function):
        return observation
    import tensorflow as tf
    from tensorflow.python.eager import backprop, forwardprop

    # Another object in place of TensorFlow's tape would be watched instead of the real one.
    observation["replaced"] = tf.GradientTape is not backprop.GradientTape or (
        tf.autodiff.ForwardAccumulator is not forwardprop.ForwardAccumulator
    )
    if observation["replaced"]:
        return observation
    args = list(args)
    try:
        with _TapeSpy(tf, shift=False) as spy:
            result = function(*copy.deepcopy(args))
            before = _leaves(result)
    except Exception as exc:  # noqa: BLE001 - reported by the judge
        observation["error"] = {
            "unwritten": isinstance(exc, NotImplementedError),
            "text": _explain_exception(exc),
        }
        return observation
    observation["ran"] = [[name, spy.ran.count(name)] for name in sorted(set(spy.ran))]
    observation["returned_none"] = spy.returned_none
    after: list | None = None
    if spy.ran:
        silent = io.StringIO()
        try:
            with contextlib.redirect_stdout(silent), contextlib.redirect_stderr(silent), \
                    warnings.catch_warnings(), np.errstate(all="ignore"), _TapeSpy(tf, shift=True):
                warnings.simplefilter("ignore")
                after = _leaves(function(*copy.deepcopy(args)))
        except Exception:  # noqa: BLE001 - the result cannot be computed without the tape's values
            after = None
    shifted = dict(after) if after is not None else {}
    for path, value in before:
        if value is _UNREADABLE:
            depends = False
        elif value is None:  # None returned by the tape (the value checks explain it) or made by the tape
            depends = spy.returned_none or (path in shifted and shifted[path] is not None)
        elif after is None:  # the second call failed once the derivatives changed: it needed them
            depends = bool(spy.ran)
        else:
            depends = path not in shifted or _changed(value, shifted[path])
        observation["leaves"].append({"path": list(path), "kind": "other" if value is _UNREADABLE else
                                      ("none" if value is None else "value"), "depends": bool(depends)})
    return observation


def _clean_observation(raw: Any) -> dict:
    """An observation as plain data of the expected types (it may come from another process)."""
    raw = raw if isinstance(raw, dict) else {}
    static = raw.get("static") if isinstance(raw.get("static"), dict) else {}
    error = raw.get("error") if isinstance(raw.get("error"), dict) else None
    leaves = []
    for leaf in (raw.get("leaves") if isinstance(raw.get("leaves"), list) else [])[:MAX_LEAVES]:
        if isinstance(leaf, dict) and isinstance(leaf.get("path"), list):
            path = tuple(p for p in leaf["path"][:20] if isinstance(p, (str, int)) and not isinstance(p, bool))
            leaves.append({"path": path, "kind": str(leaf.get("kind"))[:10], "depends": leaf.get("depends") is True})
    ran = [(str(r[0])[:30], int(r[1])) for r in (raw.get("ran") if isinstance(raw.get("ran"), list) else [])[:10]
           if isinstance(r, list) and len(r) == 2 and isinstance(r[1], int) and not isinstance(r[1], bool)]
    return {
        "forbidden": [str(f)[:30] for f in (static.get("forbidden") or [])[:10] if isinstance(f, str)],
        "unwritten": static.get("unwritten") is True,
        "tape_written": static.get("tape_written") is True,
        "called": raw.get("called") is True,
        "replaced": raw.get("replaced") is True,
        "error": None if error is None else {"unwritten": error.get("unwritten") is True, "text": str(error.get("text", ""))[:2000]},
        "ran": ran,
        "returned_none": raw.get("returned_none") is True,
        "leaves": leaves,
    }


def _part_name(path: tuple) -> str:
    if len(path) == 1 and isinstance(path[0], int):
        return f"l'élément {path[0]} du résultat (en comptant à partir de 0)"
    return "la partie " + "".join(f"[{p!r}]" for p in path) + " du résultat"


HOW_TO_TAPE = (
    "Écrivez le calcul dans un bloc `with tf.GradientTape() as tape:` et obtenez la dérivée avec "
    "`tape.gradient(…)` (ou `tape.jacobian`, `acc.jvp`) : une formule écrite à la main ou des différences "
    "finies ne comptent pas."
)


def judge_tape(observation: Any, *, name: str, label: str, parts: Any = None) -> None:
    """Raise a French :class:`Diagnostic` unless the observation shows a result computed by the tape.

    ``parts`` lists the parts of the result (indices or keys; a tuple for a deeper path)
    that must each come from the tape; ``None`` means the result as a whole.
    """
    __tracebackhide__ = True
    obs = _clean_observation(observation)
    if obs["forbidden"]:
        raise Diagnostic(
            f"{name} : la dérivée doit venir de `tf.GradientTape`, pas de "
            + ", ".join(f"`{f}`" for f in obs["forbidden"]) + "."
        )
    if obs["unwritten"] or (obs["error"] and obs["error"]["unwritten"]):
        raise Diagnostic(f"{name} : la fonction n'est pas encore écrite (elle lève `NotImplementedError`).")
    if not obs["called"]:  # no arguments given: only the text was read
        if not obs["tape_written"]:
            raise Diagnostic(f"{name} : la dérivée doit être calculée avec `tf.GradientTape`. " + HOW_TO_TAPE)
        return
    if obs["replaced"]:
        raise Diagnostic(
            f"{name} : `tf.GradientTape` (ou `tf.autodiff.ForwardAccumulator`) a été remplacé par un autre objet. "
            "Ne modifiez pas TensorFlow : la dérivée doit venir du vrai ruban."
        )
    if obs["error"]:
        raise Diagnostic(
            f"{label} : impossible de vérifier que la dérivée vient du ruban, car l'appel échoue : "
            f"{obs['error']['text']}"
        )
    if not obs["ran"]:
        message = (
            f"{label} : la dérivée doit être calculée avec `tf.GradientTape`, or aucun calcul de dérivée par le "
            "ruban (`tape.gradient`, `tape.jacobian`, `acc.jvp`…) n'a été exécuté pendant cet appel."
        )
        if obs["tape_written"]:
            message += (
                " Votre code mentionne bien un ruban, mais ce code n'a pas servi : le bloc "
                "`with tf.GradientTape()` n'a pas été exécuté (condition jamais vraie, fonction jamais "
                "appelée…) ou `tape.gradient` n'a pas été appelé."
            )
        raise Diagnostic(message + " " + HOW_TO_TAPE)
    leaves = [leaf for leaf in obs["leaves"] if leaf["kind"] in ("value", "none")]
    wanted = [p if isinstance(p, tuple) else (p,) for p in (parts if parts is not None else [()])]
    groups = [(path, [leaf for leaf in leaves if leaf["path"][:len(path)] == path]) for path in wanted]
    groups = [(path, group) for path, group in groups if group] or [((), leaves)]
    missing = [path for path, group in groups if not any(leaf["depends"] for leaf in group)]
    if missing:
        called = ", ".join(f"`tape.{n}`" for n, _ in obs["ran"])
        where = "la valeur renvoyée" if missing == [()] else " et ".join(_part_name(p) for p in missing)
        raise Diagnostic(
            f"{label} : {where} ne vient d'aucune dérivée calculée par le ruban pendant l'appel. "
            f"{called} a bien été exécuté, mais son résultat n'est pas utilisé pour la réponse : "
            "une formule écrite à la main à côté d'un ruban ne compte pas. Renvoyez la dérivée calculée par "
            "le ruban (ou une valeur calculée à partir d'elle)."
        )


def assert_uses_tape(
    function: Callable[..., Any], *args: Any, what: str | None = None, parts: Any = None
) -> None:
    """Check that ``function(*args)`` computes its result with ``tf.GradientTape``.

    The function is called (twice) where it lives, and the check looks at what ran: a
    derivative method of the tape must have run during the call, and the result (or
    each of ``parts``: indices or keys of the result) must change when the derivatives
    the tape returned change. A tape in a helper, a lambda or a method counts; a formula
    written by hand beside an unused or never executed tape does not. Derivatives
    obtained some other way (``tf.test.compute_gradient``, SciPy, JAX…) are refused.
    Without ``args``, only the code is read.
    """
    __tracebackhide__ = True
    name = what or getattr(function, "__name__", "la fonction")
    label = what or f"{name}({', '.join(describe(a) for a in args)})"
    if not callable(function):
        raise Diagnostic(f"{name} : l'objet attendu n'est pas une fonction.")
    observed = args if args else None
    remote = getattr(function, "__observe_tape__", None)
    observation = remote(observed) if callable(remote) else observe_tape(function, observed)
    judge_tape(observation, name=name, label=label, parts=parts)


# --------------------------------------------------------------------------
# Partial credit: a test cell made of weighted parts
# --------------------------------------------------------------------------


class _Part:
    """Context manager of one part: a Diagnostic (or any error) fails the part only."""

    def __init__(self, grader: "Grader", label: str, weight: float, required: bool) -> None:
        self.grader, self.label, self.weight, self.required = grader, label, weight, required

    def __enter__(self) -> "_Part":
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: Any) -> bool:
        if kind is None:
            self.grader._record(self.label, self.weight, None, self.required)
            return False
        if not issubclass(kind, Exception):
            return False  # KeyboardInterrupt, SystemExit: let them stop the cell
        if isinstance(error, Diagnostic):
            message = str(error)
        else:
            message = f"erreur inattendue pendant le test ({_explain_exception(error)})"
        self.grader._record(self.label, self.weight, message, self.required)
        return True


class Grader:
    """Score of one test cell, made of weighted parts.

    The cell ends with ``grader.result()``: nbgrader reads the returned number
    as the cell's score (partial credit). ``points`` must equal the cell's points.
    """

    def __init__(self, question: str, points: float) -> None:
        self.question = question
        self.points = float(points)
        self.parts: list[tuple[str, float, str | None]] = []
        self.blocked = False

    def part(self, label: str, weight: float = 1.0) -> _Part:
        """A part of the check, worth ``weight`` relative to the other parts."""
        return _Part(self, label, float(weight), required=False)

    def require(self, label: str) -> _Part:
        """A condition worth no points by itself: if it fails, the whole question scores 0."""
        return _Part(self, label, 0.0, required=True)

    def _record(self, label: str, weight: float, failure: str | None, required: bool) -> None:
        self.parts.append((label, weight, failure))
        if required and failure is not None:
            self.blocked = True

    def result(self) -> float:
        """Print the French summary and return the score in points (a plain float)."""
        total = sum(weight for _, weight, _ in self.parts)
        passed = sum(weight for _, weight, failure in self.parts if failure is None)
        score = round(self.points * passed / total, 2) if total and not self.blocked else 0.0
        if passed == total and total and not self.blocked:
            print(f"✔ {self.question} : tous les tests sont réussis ({format_number(score)} / {format_number(self.points)}).")
            return float(score)
        lines = [f"✘ {self.question} : {format_number(score)} / {format_number(self.points)}"]
        if self.blocked:
            lines[0] += " (condition non remplie : aucun point pour cette question)"
        for label, _, failure in self.parts:
            if failure is None:
                lines.append(f"  ✔ {label}")
            else:
                lines.append(f"  ✘ {label}")
                lines.extend("      " + line for line in failure.splitlines())
        print("\n".join(lines))
        return float(score)


def format_number(value: float) -> str:
    """A number as French text: at most two decimals, a decimal comma."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


# --------------------------------------------------------------------------
# Why None? Likely causes read in the student's code
# --------------------------------------------------------------------------

_LAST_CALLED: list[Callable[..., Any]] = []


def _dotted(node: Any) -> str:
    import ast

    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    if isinstance(node, ast.Call):
        return _dotted(node.func)
    return ""


def none_causes(source: str) -> list[str]:
    """Likely causes of a ``None`` gradient, read in ``source`` (French, most likely first)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    causes: list[str] = []

    def add(text: str) -> None:
        if text not in causes:
            causes.append(text)

    tape_blocks = [
        node for node in ast.walk(tree)
        if isinstance(node, ast.With) and any("GradientTape" in _dotted(item.context_expr) for item in node.items)
    ]
    if not tape_blocks:
        add("aucun bloc `with tf.GradientTape() as tape:` : le calcul n'est pas enregistré.")
    inside = {id(n) for block in tape_blocks for stmt in block.body for n in ast.walk(stmt)}
    watched = {
        _dotted(call.args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and _dotted(call.func).endswith(".watch") and call.args
    }
    sources: set[str] = set()
    targets: set[str] = set()
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and _dotted(call.func).split(".")[-1] in TAPE_CALLS and len(call.args) >= 2:
            targets.add(_dotted(call.args[0]))
            for arg in [call.args[1], *getattr(call.args[1], "elts", [])]:
                if _dotted(arg):
                    sources.add(_dotted(arg))
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                assigned.setdefault(_dotted(target), []).append(node.value)
    parameters = {
        arg.arg for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.Lambda)) for arg in node.args.args
    }
    for name in sorted(sources - watched):
        values = assigned.get(name, [])
        variables = [v for v in values if isinstance(v, ast.Call) and _dotted(v.func).endswith("Variable")]
        for value in variables:
            first = value.args[0] if value.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, int) and not isinstance(first.value, bool):
                add(f"`{name}` est une variable entière : TensorFlow ne dérive que par rapport à des flottants (`{first.value}.0`).")
            for keyword in value.keywords:
                if keyword.arg == "trainable" and isinstance(keyword.value, ast.Constant) and keyword.value.value is False:
                    add(f"`{name}` est créée avec `trainable=False` : le ruban ne la surveille pas sans `tape.watch`.")
                if keyword.arg == "dtype" and "int" in ast.unparse(keyword.value):
                    add(f"`{name}` est de type entier : utilisez `dtype=tf.float32`.")
        for value in values:
            if isinstance(value, ast.BinOp) and name in {_dotted(n) for n in ast.walk(value)} and variables:
                add(f"`{name} = {ast.unparse(value)}` remplace la variable `{name}` par un tenseur : modifiez-la sur place avec `{name}.assign_sub(…)` (ou `assign`), ou utilisez une autre variable.")
        intermediate = any(id(v) in inside for v in values)
        if not variables and not intermediate and (values or name in parameters):
            add(
                f"`{name}` n'est pas une `tf.Variable` : c'est un tenseur ordinaire (ou une valeur reçue en argument), "
                f"que le ruban ne surveille pas. Créez une variable (`tf.Variable`) ou appelez `tape.watch({name})` "
                "au début du bloc `with`."
            )
    for name in sorted(targets):
        for value in assigned.get(name, []):
            if tape_blocks and id(value) not in inside:
                add(f"`{name}` est calculé en dehors du bloc `with` : le ruban n'a rien enregistré.")
    for node in ast.walk(tree):
        if id(node) in inside and isinstance(node, ast.Call):
            called = _dotted(node.func)
            if called.endswith(".numpy") or called.startswith(("np.", "numpy.", "math.")):
                add(f"`{called}(…)` dans le ruban : le calcul sort de TensorFlow et le ruban perd sa trace.")
            if called.endswith((".assign", ".assign_add", ".assign_sub")):
                add(f"`{called}(…)` dans le ruban : une affectation n'est pas dérivable.")
    return causes


def _none_message(what: str) -> str:
    causes = []
    if _LAST_CALLED:
        source = source_of(_LAST_CALLED[-1])
        causes = none_causes(source) if source else []
    if causes:
        return f"{what} vaut `None` au lieu d'une valeur. Cause probable : " + " ".join(causes)
    return f"{what} vaut `None` au lieu d'une valeur.\n{NONE_CAUSES}"


def _is_numeric_array(value: Any) -> bool:
    """A (nested) list of numbers, which is compared as one array."""
    try:
        return np.asarray(value).dtype.kind in "fiub"
    except (ValueError, TypeError):
        return False


def assert_close_nested(got: Any, expected: Any, *, what: str, reveal: bool = False, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Like :func:`assert_close` for a list, tuple or dict of values (e.g. several gradients).

    The structure must match: same length for a list or tuple, same keys for a dict.
    """
    __tracebackhide__ = True
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            raise Diagnostic(
                f"{what} doit être un dictionnaire (mêmes clés que les sources), reçu : `{type(got).__name__}`."
            )
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        if missing or extra:
            raise Diagnostic(
                f"{what} : les clés ne correspondent pas"
                + (f" ; manquantes : {', '.join(map(repr, missing))}" if missing else "")
                + (f" ; en trop : {', '.join(map(repr, extra))}" if extra else "")
                + "."
            )
        for key in expected:
            assert_close_nested(got[key], expected[key], what=f"{what}[{key!r}]", reveal=reveal, rtol=rtol, atol=atol)
        return
    if isinstance(expected, (list, tuple)) and _is_numeric_array(expected):
        assert_close(got, np.asarray(expected, dtype=np.float64), what=what, reveal=reveal, rtol=rtol, atol=atol)
        return
    if isinstance(expected, (list, tuple)):
        if got is None or not isinstance(got, (list, tuple)):
            raise Diagnostic(
                f"{what} doit être une liste de {len(expected)} valeurs, reçu : `{type(got).__name__}`."
                + (" Un gradient vaut `None` ?" if got is None else "")
            )
        if len(got) != len(expected):
            raise Diagnostic(f"{what} : {len(expected)} valeurs attendues, {len(got)} reçues.")
        for index, (item, reference) in enumerate(zip(got, expected)):
            assert_close_nested(item, reference, what=f"{what}[{index}]", reveal=reveal, rtol=rtol, atol=atol)
        return
    assert_close(got, expected, what=what, reveal=reveal, rtol=rtol, atol=atol)
