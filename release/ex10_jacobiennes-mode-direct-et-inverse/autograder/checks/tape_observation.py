"""Was the tape used? The observation half, run where the student's function lives.

``observe_tape`` runs in the process that holds the student's function (the kernel itself,
or the sandboxed student process at grading) and returns plain data, which
:func:`.tape_verdict.judge_tape` reads in the test's process.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from .calling import explain_exception
from .student_source import static_facts, source_with_helpers

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

#: Most parts of a result (leaves) compared between the two calls.
MAX_LEAVES = 1000
_UNREADABLE = object()


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
    observation: dict = {"static": static_facts(source), "called": args is not None,
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
            "text": explain_exception(exc),
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
