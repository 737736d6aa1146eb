"""The configuration of a grading run: nbgrader_config.py, with the course's own ``c.Grading`` options.

Example, in nbgrader_config.py::

    c.Grading.due_dates = {"ex01_premiers-pas": "2026-12-01 23:59:00 Europe/Paris"}
    c.Grading.max_file_size_mb = 20
"""

from __future__ import annotations

from pathlib import Path

from traitlets import Dict, Enum, Float, Unicode
from traitlets.config import Config, Configurable
from traitlets.config.loader import PyFileConfigLoader

from autograder.course import REPO_ROOT


class Grading(Configurable):
    """How the course's submissions are collected, graded and exported."""

    due_dates = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Due date of each assignment (e.g. '2026-12-01 23:59:00 Europe/Paris'); a later submission is late.",
    ).tag(config=True)

    max_file_size_mb = Float(
        20.0, help="Largest notebook accepted, in megabytes; a larger one gets 0 with a message."
    ).tag(config=True)

    max_failure_share = Float(
        0.2,
        help="Share of copies ending in a grading failure (not the students' doing) above which a run stops "
             "(counted once at least 3 have failed).",
    ).tag(config=True)

    timezone = Unicode(
        "Europe/Paris",
        help="Time zone of the dates of a Moodle grading worksheet (Moodle writes them in the exporting "
             "teacher's time zone).",
    ).tag(config=True)

    moodle_language = Enum(
        ["fr", "en"], "fr",
        help="Moodle grading worksheet written without one exported by Moodle: language of its headers, "
             "that of the teacher who imports it ('fr' or 'en').",
    ).tag(config=True)
    moodle_max_grade = Float(
        100.0,
        help="Moodle grading worksheet written without one exported by Moodle: the Moodle assignment's maximum "
             "grade (Moodle's default is 100); scores are put on this scale.",
    ).tag(config=True)


#: nbgrader's autograde preprocessors, with its in-kernel Execute replaced by the sandbox.
#: nbgrader's CheckCellMetadata is left out here and in the sanitizing step: every cell's metadata
#: comes from source/ (the submission is rebuilt on it at collect time and again by SandboxedExecute),
#: and generate_assignment has checked source/ just before. It cost a fifth of nbgrader's time per copy
#: (a JSON-schema check of the schema itself for every cell).
SANDBOXED_AUTOGRADE = [
    "autograder.execution.preprocessor.SandboxedExecute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
]
SANDBOXED_SANITIZE = [
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "nbgrader.preprocessors.OverwriteCells",
]


def load_config(
    workspace: Path, course_root: Path = REPO_ROOT, db_url: str | None = None, sandboxed: bool = False
) -> Config:
    """The course's nbgrader configuration, with ``workspace`` as nbgrader root."""
    config = PyFileConfigLoader("nbgrader_config.py", path=str(course_root)).load_config()
    config.CourseDirectory.root = str(workspace)
    if db_url:
        config.CourseDirectory.db_url = db_url
    if sandboxed:
        config.Autograde.autograde_preprocessors = SANDBOXED_AUTOGRADE
        config.Autograde.sanitize_preprocessors = SANDBOXED_SANITIZE
    return config
