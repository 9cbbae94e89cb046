"""Proxy detection: does a model feature, on its own, tell which audit group a lead is in?

Keeping age out of the features is not enough when a feature stands in for it (a job title
says "retired", a product line says "pension"). Each feature alone is asked to predict each
audit column's group: cross-validated ROC AUC, one group against the rest, the best group's
figure kept; and mutual information between the two. A feature reaching ``PROXY_AUC`` is named
as a possible proxy, with the figure: a number to weigh, not a verdict.

The model is a naive Bayes over the feature's values (numbers in quantile bins, rare
categories together, missing a value of its own): with one feature that is exactly "how often
is each group seen at this value", learned in milliseconds, out of fold so a feature with many
rare values cannot look predictive by memorising them. At most ``SAMPLE`` leads are used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.feature_selection import mutual_info_classif
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import CategoricalNB

#: A feature predicting an audit group at least this well alone is named as a possible proxy.
PROXY_AUC = 0.7
#: Leads used at most (a random sample beyond): the figures settle long before.
SAMPLE = 20_000
#: Quantile bins for a numeric feature; category levels rarer than ``RARE`` share one bin.
BINS = 16
RARE = 10
FOLDS = 3
#: A group needs this many leads in the sample to be predicted against the rest.
MIN_GROUP = 20


@dataclass(frozen=True)
class Proxy:
    """How well ``feature`` alone predicts ``column``'s groups: the best one-vs-rest ROC AUC
    (``group``: the group it is for), mutual information in nats, and the verdict of the rule."""

    feature: str
    column: str
    roc_auc: float | None
    group: str | None
    mutual_information: float
    proxy: bool

    def to_dict(self) -> dict:
        return {
            "feature": self.feature,
            "roc_auc": self.roc_auc,
            "group": self.group,
            "mutual_information": self.mutual_information,
            "proxy": self.proxy,
        }


def binned(values: pd.Series) -> np.ndarray:
    """A feature's values as small integer codes: numbers by quantile bin, categories by level
    (rare levels together), missing its own code. Datetimes count as numbers."""
    if pd.api.types.is_datetime64_any_dtype(values):
        values = values.astype("int64").where(values.notna())
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        numbers = values.astype(np.float64).to_numpy()
        given = numbers[np.isfinite(numbers)]
        if given.size == 0:
            return np.zeros(len(values), dtype=np.int64)
        edges = np.unique(np.quantile(given, np.linspace(0, 1, BINS + 1)[1:-1]))
        codes = np.searchsorted(edges, numbers, side="right") + 1
        return np.where(np.isfinite(numbers), codes, 0).astype(np.int64)
    text = values.astype("string").fillna("\0missing")
    counts = text.value_counts()
    text = text.where(~text.isin(counts.index[counts < RARE]), "\0rare")
    return pd.factorize(text)[0].astype(np.int64)


def _out_of_fold(codes: np.ndarray, groups: np.ndarray, seed: int) -> np.ndarray:
    """Each lead's probability of each group from the folds it was not in."""
    model = CategoricalNB(alpha=1.0, min_categories=int(codes.max()) + 1)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
    return cross_val_predict(model, codes[:, None], groups, cv=folds, method="predict_proba")


def _best_auc(proba: np.ndarray, groups: np.ndarray, names: np.ndarray) -> tuple[float, str]:
    best, which = 0.5, str(names[0])
    for k, name in enumerate(names):
        truth = groups == k
        if truth.all() or not truth.any():
            continue
        auc = float(roc_auc_score(truth, proba[:, k]))
        if auc > best:
            best, which = auc, str(name)
    return best, which


def proxy_scores(
    features: pd.DataFrame, column: str, labels: pd.Series, *, seed: int, sample: int = SAMPLE
) -> list[Proxy]:
    """For every column of ``features``, how well it alone predicts ``labels`` (the audit
    groups of ``column``, aligned by position); strongest first. Features that are the audit
    column itself are left out (the caller says so)."""
    rng = np.random.default_rng(seed)
    rows = np.arange(len(labels))
    if len(rows) > sample:
        rows = np.sort(rng.choice(rows, size=sample, replace=False))
    text = labels.to_numpy(dtype=object)[rows]
    counts = pd.Series(text).value_counts()
    kept = np.isin(text, counts.index[counts >= max(MIN_GROUP, FOLDS)])
    rows, text = rows[kept], text[kept]
    groups, names = pd.factorize(pd.Series(text))
    if len(names) < 2:
        return []
    out = []
    for feature in features.columns:
        if feature == column:
            continue
        codes = binned(features[feature].iloc[rows].reset_index(drop=True))
        mi = mutual_info_classif(codes[:, None], groups, discrete_features=True, random_state=seed)
        auc, group = _best_auc(_out_of_fold(codes, groups, seed), groups, np.asarray(names))
        out.append(
            Proxy(
                feature=str(feature),
                column=column,
                roc_auc=round(auc, 4),
                group=group,
                mutual_information=round(float(mi[0]), 4),
                proxy=auc >= PROXY_AUC,
            )
        )
    return sorted(out, key=lambda x: (-(x.roc_auc or 0.0), -x.mutual_information))
