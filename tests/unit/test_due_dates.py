"""Due dates of the configuration (``c.Grading.due_dates``): the forms accepted, time zones, French errors.

``prepare.parse_due`` reads them with nbgrader's own ``parse_utc``, after checking the time zone.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from autograder.grading.errors import GradingError
from autograder.grading.prepare import parse_due


@pytest.mark.parametrize("text, utc", [
    ("2026-12-01 23:59:00 Europe/Paris", datetime(2026, 12, 1, 22, 59)),  # winter: UTC+1
    ("2026-07-01 23:59:00 Europe/Paris", datetime(2026, 7, 1, 21, 59)),  # summer: UTC+2
    ("2026-12-01 23:59 America/Montreal", datetime(2026, 12, 2, 4, 59)),
    ("2026-12-01 23:59:00 UTC", datetime(2026, 12, 1, 23, 59)),
    ("2026-12-01 23:59:00", datetime(2026, 12, 1, 23, 59)),  # no zone: UTC, as nbgrader
    ("2026-12-01T23:59:00+01:00", datetime(2026, 12, 1, 22, 59)),
    ("2026-12-01T23:59:00Z", datetime(2026, 12, 1, 23, 59)),
    ("  2026-12-01 23:59:00 Europe/Paris  ", datetime(2026, 12, 1, 22, 59)),
    ("2026-12-01", datetime(2026, 12, 1, 0, 0)),
    ("2026-12-01 23:59:00 CET", datetime(2026, 12, 1, 22, 59)),  # a zone of the tz database
    ("2026-12-01 23:59:00 +01:00", datetime(2026, 12, 1, 22, 59)),  # an offset, not seconds
])
def test_when_a_due_date_is_read_then_it_is_naive_utc_as_nbgrader_stores_it(text, utc):
    due = parse_due(text, "ex01_premiers-pas")
    assert due == utc and due.tzinfo is None


FORMAT = "(écrivez-la comme «\u00a02026-12-01 23:59:00 Europe/Paris\u00a0»)."


@pytest.mark.parametrize("text, detail", [
    ("demain soir", FORMAT),
    ("1 décembre 2026", FORMAT),
    ("2026-13-45 23:59:00", FORMAT),
    ("UTC", FORMAT),
    ("2026-12-01 23:59:00 Europe/Nulle-Part",
     "(fuseau horaire «\u00a0Europe/Nulle-Part\u00a0» inconnu\u00a0: écrivez-le comme «\u00a0Europe/Paris\u00a0» ou «\u00a0UTC\u00a0»)."),
    ("2026-12-01 23:59:00 BST",
     "(fuseau horaire «\u00a0BST\u00a0» inconnu\u00a0: écrivez-le comme «\u00a0Europe/Paris\u00a0» ou «\u00a0UTC\u00a0»)."),
    ("2026-12-01T23:59:00 BST", FORMAT),  # a zone dateutil would drop, reading the date as UTC
])
def test_when_a_due_date_cannot_be_read_then_the_error_is_french_and_names_the_assignment(text, detail):
    with pytest.raises(GradingError) as error:
        parse_due(text, "ex01_premiers-pas")
    message = str(error.value)
    assert message.startswith(f"Date limite illisible pour «\u00a0ex01_premiers-pas\u00a0»\u00a0: «\u00a0{text}\u00a0» ")
    assert detail in message
