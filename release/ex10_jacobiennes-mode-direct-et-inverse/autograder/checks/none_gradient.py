"""Why is a gradient ``None``? Likely causes read in the code of the function last called."""

from __future__ import annotations

from typing import Any, Callable

from .student_source import TAPE_CALLS, dotted_name, source_of


NONE_CAUSES = (
    "Causes fréquentes d'un gradient `None` :\n"
    "  • la source est une constante (`tf.constant`, tableau NumPy) que le ruban ne surveille pas : "
    "utilisez `tf.Variable` ou `tape.watch(x)` ;\n"
    "  • la source est de type entier (`tf.Variable(3)`) : utilisez des flottants (`3.0`) ;\n"
    "  • le calcul a été fait en dehors du bloc `with tf.GradientTape() as tape:` ;\n"
    "  • le calcul passe par NumPy (`np.…`, `.numpy()`) : restez dans TensorFlow ;\n"
    "  • `x = x + 1` a remplacé la variable par un tenseur : utilisez `x.assign_add(1.0)`."
)

#: The function that :func:`.calling.call` called last: its source explains a ``None`` it returned.
LAST_CALLED: list[Callable[..., Any]] = []


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
        if isinstance(node, ast.With) and any("GradientTape" in dotted_name(item.context_expr) for item in node.items)
    ]
    if not tape_blocks:
        add("aucun bloc `with tf.GradientTape() as tape:` : le calcul n'est pas enregistré.")
    inside = {id(n) for block in tape_blocks for stmt in block.body for n in ast.walk(stmt)}
    watched = {
        dotted_name(call.args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call) and dotted_name(call.func).endswith(".watch") and call.args
    }
    sources: set[str] = set()
    targets: set[str] = set()
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and dotted_name(call.func).split(".")[-1] in TAPE_CALLS and len(call.args) >= 2:
            targets.add(dotted_name(call.args[0]))
            for arg in [call.args[1], *getattr(call.args[1], "elts", [])]:
                if dotted_name(arg):
                    sources.add(dotted_name(arg))
    assigned: dict[str, list[ast.AST]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                assigned.setdefault(dotted_name(target), []).append(node.value)
    parameters = {
        arg.arg for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.Lambda)) for arg in node.args.args
    }
    for name in sorted(sources - watched):
        values = assigned.get(name, [])
        variables = [v for v in values if isinstance(v, ast.Call) and dotted_name(v.func).endswith("Variable")]
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
            if isinstance(value, ast.BinOp) and name in {dotted_name(n) for n in ast.walk(value)} and variables:
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
            called = dotted_name(node.func)
            if called.endswith(".numpy") or called.startswith(("np.", "numpy.", "math.")):
                add(f"`{called}(…)` dans le ruban : le calcul sort de TensorFlow et le ruban perd sa trace.")
            if called.endswith((".assign", ".assign_add", ".assign_sub")):
                add(f"`{called}(…)` dans le ruban : une affectation n'est pas dérivable.")
    return causes


def none_message(what: str) -> str:
    causes = []
    if LAST_CALLED:
        source = source_of(LAST_CALLED[-1])
        causes = none_causes(source) if source else []
    if causes:
        return f"{what} vaut `None` au lieu d'une valeur. Cause probable : " + " ".join(causes)
    return f"{what} vaut `None` au lieu d'une valeur.\n{NONE_CAUSES}"
