"""From a raw lead table to what the booster learns from, each step done once, in one direction.

validate (every column typed once) → the backtest's folds → fit the encoder on the headline
fold's training rows → encode every row → leakage audit on those same training rows with that
same matrix → drop the flagged columns from the encoder and the matrix (nothing is fitted again).

The audit comes after the folds on purpose: which columns the model may use is part of
fitting, so it must not look at the labels of the leads the headline figures are judged on.
The shipped model then learns from every row, with the columns the audit kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import Settings
from leadml.data.fingerprint import fingerprint
from leadml.data.leakage import audit_leakage
from leadml.data.maturity import LabelRule, LabelSummary
from leadml.data.split import Folds, backtest_folds, row_order_hint
from leadml.data.validate import validate
from leadml.features.encoder import FeatureEncoder
from leadml.modeling.recency import Ages, lead_ages
from leadml.schema.spec import LeadSchema

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Rows:
    """Some leads, aligned three ways: typed frame, encoded matrix and 0/1 outcome."""

    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray

    def take(self, positions: np.ndarray) -> Rows:
        return Rows(
            self.frame.iloc[positions].reset_index(drop=True), self.x[positions], self.y[positions]
        )


@dataclass(frozen=True)
class Prepared:
    """Everything the model stage needs from the data stage, and what it found on the way: the
    training inputs every later step takes as one (the backtest, tuning, the judging, the
    shipped fit, finishing), never as a list of their parts.

    ``rows`` holds every lead, ``folds`` the backtest's folds over them and ``ages`` how old
    each lead is (None without a time order). On Dask ``rows`` is a sample of the table (at
    most a few hundred thousand leads) and ``total_rows`` the table's size.
    """

    schema: LeadSchema
    encoder: FeatureEncoder
    rows: Rows
    folds: Folds
    ages: Ages | None
    total_rows: int
    data_print: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    leakage: dict[str, Any] = field(default_factory=dict)
    #: Extra facts for the bundle's metadata (e.g. the Dask cluster that trained it).
    meta: dict[str, Any] = field(default_factory=dict)
    #: How the outcomes were read: classes, horizon, what was left out as open or too young.
    label: LabelSummary | None = None
    #: Leads left out because they objected to profiling (never learned from).
    opted_out: int = 0
    #: The schema's audit columns of ``rows`` (never features; the fairness audit reads them).
    audit: pd.DataFrame | None = None


def prepare_training(
    frame: pd.DataFrame,
    schema: LeadSchema,
    settings: Settings,
    say: Progress | None = None,
    min_class_count: int | None = None,
) -> Prepared:
    """Validate, split, encode and audit a raw lead table (see the module's docstring)."""
    say = say or (lambda _msg: None)
    say("Validating the data against the schema")
    count = settings.min_class_count if min_class_count is None else min_class_count
    rule = LabelRule.parse(settings.horizon, settings.as_of)
    checked = validate(frame, schema, min_class_count=count, rule=rule)
    typed, y, schema = checked.frame, checked.y, checked.schema
    folds = backtest_folds(
        typed,
        y,
        schema,
        n_folds=settings.backtest_folds,
        test_fraction=settings.test_fraction,
        seed=settings.seed,
        known_at=checked.known_at,
        maturity=checked.maturity,
    )
    prepared = encode_and_audit(
        Rows(typed, np.empty((len(typed), 0)), y),
        schema,
        folds,
        lead_ages(typed, schema),
        settings,
        say,
        warnings=[*checked.warnings, *filter(None, [row_order_hint(y, schema)])],
        data_print=fingerprint(typed, y, schema),
        converted=checked.converted,
    )
    return replace(prepared, label=checked.label, opted_out=checked.opted_out, audit=checked.audit)


def encode_and_audit(
    rows: Rows,
    schema: LeadSchema,
    folds: Folds,
    ages: Ages | None,
    settings: Settings,
    say: Progress,
    *,
    warnings: list[str],
    data_print: dict[str, Any],
    encoder: FeatureEncoder | None = None,
    total_rows: int | None = None,
    converted: np.ndarray | None = None,
) -> Prepared:
    """Encode typed rows (the encoder fitted on the headline fold's training rows unless one
    is given), audit those training rows for leakage, and drop what the audit flags."""
    typed, y = rows.frame, rows.y
    train_at = folds.headline.train
    say(f"Encoding {len(schema.features)} features for {len(typed):,} leads")
    encoder = encoder or FeatureEncoder.fit(schema, typed.iloc[train_at])
    x = encoder.transform(typed)

    say("Checking the training leads for columns that leak the outcome")
    audit = audit_leakage(
        typed.iloc[train_at].reset_index(drop=True),
        x[train_at],
        y[train_at],
        schema,
        seed=settings.seed,
        converted=None if converted is None else converted[train_at],
    )
    if audit.dropped:
        schema = audit.kept(schema)
        keep = [encoder.names.index(n) for n in schema.feature_names]
        encoder = encoder.select(schema.feature_names)
        x = x[:, keep]
    return Prepared(
        schema=schema,
        encoder=encoder,
        rows=Rows(typed, x, y),
        folds=folds,
        ages=ages,
        total_rows=len(typed) if total_rows is None else total_rows,
        data_print=data_print,
        warnings=[*warnings, *audit.warnings],
        leakage=audit.to_dict(),
    )


def preview_leakage(frame: pd.DataFrame, schema: LeadSchema, settings: Settings) -> list[str]:
    """What the leakage guard will leave out when ``frame`` is trained on with ``schema``,
    found as training finds it (on the training rows), one line per column. When the table
    cannot be prepared yet, the line says why instead: training will stop on it too."""
    from leadml.errors import DataError

    try:
        prepared = prepare_training(frame, schema, settings, min_class_count=1)
    except DataError as exc:
        return [f"leakage guard not previewed: {exc}"]
    from leadml.data.column_meaning import allow_hint
    from leadml.data.leakage import spelled

    flagged, specs = prepared.leakage["flagged"], {f.name: f for f in schema.features}
    return [
        f"leakage guard will leave out {spelled(specs[name])}: {'; '.join(flagged[name])} "
        f"(keep it with {allow_hint(specs[name].column)})"
        for name in prepared.leakage["dropped"]
    ]
