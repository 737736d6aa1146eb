"""Comparing plain data: values within tolerance, with diagnostics that never reveal a hidden value.

A wrong result is explained by what is wrong (shape, sign, constant factor, transposition,
sum versus per-element…), never by the expected value of a hidden input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .calling import to_array
from .diagnostic import Diagnostic
from .formatting import format_array, format_shape


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
        f"forme attendue {format_shape(expected.shape)}, forme reçue {format_shape(got.shape)} "
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
        message += f"\n  attendu : {format_array(expected_array)}\n  obtenu  : {format_array(got_array)}"
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
