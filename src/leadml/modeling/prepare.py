"""From a raw lead table to what the booster learns from, each step done once, in one direction.

validate (every column typed once) → split (train / validation / test) → fit the encoder on the
training rows → encode every row → leakage audit on the training rows with that same matrix →
drop the flagged columns from the encoder and the matrix (nothing is fitted again).

The audit comes after the split on purpose: which columns the model may use is part of
fitting, so it must not look at the labels the model will be judged on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadml.config import Settings
from leadml.data.fingerprint import fingerprint
from leadml.data.leakage import audit_leakage
from leadml.data.split import split_rows
from leadml.data.validate import validate
from leadml.features.encoder import FeatureEncoder
from leadml.schema.spec import LeadSchema

Progress = Callable[[str], None]


@dataclass
class Rows:
    """Some leads, aligned three ways: typed frame, encoded matrix and 0/1 outcome."""

    frame: pd.DataFrame
    x: np.ndarray
    y: np.ndarray

    def take(self, positions: np.ndarray) -> Rows:
        return Rows(
            self.frame.iloc[positions].reset_index(drop=True), self.x[positions], self.y[positions]
        )


@dataclass
class Prepared:
    """Everything the model stage needs from the data stage, and what it found on the way.

    On Dask the ``Rows`` are samples of the real slices (at most a few hundred thousand leads
    each); ``rows`` always holds the real slice sizes.
    """

    schema: LeadSchema
    encoder: FeatureEncoder
    train: Rows
    valid: Rows
    test: Rows
    split_method: str
    rows: dict[str, int]
    data_print: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    leakage: dict[str, Any] = field(default_factory=dict)
    #: Extra facts for the bundle's metadata (e.g. the Dask cluster that trained it).
    meta: dict[str, Any] = field(default_factory=dict)


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
    checked = validate(frame, schema, min_class_count=count)
    typed, y, schema = checked.frame, checked.y, checked.schema
    split = split_rows(
        typed, y, schema, settings.test_fraction, settings.valid_fraction, settings.seed
    )

    say(f"Encoding {len(schema.features)} features for {len(typed):,} leads")
    encoder = FeatureEncoder.fit(schema, typed.iloc[split.train])
    x = encoder.transform(typed)
    everything = Rows(typed, x, y)
    train = everything.take(split.train)

    say("Checking the training leads for columns that leak the outcome")
    audit = audit_leakage(train.frame, train.x, train.y, schema, seed=settings.seed)
    if audit.dropped:
        schema = audit.kept(schema)
        keep = [encoder.names.index(n) for n in schema.feature_names]
        encoder = encoder.select(schema.feature_names)
        everything = Rows(typed, x[:, keep], y)
        train = everything.take(split.train)
    return Prepared(
        schema=schema,
        encoder=encoder,
        train=train,
        valid=everything.take(split.valid),
        test=everything.take(split.test),
        split_method=split.method,
        rows=split.sizes,
        data_print=fingerprint(typed, y, schema),
        warnings=[*checked.warnings, *audit.warnings],
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
    flagged = prepared.leakage["flagged"]
    return [
        f"leakage guard will leave out '{name}': {'; '.join(flagged[name])}"
        for name in prepared.leakage["dropped"]
    ]
