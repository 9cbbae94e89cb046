"""The baselines a lead score must beat: what sales already does.

The base rate (treat every lead alike), a logistic regression (what a careful analyst builds in
an afternoon), and a BANT points score (what sales ops builds in a spreadsheet). All three are
fitted on the same training leads and judged on the same test leads as the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from leadml.schema.criteria import BANT
from leadml.schema.spec import LeadSchema

if TYPE_CHECKING:
    from leadml.modeling.prepare import Rows

#: Logistic regression is fitted on at most this many rows: its score stops moving long before.
BASELINE_MAX_ROWS = 100_000


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
    train: Rows, test: Rows, names: list[str], schema: LeadSchema, seed: int = 0
) -> dict[str, np.ndarray]:
    """Test-slice probabilities of each baseline, fitted on the training rows only.

    ``names`` are the matrix columns (the model's features). Numbers, ranks and flags enter the
    logistic regression as encoded; categories as their typed text, one-hot encoded.
    """
    encoded_train = pd.DataFrame(train.x, columns=names)
    encoded_test = pd.DataFrame(test.x, columns=names)
    out = {"base_rate": np.full(len(test.y), float(np.mean(train.y)))}
    num_cols = [f.name for f in schema.features if f.kind != "categorical"]
    cat_cols = [f.name for f in schema.features if f.kind == "categorical"]

    def design(encoded: pd.DataFrame, typed: pd.DataFrame) -> pd.DataFrame:
        text = typed[cat_cols].reset_index(drop=True).astype("string").fillna("(missing)")
        return pd.concat([encoded[num_cols], text], axis=1)

    out["logistic_regression"] = _logistic(
        design(encoded_train, train.frame), train.y, design(encoded_test, test.frame), schema, seed
    )
    if has_bant_answers(schema):
        # Points → probability by a one-variable logistic fit, so log loss and ECE are fair;
        # the ranking (ROC AUC, lift) is the points score's own.
        pts_train = bant_points(encoded_train, schema).reshape(-1, 1)
        mapper = LogisticRegression().fit(pts_train, train.y)
        pts_test = bant_points(encoded_test, schema).reshape(-1, 1)
        out["bant_points"] = mapper.predict_proba(pts_test)[:, 1]
    return out
