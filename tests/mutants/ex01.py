"""Mutants of ex01_premiers-pas."""

from . import Mutant

MUTANTS = [
    # gradient_affine
    Mutant("gradient_affine", "signe inversé", "signe est inversé",
           old="return tape.gradient(y, x)", new="return -tape.gradient(y, x)"),
    Mutant("gradient_affine", "constante non surveillée", "que le ruban ne surveille pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.constant(x, dtype=tf.float32)"),
    Mutant("gradient_affine", "réponse écrite en dur", "tf.GradientTape", source='''
def gradient_affine(a, b, x):
    return tf.ones_like(tf.constant(x, dtype=tf.float32)) * 2.0
'''),
    Mutant("gradient_affine", "formule sans ruban", "tf.GradientTape", source='''
def gradient_affine(a, b, x):
    return np.full(np.shape(x), a)
'''),
    Mutant("gradient_affine", "somme au lieu d'une dérivée par élément", "somme des dérivées",
           old="return tape.gradient(y, x)", new="return tf.reduce_sum(tape.gradient(y, x))"),
    Mutant("gradient_affine", "dérivée par rapport à b", "`None`",
           old="y = a * x + b", new="y = a * tf.constant(x) + b"),
    # carre_et_derivee
    Mutant("carre_et_derivee", "facteur 2 en trop", "multipliée",
           old="return y, tape.gradient(y, x)", new="return y, 2 * tape.gradient(y, x)"),
    Mutant("carre_et_derivee", "une seule valeur renvoyée", "couple",
           old="return y, tape.gradient(y, x)", new="return tape.gradient(y, x)"),
    Mutant("carre_et_derivee", "calcul hors du ruban", "en dehors du bloc",
           old="    with tf.GradientTape() as tape:\n        y = x**2\n", new="    y = x**2\n    with tf.GradientTape() as tape:\n        pass\n"),
    Mutant("carre_et_derivee", "couple inversé", "incorrecte",
           old="return y, tape.gradient(y, x)", new="return tape.gradient(y, x), y"),
    Mutant("carre_et_derivee", "dérivée de x au lieu de x²", "incorrecte",
           old="return y, tape.gradient(y, x)", new="return y, tape.gradient(x, x)"),
    # derivee_en
    Mutant("derivee_en", "dérivée écrite à la main, terme oublié", "tf.GradientTape", source='''
def derivee_en(a, b, x0):
    return float(a * np.cos(a * x0) * np.exp(b * x0))
'''),
    Mutant("derivee_en", "différences finies", "tf.GradientTape", source='''
def derivee_en(a, b, x0):
    f = lambda x: np.sin(a * x) * np.exp(b * x)
    h = 1e-5
    return (f(x0 + h) - f(x0 - h)) / (2 * h)
'''),
    Mutant("derivee_en", "NumPy dans le ruban", "NumPy",
           old="y = tf.sin(a * x) * tf.exp(b * x)", new="y = np.sin(a * x.numpy()) * np.exp(b * x.numpy())"),
    Mutant("derivee_en", "signe inversé dans le sinus", "signe est inversé",
           old="y = tf.sin(a * x) * tf.exp(b * x)", new="y = tf.sin(-a * x) * tf.exp(b * x)"),
    Mutant("derivee_en", "exponentielle oubliée", "incorrecte",
           old="y = tf.sin(a * x) * tf.exp(b * x)", new="y = tf.sin(a * x)"),
    Mutant("derivee_en", "variable entière", "entiers",
           old="x = tf.Variable(x0, dtype=tf.float32)", new="x = tf.Variable(int(x0))"),
    # derivee_cube
    Mutant("derivee_cube", "bogue non corrigé", "que le ruban ne surveille pas", source='''
def derivee_cube(x0):
    x = tf.zeros(()) + x0
    with tf.GradientTape() as tape:
        y = x**3
    return tape.gradient(y, x)
'''),
    Mutant("derivee_cube", "dérivée de x au lieu de x³", "incorrecte",
           old="return tape.gradient(y, x)", new="return tape.gradient(x, x)"),
    Mutant("derivee_cube", "réponse écrite en dur", "tf.GradientTape", source='''
def derivee_cube(x0):
    return 12.0
'''),
]
