"""Was the tape used? The verdict half: plain data observed elsewhere, judged in the test's process."""

from __future__ import annotations

from typing import Any, Callable

from .calling import describe
from .diagnostic import Diagnostic
from .tape_observation import MAX_LEAVES, observe_tape


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
