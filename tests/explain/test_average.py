"""The average lead's score beside the share of leads that convert, never two unexplained
numbers for "the average"."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from leadml.explain.attributions import explain_lead
from leadml.explain.average import average_lead_words, conversion_rate
from leadml.modeling.finish import TrainResult


def test_the_two_averages_are_said_together_with_why() -> None:
    assert average_lead_words(9.2, 0.18) == (
        "the average lead's 9 (18 % of leads convert: a few far likelier leads lift that "
        "share above the average lead's score)"
    )
    assert "pull that share below" in average_lead_words(80.0, 0.6)
    assert average_lead_words(18.3, 0.18) == "the average lead's 18 (18 % of leads convert)"
    assert average_lead_words(9.0, None) == "the average lead's 9"


def test_the_rate_is_the_learned_leads_and_the_base_score_is_below_it(
    trained: TrainResult, leads: pd.DataFrame
) -> None:
    """Why they differ, measured: the base score is the calibrated probability of the average
    log-odds, which on a cold-heavy history sits below the share that converts."""
    model = trained.model
    counts = model.meta["label"]["counts"]
    learned = counts["converted"] + counts["not_converted"]
    assert conversion_rate(model) == pytest.approx(counts["converted"] / learned)
    base = explain_lead(model, {}).base_score
    mean_p = float(np.mean(model.predict_proba(model.matrix(leads.head(4_000)))))
    assert base < 100 * mean_p  # averaging log-odds first gives less
    assert "% of leads convert: a few far likelier" in average_lead_words(base, mean_p)
    unlabelled = replace(model, meta={k: v for k, v in model.meta.items() if k != "label"})
    assert conversion_rate(unlabelled) == model.metrics["test_positive_rate"]
