"""Qualification frameworks sales teams use, all read from the schema's one set of tags.

A schema tags each feature with at most one criterion (``budget``, ``authority``, ``need``,
``timing``, or ``none``) and a group (``engagement``, ``firmographic``, ...). Every framework
below is a different *reading* of those same tags, so a team can switch between them in the
config (``LEADML_FRAMEWORK``) without retraining or re-tagging:

=========  =====================================================================================
framework  criterion ← where its features come from
=========  =====================================================================================
BANT       budget ← budget · authority ← authority · need ← need · timing ← timing
CHAMP      challenges ← need · authority ← authority · money ← budget · prioritisation ← timing
ANUM       authority ← authority · need ← need · urgency ← timing · money ← budget
FAINT      funds ← budget · authority ← authority · interest ← untagged engagement features ·
           need ← need · timing ← timing
GPCT       goals ← (features tagged ``goals``) · plans ← budget + authority ·
           challenges ← need · timeline ← timing
=========  =====================================================================================

Why these choices: CHAMP's *challenges* and GPCT's *challenges* are the buyer's pain, which is
what BANT's *need* records; *money*/*funds* are budget; *urgency*, *prioritisation* and
*timeline* are timing. FAINT's *interest* is shown engagement, so it takes the engagement
features that carry no BANT tag. GPCT's *plans* are the means to act (money set aside and a
person who can sign); its *goals* cannot be read from BANT answers, so it is filled only by
features a schema tags ``goals`` directly, and is reported *unknown* otherwise rather than
guessed.

Two rules keep every roll-up exact:

* A feature belongs to exactly one bucket, so the buckets of a lead always add up to its raw
  log-odds minus the base value. A tag may also name a framework's own criterion directly
  (a feature tagged ``money`` lands in CHAMP's and ANUM's *money*).
* A feature whose tag the framework does not read, or that has no tag, rolls up under its
  group instead, so nothing the model uses disappears from the explanation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from leadml.errors import SchemaError
from leadml.schema.criteria import FRAMEWORKS, GROUP_PREFIX
from leadml.schema.spec import LeadSchema

#: Display names for criteria and the common groups (sales' own words, capitalised).
CRITERION_LABELS: dict[str, str] = {
    "prioritisation": "Prioritisation",
    "firmographic": "Company fit",
    "demographic": "Contact profile",
    "engagement": "Engagement",
    "qualification": "Qualification",
    "source": "Lead source",
    "other": "Other",
}


def framework_names() -> tuple[str, ...]:
    return tuple(FRAMEWORKS)


def framework_criteria(framework: str) -> tuple[str, ...]:
    """The framework's own criteria, in its customary order (B, A, N, T for BANT)."""
    return tuple(_framework(framework))


def criterion_label(name: str) -> str:
    return CRITERION_LABELS.get(name, name.replace("_", " ").capitalize())


def _framework(framework: str) -> Mapping[str, tuple[str, ...]]:
    key = framework.strip().lower()
    if key not in FRAMEWORKS:
        raise SchemaError(
            f"unknown qualification framework '{framework}'; choose one of {', '.join(FRAMEWORKS)}"
        )
    return FRAMEWORKS[key]


@dataclass(frozen=True)
class Rollup:
    """Which features feed each bucket: the framework's criteria first, then leftover groups."""

    framework: str
    criteria: dict[str, tuple[str, ...]]  # framework criteria, every one present (maybe empty)
    groups: dict[str, tuple[str, ...]]  # groups holding the features no criterion took

    @property
    def unrecorded(self) -> tuple[str, ...]:
        """The framework's criteria no feature feeds (GPCT's goals without a ``goals`` tag; an
        export with no timing field): a fact about the model, said once, never asked per lead."""
        buckets = self.buckets  # a group named like a criterion feeds it too
        return tuple(name for name in self.criteria if not buckets[name])

    @property
    def recorded(self) -> tuple[str, ...]:
        """The framework's criteria at least one feature feeds, in the framework's order."""
        return tuple(name for name in self.criteria if name not in self.unrecorded)

    @property
    def buckets(self) -> dict[str, tuple[str, ...]]:
        """Criteria then groups; a group that shares a criterion's name is merged into it."""
        merged = {k: tuple(v) for k, v in self.criteria.items()}
        for group, feats in self.groups.items():
            merged[group] = merged.get(group, ()) + feats
        return merged


def map_features(schema: LeadSchema, framework: str = "bant") -> Rollup:
    """Assign every feature of ``schema`` to exactly one criterion of ``framework`` or a group."""
    spec = _framework(framework)
    criteria: dict[str, list[str]] = {name: [] for name in spec}
    groups: dict[str, list[str]] = {}
    for feature in schema.features:
        tag = feature.criterion
        home = None
        for name, sources in spec.items():
            if tag != "none" and (tag == name or tag in sources):
                home = name
                break
            if tag == "none" and f"{GROUP_PREFIX}{feature.group}" in sources:
                home = name
                break
        if home is None:
            groups.setdefault(feature.group, []).append(feature.name)
        else:
            criteria[home].append(feature.name)
    return Rollup(
        framework=framework.strip().lower(),
        criteria={k: tuple(v) for k, v in criteria.items()},
        groups={k: tuple(v) for k, v in groups.items()},
    )


def bant_rollup(schema: LeadSchema) -> Rollup:
    """The classic BANT reading (also used for ``bant_qualified`` whatever the framework)."""
    return map_features(schema, "bant")
