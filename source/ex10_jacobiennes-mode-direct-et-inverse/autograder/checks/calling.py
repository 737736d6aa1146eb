"""Calling the student's code: copies of the arguments, and French explanations of its errors.

Test cells follow DESIGN.md principle 4: they call the student's function with plain data
(numbers, NumPy arrays) through :func:`call` and compare plain data (see :mod:`.numeric`).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from .diagnostic import Diagnostic
from .formatting import format_shape
from .none_gradient import LAST_CALLED, NONE_CAUSES, none_message


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


def explain_exception(exc: BaseException) -> str:
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
        return f"tableau de forme {format_shape(tuple(shape))}"
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
    LAST_CALLED[:] = [function]
    try:
        return function(*copy.deepcopy(args))
    except Diagnostic:
        raise
    except Exception as exc:  # noqa: BLE001 - any student error is reported, not raised
        raise Diagnostic(f"{label} : {explain_exception(exc)}") from None


def to_array(value: Any, *, what: str) -> np.ndarray:
    """Convert a number, list, NumPy array, tf.Tensor or tf.Variable to float64."""
    __tracebackhide__ = True
    if value is None:
        raise Diagnostic(none_message(what))
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
