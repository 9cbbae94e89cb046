"""Reasons a rep would sign: plurals, units from the templates, which fields may be worded, and
a zero that pushes up saying why."""

from __future__ import annotations

import tomllib
import uuid
from importlib.resources import files

import numpy as np
import pytest

from leadml.explain.reasons import (
    MAX_WORDED_LEVELS,
    can_be_reason,
    reason_text,
    rising_note,
    singular,
)
from leadml.schema import FeatureSpec


def worded(template: str, value: float, kind: str = "numeric") -> str:
    return reason_text(FeatureSpec(name="x", kind=kind, reason=template), "x", kind, value)


# -- plurals -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("template", "one", "two"),
    [
        ("{value} site visits", "1 site visit", "2 site visits"),
        ("Viewed pricing {value} times", "Viewed pricing 1 time", "Viewed pricing 2 times"),
        ("Opened {value} emails", "Opened 1 email", "Opened 2 emails"),
        (
            "Downloaded {value} pieces of content",
            "Downloaded 1 piece of content",
            "Downloaded 2 pieces of content",
        ),
        ("Last active {value} days ago", "Last active 1 day ago", "Last active 2 days ago"),
        ("{value} companies", "1 company", "2 companies"),
        ("{value} business days", "1 business day", "2 business days"),  # "ss" is not a plural
        ("{value} status updates", "1 status update", "2 status updates"),  # nor is "us"
        ("{value} analysis runs", "1 analysis run", "2 analysis runs"),  # nor "is"
        ("{value} people", "1 person", "2 people"),
    ],
)
def test_a_value_of_one_takes_the_singular(template: str, one: str, two: str) -> None:
    assert worded(template, 1.0) == one  # 1.0 is written "1" before the template is filled
    assert worded(template, 2.0) == two


def test_only_words_after_the_value_and_within_three_are_singular() -> None:
    # Words before the value are not counted by it.
    assert worded("Visits {value} pages", 1.0) == "Visits 1 page"
    # A plural too far from the value is left alone.
    assert worded("{value} of the big old emails", 1.0) == "1 of the big old emails"
    # Neither 1.5 nor 11 is one.
    assert worded("{value} site visits", 1.5) == "1.5 site visits"
    assert worded("{value} site visits", 11.0) == "11 site visits"
    # The fallback has no noun to fix.
    assert reason_text(None, "num_calls", "numeric", 1.0) == "Num calls: 1"
    assert reason_text(None, "num_calls", "numeric", 1200.0) == "Num calls: 1,200"


def test_singular_words() -> None:
    assert singular("visits") == "visit"
    assert singular("Times") == "Time"
    assert singular("pieces") == "piece"
    assert singular("companies") == "company"
    assert singular("boxes") == "box"
    assert singular("matches") == "match"
    for word in ("business", "status", "analysis", "its", "was", "site", "as"):
        assert singular(word) is None


def test_ages_in_days_read_as_days_ago() -> None:
    age = FeatureSpec(
        name="a", kind="age_days", source="last_activity", reason="Last active {value} days ago"
    )
    assert reason_text(age, "a", "age_days", 44.63) == "Last active 45 days ago"
    assert reason_text(age, "a", "age_days", 0.8) == "Last active 1 day ago"
    # A date after the lead came in is not "ago": the plain fallback says the signed number.
    assert reason_text(age, "a", "age_days", -3.0) == "A: -3"


def test_missing_values_are_still_worded_for_displays() -> None:
    budget = FeatureSpec(
        name="budget_range", kind="ordinal", levels=["low", "high"], display="Budget"
    )
    assert reason_text(budget, "budget_range", "ordinal", None) == "Budget not stated"
    assert reason_text(None, "annual_revenue", "numeric", None) == "Annual revenue unknown"


def test_synthetic_templates_read_right_whatever_the_push() -> None:
    text = files("leadml.schema").joinpath("synthetic.toml").read_text(encoding="utf-8")
    features = tomllib.loads(text)["features"]
    days = FeatureSpec(name="days_since_last_activity", **features["days_since_last_activity"])
    kind = days.kind
    assert reason_text(days, days.name, kind, 8.0) == "Last active 8 days ago"
    assert reason_text(days, days.name, kind, 1.0) == "Last active 1 day ago"
    templates = [f.get("reason", "") + f.get("reason_false", "") for f in features.values()]
    assert not any("No activity" in t for t in templates)
    visits = FeatureSpec(name="site_visits", **features["site_visits"])
    assert reason_text(visits, visits.name, "numeric", 1.0) == "1 site visit"
    minutes = FeatureSpec(name="time_on_site_min", **features["time_on_site_min"])
    assert reason_text(minutes, minutes.name, "numeric", 12.5) == "12.5 minutes on site"


# -- which fields may be worded ------------------------------------------------------------------
INDUSTRIES = [
    "Software",
    "Retail",
    "Banking",
    "Manufacturing",
    "Healthcare",
    "Education",
    "Logistics",
    "Financial services",
    "Public sector",
]


def hex_ids(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [rng.bytes(16).hex() for _ in range(n)]


def test_a_normal_category_can_be_a_reason() -> None:
    assert can_be_reason("industry", "categorical", INDUSTRIES)
    assert can_be_reason("lead_source", "categorical", ["Paid search", "Webinar", "Partner"])
    assert can_be_reason("industry", "categorical", None)  # levels unknown: judged by name
    # Codes people read are words too.
    assert can_be_reason("country_code", "categorical", ["PL", "BR", "US"])
    assert can_be_reason("key_account", "categorical", ["yes", "no"])
    assert can_be_reason("campaign", "categorical", ["summer2024sale", "Q3-2024-campaign"])


@pytest.mark.parametrize("kind", ["numeric", "boolean", "ordinal", "age_days"])
def test_numbers_answers_and_ages_can_always_be_reasons(kind: str) -> None:
    assert can_be_reason("landing_page_id", kind, None)
    assert can_be_reason("x", kind, hex_ids(5))


@pytest.mark.parametrize("kind", ["month", "weekday"])
def test_date_parts_are_reasons_only_when_the_schema_words_them(kind: str) -> None:
    """ "Engage date: a Thursday" is no reason a rep can use; a schema that words the part
    itself ("Came in on a {value}") says it is one. The template inference wrote before this
    rule ("Engage date: a {value}") does not count: old bundles stop listing it too."""
    name = f"engage_date_{kind}"
    bare = FeatureSpec(name=name, kind=kind, source="engage_date")
    assert not can_be_reason(name, kind, None)
    assert not can_be_reason(name, kind, None, bare)
    own = bare.model_copy(update={"reason": "Came in on a {value}"})
    assert can_be_reason(name, kind, None, own)
    inferred = "Engage date: a {value}" if kind == "weekday" else "Engage date: {value}"
    assert not can_be_reason(name, kind, None, bare.model_copy(update={"reason": inferred}))
    # Still worded for displays of a lead's answers, from the date it is taken from.
    shown = "Engage date: a Thursday" if kind == "weekday" else "Engage date: March"
    assert reason_text(bare, name, kind, 3) == shown
    assert reason_text(own, name, kind, 3).startswith("Came in on a ")


def test_schema_inference_gives_date_parts_no_reason_template() -> None:
    import pandas as pd

    from leadml.data.suggest import suggest_schema

    days = pd.date_range("2023-01-01", periods=800, freq="D")
    frame = pd.DataFrame(
        {"created_at": days.strftime("%Y-%m-%d"), "visits": np.arange(800) % 7, "won": [0, 1] * 400}
    )
    features = {f.name: f for f in suggest_schema(frame, "won").schema.features}
    parts = [f for f in features.values() if f.kind in ("month", "weekday")]
    assert {f.kind for f in parts} == {"month", "weekday"}
    assert all(f.reason is None and f.group == "calendar" for f in parts)
    assert not any(can_be_reason(f.name, f.kind, None, f) for f in parts)


def test_a_zero_or_lowest_number_pushing_up_says_why() -> None:
    assert rising_note("numeric", 0.0, 0.0) == " (leads with none convert more often here)"
    assert rising_note("numeric", 0.0, None) == " (leads with none convert more often here)"
    assert rising_note("numeric", 2.0, 2.0).startswith(" (the lowest seen")
    assert rising_note("numeric", 3.0, 2.0) == ""
    assert rising_note("numeric", 3.0, None) == ""
    # Not numbers: "0 days ago" and "no" need no excuse; a missing value is never a reason.
    assert rising_note("age_days", 0.0, 0.0) == ""
    assert rising_note("boolean", False, None) == ""
    assert rising_note("numeric", None, 0.0) == ""


def test_hex_hashes_are_never_reasons() -> None:
    # Levels as a real marketing-funnel export holds them, under an innocent name.
    assert not can_be_reason("landing_page", "categorical", hex_ids(12))
    assert not can_be_reason("page", "categorical", [h[:8] for h in hex_ids(12)])
    assert not can_be_reason("page", "categorical", [h.upper() for h in hex_ids(12)])


def test_uuids_digit_strings_and_long_codes_are_never_reasons() -> None:
    assert not can_be_reason("ref", "categorical", [str(uuid.uuid4()) for _ in range(6)])
    assert not can_be_reason("x", "categorical", [f"{n:010d}" for n in range(6)])
    assert not can_be_reason("x", "categorical", ["0015g00000XyZabAAB", "0015g00000QwErtAAB"])
    assert not can_be_reason("x", "categorical", ["ORD-2024-000123", "ORD-2024-000124"])
    # Most levels decide: one odd level among words is still a word category.
    assert can_be_reason("industry", "categorical", [*INDUSTRIES, "a8387c01a09e99ce"])


@pytest.mark.parametrize("name", ["landing_page_id", "campaign_key", "sdr_id", "idCliente", "uuid"])
def test_identifier_names_are_never_reasons(name: str) -> None:
    assert not can_be_reason(name, "categorical", ["a", "b", "c"])
    assert not can_be_reason(name, "categorical", None)


def test_too_many_levels_are_never_reasons() -> None:
    levels = [f"City {i}" for i in range(MAX_WORDED_LEVELS + 1)]
    assert not can_be_reason("city", "categorical", levels)
    assert can_be_reason("city", "categorical", levels[:MAX_WORDED_LEVELS])
