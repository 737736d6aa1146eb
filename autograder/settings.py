"""Settings of the grading run, read from nbgrader_config.py like nbgrader's own.

Example, in nbgrader_config.py::

    c.Grading.due_dates = {"ex01_premiers-pas": "2026-12-01 23:59:00 Europe/Paris"}
    c.Grading.max_file_size_mb = 20
"""

from __future__ import annotations

from traitlets import Dict, Float, Unicode
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
        "Europe/Paris", help="Time zone of the dates found in a Moodle download (its files carry local times)."
    ).tag(config=True)

    moodle_id_column = Unicode("Identifiant", help="Moodle grading worksheet: header of the participant column.").tag(config=True)
    moodle_name_column = Unicode("Nom complet", help="Moodle grading worksheet: header of the full name column.").tag(config=True)
    moodle_grade_column = Unicode("Note", help="Moodle grading worksheet: header of the grade column.").tag(config=True)
    moodle_modified_column = Unicode(
        "Dernière modification (note)", help="Moodle grading worksheet: header of the grade's last change."
    ).tag(config=True)
    moodle_feedback_column = Unicode(
        "Commentaires de feedback", help="Moodle grading worksheet: header of the feedback comments column."
    ).tag(config=True)
    moodle_participant_prefix = Unicode(
        "Participant ", help="Moodle grading worksheet: text before the participant number."
    ).tag(config=True)
