"""The check library turns wrong answers into precise French diagnostics."""

from __future__ import annotations

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


def make(source: str):
    namespace: dict = {}
    exec(compile(source, "<student>", "exec"), namespace)
    function = next(v for k, v in namespace.items() if callable(v) and not k.startswith("__"))
    function.__source__ = source
    return function


def test_when_the_tape_is_used_then_the_tape_check_passes():
    checks.assert_uses_tape(make(
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n    return tape.gradient(y, x)\n"
    ))


@pytest.mark.parametrize("source", [
    "def f(x):\n    return 2 * x\n",
    "def f(x):\n    h = 1e-5\n    return ((x + h)**2 - (x - h)**2) / (2 * h)\n",
    "def f(x):\n    with tf.GradientTape() as tape:\n        pass\n    return 2 * x\n",
], ids=["formule", "différences finies", "ruban sans gradient"])
def test_when_the_derivative_is_not_computed_by_the_tape_then_it_is_rejected(source):
    with pytest.raises(Diagnostic, match="tf.GradientTape"):
        checks.assert_uses_tape(make(source))


def test_when_another_autodiff_tool_is_used_then_it_is_named():
    source = (
        "def f(x):\n    with tf.GradientTape() as tape:\n        pass\n"
        "    return tf.test.compute_gradient(lambda v: v**2, [x])\n"
    )
    with pytest.raises(Diagnostic, match="compute_gradient"):
        checks.assert_uses_tape(make(source))


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
    ))


def test_when_an_intermediate_result_is_the_source_then_it_is_not_called_a_constant():
    source = (
        "def f(x):\n    x = tf.Variable(x)\n    with tf.GradientTape() as tape:\n        y = x**2\n        z = y * 3\n"
        "    return tape.gradient(z, y)\n"
    )
    assert not any("n'est pas une `tf.Variable`" in c for c in checks.none_causes(source))
