"""Labels that have had time to mature, and a backtest that replays what the team knew.

Unit tests on small hand-made tables (every count can be worked out by hand) and on the
synthetic history exported as a CRM shows it (``generate_leads(as_of=...)``); no model is
trained here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from leadml.data.maturity import LabelRule, apply_horizon, choose_horizon, parse_horizon
from leadml.data.split import backtest_folds, row_order_hint
from leadml.data.suggest import suggest_schema
from leadml.data.synthetic import eventual_outcomes, generate_leads
from leadml.data.target import CONVERTED, NOT_CONVERTED, OPEN
from leadml.data.timeline import CREATED_AFTER, Timeline, parse_as_of
from leadml.data.validate import validate
from leadml.errors import DataError
from leadml.schema import LeadSchema

AS_OF = "2026-06-01"


def table(rows: list[tuple]) -> pd.DataFrame:
    """Leads as (created, status, converted_at), dates as text like a CSV."""
    return pd.DataFrame(rows, columns=["created", "status", "won_at"]).assign(
        lead_id=lambda f: [f"L{i}" for i in range(len(f))], source="web"
    )


def schema_of(frame: pd.DataFrame, **update) -> LeadSchema:
    schema = LeadSchema.from_dict(
        {
            "target": "status",
            "positive": "won",
            "id": "lead_id",
            "time": "created",
            "converted_at": "won_at",
            "features": {"source": {"kind": "categorical"}},
        }
    )
    return schema.model_copy(update=update)


def timeline(frame: pd.DataFrame, codes: list[int], as_of: str) -> Timeline:
    typed = frame.assign(
        created=pd.to_datetime(frame["created"]), won_at=pd.to_datetime(frame["won_at"])
    )
    stamp = float(pd.Timestamp(as_of).value)
    return Timeline.of(typed, np.array(codes, dtype=np.int8), schema_of(frame), stamp)


HAND = table(
    [
        ("2026-01-01", "won", "2026-01-10"),  # converted within 30 days: 1
        ("2026-01-02", "won", "2026-03-20"),  # converted, but after 30 days: 0
        ("2026-01-03", "lost", None),  # old enough, lost: 0
        ("2026-01-04", "working", None),  # still open: never learned from
        ("2026-05-25", "won", "2026-05-28"),  # young (7 days old), converted already: settled
        ("2026-05-26", "lost", None),  # young, lost, no close date: not settled
        ("2026-05-30", "won", "2026-06-15"),  # converted after the export date: open then
        ("2026-06-10", "lost", None),  # created after the export date: not there yet
    ]
)
HAND_CODES = [CONVERTED, CONVERTED, NOT_CONVERTED, OPEN, CONVERTED, NOT_CONVERTED, CONVERTED]
HAND_CODES += [NOT_CONVERTED]


def test_the_export_date_hides_what_had_not_happened_yet() -> None:
    line = timeline(HAND, HAND_CODES, AS_OF)
    assert line.code[6] == OPEN and np.isnan(line.converted[6])  # won on 15 June: open on 1 June
    assert line.code[7] == CREATED_AFTER
    assert list(line.code[:6]) == HAND_CODES[:6]


def test_a_horizon_learns_only_from_leads_old_enough() -> None:
    labels = apply_horizon(timeline(HAND, HAND_CODES, AS_OF), 30)
    assert labels.learn.tolist() == [True, True, True, False, False, False, False, False]
    assert labels.y[labels.learn].tolist() == [1, 0, 0]
    assert labels.counts == {
        "open": 2,
        "created_after_as_of": 1,
        "immature": 2,  # converted or not: a young lead is too young to learn from
        "young_settled": 1,  # one of them converted already: it tells the newest level
        "converted_after_horizon": 1,
        "converted_no_date": 0,
        "converted": 1,
        "not_converted": 2,
    }
    assert labels.fresh.tolist() == [False] * 4 + [True] + [False] * 3
    np.testing.assert_allclose(labels.settled_days[[0, 1, 2, 4]], [9, 30, 30, 3])
    assert np.isnan(labels.settled_days[[3, 5, 6, 7]]).all()
    # what a backtest's cutoff may learn from: each lead once it is 30 days old
    created = pd.to_datetime(HAND["created"][:3]).to_numpy(dtype="datetime64[ns]").astype(float)
    np.testing.assert_array_equal(labels.known_at[:3], created + 30 * 86_400 * 10**9)


def test_without_a_horizon_closed_outcomes_are_final_and_open_leads_still_left_out() -> None:
    labels = apply_horizon(timeline(HAND, HAND_CODES, AS_OF), None)
    assert labels.learn.tolist() == [True, True, True, False, True, True, False, False]
    assert labels.y[labels.learn].tolist() == [1, 1, 0, 1, 0]


def test_flags_are_checked_before_any_work() -> None:
    assert parse_horizon("auto") == "auto" and parse_horizon(" None ") == "none"
    assert parse_horizon("90") == 90
    for bad in ("0", "-3", "1.5", "soon"):
        with pytest.raises(DataError, match="--horizon must be auto, none or a whole number"):
            parse_horizon(bad)
    assert parse_as_of("2018-04-01") == pd.Timestamp("2018-04-01 23:59:59")
    with pytest.raises(DataError, match="--as-of must be a date"):
        parse_as_of("yesterday-ish")


@pytest.fixture(scope="module")
def export() -> pd.DataFrame:
    """The synthetic history as a CRM shows it on 2026-06-01: won, lost and open leads."""
    return generate_leads(6000, seed=5, as_of=AS_OF)


def test_auto_horizon_on_a_live_funnel(export: pd.DataFrame) -> None:
    schema = suggest_schema(export, "status").schema
    assert schema.converted_at == "converted_at" and schema.closed_at == "closed_at"
    checked = validate(export, schema)
    label = checked.label
    assert label is not None and label.horizon_days in (30, 45, 60, 90, 120)
    assert "horizon auto" in label.horizon.why
    counts = label.counts
    # open leads and young leads are counted, never learned from; in a status export a young
    # lead is open until it is won or lost, and then settled (its date says when)
    assert counts["open"] == int(export["status"].isin(schema.open).sum()) > 0
    assert counts["immature"] == counts["young_settled"] > 0
    assert counts["converted"] + counts["not_converted"] == len(checked.frame)
    created = pd.to_datetime(checked.frame["created_at"])
    assert (created <= pd.Timestamp(AS_OF) - pd.Timedelta(days=label.horizon_days)).all()
    assert checked.maturity is not None and len(checked.maturity.fresh_y) == counts["young_settled"]
    # the label is "converted within the horizon", judged against the leads' eventual fate
    truth = eventual_outcomes(6000, seed=5, as_of=AS_OF).set_index("lead_id")
    days = truth.loc[checked.frame["lead_id"], "days_to_convert"].to_numpy()
    np.testing.assert_array_equal(checked.y, (days <= label.horizon_days).astype(int))


def test_a_horizon_is_refused_where_it_cannot_apply(export: pd.DataFrame) -> None:
    schema = suggest_schema(export, "status").schema
    no_time = schema.model_copy(update={"time": None, "features": schema.features[:3]})
    with pytest.raises(DataError, match="needs a time column"):
        validate(export, no_time, rule=LabelRule.parse("30"))
    with pytest.raises(DataError, match="too few leads are old enough"):
        young = export.assign(created_at=pd.to_datetime(export["created_at"]).max())
        validate(young, schema, rule=LabelRule.parse("auto"))


def test_the_backtest_learns_only_what_was_known_at_each_cutoff(export: pd.DataFrame) -> None:
    schema = suggest_schema(export, "status").schema
    checked = validate(export, schema, rule=LabelRule.parse("60"))
    frame, y = checked.frame, checked.y
    folds = backtest_folds(frame, y, schema, 4, 0.2, 0, known_at=checked.known_at)
    created = pd.to_datetime(frame["created_at"])
    converted = pd.to_datetime(frame["converted_at"])
    for fold in folds.folds:
        cutoff = pd.Timestamp(fold.cutoff)
        learned = np.zeros(len(frame), dtype=bool)
        learned[fold.train] = True
        # a lead that converted after the cutoff is never a positive in that fold's training
        late = (converted > cutoff).to_numpy()
        assert not (learned & late & (y == 1)).any()
        # a lead too young at the cutoff to tell (younger than the horizon) is absent
        young = (created > cutoff - pd.Timedelta(days=60)).to_numpy()
        assert not (learned & young).any()
        older = (created < cutoff).to_numpy() & ~np.isin(np.arange(len(frame)), fold.test)
        assert fold.not_yet_known == int((older & young).sum()) > 0


def test_young_leads_that_convert_less_are_named_without_a_conversion_date(
    shared_data,
) -> None:
    folder = shared_data / "olist-marketing-funnel"
    mql = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    as_of = pd.Timestamp("2018-04-01")
    won = dict(zip(deals["mql_id"], pd.to_datetime(deals["won_date"]), strict=True))
    mql = mql[pd.to_datetime(mql["first_contact_date"]) < as_of]
    mql = mql.assign(converted=[int(won.get(i, as_of) < as_of) for i in mql["mql_id"]])
    schema = suggest_schema(mql, "converted").schema  # no conversion date: no horizon
    assert schema.converted_at is None
    checked = validate(mql, schema)
    (warning,) = [w for w in checked.warnings if "may not have had time" in w]
    assert "--horizon DAYS" in warning and "--converted-at COL" in warning
    # the synthetic history's newest leads convert as much as the rest: no warning
    leads = generate_leads(4000, seed=3)
    plain = validate(leads, suggest_schema(leads, "converted").schema)
    assert not [w for w in plain.warnings if "may not have had time" in w]


def test_rows_in_time_order_are_noticed_and_a_shuffled_copy_is_not(shared_data) -> None:
    bank = pd.read_csv(shared_data / "bank-marketing" / "bank-full.csv", sep=";")
    y = (bank["y"] == "yes").to_numpy(dtype=int)
    schema = LeadSchema.from_dict(
        {"target": "y", "positive": "yes", "features": {"age": {"kind": "numeric"}}}
    )
    hint = row_order_hint(y, schema)
    assert hint is not None and "--time-order" in hint
    shuffled = np.random.default_rng(0).permutation(y)
    assert row_order_hint(shuffled, schema) is None
    assert row_order_hint(y, schema.model_copy(update={"rows_in_time_order": True})) is None
    horizon = choose_horizon(
        timeline(HAND, HAND_CODES, AS_OF), "none"
    )  # a horizon of none is always allowed
    assert horizon.days is None
