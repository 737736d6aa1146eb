"""Mutants of ex04_controler-l-enregistrement."""

from . import Mutant

MUTANTS = [
    # gradient_tableau
    Mutant("gradient_tableau", "tableau non surveillé", "tape.watch",
           old="        tape.watch(x)\n", new=""),
    Mutant("gradient_tableau", "watch sur le tableau NumPy", "n'accepte que des tenseurs",
           old="    x = tf.convert_to_tensor(x)\n", new=""),
    Mutant("gradient_tableau", "conversion en float32", "float64",
           old="x = tf.convert_to_tensor(x)", new="x = tf.convert_to_tensor(x, dtype=tf.float32)"),
    Mutant("gradient_tableau", "variable au lieu de watch", "sans créer de `tf.Variable`",
           old="x = tf.convert_to_tensor(x)", new="x = tf.Variable(x)"),
    Mutant("gradient_tableau", "terme oublié", "incorrecte",
           old="y = x * tf.sin(x)", new="y = tf.sin(x)"),
    Mutant("gradient_tableau", "somme au lieu d'une dérivée par élément", "somme des dérivées",
           old="return tape.gradient(y, x)", new="return tf.reduce_sum(tape.gradient(y, x))"),
    Mutant("gradient_tableau", "formule sans ruban", "tf.GradientTape", source='''
def gradient_tableau(x):
    return np.sin(x) + x * np.cos(x)
'''),
    # regle_de_la_chaine
    Mutant("regle_de_la_chaine", "ruban non persistant", "non persistant a servi deux fois",
           old="tf.GradientTape(persistent=True)", new="tf.GradientTape()"),
    Mutant("regle_de_la_chaine", "trois rubans", "un seul ruban", source='''
def regle_de_la_chaine(x):
    x = tf.Variable(x, dtype=tf.float32)
    with tf.GradientTape() as tape:
        y = x**2
    dy_dx = tape.gradient(y, x)
    with tf.GradientTape() as tape:
        y = x**2
        z = tf.sin(y)
    dz_dx = tape.gradient(z, x)
    y = tf.Variable(y)
    with tf.GradientTape() as tape:
        z = tf.sin(y)
    dz_dy = tape.gradient(z, y)
    return dy_dx, dz_dy, dz_dx
'''),
    Mutant("regle_de_la_chaine", "dz/dy remplacé par dz/dx", "incorrecte",
           old="dz_dy = tape.gradient(z, y)", new="dz_dy = tape.gradient(z, x)"),
    Mutant("regle_de_la_chaine", "résultat intermédiaire calculé hors du ruban", "en dehors du bloc",
           old="    with tf.GradientTape(persistent=True) as tape:\n        y = x**2\n",
           new="    y = x**2\n    with tf.GradientTape(persistent=True) as tape:\n"),
    Mutant("regle_de_la_chaine", "constante non surveillée", "ne surveille pas",
           old="x = tf.Variable(x, dtype=tf.float32)", new="x = tf.constant(x, dtype=tf.float32)"),
    Mutant("regle_de_la_chaine", "triplet dans le désordre", "incorrecte",
           old="return dy_dx, dz_dy, dz_dx", new="return dy_dx, dz_dx, dz_dy"),
    Mutant("regle_de_la_chaine", "deux valeurs seulement", "triplet",
           old="return dy_dx, dz_dy, dz_dx", new="return dy_dx, dz_dx"),
    # gradient_detache
    Mutant("gradient_detache", "stop_gradient oublié", "facteur",
           old="u = tf.stop_gradient(y)", new="u = y"),
    Mutant("gradient_detache", "stop_gradient sur x au lieu de y", "facteur",
           old="        u = tf.stop_gradient(y)\n        z = u * x", new="        z = y * tf.stop_gradient(x)"),
    Mutant("gradient_detache", "cible entière détachée", "`None`",
           old="z = u * x", new="z = tf.stop_gradient(y * x)"),
    Mutant("gradient_detache", "produit par x oublié", "incorrecte",
           old="z = u * x", new="z = u"),
    Mutant("gradient_detache", "une seule valeur renvoyée", "couple",
           old="return z, tape.gradient(z, x)", new="return tape.gradient(z, x)"),
    Mutant("gradient_detache", "formule sans ruban", "tf.GradientTape", source='''
def gradient_detache(x):
    x = np.asarray(x, dtype=np.float32)
    return x**3, x**2
'''),
    # surveillees
    Mutant("surveillees", "comparaison des variables avec in", "comparez leurs noms",
           old="    watched = {v.name for v in tape.watched_variables()}\n    return [v.name in watched for v in variables]",
           new="    return [v in tape.watched_variables() for v in variables]"),
    Mutant("surveillees", "trainable ignoré", "trainable=False",
           old='name=f"v{i}", trainable=t)', new='name=f"v{i}")'),
    Mutant("surveillees", "toutes les variables lues", "pas lue dans le bloc",
           old="            if read:\n                total = total + v", new="            total = total + v"),
    Mutant("surveillees", "watch oublié", "passée à `tape.watch`",
           old="            if watch:\n                tape.watch(v)", new="            pass"),
    Mutant("surveillees", "règle écrite à la main", "watched_variables", source='''
def surveillees(entrainables, lues, a_surveiller):
    return [w or (t and r) for t, r, w in zip(entrainables, lues, a_surveiller)]
'''),
    Mutant("surveillees", "noms au lieu de booléens", "booléens",
           old="return [v.name in watched for v in variables]", new="return [v.name for v in variables]"),
    # gradients_produit
    Mutant("gradients_produit", "bogue non corrigé", "non persistant a servi deux fois", source='''
def gradients_produit(a0, b0):
    a = tf.Variable(a0, dtype=tf.float32)
    b = tf.Variable(b0, dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = a**2 * tf.sin(b)
    df_da = tape.gradient(f, a)
    df_db = tape.gradient(f, b)
    return df_da, df_db
'''),
    Mutant("gradients_produit", "couple inversé", "incorrecte",
           old="return df_da, df_db", new="return df_db, df_da"),
    Mutant("gradients_produit", "second ruban vide", "`None`", source='''
def gradients_produit(a0, b0):
    a = tf.Variable(a0, dtype=tf.float32)
    b = tf.Variable(b0, dtype=tf.float32)
    with tf.GradientTape() as tape:
        f = a**2 * tf.sin(b)
    df_da = tape.gradient(f, a)
    with tf.GradientTape() as tape2:
        pass
    df_db = tape2.gradient(f, b)
    return df_da, df_db
'''),
    Mutant("gradients_produit", "b constante", "ne surveille pas",
           old="b = tf.Variable(b0, dtype=tf.float32)", new="b = tf.constant(b0, dtype=tf.float32)"),
    Mutant("gradients_produit", "copier-coller : deux fois df/da", "incorrecte", source='''
def gradients_produit(a0, b0):
    a = tf.Variable(a0, dtype=tf.float32)
    b = tf.Variable(b0, dtype=tf.float32)
    with tf.GradientTape(persistent=True) as tape:
        f = a**2 * tf.sin(b)
    df_da = tape.gradient(f, a)
    df_db = tape.gradient(f, a)
    del tape
    return df_da, df_db
'''),
    Mutant("gradients_produit", "formule sans ruban", "tf.GradientTape", source='''
def gradients_produit(a0, b0):
    return 2 * np.asarray(a0) * np.sin(b0), np.asarray(a0) ** 2 * np.cos(b0)
'''),
]
