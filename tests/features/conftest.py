"""Fixtures for the feature tests: a hand-built web-form export (tests/support/forms.py)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.support.forms import form_export


@pytest.fixture(scope="module")
def forms() -> pd.DataFrame:
    return form_export(3000, seed=1)
