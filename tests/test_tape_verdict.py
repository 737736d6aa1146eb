"""The tape check gives the same verdict in a student's kernel and at grading.

For every assignment that asks for a derivative, two answers are graded both ways:
in this process, as in a student's kernel (tests/nbrun.py), and through the real
grading path (the sandboxed student process and the separate test process,
``tester.run_cells``). A correct answer whose tape sits in a helper, a lambda, a
method or behind a variable named ``grad`` keeps all its points; a formula written
by hand beside a dead or unused tape block scores 0 with the French explanation.
"""

from __future__ import annotations

import json

import nbformat
import pytest

from autograder.execution.execute import run_sandboxed
from autograder.execution.student_process import RunParameters
from autograder.course import REPO_ROOT
from coursetools.demo import strip_solution_markers
from autograder.execution.preprocessor import cell_roles

from .nbrun import run_assignment
from .test_mutations import ASSIGNMENTS, assignment_of

STUDENT = "dominique"
NOT_FROM_TAPE = "ne vient d'aucune dérivée calculée par le ruban pendant l'appel"
NOTHING_RAN = "n'a été exécuté pendant cet appel"

# prefix -> list of (answer grade_id, answer source, expected: "full" or the French reason of a 0)
CASES: dict[str, list[tuple[str, str, str]]] = {
    "ex01": [
        ("gradient_affine", '''
def derive(f, x):
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def gradient_affine(a, b, x):
    return derive(lambda v: a * v + b, tf.Variable(x, dtype=tf.float32))
''', "full"),
        ("derivee_cube", '''
def derivee_cube(x0):
    if False:
        with tf.GradientTape() as tape:
            y = x0**3
        return tape.gradient(y, x0)
    return 3 * x0**2
''', NOTHING_RAN),
    ],
    "ex02": [
        ("gradient_deux_variables", '''
class Derivateur:
    def __init__(self, f):
        self.f = f

    def gradients(self, *values):
        variables = [tf.Variable(v, dtype=tf.float32) for v in values]
        with tf.GradientTape() as tape:
            z = self.f(*variables)
        return tape.gradient(z, variables)


def gradient_deux_variables(x, y):
    dz_dx, dz_dy = Derivateur(lambda x, y: tf.reduce_sum(x**2 * y + 3 * y)).gradients(x, y)
    return dz_dx, dz_dy
''', "full"),
        ("gradient_forme_quadratique", '''
def gradient_forme_quadratique(A, x):
    A = tf.constant(A, dtype=tf.float32)
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = tf.reduce_sum(x * tf.linalg.matvec(A, x))
    tape.gradient(f, x)
    return tf.linalg.matvec(A + tf.transpose(A), x)
''', NOT_FROM_TAPE),
    ],
    "ex03": [
        ("derivee_swish", '''
def derivee_swish(a, xs):
    xs = tf.Variable(xs, dtype=tf.float32)
    with tf.GradientTape() as tape:
        ys = xs * tf.sigmoid(a * xs)
    grad = tape.gradient
    return grad(ys, xs)
''', "full"),
        ("derivees_sorties", '''
def derivees_sorties(x0):
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y = tf.stack([x**2, x**3, 1 / x])
    jacobian = tape.jacobian(y, x)
    return tf.stack([2 * x, 3 * x**2, -1 / x**2]) + 0 * jacobian
''', NOT_FROM_TAPE),
    ],
    "ex04": [
        ("gradients_produit", '''
def gradients_produit(a0, b0):
    a = tf.Variable(a0, dtype=tf.float32)
    b = tf.Variable(b0, dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = a**2 * tf.sin(b)
    grad = tape.gradient(f, {"a": a, "b": b})
    return grad["a"].numpy(), grad["b"] * 1.0
''', "full"),
        ("gradient_detache", '''
def gradient_detache(x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        z = tf.stop_gradient(x**2) * x
    tape.gradient(z, x)
    return z, x**2
''', NOT_FROM_TAPE),
    ],
    "ex05": [
        ("descente", '''
class Descente:
    def __init__(self, c):
        self.c = tf.constant(c, dtype=tf.float32)

    def pas(self, w, lr):
        with tf.GradientTape() as tape:
            perte = tf.reduce_sum((w - self.c) ** 2)
        w.assign_sub(lr * tape.gradient(perte, w))


def descente(w0, c, lr, n):
    w = tf.Variable(w0, dtype=tf.float32)
    methode = Descente(c)
    for _ in range(n):
        methode.pas(w, lr)
    return w
''', "full"),
        ("gradient_lse", '''
def gradient_lse(x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.math.reduce_logsumexp(x)
    tape.gradient(y, x)
    return tf.nn.softmax(x)
''', NOT_FROM_TAPE),
    ],
    "ex06": [
        ("derivee_seconde", '''
def derivee(f, x):
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def derivee_seconde(coefs, x0):
    c0, c1, c2, c3 = coefs
    x = tf.Variable(x0, dtype=tf.float32)
    return derivee(lambda v: derivee(lambda u: c0 + c1 * u + c2 * u**2 + c3 * u**3, v), x)
''', "full"),
        ("jacobienne", '''
def jacobienne(A, x):
    A = tf.constant(A, dtype=tf.float32)
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.tanh(tf.linalg.matvec(A, x))
    tape.jacobian(y, x)
    return (1 - y[:, None] ** 2) * A
''', NOT_FROM_TAPE),
    ],
    "ex07": [
        ("pas_de_descente", '''
def gradients(perte, variables):
    with tf.GradientTape() as tape:
        valeur = perte()
    return tape.gradient(valeur, variables)


def pas_de_descente(X, y, W, b, lr):
    W = tf.Variable(W, dtype=tf.float32)
    b = tf.Variable(b, dtype=tf.float32)
    grad = gradients(lambda: tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y)), [W, b])
    W.assign_sub(lr * grad[0])
    b.assign_sub(lr * grad[1])
    return W.numpy(), b.numpy()
''', "full"),
        ("gradients_mse", '''
def gradients_mse(X, y, W, b):
    W = tf.Variable(W, dtype=tf.float32)
    b = tf.Variable(b, dtype=tf.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y))
    tape.gradient(loss, [W, b])
    r = tf.matmul(X, W) + b - y
    n = tf.cast(tf.size(r), tf.float32)
    return 2 * tf.matmul(X, r, transpose_a=True) / n, 2 * tf.reduce_sum(r, axis=0) / n
''', NOT_FROM_TAPE),
    ],
    "ex08": [
        ("ecart_ruban_differences", '''
def gradient_par_ruban(f, x):
    with tf.GradientTape() as tape:
        y = f(x)
    return tape.gradient(y, x)


def ecart_ruban_differences(a, x, h):
    f = lambda v: tf.reduce_sum(tf.sin(a * v)) * tf.reduce_sum(v**2)
    x = tf.Variable(x, dtype=tf.float64)
    g = gradient_par_ruban(f, x)
    n = x.shape[0]
    steps = [h * tf.one_hot(i, n, dtype=tf.float64) for i in range(n)]
    d = tf.stack([(f(x + s) - f(x - s)) / (2 * h) for s in steps])
    return float(tf.reduce_max(tf.abs(g - d)))
''', "full"),
        ("ecart_ruban_differences", '''
def ecart_ruban_differences(a, x, h):
    x = tf.constant(x, dtype=tf.float64)
    f = lambda v: tf.reduce_sum(tf.sin(a * v)) * tf.reduce_sum(v**2)
    if x.shape[0] < 0:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        g = tape.gradient(y, x)
    g = a * tf.cos(a * x) * tf.reduce_sum(x**2) + 2 * tf.reduce_sum(tf.sin(a * x)) * x
    n = x.shape[0]
    steps = [h * tf.one_hot(i, n, dtype=tf.float64) for i in range(n)]
    d = tf.stack([(f(x + s) - f(x - s)) / (2 * h) for s in steps])
    return float(tf.reduce_max(tf.abs(g - d)))
''', NOTHING_RAN),
    ],
    "ex09": [
        ("gradient_h", '''
def derivees(f, *values):
    variables = [tf.Variable(v, dtype=tf.float32) for v in values]
    with tf.GradientTape() as tape:
        p = f(*variables)
    return [g if g is not None else 0.0 for g in tape.gradient(p, variables)]


def gradient_h(x0, y0, z0, n):
    return derivees(lambda x, y, z: h(x, y, z, n), x0, y0, z0)
''', "full"),
        ("gradient_h", '''
def gradient_h(x0, y0, z0, n):
    x = tf.Variable(x0, dtype=tf.float32)
    with tf.GradientTape() as tape:
        p = h(x, tf.constant(y0), tf.constant(z0), n)
    tape.gradient(p, x)
    if x0 > 0:
        return [n * x0 ** (n - 1) * y0**n, n * x0**n * y0 ** (n - 1), 0.0]
    u = x0 + np.sin(z0)
    return [n * u ** (n - 1), 0.0, n * u ** (n - 1) * np.cos(z0)]
''', NOT_FROM_TAPE),
    ],
    "ex10": [
        ("derivee_directionnelle", '''
def directionnelle(f, x, v):
    with tf.autodiff.ForwardAccumulator(primals=x, tangents=v) as acc:
        y = f(x)
    return acc.jvp(y)


def derivee_directionnelle(A, x, v):
    A = tf.constant(A, dtype=tf.float32)
    return directionnelle(lambda u: tf.nn.softplus(tf.linalg.matvec(A, u)), tf.constant(x), tf.constant(v))
''', "full"),
        ("jacobiennes_reseau", '''
def jacobiennes_reseau(W1, W2, X):
    X = tf.constant(X, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(X)
        Y = tf.matmul(tf.tanh(tf.matmul(X, W1)), W2)
    tape.batch_jacobian(Y, X)
    d = 1 - tf.tanh(tf.matmul(X, W1)) ** 2
    return tf.einsum("hm,bh,nh->bmn", W2, d, W1)
''', NOT_FROM_TAPE),
    ],
}

# Assignments whose two cases answer the same question: each case is graded in a run of its own.
ONE_QUESTION = {"ex08", "ex09"}
RUNS = [
    (prefix, [case] if prefix in ONE_QUESTION else cases)
    for prefix, cases in CASES.items()
    for case in (cases if prefix in ONE_QUESTION else cases[:1])
]


def notebook_path(prefix: str):
    assignment = assignment_of(prefix)
    (name,) = ASSIGNMENTS[assignment].notebooks
    return REPO_ROOT / "source" / assignment / name


def graded_in_the_sandbox(prefix: str, answers: dict[str, str]) -> dict[str, tuple[float, str]]:
    """Score and output of each test cell, through the grader's two processes."""
    notebook = nbformat.read(notebook_path(prefix), as_version=4)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            cell.source = answers.get(meta["grade_id"], strip_solution_markers(cell.source))
    # As at grading: a test process forked from the warm server (a clean process that has imported
    # TensorFlow but run no op) forks the student's sandboxed process before it reads the cells.
    execution = run_sandboxed(json.dumps(cell_roles(notebook)), STUDENT, RunParameters(cell_timeout=120), 900)
    assert not execution.infrastructure and execution.outputs is not None, execution.failure
    outputs = execution.outputs
    graded = {}
    for cell, cell_outputs in zip(notebook.cells, outputs):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            text = "".join(o.get("text", "") for o in cell_outputs if o["output_type"] == "stream")
            results = [o for o in cell_outputs if o["output_type"] == "execute_result"]
            errors = [o for o in cell_outputs if o["output_type"] == "error"]
            score = 0.0 if errors else float(results[0]["data"]["text/plain"]) if results else float(meta["points"])
            graded[meta["grade_id"]] = (score, text + "".join(e["evalue"] for e in errors))
    return graded


def expectations_hold(graded: dict[str, tuple[float, str]], cases, points: dict[str, float]) -> None:
    for answer, _, expected in cases:
        score, output = graded[f"test_{answer}"]
        if expected == "full":
            assert score == points[answer], f"{answer} : des points perdus\n{output}"
        else:
            assert score == 0.0, f"{answer} : la formule écrite à la main garde des points\n{output}"
            assert expected in output, f"{answer} : explication attendue « {expected} »\n{output}"


def points_of(prefix: str) -> dict[str, float]:
    notebook = nbformat.read(notebook_path(prefix), as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"][len("test_"):]: float(c.metadata["nbgrader"]["points"])
        for c in notebook.cells
        if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution")
    }


@pytest.mark.parametrize("prefix,cases", RUNS, ids=[f"{p}-" + "+".join(a for a, _, _ in c) for p, c in RUNS])
def test_when_graded_in_the_kernel_then_only_answers_computed_by_the_tape_keep_their_points(prefix, cases):
    outcomes = run_assignment(notebook_path(prefix), STUDENT, {answer: source for answer, source, _ in cases})
    graded = {k: (o.score, o.output) for k, o in outcomes.items()}
    expectations_hold(graded, cases, points_of(prefix))


@pytest.mark.parametrize("prefix,cases", RUNS, ids=[f"{p}-" + "+".join(a for a, _, _ in c) for p, c in RUNS])
def test_when_graded_in_the_sandbox_then_the_verdict_is_the_kernels(prefix, cases):
    answers = {answer: source for answer, source, _ in cases}
    graded = graded_in_the_sandbox(prefix, answers)
    expectations_hold(graded, cases, points_of(prefix))
    kernel = run_assignment(notebook_path(prefix), STUDENT, answers)
    assert {k: s for k, (s, _) in graded.items()} == {k: o.score for k, o in kernel.items()}


#: Every test here grades end to end in the sandbox (select with -m e2e, or -m sandbox).
pytestmark = [pytest.mark.e2e, pytest.mark.sandbox]
