"""Checks used by the test cells of the exercise notebooks.

Every failure raises :class:`Diagnostic` (an ``AssertionError``) whose message is
French and explains *what* is wrong (``None`` gradient, shape, sign, constant
factor, transposition, sum versus per-element…) without ever revealing the
expected value of a hidden input.

Test cells follow DESIGN.md principle 4: they call the student's function with
plain data (numbers, NumPy arrays) through :func:`call` and compare plain data
through :func:`assert_close`.

The notebooks, the grader and the tests import every name from here
(``from autograder.checks import …``); the modules hold one concern each:

- :mod:`.diagnostic`: the failure every check raises;
- :mod:`.seeding`: the student's id and the reproducible random inputs of hidden tests;
- :mod:`.calling`: calling the student's code, French explanations of its errors;
- :mod:`.numeric`: comparing values, with diagnostics that never reveal a hidden value;
- :mod:`.student_source`: reading the source of the student's function and its helpers;
- :mod:`.none_gradient`: likely causes of a ``None`` gradient, read in that source;
- :mod:`.tape_observation`, :mod:`.tape_verdict`: was the result computed with the tape?
- :mod:`.scoring`: partial credit of a test cell (:class:`Grader`);
- :mod:`.formatting`: numbers, shapes and arrays as written in the French messages.
"""

from __future__ import annotations

from .calling import explain_exception, call, describe, in_student_process, to_array
from .diagnostic import Diagnostic
from .formatting import format_array, format_shape, format_number
from .none_gradient import LAST_CALLED, NONE_CAUSES, none_message, none_causes
from .numeric import assert_close, assert_close_nested, assert_pair
from .scoring import Grader
from .seeding import STUDENT_ID_ENV, hidden_rng, random_array, random_shape, student_id
from .student_source import (
    FORBIDDEN_MODULES,
    FORBIDDEN_NAMES,
    MAX_SOURCE,
    TAPE_CALLS,
    dotted_name,
    static_facts,
    source_of,
    source_with_helpers,
)
from .tape_observation import MAX_LEAVES, observe_tape
from .tape_verdict import HOW_TO_TAPE, assert_uses_tape, judge_tape

__all__ = [
    "assert_close",
    "assert_close_nested",
    "assert_pair",
    "assert_uses_tape",
    "call",
    "describe",
    "Diagnostic",
    "dotted_name",
    "explain_exception",
    "FORBIDDEN_MODULES",
    "FORBIDDEN_NAMES",
    "format_array",
    "format_number",
    "format_shape",
    "Grader",
    "hidden_rng",
    "HOW_TO_TAPE",
    "in_student_process",
    "judge_tape",
    "LAST_CALLED",
    "MAX_LEAVES",
    "MAX_SOURCE",
    "NONE_CAUSES",
    "none_causes",
    "none_message",
    "observe_tape",
    "random_array",
    "random_shape",
    "source_of",
    "source_with_helpers",
    "static_facts",
    "student_id",
    "STUDENT_ID_ENV",
    "TAPE_CALLS",
    "to_array",
]
