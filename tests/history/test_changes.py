"""Why a score changed: the points a score keeps, the change between two scores (same model and
a new one), and criterion points through the store on SQLite and PostgreSQL, odd ones included.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from leadml.history.changes import MODEL, OTHER, kept_criteria, score_change, with_changes
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory

BASE = 37.25  # an average lead's score


def answer(scale: float = 10.0, **points: float) -> dict[str, dict[str, Any]]:
    """A scored answer's criteria, as ``serve.scoring.predict`` builds them: ``scale`` points a unit
    of log-odds (the lead's slope of the calibration curve)."""
    return {
        name: {"contribution": p / scale, "points": p, "met": p > 0} for name, p in points.items()
    }


def row(
    probability: float,
    criteria: dict[str, float] | None,
    version: str = "v1",
    log_odds: dict[str, float] | None = None,
) -> dict:
    return {
        "model_version": version,
        "probability": probability,
        "score": round(probability * 100),
        "criteria": criteria,
        "criteria_log_odds": log_odds,
    }


def test_kept_points_add_up_to_the_score_with_other_for_the_rest() -> None:
    kept = kept_criteria(answer(budget=10.004, authority=-3.333, need=0.0), 0.5, BASE)
    points, log_odds = kept["criteria"], kept["criteria_log_odds"]
    assert points is not None and log_odds is not None
    assert points["budget"] == 10.0 and points["authority"] == -3.33 and points["need"] == 0.0
    assert math.isclose(points[OTHER], 50 - BASE - 10.0 + 3.33, abs_tol=0.005)
    assert abs(BASE + sum(points.values()) - 50.0) <= 0.005
    # The same pushes in log-odds, ``other`` read through the lead's own points per log-odds.
    assert log_odds["budget"] == 1.0004 and log_odds["authority"] == -0.3333
    assert math.isclose(log_odds[OTHER], (50 - BASE - 10.004 + 3.333) / 10, abs_tol=1e-6)
    nothing = {"criteria": None, "criteria_log_odds": None}
    assert kept_criteria(None, 0.5, BASE) == nothing  # scored with explain=false
    assert kept_criteria(answer(budget=math.nan), 0.5, BASE) == nothing
    assert "-0.0" not in repr(kept_criteria(answer(budget=-0.001), BASE / 100, BASE)["criteria"])
    # No criterion pushed at all: points kept, log-odds not (changes subtract points).
    flat = kept_criteria(answer(budget=0.0, need=0.0), 0.45, BASE)
    assert flat["criteria"] == {"budget": 0.0, "need": 0.0, OTHER: 7.75}
    assert flat["criteria_log_odds"] is None


def test_a_change_is_split_by_log_odds_so_untouched_criteria_do_not_move() -> None:
    """Budget alone moved the lead along the calibration curve (5 to 8 points a log-odds):
    authority's points grew with the slope, its push did not, and it does not move."""
    before = kept_criteria(answer(5.0, budget=-5.0, authority=4.0), 0.3875, BASE)
    after = kept_criteria(answer(8.0, budget=8.0, authority=6.4), 0.5565, BASE)
    assert before["criteria_log_odds"] == {"budget": -1.0, "authority": 0.8, OTHER: 0.5}
    assert after["criteria_log_odds"] == {"budget": 1.0, "authority": 0.8, OTHER: 0.5}
    change = score_change(
        row(0.3875, before["criteria"], log_odds=before["criteria_log_odds"]),
        row(0.5565, after["criteria"], log_odds=after["criteria_log_odds"]),
    )
    # Subtracting points would say budget +13, authority +2.4, other +1.5.
    assert change["criteria"] == [{"criterion": "budget", "points": 16.9}]
    assert change["smaller_moves"] == 0.0 and change["exact_points"] == 16.9
    # The same lead scored again: nothing moved (no 0/0 from the secant).
    first = row(0.3875, before["criteria"], log_odds=before["criteria_log_odds"])
    assert score_change(first, first)["criteria"] == []
    # Without log-odds (kept before them, or nothing pushed) the points are subtracted.
    plain = score_change(row(0.3875, before["criteria"]), row(0.5565, after["criteria"]))
    assert plain["criteria"] == [
        {"criterion": "budget", "points": 13.0},
        {"criterion": "authority", "points": 2.4},
        {"criterion": OTHER, "points": 1.5},
    ]


def test_a_change_lists_the_criteria_that_moved_it_largest_first() -> None:
    before = row(0.40, {"budget": -6.0, "authority": 2.0, "need": 1.0, "timing": 0.2, OTHER: 5.55})
    after = row(0.52, {"budget": 7.5, "authority": 0.2, "need": 1.3, "timing": 0.3, OTHER: 5.45})
    change = score_change(before, after)
    assert change["from_score"] == 40 and change["to_score"] == 52 and change["points"] == 12
    assert change["same_model"] is True and change["exact_points"] == 12.0
    assert change["criteria"] == [
        {"criterion": "budget", "points": 13.5},
        {"criterion": "authority", "points": -1.8},
    ]
    # need +0.3, timing +0.1, other -0.1: under 0.5 points each, summed.
    assert change["smaller_moves"] == 0.3
    listed = sum(c["points"] for c in change["criteria"]) + change["smaller_moves"]
    assert math.isclose(listed, change["exact_points"], abs_tol=0.01)


def test_a_new_model_is_its_own_entry_and_the_entries_still_add_up() -> None:
    # Model v1: base 37.25; model v2: base 40.0 (the points are each model's own).
    before = row(0.45, {"budget": 5.0, "need": 1.0, OTHER: 1.75}, "v1")
    after = row(0.47, {"budget": 5.2, "need": 1.0, OTHER: 0.8}, "v2")
    change = score_change(before, after)
    assert change["same_model"] is False
    moves = {c["criterion"]: c["points"] for c in change["criteria"]}
    assert moves == {MODEL: 2.75, OTHER: -0.95}
    assert math.isclose(sum(moves.values()) + change["smaller_moves"], 2.0, abs_tol=0.01)
    # The model entry is there even when the average lead's score barely moved.
    tiny = score_change(before, row(0.45, {"budget": 5.0, "need": 1.0, OTHER: 1.74}, "v2"))
    assert tiny["criteria"] == [{"criterion": MODEL, "points": 0.01}]


def test_without_points_on_either_side_the_change_says_how_much_not_why() -> None:
    explained = row(0.40, {"budget": 1.0, OTHER: 1.75})
    for before, after in ((row(0.30, None), explained), (explained, row(0.50, None))):
        change = score_change(before, after)
        assert change["criteria"] is None and change["smaller_moves"] is None
        assert change["points"] == after["score"] - before["score"]


def test_with_changes_gives_the_oldest_shown_row_its_change_too() -> None:
    rows = [row(p, {"budget": p * 10, OTHER: 0.0}) for p in (0.3, 0.4, 0.6)]
    everything = with_changes(rows, 5)
    assert everything[0]["change"] is None
    assert [r["change"]["points"] for r in everything[1:]] == [10, 20]
    page = with_changes(rows, 2)  # the route reads limit + 1 rows
    assert [r["score"] for r in page] == [40, 60]
    assert page[0]["change"]["from_score"] == 30


def test_points_go_through_the_store_and_odd_ones_read_as_none(db_url: str) -> None:
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    kept = {"budget": 8.7, "authority": -1.25, OTHER: 0.0}
    log_odds = {"budget": 0.912345, "authority": -0.131066, OTHER: 0.0}
    store = ScoreHistory(db_url)
    store.start()
    try:
        store.record(
            [
                ScoreRecord(
                    "crm-a",
                    "P",
                    "v1",
                    0.5,
                    50,
                    "B",
                    stamp,
                    criteria=kept,
                    criteria_log_odds=log_odds,
                ),
                ScoreRecord("crm-a", "P", "v1", 0.6, 60, "B", stamp + timedelta(minutes=1)),
            ]
        )
        assert store.flush()
        odd = ['{"budget": "8.7"}', '{"budget": true}', "[1, 2]"]
        if store.engine.dialect.name == "sqlite":  # PostgreSQL's json refuses these itself
            odd += ["{", '{"budget": NaN}']
        with store.engine.begin() as conn:  # what a hand edit, or a bug, could leave behind
            for i, text in enumerate(odd):
                conn.execute(
                    sa.text(
                        "INSERT INTO lead_scores (tenant, lead_id, model_version, probability, "
                        "score, grade, scored_at, criteria) VALUES ('crm-a', 'P', 'v1', 0.5, 50, "
                        "'B', :at, :odd)"
                    ),
                    {"at": stamp + timedelta(minutes=2 + i), "odd": text},
                )
        timeline = store.lead("crm-a", "P")
        assert [r["criteria"] for r in timeline] == [kept, None] + [None] * len(odd)
        assert timeline[0]["criteria_log_odds"] == log_odds
    finally:
        store.close()


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_non_finite_points_are_never_kept(value: float) -> None:
    assert kept_criteria(answer(budget=value), 0.5, BASE)["criteria"] is None


def test_the_criteria_whose_fields_changed_share_the_whole_move() -> None:
    fields_of = {"budget": ("budget_range", "pricing_page_views"), "need": ("stated_need",)}
    pushes_before = {"budget": -0.5, "need": 0.2, OTHER: 0.1}
    # Budget's answer changed; need's push moved too, through a tree interaction with it.
    pushes_after = {"budget": 0.9, "need": 0.3, OTHER: 0.1}
    before = row(0.30, {"budget": -5.0, "need": 2.0, OTHER: 1.0}, log_odds=pushes_before)
    after = row(0.55, {"budget": 11.0, "need": 3.7, OTHER: 1.2}, log_odds=pushes_after)
    before["features"] = {"budget_range": "< 10k", "stated_need": "Important", "site_visits": 3}
    after["features"] = {**before["features"], "budget_range": "> 250k"}
    credited = score_change(before, after, fields_of)
    assert credited["criteria"] == [{"criterion": "budget", "points": 25.0}]
    assert credited["smaller_moves"] == 0
    # Without the mapping the interaction shows as need's own move.
    split = score_change(before, after)
    assert {m["criterion"] for m in split["criteria"]} == {"budget", "need"}
    # Two criteria's fields changed: they share the move by their pushes' moves; a field no
    # criterion holds counts as "other".
    after["features"] = {**after["features"], "stated_need": "Critical", "site_visits": 9}
    both = {m["criterion"]: m["points"] for m in score_change(before, after, fields_of)["criteria"]}
    assert both == {"budget": pytest.approx(25 * 1.4 / 1.5, abs=0.01), "need": 1.67}
    # Values not kept (older rows): the plain split.
    del after["features"]
    assert score_change(before, after, fields_of) == split
