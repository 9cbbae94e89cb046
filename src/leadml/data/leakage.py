"""The leakage guard: find columns that give the outcome away, before a model learns from them.

A lead model is trained on history, where every column was exported *after* the outcome was
known. Some of them were only filled in because of it: the call's duration (known when the
call ends), a rep's "Tags", a deal's close date or value. A model that uses them scores
beautifully on history and is useless on a new lead. Public lead-scoring notebooks report ROC
AUC 0.97 for exactly this reason.

Eight kinds of evidence, each stated with its number so a person can judge it:

* **alone it separates the classes**: a single column reaches ROC AUC ≥ 0.90 by itself,
  measured out of fold (cross-fitted target encoding, so a many-valued column cannot memorise);
* **filled for one class only**: e.g. present for 100% of converted leads and 0% of the
  others, as every column copied from a closed-deals table is;
* **its name means an outcome or a post-contact event** (status, stage, duration, won, lost,
  close date, tags, ... in English, Portuguese, Spanish and Polish);
* **a date after the lead came in**: later than the lead's time column for most rows, or on or
  after an outcome date (won/closed), so it records what happened next;
* **sales' own judgement after contact**: a rep's quality rating, a disposition, notes, another
  scorer's score (by name), or a "last activity" field whose levels are calls or meetings
  already held (counted, never quoted);
* **set by sales after contact, by its fill pattern**: a field answered (not blank, not a
  form's "Select") for several times the share of converted leads as of the others, with a
  level that converts far apart from the unanswered rows: a profile or rating sales fill in
  once they have spoken to the lead. Twice the share is enough when its values read like a
  rep's judgement ("Potential Lead", "Hot", "Might be"); three times otherwise, so that an
  honest history such as a previous campaign's outcome (bank's ``poutcome``: answered for
  36% of converted leads and 16% of the others) is kept;
* **an identifier**: a whole number different for every lead that rises with time or is named
  like a number (a "lead number"): a model can only memorise it;
* **a copy of a flagged column** (a binned, rescaled or renamed copy, :mod:`leadml.data.copies`),
  judged last so that a copy of a copy is caught too.

Flagged columns are left out by default with a warning that names them as the user's file
spells them and why, and the ``--allow 'COL'`` that keeps one, quoted to paste into a shell
(``LeadSchema.leakage_allowed``).

The audit sees the **training rows only**, typed, with the matrix of the training encoder: a
column that gives the outcome away only among the test leads must not decide, from the test
labels, what the model may learn from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import TargetEncoder

from leadml.data.column_meaning import allow_hint
from leadml.data.copies import COPY_RHO, LEFT_ENTROPY, find_copies
from leadml.data.fill_patterns import (
    FILL_MOSTLY,
    FILL_ONE_MIN,
    FILL_OTHER_MAX,
    PLAIN_FILL_RATIO,
    SALES_FILL_RATIO,
    answered,
    fill_evidence,
    sales_fill_evidence,
)
from leadml.data.parse import parse_dates
from leadml.errors import DataError, SchemaError
from leadml.schema.lexicon import (
    ACTIVITY_WORDS,
    CONTACT_WORDS,
    DATE_WORDS,
    JUDGEMENT_WORDS,
    LAST_WORDS,
    NUMBER_WORDS,
    OUTCOME_DATE_WORDS,
    OUTCOME_WORDS,
    name_words,
)
from leadml.schema.spec import DATE_KINDS, FeatureSpec, LeadSchema

#: A single column this good on its own is more likely the outcome than a cause of it.
AUC_LIMIT = 0.90
#: A date later than the lead's time for this share of rows records a later event.
LATER_SHARE = 0.5
#: Rows used to measure single-column AUC (a random sample beyond it: the number is stable).
MAX_ROWS = 100_000
NUMERIC_BINS = 20
#: An identifier: a different whole number for every lead, rising with time at least this much
#: (Spearman's rho), unless named like a number.
ID_RISING = 0.9


@dataclass
class LeakageAudit:
    """Columns flagged as probably leaking the outcome, with the evidence, and those dropped."""

    flagged: dict[str, list[str]] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)
    single_column_auc: dict[str, float] = field(default_factory=dict)

    def kept(self, schema: LeadSchema) -> LeadSchema:
        """The schema without the dropped features: what training goes on with."""
        if not self.dropped:
            return schema
        features = [f for f in schema.features if f.name not in self.dropped]
        return schema.model_copy(update={"features": features})

    def to_dict(self) -> dict:
        """JSON for the bundle, MLflow (leakage_audit.json) and the model report."""
        return {
            "flagged": self.flagged,
            "dropped": self.dropped,
            "allowed": self.allowed,
            "single_column_auc": self.single_column_auc,
            "rules": {
                "auc_limit": AUC_LIMIT,
                "fill_one_class": f">= {FILL_ONE_MIN:.0%} vs <= {FILL_OTHER_MAX:.0%}, "
                f"or >= {FILL_MOSTLY:.0%} vs <= a tenth of it",
                "later_date_share": LATER_SHARE,
                "set_by_sales": f"answered for >= {SALES_FILL_RATIO:g}x the share of one class "
                f"(values read like a rep's judgement) or >= {PLAIN_FILL_RATIO:g}x",
                "copy": f"conditional entropy <= {LEFT_ENTROPY:.0%} of the copy's, "
                f"or |Spearman| >= {COPY_RHO}",
            },
        }


# -- evidence, one rule at a time ----------------------------------------------------------------
def name_evidence(spec: FeatureSpec) -> str | None:
    """The outcome words in a feature's name (or its source column's)."""
    hits = sorted((set(name_words(spec.name)) | set(name_words(spec.column))) & OUTCOME_WORDS)
    if not hits:
        return None
    return f"its name means an outcome or a post-contact event ({', '.join(hits)})"


def judgement_evidence(spec: FeatureSpec, values: pd.Series) -> str | None:
    """Sales' own judgement set after contact, by name; or a "last activity" field whose levels
    are calls or meetings already held (counted: the levels themselves are never quoted)."""
    names = set(name_words(spec.name)) | set(name_words(spec.column))
    if hits := sorted(names & JUDGEMENT_WORDS):
        return f"its name means sales' own judgement of the lead after contact ({', '.join(hits)})"
    if not (names & LAST_WORDS and names & ACTIVITY_WORDS) or spec.kind != "categorical":
        return None
    levels = [str(v) for v in values.dropna().unique()]
    contact = [v for v in levels if set(name_words(v)) & CONTACT_WORDS]
    if not contact:
        return None
    return (
        f"a last-activity field whose levels record contact already made ({len(contact)} of "
        f"{len(levels)} levels name a call, meeting or conversation)"
    )


def id_evidence(spec: FeatureSpec, values: pd.Series, order: np.ndarray | None) -> str | None:
    """A whole number different for every lead that rises with time (``order``: the leads'
    time order as numbers, or None) or is named like a number: an identifier, not a signal."""
    if spec.kind != "numeric":
        return None
    filled = values.dropna().to_numpy(dtype=np.float64)
    if len(filled) < 20 or len(filled) < 0.95 * len(values):
        return None
    if not np.all(filled == np.round(filled)) or len(np.unique(filled)) < len(filled):
        return None
    named = set(name_words(spec.name)) | set(name_words(spec.column))
    if named & NUMBER_WORDS:
        return f"an identifier: a different whole number for every lead ({len(filled):,})"
    if order is None:
        return None
    from scipy.stats import spearmanr

    present = values.notna().to_numpy()
    rho = float(spearmanr(filled, order[present]).statistic)
    if rho < ID_RISING:
        return None
    return (
        f"an identifier: a different whole number for every lead, rising with time "
        f"(Spearman {rho:.2f})"
    )


def _time_order(frame: pd.DataFrame, schema: LeadSchema) -> np.ndarray | None:
    """The leads' time order as numbers (row order when the rows are in time order)."""
    if schema.time and schema.time in frame.columns:
        stamps = frame[schema.time]
        if stamps.notna().all():
            return stamps.to_numpy(dtype="datetime64[ns]").astype(np.int64).astype(np.float64)
        return None
    if schema.rows_in_time_order:
        return np.arange(len(frame), dtype=np.float64)
    return None


def _oof_auc(codes: np.ndarray, y: np.ndarray, seed: int) -> float:
    """ROC AUC of a category's out-of-fold conversion rate: what the column alone can tell."""
    if len(np.unique(codes)) < 2:
        return 0.5
    folds = StratifiedKFold(5, shuffle=True, random_state=seed)
    encoder = TargetEncoder(target_type="binary", cv=folds)
    encoded = encoder.fit_transform(codes.reshape(-1, 1), y)[:, 0]
    return float(roc_auc_score(y, encoded))


def single_column_auc(values: np.ndarray, kind: str, y: np.ndarray, seed: int = 0) -> float:
    """How well one encoded column ranks converted above unconverted leads on its own.

    Categories (and ordinal, boolean, month, weekday codes) are target-encoded out of fold;
    numbers are ranked as they are (either direction, missing lowest) and, to catch a
    non-monotone giveaway, also binned into quantiles and target-encoded.
    """
    missing = np.isnan(values)
    if kind in ("numeric", "age_days"):
        if missing.all():
            return 0.5
        filled = np.where(missing, np.nanmin(values) - 1.0, values)
        ranked = roc_auc_score(y, filled) if np.ptp(filled) > 0 else 0.5
        bins = pd.qcut(values, NUMERIC_BINS, labels=False, duplicates="drop")
        codes = np.where(missing, -1, np.nan_to_num(bins, nan=-1)).astype(np.int64)
        return float(max(ranked, 1.0 - ranked, _oof_auc(codes, y, seed)))
    codes = np.where(missing, -1, np.nan_to_num(values, nan=-1)).astype(np.int64)
    return _oof_auc(codes, y, seed)


def _outcome_dates(frame: pd.DataFrame, schema: LeadSchema) -> dict[str, pd.Series]:
    """Columns that hold the date an outcome was reached (won_date, close date, ...).

    Columns the schema reads are typed already; others (an excluded close date) are parsed
    here, the one place that looks at them.
    """
    typed = {f.column for f in schema.features if f.kind in DATE_KINDS} | {schema.time}
    out = {}
    for column in frame.columns:
        tokens = set(name_words(str(column)))
        if column == schema.target or column in schema.pii:
            continue
        if tokens & OUTCOME_DATE_WORDS and tokens & DATE_WORDS:
            stamps = (
                frame[column] if column in typed else parse_dates(frame[column], schema.day_first)
            )
            if stamps.notna().any():
                out[str(column)] = stamps
    return out


def date_evidence(
    stamps: pd.Series, time: pd.Series | None, time_name: str | None, outcomes: dict
) -> str | None:
    """A date that mostly falls after the lead came in, or on or after its outcome."""
    for name, outcome in outcomes.items():
        both = stamps.notna() & outcome.notna()
        if both.sum() >= 10:
            share = float((stamps[both] >= outcome[both]).mean())
            if share >= LATER_SHARE:
                return f"on or after '{name}' in {share:.0%} of rows: it is known only after it"
    if time is not None:
        both = stamps.notna() & time.notna()
        if both.sum() >= 10:
            share = float((stamps[both] > time[both]).mean())
            if share >= LATER_SHARE:
                return (
                    f"later than the lead's '{time_name}' in {share:.0%} of rows: it records "
                    "something that happened afterwards, maybe the outcome"
                )
    return None


# -- the audit -----------------------------------------------------------------------------------
def spelled(spec: FeatureSpec) -> str:
    """A feature named as the user's file spells its column, and as the model calls it when
    that differs (a date's age): "'close_date' (as 'close_date_age_days')"."""
    if spec.column == spec.name:
        return f"'{spec.name}'"
    return f"'{spec.column}' (as '{spec.name}')"


def _check_allowed(allowed: set[str], frame: pd.DataFrame, schema: LeadSchema) -> None:
    known = set(map(str, frame.columns)) | set(schema.feature_names)
    unknown = sorted(allowed - known)
    if unknown:
        raise SchemaError(
            f"--allow names {', '.join(repr(u) for u in unknown)}, not a column of the data; "
            "features are: " + ", ".join(schema.feature_names[:30])
        )


def audit_leakage(
    frame: pd.DataFrame,
    matrix: np.ndarray,
    y: np.ndarray,
    schema: LeadSchema,
    allow: list[str] | tuple[str, ...] | None = None,
    *,
    auc_limit: float = AUC_LIMIT,
    seed: int = 0,
    converted: np.ndarray | None = None,
) -> LeakageAudit:
    """Check every feature of ``schema`` on the training rows; flagged ones are dropped unless
    allowed.

    ``frame`` holds the training rows as validation typed them, ``matrix`` the same rows
    encoded by the training encoder (one column per feature, in the schema's order), ``y``
    their outcomes (``converted``: whether each converted at all, when the label is "within a
    horizon": a column kept for converted leads is filled for late converters too). ``allow``
    (and ``schema.leakage_allowed``) name features, or the raw
    column a date feature comes from, to keep although flagged. Only column names and numbers
    go into the audit: never a value, so it is safe to log.
    """
    allowed = set(allow or ()) | set(schema.leakage_allowed)
    _check_allowed(allowed, frame, schema)
    y = np.asarray(y)
    sample = np.arange(len(frame))
    if len(frame) > MAX_ROWS:
        sample = np.sort(np.random.default_rng(seed).choice(len(frame), MAX_ROWS, replace=False))
    x_rows, y_rows = matrix[sample], y[sample]
    time = frame[schema.time] if schema.time in frame.columns else None
    outcomes = _outcome_dates(frame, schema)
    order = _time_order(frame, schema)
    ever = y if converted is None else np.asarray(converted)

    audit = LeakageAudit()
    for j, spec in enumerate(schema.features):
        evidence: list[str] = []
        if reason := name_evidence(spec):
            evidence.append(reason)
        if reason := judgement_evidence(spec, frame[spec.column]):
            evidence.append(reason)
        if reason := id_evidence(spec, frame[spec.column], order):
            evidence.append(reason)
        filled = answered(frame[spec.column], schema.missing_values)
        if reason := fill_evidence(filled, ever):
            evidence.append(reason)
        elif reason := sales_fill_evidence(spec, frame[spec.column], ever, schema.missing_values):
            evidence.append(reason)  # the softer rule, when the strict one says nothing
        auc = single_column_auc(x_rows[:, j], spec.kind, y_rows, seed)
        audit.single_column_auc[spec.name] = round(auc, 4)
        if auc >= auc_limit:
            evidence.append(
                f"alone it separates the classes: ROC AUC {auc:.3f} out of fold "
                f"(limit {auc_limit:.2f})"
            )
        if spec.kind in DATE_KINDS and spec.source != schema.time:
            stamps = frame[spec.column]
            source_outcomes = {k: v for k, v in outcomes.items() if k != spec.column}
            if reason := date_evidence(stamps, time, schema.time, source_outcomes):
                evidence.append(reason)
        if evidence:
            audit.flagged[spec.name] = evidence
    # Copies of what is left out; a column the user keeps keeps its copies too.
    out = [n for n in audit.flagged if not {n, schema.feature(n).column} & allowed]
    copies = find_copies(x_rows, schema.features, out)
    for name, reason in copies.items():
        audit.flagged.setdefault(name, []).append(reason)
    audit.flagged = {n: audit.flagged[n] for n in schema.feature_names if n in audit.flagged}

    for name, evidence in audit.flagged.items():
        column = schema.feature(name).column
        why = "; ".join(evidence)
        if name in allowed or column in allowed:
            audit.allowed.append(name)
            audit.warnings.append(
                f"LEAKAGE: {spelled(schema.feature(name))} is kept because you allowed it, "
                f"though flagged: {why}"
            )
        else:
            audit.dropped.append(name)
            audit.warnings.append(
                f"LEAKAGE: {spelled(schema.feature(name))} was left out: {why}. If it is known "
                f"before the outcome, keep it with {allow_hint(column)}"
            )
    if audit.dropped and len(audit.dropped) == len(schema.features):
        raise DataError(
            "every feature was flagged as leaking the outcome ("
            + "; ".join(f"'{n}': {audit.flagged[n][0]}" for n in audit.dropped)
            + "); keep the honest ones with --allow COL"
        )
    return audit
