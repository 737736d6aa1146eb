"""Settings of the grading run, read from nbgrader_config.py like nbgrader's own.

Example, in nbgrader_config.py::

    c.Grading.due_dates = {"ex01_premiers-pas": "2026-12-01 23:59:00 Europe/Paris"}
    c.Grading.max_file_size_mb = 20
"""

from __future__ import annotations

from traitlets import Dict, Enum, Float, Unicode
from traitlets.config import Configurable


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
