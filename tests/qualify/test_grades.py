"""Grades: cut-offs, labels, and the strictly-falling conversion check."""

from __future__ import annotations

import numpy as np

from leadml.qualify.grades import GradeBands, choose_bands


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


def test_constant_scores_are_reported_not_strict() -> None:
    p = np.full(1000, 0.2)
    y = np.r_[np.ones(200), np.zeros(800)].astype(int)
    _, _, strict = choose_bands(p, y)
    assert not strict
