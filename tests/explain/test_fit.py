"""Fit and engagement scores: the same attributions, split by who the lead is and what it did."""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.data.synthetic import generate_leads
from leadml.explain.attributions import explain_matrix, explain_rows, explanation_columns
from leadml.explain.fit import FIT_GROUPS, side_indices
from leadml.modeling.finish import TrainResult


def test_fit_and_engagement_are_the_scores_of_each_side_alone(trained: TrainResult) -> None:
    model = trained.model
    leads = generate_leads(300, seed=21)
    x = model.matrix(leads)
    rows = explain_rows(model, x)
    fit_idx, eng_idx = side_indices([model.schema.feature(n) for n in model.feature_names])
    assert fit_idx and eng_idx
    assert all(model.schema.feature(model.feature_names[j]).group in FIT_GROUPS for j in fit_idx)
    phi = rows.contributions
    expected_fit = np.rint(100 * model.calibrator(rows.base_value + phi[:, fit_idx].sum(axis=1)))
    np.testing.assert_array_equal(rows.fit, expected_fit)
    # One lead at a time (the API's path) gives the same numbers as the table (the CSV's).
    one = explain_matrix(model, x[:50])
    columns = explanation_columns(model, leads.head(50), x=x[:50])
    assert [e.fit for e in one] == columns["fit_score"].tolist() == rows.fit[:50].tolist()
    assert [e.engagement for e in one] == columns["engagement_score"].tolist()


def test_engagement_follows_what_the_lead_did(trained: TrainResult) -> None:
    model = trained.model
    lead = generate_leads(1, seed=3)
    busy = lead.assign(
        site_visits=40, pages_viewed=120, time_on_site_min=90, email_opens=20, email_clicks=12,
        demo_requested=True, pricing_page_views=8, days_since_last_activity=0,
        content_downloads=6, webinar_attended=True,
    )  # fmt: skip
    idle = lead.assign(
        site_visits=0, pages_viewed=0, time_on_site_min=0, email_opens=0, email_clicks=0,
        demo_requested=False, pricing_page_views=0, days_since_last_activity=200,
        content_downloads=0, webinar_attended=False,
    )  # fmt: skip
    both = pd.concat([busy, idle], ignore_index=True)
    e_busy, e_idle = explain_matrix(model, model.matrix(both))
    assert e_busy.engagement > e_idle.engagement + 20
    # Who they are did not change; fit moves only by the interaction effects TreeSHAP shares
    # between fields that interact (measured 2 points here).
    assert abs(e_busy.fit - e_idle.fit) <= 3


def test_a_side_with_nothing_known_has_no_score(trained: TrainResult) -> None:
    model = trained.model
    fit_idx, _ = side_indices([model.schema.feature(n) for n in model.feature_names])
    x = model.matrix(generate_leads(5, seed=4))
    x[:, list(fit_idx)] = np.nan
    for e in explain_matrix(model, x):
        assert e.fit is None and e.engagement is not None
