"""The check library turns wrong answers into precise French diagnostics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autograder import checks
from autograder.checks import Diagnostic, assert_close, assert_pair, call, hidden_rng, random_shape


def diagnostic_of(got, expected, **kwargs) -> str:
    with pytest.raises(Diagnostic) as info:
        assert_close(got, expected, what="résultat", **kwargs)
    return str(info.value)


def test_when_values_match_within_tolerance_then_no_error():
    assert_close(np.float32(6.0000005), 6.0, what="x")
    assert_close([[1.0, 2.0]], np.array([[1.0, 2.0]]), what="x")


def test_when_answer_is_none_then_the_none_causes_are_listed():
    message = diagnostic_of(None, [1.0, 2.0])
    assert "`None`" in message
    assert "tape.watch" in message and "entier" in message and "NumPy" in message


def test_when_sign_is_flipped_then_diagnostic_says_sign():
    assert "signe est inversé" in diagnostic_of([-2.0, -4.0], [2.0, 4.0])


def test_when_constant_factor_then_diagnostic_gives_the_factor():
    message = diagnostic_of([4.0, 8.0, -2.0], [2.0, 4.0, -1.0])
    assert "même facteur" in message and "≈\u00a02" in message


def test_when_matrix_is_transposed_then_diagnostic_says_transposed():
    expected = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert "transposé" in diagnostic_of(expected.T, expected)
    square = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert "transposé" in diagnostic_of(square.T, square)


def test_when_sum_returned_instead_of_per_element_then_diagnostic_says_so():
    assert "somme des dérivées" in diagnostic_of(12.0, [2.0, 4.0, 6.0])


def test_when_per_element_returned_instead_of_sum_then_diagnostic_says_so():
    assert "une valeur par élément" in diagnostic_of([2.0, 4.0, 6.0], 12.0)


def test_when_shape_differs_then_both_shapes_are_named():
    message = diagnostic_of(np.zeros((2, 3)), np.zeros((3, 4)))
    assert "(3, 4)" in message and "(2, 3)" in message


def test_when_result_contains_nan_then_diagnostic_says_nan():
    assert "NaN" in diagnostic_of([np.nan, 1.0], [1.0, 1.0])
    assert "infinie" in diagnostic_of([np.inf, 1.0], [1.0, 1.0])


def test_when_hidden_check_fails_then_expected_value_is_not_revealed():
    message = diagnostic_of([1.2345], [9.8765])
    assert "9.87" not in message and "attendu" not in message


def test_when_visible_check_fails_then_expected_and_received_are_shown():
    message = diagnostic_of([1.5], [9.25], reveal=True)
    assert "9.25" in message and "1.5" in message


def test_when_answer_is_not_numeric_then_type_is_named():
    assert "`str`" in diagnostic_of("abc", 1.0)


def test_when_tensorflow_values_then_they_are_compared():
    tf = pytest.importorskip("tensorflow")
    assert_close(tf.constant([6.0, 8.0]), [6.0, 8.0], what="x")
    assert_close(tf.Variable(2.0), 2.0, what="x")


def test_when_function_is_a_stub_then_diagnostic_says_not_written():
    def stub(x):
        raise NotImplementedError()

    with pytest.raises(Diagnostic, match="pas encore écrite"):
        call(stub, 1.0)


def test_when_function_uses_a_tape_twice_then_diagnostic_mentions_persistent():
    def twice(x):
        raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients")

    with pytest.raises(Diagnostic, match="persistent=True"):
        call(twice, 1.0)


def test_when_function_mutates_its_argument_then_caller_data_is_unchanged():
    data = np.array([1.0, 2.0])

    def mutate(x):
        x[0] = 100.0
        return x

    call(mutate, data)
    assert data.tolist() == [1.0, 2.0]


def test_when_label_is_built_then_arrays_are_described_by_shape():
    def boom(a, x):
        raise ValueError("boom")

    with pytest.raises(Diagnostic, match=r"boom\(2, tableau de forme \(3, 2\)\)"):
        call(boom, 2, np.zeros((3, 2)))


def test_when_pair_expected_and_single_value_returned_then_diagnostic_says_pair():
    with pytest.raises(Diagnostic, match="couple"):
        assert_pair(3.0, what="f(3)")


def test_when_grading_then_hidden_inputs_depend_on_student_only(monkeypatch):
    monkeypatch.setenv(checks.STUDENT_ID_ENV, "alice")
    first = hidden_rng("ex01.q1").normal(size=4)
    again = hidden_rng("ex01.q1").normal(size=4)
    other_part = hidden_rng("ex01.q2").normal(size=4)
    monkeypatch.setenv(checks.STUDENT_ID_ENV, "bob")
    other_student = hidden_rng("ex01.q1").normal(size=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other_part)
    assert not np.array_equal(first, other_student)


def test_when_plain_nbgrader_autogrades_then_student_id_comes_from_directory(monkeypatch, tmp_path):
    folder = tmp_path / "autograded" / "carole" / "ex01"
    folder.mkdir(parents=True)
    monkeypatch.delenv(checks.STUDENT_ID_ENV, raising=False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.chdir(folder)
    assert checks.student_id() == "carole"


def test_when_not_grading_then_each_validation_draws_fresh_inputs(monkeypatch):
    monkeypatch.delenv(checks.STUDENT_ID_ENV, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not np.array_equal(hidden_rng("p").normal(size=8), hidden_rng("p").normal(size=8))


def test_when_shapes_are_drawn_then_they_respect_the_bounds():
    rng = np.random.default_rng(0)
    shapes = [random_shape(rng, min_rank=1, max_rank=3, max_dim=4) for _ in range(200)]
    assert all(1 <= len(s) <= 3 and all(1 <= d <= 4 for d in s) for s in shapes)
    assert len(set(shapes)) > 20


# --- Why None: causes read in the code ------------------------------------

NONE_SOURCES = {
    "n'est pas une `tf.Variable`": "def f(x):\n    x = tf.constant(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n",
    "variable entière": "def f(x):\n    x = tf.Variable(3)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n",
    "en dehors du bloc": "def f(x):\n    x = tf.Variable(x)\n    y = x**2\n    with tf.GradientTape() as tape:\n        z = y\n    return tape.gradient(y, x)\n",
    "le calcul sort de TensorFlow": "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = np.square(x.numpy())\n    return tape.gradient(y, x)\n",
    "remplace la variable": "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        x = x + 1\n        y = x * 2\n    return tape.gradient(y, x)\n",
    "trainable=False": "def f(x):\n    x = tf.Variable(x, trainable=False)\n    with tf.GradientTape() as tape:\n        y = x * 2\n    return tape.gradient(y, x)\n",
    "aucun bloc": "def f(x):\n    return tape.gradient(x, x)\n",
}


@pytest.mark.parametrize("expected,source", NONE_SOURCES.items(), ids=list(NONE_SOURCES))
def test_when_a_gradient_is_none_then_its_likely_cause_is_read_in_the_code(expected, source):
    assert any(expected in cause for cause in checks.none_causes(source)), checks.none_causes(source)


def test_when_the_source_is_watched_then_no_constant_cause_is_reported():
    source = "def f(x):\n    x = tf.constant(x)\n    with tf.GradientTape() as tape:\n        tape.watch(x)\n        y = x**2\n    return tape.gradient(y, x)\n"
    assert checks.none_causes(source) == []


def test_when_a_student_function_returns_none_then_the_message_names_the_cause():
    namespace: dict = {"tf": pytest.importorskip("tensorflow")}
    source = "def f(x):\n    x = tf.constant(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n"
    exec(compile(source, "<f>", "exec"), namespace)
    namespace["f"].__source__ = source
    with pytest.raises(Diagnostic, match="Cause probable.*tape.watch"):
        assert_close(call(namespace["f"], 1.0), 2.0, what="f(1)")


# --- Was the tape used? -----------------------------------------------------


def make(source: str, name: str = "f"):
    """A student's function defined from ``source`` (registered so that its code can be read)."""
    import linecache

    tf = pytest.importorskip("tensorflow")
    filename = f"<student {abs(hash(source))}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace: dict = {"tf": tf, "np": np, "__name__": "__main__"}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


SQUARE_WITH_TAPE = "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n"

COMPUTED_BY_THE_TAPE = {
    "ruban dans la fonction": SQUARE_WITH_TAPE,
    "ruban dans une fonction auxiliaire": (
        "def derive(g, x):\n    with tf.GradientTape() as tape:\n        y = g(x)\n    return tape.gradient(y, x)\n\n"
        "def f(x):\n    return derive(lambda v: v**2, tf.Variable(x))\n"
    ),
    "ruban dans une méthode": (
        "class Derivateur:\n    def derivee(self, x):\n        x = tf.Variable(x)\n"
        "        with tf.GradientTape() as tape:\n            y = x**2\n        return tape.gradient(y, x)\n\n"
        "outil = Derivateur()\n\ndef f(x):\n    return outil.derivee(x)\n"
    ),
    "variable nommée grad": (
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n"
        "    grad = tape.gradient\n    return grad(y, x)\n"
    ),
    "lambda": (
        "derive = lambda tape, y, x: tape.gradient(y, x)\n\n"
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return derive(tape, y, x)\n"
    ),
    "tf.function": (
        "@tf.function\ndef f(x):\n    x = tf.convert_to_tensor(x)\n    with tf.GradientTape() as tape:\n"
        "        tape.watch(x)\n        y = x**2\n    return tape.gradient(y, x)\n"
    ),
    "converti en nombre": (
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n"
        "    return float(tape.gradient(y, x).numpy())\n"
    ),
    "gradient nul (x = 0)": (
        "def f(x):\n    x = tf.Variable(0.0)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n"
    ),
    "pas de descente": (
        "def f(x):\n    w = tf.Variable(x)\n    for _ in range(3):\n        with tf.GradientTape() as tape:\n"
        "            perte = (w - 3.0) ** 2\n        w.assign_sub(0.1 * tape.gradient(perte, w))\n    return w\n"
    ),
    "jacobienne": (
        "def f(x):\n    x = tf.Variable([x, 2 * x])\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.jacobian(y, x)\n"
    ),
    "mode direct": (
        "def f(x):\n    x = tf.constant(x)\n    with tf.autodiff.ForwardAccumulator(x, tf.constant(1.0)) as acc:\n"
        "        y = x**2\n    return acc.jvp(y)\n"
    ),
    "gradient None renvoyé par le ruban": (
        "def f(x):\n    x = tf.constant(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n"
    ),
}


@pytest.mark.parametrize("source", COMPUTED_BY_THE_TAPE.values(), ids=list(COMPUTED_BY_THE_TAPE))
def test_when_the_result_comes_from_the_tape_then_the_tape_check_passes(source):
    checks.assert_uses_tape(make(source), 3.0)


NOT_COMPUTED_BY_THE_TAPE = {
    "formule": ("def f(x):\n    return 2 * x\n", "n'a été exécuté pendant cet appel"),
    "différences finies": ("def f(x):\n    h = 1e-3\n    return ((x + h)**2 - (x - h)**2) / (2 * h)\n", "n'a été exécuté"),
    "ruban sans gradient": ("def f(x):\n    with tf.GradientTape() as tape:\n        pass\n    return 2 * x\n", "n'a pas servi"),
    "bloc jamais exécuté": (
        "def f(x):\n    if False:\n        with tf.GradientTape() as tape:\n            y = x**2\n"
        "        return tape.gradient(y, x)\n    return 2 * x\n", "le bloc `with tf.GradientTape()` n'a pas été exécuté"),
    "auxiliaire jamais appelée": (
        "def derive(x):\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n\n"
        "def f(x):\n    return 2 * x\n", "n'a été exécuté"),
    "gradient calculé mais inutilisé": (
        SQUARE_WITH_TAPE.replace("    return tape.gradient(y, x)\n", "    tape.gradient(y, x)\n    return 2 * x\n"),
        "ne vient d'aucune dérivée calculée par le ruban"),
    "gradient multiplié par zéro": (
        SQUARE_WITH_TAPE.replace("return tape.gradient(y, x)", "return 2 * x + 0 * tape.gradient(y, x)"),
        "ne vient d'aucune dérivée calculée par le ruban"),
    "gradient d'une autre fonction": (
        "def f(x):\n    v = tf.Variable(1.0)\n    with tf.GradientTape() as tape:\n        y = v * 5.0\n"
        "    tape.gradient(y, v)\n    return tf.constant(2 * x)\n", "`tape.gradient` a bien été exécuté"),
}


@pytest.mark.parametrize("source,reason", NOT_COMPUTED_BY_THE_TAPE.values(), ids=list(NOT_COMPUTED_BY_THE_TAPE))
def test_when_the_result_does_not_come_from_the_tape_then_it_is_rejected_in_french(source, reason):
    with pytest.raises(Diagnostic, match="tf.GradientTape|ruban") as error:
        checks.assert_uses_tape(make(source), 3.0)
    assert reason in str(error.value)


def test_when_one_part_of_a_pair_is_a_formula_then_that_part_is_named():
    source = (
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n"
        "    return tape.gradient(y, x), 2 * x.numpy()\n"
    )
    checks.assert_uses_tape(make(source), 3.0, parts=[0])
    with pytest.raises(Diagnostic, match="l'élément 1 du résultat"):
        checks.assert_uses_tape(make(source), 3.0, parts=[0, 1])


def test_when_gradients_come_in_a_dict_then_each_key_can_be_required():
    source = (
        "def f(x):\n    a, b = tf.Variable(x), tf.Variable(2.0)\n    with tf.GradientTape() as tape:\n"
        "        y = a**2 * b\n    g = tape.gradient(y, {'a': a, 'b': b})\n    return {'a': g['a'], 'b': tf.constant(9.0)}\n"
    )
    checks.assert_uses_tape(make(source), 3.0, parts=["a"])
    with pytest.raises(Diagnostic, match=r"la partie \['b'\] du résultat"):
        checks.assert_uses_tape(make(source), 3.0, parts=["a", "b"])


def test_when_the_function_fails_then_the_check_says_it_could_not_verify():
    source = "def f(x):\n    raise ValueError('oups')\n"
    with pytest.raises(Diagnostic, match="impossible de vérifier"):
        checks.assert_uses_tape(make(source), 3.0)


def test_when_another_autodiff_tool_is_used_then_it_is_named():
    source = (
        "def f(x):\n    with tf.GradientTape() as tape:\n        pass\n"
        "    return tf.test.compute_gradient(lambda v: v**2, [tf.constant(x)])\n"
    )
    with pytest.raises(Diagnostic, match="compute_gradient"):
        checks.assert_uses_tape(make(source), 3.0)


def test_when_the_observation_crosses_a_process_boundary_then_the_verdict_is_the_same():
    """The grader judges the observation after a JSON round trip: same verdict, same French text."""
    for source in [*COMPUTED_BY_THE_TAPE.values(), *(s for s, _ in NOT_COMPUTED_BY_THE_TAPE.values())]:
        function = make(source)
        observation = checks.observe_tape(function, [3.0])
        verdicts = []
        for seen in (observation, json.loads(json.dumps(observation))):
            try:
                checks.judge_tape(seen, name="f", label="f(3)")
                verdicts.append(None)
            except Diagnostic as error:
                verdicts.append(str(error))
        assert verdicts[0] == verdicts[1]


def test_when_the_tape_class_is_replaced_then_the_check_refuses_it(monkeypatch):
    tf = pytest.importorskip("tensorflow")

    class FakeTape:
        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

        def gradient(self, y, x):
            return 2 * x

    monkeypatch.setattr(tf, "GradientTape", FakeTape)
    with pytest.raises(Diagnostic, match="a été remplacé"):
        checks.assert_uses_tape(make(SQUARE_WITH_TAPE), 3.0)


def test_when_the_tape_is_watched_then_it_is_restored_afterwards():
    tf = pytest.importorskip("tensorflow")
    before = (tf.GradientTape.gradient, tf.autodiff.ForwardAccumulator.jvp, tf.config.functions_run_eagerly())
    checks.observe_tape(make(SQUARE_WITH_TAPE), [3.0])
    checks.observe_tape(make("def f(x):\n    raise ValueError('oups')\n"), [3.0])
    assert (tf.GradientTape.gradient, tf.autodiff.ForwardAccumulator.jvp, tf.config.functions_run_eagerly()) == before


def test_when_a_helper_is_used_then_its_code_is_read_with_the_function():
    source = COMPUTED_BY_THE_TAPE["ruban dans une fonction auxiliaire"]
    text = checks.source_of(make(source))
    assert "def f(x)" in text and "def derive(g, x)" in text


# --- Partial credit -----------------------------------------------------------


def test_when_parts_fail_then_the_score_is_proportional_to_their_weights(capsys):
    grader = checks.Grader("Question", points=3)
    with grader.part("a", weight=1):
        assert_close(1.0, 1.0, what="a")
    with grader.part("b", weight=2):
        assert_close(2.0, 1.0, what="b")
    score = grader.result()
    assert score == 1.0 and type(score) is float
    assert "✘ b" in capsys.readouterr().out


def test_when_a_required_part_fails_then_the_question_scores_zero(capsys):
    grader = checks.Grader("Question", points=2)
    with grader.require("utilise le ruban"):
        raise Diagnostic("pas de ruban")
    with grader.part("valeurs"):
        pass
    assert grader.result() == 0.0
    assert "condition non remplie" in capsys.readouterr().out


def test_when_every_part_passes_then_full_points_and_a_success_line(capsys):
    grader = checks.Grader("Question", points=2)
    with grader.part("valeurs"):
        pass
    assert grader.result() == 2.0
    assert "tous les tests sont réussis" in capsys.readouterr().out


def test_when_a_part_raises_an_unexpected_error_then_only_that_part_fails():
    grader = checks.Grader("Question", points=2)
    with grader.part("a"):
        raise KeyError("x")
    with grader.part("b"):
        pass
    assert grader.result() == 1.0


def test_when_a_variable_is_named_grad_then_the_tape_check_still_passes():
    checks.assert_uses_tape(make(
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n"
        "    grad = tape.gradient(y, x)\n    return grad\n"
    ), 3.0)


def test_when_an_intermediate_result_is_the_source_then_it_is_not_called_a_constant():
    source = (
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n        z = y * 3\n"
        "    return tape.gradient(z, y)\n"
    )
    assert not any("n'est pas une `tf.Variable`" in c for c in checks.none_causes(source))
