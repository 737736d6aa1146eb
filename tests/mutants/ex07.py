"""Mutants of ex07_de-la-derivee-a-l-apprentissage."""

from . import Mutant

MSE = "loss = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y))"
UPDATE = "    W.assign_sub(lr * grad_W)\n    b.assign_sub(lr * grad_b)\n"
LOOP_UPDATE = "        W.assign_sub(lr * grad_W)\n        b.assign_sub(lr * grad_b)\n"

MUTANTS = [
    # gradients_mse
    Mutant("gradients_mse", "somme au lieu de la moyenne", "même facteur",
           old=MSE, new="loss = tf.reduce_sum(tf.square(tf.matmul(X, W) + b - y))"),
    Mutant("gradients_mse", "moyenne sur le seul axe des exemples (cible non scalaire)", "même facteur",
           old=MSE, new="loss = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y), axis=0)"),
    Mutant("gradients_mse", "constante non surveillée", "que le ruban ne surveille pas",
           old="W = tf.Variable(W, dtype=tf.float32)", new="W = tf.constant(W, dtype=tf.float32)"),
    Mutant("gradients_mse", "un seul gradient renvoyé", "couple",
           old="return dW, db", new="return dW"),
    Mutant("gradients_mse", "gradients dans le désordre", "forme attendue",
           old="return dW, db", new="return db, dW"),
    Mutant("gradients_mse", "dW transposé", "transposé",
           old="return dW, db", new="return tf.transpose(dW), db"),
    Mutant("gradients_mse", "valeur absolue au lieu du carré", "incorrecte",
           old="tf.square(", new="tf.abs("),
    Mutant("gradients_mse", "NumPy dans le ruban", "NumPy",
           old=MSE, new="loss = np.mean(np.square(tf.matmul(X, W).numpy() + b.numpy() - y))"),
    Mutant("gradients_mse", "formule sans ruban", "tf.GradientTape", source='''
def gradients_mse(X, y, W, b):
    residuals = X @ W + b - y
    return 2 * X.T @ residuals / residuals.size, 2 * residuals.sum(axis=0) / residuals.size
'''),
    # pas_de_descente
    Mutant("pas_de_descente", "signe de la mise à jour inversé", "mauvais sens",
           old=UPDATE, new="    W.assign_add(lr * grad_W)\n    b.assign_add(lr * grad_b)\n"),
    Mutant("pas_de_descente", "taux d'apprentissage oublié", "taux d'apprentissage n'a pas été appliqué",
           old=UPDATE, new="    W.assign_sub(grad_W)\n    b.assign_sub(grad_b)\n"),
    Mutant("pas_de_descente", "b non mis à jour", "n'a pas changé",
           old="    b.assign_sub(lr * grad_b)\n", new=""),
    Mutant("pas_de_descente", "somme au lieu de la moyenne", "même facteur",
           old=MSE, new="loss = tf.reduce_sum(tf.square(tf.matmul(X, W) + b - y))"),
    Mutant("pas_de_descente", "gradients renvoyés au lieu des paramètres", "incorrecte",
           old="return W.numpy(), b.numpy()", new="return grad_W, grad_b"),
    Mutant("pas_de_descente", "variable non entraînable", "`None`",
           old="W = tf.Variable(W, dtype=tf.float32)", new="W = tf.Variable(W, dtype=tf.float32, trainable=False)"),
    Mutant("pas_de_descente", "formule sans ruban", "tf.GradientTape", source='''
def pas_de_descente(X, y, W, b, lr):
    residuals = X @ W + b - y
    return W - lr * 2 * X.T @ residuals / residuals.size, b - lr * 2 * residuals.sum(axis=0) / residuals.size
'''),
    # entrainer
    Mutant("entrainer", "bogue non corrigé (W = W - lr * g)", "remplace la variable `W` par un tenseur",
           old=LOOP_UPDATE, new="        W = W - lr * grad_W\n        b = b - lr * grad_b\n"),
    Mutant("entrainer", "signe de la mise à jour inversé", "divergé",
           old=LOOP_UPDATE, new="        W.assign_add(lr * grad_W)\n        b.assign_add(lr * grad_b)\n"),
    Mutant("entrainer", "somme au lieu de la moyenne", "divergé",
           old=MSE, new="loss = tf.reduce_sum(tf.square(tf.matmul(X, W) + b - y))"),
    Mutant("entrainer", "taux d'apprentissage ignoré", "incorrecte",
           old=LOOP_UPDATE, new="        W.assign_sub(0.05 * grad_W)\n        b.assign_sub(0.05 * grad_b)\n"),
    Mutant("entrainer", "nombre de pas ignoré", "incorrecte",
           old="for step in range(n):", new="for step in range(300):"),
    Mutant("entrainer", "b non mis à jour", "incorrecte",
           old="        b.assign_sub(lr * grad_b)\n", new=""),
    Mutant("entrainer", "ruban ouvert une seule fois hors de la boucle", "non persistant", source='''
def entrainer(X, y, lr, n):
    W = tf.Variable(tf.zeros((X.shape[1], y.shape[1])))
    b = tf.Variable(tf.zeros((y.shape[1],)))
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.matmul(X, W) + b - y))
    for step in range(n):
        grad_W, grad_b = tape.gradient(loss, [W, b])
        W.assign_sub(lr * grad_W)
        b.assign_sub(lr * grad_b)
    return W, b
'''),
    Mutant("entrainer", "moindres carrés sans ruban", "tf.GradientTape", source='''
def entrainer(X, y, lr, n):
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    solution = np.linalg.lstsq(A, y, rcond=None)[0]
    return solution[:-1], solution[-1]
'''),
    # pas_classifieur
    Mutant("pas_classifieur", "sigmoïde appliquée avant une perte « with_logits »", "la sigmoïde est appliquée deux fois",
           old="logits=z)", new="logits=tf.sigmoid(z))"),
    Mutant("pas_classifieur", "somme au lieu de la moyenne", "pas leur moyenne",
           old="loss = tf.reduce_mean(", new="loss = tf.reduce_sum("),
    Mutant("pas_classifieur", "perte non réduite (une valeur par exemple)", "une valeur par exemple", source='''
def pas_classifieur(X, y, W, b, lr):
    W = tf.Variable(W, dtype=tf.float32)
    b = tf.Variable(b, dtype=tf.float32)
    with tf.GradientTape() as tape:
        z = tf.matmul(X, W) + b
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z)
    grad_W, grad_b = tape.gradient(loss, [W, b])
    W.assign_sub(lr * grad_W)
    b.assign_sub(lr * grad_b)
    return W, b, loss
'''),
    Mutant("pas_classifieur", "signe de la mise à jour inversé", "mauvais sens",
           old=UPDATE, new="    W.assign_add(lr * grad_W)\n    b.assign_add(lr * grad_b)\n"),
    Mutant("pas_classifieur", "b non mis à jour", "n'a pas changé",
           old="    b.assign_sub(lr * grad_b)\n", new=""),
    Mutant("pas_classifieur", "étiquettes aplaties", "de la forme des logits",
           old="labels=y,", new="labels=tf.reshape(y, [-1]),"),
    Mutant("pas_classifieur", "étiquettes converties en entiers", "ne convertissez `y` ni en entiers",
           old="labels=y,", new="labels=tf.cast(y, tf.int32),"),
    Mutant("pas_classifieur", "étiquettes et logits échangés", "sont échangés",
           old="labels=y, logits=z", new="labels=z, logits=y"),
    Mutant("pas_classifieur", "erreur quadratique après la sigmoïde (perte de l'ancienne question)", "erreur quadratique",
           old="loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))",
           new="loss = tf.reduce_mean(tf.square(tf.sigmoid(z) - y))"),
    Mutant("pas_classifieur", "log(σ(z)) écrit à la main : inf et NaN pour les grands logits", "`inf` ou `NaN`",
           old="loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))",
           new="p = tf.sigmoid(z)\n        loss = -tf.reduce_mean(y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p))"),
    Mutant("pas_classifieur", "probabilités coupées par clip_by_value", "Couper les probabilités",
           old="loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))",
           new="p = tf.clip_by_value(tf.sigmoid(z), 1e-7, 1.0 - 1e-7)\n"
               "        loss = -tf.reduce_mean(y * tf.math.log(p) + (1.0 - y) * tf.math.log(1.0 - p))"),
    Mutant("pas_classifieur", "perte d'après le pas renvoyée", "celle d'après le pas",
           old="return W.numpy(), b.numpy(), float(loss)",
           new="return W.numpy(), b.numpy(), float(tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=tf.matmul(X, W) + b)))"),
    Mutant("pas_classifieur", "perte non renvoyée", "triplet",
           old="return W.numpy(), b.numpy(), float(loss)", new="return W.numpy(), b.numpy()"),
    Mutant("pas_classifieur", "assign_sub sur un tenseur", "n'existe que sur une `tf.Variable`",
           old="W = tf.Variable(W, dtype=tf.float32)", new="W = tf.convert_to_tensor(W, dtype=tf.float32)"),
    Mutant("pas_classifieur", "constante non surveillée, mise à jour hors place", "reçu `None`", source='''
def pas_classifieur(X, y, W, b, lr):
    W = tf.constant(W, dtype=tf.float32)
    b = tf.Variable(b, dtype=tf.float32)
    with tf.GradientTape() as tape:
        z = tf.matmul(X, W) + b
        loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
    grad_W, grad_b = tape.gradient(loss, [W, b])
    return W - lr * grad_W, b - lr * grad_b, loss
'''),
    Mutant("pas_classifieur", "formule X^T(p - y)/n sans ruban", "tf.GradientTape", source='''
def pas_classifieur(X, y, W, b, lr):
    z = X @ W + b
    p = 1 / (1 + np.exp(-z))
    loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
    return W - lr * X.T @ (p - y) / len(X), b - lr * np.mean(p - y, axis=0), loss
'''),
]
