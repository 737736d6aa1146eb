"""Mutants of ex10_jacobiennes-mode-direct-et-inverse."""

from . import Mutant

MUTANTS = [
    # derivee_directionnelle
    Mutant("derivee_directionnelle", "direction ignorée", "la direction $v$ est ignorée",
           old="tangents=v", new="tangents=tf.ones_like(x)"),
    Mutant("derivee_directionnelle", "signe inversé", "le signe est inversé",
           old="return acc.jvp(y)", new="return -acc.jvp(y)"),
    Mutant("derivee_directionnelle", "sortie calculée hors du bloc", "vaut `None`",
           old="        y = tf.nn.softplus(tf.linalg.matvec(A, x))\n    return acc.jvp(y)",
           new="        pass\n    y = tf.nn.softplus(tf.linalg.matvec(A, x))\n    return acc.jvp(y)"),
    Mutant("derivee_directionnelle", "jacobienne complète au lieu du produit", "tf.autodiff.ForwardAccumulator", source='''
def derivee_directionnelle(A, x, v):
    x = tf.constant(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.softplus(tf.linalg.matvec(tf.constant(A, dtype=tf.float32), x))
    return tf.linalg.matvec(tape.jacobian(y, x), tf.constant(v, dtype=tf.float32))
'''),
    Mutant("derivee_directionnelle", "produit vecteur-jacobienne du mode inverse", "la forme de l'entrée", source='''
def derivee_directionnelle(A, x, v):
    x = tf.constant(x, dtype=tf.float32)
    with tf.autodiff.ForwardAccumulator(primals=x, tangents=tf.constant(v, dtype=tf.float32)) as acc:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.softplus(tf.linalg.matvec(tf.constant(A, dtype=tf.float32), x))
    return tape.gradient(y, x)
'''),
    Mutant("derivee_directionnelle", "dérivée de softplus oubliée", "derivee_directionnelle",
           old="y = tf.nn.softplus(tf.linalg.matvec(A, x))", new="y = tf.linalg.matvec(A, x)"),
    # jacobiennes_reseau
    Mutant("jacobiennes_reseau", "source non surveillée", "tous les éléments valent 0",
           old="        tape.watch(X)\n", new=""),
    Mutant("jacobiennes_reseau", "jacobienne complète", "jacobienne complète",
           old="return tape.batch_jacobian(Y, X)", new="return tape.jacobian(Y, X)"),
    Mutant("jacobiennes_reseau", "gradient de la somme", "somme des dérivées",
           old="return tape.batch_jacobian(Y, X)", new="return tape.gradient(Y, X)"),
    Mutant("jacobiennes_reseau", "axes échangés", "échangés",
           old="return tape.batch_jacobian(Y, X)", new="return tf.transpose(tape.batch_jacobian(Y, X), [0, 2, 1])"),
    Mutant("jacobiennes_reseau", "seconde couche oubliée", "forme attendue",
           old="Y = tf.matmul(tf.tanh(tf.matmul(X, W1)), W2)", new="Y = tf.tanh(tf.matmul(X, W1))"),
    Mutant("jacobiennes_reseau", "tanh oubliée", "jacobiennes_reseau",
           old="Y = tf.matmul(tf.tanh(tf.matmul(X, W1)), W2)", new="Y = tf.matmul(tf.matmul(X, W1), W2)"),
]
