"""The fairness audit of a set of scored leads: per audit column, its groups' figures at the
SQL cut-off, the selection-rate ratios and flags, the features that stand in for it, and the
sentences that say it.

Training calls :func:`audit_leads` on the learned rows (``Validated.audit``), ``leadml audit``
on any later file. The result is aggregates only: group labels (banded ages, category levels
of ``MIN_LEADS``+ leads) and figures, so it may go in the report, MLflow and ``metrics.json``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadml.errors import DataError
from leadml.fairness.groups import audit_groups
from leadml.fairness.metrics import RATIO_FLOOR, RESAMPLES, group_rows
from leadml.fairness.proxies import PROXY_AUC, Proxy, proxy_scores
from leadml.fairness.words import column_lines, percent


@dataclass(frozen=True)
class ColumnAudit:
    """One audit column: how its groups were made, the table, and the proxies found."""

    column: str
    how: str
    groups: list[dict]
    proxies: list[Proxy]
    is_feature: bool = False

    @property
    def flagged(self) -> list[str]:
        return [r["group"] for r in self.groups if r["flagged"]]

    @property
    def min_selection_ratio(self) -> float | None:
        ratios = [r["ratio"] for r in self.groups if r["ratio"] is not None]
        return min(ratios) if ratios else None

    def to_dict(self) -> dict:
        data = {
            "column": self.column,
            "how": self.how,
            "groups": self.groups,
            "min_selection_ratio": self.min_selection_ratio,
            "flagged": self.flagged,
            "proxies": [p.to_dict() for p in self.proxies],
            "is_feature": self.is_feature,
        }
        data["lines"] = column_lines(data)
        return data


@dataclass(frozen=True)
class Audit:
    """The audit of every column, with the cut-off and the lead counts it was made on."""

    cutoff: float
    leads: int
    settled: int | None
    resamples: int
    columns: list[ColumnAudit] = field(default_factory=list)
    #: Each segment has its own SQL cut-off (``cutoff`` is then the lowest of them).
    per_segment: bool = False

    def to_dict(self) -> dict:
        """JSON-ready: the rules' thresholds, the counts, and per column its table, ratios,
        flags, proxies and sentences."""
        return {
            "sql_cutoff": round(self.cutoff, 6),
            "per_segment_cutoffs": self.per_segment,
            "leads": self.leads,
            "settled": self.settled,
            "resamples": self.resamples,
            "ratio_floor": RATIO_FLOOR,
            "proxy_auc": PROXY_AUC,
            "columns": {c.column: c.to_dict() for c in self.columns},
        }

    def lines(self) -> list[str]:
        return audit_lines(self.to_dict())


def audit_lines(audit: dict) -> list[str]:
    """The audit's sentences: what was measured, then each column's."""
    settled = audit.get("settled")
    known = "no outcomes known" if not settled else f"{settled:,} with a settled outcome"
    where = (
        "each segment's own SQL cut-off"
        if audit.get("per_segment_cutoffs")
        else f"the SQL cut-off, probability ≥ {percent(audit['sql_cutoff'])}"
    )
    lines = [f"fairness audit of {audit['leads']:,} leads ({known}) at {where}"]
    for column in audit["columns"].values():
        lines += column["lines"]
    return lines


def audit_leads(
    audit: pd.DataFrame,
    features: pd.DataFrame,
    p: np.ndarray,
    y: np.ndarray | None,
    sql_cutoff: float | np.ndarray,
    *,
    seed: int,
    resamples: int = RESAMPLES,
) -> Audit:
    """Audit the scored leads on each column of ``audit``.

    Parameters
    ----------
    audit : DataFrame
        The audit columns, as given, one row per lead (aligned by position with the rest).
    features : DataFrame
        The model's features, typed (numbers as floats, categories as text), for proxies.
    p : array
        Each lead's probability.
    y : array or None
        1 converted, 0 not, NaN not known yet; None when no outcome is known at all (only
        selection rates and mean probabilities are then given).
    sql_cutoff : float or array
        The probability from which a lead is sent to sales, or each lead's (segments with
        their own grade bands).
    seed, resamples
        The bootstrap's seed and resample count (the proxies' sample and folds use the seed).
    """
    p = np.asarray(p, dtype=np.float64)
    if len(audit) != len(p) or len(features) != len(p):
        raise DataError(
            f"the audit needs one row per lead: {len(audit)} audit rows, "
            f"{len(features)} feature rows, {len(p)} probabilities"
        )
    if y is not None:
        y = np.asarray(y, dtype=np.float64)
    audit = audit.reset_index(drop=True)
    features = features.reset_index(drop=True)
    columns = []
    for k, name in enumerate(audit.columns):
        grouping = audit_groups(audit[name])
        rows = group_rows(
            grouping.labels,
            grouping.order,
            p,
            y,
            sql_cutoff,
            seed=seed + k,
            resamples=resamples,
        )
        proxies = proxy_scores(features, str(name), grouping.labels, seed=seed)
        columns.append(
            ColumnAudit(str(name), grouping.how, rows, proxies, name in features.columns)
        )
    settled = None if y is None else int(np.isfinite(y).sum())
    cutoffs = np.asarray(sql_cutoff, dtype=np.float64)
    varies = bool(cutoffs.ndim and len(np.unique(cutoffs)) > 1)
    lowest = float(cutoffs.min()) if cutoffs.size else float("nan")
    return Audit(lowest, len(p), settled, resamples, columns, varies)


_UNSAFE = re.compile(r"[^0-9A-Za-z_.\-]+")


def metrics_for_mlflow(audit: dict) -> dict[str, float]:
    """The audit as flat MLflow metrics, aggregates per column only (group labels such as
    "60+" are not valid metric names): ``audit.<column>.min_selection_ratio``,
    ``.flagged_groups``, ``.proxies``, ``.max_proxy_auc`` and ``.min_roc_auc``."""
    out: dict[str, float] = {}
    for name, column in audit["columns"].items():
        key = "audit." + (_UNSAFE.sub("_", name).strip("_") or "column")
        if column["min_selection_ratio"] is not None:
            out[f"{key}.min_selection_ratio"] = float(column["min_selection_ratio"])
        out[f"{key}.flagged_groups"] = float(len(column["flagged"]))
        out[f"{key}.proxies"] = float(sum(p["proxy"] for p in column["proxies"]))
        aucs = [p["roc_auc"] for p in column["proxies"] if p["roc_auc"] is not None]
        if aucs:
            out[f"{key}.max_proxy_auc"] = float(max(aucs))
        ranked = [r["roc_auc"] for r in column["groups"] if r.get("roc_auc") is not None]
        if ranked:
            out[f"{key}.min_roc_auc"] = float(min(ranked))
    return out
