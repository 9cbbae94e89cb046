"""Is this lead unlike the leads the model learned from? The *unfamiliar* flag and its reason.

A score is only as good as the model's experience with leads like it. Three things say a lead
is outside that experience, and each is named in the flag's reasons:

* a category never seen in training, an unreadable value, or a number beyond anything seen in
  training (the lead's warnings, :mod:`leadml.features.inputs`), and
* a **novelty score**: how rare the lead's values are among the training leads, field by field.
  It is a histogram-based outlier score (HBOS, Goldstein and Dengel 2012): the sum over fields
  of −log of the share of training leads in the lead's bin (a level, "missing", or a band of a
  number cut at its 0.5, 2.5, 10, 20, …, 90, 97.5 and 99.5 % points). Training keeps those
  counts (numbers only, never a row) and the score's 99th percentile over the training leads;
  a lead above it is rarer than 99 in 100 of them. Fields are scored independently, which is
  what makes it cheap and explainable (the rarest fields are the reason); a combination of
  common values that never occurs together is not caught.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from leadml.features.facts import TrainedModel
from leadml.features.inputs import clip_warning, number_text, training_ranges
from leadml.features.novelty_counts import NoveltyTable

#: Warnings that make a lead unfamiliar on their own (numbers beyond training are read from
#: the matrix itself, so a table without warnings is judged alike).
UNFAMILIAR_WARNINGS = ("unseen", "unreadable")


def novelty_table(model: TrainedModel) -> NoveltyTable | None:
    """The model's novelty counts as a table, built once per model and kept in its facts
    (None for a bundle trained before the flag existed)."""
    spec = model.meta.get("novelty")
    if not spec:
        return None
    facts = model.facts
    if facts.novelty is None:
        facts.novelty = NoveltyTable.build(model.encoder.names, spec)
    return facts.novelty


def _rare_reason(model: TrainedModel, table: NoveltyTable, j: int, value: float) -> str:
    spec = next((f for f in model.schema.features if f.name == table.names[j]), None)
    label = spec.label if spec else table.names[j]
    share = table.share(j, value)
    few = "almost no training lead" if share < 0.001 else f"{share:.1%} of training leads"
    if value != value:
        return f"{label} missing, as {few} {'was' if share < 0.001 else 'were'}"
    if table.edges[j] is None:
        return f"{label} '{model.encoder.decode_value(j, value)}' is rare: {few}"
    return f"{label} {number_text(value)} is rare: {few} near it"


def _positions(model: TrainedModel) -> dict[str, int]:
    return {n: j for j, n in enumerate(model.encoder.names)}


def _beyond_training(model: TrainedModel, x: np.ndarray) -> dict[int, list[tuple[str, str]]]:
    """Per lead with any: (field, message) for numbers beyond anything seen in training."""
    out: dict[int, list[tuple[str, str]]] = {}
    labels = {f.name: f.label for f in model.schema.features}
    position = _positions(model)
    for name, bounds in training_ranges(model).items():
        column = x[:, position[name]]
        with np.errstate(invalid="ignore"):
            rows = np.flatnonzero((column < bounds[0]) | (column > bounds[1]))
        for i in rows.tolist():
            note = clip_warning(name, labels.get(name, name), float(column[i]), bounds)
            if note:
                out.setdefault(i, []).append((name, note["message"]))
    return out


def unfamiliar(
    model: TrainedModel, x: np.ndarray, warnings: list[list[dict]] | None = None, reasons: int = 3
) -> list[dict[str, Any] | None]:
    """Per lead ``{"unfamiliar", "novelty", "threshold", "reasons"}``; None per lead when the
    model keeps no novelty counts. ``warnings``: each lead's warnings, when known."""
    table = novelty_table(model)
    if table is None or table.threshold is None:
        return [None] * len(x)
    x = np.asarray(x, dtype=np.float64)
    surprise = table.surprises(x)
    scores = surprise.sum(axis=1)
    beyond = _beyond_training(model, x)
    # The rarest fields first, measured against how rare that field usually is.
    usual = np.array([s.min() for s in table.surprise])
    out: list[dict[str, Any] | None] = []
    for i in range(len(x)):
        why = [
            w["message"]
            for w in (warnings[i] if warnings else [])
            if w.get("kind") in UNFAMILIAR_WARNINGS
        ] + [message for _, message in beyond.get(i, [])]
        novel = bool(scores[i] > table.threshold)
        if novel:
            order = np.argsort(-(surprise[i] - usual))
            taken = {w.get("field") for w in (warnings[i] if warnings else [])}
            taken |= {name for name, _ in beyond.get(i, [])}
            why += [
                _rare_reason(model, table, int(j), float(x[i, j]))
                for j in order[:reasons]
                if table.names[j] not in taken
            ]
        out.append(
            {
                "unfamiliar": bool(why) or novel,
                "novelty": round(float(scores[i]), 2),
                "threshold": round(float(table.threshold), 2),
                "reasons": why[:reasons],
            }
        )
    return out
