"""The training leads' counts behind the novelty score: made once at training, kept in the bundle.

How unusual a lead is (:mod:`leadml.features.novelty`) is read against how the training leads
fell, field by field, into bins: a level, "missing", or a band of a number cut at its 0.5, 2.5,
10, 20, …, 90, 97.5 and 99.5 % points. Training keeps those counts (numbers only, never a row)
and the score's 99th percentile over the training leads; :class:`NoveltyTable` turns them into
the −log shares a lead is scored with, once per model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from leadml.features.encoder import NUMERIC_KINDS, FeatureEncoder

#: Cut points of a number's bands: tails fine enough to tell a 1-in-200 value from a common one.
CUTS = np.array([0.005, 0.025, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.975, 0.995])
#: A lead rarer than this share of the training leads is unfamiliar.
QUANTILE = 0.99
#: Training leads the counts are taken from (shares good to a fraction of a point).
MAX_ROWS = 20_000


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


def novelty_spec(encoder: FeatureEncoder, x: np.ndarray, seed: int = 0) -> dict[str, Any]:
    """Counts per field of the encoded training leads ``x`` and their 99th percentile of the
    novelty score (what the bundle keeps in ``meta["novelty"]``)."""
    x = np.asarray(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if len(x) > MAX_ROWS:
        x = x[np.sort(rng.choice(len(x), MAX_ROWS, replace=False))]
    fields = {
        name: _field(kind, x[:, j], 0 if kind in NUMERIC_KINDS else len(encoder.level_names(j)))
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
    threshold: float | None

    @classmethod
    def build(cls, names: list[str], spec: dict[str, Any]) -> NoveltyTable:
        rows = int(spec["rows"])
        edges, surprise = [], []
        for name in names:
            field = spec["fields"][name]
            edges.append(None if field["edges"] is None else np.asarray(field["edges"], float))
            surprise.append(_surprise([*field["counts"], field["missing"]], rows))
        return cls(list(names), edges, surprise, spec.get("threshold"))

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
