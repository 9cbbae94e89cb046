"""PSI, its bands, the bins both sides are cut into, and the sentences that name what moved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.monitor.drift import (
    FLOOR,
    _examples,
    band,
    moved_phrase,
    numeric_bin_labels,
    pool_rare_levels,
    psi,
)
from leadml.monitor.profile import decile_edges, level_counts, numeric_counts


def test_identical_distributions_have_no_drift() -> None:
    counts = np.array([120, 300, 80, 500])
    assert psi(counts, counts) == pytest.approx(0.0, abs=1e-12)
    assert psi(counts, counts * 7) == pytest.approx(0.0, abs=1e-12)  # shares, not sizes


def test_psi_is_the_textbook_sum_and_symmetric() -> None:
    e = np.array([0.5, 0.3, 0.2])
    a = np.array([0.2, 0.3, 0.5])
    textbook = float(np.sum((a - e) * np.log(a / e)))
    assert psi(e, a) == pytest.approx(textbook)
    assert psi(e, a) == pytest.approx(psi(a, e))
    assert psi(e, a) > 0.25  # a known shift lands in "act"


def test_an_empty_bin_gives_a_large_finite_index() -> None:
    reference = np.array([500, 500, 0])  # a lead source never seen in training
    recent = np.array([350, 350, 300])
    value = psi(reference, recent)
    assert np.isfinite(value) and value > 1.0
    e, a = np.array([0.5, 0.5, FLOOR]), np.array([0.35, 0.35, 0.3])
    assert value == pytest.approx(float(np.sum((a - e) * np.log(a / e))))
    assert np.isnan(psi(reference, np.zeros(3)))  # no recent lead: nothing to say


def test_sampling_noise_stays_far_below_the_watch_band() -> None:
    rng = np.random.default_rng(0)
    shares = rng.dirichlet(np.ones(11))
    reference = rng.multinomial(20_000, shares)
    worst = max(psi(reference, rng.multinomial(1_000, shares)) for _ in range(50))
    assert worst < 0.05


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0.0, "stable"), (0.0999, "stable"), (0.1, "watch"), (0.25, "watch"), (0.2501, "act"),
     (3.0, "act"), (float("nan"), "unknown")],
)  # fmt: skip
def test_bands(value: float, expected: str) -> None:
    assert band(value) == expected


def test_numeric_bins_are_deciles_closed_on_the_right() -> None:
    visits = np.array([0.0] * 60 + [1.0] * 20 + [2.0] * 10 + [5.0] * 9 + [40.0])
    edges = decile_edges(np.r_[visits, np.nan])
    assert edges == sorted(set(edges))  # repeated deciles merged
    assert edges[0] == 0.0  # "0 visits" keeps a bin of its own
    counts, missing = numeric_counts(np.r_[visits, np.nan, np.nan], edges)
    assert counts[0] == 60 and counts.sum() == 100 and missing == 2
    assert numeric_bin_labels([0.0, 1.0, 2.5])[0] == "≤ 0"
    assert numeric_bin_labels([0.0, 1.0, 2.5])[-1] == "> 2.5"
    assert decile_edges(np.array([np.nan])) == []


def test_level_counts_put_unknown_codes_with_missing() -> None:
    counts, missing = level_counts(np.array([0, 1, 1, np.nan, 2, 5]), 3)
    assert counts.tolist() == [1, 2, 1] and missing == 2


def test_rare_levels_share_one_bin() -> None:
    levels = [f"title {i}" for i in range(42)]
    reference = list(range(100, 142))
    recent = np.arange(42)
    labels, ref, rec = pool_rare_levels(levels, reference, recent)
    assert len(labels) == 16 and labels[-1] == "27 rarer levels"
    assert ref.sum() == sum(reference) and rec.sum() == recent.sum()
    assert labels[:15] == levels[27:]  # the most common, in their own order
    few = pool_rare_levels(levels[:5], reference[:5], recent[:5])
    assert few[0] == levels[:5]


def _item(**fields) -> dict:
    return {"label": "Budget", "type": "level", **fields}


def test_sentences_name_the_level_that_moved_most() -> None:
    item = _item(moved={"bin": "< 10k", "reference": 0.21, "recent": 0.38})
    assert moved_phrase(item) == "38 % of recent leads say '< 10k', 21 % did in training"
    blank = _item(moved={"bin": "missing", "reference": 0.05, "recent": 0.3})
    assert moved_phrase(blank) == "30 % of recent leads leave budget blank, 5 % did in training"
    unseen = _item(
        label="Lead source",
        moved={"bin": "other", "reference": 0.0, "recent": 0.12},
        unseen_examples=["AI chat"],
    )
    assert moved_phrase(unseen) == (
        "12 % of recent leads have lead source values never seen in training (e.g. 'AI chat')"
    )
    numeric = _item(
        label="Company size",
        type="numeric",
        moved={"bin": "50–120", "reference": 0.1, "recent": 0.3},
        median={"reference": 85.0, "recent": 1200.0},
    )
    assert moved_phrase(numeric) == "median company size moved from 85 to 1,200"


def test_only_shared_unremarkable_values_are_quoted() -> None:
    values = pd.Series(
        ["AI chat"] * 20
        + ["ana.silva@example.com"] * 9
        + ["+44 20 7946 0958"] * 9
        + ["Podcast"] * 6
        + ["Ben Smith"] * 2,
        dtype="str",
    )
    assert _examples(values) == ["AI chat", "Podcast"]  # never an email, a phone or a one-off
