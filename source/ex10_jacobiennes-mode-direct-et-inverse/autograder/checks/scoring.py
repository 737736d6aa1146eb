"""Partial credit: a test cell made of weighted parts, scored by :class:`Grader`."""

from __future__ import annotations

from typing import Any

from .calling import explain_exception
from .diagnostic import Diagnostic
from .formatting import format_number


class _Part:
    """Context manager of one part: a Diagnostic (or any error) fails the part only."""

    def __init__(self, grader: "Grader", label: str, weight: float, required: bool) -> None:
        self.grader, self.label, self.weight, self.required = grader, label, weight, required

    def __enter__(self) -> "_Part":
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, _tb: Any) -> bool:
        if kind is None:
            self.grader._record(self.label, self.weight, None, self.required)
            return False
        if not issubclass(kind, Exception):
            return False  # KeyboardInterrupt, SystemExit: let them stop the cell
        if isinstance(error, Diagnostic):
            message = str(error)
        else:
            message = f"erreur inattendue pendant le test ({explain_exception(error)})"
        self.grader._record(self.label, self.weight, message, self.required)
        return True


class Grader:
    """Score of one test cell, made of weighted parts.

    The cell ends with ``grader.result()``: nbgrader reads the returned number
    as the cell's score (partial credit). ``points`` must equal the cell's points.
    """

    def __init__(self, question: str, points: float) -> None:
        self.question = question
        self.points = float(points)
        self.parts: list[tuple[str, float, str | None]] = []
        self.blocked = False

    def part(self, label: str, weight: float = 1.0) -> _Part:
        """A part of the check, worth ``weight`` relative to the other parts."""
        return _Part(self, label, float(weight), required=False)

    def require(self, label: str) -> _Part:
        """A condition worth no points by itself: if it fails, the whole question scores 0."""
        return _Part(self, label, 0.0, required=True)

    def _record(self, label: str, weight: float, failure: str | None, required: bool) -> None:
        self.parts.append((label, weight, failure))
        if required and failure is not None:
            self.blocked = True

    def result(self) -> float:
        """Print the French summary and return the score in points (a plain float)."""
        total = sum(weight for _, weight, _ in self.parts)
        passed = sum(weight for _, weight, failure in self.parts if failure is None)
        score = round(self.points * passed / total, 2) if total and not self.blocked else 0.0
        if passed == total and total and not self.blocked:
            print(f"✔ {self.question} : tous les tests sont réussis ({format_number(score)} / {format_number(self.points)}).")
            return float(score)
        lines = [f"✘ {self.question} : {format_number(score)} / {format_number(self.points)}"]
        if self.blocked:
            lines[0] += " (condition non remplie : aucun point pour cette question)"
        for label, _, failure in self.parts:
            if failure is None:
                lines.append(f"  ✔ {label}")
            else:
                lines.append(f"  ✘ {label}")
                lines.extend("      " + line for line in failure.splitlines())
        print("\n".join(lines))
        return float(score)
