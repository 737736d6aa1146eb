"""nbgrader preprocessors of the course."""

from __future__ import annotations

from typing import Any

from nbformat import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.execution.preprocessor import is_test_cell

DIAGNOSTIC = "Diagnostic"

#: nbgrader's automatic comments (hard-coded in English), in French.
AUTO_COMMENTS = {
    "No response.": "Pas de réponse : la cellule est restée telle qu'elle a été distribuée.",
}


class FrenchFeedback(NbGraderPreprocessor):
    """Make the feedback page French and safe to show.

    - The traceback of a failed test cell is replaced by its French diagnostic:
      a traceback quotes the lines of the test cell, hidden tests included.
    - nbgrader's automatic comments are translated.
    """

    def preprocess_cell(
        self, cell: NotebookNode, resources: dict[str, Any], index: int
    ) -> tuple[NotebookNode, dict[str, Any]]:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("comment") in AUTO_COMMENTS:
            meta["comment"] = AUTO_COMMENTS[meta["comment"]]
        if cell.cell_type != "code" or not is_test_cell(cell):
            return cell, resources
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            ename = output.get("ename", "")
            evalue = output.get("evalue", "")
            if ename == DIAGNOSTIC:
                text = f"Échec du test : {evalue}"
            else:
                text = f"Erreur pendant le test ({ename}) : {evalue}"
            output["traceback"] = [text]
        return cell, resources
