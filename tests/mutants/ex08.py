"""Mutants of ex08_gradients-personnalises."""

from . import Mutant

STABLE_VALUE = "value = tf.maximum(x, 0.0) + tf.math.log1p(tf.exp(-tf.abs(x)))"
SIGMOID_GRAD = "return upstream * tf.sigmoid(x)"
CLIP = "return tf.clip_by_norm(upstream, seuil)"
TANH_GRAD = "return upstream * (1 - t**2)"
CENTRAL = "return (p(x0 + h) - p(x0 - h)) / (2 * h)"
PARTIAL = "partials.append((f(x + step) - f(x - step)) / (2 * h))"
GAP = "return float(tf.reduce_max(tf.abs(from_tape - tf.stack(partials))))"

MUTANTS = [
    # log1pexp_stable
    Mutant("log1pexp_stable", "valeur naïve, qui déborde", "valeur infinie",
           old=STABLE_VALUE, new="value = tf.math.log(1 + tf.exp(x))"),
    Mutant("log1pexp_stable", "gradient naïf e^x / (1 + e^x)", "NaN",
           old=SIGMOID_GRAD, new="return upstream * tf.exp(x) / (1 + tf.exp(x))"),
    Mutant("log1pexp_stable", "gradient amont oublié", "gradient amont est ignoré",
           old=SIGMOID_GRAD, new="return tf.sigmoid(x)"),
    Mutant("log1pexp_stable", "signe inversé", "signe est inversé",
           old=SIGMOID_GRAD, new="return -upstream * tf.sigmoid(x)"),
    Mutant("log1pexp_stable", "sigmoïde de -x", "incorrecte",
           old=SIGMOID_GRAD, new="return upstream * tf.sigmoid(-x)"),
    Mutant("log1pexp_stable", "terme log1p oublié dans la valeur", "incorrecte",
           old=STABLE_VALUE, new="value = tf.maximum(x, 0.0)"),
    Mutant("log1pexp_stable", "grad renvoie une somme", "somme des dérivées",
           old=SIGMOID_GRAD, new="return tf.reduce_sum(upstream * tf.sigmoid(x))"),
    Mutant("log1pexp_stable", "pas de gradient personnalisé (tf.math.softplus)", "@tf.custom_gradient", source='''
def log1pexp_stable(x):
    return tf.math.softplus(x)
'''),
    # identite_ecretee
    Mutant("identite_ecretee", "la valeur est écrêtée au lieu du gradient", "la passe avant doit être l'identité",
           old="return tf.identity(y), backward", new="return tf.clip_by_norm(y, seuil), backward"),
    Mutant("identite_ecretee", "écrêtage élément par élément", "tf.clip_by_value",
           old=CLIP, new="return tf.clip_by_value(upstream, -seuil, seuil)"),
    Mutant("identite_ecretee", "gradient non écrêté", "n'est pas écrêté",
           old=CLIP, new="return upstream"),
    Mutant("identite_ecretee", "gradient toujours ramené à la norme seuil", "plus court",
           old=CLIP, new="return seuil * upstream / tf.norm(upstream)"),
    Mutant("identite_ecretee", "seuil de la leçon écrit en dur", "facteur",
           old=CLIP, new="return tf.clip_by_norm(upstream, 0.5)"),
    Mutant("identite_ecretee", "fonction décorée à deux arguments, un seul gradient", "un gradient par argument", source='''
def identite_ecretee(x, seuil):
    @tf.custom_gradient
    def clipped_identity(y, threshold):
        def backward(upstream):
            return tf.clip_by_norm(upstream, threshold)

        return tf.identity(y), backward

    return clipped_identity(x, seuil)
'''),
    Mutant("identite_ecretee", "pas de gradient personnalisé", "@tf.custom_gradient", source='''
def identite_ecretee(x, seuil):
    return tf.identity(x)
'''),
    # tangente_hyperbolique
    Mutant("tangente_hyperbolique", "bogue non corrigé (gradient amont oublié)", "gradient amont est ignoré",
           old=TANH_GRAD, new="return 1 - t**2"),
    Mutant("tangente_hyperbolique", "grad renvoie une somme", "somme des dérivées",
           old=TANH_GRAD, new="return tf.reduce_sum(upstream * (1 - t**2))"),
    Mutant("tangente_hyperbolique", "somme au lieu d'un produit", "incorrecte",
           old=TANH_GRAD, new="return upstream + (1 - t**2)"),
    Mutant("tangente_hyperbolique", "signe inversé", "signe est inversé",
           old=TANH_GRAD, new="return upstream * (t**2 - 1)"),
    Mutant("tangente_hyperbolique", "dérivée fausse (1 - t)", "incorrecte",
           old=TANH_GRAD, new="return upstream * (1 - t)"),
    Mutant("tangente_hyperbolique", "pas de gradient personnalisé", "@tf.custom_gradient", source='''
def tangente_hyperbolique(x):
    return tf.tanh(x)
'''),
    # grad_numerique
    Mutant("grad_numerique", "dérivée exacte au lieu de la différence finie", "dérivée exacte", source='''
def grad_numerique(coefficients, x0, h):
    derivative = np.polynomial.polynomial.polyder(np.asarray(coefficients, dtype=np.float64))
    return np.polynomial.polynomial.polyval(np.asarray(x0, dtype=np.float64), derivative)
'''),
    Mutant("grad_numerique", "dérivée exacte par le ruban", "dérivée exacte", source='''
def grad_numerique(coefficients, x0, h):
    x = tf.Variable(x0, dtype=tf.float64)
    with tf.GradientTape() as tape:
        y = sum(c * x**k for k, c in enumerate(coefficients))
    return tape.gradient(y, x)
'''),
    Mutant("grad_numerique", "différence décentrée", "décentrée",
           old=CENTRAL, new="return (p(x0 + h) - p(x0)) / h"),
    Mutant("grad_numerique", "division par h au lieu de 2h", "deux fois trop grand",
           old=CENTRAL, new="return (p(x0 + h) - p(x0 - h)) / h"),
    Mutant("grad_numerique", "calcul en float32", "float64",
           old="x0 = np.asarray(x0, dtype=np.float64)",
           new="x0 = np.asarray(x0, dtype=np.float32)\n    coefficients = coefficients.astype(np.float32)\n    h = np.float32(h)"),
    Mutant("grad_numerique", "coefficients dans l'ordre de np.polyval", "ordre inverse",
           old="return np.polynomial.polynomial.polyval(x, coefficients)", new="return np.polyval(coefficients, x)"),
    Mutant("grad_numerique", "somme sur les éléments de x0", "somme",
           old=CENTRAL, new="return np.sum((p(x0 + h) - p(x0 - h)) / (2 * h))"),
    Mutant("grad_numerique", "réponse écrite en dur", "incorrecte", source='''
def grad_numerique(coefficients, x0, h):
    return 12.01
'''),
    # ecart_ruban_differences
    Mutant("ecart_ruban_differences", "différence décentrée", "décentrée",
           old=PARTIAL, new="partials.append((f(x + step) - f(x)) / h)"),
    Mutant("ecart_ruban_differences", "calcul en float32", "float64", source='''
def ecart_ruban_differences(a, x, h):
    def f(v):
        return tf.reduce_sum(tf.sin(a * v)) * tf.reduce_sum(v**2)

    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = f(x)
    from_tape = tape.gradient(y, x)
    n = x.shape[0]
    partials = []
    for i in range(n):
        step = h * tf.one_hot(i, n, dtype=tf.float32)
        partials.append((f(x + step) - f(x - step)) / (2 * h))
    return float(tf.reduce_max(tf.abs(from_tape - tf.stack(partials))))
'''),
    Mutant("ecart_ruban_differences", "toutes les coordonnées déplacées à la fois", "une coordonnée à la fois",
           old=PARTIAL, new="partials.append((f(x + h) - f(x - h)) / (2 * h))"),
    Mutant("ecart_ruban_differences", "moyenne au lieu du maximum", "moyenne",
           old=GAP, new="return float(tf.reduce_mean(tf.abs(from_tape - tf.stack(partials))))"),
    Mutant("ecart_ruban_differences", "valeur absolue oubliée", "valeurs absolues",
           old=GAP, new="return float(tf.reduce_max(from_tape - tf.stack(partials)))"),
    Mutant("ecart_ruban_differences", "vecteur des écarts renvoyé", "un seul nombre",
           old=GAP, new="return tf.abs(from_tape - tf.stack(partials))"),
    Mutant("ecart_ruban_differences", "gradient écrit à la main, sans ruban", "tf.GradientTape", source='''
def ecart_ruban_differences(a, x, h):
    x = np.asarray(x, dtype=np.float64)
    f = lambda v: np.sum(np.sin(a * v)) * np.sum(v**2)
    gradient = a * np.cos(a * x) * np.sum(x**2) + 2 * np.sum(np.sin(a * x)) * x
    steps = h * np.eye(x.size)
    partials = np.array([(f(x + s) - f(x - s)) / (2 * h) for s in steps])
    return float(np.max(np.abs(gradient - partials)))
'''),
]
