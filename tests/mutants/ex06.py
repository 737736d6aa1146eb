"""Mutants of ex06_ordre-superieur-jacobiennes."""

from . import Mutant

POLY = "y = c0 + c1 * x + c2 * x**2 + c3 * x**3"
QUAD = "value = 0.5 * tf.tensordot(x, tf.linalg.matvec(A, x), axes=1) + tf.tensordot(c, x, axes=1)"

MUTANTS = [
    # derivee_seconde
    Mutant("derivee_seconde", "bogue non corrigé (gradient intérieur hors du ruban extérieur)", "en dehors du bloc",
           old="        dy_dx = inner_tape.gradient(y, x)\n", new="    dy_dx = inner_tape.gradient(y, x)\n"),
    Mutant("derivee_seconde", "dérivée première au lieu de la seconde", "incorrecte",
           old="return outer_tape.gradient(dy_dx, x)", new="return dy_dx"),
    Mutant("derivee_seconde", "un seul ruban non persistant utilisé deux fois", "non persistant", source=f'''
def derivee_seconde(coefs, x0):
    c0, c1, c2, c3 = coefs
    x = tf.Variable(x0, dtype=tf.float32)
    with tf.GradientTape() as tape:
        {POLY}
        dy_dx = tape.gradient(y, x)
    return tape.gradient(dy_dx, x)
'''),
    Mutant("derivee_seconde", "constante surveillée par le seul ruban intérieur", "les deux rubans surveillent", source=f'''
def derivee_seconde(coefs, x0):
    c0, c1, c2, c3 = coefs
    x = tf.constant(x0, dtype=tf.float32)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            inner_tape.watch(x)
            {POLY}
        dy_dx = inner_tape.gradient(y, x)
    return outer_tape.gradient(dy_dx, x)
'''),
    Mutant("derivee_seconde", "formule écrite à la main", "tf.GradientTape", source='''
def derivee_seconde(coefs, x0):
    return 2 * coefs[2] + 6 * coefs[3] * x0
'''),
    Mutant("derivee_seconde", "terme de degré 3 oublié", "incorrecte",
           old=POLY, new="y = c0 + c1 * x + c2 * x**2"),
    # jacobienne
    Mutant("jacobienne", "gradient au lieu de la jacobienne", "ce que donne `tape.gradient`",
           old="return tape.jacobian(y, x)", new="return tape.gradient(y, x)"),
    Mutant("jacobienne", "jacobienne transposée", "transposé",
           old="return tape.jacobian(y, x)", new="return tf.transpose(tape.jacobian(y, x))"),
    Mutant("jacobienne", "tanh oubliée", "incorrecte",
           old="y = tf.tanh(tf.linalg.matvec(A, x))", new="y = tf.linalg.matvec(A, x)"),
    Mutant("jacobienne", "constante non surveillée", "que le ruban ne surveille pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.constant(x, dtype=tf.float32)"),
    Mutant("jacobienne", "float64 mélangé à float32", "types ne concordent pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.Variable(x, dtype=tf.float64)"),
    Mutant("jacobienne", "formule sans ruban", "tf.GradientTape", source='''
def jacobienne(A, x):
    A, x = np.asarray(A), np.asarray(x)
    return (1 - np.tanh(A @ x) ** 2)[:, None] * A
'''),
    Mutant("jacobienne", "jacobienne par rapport à A", "forme attendue", source='''
def jacobienne(A, x):
    A = tf.Variable(A, dtype=tf.float32)
    x = tf.constant(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.tanh(tf.linalg.matvec(A, x))
    return tape.jacobian(y, A)
'''),
    # jacobiennes_par_exemple
    Mutant("jacobiennes_par_exemple", "jacobienne complète au lieu de batch_jacobian", "jacobienne complète",
           old="return tape.batch_jacobian(Y, X)", new="return tape.jacobian(Y, X)"),
    Mutant("jacobiennes_par_exemple", "gradient au lieu de batch_jacobian", "ce que donne `tape.gradient`",
           old="return tape.batch_jacobian(Y, X)", new="return tape.gradient(Y, X)"),
    Mutant("jacobiennes_par_exemple", "X non surveillé", "tape.watch",
           old="        tape.watch(X)\n", new=""),
    Mutant("jacobiennes_par_exemple", "axes des sorties et des entrées échangés", "échangés",
           old="return tape.batch_jacobian(Y, X)", new="return tf.transpose(tape.batch_jacobian(Y, X), [0, 2, 1])"),
    Mutant("jacobiennes_par_exemple", "tanh oubliée", "incorrecte",
           old="Y = tf.tanh(tf.matmul(X, W) + b)", new="Y = tf.matmul(X, W) + b"),
    Mutant("jacobiennes_par_exemple", "formule sans ruban", "tf.GradientTape", source='''
def jacobiennes_par_exemple(W, b, X):
    Y = np.tanh(np.asarray(X) @ W + b)
    return (1 - Y**2)[:, :, None] * np.asarray(W).T[None]
'''),
    # hessienne
    Mutant("hessienne", "facteur 1/2 oublié", "même facteur",
           old=QUAD, new="value = tf.tensordot(x, tf.linalg.matvec(A, x), axes=1) + tf.tensordot(c, x, axes=1)"),
    Mutant("hessienne", "gradient au lieu de jacobienne pour le ruban extérieur", "ce que donne `tape.gradient`",
           old="return outer_tape.jacobian(grad_f, x)", new="return outer_tape.gradient(grad_f, x)"),
    Mutant("hessienne", "gradient intérieur hors du ruban extérieur", "en dehors du bloc",
           old="        grad_f = inner_tape.gradient(value, x)\n", new="    grad_f = inner_tape.gradient(value, x)\n"),
    Mutant("hessienne", "A renvoyée sans ruban", "tf.GradientTape", source='''
def hessienne(A, c, x):
    return np.asarray(A)
'''),
    Mutant("hessienne", "un seul ruban non persistant utilisé deux fois", "non persistant", source=f'''
def hessienne(A, c, x):
    A = tf.constant(A, dtype=tf.float32)
    c = tf.constant(c, dtype=tf.float32)
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        {QUAD}
        grad_f = tape.gradient(value, x)
    return tape.jacobian(grad_f, x)
'''),
    Mutant("hessienne", "x^T A^T A x au lieu de x^T A x", "incorrecte",
           old="tf.tensordot(x, tf.linalg.matvec(A, x), axes=1)",
           new="tf.tensordot(tf.linalg.matvec(A, x), tf.linalg.matvec(A, x), axes=1)"),
    # produit_jacobienne_vecteur
    Mutant("produit_jacobienne_vecteur", "calcul hors du bloc de l'accumulateur", "dans le bloc",
           old="    with tf.autodiff.ForwardAccumulator(primals=x, tangents=v) as acc:\n        y = tf.sin(tf.linalg.matvec(A, x))\n",
           new="    y = tf.sin(tf.linalg.matvec(A, x))\n    with tf.autodiff.ForwardAccumulator(primals=x, tangents=v) as acc:\n        pass\n"),
    Mutant("produit_jacobienne_vecteur", "direction de signe opposé", "signe est inversé",
           old="tangents=v", new="tangents=-v"),
    Mutant("produit_jacobienne_vecteur", "sinus oublié", "incorrecte",
           old="y = tf.sin(tf.linalg.matvec(A, x))", new="y = tf.linalg.matvec(A, x)"),
    Mutant("produit_jacobienne_vecteur", "mode inverse : jacobienne puis produit", "mode direct", source='''
def produit_jacobienne_vecteur(A, x, v):
    A = tf.constant(A, dtype=tf.float32)
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.sin(tf.linalg.matvec(A, x))
    return tf.linalg.matvec(tape.jacobian(y, x), tf.constant(v, dtype=tf.float32))
'''),
    Mutant("produit_jacobienne_vecteur", "formule écrite à la main", "mode direct", source='''
def produit_jacobienne_vecteur(A, x, v):
    A = np.asarray(A)
    return np.cos(A @ x) * (A @ v)
'''),
    Mutant("produit_jacobienne_vecteur", "direction multipliée par 2", "facteur",
           old="tangents=v", new="tangents=2 * v"),
]
