"""``LeadSchema``: what each column of a lead table means, loaded from TOML.

The schema is the single place where a team says which column is the outcome, which hold
personal data (never features, never logged), and how each feature maps onto the
qualification frameworks sales already uses (BANT's budget, authority, need, timing). Training,
explanations and the API request models are all derived from it, so a change here is a
change everywhere, and nothing reaches back to guess.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from leadml.errors import SchemaError

Kind = Literal["numeric", "categorical", "boolean", "ordinal", "month", "weekday", "age_days"]

#: Kinds the encoder computes from a date column (``source``), the same way when scoring: the
#: month and weekday of the date, or its age in days at the lead's time (else at scoring time).
DATE_KINDS = ("month", "weekday", "age_days")

#: BANT's four criteria; features without one roll up under their group instead.
BANT = ("budget", "authority", "need", "timing")

#: Answers that CRMs export when a form field was left at its default: they mean "missing".
DEFAULT_MISSING = ("", "Select", "select", "N/A", "n/a", "NA", "-", "--", "unknown", "Unknown")


class FeatureSpec(BaseModel):
    """One model input: its kind, where it sits in sales' vocabulary, and how to word it."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Kind
    group: str = Field(default="other", description="demographic, firmographic, engagement, ...")
    criterion: str = Field(default="none", description="budget, authority, need, timing or none")
    display: str | None = Field(default=None, description="Name a sales rep understands.")
    description: str | None = None
    levels: list[str] | None = Field(
        default=None,
        description="Ordinal: the answers from worst to best. Categorical: known levels.",
    )
    monotone: Literal[-1, 0, 1] = Field(
        default=0, description="+1: more never lowers the score; -1: more never raises it."
    )
    reason: str | None = Field(
        default=None,
        description="Reason template with {value} and {display}, e.g. 'Budget {value}'.",
    )
    reason_true: str | None = Field(default=None, description="Boolean: wording when true.")
    reason_false: str | None = Field(default=None, description="Boolean: wording when false.")
    source: str | None = Field(
        default=None, description="Date kinds: the raw date column this feature is computed from."
    )

    @model_validator(mode="after")
    def _check(self) -> FeatureSpec:
        if self.kind in DATE_KINDS and not self.source:
            raise ValueError(f"feature '{self.name}' of kind {self.kind} needs its source column")
        if self.source and self.kind not in DATE_KINDS:
            raise ValueError(
                f"feature '{self.name}': only date kinds {DATE_KINDS} are computed from a source"
            )
        if self.kind == "ordinal" and not self.levels:
            raise ValueError(f"ordinal feature '{self.name}' needs its levels, worst first")
        if self.monotone and self.kind == "categorical":
            raise ValueError(
                f"feature '{self.name}': LightGBM applies monotone constraints to numeric, "
                "ordinal and boolean features only"
            )
        return self

    @property
    def label(self) -> str:
        return self.display or self.name.replace("_", " ").capitalize()

    @property
    def column(self) -> str:
        """The raw column this feature reads: its source for date kinds, else its own name."""
        return self.source or self.name


class LeadSchema(BaseModel):
    """The meaning of a lead table's columns, and the one source of the feature list."""

    model_config = ConfigDict(extra="forbid")

    name: str = "leads"
    id: str | None = Field(default=None, description="Lead identifier; never a feature.")
    target: str
    positive: str = Field(default="1", description="Target value that means 'converted'.")
    time: str | None = Field(default=None, description="Creation time; drives the split.")
    pii: list[str] = Field(default_factory=list, description="Personal data: never used.")
    exclude: list[str] = Field(default_factory=list, description="Columns left out on purpose.")
    missing_values: list[str] = Field(default_factory=lambda: list(DEFAULT_MISSING))
    day_first: bool | None = Field(
        default=None,
        description="Numeric dates are day first (05/11/2026 = 5 November), as in Europe; "
        "unset: the data tells, month first when it cannot.",
    )
    rows_in_time_order: bool = Field(
        default=False,
        description="No time column, but rows run oldest to newest: the last rows are the test.",
    )
    leakage_allowed: list[str] = Field(
        default_factory=list,
        description="Columns kept on purpose though the leakage guard flags them.",
    )
    features: list[FeatureSpec]

    @model_validator(mode="after")
    def _check(self) -> LeadSchema:
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"features listed twice: {dupes}")
        reserved = {self.target, self.id, self.time, *self.pii, *self.exclude} - {None}
        clash = sorted(reserved & set(names))
        if clash:
            raise ValueError(
                f"columns {clash} are the target, id, time, PII or excluded and cannot be features"
            )
        private = {self.target, self.id, *self.pii, *self.exclude} - {None}
        bad_sources = sorted({f.source for f in self.features if f.source in private})
        if bad_sources:
            raise ValueError(
                f"columns {bad_sources} are the target, id, PII or excluded: "
                "no feature may be computed from them"
            )
        if not self.features:
            raise ValueError("the schema lists no features")
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> FeatureSpec:
        for spec in self.features:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def criteria(self) -> dict[str, list[str]]:
        """Features per BANT criterion (only those with one)."""
        out: dict[str, list[str]] = {c: [] for c in BANT}
        for spec in self.features:
            if spec.criterion != "none":
                out.setdefault(spec.criterion, []).append(spec.name)
        return out

    # -- TOML ------------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: dict) -> LeadSchema:
        """Accept features as a table keyed by column name (the readable TOML form)."""
        raw = dict(raw)
        feats = raw.get("features", {})
        if isinstance(feats, dict):
            raw["features"] = [{"name": k, **v} for k, v in feats.items()]
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SchemaError(f"invalid schema at '{where}': {first['msg']}") from None

    @classmethod
    def load(cls, path: str | Path) -> LeadSchema:
        path = Path(path)
        if not path.exists():
            raise SchemaError(f"schema file not found: {path}")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise SchemaError(f"schema file {path} is not valid TOML: {exc}") from None
        return cls.from_dict(raw)

    def to_dict(self) -> dict:
        data = self.model_dump(exclude_none=True, exclude={"features"})
        data["features"] = {
            f.name: f.model_dump(exclude_none=True, exclude={"name"}, exclude_defaults=True)
            | {"kind": f.kind}
            for f in self.features
        }
        return data

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_toml(), encoding="utf-8")


def bundled_schema(name: str = "synthetic") -> LeadSchema:
    """The schema shipped with the package for the synthetic demo data."""
    return LeadSchema.load(Path(__file__).parent / "schemas" / f"{name}.toml")
