"""LeadSchema: loading, validation messages, and the TOML round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from leadml.errors import SchemaError
from leadml.schema import LeadSchema, bundled_schema


def test_bundled_schema_tags_every_bant_criterion() -> None:
    schema = bundled_schema()
    criteria = schema.criteria()
    assert all(criteria[c] for c in ("budget", "authority", "need", "timing"))
    assert set(schema.pii) == {"full_name", "email", "phone"}
    assert not set(schema.pii) & set(schema.feature_names)
    assert schema.target == "converted" and schema.time == "created_at"


def test_data_schemas_folder_holds_the_same_schema() -> None:
    path = Path(__file__).resolve().parents[2] / "data" / "schemas" / "synthetic.toml"
    assert LeadSchema.load(path) == bundled_schema()


def test_toml_round_trip(tmp_path: Path) -> None:
    schema = bundled_schema()
    schema.save(tmp_path / "s.toml")
    assert LeadSchema.load(tmp_path / "s.toml") == schema


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"target": "y", "features": {"a": {"kind": "text"}}}, "kind 'text' of feature 'a'"),
        ({"target": "y", "features": {"y": {"kind": "numeric"}}}, "cannot be features"),
        ({"target": "y", "features": {"b": {"kind": "ordinal"}}}, "needs its levels"),
        (
            {"target": "y", "pii": ["email"], "features": {"email": {"kind": "categorical"}}},
            "cannot be features",
        ),
        ({"target": "y", "features": {}}, "no features"),
        (
            {"target": "y", "features": {"c": {"kind": "categorical", "monotone": 1}}},
            "monotone",
        ),
    ],
)
def test_invalid_schemas_say_what_is_wrong(raw: dict, message: str) -> None:
    with pytest.raises(SchemaError, match=message):
        LeadSchema.from_dict(raw)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="not found"):
        LeadSchema.load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("target = [unclosed")
    with pytest.raises(SchemaError, match="not valid TOML"):
        LeadSchema.load(bad)


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        (
            {"kind": "numeric", "criterion": "timeing"},
            "criterion 'timeing' of feature 'pdays' is not one of budget, authority, need, "
            "timing, goals, none",
        ),
        ({"kind": "numeric", "criterion": "timeing"}, "did you mean 'timing'?"),
        ({"kind": "numeric", "criterio": "timing"}, "feature 'pdays': unknown key 'criterio'"),
        ({"kind": "numeric", "criterio": "timing"}, "did you mean 'criterion'?"),
        ({"kind": "numerc"}, "kind 'numerc' of feature 'pdays' is not one of numeric"),
        ({"kind": "numerc"}, "did you mean 'numeric'?"),
    ],
)
def test_schema_errors_name_the_feature_and_the_nearest_word(feature: dict, message: str) -> None:
    raw = {"target": "y", "features": {"age": {"kind": "numeric"}, "pdays": feature}}
    with pytest.raises(SchemaError) as error:
        LeadSchema.from_dict(raw)
    assert message in str(error.value)
    assert "features.1" not in str(error.value)  # named, never numbered


def test_a_misspelt_top_level_key_is_named() -> None:
    with pytest.raises(SchemaError, match="unknown key 'tagret' — did you mean 'target'"):
        LeadSchema.from_dict({"tagret": "y", "features": {"a": {"kind": "numeric"}}})


def test_a_frameworks_own_criterion_is_a_valid_tag() -> None:
    schema = LeadSchema.from_dict(
        {"target": "y", "features": {"deal": {"kind": "numeric", "criterion": "money"}}}
    )
    assert schema.features[0].criterion == "money"


def test_unanswered_round_trips_and_an_older_schema_is_written_as_before(tmp_path: Path) -> None:
    old = bundled_schema()
    assert old.unanswered == [] and "unanswered" not in old.to_toml()
    raw = old.to_dict() | {"unanswered": ["Select", "Selecione"]}
    new = LeadSchema.from_dict(raw)
    new.save(tmp_path / "s.toml")
    assert 'unanswered = [\n    "Select",\n    "Selecione",\n]' in (tmp_path / "s.toml").read_text()
    assert LeadSchema.load(tmp_path / "s.toml") == new
    with pytest.raises(SchemaError, match="unanswred"):
        LeadSchema.from_dict(old.to_dict() | {"unanswred": ["Select"]})


def test_an_inferred_schema_keeps_the_form_defaults_it_found_apart() -> None:
    from leadml.data.suggest import suggest_schema
    from tests.support.forms import form_export

    found = suggest_schema(form_export(600, seed=2), "converted")
    assert found.schema.unanswered == ["Select", "Selecione"]  # one spelling a word
    assert found.placeholders["budget"] == ["'Selecione'"]
    assert found.placeholders["country"] == ["'N/A'", "'Select'"]
    assert "form defaults read as not answered (missing in numbers): 'Select'" in (
        found.columns["country"].notes
    )
    assert any("'(not answered)' in category and ordinal" in line for line in found.summary())
