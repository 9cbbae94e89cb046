"""What a bundle's model records is a fact of the model: the criteria no feature of it feeds,
read from the columns it was trained on (the encoder), kept through a save and a load."""

from __future__ import annotations

import dataclasses

from leadml.bundle.model import LeadModel
from leadml.modeling.finish import TrainResult
from leadml.schema import bundled_schema
from tests.support.training import PARTIAL_MISSING


def test_unrecorded_criteria_survive_a_save_and_a_load(partial: TrainResult) -> None:
    assert partial.bundle is not None
    loaded = LeadModel.load(partial.bundle)
    assert loaded.unrecorded_criteria() == partial.model.unrecorded_criteria() == PARTIAL_MISSING
    assert loaded.unrecorded_criteria("champ") == ("money", "prioritisation")
    assert loaded.rollup("bant").recorded == ("authority", "need")


def test_a_schema_field_the_model_never_read_records_nothing(
    partial: TrainResult, trained: TrainResult
) -> None:
    """A schema may list a timing field that training dropped (or an export lacked): the
    model still has no timing evidence, so timing stays unrecorded."""
    timeline = bundled_schema().feature("purchase_timeline")
    model = partial.model
    listed = model.schema.model_copy(update={"features": [*model.schema.features, timeline]})
    widened = dataclasses.replace(model, schema=listed)
    assert "purchase_timeline" not in widened.encoder.names
    assert widened.unrecorded_criteria() == PARTIAL_MISSING
    assert trained.model.unrecorded_criteria() == ()
    assert trained.model.unrecorded_criteria("gpct") == ("goals",)
