"""Every test collected under tests/unit is marked ``unit`` (select with -m unit)."""

from __future__ import annotations

from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if UNIT_DIR in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.unit)
