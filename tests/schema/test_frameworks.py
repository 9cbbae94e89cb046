"""Framework mappings: every tagged feature lands in exactly one criterion of every framework."""

from __future__ import annotations

import pytest

from leadml.errors import SchemaError
from leadml.schema import BANT, LeadSchema
from leadml.schema.criteria import FRAMEWORKS
from leadml.schema.frameworks import framework_criteria, framework_names, map_features


def test_the_five_frameworks_and_their_criteria() -> None:
    assert framework_names() == ("bant", "champ", "anum", "faint", "gpct")
    assert framework_criteria("bant") == BANT
    assert framework_criteria("CHAMP") == ("challenges", "authority", "money", "prioritisation")
    assert framework_criteria("anum") == ("authority", "need", "urgency", "money")
    assert framework_criteria("faint") == ("funds", "authority", "interest", "need", "timing")
    assert framework_criteria("gpct") == ("goals", "plans", "challenges", "timeline")


@pytest.mark.parametrize("framework", list(FRAMEWORKS))
def test_every_tagged_feature_maps_to_a_criterion(schema: LeadSchema, framework: str) -> None:
    rollup = map_features(schema, framework)
    in_criteria = [f for feats in rollup.criteria.values() for f in feats]
    tagged = [f.name for f in schema.features if f.criterion != "none"]
    assert tagged, "the synthetic schema tags features with BANT criteria"
    assert set(tagged) <= set(in_criteria)
    # a partition: each feature exactly once, criteria and groups together
    everything = [f for feats in rollup.buckets.values() for f in feats]
    assert sorted(everything) == sorted(schema.feature_names)
    assert len(everything) == len(set(everything))
    # a BANT tag lands on the same criterion whatever lead carries it
    for tag in BANT:
        homes = {
            name
            for name, feats in rollup.criteria.items()
            for f in schema.features
            if f.criterion == tag and f.name in feats
        }
        assert len(homes) == 1, (framework, tag, homes)


def test_the_documented_correspondences(schema: LeadSchema) -> None:
    champ = map_features(schema, "champ").criteria
    bant = map_features(schema, "bant").criteria
    assert champ["money"] == bant["budget"]
    assert champ["challenges"] == bant["need"]
    assert champ["prioritisation"] == bant["timing"]
    faint = map_features(schema, "faint")
    untagged_engagement = {
        f.name for f in schema.features if f.group == "engagement" and f.criterion == "none"
    }
    assert set(faint.criteria["interest"]) == untagged_engagement
    assert "engagement" not in faint.groups
    gpct = map_features(schema, "gpct").criteria
    assert set(gpct["plans"]) == set(bant["budget"]) | set(bant["authority"])
    assert gpct["goals"] == ()


def test_native_tags_and_untagged_features() -> None:
    schema = LeadSchema.from_dict(
        {
            "target": "won",
            "features": {
                "deal_size": {"kind": "numeric", "criterion": "money", "group": "deal"},
                "pain": {"kind": "numeric", "criterion": "challenges"},
                "objective": {"kind": "numeric", "criterion": "goals", "group": "intent"},
                "visits": {"kind": "numeric", "group": "engagement"},
            },
        }
    )
    champ = map_features(schema, "champ")
    assert champ.criteria["money"] == ("deal_size",)
    assert champ.criteria["challenges"] == ("pain",)
    assert champ.groups == {"intent": ("objective",), "engagement": ("visits",)}
    gpct = map_features(schema, "gpct")
    assert gpct.criteria["goals"] == ("objective",)
    assert gpct.criteria["challenges"] == ("pain",)
    # BANT does not read "money": that feature keeps its group rather than vanishing
    assert map_features(schema, "bant").groups["deal"] == ("deal_size",)


def test_unknown_framework_names_the_choices(schema: LeadSchema) -> None:
    with pytest.raises(SchemaError, match=r"unknown qualification framework .spin.*champ"):
        map_features(schema, "spin")
