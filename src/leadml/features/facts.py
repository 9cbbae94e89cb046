"""What scoring one lead reads of a trained model again and again, worked out once per model.

Every lead sent to the API is checked against the training ranges, scored for novelty and
rolled up into the framework's criteria. Each of those needs a table derived from the model
(LightGBM's record of its training data, the novelty counts, the roll-up's index arrays), too
slow to derive per lead and the same for every lead. :class:`ModelFacts` is their one home: a
trained model holds one, made with it, and the functions that need a table fill its slot the
first time (:func:`leadml.features.inputs.training_ranges`,
:func:`leadml.features.novelty.novelty_table`, :func:`leadml.explain.rollup.plan_for`). A
model reloaded is a new model with new facts, so nothing outlives the model it describes.

:class:`TrainedModel` is what the rules of this package read of a model, so that they take a
model without knowing the bundle it was loaded from (the bundle package sits above them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from leadml.features.encoder import FeatureEncoder
from leadml.features.novelty_counts import NoveltyTable
from leadml.schema.spec import LeadSchema


@dataclass
class ModelFacts:
    """Per-model tables for single-lead scoring, each filled on first use (None: not yet)."""

    #: Numeric feature → (lowest, highest) value seen in training.
    ranges: dict[str, tuple[float, float]] | None = None
    #: The novelty counts as −log shares (None: not built yet, or the bundle keeps no counts).
    novelty: NoveltyTable | None = None
    #: The explanation's roll-up plan per framework (:class:`leadml.explain.rollup.Plan`,
    #: which this package, below :mod:`leadml.explain`, does not name).
    plans: dict[str, Any] = field(default_factory=dict)


class TrainedModel(Protocol):
    """The parts of a trained model the input and novelty rules read."""

    @property
    def booster(self) -> Any: ...

    @property
    def encoder(self) -> FeatureEncoder: ...

    @property
    def schema(self) -> LeadSchema: ...

    @property
    def meta(self) -> dict[str, Any]: ...

    @property
    def facts(self) -> ModelFacts: ...


def booster_ranges(booster: Any, encoder: FeatureEncoder) -> dict[str, tuple[float, float]]:
    """Numeric feature → (lowest, highest) value in the training data, from LightGBM's own
    record of it (``feature_infos``), so old bundles and Dask-trained models have it too."""
    infos = booster.dump_model(num_iteration=1).get("feature_infos", {})
    found: dict[str, tuple[float, float]] = {}
    for name, kind in zip(encoder.names, encoder.kinds, strict=True):
        info = infos.get(name) or {}
        if kind == "numeric" and "min_value" in info and "max_value" in info:
            found[name] = (float(info["min_value"]), float(info["max_value"]))
    return found
