"""Day-first dates (05/11/2026 = 5 November): read as the export writes them, everywhere.

European and Latin American CRMs export dates day first. Read month first, every date whose
day is 12 or less silently swaps day and month: the time split, the date features and the
scores of single leads would all be wrong without a single error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.data.parse import date_value, day_first_in, parse_dates
from leadml.data.split import split_rows
from leadml.data.suggest import suggest_schema
from leadml.data.synthetic import generate_leads
from leadml.data.validate import validate
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.train import train_leads
from leadml.schema import FeatureSpec, LeadSchema, bundled_schema
from tests.support.training import cheap_settings


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["23/11/2026", "05/11/2026"], True),
        (["23.11.2026 10:00", "05.11.2026 08:30"], True),
        (["11/23/2026", "05/11/2026"], False),
        (["05/11/2026", "01/02/2025"], None),  # nothing tells
        (["2026-11-23", "2026-11-05"], None),  # ISO has no such question
        (["23/11/2026", "11/23/2026"], None),  # contradicts itself: not guessed
    ],
)
def test_the_column_tells_its_day_order(values: list[str], expected: bool | None) -> None:
    assert day_first_in(pd.Series(values)) is expected


def test_ambiguous_dates_follow_the_rest_of_their_column() -> None:
    european = parse_dates(pd.Series(["23/11/2026", "05/11/2026"]))
    american = parse_dates(pd.Series(["11/23/2026", "05/11/2026"]))
    assert european[1] == pd.Timestamp("2026-11-05")
    assert american[1] == pd.Timestamp("2026-05-11")
    # a column that cannot tell follows the schema's choice
    told = parse_dates(pd.Series(["05/11/2026", "01/02/2025"]), day_first=True)
    assert list(told) == [pd.Timestamp("2026-11-05"), pd.Timestamp("2025-02-01")]
    assert date_value("05/11/2026", day_first=True) == pd.Timestamp("2026-11-05")
    assert date_value("05/11/2026") == pd.Timestamp("2026-05-11")
    assert date_value("2026-05-11", day_first=True) == pd.Timestamp("2026-05-11")


def _dated_schema() -> LeadSchema:
    return LeadSchema(
        name="dates",
        target="won",
        time="created",
        features=[
            FeatureSpec(name="contact_age", kind="age_days", source="last_contact"),
            FeatureSpec(name="created_month", kind="month", source="created"),
        ],
    )


def test_a_single_lead_reads_dates_as_the_training_data_did() -> None:
    frame = pd.DataFrame(
        {
            "created": ["23/10/2026", "05/11/2026", "14/09/2026"],
            "last_contact": ["01/10/2026", "01/11/2026", "13/09/2026"],
            "won": [1, 0, 1],
        }
    )
    checked = validate(frame, _dated_schema(), min_class_count=1)
    encoder = FeatureEncoder.fit(checked.schema, checked.frame)
    assert encoder.day_first
    lead = {"created": "05/11/2026", "last_contact": "01/11/2026"}
    row = encoder.encode_row(lead)[0]
    np.testing.assert_allclose(row, [4.0, 11.0])  # 5 Nov - 1 Nov, November
    np.testing.assert_allclose(encoder.transform(checked.frame)[1], row)
    # the day order travels with the bundle
    again = FeatureEncoder.from_dict(encoder.to_dict())
    np.testing.assert_allclose(again.encode_row(lead)[0], row)
    month_first = FeatureEncoder.from_dict({**encoder.to_dict(), "day_first": False})
    assert month_first.encode_row(lead)[0][1] == 5.0  # what reading it month first would give


def test_validation_settles_the_order_and_the_split_follows_it() -> None:
    days = pd.date_range("2026-01-01", periods=200, freq="D")
    frame = pd.DataFrame(
        {
            "created": days.strftime("%d/%m/%Y"),
            "last_contact": (days - pd.Timedelta(days=3)).strftime("%d/%m/%Y"),
            "won": np.tile([0, 1, 0, 0], 50),
        }
    )
    checked = validate(frame, _dated_schema(), min_class_count=10)
    assert checked.schema.day_first is True
    assert any("day first" in w for w in checked.warnings)
    split = split_rows(checked.frame, checked.y, checked.schema, 0.2, 0.2, seed=0)
    # the newest fifth by the real calendar: the last 40 days, not the days 1-12 of each month
    assert sorted(split.test.tolist()) == list(range(160, 200))
    # a schema that says otherwise wins over the data
    told = _dated_schema().model_copy(update={"day_first": False})
    assert validate(frame, told, min_class_count=10).schema.day_first is False


def test_training_on_a_day_first_export_equals_training_on_iso_dates(tmp_path) -> None:
    iso = generate_leads(3000, seed=5)
    european = iso.copy()
    european["created_at"] = pd.to_datetime(iso["created_at"]).dt.strftime("%d/%m/%Y %H:%M:%S")
    settings = cheap_settings(tmp_path)  # equal trainings are the point, not their precision
    one = train_leads(iso, bundled_schema(), settings, out=tmp_path / "iso", track=False)
    two = train_leads(european, bundled_schema(), settings, out=tmp_path / "eu", track=False)
    assert not one.model.encoder.day_first and two.model.encoder.day_first
    assert two.model.meta["data"]["time_from"] == one.model.meta["data"]["time_from"]
    assert two.model.meta["data"]["time_to"] == one.model.meta["data"]["time_to"]
    assert two.metrics["roc_auc"] == pytest.approx(one.metrics["roc_auc"], abs=1e-12)


def test_schema_infer_writes_the_day_order() -> None:
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 500, 300)), "D")
    frame = pd.DataFrame(
        {
            "data_criacao": days.strftime("%d/%m/%Y"),
            "visitas": rng.poisson(3, 300),
            "convertido": rng.choice(["sim", "não"], 300),
        }
    )
    found = suggest_schema(frame, "convertido", positive="sim")
    assert found.schema.day_first is True
    assert "day_first = true" in found.to_toml()
    us = frame.assign(data_criacao=days.strftime("%m/%d/%Y"))
    assert suggest_schema(us, "convertido", positive="sim").schema.day_first is None
