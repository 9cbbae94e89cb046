"""Held-out metrics, the baselines a lead score must beat, and the plots people look at.

A lead model is only worth deploying if it beats what sales already does: the base rate
(treat every lead alike), a logistic regression (what a careful analyst builds in an
afternoon), and a BANT points score (what sales ops builds in a spreadsheet). All three are
fitted on the same training slice and judged on the same test slice.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.calibration import CalibrationDisplay
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    PrecisionRecallDisplay,
    RocCurveDisplay,
    average_precision_score,
    brier_score_loss,
    log_loss,
    roc_auc_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from leadml.schema import BANT, LeadSchema

#: Logistic regression is fitted on at most this many rows: its score stops moving long before.
BASELINE_MAX_ROWS = 100_000


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """Weighted mean |observed rate - mean probability| over equal-width probability bins."""
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(y))


def lift_at(y: np.ndarray, p: np.ndarray, fraction: float = 0.1) -> float:
    """Conversion in the top ``fraction`` of scores divided by the overall rate."""
    k = max(1, round(len(p) * fraction))
    top = np.argsort(-p, kind="stable")[:k]
    base = float(np.mean(y))
    return float(np.mean(y[top]) / base) if base > 0 else float("nan")


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """The held-out numbers every run reports; the same names across models and baselines."""
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    single_class = len(np.unique(y)) < 2
    return {
        "roc_auc": float("nan") if single_class else float(roc_auc_score(y, p)),
        "pr_auc": float("nan") if single_class else float(average_precision_score(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "brier": float(brier_score_loss(y, p)),
        "ece": expected_calibration_error(y, p),
        "lift_top_decile": lift_at(y, p, 0.1),
    }


# -- baselines -----------------------------------------------------------------------------------
def _logistic(
    x_train: pd.DataFrame, y_train: np.ndarray, x_test: pd.DataFrame, schema: LeadSchema, seed: int
) -> np.ndarray:
    numeric = [f.name for f in schema.features if f.kind in ("numeric", "boolean", "ordinal")]
    categorical = [f.name for f in schema.features if f.kind == "categorical"]
    prep = ColumnTransformer(
        [
            (
                "num",
                make_pipeline(
                    SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True),
                    StandardScaler(),
                ),
                numeric,
            ),
            (
                "cat",
                OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=20),
                categorical,
            ),
        ]
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=500, C=1.0))
    if len(x_train) > BASELINE_MAX_ROWS:
        pick = np.random.default_rng(seed).choice(len(x_train), BASELINE_MAX_ROWS, replace=False)
        x_train, y_train = x_train.iloc[pick], y_train[pick]
    model.fit(x_train, y_train)
    return model.predict_proba(x_test)[:, 1]


def bant_points(matrix: pd.DataFrame, schema: LeadSchema) -> np.ndarray:
    """The spreadsheet score sales ops builds: up to 25 points per BANT criterion.

    Each ordinal answer tagged with a criterion earns points by its rank (best answer = 25),
    unanswered earns 0; with several answers for one criterion the best counts.
    """
    points = np.zeros(len(matrix))
    for criterion in BANT:
        specs = [f for f in schema.features if f.criterion == criterion and f.kind == "ordinal"]
        best = np.zeros(len(matrix))
        for spec in specs:
            rank = matrix[spec.name].to_numpy(dtype=float)
            share = rank / max(len(spec.levels or []) - 1, 1)
            best = np.maximum(best, np.nan_to_num(share, nan=0.0) * 25)
        points += best
    return points


def has_bant_answers(schema: LeadSchema) -> bool:
    return any(f.criterion in BANT and f.kind == "ordinal" for f in schema.features)


def baseline_predictions(
    encoded_train: pd.DataFrame,
    y_train: np.ndarray,
    encoded_test: pd.DataFrame,
    raw_train: pd.DataFrame,
    raw_test: pd.DataFrame,
    schema: LeadSchema,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Test-slice probabilities of each baseline, fitted on the training slice only."""
    out = {"base_rate": np.full(len(encoded_test), float(np.mean(y_train)))}
    num_cols = [f.name for f in schema.features if f.kind != "categorical"]
    cat_cols = [f.name for f in schema.features if f.kind == "categorical"]
    lr_train = pd.concat(
        [encoded_train[num_cols], raw_train[cat_cols].astype("string").fillna("(missing)")], axis=1
    )
    lr_test = pd.concat(
        [encoded_test[num_cols], raw_test[cat_cols].astype("string").fillna("(missing)")], axis=1
    )
    out["logistic_regression"] = _logistic(lr_train, y_train, lr_test, schema, seed)
    if has_bant_answers(schema):
        # Points → probability by a one-variable logistic fit, so log loss and ECE are fair;
        # the ranking (ROC AUC, lift) is the points score's own.
        pts_train = bant_points(encoded_train, schema).reshape(-1, 1)
        mapper = LogisticRegression().fit(pts_train, y_train)
        out["bant_points"] = mapper.predict_proba(bant_points(encoded_test, schema).reshape(-1, 1))[
            :, 1
        ]
    return out


# -- plots ---------------------------------------------------------------------------------------
def _gains(y: np.ndarray, p: np.ndarray, points: int = 1001) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative gains at ``points`` evenly spaced shares of leads contacted: a line of a
    thousand points looks the same as one of 200,000 and renders a hundred times faster."""
    order = np.argsort(-p, kind="stable")
    captured = np.concatenate([[0.0], np.cumsum(y[order]) / max(y.sum(), 1)])
    at = np.unique(np.linspace(0, len(captured) - 1, points).round().astype(int))
    return at / (len(captured) - 1), captured[at]


def plot_evaluation(
    y: np.ndarray, predictions: dict[str, np.ndarray], folder: Path
) -> dict[str, Path]:
    """ROC, PR, reliability, cumulative gains and score histogram; one PNG each."""
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    ranked = {k: v for k, v in predictions.items() if k != "base_rate"}

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        RocCurveDisplay.from_predictions(y, p, name=name, ax=ax)
    ax.plot([0, 1], [0, 1], ls=":", c="grey")
    ax.set_title("ROC on the test split")
    files["roc"] = _save(fig, folder / "roc.png")

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        PrecisionRecallDisplay.from_predictions(y, p, name=name, ax=ax, drop_intermediate=True)
    ax.axhline(np.mean(y), ls=":", c="grey", label="base rate")
    ax.set_title("Precision–recall on the test split")
    files["pr"] = _save(fig, folder / "pr.png")

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        CalibrationDisplay.from_predictions(y, p, n_bins=10, name=name, ax=ax)
    ax.set_title("Reliability: predicted vs observed conversion")
    files["reliability"] = _save(fig, folder / "reliability.png")

    fig, ax = plt.subplots(figsize=(5.5, 5))
    for name, p in ranked.items():
        ax.plot(*_gains(y, p), label=name)
    ax.plot([0, 1], [0, 1], ls=":", c="grey", label="random")
    ax.set_xlabel("share of leads contacted (best first)")
    ax.set_ylabel("share of conversions captured")
    ax.set_title("Cumulative gains")
    ax.legend(loc="lower right")
    files["gains"] = _save(fig, folder / "gains.png")

    model_p = predictions["model"]
    fig, ax = plt.subplots(figsize=(6, 4))
    bins = np.linspace(0, 1, 41)
    ax.hist(model_p[y == 0], bins=bins, alpha=0.6, label="not converted", density=True)
    ax.hist(model_p[y == 1], bins=bins, alpha=0.6, label="converted", density=True)
    ax.set_xlabel("calibrated probability")
    ax.set_title("Score distribution on the test split")
    ax.legend()
    files["score_histogram"] = _save(fig, folder / "score_histogram.png")
    return files


def _save(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def evaluate_model(model, frame: pd.DataFrame) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """A trained model's metrics on labelled leads it is given (e.g. a newer month)."""
    from leadml.data import validate

    checked = validate(frame, model.schema, min_class_count=1)
    p = model.predict_proba(model.matrix(checked.frame))
    return classification_metrics(checked.y, p) | {"rows": len(checked.frame)}
