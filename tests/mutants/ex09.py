"""Mutants of ex09_le-graphe-a-la-main."""

from . import Mutant

MUTANTS = [
    # adjoints_a_la_main
    Mutant("adjoints_a_la_main", "un seul chemin pour x", "ne suit qu'un seul chemin",
           old="x_bar = a_bar * y + b_bar * np.cos(x)", new="x_bar = a_bar * y"),
    Mutant("adjoints_a_la_main", "chemin du sinus seul pour x", "ne suit qu'un seul chemin",
           old="x_bar = a_bar * y + b_bar * np.cos(x)", new="x_bar = b_bar * np.cos(x)"),
    Mutant("adjoints_a_la_main", "facteur 2 oublié dans la dérivée du carré", "multipliée",
           old="c_bar = f_bar * 2 * c", new="c_bar = f_bar * c"),
    Mutant("adjoints_a_la_main", "dérivée du sinus avec un signe moins", "l'adjoint du nœud x",
           old="b_bar * np.cos(x)", new="b_bar * -np.cos(x)"),
    Mutant("adjoints_a_la_main", "adjoint de y multiplié par y", "l'adjoint du nœud y",
           old="y_bar = a_bar * x", new="y_bar = a_bar * y"),
    Mutant("adjoints_a_la_main", "valeurs de l'exemple écrites en dur", "la valeur du nœud", source='''
def adjoints_a_la_main(x, y):
    valeurs = {"x": 2.0, "y": 3.0, "a": 6.0, "b": 0.9092974, "c": 6.9092974, "f": 47.7384}
    adjoints = {"x": 35.705219, "y": 27.637190, "a": 13.818595, "b": 13.818595, "c": 13.818595, "f": 1.0}
    return valeurs, adjoints
'''),
    Mutant("adjoints_a_la_main", "adjoints obtenus avec le ruban", "est interdit", source='''
def adjoints_a_la_main(x, y):
    xv, yv = tf.Variable(x, dtype=tf.float64), tf.Variable(y, dtype=tf.float64)
    with tf.GradientTape() as tape:
        a = xv * yv
        b = tf.sin(xv)
        c = a + b
        f = c**2
    nodes = {"x": xv, "y": yv, "a": a, "b": b, "c": c, "f": f}
    grads = tape.gradient(f, list(nodes.values()))
    return {k: float(v) for k, v in nodes.items()}, {k: float(g) for k, g in zip(nodes, grads)}
'''),
    Mutant("adjoints_a_la_main", "clés manquantes", "il manque la clé",
           old='adjoints = {"x": x_bar, "y": y_bar, "a": a_bar, "b": b_bar, "c": c_bar, "f": f_bar}',
           new='adjoints = {"x": x_bar, "y": y_bar}'),
    # gradient_h
    Mutant("gradient_h", "None pour la source de la branche non prise", "pas dans le graphe enregistré",
           old="return tape.gradient(p, [x, y, z], unconnected_gradients=tf.UnconnectedGradients.ZERO)",
           new="return tape.gradient(p, [x, y, z])"),
    Mutant("gradient_h", "un seul tour de boucle", "celles de u, pas de u**n",
           old="p = h(x, y, z, n)", new="p = h(x, y, z, 1)"),
    Mutant("gradient_h", "signe inversé", "signe est inversé",
           old="return tape.gradient(p, [x, y, z], unconnected_gradients=tf.UnconnectedGradients.ZERO)",
           new="return [-g for g in tape.gradient(p, [x, y, z], unconnected_gradients=tf.UnconnectedGradients.ZERO)]"),
    Mutant("gradient_h", "formule écrite à la main pour la branche x > 0 seulement", "tf.GradientTape", source='''
def gradient_h(x0, y0, z0, n):
    return [n * x0 ** (n - 1) * y0**n, n * x0**n * y0 ** (n - 1), 0.0]
'''),
    Mutant("gradient_h", "boucle comptée une fois de trop", "dh/dx",
           old="p = h(x, y, z, n)", new="p = h(x, y, z, n + 1)"),
    Mutant("gradient_h", "sources constantes, non surveillées", "pas surveillées",
           old="x = tf.Variable(x0, dtype=tf.float32)\n    y = tf.Variable(y0, dtype=tf.float32)\n    z = tf.Variable(z0, dtype=tf.float32)",
           new="x = tf.constant(x0, dtype=tf.float32)\n    y = tf.constant(y0, dtype=tf.float32)\n    z = tf.constant(z0, dtype=tf.float32)"),
]
