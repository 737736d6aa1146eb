"""Mutants of ex05_pourquoi-none."""

from . import Mutant

MUTANTS = [
    # gradient_lse
    Mutant("gradient_lse", "bogue non corrigé", "sort de TensorFlow",
           old="total = tf.reduce_sum(tf.exp(x))", new="total = np.sum(np.exp(x))"),
    Mutant("gradient_lse", "correction à moitié : np.exp reste", "np.exp",
           old="total = tf.reduce_sum(tf.exp(x))", new="total = tf.reduce_sum(np.exp(x))"),
    Mutant("gradient_lse", "passage par .numpy()", "x.numpy",
           old="total = tf.reduce_sum(tf.exp(x))", new="total = tf.reduce_sum(tf.exp(x.numpy()))"),
    Mutant("gradient_lse", "logarithme oublié", "facteur",
           old="y = tf.math.log(total)", new="y = total"),
    Mutant("gradient_lse", "somme au lieu d'une dérivée par élément", "somme des dérivées",
           old="return tape.gradient(y, x)", new="return tf.reduce_sum(tape.gradient(y, x))"),
    Mutant("gradient_lse", "formule sans ruban", "tf.GradientTape", source='''
def gradient_lse(x):
    return tf.nn.softmax(tf.reshape(tf.constant(x, dtype=tf.float32), [-1]))
'''),
    # derivee_polynome
    Mutant("derivee_polynome", "bogue non corrigé", "entier",
           old="x = tf.Variable(float(x0))", new="x = tf.Variable(x0)"),
    Mutant("derivee_polynome", "conversion dans le ruban", "entier", source='''
def derivee_polynome(coefs, x0):
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        xf = tf.cast(x, tf.float32)
        y = 0.0
        for c in reversed(coefs):
            y = y * xf + c
    return tape.gradient(y, x)
'''),
    Mutant("derivee_polynome", "coefficients dans le mauvais ordre", "la valeur est",
           old="for c in reversed(coefs):", new="for c in coefs:"),
    Mutant("derivee_polynome", "copie flottante faite avant le ruban", "ne surveille pas", source='''
def derivee_polynome(coefs, x0):
    x = tf.Variable(x0)
    xf = tf.cast(x, tf.float32)
    with tf.GradientTape() as tape:
        y = 0.0
        for c in reversed(coefs):
            y = y * xf + c
    return tape.gradient(y, xf)
'''),
    Mutant("derivee_polynome", "formule sans ruban", "tf.GradientTape", source='''
def derivee_polynome(coefs, x0):
    return float(sum(k * c * x0 ** (k - 1) for k, c in enumerate(coefs) if k > 0))
'''),
    # gradients_neurone
    Mutant("gradients_neurone", "bogues non corrigés", "dans le bloc", source='''
def gradients_neurone(w, x):
    w = tf.Variable(w, dtype=tf.float32)
    x = tf.constant(x, dtype=tf.float32)
    z = tf.reduce_sum(w * x)
    with tf.GradientTape() as tape:
        y = tf.tanh(z)
    return tape.gradient(y, [w, x])
'''),
    Mutant("gradients_neurone", "entrée non surveillée", "tape.watch(x)",
           old="        tape.watch(x)\n", new=""),
    Mutant("gradients_neurone", "calcul de z hors du ruban", "dans le bloc", source='''
def gradients_neurone(w, x):
    w = tf.Variable(w, dtype=tf.float32)
    x = tf.constant(x, dtype=tf.float32)
    z = tf.reduce_sum(w * x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.tanh(z)
    return tape.gradient(y, [w, x])
'''),
    Mutant("gradients_neurone", "gradients inversés", "incorrecte",
           old="return tape.gradient(y, [w, x])", new="return tape.gradient(y, [x, w])"),
    Mutant("gradients_neurone", "tanh oublié", "dy_dw",
           old="y = tf.tanh(z)", new="y = z"),
    Mutant("gradients_neurone", "formule sans ruban", "tf.GradientTape", source='''
def gradients_neurone(w, x):
    w, x = np.asarray(w), np.asarray(x)
    s = 1 - np.tanh(np.dot(w, x)) ** 2
    return [s * x, s * w]
'''),
    # gradients_ou_zeros
    Mutant("gradients_ou_zeros", "None remplacés à la main", "unconnected_gradients", source='''
def gradients_ou_zeros(valeurs, utilisees):
    variables = {name: tf.Variable(value, dtype=tf.float32) for name, value in valeurs.items()}
    with tf.GradientTape() as tape:
        perte = tf.add_n([tf.reduce_sum(variables[name] ** 2) for name in utilisees])
    grads = tape.gradient(perte, variables)
    return {name: tf.zeros_like(variables[name]) if g is None else g for name, g in grads.items()}
'''),
    Mutant("gradients_ou_zeros", "option NONE", "UnconnectedGradients.ZERO",
           old="tf.UnconnectedGradients.ZERO", new="tf.UnconnectedGradients.NONE"),
    Mutant("gradients_ou_zeros", "constantes au lieu de variables", "ne contient que des zéros",
           old="tf.Variable(value, dtype=tf.float32)", new="tf.constant(value, dtype=tf.float32)"),
    Mutant("gradients_ou_zeros", "tous les paramètres dans la perte", "n'est pas nul",
           old="for name in utilisees]", new="for name in variables]"),
    Mutant("gradients_ou_zeros", "liste au lieu d'un dictionnaire", "dictionnaire",
           old="return tape.gradient(perte, variables,", new="return tape.gradient(perte, list(variables.values()),"),
    Mutant("gradients_ou_zeros", "perte calculée hors du ruban", "ne contient que des zéros", source='''
def gradients_ou_zeros(valeurs, utilisees):
    variables = {name: tf.Variable(value, dtype=tf.float32) for name, value in valeurs.items()}
    perte = tf.add_n([tf.reduce_sum(variables[name] ** 2) for name in utilisees])
    with tf.GradientTape() as tape:
        perte = perte + 0.0
    return tape.gradient(perte, variables, unconnected_gradients=tf.UnconnectedGradients.ZERO)
'''),
    # descente
    Mutant("descente", "bogue non corrigé", "par un tenseur",
           old="w.assign_sub(lr * gradient)", new="w = w - lr * gradient"),
    Mutant("descente", "nombre renvoyé au lieu de la variable", "au lieu de la variable",
           old="    return w", new="    return w.numpy()"),
    Mutant("descente", "signe inversé dans la mise à jour", "la valeur est",
           old="w.assign_sub(lr * gradient)", new="w.assign_add(lr * gradient)"),
    Mutant("descente", "un pas de trop", "la valeur est",
           old="for step in range(n):", new="for step in range(n + 1):"),
    Mutant("descente", "perte calculée hors du ruban", "valait sans doute", source='''
def descente(w0, c, lr, n):
    w = tf.Variable(w0, dtype=tf.float32)
    c = tf.constant(c, dtype=tf.float32)
    for step in range(n):
        perte = tf.reduce_sum((w - c) ** 2)
        with tf.GradientTape() as tape:
            pass
        gradient = tape.gradient(perte, w)
        w.assign_sub(lr * gradient)
    return w
'''),
    Mutant("descente", "formule fermée sans ruban", "tf.GradientTape", source='''
def descente(w0, c, lr, n):
    w0, c = np.asarray(w0, dtype=np.float32), np.asarray(c, dtype=np.float32)
    return tf.Variable(c + (w0 - c) * (1 - 2 * lr) ** n)
'''),
]
