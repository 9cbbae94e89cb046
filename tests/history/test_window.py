"""The monitor's reads on SQLite and PostgreSQL: each lead's latest score in the window with its
outcome, served and shadow scores apart and side by side, rows that cannot be read skipped."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from leadml.history.engine import make_engine
from leadml.history.outcomes import Outcome, record_outcomes
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory
from leadml.history.tables import upgrade
from leadml.history.window import LEAD_COLUMNS, PAIR_COLUMNS, scored_leads, shadow_pairs

T0 = datetime(2026, 11, 1, tzinfo=UTC)
WON_AT = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def score(
    lead_id: str,
    points: int,
    hours: float = 0,
    tenant: str = "crm-a",
    version: str = "v1",
    shadow: bool = False,
) -> ScoreRecord:
    return ScoreRecord(
        tenant,
        lead_id,
        version,
        points / 100,
        points,
        "A" if points >= 60 else "D",
        T0 + timedelta(hours=hours),
        {"employees": float(points)},
        shadow=shadow,
    )


def write(url: str, records: list[ScoreRecord]) -> None:
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    keeper.record(records)
    assert keeper.flush()
    keeper.close()


@pytest.fixture()
def engine(db_url: str):
    write(
        db_url,
        [
            score("L1", 30, hours=0),
            score("L1", 70, hours=5),  # L1's latest served score
            score("L1", 90, hours=6, version="v2", shadow=True),
            score("L2", 20, hours=1),
            score("OLD", 50, hours=-48),
            score("L1", 10, hours=2, tenant="crm-b"),  # the same id in another tenant
            score("S-ONLY", 40, hours=3, version="v2", shadow=True),
        ],
    )
    engine = make_engine(db_url)
    record_outcomes(engine, "crm-a", [Outcome("L1", True, WON_AT), Outcome("OLD", False)])
    yield engine
    engine.dispose()


def test_scored_leads_latest_served_score_per_lead_with_its_outcome(engine) -> None:
    frame = scored_leads(engine, "crm-a", T0)
    assert list(frame.columns) == LEAD_COLUMNS
    assert frame["lead_id"].tolist() == ["L1", "L2"]  # in the order written; OLD is before T0
    one = frame.set_index("lead_id").loc["L1"]
    assert (one["tenant"], one["model_version"], one["score"], one["grade"]) == (
        "crm-a",
        "v1",
        70,
        "A",
    )
    assert one["probability"] == pytest.approx(0.7)
    assert one["scored_at"] == pd.Timestamp(T0 + timedelta(hours=5))
    assert one["features"] == {"employees": 70.0}
    assert one["converted"] is True or one["converted"] == True  # noqa: E712 (pandas scalar)
    assert one["outcome_at"] == pd.Timestamp(WON_AT)
    assert str(frame["converted"].dtype) == "boolean"
    assert str(frame["scored_at"].dtype) == "datetime64[us, UTC]"
    two = frame.set_index("lead_id").loc["L2"]
    assert two["converted"] is pd.NA and pd.isna(two["outcome_at"])


def test_the_whole_history_and_every_tenant(engine) -> None:
    everything = scored_leads(engine, None, None)
    assert sorted(zip(everything["tenant"], everything["lead_id"], strict=True)) == [
        ("crm-a", "L1"),
        ("crm-a", "L2"),
        ("crm-a", "OLD"),
        ("crm-b", "L1"),
    ]
    old = everything.set_index(["tenant", "lead_id"]).loc[("crm-a", "OLD")]
    assert old["converted"] == False  # noqa: E712 (pandas scalar)
    crm_b = everything.set_index(["tenant", "lead_id"]).loc[("crm-b", "L1")]
    assert crm_b["converted"] is pd.NA  # crm-a's outcome is not crm-b's


def test_the_window_picks_the_latest_score_inside_it(engine) -> None:
    late = scored_leads(engine, "crm-a", T0 + timedelta(hours=4))
    assert late["lead_id"].tolist() == ["L1"] and late["score"].tolist() == [70]
    # A bound in another zone is the same instant.
    zoned = (T0 + timedelta(hours=4)).astimezone(pd.Timestamp.now("Asia/Tokyo").tzinfo)
    assert scored_leads(engine, "crm-a", zoned)["lead_id"].tolist() == ["L1"]
    assert scored_leads(engine, "crm-a", T0 + timedelta(days=10)).empty


def test_shadow_scores_are_read_apart(engine) -> None:
    shadow = scored_leads(engine, "crm-a", None, shadow=True)
    assert sorted(shadow["lead_id"]) == ["L1", "S-ONLY"]
    assert set(shadow["model_version"]) == {"v2"}
    assert shadow.set_index("lead_id").loc["L1", "score"] == 90


def test_shadow_pairs_side_by_side(engine) -> None:
    pairs = shadow_pairs(engine, "crm-a", None)
    assert list(pairs.columns) == PAIR_COLUMNS
    assert len(pairs) == 1
    row = pairs.iloc[0]
    assert (row["lead_id"], row["tenant"]) == ("L1", "crm-a")
    assert (row["served_version"], row["served_score"], row["served_grade"]) == ("v1", 70, "A")
    assert (row["shadow_version"], row["shadow_score"], row["shadow_grade"]) == ("v2", 90, "A")
    assert row["served_probability"] == pytest.approx(0.7)
    assert row["shadow_probability"] == pytest.approx(0.9)
    assert row["converted"] == True  # noqa: E712 (pandas scalar)
    assert shadow_pairs(engine, "crm-b", None).empty
    assert list(shadow_pairs(engine, "crm-b", None).columns) == PAIR_COLUMNS


def test_an_empty_or_fresh_history_gives_empty_frames_with_every_column(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        frame = scored_leads(engine, None, None)
        assert frame.empty and list(frame.columns) == LEAD_COLUMNS
        assert str(frame["converted"].dtype) == "boolean"
        assert str(frame["scored_at"].dtype) == "datetime64[us, UTC]"
        assert shadow_pairs(engine, None, None).empty
    finally:
        engine.dispose()


def test_rows_that_cannot_be_read_are_skipped(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    write(url, [score("OK", 40)])
    engine = make_engine(url)
    try:
        with engine.begin() as conn:  # what an older release, or a hand edit, left behind
            conn.execute(
                sa.text(
                    "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, score, "
                    "grade, scored_at, features) VALUES ('crm-a', 'BAD-TIME', 'v1', 0.5, 50, 'B', "
                    "'never', NULL), ('crm-a', 'BAD-JSON', 'v1', 0.5, 50, 'B', "
                    "'2026-11-02 00:00:00', '{not json')"
                )
            )
        frame = scored_leads(engine, "crm-a", None)
        assert sorted(frame["lead_id"]) == ["BAD-JSON", "OK"]
        assert frame.set_index("lead_id").loc["BAD-JSON", "features"] is None
    finally:
        engine.dispose()


def test_a_hundred_thousand_leads_read_quickly(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    engine = make_engine(url)
    upgrade(engine)
    stamp = "2026-11-01 00:00:00.000000"
    rows = [
        (
            "crm-a",
            f"L{i}",
            "v1",
            (i % 100) / 100,
            i % 100,
            "B",
            stamp,
            '{"employees": 5.0}',
            i % 4 == 0,
        )
        for i in range(100_000)
    ]
    with engine.begin() as conn:  # straight through the driver: the setup is not under test
        conn.exec_driver_sql(
            "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, score, grade, "
            "scored_at, features, shadow) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    record_outcomes(engine, "crm-a", [Outcome(f"L{i}", i % 3 == 0) for i in range(1, 30_000, 4)])
    try:
        started = time.perf_counter()
        frame = scored_leads(engine, "crm-a", None)
        elapsed = time.perf_counter() - started
        assert len(frame) == 75_000 and int(frame["converted"].notna().sum()) == 7_500
        assert elapsed < 10, f"{elapsed:.1f} s"
        started = time.perf_counter()
        assert shadow_pairs(engine, "crm-a", None).empty  # no lead has both kinds here
        assert time.perf_counter() - started < 10
    finally:
        engine.dispose()
