"""Grades: cut-offs, labels, the strictly-falling conversion check, and the stage from a
capacity cut-off (which must leave every bundle without one as it was)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from leadml.bundle.check import check_bands
from leadml.errors import ModelLoadError
from leadml.qualify.grades import ALWAYS_A, GradeBands, choose_bands


def test_grade_cutoffs_are_inclusive_lower_bounds() -> None:
    bands = GradeBands((0.5, 0.2, 0.05))
    p = np.array([0.9, 0.5, 0.49, 0.2, 0.1, 0.05, 0.01])
    assert bands.grade(p).tolist() == ["A", "A", "B", "B", "C", "C", "D"]
    assert [bands.grade_one(float(v)) for v in p] == bands.grade(p).tolist()
    labels = bands.labels(p)
    assert labels["score"].tolist() == [90, 50, 49, 20, 10, 5, 1]
    assert labels["tier"].tolist()[0] == "hot" and labels["stage"].tolist()[-1] == "nurture"
    # one rule for a batch and for one lead (the serving path): the same labels to the bit
    assert [bands.label_one(float(v)) for v in p] == labels.to_dict(orient="records")


def test_chosen_bands_fall_strictly_on_informative_scores() -> None:
    rng = np.random.default_rng(0)
    p = rng.beta(1, 5, 20_000)
    y = (rng.random(20_000) < p).astype(int)
    _, table, strict = choose_bands(p, y)
    assert strict
    assert np.all(np.diff(table["conversion"]) < 0)
    assert table["share"].round(2).tolist() == [0.1, 0.2, 0.3, 0.4]


def test_a_lead_a_rep_reads_as_hot_is_never_below_a() -> None:
    """A third of this export's leads score above 90 %: by shares alone the top tenth starts
    near 96 %, and a 93 % lead would be a B. From 90 % a lead is an A (tier hot, stage SQL),
    and B and C keep their shares of the leads below."""
    rng = np.random.default_rng(4)
    p = np.r_[rng.uniform(0.9, 0.99, 3_000), rng.beta(1, 6, 7_000)]
    y = (rng.random(len(p)) < p).astype(int)
    assert np.quantile(p, 0.9) > 0.93  # shares alone would make 93 % a B
    bands, table, _ = choose_bands(p, y)
    assert bands.cutoffs[0] == ALWAYS_A
    assert bands.label_one(0.93) == {
        "probability": 0.93, "score": 93, "grade": "A", "tier": "hot", "stage": "SQL"
    }  # fmt: skip
    assert bands.grade(np.array([0.899, 0.9])).tolist()[1] == "A"
    below = table.set_index("grade")["leads"]
    shares = below[["B", "C"]] / below[["B", "C", "D"]].sum()
    assert shares.round(2).tolist() == [round(0.2 / 0.9, 2), round(0.3 / 0.9, 2)]


def test_bundles_written_before_grade_as_they_did() -> None:
    """The rule chooses cut-offs at training only: a stored A from 96 % stays so until the
    model is retrained (no silent regrading of a served model)."""
    old = {
        "cutoffs": [0.96, 0.5, 0.2],
        "tiers": {"A": "hot", "B": "warm", "C": "warm", "D": "cold"},
        "stages": {"A": "SQL", "B": "MQL", "C": "MQL", "D": "nurture"},
    }
    bands = GradeBands.from_dict(old)
    assert bands.grade_one(0.93) == "B" and bands.to_dict() == old


def test_a_is_never_above_what_its_leads_converted_at() -> None:
    """An overconfident model: the top tenth scores 80 % and up but converted at 55 %. A lead
    at least as likely as the A leads proved to be is an A."""
    rng = np.random.default_rng(5)
    p = np.r_[rng.uniform(0.8, 0.89, 1_000), rng.beta(1, 8, 9_000)]
    y = (rng.random(len(p)) < np.where(p >= 0.8, 0.55, p)).astype(int)
    bands, _, _ = choose_bands(p, y)
    proved = y[p >= np.quantile(p, 0.9)].mean()
    assert bands.cutoffs[0] == pytest.approx(proved)
    assert bands.grade_one(float(proved) + 0.01) == "A"
    assert bands.cutoffs[0] > bands.cutoffs[1] > bands.cutoffs[2]


def test_constant_scores_are_reported_not_strict() -> None:
    p = np.full(1000, 0.2)
    y = np.r_[np.ones(200), np.zeros(800)].astype(int)
    _, _, strict = choose_bands(p, y)
    assert not strict


def test_a_capacity_cut_off_moves_the_stage_only() -> None:
    """SQL from the cut-off whatever the grade; below it a grade's SQL reads MQL and every
    other stage stays; probability, score, grade and tier are those without a cut-off."""
    plain = GradeBands((0.5, 0.2, 0.05))
    p = np.array([0.9, 0.5, 0.31, 0.3, 0.29, 0.2, 0.1, 0.05, 0.01])
    for cut in (0.3, 0.6, 0.04):
        bands = replace(plain, sql_cutoff=cut, capacity={"capacity": 200.0, "per": "week"})
        labels, before = bands.labels(p), plain.labels(p)
        for column in ("probability", "score", "grade", "tier"):
            assert labels[column].tolist() == before[column].tolist()
        expected = [
            "SQL" if v >= cut else {"SQL": "MQL"}.get(s, s)
            for v, s in zip(p, before["stage"], strict=True)
        ]
        assert labels["stage"].tolist() == expected
        assert [bands.label_one(float(v)) for v in p] == labels.to_dict(orient="records")
    assert "SQL" in plain.labels(p)["stage"].tolist()


def test_bands_without_a_cut_off_write_what_they_always_wrote() -> None:
    old = {
        "cutoffs": [0.5, 0.2, 0.05],
        "tiers": {"A": "hot", "B": "warm", "C": "warm", "D": "cold"},
        "stages": {"A": "SQL", "B": "MQL", "C": "MQL", "D": "nurture"},
    }
    bands = GradeBands.from_dict(old)
    assert bands.sql_cutoff is None and bands.capacity is None
    assert json.dumps(bands.to_dict()) == json.dumps(old)
    with_cut = replace(bands, sql_cutoff=0.42, capacity={"per": "week", "capacity": 200.0})
    again = GradeBands.from_dict(json.loads(json.dumps(with_cut.to_dict())))
    assert again == with_cut and again.to_dict()["sql_cutoff"] == 0.42


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"sql_cutoff": 1.5}, "sql_cutoff"),
        ({"sql_cutoff": float("nan")}, "sql_cutoff"),
        ({"sql_cutoff": "0.4"}, "sql_cutoff"),
        ({"sql_cutoff": True}, "sql_cutoff"),
        ({"capacity": [200, "week"]}, "capacity"),
        ({"capacity": {"per": {"nested": 1}}}, "capacity"),
        ({"capacity": {"capacity": float("inf")}}, "capacity"),
    ],
)
def test_bundle_check_refuses_a_bad_cut_off_or_record(
    tmp_path: Path, extra: dict[str, Any], says: str
) -> None:
    bands = GradeBands((0.5, 0.2, 0.05)).to_dict()
    check_bands(tmp_path, bands)
    check_bands(tmp_path, bands | {"sql_cutoff": 0.3, "capacity": {"per": "week", "n": 2}})
    with pytest.raises(ModelLoadError, match=says):
        check_bands(tmp_path, bands | extra)
