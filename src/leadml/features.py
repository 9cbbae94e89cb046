"""Raw lead values → the model's numeric matrix, the same way at training and at serving time.

Every feature becomes one float column: numbers as they are, booleans as 0/1, ordinal answers as
their rank (so LightGBM can hold them monotone), categories as integer codes that LightGBM
treats natively as categorical. Placeholders such as "Select" become NaN, which LightGBM treats
as missing. The category → code maps are frozen at training time and saved in the bundle, so a
lead scored a year later is encoded exactly as the training rows were.

Two paths share those maps: ``transform`` for a DataFrame (vectorised, batch) and ``encode_row``
for one lead dict (no pandas: a one-row DataFrame costs ~2 ms, a numpy row ~20 µs to predict).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from leadml.schema import LeadSchema

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "t", "sim", "sí", "si", "tak", "1.0"})
FALSE_WORDS = frozenset({"0", "false", "no", "n", "f", "não", "nao", "nie", "0.0"})

#: Categories seen fewer times than this in training share the "unseen" code (missing).
MIN_LEVEL_COUNT = 3
#: Cap on categorical levels; the rarest go to missing (ID-like columns are caught earlier).
MAX_LEVELS = 256


def _clean_strings(series: pd.Series, missing: frozenset[str]) -> pd.Series:
    """Strip text and turn CRM placeholders into missing values."""
    text = series.astype("string").str.strip()
    return text.mask(text.isin(missing))


@dataclass(frozen=True)
class FeatureEncoder:
    """Frozen encoding of a schema's features; learned once, saved as JSON in the bundle."""

    names: list[str]
    kinds: list[str]
    levels: dict[str, list[str]]
    missing_values: frozenset[str]
    monotone: list[int]
    _codes: dict[str, dict[str, int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        codes = {name: {lvl: i for i, lvl in enumerate(lv)} for name, lv in self.levels.items()}
        object.__setattr__(self, "_codes", codes)

    # -- learning ----------------------------------------------------------------------------
    @classmethod
    def fit(cls, schema: LeadSchema, frame: pd.DataFrame) -> FeatureEncoder:
        """Freeze ordinal orders from the schema and categorical levels from the training rows."""
        missing = frozenset(schema.missing_values)
        levels: dict[str, list[str]] = {}
        for spec in schema.features:
            if spec.kind == "ordinal":
                levels[spec.name] = list(spec.levels or [])
            elif spec.kind == "categorical":
                counts = _clean_strings(frame[spec.name], missing).value_counts()
                kept = counts[counts >= MIN_LEVEL_COUNT].index[:MAX_LEVELS]
                levels[spec.name] = sorted(str(v) for v in kept)
        return cls(
            names=schema.feature_names,
            kinds=[f.kind for f in schema.features],
            levels=levels,
            missing_values=missing,
            monotone=[f.monotone for f in schema.features],
        )

    @property
    def categorical_indices(self) -> list[int]:
        return [i for i, k in enumerate(self.kinds) if k == "categorical"]

    # -- batch path --------------------------------------------------------------------------
    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        """Encode a frame into a float64 matrix, one column per feature, NaN for missing."""
        out = np.full((len(frame), len(self.names)), np.nan, dtype=np.float64)
        for j, (name, kind) in enumerate(zip(self.names, self.kinds, strict=True)):
            if name not in frame.columns:
                continue  # a column absent at scoring time is simply missing
            out[:, j] = self.encode_column(name, kind, frame[name])
        return out

    def encode_column(self, name: str, kind: str, series: pd.Series) -> np.ndarray:
        if kind == "numeric":
            if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                text = _clean_strings(series, self.missing_values)
                values = pd.to_numeric(text, errors="coerce").to_numpy(
                    dtype=np.float64, na_value=np.nan
                )
            return np.where(np.isfinite(values), values, np.nan)
        if kind == "boolean":
            if pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
                values = series.to_numpy(dtype=np.float64, na_value=np.nan)
                return np.where(np.isin(values, (0.0, 1.0)), values, np.nan)
            text = _clean_strings(series, self.missing_values).str.lower()
            result = np.full(len(series), np.nan)
            result[text.isin(TRUE_WORDS).to_numpy(dtype=bool, na_value=False)] = 1.0
            result[text.isin(FALSE_WORDS).to_numpy(dtype=bool, na_value=False)] = 0.0
            return result
        text = _clean_strings(series, self.missing_values)
        codes = pd.Categorical(text, categories=self.levels[name]).codes.astype(np.float64)
        codes[codes < 0] = np.nan
        return codes

    # -- one-lead path -----------------------------------------------------------------------
    def encode_value(self, j: int, value: Any) -> float:
        """Encode one raw value for feature ``j``; anything unusable is missing (NaN)."""
        if value is None:
            return math.nan
        kind = self.kinds[j]
        if isinstance(value, str):
            value = value.strip()
            if value in self.missing_values:
                return math.nan
        if kind == "numeric":
            if isinstance(value, bool):
                return float(value)
            try:
                number = float(value)
            except (TypeError, ValueError):
                return math.nan
            return number if math.isfinite(number) else math.nan
        if kind == "boolean":
            if isinstance(value, bool | int | float) and value in (0, 1):
                return float(value)
            word = str(value).lower()
            return 1.0 if word in TRUE_WORDS else 0.0 if word in FALSE_WORDS else math.nan
        code = self._codes[self.names[j]].get(str(value))
        return math.nan if code is None else float(code)

    def encode_row(self, lead: Mapping[str, Any]) -> np.ndarray:
        """One lead dict → a (1, n_features) row, with no pandas on the way."""
        row = np.empty((1, len(self.names)), dtype=np.float64)
        for j, name in enumerate(self.names):
            row[0, j] = self.encode_value(j, lead.get(name))
        return row

    def decode_value(self, j: int, code: float) -> Any:
        """The human value behind an encoded cell, for reasons and reports."""
        if code is None or (isinstance(code, float) and math.isnan(code)):
            return None
        kind = self.kinds[j]
        if kind in ("ordinal", "categorical"):
            return self.levels[self.names[j]][int(code)]
        if kind == "boolean":
            return bool(code)
        return code

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "names": self.names,
            "kinds": self.kinds,
            "levels": self.levels,
            "missing_values": sorted(self.missing_values),
            "monotone": self.monotone,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureEncoder:
        return cls(
            names=list(data["names"]),
            kinds=list(data["kinds"]),
            levels={k: list(v) for k, v in data["levels"].items()},
            missing_values=frozenset(data["missing_values"]),
            monotone=[int(m) for m in data["monotone"]],
        )
