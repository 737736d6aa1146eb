"""Copie des vérifications du cours « Dérivation automatique avec tf.GradientTape ».

Ce dossier accompagne le carnet du devoir pour que ses cellules de test fonctionnent dans
n'importe quel Jupyter. Ne le modifiez pas : il est régénéré depuis le cours, et la correction
utilise sa propre version des vérifications, jamais celle-ci.
"""
