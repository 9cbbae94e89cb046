"""A bundle whose metadata would mislead a server is refused at load, naming the field.

Each of these loaded and scored its test lead before the checks existed: NaN cut-offs (every lead
then "D"), cut-offs at 0 (every lead "A"), a renamed feature (silently never read), 60,000
categorical levels, a bundle without its model checksum.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leadml.bundle.check import MAX_META_BYTES, MAX_TOTAL_LEVELS
from leadml.bundle.files import META_FILE, MODEL_FILE
from leadml.bundle.model import LeadModel
from leadml.errors import ModelLoadError
from tests.support.bundles import rename_feature, tamper


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = meta
        for part in parents:
            node = node[part]
        node[last] = value

    return edit


def _many_levels(count: int) -> Callable[[dict[str, Any]], None]:
    def edit(meta: dict[str, Any]) -> None:
        meta["encoder"]["levels"]["country"] = [f"country {i}" for i in range(count)]

    return edit


def _drop_checksum(meta: dict[str, Any]) -> None:
    del meta["model_sha256"]


CASES = {
    "NaN cut-offs": (
        _set("bands.cutoffs", [math.nan, 0.2, 0.1]),
        "grade cut-offs must be three finite numbers in [0, 1], strictly decreasing A > B > C "
        "(got [nan, 0.2, 0.1])",
    ),
    "cut-offs at 0: every lead an A": (_set("bands.cutoffs", [0, 0, 0]), "grade cut-offs"),
    "rising cut-offs": (_set("bands.cutoffs", [0.1, 0.2, 0.3]), "strictly decreasing"),
    "cut-off above 1": (_set("bands.cutoffs", [1.5, 0.2, 0.1]), "in [0, 1]"),
    "no tier for D": (_set("bands.tiers", {"A": "hot", "B": "warm", "C": "warm"}), "tiers"),
    "NaN Platt slope": (
        _set("calibrator", {"method": "platt", "coef": math.nan, "intercept": 0.0}),
        "calibrator coef must be finite (got nan)",
    ),
    "unknown calibrator": (_set("calibrator.method", "pickle"), "calibrator method"),
    "infinite isotonic knot": (
        _set(
            "calibrator",
            {"method": "isotonic", "knots_x": [0.0, math.inf], "knots_y": [0.1, 0.9]},
        ),
        "calibrator knots must be finite",
    ),
    "renamed encoder feature": (
        lambda meta: rename_feature(meta, "budget_range", "budget_2026", schema=False),
        "encoder features differ from the schema's (['budget_2026'] not in the schema, "
        "['budget_range'] missing)",
    ),
    "renamed feature, schema too": (
        lambda meta: rename_feature(meta, "budget_range", "budget_2026", schema=True),
        "model.txt names features",
    ),
    "encoder kind changed": (
        lambda meta: meta["encoder"]["kinds"].__setitem__(5, "boolean"),
        "encoder kind of 'employees' is 'boolean'",
    ),
    f"{MAX_TOTAL_LEVELS + 10_000:,} categorical levels": (
        _many_levels(MAX_TOTAL_LEVELS + 10_000),
        "categories (at most 50,000 in all)",
    ),
    "300 levels in one feature": (
        _many_levels(300),
        "encoder levels of 'country' hold 300 categories (training keeps at most 256)",
    ),
    "no model checksum": (_drop_checksum, "model_sha256 is missing from leadml.json"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_misleading_metadata_is_refused_naming_the_field(copied: Path, case: str) -> None:
    edit, message = CASES[case]
    assert LeadModel.load(copied).score_one({})["grade"] in "ABCD"  # loads as trained
    tamper(copied, edit)
    with pytest.raises(ModelLoadError) as refused:
        LeadModel.load(copied)
    text = str(refused.value)
    assert f"{copied}: corrupt bundle: " in text and message in text, text
    assert "\n" not in text


def test_an_oversized_metadata_file_is_refused_before_it_is_parsed(copied: Path) -> None:
    # Not even JSON: were it parsed, the error would be a JSON one, not its size.
    (copied / META_FILE).write_text("[" * (MAX_META_BYTES + 1))
    with pytest.raises(ModelLoadError, match=r"leadml\.json is 20\.0 MB \(at most 20\)"):
        LeadModel.load(copied)


def test_model_text_naming_other_features_is_refused_before_lightgbm(copied: Path) -> None:
    text = (copied / MODEL_FILE).read_text()
    renamed = text.replace("budget_range", "budget_2026", 1)
    assert renamed != text
    tamper(copied, model_text=renamed)
    with pytest.raises(ModelLoadError, match=r"model\.txt names features"):
        LeadModel.load(copied)


def test_the_training_fallback_bands_still_load(copied: Path) -> None:
    """(1, 1, 1): what training writes when every lead had one probability; every lead is D,
    its own training leads too (the reference's grades, which the cut-offs must agree with)."""

    def fallback(meta: dict) -> None:
        meta["bands"]["cutoffs"] = [1.0, 1.0, 1.0]
        reference = meta["meta"]["reference"]
        reference["grades"] = {"A": 0, "B": 0, "C": 0, "D": reference["rows"]}

    tamper(copied, fallback)
    assert LeadModel.load(copied).score_one({})["grade"] == "D"


def test_the_trained_bundle_passes_every_check(copied: Path) -> None:
    meta = json.loads((copied / META_FILE).read_text())
    model = LeadModel.load(copied)
    assert model.bands.cutoffs == tuple(meta["bands"]["cutoffs"])
    assert model.feature_names == model.schema.feature_names == model.booster.feature_name()


def test_a_booster_without_feature_names_is_checked_on_their_count(copied: Path) -> None:
    """LightGBM calls unnamed features Column_0, Column_1, ... (``Booster.refit`` makes such a
    booster): nothing to compare but how many there are."""
    text = (copied / MODEL_FILE).read_text()
    header = next(line for line in text.splitlines() if line.startswith("feature_names="))
    count = len(header.split("=", 1)[1].split(" "))
    unnamed = "feature_names=" + " ".join(f"Column_{i}" for i in range(count))
    tamper(copied, model_text=text.replace(header, unnamed, 1))
    assert LeadModel.load(copied).booster.feature_name()[0] == "Column_0"
    fewer = "feature_names=" + " ".join(f"Column_{i}" for i in range(count - 1))
    tamper(copied, model_text=text.replace(header, fewer, 1))
    with pytest.raises(ModelLoadError, match=r"model\.txt names features"):
        LeadModel.load(copied)
