// JupyterLab extension of the course: nbgrader's Validate button and its results dialog in French.
//
// nbgrader 0.9's JupyterLab extension writes these texts in English, without JupyterLab's
// translator. This plugin leaves nbgrader's code alone and rewrites its texts as they appear in
// the page: the toolbar button (`.validate-button`) and nbgrader's dialogs (the classes
// `nbgrader-SuccessDialog` and `nbgrader-ErrorDialog` that nbgrader gives them). Only text nodes
// are changed, in place, so nbgrader and React keep working on the same nodes. A text this table
// does not know (a newer nbgrader) stays as nbgrader wrote it.

const NBSP = '\u00a0';

// Whole texts (a paragraph, a title, a button label), compared after trimming.
const EXACT = new Map([
  ['Validation Results', 'Résultats de la validation'],
  ['Validation failed', 'La validation a échoué'],
  ['Success! Your notebook passes all the tests.', `Bravo${NBSP}! Votre carnet réussit tous les tests.`],
  ['The following cell failed:', `Cette cellule n'est pas réussie${NBSP}:`],
  ['The following cell passed:', `Cette cellule est réussie${NBSP}:`],
  [
    'The source of the following cell has changed, but it should not have!',
    `Le contenu de cette cellule a été modifié, alors qu'il ne devait pas l'être${NBSP}!`
  ],
  ['There was an error running the validate command:', `La validation n'a pas pu s'exécuter${NBSP}:`],
  ['Cannot save notebook', "Impossible d'enregistrer le carnet."],
  ['Validate', 'Valider'],
  ['Validating...', 'Validation…'],
  ['Validate Assignment', 'Valider le devoir']
]);

// Texts with a variable part.
const PATTERNS = [
  [
    /^The following (\w+) cell has changed to a (\w+) cell, but it should not have!$/,
    `Cette cellule de type $1 est devenue une cellule de type $2, alors qu'elle ne devait pas changer de type${NBSP}!`
  ],
  [/^Cannot validate: ([\s\S]*)$/, `Impossible de valider le carnet${NBSP}: $1`]
];

// Sentences that nbgrader's server writes inside the error of a failed cell (its Validator).
const INSIDE = [
  [
    'Partial credit; passed some but not all of the tests',
    `Des tests ne sont pas réussis${NBSP}: lisez le message sous cette cellule, dans le carnet.`
  ],
  ['You did not provide a response.', "Vous n'avez pas donné de réponse."]
];

const SCOPE = '.nbgrader-SuccessDialog, .nbgrader-ErrorDialog, .validate-button';

function translated(text) {
  const trimmed = text.trim();
  if (!trimmed) {
    return text;
  }
  if (EXACT.has(trimmed)) {
    return text.replace(trimmed, EXACT.get(trimmed));
  }
  for (const [pattern, replacement] of PATTERNS) {
    if (pattern.test(trimmed)) {
      return text.replace(trimmed, trimmed.replace(pattern, replacement));
    }
  }
  let result = text;
  for (const [english, french] of INSIDE) {
    result = result.split(english).join(french);
  }
  return result;
}

function translate(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const french = translated(node.data);
    if (french !== node.data) {
      node.data = french;
    }
  }
  for (const element of [root, ...root.querySelectorAll('[title]')]) {
    const title = element.getAttribute && element.getAttribute('title');
    if (title && EXACT.has(title)) {
      element.setAttribute('title', EXACT.get(title));
    }
  }
}

function translateAround(node) {
  const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  if (!element) {
    return;
  }
  const scope = element.closest(SCOPE);
  if (scope) {
    translate(scope);
    return;
  }
  for (const inner of element.querySelectorAll(SCOPE)) {
    translate(inner);
  }
}

const plugin = {
  id: '@tf-gradienttape/lab:validate-fr',
  description: "Le bouton Validate de nbgrader et sa fenêtre de résultats, en français.",
  autoStart: true,
  activate: () => {
    const observer = new MutationObserver(records => {
      for (const record of records) {
        if (record.type === 'childList') {
          for (const added of record.addedNodes) {
            translateAround(added);
          }
        } else {
          translateAround(record.target);
        }
      }
    });
    observer.observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
      attributeFilter: ['title']
    });
    for (const element of document.querySelectorAll(SCOPE)) {
      translate(element);
    }
  }
};

module.exports = [plugin];
