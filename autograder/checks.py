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
        raise Diagnostic(f"{what} vaut `None` au lieu d'une valeur.\n{NONE_CAUSES}")
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
    if _close(got, -expected, rtol, atol):
        return "le signe est inversé"
    nonzero = np.abs(expected) > max(atol, 1e-6)
    if nonzero.any():
        ratios = got[nonzero] / expected[nonzero]
        factor = float(np.median(ratios))
        if abs(factor) > 1e-6 and not np.isclose(factor, 1.0, rtol=rtol) and _close(
            got, factor * expected, rtol, atol
        ):
            return (
                f"toutes les valeurs sont multipliées par un même facteur (≈ {factor:.3g}) : "
                "un coefficient est oublié ou en trop"
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
