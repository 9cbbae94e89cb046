"""Probability → the labels sales works with: score 0–100, grade A–D, tier and funnel stage.

Grade bands are probability cut-offs. By default they are chosen at training time from the
test split's score distribution (top 10% A, next 20% B, next 30% C, rest D) and checked so that
observed conversion falls strictly from A to D; if it does not, coarser bands are tried, and
the table is reported either way so nobody has to trust a letter blindly.

**A is never below what a rep reads as hot.** Shares alone can make a 93 % lead a B (on an
export where a tenth of the leads score above 95 %). So the A cut-off is lowered, never raised,
to the lower of what the A band's leads actually converted at on the test split (a lead at
least as likely as the A leads proved to be is an A) and :data:`ALWAYS_A` (90 %: nine in ten
is hot whatever the others score). When it moves, B and C keep their shares of the leads
below A, so every letter still ranks. Tiers and stages follow the grade. Only training chooses
cut-offs: a bundle stores them, so bundles written before load and grade exactly as they did.

Grades stay absolute probability bands; the funnel *stage* may instead follow sales capacity
(``leadml thresholds --apply``, :mod:`leadml.qualify.capacity`): with ``sql_cutoff`` set, a lead
is "SQL" when its probability is at or above it, else its grade's stage with SQL read as MQL, so
the number of SQLs a week matches what sales can work while the letters keep their meaning.
Bundles written before (or without) a capacity cut-off load and save exactly as they did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

GRADES = ("A", "B", "C", "D")
DEFAULT_TIERS = {"A": "hot", "B": "warm", "C": "warm", "D": "cold"}
DEFAULT_STAGES = {"A": "SQL", "B": "MQL", "C": "MQL", "D": "nurture"}
#: The stage a capacity cut-off hands to sales, and what a grade's SQL becomes below it.
SQL, MQL = "SQL", "MQL"
FALLBACK_SHARES = ((0.10, 0.30, 0.60), (0.15, 0.40, 0.70), (0.20, 0.50, 0.80), (0.25, 0.50, 0.75))
#: A probability at or above this is always grade A (see the module's docstring).
ALWAYS_A = 0.90


@dataclass(frozen=True)
class GradeBands:
    """Lower probability bounds for A, B and C (D is everything below C); optionally the
    probability from which a lead is an SQL whatever its grade (``sql_cutoff``), with a record
    of the capacity it was chosen for (``capacity``: plain numbers and text)."""

    cutoffs: tuple[float, float, float]
    tiers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    stages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGES))
    sql_cutoff: float | None = None
    capacity: dict[str, Any] | None = None

    @property
    def sql_from(self) -> float:
        """The probability from which a lead is an SQL: the capacity cut-off when one is set
        (``leadml thresholds --apply``), else the lowest grade whose stage is SQL (A by
        default)."""
        if self.sql_cutoff is not None:
            return float(self.sql_cutoff)
        sql = [cut for g, cut in zip(GRADES, self.cutoffs, strict=False) if self.stages[g] == SQL]
        return float(min(sql)) if sql else float(self.cutoffs[0])

    def _below_sql(self) -> dict[str, str]:
        """Each grade's stage for a lead under the capacity cut-off: SQL is read as MQL."""
        return {g: MQL if s == SQL else s for g, s in self.stages.items()}

    def grade(self, probability: np.ndarray) -> np.ndarray:
        """Grade per probability; the cut-offs are inclusive lower bounds."""
        p = np.asarray(probability, dtype=np.float64)
        idx = np.full(p.shape, 3)
        for i in (2, 1, 0):
            idx[p >= self.cutoffs[i]] = i
        return np.asarray(GRADES, dtype=object)[idx]

    def grade_one(self, probability: float) -> str:
        for letter, cut in zip(GRADES, self.cutoffs, strict=False):
            if probability >= cut:
                return letter
        return "D"

    def labels(self, probability: np.ndarray) -> pd.DataFrame:
        """Columns probability, score, grade, tier, stage for a vector of probabilities."""
        grades = self.grade(probability)
        if self.sql_cutoff is None:
            stage = pd.Series(grades).map(self.stages).to_numpy()
        else:
            below = pd.Series(grades).map(self._below_sql()).to_numpy()
            sql = np.asarray(probability, dtype=np.float64) >= self.sql_cutoff
            stage = np.where(sql, SQL, below).astype(object)
        return pd.DataFrame(
            {
                "probability": probability,
                "score": score_0_100(probability),
                "grade": grades,
                "tier": pd.Series(grades).map(self.tiers).to_numpy(),
                "stage": stage,
            }
        )

    def label_one(self, probability: float) -> dict[str, float | int | str]:
        """The same labels for one lead, without pandas (the serving path): identical to
        ``labels`` to the last bit, since ``round`` and ``np.rint`` both round half to even."""
        grade = self.grade_one(probability)
        stage = self.stages[grade]
        if self.sql_cutoff is not None:
            stage = SQL if probability >= self.sql_cutoff else (MQL if stage == SQL else stage)
        return {
            "probability": probability,
            "score": round(probability * 100),
            "grade": grade,
            "tier": self.tiers[grade],
            "stage": stage,
        }

    def to_dict(self) -> dict:
        """As ``leadml.json`` holds it; the capacity fields only when set, so a bundle without
        them is written byte for byte as before they existed."""
        data: dict[str, Any] = {
            "cutoffs": list(self.cutoffs),
            "tiers": self.tiers,
            "stages": self.stages,
        }
        if self.sql_cutoff is not None:
            data["sql_cutoff"] = self.sql_cutoff
        if self.capacity is not None:
            data["capacity"] = self.capacity
        return data

    @classmethod
    def from_dict(cls, data: dict) -> GradeBands:
        cut = data.get("sql_cutoff")
        capacity = data.get("capacity")
        return cls(
            tuple(data["cutoffs"]),
            dict(data["tiers"]),
            dict(data["stages"]),
            None if cut is None else float(cut),
            None if capacity is None else dict(capacity),
        )


def score_0_100(probability: np.ndarray) -> np.ndarray:
    """A 0–100 integer score: the calibrated probability in percent, as CRMs display it."""
    return np.rint(np.asarray(probability) * 100).astype(np.int64)


def grade_table(probability: np.ndarray, y: np.ndarray, bands: GradeBands) -> pd.DataFrame:
    """Observed conversion per grade: the evidence that the letters mean something."""
    frame = pd.DataFrame({"grade": bands.grade(probability), "y": y, "p": probability})
    table = (
        frame.groupby("grade")
        .agg(leads=("y", "size"), converted=("y", "sum"), mean_probability=("p", "mean"))
        .reindex(list(GRADES), fill_value=0)
    )
    table["share"] = table["leads"] / max(len(frame), 1)
    table["conversion"] = table["converted"] / table["leads"].where(table["leads"] > 0)
    table["min_probability"] = [*bands.cutoffs, 0.0]
    return table.reset_index()


def _strictly_falling(table: pd.DataFrame) -> bool:
    conv = table["conversion"].to_numpy()
    return bool(np.all(np.isfinite(conv)) and np.all(np.diff(conv) < 0))


def hot_cutoffs(
    p: np.ndarray, y: np.ndarray, share: tuple[float, float, float]
) -> tuple[float, float, float]:
    """Cut-offs at the cumulative ``share``s, with A lowered to what its leads converted at or
    to :data:`ALWAYS_A`, whichever is lower (never raised), and B and C then keeping their
    shares of the leads below A."""
    cuts = [float(np.quantile(p, 1 - s)) for s in share]
    in_a = p >= cuts[0]
    proved = float(np.mean(y[in_a])) if in_a.any() else 1.0
    hot = min(cuts[0], proved, ALWAYS_A)
    if hot >= cuts[0]:
        return cuts[0], cuts[1], cuts[2]
    taken = float(np.mean(p >= hot))  # A's share once lowered
    rest = (1 - taken) / (1 - share[0]) if share[0] < 1 else 0.0
    below = [taken + (s - share[0]) * rest for s in share[1:]]
    return hot, *(float(np.quantile(p, 1 - s)) for s in below)  # type: ignore[return-value]


def choose_bands(
    probability: np.ndarray, y: np.ndarray, shares: tuple[float, float, float] = (0.1, 0.3, 0.6)
) -> tuple[GradeBands, pd.DataFrame, bool]:
    """Cut-offs at the given cumulative shares (A lowered as :func:`hot_cutoffs` says); fall
    back to coarser bands until conversion falls strictly from A to D. Returns the bands,
    their table and whether it is strict."""
    p = np.asarray(probability, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    candidates = [shares, *(s for s in FALLBACK_SHARES if s != shares)]
    first = None
    for share in candidates:
        cuts = hot_cutoffs(p, y, share)
        if not (cuts[0] > cuts[1] > cuts[2]):
            continue
        bands = GradeBands(cuts)  # type: ignore[arg-type]
        table = grade_table(p, y, bands)
        first = first or (bands, table)
        if _strictly_falling(table):
            return bands, table, True
    if first is None:  # every lead has (almost) the same probability
        bands = GradeBands((1.0, 1.0, 1.0))
        return bands, grade_table(p, y, bands), False
    return first[0], first[1], False
