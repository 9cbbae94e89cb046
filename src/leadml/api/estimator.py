"""``LeadClassifier``: leadml's lead model as a scikit-learn estimator, for pipelines and search.

``leadml.train`` is the whole product: a time-ordered backtest, calibration, grade bands, an
MLflow run and a bundle. A data scientist comparing models needs the other half of the
contract: an object that ``clone``, ``Pipeline``, ``cross_val_score`` and ``GridSearchCV`` can
fit a hundred times, writing nothing. This is that object, built from the same parts in
memory: leadml's schema (given, or inferred so that identifiers and personal data are never
features), its validation core, its encoder and its LightGBM settings and fit.

What it leaves out, on purpose: MLflow, the bundle, the baselines and the leakage guard
(``leadml.train`` runs them), and calibration (probabilities are LightGBM's own; wrap the
estimator in ``CalibratedClassifierCV`` when they must be taken at face value).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from leadml.bundle.calibration import Calibrator
from leadml.bundle.model import LeadModel
from leadml.config import setting_default
from leadml.data.split import backtest_folds
from leadml.data.suggest import suggest_schema
from leadml.data.validate import check_columns, check_rows, combine_reports, settle_day_first
from leadml.errors import LeadMLError
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.backtest import cross_validate, shipped_rounds
from leadml.modeling.booster import fit_shipped, lgb_params
from leadml.modeling.prepare import Rows
from leadml.qualify.grades import choose_bands
from leadml.schema.spec import LeadSchema

#: The outcome column added beside the leads while fitting (named so it clashes with none).
OUTCOME = "__leadml_outcome__"


class LeadClassifier(ClassifierMixin, BaseEstimator):
    """Predict lead conversion with leadml's encoder and LightGBM settings.

    Parameters
    ----------
    schema : LeadSchema, str, Path or None, default=None
        What the columns mean. None: inferred from ``X`` at ``fit`` as ``leadml schema
        infer`` does, so identifiers, personal data (names, emails, phones) and constant
        columns are never features. A schema (or its TOML path) uses its features only: its
        id, PII and excluded columns are ignored even when ``X`` holds them.
    n_estimators : int or None, default=None
        Boosting rounds. None: chosen as ``leadml train`` chooses them, by early stopping
        over leadml's backtest folds (by time when the schema has a time column), then grown
        for all the rows.
    learning_rate, num_leaves, min_data_in_leaf : float, int, int or None, default=None
        LightGBM's settings; None keeps leadml's (``leadml.modeling.booster.lgb_params``).
    random_state : int, RandomState or None, default=None
        Seed of the folds and of LightGBM's bagging; None: leadml's ``seed`` setting.
    num_threads : int or None, default=None
        LightGBM threads; None: leadml's ``num_threads`` setting.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two outcomes, sorted; the second is "converted" (``predict_proba[:, 1]``).
    n_features_in_ : int
        Columns seen at ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen at ``fit``, when ``X`` had text column names.
    model_ : leadml.bundle.model.LeadModel
        The fitted lead model (booster, encoder, schema, grade bands): ``model_.score_frame``
        grades leads, ``model_.contributions`` explains them. Not calibrated.
    schema_ : LeadSchema
        The schema used: given or inferred, with the features validation kept.
    n_estimators_ : int
        Boosting rounds of the fitted booster.
    warnings_ : list of str
        What validation said about the data (columns left out, values read as missing).

    Examples
    --------
    >>> import leadml
    >>> leads = leadml.example_leads(600, seed=3)
    >>> X, y = leads.drop(columns="converted"), leads["converted"]
    >>> clf = leadml.LeadClassifier(n_estimators=40, num_threads=1).fit(X, y)
    >>> clf.classes_
    array([0, 1])
    >>> clf.predict_proba(X.head(3)).shape
    (3, 2)
    >>> sorted({"email", "full_name", "lead_id"} & set(clf.model_.feature_names))
    []
    """

    def __init__(
        self,
        schema: LeadSchema | str | Path | None = None,
        *,
        n_estimators: int | None = None,
        learning_rate: float | None = None,
        num_leaves: int | None = None,
        min_data_in_leaf: int | None = None,
        random_state: int | np.random.RandomState | None = None,
        num_threads: int | None = None,
    ) -> None:
        self.schema = schema
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_data_in_leaf = min_data_in_leaf
        self.random_state = random_state
        self.num_threads = num_threads

    # -- fitting -----------------------------------------------------------------------------
    def fit(self, X: Any, y: Any) -> LeadClassifier:
        """Fit on leads ``X`` (a DataFrame of lead columns, or an array: columns x0, x1, …)
        and their outcome ``y`` (two classes: 0/1, booleans or two labels).

        Returns
        -------
        self : LeadClassifier
        """
        frame = self._lead_frame(X, reset=True)
        outcome = self._outcome(y)
        check_consistent_length(frame, outcome)
        try:
            self._fit_leads(frame, outcome)
        except LeadMLError as exc:  # scikit-learn's contract: bad input is a ValueError
            raise ValueError(str(exc)) from exc
        return self

    def _outcome(self, y: Any) -> np.ndarray:
        """``y`` as 0/1 (1: the second of the sorted classes), with ``classes_`` set."""
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        self.classes_, codes = np.unique(y, return_inverse=True)
        if len(self.classes_) != 2:
            raise ValueError(
                "Only binary classification is supported. LeadClassifier predicts conversion: "
                f"y must hold two classes; it holds {len(self.classes_)} class(es) "
                f"({', '.join(map(str, self.classes_[:5]))})"
            )
        return codes.astype(np.int64)

    def _fit_leads(self, frame: pd.DataFrame, y: np.ndarray) -> None:
        seed = self._seed()
        schema = self._lead_schema(frame, y, seed)
        typed, schema, self.warnings_ = _typed_leads(frame, y, schema)
        encoder = FeatureEncoder.fit(schema, typed)
        rows = Rows(typed, encoder.transform(typed), y)
        params = lgb_params(encoder, seed, self.num_threads or setting_default("num_threads"))
        knobs = {
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
        }
        params |= {k: v for k, v in knobs.items() if v is not None}
        rounds = self.n_estimators or _chosen_rounds(rows, encoder, params, schema, seed)
        booster = fit_shipped(rows, encoder, params, rounds).booster
        calibrator = Calibrator()  # LightGBM's own probabilities (see the module's docstring)
        p = calibrator(booster.predict(rows.x, raw_score=True))
        bands = choose_bands(p, y, setting_default("grade_shares"))[0]
        meta = {"model_id": "LeadClassifier", "warnings": self.warnings_}
        self.model_ = LeadModel(booster, encoder, schema, calibrator, bands, meta)
        self.schema_ = schema
        self.n_estimators_ = rounds

    def _lead_schema(self, frame: pd.DataFrame, y: np.ndarray, seed: int) -> LeadSchema:
        """The schema given, read, or inferred from the leads (identifiers and personal data
        placed as such, so they are never features)."""
        if isinstance(self.schema, LeadSchema):
            return self.schema
        if self.schema is not None:
            return LeadSchema.load(self.schema)
        leads = frame.assign(**{OUTCOME: y})
        return suggest_schema(leads, OUTCOME, positive="1", name="leads", seed=seed).schema

    def _seed(self) -> int:
        if self.random_state is None:
            return int(setting_default("seed"))
        if isinstance(self.random_state, int | np.integer):
            return int(self.random_state)
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    # -- predicting --------------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """Raw log-odds of conversion per lead (what ``predict_proba[:, 1]`` is the sigmoid of,
        and what the model's contributions add up to)."""
        check_is_fitted(self)
        x = self.model_.matrix(self._lead_frame(X, reset=False))
        threads = self.num_threads or setting_default("num_threads")
        return self.model_.booster.predict(x, raw_score=True, num_threads=threads)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities of ``classes_`` per lead, shape (n, 2); column 1 is conversion."""
        raw = self.decision_function(X)  # checks that the estimator is fitted first
        p = self.model_.calibrator(raw)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """``classes_[1]`` where conversion is more than 50 % likely, else ``classes_[0]``
        (a fixed cut-off: leadml's grades, in ``model_.score_frame``, rank by share instead)."""
        raw = self.decision_function(X)  # log-odds above 0, exactly as sklearn reads it
        return self.classes_[(raw > 0).astype(int)]

    # -- input -------------------------------------------------------------------------------
    def _lead_frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """``X`` as a lead table with text column names (x0, x1, … when it has none), after
        scikit-learn's own checks of its shape and of the names seen at ``fit``."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=reset, skip_check_array=True)
            if len(X) == 0:
                raise ValueError("Found array with 0 sample(s) (shape=(0, ...)); leads needed")
            frame = X.copy()
        else:
            array = validate_data(self, X, reset=reset, dtype=None, ensure_all_finite=False)
            frame = pd.DataFrame(array)
        if not all(isinstance(c, str) for c in frame.columns):
            frame.columns = [f"x{i}" for i in range(frame.shape[1])]
        return frame.reset_index(drop=True)

    def __sklearn_tags__(self) -> Any:
        """What the estimator takes: missing values, text and categories (leadml reads them
        as a CRM writes them); two classes only (conversion)."""
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.classifier_tags.multi_class = False
        return tags


def _typed_leads(
    frame: pd.DataFrame, y: np.ndarray, schema: LeadSchema
) -> tuple[pd.DataFrame, LeadSchema, list[str]]:
    """Leads typed and checked by leadml's validation core, the outcome given as ``y``: the
    schema's own outcome columns (target, conversion and close dates) are not read, since
    the caller has settled the outcome already."""
    given_outcome = {"target": OUTCOME, "positive": "1", "negative": ["0"], "open": []}
    no_outcome_dates = {"converted_at": None, "closed_at": None}
    schema = schema.model_copy(update=given_outcome | no_outcome_dates)
    leads = frame.assign(**{OUTCOME: np.where(y == 1, "1", "0")})
    check_columns(list(leads.columns), schema)
    schema, notes = settle_day_first(schema, leads)
    checked = check_rows(leads, schema)
    used, warnings = combine_reports([checked.report], schema)
    return checked.frame, used, notes + warnings


def _chosen_rounds(
    rows: Rows, encoder: FeatureEncoder, params: dict[str, Any], schema: LeadSchema, seed: int
) -> int:
    """Rounds as ``leadml train`` chooses them: early stopping over the backtest's folds, then
    grown for all the rows (:func:`leadml.modeling.backtest.shipped_rounds`)."""
    folds = backtest_folds(
        rows.frame,
        rows.y,
        schema,
        setting_default("backtest_folds"),
        setting_default("test_fraction"),
        seed,
    )
    run = cross_validate(rows, folds, encoder, params)
    return shipped_rounds(run.rounds, folds, len(rows.y))
