"""``LeadSchema``: what each column of a lead table means, loaded from TOML.

The schema is the single place where a team says which column is the outcome, which hold
personal data (never features, never logged), and how each feature maps onto the
qualification frameworks sales already uses (BANT's budget, authority, need, timing). Training,
explanations and the API request models are all derived from it, so a change here is a
change everywhere, and nothing reaches back to guess.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from leadml.errors import SchemaError
from leadml.schema.criteria import BANT, MAIN_TAGS, TAGS

Kind = Literal["numeric", "categorical", "boolean", "ordinal", "month", "weekday", "age_days"]

#: Kinds the encoder computes from a date column (``source``), the same way when scoring: the
#: month and weekday of the date, or its age in days at the lead's time (else at scoring time).
DATE_KINDS = ("month", "weekday", "age_days")

#: Groups that say who the lead or the company is: never actionable (no rep can change them).
FIXED_GROUPS = frozenset({"demographic", "firmographic"})

#: Answers that CRMs export when a form field was left at its default: they mean "missing"
#: (unless the schema's ``unanswered`` keeps the form defaults among them apart).
DEFAULT_MISSING = ("", "Select", "select", "N/A", "n/a", "NA", "-", "--", "unknown", "Unknown")

#: What an opt-out column holds for a lead that objected to profiling (read case-blind).
OPT_OUT_VALUES = ("true", "yes", "y", "1", "objected", "opted out")

#: Kinds a segment column may have: segments are categories, one model route each.
SEGMENT_KINDS = ("categorical", "boolean", "ordinal")


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
    actionable: bool | None = Field(
        default=None,
        description="A rep can learn or influence it (a form answer, a demo request), so next "
        "steps may suggest a change of it. Unset: form answers are (ordinal fields outside the "
        "demographic and firmographic groups, and the qualification group).",
    )

    @field_validator("criterion")
    @classmethod
    def _known_criterion(cls, value: str) -> str:
        if value not in TAGS:
            others = sorted(TAGS - set(MAIN_TAGS))
            raise ValueError(
                f"criterion '{value}' is not one of {', '.join(MAIN_TAGS)} (or a framework's "
                f"own: {', '.join(others)}){did_you_mean(value, TAGS)}"
            )
        return value

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
        if self.actionable and self.group in FIXED_GROUPS:
            raise ValueError(
                f"feature '{self.name}' is {self.group}: who the lead or company is cannot be "
                "changed by a rep, so it cannot be actionable"
            )
        if self.actionable and self.kind in DATE_KINDS:
            raise ValueError(f"feature '{self.name}' is computed from a date: not actionable")
        return self

    @property
    def is_actionable(self) -> bool:
        """Whether next steps may suggest changing it (the ``actionable`` rule above)."""
        if self.actionable is not None:
            return self.actionable
        if self.group in FIXED_GROUPS or self.kind in DATE_KINDS:
            return False
        return self.kind == "ordinal" or self.group == "qualification"

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
    positive: str | list[str] = Field(
        default="1", description="Target value(s) that mean 'converted'."
    )
    negative: list[str] = Field(
        default_factory=list,
        description="Target values that mean closed without converting (besides the lexicon's).",
    )
    open: list[str] = Field(
        default_factory=list,
        description="Target values that mean still open: never learned from, scored like any "
        "lead (besides the lexicon's).",
    )
    time: str | None = Field(default=None, description="Creation time; drives the split.")
    converted_at: str | None = Field(
        default=None,
        description="When a lead converted (filled for converted leads only): with the time "
        "column it measures time to convert and the label's horizon. Never a feature.",
    )
    closed_at: str | None = Field(
        default=None,
        description="When a lead was closed (won or lost): a lost lead's follow-up ends there. "
        "Never a feature.",
    )
    pii: list[str] = Field(default_factory=list, description="Personal data: never used.")
    exclude: list[str] = Field(default_factory=list, description="Columns left out on purpose.")
    missing_values: list[str] = Field(default_factory=lambda: list(DEFAULT_MISSING))
    unanswered: list[str] = Field(
        default_factory=list,
        description="A form's default answers ('Select', 'Please choose', 'Selecione'): the "
        "lead saw the question and skipped it. Category and ordinal fields read them (and every "
        "known form default) as the answer '(not answered)', apart from blank (never sent), "
        "even when missing_values lists them too; numbers and yes/no fields read them as "
        "missing. Empty: placeholders are all missing.",
    )
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
    segment: str | None = Field(
        default=None,
        description="A column splitting the leads into segments (region, channel, team): a "
        "feature of the model (added as a category when not listed), and every figure, "
        "calibration, grade band and specialist model is also given per segment.",
    )
    audit: list[str] = Field(
        default_factory=list,
        description="Columns the model is audited on for fairness (age, marital status): "
        "never features and never stored; read at training and by `leadml audit` only.",
    )
    opt_out: str | None = Field(
        default=None,
        description="A column flagging leads that objected to profiling (GDPR Art. 21): "
        "those leads are never learned from and never scored. Never a feature.",
    )
    opt_out_values: list[str] = Field(
        default_factory=lambda: list(OPT_OUT_VALUES),
        description="The values of the opt_out column that mean the lead objected.",
    )
    features: list[FeatureSpec]

    @model_validator(mode="after")
    def _check(self) -> LeadSchema:
        self._check_segment()
        names = [f.name for f in self.features]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"features listed twice: {dupes}")
        outcome_dates = {self.converted_at, self.closed_at}
        private = {self.target, self.id, *self.pii, *self.exclude, *outcome_dates}
        private |= {*self.audit, self.opt_out}
        private -= {None}
        clash = sorted((private | {self.time} - {None}) & set(names))
        if clash:
            raise ValueError(
                f"columns {clash} are the target, id, time, outcome dates, PII, audit, opt-out "
                "or excluded and cannot be features"
            )
        bad_sources = sorted({f.source for f in self.features if f.source in private})
        if bad_sources:
            raise ValueError(
                f"columns {bad_sources} are the target, id, outcome dates, PII, audit, opt-out "
                "or excluded: no feature may be computed from them"
            )
        if not self.features:
            raise ValueError("the schema lists no features")
        # A raw column is typed once, as one thing: a date source cannot also be read as text.
        sources = {f.source for f in self.features if f.source}
        both = sorted(sources & {f.name for f in self.features if f.kind not in DATE_KINDS})
        if both:
            raise ValueError(
                f"columns {both} are both features of their own and the source of date "
                "features; derive every feature from a date column, or none"
            )
        return self

    def _check_segment(self) -> None:
        """The segment column is a category feature: listed as one, or added as one."""
        if self.segment is None:
            return
        if self.segment in {*self.audit, *self.pii, *self.exclude, self.opt_out, self.target}:
            raise ValueError(
                f"segment '{self.segment}' is the target, PII, audit, opt-out or excluded: "
                "segments split the leads the model scores, so the segment is a feature"
            )
        for spec in self.features:
            if spec.name == self.segment:
                if spec.kind not in SEGMENT_KINDS:
                    raise ValueError(
                        f"segment '{self.segment}' is {spec.kind}: segments are categories "
                        f"({', '.join(SEGMENT_KINDS)}); derive a banded column for it"
                    )
                return
        self.features.append(
            FeatureSpec(name=self.segment, kind="categorical", group="firmographic")
        )

    def opted_out(self, values: Any) -> Any:
        """Which of ``values`` (a column or one value) say the lead objected to profiling."""
        wanted = {str(v).strip().casefold() for v in self.opt_out_values}
        if isinstance(values, (str, int, float, bool)) or values is None:
            return values is not None and str(values).strip().casefold() in wanted
        return values.astype("string").str.strip().str.casefold().isin(wanted).fillna(False)

    @property
    def positives(self) -> list[str]:
        """The values that mean converted, as a list (the TOML may give one or several)."""
        return [self.positive] if isinstance(self.positive, str) else list(self.positive)

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
            # An unknown key explains the rest (a misspelt "target" is also a missing one).
            errors = sorted(exc.errors(), key=lambda e: e.get("type") != "extra_forbidden")
            raise SchemaError(f"invalid schema: {_explain(errors[0], raw)}") from None

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
        if not data["unanswered"]:
            del data["unanswered"]  # a schema that does not use it is written as it always was
        for key in ("audit",):
            if not data[key]:
                del data[key]
        if data.get("opt_out") is None or data["opt_out_values"] == list(OPT_OUT_VALUES):
            del data["opt_out_values"]
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
    return LeadSchema.load(Path(__file__).parent / f"{name}.toml")


# -- messages a schema author can act on ---------------------------------------------------------
def did_you_mean(word: str, choices: Any) -> str:
    """' — did you mean 'timing'?' when a close spelling exists, else nothing."""
    close = difflib.get_close_matches(str(word), sorted(map(str, choices)), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


def _explain(error: Any, raw: dict[str, Any]) -> str:
    """One pydantic error as a sentence naming the feature (not its index) and the key."""
    loc = list(error.get("loc", ()))
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    where = "the schema"
    owner: type[BaseModel] = LeadSchema
    if len(loc) >= 2 and loc[0] == "features" and isinstance(loc[1], int):
        features = raw.get("features") or []
        entry = features[loc[1]] if loc[1] < len(features) else {}
        name = entry.get("name") if isinstance(entry, dict) else None
        where = f"feature '{name}'" if name else f"feature number {loc[1] + 1}"
        loc, owner = loc[2:], FeatureSpec
    key = str(loc[0]) if loc else ""
    kind = error.get("type")
    if kind == "extra_forbidden":
        return f"{where}: unknown key '{key}'{did_you_mean(key, owner.model_fields)}"
    if kind == "missing":
        return f"{where}: '{key}' is required"
    if kind == "literal_error" and key:
        allowed = get_args(owner.model_fields[key].annotation)
        given = error.get("input")
        return (
            f"{key} '{given}' of {where} is not one of {', '.join(map(str, allowed))}"
            f"{did_you_mean(given, allowed)}"
        )
    if key == "criterion" and message.startswith("criterion '"):
        given = str(error.get("input"))
        return message.replace(f"criterion '{given}'", f"criterion '{given}' of {where}", 1)
    return f"{where}: {message}" if key else message
