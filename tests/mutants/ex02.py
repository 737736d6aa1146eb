"""Mutants of ex02_plusieurs-variables."""

from . import Mutant

MUTANTS = [
    # gradient_deux_variables
    Mutant("gradient_deux_variables", "signe inversé", "signe est inversé",
           old="return dz_dx, dz_dy", new="return -dz_dx, dz_dy"),
    Mutant("gradient_deux_variables", "terme 3y oublié", "incorrecte",
           old="z = tf.reduce_sum(x**2 * y + 3 * y)", new="z = tf.reduce_sum(x**2 * y)"),
    Mutant("gradient_deux_variables", "couple inversé", "incorrecte",
           old="return dz_dx, dz_dy", new="return dz_dy, dz_dx"),
    Mutant("gradient_deux_variables", "constante non surveillée", "que le ruban ne surveille pas",
           old="y = tf.Variable(y, dtype=tf.float32)", new="y = tf.constant(y, dtype=tf.float32)"),
    Mutant("gradient_deux_variables", "deux appels sur un ruban non persistant", "ruban non persistant",
           old="dz_dx, dz_dy = tape.gradient(z, [x, y])",
           new="dz_dx = tape.gradient(z, x)\n    dz_dy = tape.gradient(z, y)"),
    Mutant("gradient_deux_variables", "somme au lieu d'une dérivée par élément", "somme des dérivées",
           old="return dz_dx, dz_dy", new="return tf.reduce_sum(dz_dx), tf.reduce_sum(dz_dy)"),
    Mutant("gradient_deux_variables", "formule sans ruban", "tf.GradientTape", source='''
def gradient_deux_variables(x, y):
    x, y = np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.float32)
    return 2 * x * y, x**2 + 3
'''),
    # gradient_forme_quadratique
    Mutant("gradient_forme_quadratique", "transposée oubliée (2Ax), ruban décoratif", "incorrecte",
           old="return tape.gradient(f, x)", new="tape.gradient(f, x)\n    return 2 * tf.linalg.matvec(A, x)"),
    Mutant("gradient_forme_quadratique", "formule sans ruban", "tf.GradientTape", source='''
def gradient_forme_quadratique(A, x):
    A = np.asarray(A)
    return (A + A.T) @ np.asarray(x)
'''),
    Mutant("gradient_forme_quadratique", "signe inversé", "signe est inversé",
           old="return tape.gradient(f, x)", new="return -tape.gradient(f, x)"),
    Mutant("gradient_forme_quadratique", "facteur 1/2 (f = ½ xᵀAx)", "facteur",
           old="f = tf.reduce_sum(x * tf.linalg.matvec(A, x))", new="f = 0.5 * tf.reduce_sum(x * tf.linalg.matvec(A, x))"),
    Mutant("gradient_forme_quadratique", "x en colonne, non remis en vecteur", "forme attendue",
           old="x = tf.Variable(x, dtype=tf.float32)\n    with tf.GradientTape() as tape:\n        f = tf.reduce_sum(x * tf.linalg.matvec(A, x))",
           new="x = tf.Variable(tf.reshape(tf.constant(x, dtype=tf.float32), (-1, 1)))\n    with tf.GradientTape() as tape:\n        f = tf.reduce_sum(tf.transpose(x) @ A @ x)"),
    Mutant("gradient_forme_quadratique", "x constant, non surveillé", "que le ruban ne surveille pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.constant(x, dtype=tf.float32)"),
    Mutant("gradient_forme_quadratique", "produit élément par élément au lieu du produit matriciel", "incorrecte",
           old="f = tf.reduce_sum(x * tf.linalg.matvec(A, x))", new="f = tf.reduce_sum(x * A * x)"),
    # gradients_parametres
    Mutant("gradients_parametres", "liste au lieu d'un dictionnaire", "doit être un dictionnaire",
           old="return tape.gradient(loss, variables)", new="return tape.gradient(loss, [variables[\"W\"], variables[\"b\"]])"),
    Mutant("gradients_parametres", "clés renommées", "les clés ne correspondent pas",
           old="return tape.gradient(loss, variables)",
           new="grads = tape.gradient(loss, variables)\n    return {\"poids\": grads[\"W\"], \"biais\": grads[\"b\"]}"),
    Mutant("gradients_parametres", "somme au lieu de la moyenne", "même facteur",
           old="loss = tf.reduce_mean((predictions - y) ** 2)", new="loss = tf.reduce_sum((predictions - y) ** 2)"),
    Mutant("gradients_parametres", "biais oublié dans le modèle", "vaut `None`",
           old="predictions = tf.matmul(x, variables[\"W\"]) + variables[\"b\"]", new="predictions = tf.matmul(x, variables[\"W\"])"),
    Mutant("gradients_parametres", "paramètres en constantes", "vaut `None`",
           old="variables = {name: tf.Variable(value, dtype=tf.float32) for name, value in params.items()}",
           new="variables = {name: tf.constant(value, dtype=tf.float32) for name, value in params.items()}"),
    Mutant("gradients_parametres", "NumPy dans le ruban", "NumPy",
           old="loss = tf.reduce_mean((predictions - y) ** 2)", new="loss = np.mean((predictions - y) ** 2)"),
    Mutant("gradients_parametres", "erreur non élevée au carré", "incorrecte",
           old="loss = tf.reduce_mean((predictions - y) ** 2)", new="loss = tf.reduce_mean(predictions - y)"),
    Mutant("gradients_parametres", "formule sans ruban", "tf.GradientTape", source='''
def gradients_parametres(params, x, y):
    x, y = np.asarray(x), np.asarray(y)
    W, b = np.asarray(params["W"]), np.asarray(params["b"])
    r = x @ W + b - y
    return {"W": 2 * x.T @ r / r.size, "b": 2 * r.sum(axis=0) / r.size}
'''),
    # gradient_indices
    Mutant("gradient_indices", "deux variables séparées au lieu du vecteur", "forme attendue",
           old="""    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = a * x[0] ** 2 + b * x[0] * x[1]
    return tape.gradient(f, x)""",
           new="""    x0 = tf.Variable(x[0], dtype=tf.float32)
    x1 = tf.Variable(x[1], dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = a * x0 ** 2 + b * x0 * x1
    return tape.gradient(f, [x0, x1])"""),
    Mutant("gradient_indices", "vecteur constant, non surveillé", "que le ruban ne surveille pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.constant(x, dtype=tf.float32)"),
    Mutant("gradient_indices", "NumPy dans le ruban", "sorti de TensorFlow",
           old="f = a * x[0] ** 2 + b * x[0] * x[1]", new="v = x.numpy()\n        f = a * v[0] ** 2 + b * v[0] * v[1]"),
    Mutant("gradient_indices", "terme croisé mal écrit (b x1)", "incorrecte",
           old="f = a * x[0] ** 2 + b * x[0] * x[1]", new="f = a * x[0] ** 2 + b * x[1]"),
    Mutant("gradient_indices", "carré mal placé ((a x0)²)", "incorrecte",
           old="f = a * x[0] ** 2 + b * x[0] * x[1]", new="f = (a * x[0]) ** 2 + b * x[0] * x[1]"),
    Mutant("gradient_indices", "signe inversé", "signe est inversé",
           old="return tape.gradient(f, x)", new="return -tape.gradient(f, x)"),
    Mutant("gradient_indices", "formule sans ruban", "tf.GradientTape", source='''
def gradient_indices(a, b, x):
    g = np.zeros(len(x))
    g[0] = 2 * a * x[0] + b * x[1]
    g[1] = b * x[0]
    return g
'''),
    # derivees_partielles
    Mutant("derivees_partielles", "bogue non corrigé", "ruban non persistant", source='''
def derivees_partielles(x0, y0):
    x = tf.Variable(x0)
    y = tf.Variable(y0)
    with tf.GradientTape() as tape:
        f = x * y**2 + tf.sin(x)
    df_dx = tape.gradient(f, x)
    df_dy = tape.gradient(f, y)
    return df_dx, df_dy
'''),
    Mutant("derivees_partielles", "couple inversé", "incorrecte",
           old="df_dx, df_dy = tape.gradient(f, [x, y])", new="df_dy, df_dx = tape.gradient(f, [x, y])"),
    Mutant("derivees_partielles", "y constant, non surveillé", "que le ruban ne surveille pas",
           old="y = tf.Variable(y0)", new="y = tf.constant(y0)"),
    Mutant("derivees_partielles", "sinus oublié", "incorrecte",
           old="f = x * y**2 + tf.sin(x)", new="f = x * y**2"),
    Mutant("derivees_partielles", "un seul gradient renvoyé", "couple",
           old="return df_dx, df_dy", new="return df_dx"),
    Mutant("derivees_partielles", "réponse écrite à la main", "tf.GradientTape", source='''
def derivees_partielles(x0, y0):
    return y0**2 + np.cos(x0), 2 * x0 * y0
'''),
]
