"""Feedback pages handed back to nbgrader's exchange: each page with its submission's timestamp and secret."""

from __future__ import annotations

import os
from pathlib import Path

from autograder.grading.feedback_release import stage_feedback


def _submission(course: Path, student: str) -> Path:
    folder = course / "submitted" / student / "ex01"
    folder.mkdir(parents=True)
    (folder / "ex01.ipynb").write_text("{}", encoding="utf-8")
    (folder / "timestamp.txt").write_text("2026-11-30 10:00:00", encoding="utf-8")
    (folder / "submission_secret.txt").write_text(f"secret-{student}", encoding="utf-8")
    return folder / "ex01.ipynb"


def _page(grading: Path, student: str) -> Path:
    page = grading / "feedback" / student / "ex01" / "ex01.html"
    page.parent.mkdir(parents=True)
    page.write_text(f"<p>{student}</p>", encoding="utf-8")
    return page


def test_when_pages_are_staged_then_each_goes_with_its_submissions_timestamp_and_secret(tmp_path):
    course, grading = tmp_path / "cours", tmp_path / "correction"
    _submission(course, "alice")
    _page(grading, "alice")
    staged, stale = stage_feedback(course, grading)
    assert (staged, stale) == (["alice/ex01/ex01.html"], [])
    target = course / "feedback" / "alice" / "ex01"
    assert (target / "ex01.html").read_text(encoding="utf-8") == "<p>alice</p>"
    assert (target / "submission_secret.txt").read_text(encoding="utf-8") == "secret-alice"
    assert (target / "timestamp.txt").is_file()


def test_when_a_submission_was_collected_again_after_grading_then_its_old_page_is_left_out(tmp_path):
    course, grading = tmp_path / "cours", tmp_path / "correction"
    notebook = _submission(course, "bob")
    page = _page(grading, "bob")
    os.utime(page, (1_000_000, 1_000_000))  # the page predates the submission now in submitted/
    staged, stale = stage_feedback(course, grading)
    assert (staged, stale) == ([], ["bob/ex01/ex01.html"])
    assert not (course / "feedback").exists()
    assert notebook.is_file()


def test_when_a_page_has_no_submission_then_it_is_left_out(tmp_path):
    course, grading = tmp_path / "cours", tmp_path / "correction"
    (course / "submitted").mkdir(parents=True)
    _page(grading, "chloe")
    assert stage_feedback(course, grading) == ([], ["chloe/ex01/ex01.html"])
