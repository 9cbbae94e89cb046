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

import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from leadml.features.encoder import NUMERIC_KINDS
from leadml.features.inputs import clip_warning, number_text, training_ranges

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel

#: Cut points of a number's bands: tails fine enough to tell a 1-in-200 value from a common one.
CUTS = np.array([0.005, 0.025, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.975, 0.995])
#: A lead rarer than this share of the training leads is unfamiliar.
QUANTILE = 0.99
#: Training leads the counts are taken from (shares good to a fraction of a point).
MAX_ROWS = 20_000
#: Warnings that make a lead unfamiliar on their own (numbers beyond training are read from
#: the matrix itself, so a table without warnings is judged alike).
UNFAMILIAR_WARNINGS = ("unseen", "unreadable")


def _surprise(counts: np.ndarray, rows: int) -> np.ndarray:
    """−log share with half a lead added to every bin (a bin no training lead fell in is rare,
    not impossible)."""
    return -np.log((np.asarray(counts, dtype=np.float64) + 0.5) / (rows + 1.0))


def _field(kind: str, column: np.ndarray, n_levels: int) -> dict[str, Any]:
    finite = np.isfinite(column)
    if kind in NUMERIC_KINDS:
        values = column[finite]
        edges = np.unique(np.quantile(values, CUTS)) if len(values) else np.zeros(0)
        which = np.searchsorted(edges, values, side="left")
        counts = np.bincount(which, minlength=len(edges) + 1)
        return {"edges": edges.tolist(), "counts": counts.tolist(), "missing": int((~finite).sum())}
    known = finite & (column >= 0) & (column < n_levels)
    counts = np.bincount(column[known].astype(np.int64), minlength=n_levels)
    return {"edges": None, "counts": counts.tolist(), "missing": int((~known).sum())}


def novelty_spec(model: LeadModel, x: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Counts per field and the training leads' 99th percentile of the novelty score (what the
    bundle keeps in ``meta["novelty"]``)."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if len(x) > MAX_ROWS:
        x = x[np.sort(rng.choice(len(x), MAX_ROWS, replace=False))]
    encoder = model.encoder
    fields = {
        name: _field(
            kind, x[:, j], 0 if kind in NUMERIC_KINDS else len(model.encoder.level_names(j))
        )
        for j, (name, kind) in enumerate(zip(encoder.names, encoder.kinds, strict=True))
    }
    spec = {"rows": len(x), "quantile": QUANTILE, "fields": fields, "threshold": None}
    table = NoveltyTable.build(encoder.names, spec)
    if len(x):
        spec["threshold"] = float(np.quantile(table.surprises(x).sum(axis=1), QUANTILE))
    return spec


@dataclass(frozen=True)
class NoveltyTable:
    """Per field: band edges (numbers) and −log shares per bin, the last bin "missing"."""

    names: list[str]
    edges: list[np.ndarray | None]
    surprise: list[np.ndarray]
    missing_share: list[float]
    threshold: float | None

    @classmethod
    def build(cls, names: list[str], spec: dict[str, Any]) -> NoveltyTable:
        rows = int(spec["rows"])
        edges, surprise, missing = [], [], []
        for name in names:
            field = spec["fields"][name]
            edges.append(None if field["edges"] is None else np.asarray(field["edges"], float))
            surprise.append(_surprise([*field["counts"], field["missing"]], rows))
            missing.append(field["missing"] / max(rows, 1))
        return cls(list(names), edges, surprise, missing, spec.get("threshold"))

    def bins(self, j: int, column: np.ndarray) -> np.ndarray:
        """Bin of each value of field ``j``; the last bin is "missing" (and unseen levels)."""
        last = len(self.surprise[j]) - 1
        finite = np.isfinite(column)
        out = np.full(len(column), last)
        edges = self.edges[j]
        if edges is None:
            ok = finite & (column >= 0) & (column < last)
            out[ok] = column[ok].astype(np.int64)
        else:
            out[finite] = np.searchsorted(edges, column[finite], side="left")
        return out

    def surprises(self, x: np.ndarray) -> np.ndarray:
        """(n, fields) −log share of each lead's bin."""
        x = np.asarray(x, dtype=np.float64)
        return (
            np.column_stack(
                [self.surprise[j][self.bins(j, x[:, j])] for j in range(len(self.names))]
            )
            if len(self.names)
            else np.zeros((len(x), 0))
        )

    def share(self, j: int, value: float) -> float:
        """Share of training leads in the bin of ``value`` (for the reason's words)."""
        s = float(self.surprise[j][self.bins(j, np.array([value]))[0]])
        return math.exp(-s)


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def novelty_table(model: LeadModel) -> NoveltyTable | None:
    """Built once per model (None for a bundle trained before the flag existed)."""
    spec = model.meta.get("novelty")
    if not spec:
        return None
    table = _TABLES.get(model.booster)
    if table is None or table.names != model.encoder.names:
        table = NoveltyTable.build(model.encoder.names, spec)
        _TABLES[model.booster] = table
    return table


def _rare_reason(model: LeadModel, table: NoveltyTable, j: int, value: float) -> str:
    spec = next((f for f in model.schema.features if f.name == table.names[j]), None)
    label = spec.label if spec else table.names[j]
    share = table.share(j, value)
    few = "almost no training lead" if share < 0.001 else f"{share:.1%} of training leads"
    if value != value:
        return f"{label} missing, as {few} {'was' if share < 0.001 else 'were'}"
    if table.edges[j] is None:
        return f"{label} '{model.encoder.decode_value(j, value)}' is rare: {few}"
    return f"{label} {number_text(value)} is rare: {few} near it"


def _positions(model: LeadModel) -> dict[str, int]:
    return {n: j for j, n in enumerate(model.encoder.names)}


def _beyond_training(model: LeadModel, x: np.ndarray) -> dict[int, list[tuple[str, str]]]:
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
    model: LeadModel, x: np.ndarray, warnings: list[list[dict]] | None = None, reasons: int = 3
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
