"""Validation of training data: one clear message naming the column and rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.data.split import split_rows
from leadml.data.target import classify_target, spell
from leadml.data.validate import validate
from leadml.errors import DataError
from leadml.schema import LeadSchema


@pytest.fixture()
def small(leads: pd.DataFrame) -> pd.DataFrame:
    return leads.head(3000).copy()


def test_valid_data_passes(small: pd.DataFrame, schema: LeadSchema) -> None:
    checked = validate(small, schema)
    assert checked.y.sum() == small["converted"].sum()
    assert checked.warnings == []


def test_no_target_column(small: pd.DataFrame, schema: LeadSchema) -> None:
    with pytest.raises(DataError, match="target column 'converted' not found"):
        validate(small.drop(columns="converted"), schema)


def test_one_class(small: pd.DataFrame, schema: LeadSchema) -> None:
    with pytest.raises(DataError, match="only one class"):
        validate(small.assign(converted=0), schema)


def test_too_few_positives(small: pd.DataFrame, schema: LeadSchema) -> None:
    y = np.zeros(len(small), dtype=int)
    y[:39] = 1
    with pytest.raises(DataError, match=r"39 converted .* at least 40"):
        validate(small.assign(converted=y), schema)


def test_unparseable_numbers_name_column_and_rows(small: pd.DataFrame, schema: LeadSchema) -> None:
    broken = small.astype({"employees": object})
    broken.loc[[3, 17], "employees"] = "about fifty"
    with pytest.raises(DataError, match=r"'employees' has 2 non-numeric values \(rows 5, 19"):
        validate(broken, schema)


def test_no_rows(small: pd.DataFrame, schema: LeadSchema) -> None:
    with pytest.raises(DataError, match="no rows"):
        validate(small.head(0), schema)


def test_unknown_ordinal_answer(small: pd.DataFrame, schema: LeadSchema) -> None:
    broken = small.copy()
    broken.loc[10, "budget_range"] = "a million"
    with pytest.raises(DataError, match="'budget_range' has 1 answers not in its levels"):
        validate(broken, schema)


def test_all_missing_column_is_left_out_with_a_warning(
    small: pd.DataFrame, schema: LeadSchema
) -> None:
    checked = validate(small.assign(country=None), schema)
    assert "country" not in checked.schema.feature_names
    assert any("'country' has no values" in w for w in checked.warnings)


def codes(values: list, positive: str | None = None) -> list[int]:
    text = spell(pd.Series(values, name="s"))
    return classify_target(text.dropna().unique(), "s", positive).codes(text).tolist()


def test_a_value_nothing_places_is_named() -> None:
    with pytest.raises(DataError, match="cannot tell whether 'maybe'"):
        codes(["yes", "no", "maybe"])


def test_target_words_are_normalised() -> None:
    assert codes(["Won", "Lost", "won"]) == [1, 0, 1]
    assert codes([1, 0, 1.0], "1") == [1, 0, 1]
    assert codes(["Won", "Engaging", "Lost"]) == [1, -1, 0]
    with pytest.raises(DataError, match="--positive"):
        codes(["red", "blue"])


def test_time_split_takes_the_newest_fifth(small: pd.DataFrame, schema: LeadSchema) -> None:
    shuffled = small.sample(frac=1, random_state=0).reset_index(drop=True)
    y = shuffled["converted"].to_numpy()
    split = split_rows(shuffled, y, schema)
    created = pd.to_datetime(shuffled["created_at"])
    assert len(split.test) == 600
    assert created.iloc[split.test].min() >= created.iloc[split.valid].max()
    assert created.iloc[split.valid].min() >= created.iloc[split.train].max()
    assert split.method.startswith("time")
