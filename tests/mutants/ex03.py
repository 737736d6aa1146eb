"""Mutants of ex03_cibles-non-scalaires."""

from . import Mutant

MUTANTS = [
    # gradients_couche
    Mutant("gradients_couche", "moyenne au lieu de la cible elle-même", "même facteur",
           old="y = tf.matmul(x, W) + b", new="y = tf.reduce_mean(tf.matmul(x, W) + b)"),
    Mutant("gradients_couche", "biais constant, non surveillé", "que le ruban ne surveille pas",
           old="b = tf.Variable(b, dtype=tf.float32)", new="b = tf.constant(b, dtype=tf.float32)"),
    Mutant("gradients_couche", "couple inversé", "forme attendue",
           old="return dW, db", new="return db, dW"),
    Mutant("gradients_couche", "gradient par rapport à x au lieu de W", "forme attendue",
           old="""    x = tf.constant(x, dtype=tf.float32)
    W = tf.Variable(W, dtype=tf.float32)
    b = tf.Variable(b, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.matmul(x, W) + b
    dW, db = tape.gradient(y, [W, b])""",
           new="""    x = tf.Variable(x, dtype=tf.float32)
    W = tf.Variable(W, dtype=tf.float32)
    b = tf.Variable(b, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.matmul(x, W) + b
    dW, db = tape.gradient(y, [x, b])"""),
    Mutant("gradients_couche", "dW transposé", "transposé",
           old="return dW, db", new="return tf.transpose(dW), db"),
    Mutant("gradients_couche", "une seule ligne du lot", "facteur",
           old="y = tf.matmul(x, W) + b", new="y = (tf.matmul(x, W) + b)[0]"),
    Mutant("gradients_couche", "formule sans ruban", "tf.GradientTape", source='''
def gradients_couche(x, W, b):
    x = np.asarray(x, dtype=np.float32)
    m = np.shape(b)[0]
    return x.T @ np.ones((x.shape[0], m)), np.full(m, float(x.shape[0]))
'''),
    # derivee_swish
    Mutant("derivee_swish", "somme au lieu d'une dérivée par point", "somme des dérivées",
           old="return tape.gradient(ys, xs)", new="return tf.reduce_sum(tape.gradient(ys, xs))"),
    Mutant("derivee_swish", "moyenne des sorties comme cible", "même facteur",
           old="ys = xs * tf.sigmoid(a * xs)", new="ys = tf.reduce_mean(xs * tf.sigmoid(a * xs))"),
    Mutant("derivee_swish", "une boucle sur les points", "dans une boucle", source='''
def derivee_swish(a, xs):
    result = []
    for x0 in xs:
        x = tf.Variable(x0, dtype=tf.float32)
        with tf.GradientTape() as tape:
            y = x * tf.sigmoid(a * x)
        result.append(tape.gradient(y, x))
    return tf.stack(result)
'''),
    Mutant("derivee_swish", "une compréhension de liste sur les points (ruban persistant)", "dans une boucle", source='''
def derivee_swish(a, xs):
    xs = tf.Variable(xs, dtype=tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        ys = [xs[i] * tf.sigmoid(a * xs[i]) for i in range(xs.shape[0])]
    return tf.stack([tape.gradient(y, xs)[i] for i, y in enumerate(ys)])
'''),
    Mutant("derivee_swish", "facteur x oublié", "incorrecte",
           old="ys = xs * tf.sigmoid(a * xs)", new="ys = tf.sigmoid(a * xs)"),
    Mutant("derivee_swish", "paramètre a oublié", "incorrecte",
           old="ys = xs * tf.sigmoid(a * xs)", new="ys = xs * tf.sigmoid(xs)"),
    Mutant("derivee_swish", "points constants, non surveillés", "que le ruban ne surveille pas",
           old="xs = tf.Variable(xs, dtype=tf.float32)", new="xs = tf.constant(xs, dtype=tf.float32)"),
    Mutant("derivee_swish", "formule sans ruban", "tf.GradientTape", source='''
def derivee_swish(a, xs):
    xs = np.asarray(xs, dtype=np.float64)
    s = 1 / (1 + np.exp(-a * xs))
    return s + a * xs * s * (1 - s)
'''),
    # produit_vecteur_jacobienne
    Mutant("produit_vecteur_jacobienne", "output_gradients oublié", "output_gradients",
           old="return tape.gradient(y, x, output_gradients=v)", new="return tape.gradient(y, x)"),
    Mutant("produit_vecteur_jacobienne", "jacobienne complète au lieu d'output_gradients", "output_gradients",
           old="return tape.gradient(y, x, output_gradients=v)",
           new="return tf.linalg.matvec(tape.jacobian(y, x), v, transpose_a=True)"),
    Mutant("produit_vecteur_jacobienne", "tanh oubliée", "facteur",
           old="y = tf.tanh(tf.linalg.matvec(A, x))", new="y = tf.linalg.matvec(A, x)"),
    Mutant("produit_vecteur_jacobienne", "x constant, non surveillé", "que le ruban ne surveille pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.constant(x, dtype=tf.float32)"),
    Mutant("produit_vecteur_jacobienne", "signe inversé", "signe est inversé",
           old="return tape.gradient(y, x, output_gradients=v)", new="return -tape.gradient(y, x, output_gradients=v)"),
    Mutant("produit_vecteur_jacobienne", "formule sans ruban", "tf.GradientTape", source='''
def produit_vecteur_jacobienne(A, x, v):
    A = np.asarray(A)
    return A.T @ (np.asarray(v) * (1 - np.tanh(A @ np.asarray(x)) ** 2))
'''),
    # jacobienne_poids
    Mutant("jacobienne_poids", "gradient au lieu de la jacobienne", "forme attendue",
           old="return tape.jacobian(y, W)", new="return tape.gradient(y, W)"),
    Mutant("jacobienne_poids", "jacobienne par rapport à x", "forme attendue",
           old="""    x = tf.constant(x, dtype=tf.float32)
    W = tf.Variable(W, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.sigmoid(tf.linalg.matvec(W, x, transpose_a=True))
    return tape.jacobian(y, W)""",
           new="""    x = tf.Variable(x, dtype=tf.float32)
    W = tf.constant(W, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = tf.sigmoid(tf.linalg.matvec(W, x, transpose_a=True))
    return tape.jacobian(y, x)"""),
    Mutant("jacobienne_poids", "W constant, non surveillé", "que le ruban ne surveille pas",
           old="W = tf.Variable(W, dtype=tf.float32)", new="W = tf.constant(W, dtype=tf.float32)"),
    Mutant("jacobienne_poids", "sigmoïde oubliée", "incorrecte",
           old="y = tf.sigmoid(tf.linalg.matvec(W, x, transpose_a=True))", new="y = tf.linalg.matvec(W, x, transpose_a=True)"),
    Mutant("jacobienne_poids", "jacobienne sommée sur la cible", "forme attendue",
           old="return tape.jacobian(y, W)", new="return tf.reduce_sum(tape.jacobian(y, W), axis=0)"),
    Mutant("jacobienne_poids", "formule sans ruban", "tf.GradientTape", source='''
def jacobienne_poids(x, W):
    x, W = np.asarray(x), np.asarray(W)
    s = 1 / (1 + np.exp(-(x @ W)))
    m = W.shape[1]
    J = np.zeros((m, x.shape[0], m))
    for j in range(m):
        J[j, :, j] = s[j] * (1 - s[j]) * x
    return J
'''),
    # derivees_sorties
    Mutant("derivees_sorties", "bogue non corrigé", "somme des dérivées", source='''
def derivees_sorties(x0):
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y = tf.stack([x**2, x**3, 1 / x])
    return tape.gradient(y, x)
'''),
    Mutant("derivees_sorties", "liste de cibles (encore une somme)", "somme des dérivées", source='''
def derivees_sorties(x0):
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y = [x**2, x**3, 1 / x]
    return tape.gradient(y, x)
'''),
    Mutant("derivees_sorties", "trois appels sur un ruban non persistant", "ruban non persistant", source='''
def derivees_sorties(x0):
    x = tf.Variable(x0)
    with tf.GradientTape() as tape:
        y0, y1, y2 = x**2, x**3, 1 / x
    return tf.stack([tape.gradient(y0, x), tape.gradient(y1, x), tape.gradient(y2, x)])
'''),
    Mutant("derivees_sorties", "une sortie oubliée", "forme attendue",
           old="y = tf.stack([x**2, x**3, 1 / x])", new="y = tf.stack([x**2, x**3])"),
    Mutant("derivees_sorties", "1/x remplacé par x", "incorrecte",
           old="y = tf.stack([x**2, x**3, 1 / x])", new="y = tf.stack([x**2, x**3, x])"),
    Mutant("derivees_sorties", "réponse écrite à la main", "tf.GradientTape", source='''
def derivees_sorties(x0):
    return [2 * x0, 3 * x0**2, -1 / x0**2]
'''),
]
