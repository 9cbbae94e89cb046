"""The training record in ``leadml.json`` (``meta``): every field requests read back is checked
at load, each refusal one line naming the field; every bundle training writes passes.

Before, each of these bundles loaded and passed the test lead, and then failed on every
request that read the field: 500 on ``?detail=full`` and ``/v1/explain`` (interval, novelty),
every score refused by PostgreSQL (a version label past the history's column), every lead
graded A (cut-offs of 3e-9).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from leadml.bundle.check import version_label_limit
from leadml.bundle.files import META_FILE
from leadml.bundle.model import LeadModel
from leadml.errors import ModelLoadError
from leadml.history.tables import lead_scores
from leadml.modeling.finish import TrainResult
from tests.support.bundles import tamper

Edit = Callable[[dict[str, Any]], None]


def refused(folder: Path, edit: Edit) -> str:
    """The one-line refusal of ``folder`` with ``edit`` made (then undone, for the next)."""
    before = (folder / META_FILE).read_text()
    tamper(folder, edit)
    try:
        with pytest.raises(ModelLoadError) as caught:
            LeadModel.load(folder)
    finally:
        (folder / META_FILE).write_text(before)
    message = str(caught.value)
    assert message.startswith(f"{folder}: corrupt bundle: ") and "\n" not in message
    return message.removeprefix(f"{folder}: corrupt bundle: ")


def record(edit: Callable[[dict[str, Any]], None]) -> Edit:
    """An edit of the training record (``meta`` inside ``leadml.json``)."""
    return lambda meta: edit(meta["meta"])


def test_every_bundle_training_writes_passes(trained: TrainResult, partial: TrainResult) -> None:
    for result in (trained, partial):
        assert result.bundle is not None
        model = LeadModel.load(result.bundle)
        assert model.meta["interval"] and model.meta["novelty"] and model.meta["reference"]


def test_the_label_bound_is_the_history_column() -> None:
    assert version_label_limit() == lead_scores.c.model_version.type.length == 200


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("convert_from", "0.4", "meta.interval.convert_from must be a probability"),
        ("stay_up_to", math.nan, "meta.interval.stay_up_to must be a probability"),
        ("convert_from", 7.0, "meta.interval.convert_from must be a probability"),
        ("level", 1.5, "meta.interval.level must be in (0, 1)"),
        ("level", None, "meta.interval.level must be in (0, 1)"),
        ("calibrated_on", -3, "meta.interval.calibrated_on must be a whole number"),
        ("surprise", 1, "meta.interval must hold only"),
    ],
)
def test_interval(copied: Path, field: str, value: Any, said: str) -> None:
    message = refused(copied, record(lambda m: m["interval"].__setitem__(field, value)))
    assert message.startswith(said), message


def test_interval_of_the_wrong_type(copied: Path) -> None:
    assert "meta.interval" in refused(copied, record(lambda m: m.__setitem__("interval", [0, 1])))


def test_novelty(copied: Path) -> None:
    def threshold(m: dict[str, Any]) -> None:
        m["novelty"]["threshold"] = "high"

    assert "meta.novelty.threshold" in refused(copied, record(threshold))


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda f: f["employees"]["counts"].pop(), "employees has 13 counts for 13 edges"),
        (lambda f: f["employees"]["edges"].reverse(), "employees.edges must never fall"),
        (lambda f: f["employees"].__setitem__("missing", -1), "employees.missing must be"),
        (lambda f: f["country"]["counts"].__setitem__(0, 10**9), "country counts"),
        (lambda f: f.pop("country"), "fields must count every encoder feature (not ['country"),
        (lambda f: f["country"].__setitem__("edges", [1.0]), "country has 10 counts for 1 edges"),
    ],
)
def test_novelty_fields(copied: Path, change: Callable[[dict], Any], said: str) -> None:
    message = refused(copied, record(lambda m: change(m["novelty"]["fields"])))
    assert said in message, message


def test_version_label_bounded_by_the_history_column(copied: Path) -> None:
    limit = lead_scores.c.model_version.type.length
    message = refused(copied, record(lambda m: m.__setitem__("version", "v" * (limit + 1))))
    assert message == f"meta.version must be text of at most {limit} characters (201 characters)"

    # model_id is the label of a bundle that was never registered
    def unregistered(m: dict[str, Any]) -> None:
        m.pop("version")
        m["model_id"] = "m" * 500

    assert refused(copied, record(unregistered)).startswith("meta.model_id must be text")
    assert "meta.version" in refused(copied, record(lambda m: m.__setitem__("version", 12)))
    assert "control characters" in refused(
        copied, record(lambda m: m.__setitem__("version", "v1\nFAKE log line"))
    )
    tamper(copied, record(lambda m: m.__setitem__("version", "v" * limit)))
    assert LeadModel.load(copied).version == "v" * limit  # at the bound: stored whole


def test_label(copied: Path) -> None:
    def horizon(m: dict[str, Any]) -> None:
        m["label"]["horizon_days"] = "30"

    assert "meta.label.horizon_days" in refused(copied, record(horizon))

    def counts(m: dict[str, Any]) -> None:
        m["label"]["counts"]["converted"] = -1

    assert "meta.label.counts" in refused(copied, record(counts))


def test_reference(copied: Path) -> None:
    def score(m: dict[str, Any]) -> None:
        m["reference"]["score"]["counts"][0] += 1

    assert "meta.reference.score" in refused(copied, record(score))

    def push(m: dict[str, Any]) -> None:
        m["reference"]["pushes"]["bant"]["budget"]["edges"] = ["x"]

    assert "meta.reference.pushes.bant.budget.edges" in refused(copied, record(push))

    def mean(m: dict[str, Any]) -> None:
        m["reference"]["mean_probability"] = 2.0

    assert "mean_probability" in refused(copied, record(mean))


def test_absurd_cutoffs_are_refused(copied: Path, trained: TrainResult) -> None:
    """3e-9 is a valid, falling set of probabilities that grades every lead A; against the
    grades training gave its own leads it cannot be the model's."""
    stored = trained.model.meta["reference"]["grades"]
    rows = trained.model.meta["reference"]["rows"]

    def tiny(meta: dict[str, Any]) -> None:
        meta["bands"]["cutoffs"] = [3e-9, 2e-9, 1e-9]

    message = refused(copied, tiny)
    assert message.startswith("grade cut-off A 3e-09 puts "), message
    assert f"training stored {stored['A'] / rows:.0%}" in message
    print(f"\n{message}")

    def all_a(meta: dict[str, Any]) -> None:  # the stored grades edited to agree
        meta["bands"]["cutoffs"] = [3e-9, 2e-9, 1e-9]
        meta["meta"]["reference"]["grades"] = {"A": rows, "B": 0, "C": 0, "D": 0}

    assert refused(copied, all_a) == "grade A holds every training lead: the cut-offs grade nothing"

    def swapped(meta: dict[str, Any]) -> None:  # B's and C's cut-offs moved, A kept
        a, _, c = meta["bands"]["cutoffs"]
        meta["bands"]["cutoffs"] = [a, c, c / 10]

    assert refused(copied, swapped).startswith("grade cut-off B")


def test_cutoffs_as_trained_and_without_a_reference_pass(copied: Path) -> None:
    tamper(copied, record(lambda m: m.pop("reference")))
    assert LeadModel.load(copied).bands.cutoffs  # range checks alone, as for older bundles
