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
    path = Path(__file__).resolve().parents[1] / "data" / "schemas" / "synthetic.toml"
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
