"""The JSON Schemas in contracts/schemas/ are the ones the models produce today."""

from __future__ import annotations

import pytest

from contracts.export_schemas import SCHEMA_DIR, SCHEMAS, render


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_file_is_current(name: str) -> None:
    path = SCHEMA_DIR / f"{name}.json"
    assert path.exists(), "run `python -m contracts.export_schemas`"
    assert path.read_text() == render(name), "stale: run `python -m contracts.export_schemas`"
