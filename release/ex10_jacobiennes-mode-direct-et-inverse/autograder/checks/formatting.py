"""How numbers, shapes and arrays are written in the checks' French messages."""

from __future__ import annotations

import numpy as np


def format_number(value: float) -> str:
    """A number as French text: at most two decimals, a decimal comma."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_array(array: np.ndarray) -> str:
    return np.array2string(np.asarray(array), precision=4, separator=", ", threshold=20)


def format_shape(shape: tuple[int, ...]) -> str:
    return "()" if not shape else "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
