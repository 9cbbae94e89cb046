"""Copies of a flagged column are flagged with it; an independent column is not."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.data.copies import copy_evidence, find_copies, maps_to
from leadml.data.leakage import LeakageAudit, audit_leakage
from leadml.data.suggest import suggest_schema
from leadml.data.validate import validate
from leadml.features.encoder import FeatureEncoder
from leadml.schema.spec import FeatureSpec

N = 3000


def leads(seed: int = 0) -> pd.DataFrame:
    """Leads with a sales score (7–18, blank for 45%) set after contact, its binned "index"
    blank in the same rows, and honest low-cardinality columns beside them."""
    rng = np.random.default_rng(seed)
    visits = rng.poisson(3, N)
    converted = (rng.random(N) < 1 / (1 + np.exp(-(-1.5 + 0.3 * visits)))).astype(int)
    score = np.clip(np.round(rng.normal(13 + 1.2 * converted, 2)), 7, 18)
    score = np.where(rng.random(N) < 0.45, np.nan, score)
    index = np.select([score >= 15, score >= 13], ["01.High", "02.Medium"], "03.Low")
    return pd.DataFrame(
        {
            "visits": visits,
            "Asymmetrique Activity Score": score,
            "Asymmetrique Activity Index": np.where(np.isnan(score), None, index),
            "Do Not Call": rng.choice(["Yes", "No"], N, p=[0.005, 0.995]),
            "Region": rng.choice(["North", "South", "East"], N),
            "converted": converted,
        }
    )


def run_audit(frame: pd.DataFrame, **kwargs) -> LeakageAudit:
    checked = validate(frame, suggest_schema(frame, "converted").schema)
    matrix = FeatureEncoder.fit(checked.schema, checked.frame).transform(checked.frame)
    return audit_leakage(
        checked.frame, matrix, checked.y, checked.schema, converted=checked.converted, **kwargs
    )


def test_a_binned_copy_of_a_flagged_score_is_flagged_with_it() -> None:
    found = run_audit(leads())
    assert set(found.flagged) == {"Asymmetrique Activity Score", "Asymmetrique Activity Index"}
    assert found.flagged["Asymmetrique Activity Index"] == [
        "a copy of flagged 'Asymmetrique Activity Score' (binned: each of its values maps to "
        "one of this column's)"
    ]
    assert "--allow 'Asymmetrique Activity Index'" in found.warnings[-1]


def test_the_copy_is_kept_with_its_original_when_the_original_is_honest() -> None:
    """Renamed so no rule flags the score, or kept with --allow: its copy is just a column."""
    frame = leads().rename(columns={"Asymmetrique Activity Score": "Asymmetrique Activity"})
    assert run_audit(frame).flagged == {}
    kept = run_audit(leads(), allow=["Asymmetrique Activity Score"])
    assert list(kept.flagged) == kept.allowed == ["Asymmetrique Activity Score"]


def test_independent_low_cardinality_columns_are_not_copies() -> None:
    frame = leads()
    y = frame["converted"].to_numpy()
    frame["Lead Origin"] = np.where(
        np.random.default_rng(1).random(N) < 0.3 + 0.2 * y, "Landing Page", "API"
    )
    found = run_audit(frame)
    for honest in ("Region", "Do Not Call", "Lead Origin", "visits"):
        assert honest not in found.flagged


def test_a_rescaled_and_a_range_binned_copy_of_a_many_valued_number() -> None:
    rng = np.random.default_rng(2)
    frame = leads().drop(columns=["Asymmetrique Activity Score", "Asymmetrique Activity Index"])
    seconds = rng.gamma(2, 150, N) * (1 + frame["converted"].to_numpy())
    frame["call_duration"] = np.round(seconds)  # flagged by its name, ~1,000 values
    frame["call_minutes"] = np.round(seconds / 60, 2)
    frame["call_length"] = pd.cut(seconds, [0, 60, 300, 900, np.inf], labels=list("ABCD"))
    # a grouping of the bands that is not one range each: a copy of the copy only
    frame["call_group"] = frame["call_length"].map({"A": "x", "B": "y", "C": "x", "D": "y"})
    found = run_audit(frame.astype({"call_length": object, "call_group": object}))
    assert found.flagged["call_minutes"] == [
        "a copy of flagged 'call_duration' (rescaled: Spearman 1.000)"
    ]
    assert found.flagged["call_length"] == [
        "a copy of flagged 'call_duration' (binned: each of its ranges is one of this column's)"
    ]
    assert found.flagged["call_group"][0].startswith("a copy of flagged 'call_")
    assert not {"Region", "Do Not Call", "visits"} & set(found.flagged)


def test_a_near_unique_column_determines_nothing() -> None:
    """Every column is a function of a column with a value per row: that is not a copy."""
    rng = np.random.default_rng(3)
    unique = np.arange(N, dtype=np.int64)
    region = rng.integers(0, 3, N)
    assert not maps_to(region, unique)
    assert maps_to(region % 2, region)
    rare = region.copy()
    rare[:3] = 3  # a level on three rows, and a flag set on exactly them: three rows say nothing
    assert not maps_to((rare == 3).astype(np.int64), rare)
    renamed = copy_evidence(2.0 - region, "categorical", region.astype(float), "categorical", "r")
    assert (
        renamed == "a copy of flagged 'r' (the same values renamed: one to one with this column's)"
    )


def test_missing_in_the_same_rows_counts_as_a_value() -> None:
    rng = np.random.default_rng(4)
    original = rng.integers(0, 5, N).astype(float)
    original[rng.random(N) < 0.4] = np.nan
    copy = np.where(np.isnan(original), np.nan, original // 2)
    elsewhere = np.where(rng.random(N) < 0.4, np.nan, original // 2)  # blank in other rows
    spec = [
        FeatureSpec(name="o", kind="categorical"),
        FeatureSpec(name="c", kind="categorical"),
        FeatureSpec(name="e", kind="categorical"),
    ]
    found = find_copies(np.column_stack([original, copy, elsewhere]), spec, ["o"])
    assert list(found) == ["c"]
