"""The grader's own HTML pages (class report, page of a rejected copy): French text, escaped data; feedback pages
written even when their writer process is killed."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from autograder.submissions.collect import Problem
from autograder.model import Outcome, RunResult, Status
from autograder.grading.pages import write_rejected_page
from autograder.grading.report import write_report

HOSTILE = "<script>alert('x')</script>"


class _Page(HTMLParser):
    """The elements and the text of a page, as a browser would read them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_page(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def test_when_a_rejected_copy_has_markup_in_its_name_and_reason_then_its_page_shows_it_as_text(tmp_path: Path):
    problem = Problem(f"eleve{HOSTILE}", f"ex01{HOSTILE}", f"Le fichier «\u00a0a.ipynb\u00a0» est illisible {HOSTILE}")
    path = write_rejected_page(tmp_path / "feedback" / "eleve" / "ex01" / "ex01.html", problem)

    page = read_page(path)
    assert "script" not in page.tags
    text = "".join(page.text)
    assert f"ex01{HOSTILE}\u00a0: votre rendu n'a pas pu être corrigé" in text
    assert problem.message in text
    assert "Note\u00a0: 0." in text


@pytest.fixture
def hostile_report(tmp_path: Path) -> Path:
    """A class report where every name, reason and remark carries markup."""
    result = RunResult(workspace=tmp_path / "ws", grades_csv=tmp_path / "grades.csv")
    result.outcomes = [
        Outcome(f"graded{HOSTILE}", "ex01", 2.5, 4.0, Status.GRADED, manual=[f"cell{HOSTILE}"], late_seconds=4000),
        Outcome(f"rejected{HOSTILE}", "ex01", 0.0, 4.0, Status.REJECTED, f"reason{HOSTILE}"),
        Outcome(f"failed{HOSTILE}", "ex01", 0.0, 4.0, Status.FAILED, f"cause{HOSTILE}"),
    ]
    result.warnings = [f"warning{HOSTILE}"]
    result.ambiguities = [f"identity{HOSTILE}"]
    return write_report(result, f"sqlite:///{tmp_path / 'gradebook.db'}", tmp_path / "rapport.html")


def test_when_names_and_reasons_carry_markup_then_the_class_report_shows_them_as_text(hostile_report: Path):
    page = read_page(hostile_report)
    assert "script" not in page.tags
    text = "".join(page.text)
    for shown in ["graded", "rejected", "failed", "reason", "cause", "cell", "warning", "identity"]:
        assert f"{shown}{HOSTILE}" in text
    assert f"Identité à vérifier\u00a0: identity{HOSTILE}" in text
    assert "Moyenne\u00a0: 1,25 / 4\u00a0; médiane\u00a0: 1,25\u00a0; 2 copie(s)." in text  # the failure is not a grade
    assert "1 h 06" in text  # the late copy's delay, in French


def test_when_the_class_report_is_written_then_its_figure_is_an_inline_image(hostile_report: Path):
    html = hostile_report.read_text(encoding="utf-8")
    assert html.count('<img alt="figure" src="data:image/png;base64,iVBORw0KGgo') == 1  # PNG signature


# --------------------------------------------------------------------------
# Feedback pages: the writer process killed while it works
# --------------------------------------------------------------------------


def _writers() -> list:
    import psutil

    return [p for p in psutil.Process().children(recursive=True) if p.name() == "ag-feedback"]


@pytest.mark.e2e
@pytest.mark.sandbox
def test_when_the_page_writer_is_killed_then_every_page_is_still_written(demo_run, tmp_path: Path):
    """One writer process writes the pages (grading.feedback.FEEDBACK_WRITERS), forked from the warm server as in
    a run: killed while it works, it is replaced and no page is lost."""
    import os
    import shutil
    import signal
    import time

    from autograder.course import REPO_ROOT
    from autograder.execution.forkserver import context
    from autograder.grading.config import load_config
    from autograder.grading.feedback import FEEDBACK_WRITERS, Pages

    assert FEEDBACK_WRITERS == 1
    result = demo_run["result"]
    graded = [(o.student_id, o.assignment) for o in result.outcomes if o.status is Status.GRADED]
    assert len(graded) >= 2
    workspace = tmp_path / "out"
    shutil.copytree(result.workspace, workspace)  # the session's graded demo, pages removed
    shutil.rmtree(workspace / "feedback")
    pages = Pages(load_config(workspace, REPO_ROOT, None, True), workspace, FEEDBACK_WRITERS, context=context())
    student, assignment = graded[0]
    pages.add(assignment, student)
    deadline = time.monotonic() + 120
    while not _writers() and time.monotonic() < deadline:
        time.sleep(0.05)
    (writer,) = _writers()
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(30)
    for student, assignment in graded[1:]:
        pages.add(assignment, student)
    assert pages.finish() == {}
    for student, assignment in graded:
        assert list((workspace / "feedback" / student / assignment).glob("*.html")), (student, assignment)
