"""Who is graded, and the reproducible random inputs of the hidden tests.

During grading the hidden inputs are drawn from a generator seeded by the student's id,
so that a copy's feedback can be reproduced; elsewhere every run draws new inputs.
"""

from __future__ import annotations

import hashlib
import os
import pathlib

import numpy as np


#: Environment variable through which a grading run gives the student id.
STUDENT_ID_ENV = "AUTOGRADER_STUDENT_ID"


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
