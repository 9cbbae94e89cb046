"""Probability → the labels sales works with: score 0–100, grade A–D, tier and funnel stage.

Grade bands are probability cut-offs. By default they are chosen at training time from the
test split's score distribution (top 10% A, next 20% B, next 30% C, rest D) and checked so that
observed conversion falls strictly from A to D; if it does not, coarser bands are tried, and
the table is reported either way so nobody has to trust a letter blindly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

GRADES = ("A", "B", "C", "D")
DEFAULT_TIERS = {"A": "hot", "B": "warm", "C": "warm", "D": "cold"}
DEFAULT_STAGES = {"A": "SQL", "B": "MQL", "C": "MQL", "D": "nurture"}
FALLBACK_SHARES = ((0.10, 0.30, 0.60), (0.15, 0.40, 0.70), (0.20, 0.50, 0.80), (0.25, 0.50, 0.75))


@dataclass(frozen=True)
class GradeBands:
    """Lower probability bounds for A, B and C (D is everything below C)."""

    cutoffs: tuple[float, float, float]
    tiers: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TIERS))
    stages: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_STAGES))

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
        return pd.DataFrame(
            {
                "probability": probability,
                "score": score_0_100(probability),
                "grade": grades,
                "tier": pd.Series(grades).map(self.tiers).to_numpy(),
                "stage": pd.Series(grades).map(self.stages).to_numpy(),
            }
        )

    def label_one(self, probability: float) -> dict[str, float | int | str]:
        """The same labels for one lead, without pandas (the serving path): identical to
        ``labels`` to the last bit, since ``round`` and ``np.rint`` both round half to even."""
        grade = self.grade_one(probability)
        return {
            "probability": probability,
            "score": round(probability * 100),
            "grade": grade,
            "tier": self.tiers[grade],
            "stage": self.stages[grade],
        }

    def to_dict(self) -> dict:
        return {"cutoffs": list(self.cutoffs), "tiers": self.tiers, "stages": self.stages}

    @classmethod
    def from_dict(cls, data: dict) -> GradeBands:
        return cls(tuple(data["cutoffs"]), dict(data["tiers"]), dict(data["stages"]))


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


def choose_bands(
    probability: np.ndarray, y: np.ndarray, shares: tuple[float, float, float] = (0.1, 0.3, 0.6)
) -> tuple[GradeBands, pd.DataFrame, bool]:
    """Cut-offs at the given cumulative shares; fall back to coarser bands until conversion
    falls strictly from A to D. Returns the bands, their table and whether it is strict."""
    p = np.asarray(probability, dtype=np.float64)
    candidates = [shares, *(s for s in FALLBACK_SHARES if s != shares)]
    first = None
    for share in candidates:
        cuts = tuple(float(np.quantile(p, 1 - s)) for s in share)
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
