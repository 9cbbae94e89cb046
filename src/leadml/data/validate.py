"""Check a lead table against its schema and hand on typed columns: the one validation core.

Validation is where bad data is stopped with a message a user can act on: which column, which
rows, what was expected. Problems that leave the rest of the data honestly usable (an empty
column, infinities, stray text in a date column) become warnings that say what was left out.

The checks come in three layers, so that Dask runs the very same functions on its partitions
and the messages cannot drift apart:

* ``check_columns``: the header (target and schema columns present);
* ``check_rows``: one table or one partition: types every column the schema uses (once,
  :mod:`leadml.data.parse`) and returns the typed rows with a ``RowReport``; problems are
  recorded, not raised, since only the whole table can say which matters first;
* ``combine_reports``: the table-wide verdict from every part's report: the target's values
  and classes, then the first row problem, then which features are kept.

``validate`` is the three on one DataFrame.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadml.config import setting_default
from leadml.data.maturity import LabelRule, LabelSummary, settle_labels
from leadml.data.newest_level import Maturity, maturity_of
from leadml.data.objections import audit_frame, drop_opted_out, opted_out_note
from leadml.data.parse import parse_columns, resolve_day_first, schema_column_kinds
from leadml.data.target import NOT_CONVERTED, OPEN, TargetClasses, schema_classes, spell
from leadml.data.timeline import Timeline, newest_date
from leadml.errors import DataError
from leadml.schema.spec import DATE_KINDS, LeadSchema

#: A categorical with more distinct values than this, on most of its rows, is an identifier.
IDENTIFIER_LEVELS = 1000
#: Warnings listed from the parts of a table before "… and N more".
MAX_WARNINGS = 20
#: An outcome column has a handful of values (a status picklist); more is not an outcome.
MAX_TARGET_VALUES = 100


def rows_text(mask: np.ndarray | pd.Series, limit: int = 5) -> str:
    """Spreadsheet-style row numbers (header is row 1) of the first offending rows."""
    idx = np.flatnonzero(np.asarray(mask))
    shown = ", ".join(str(i + 2) for i in idx[:limit])
    more = f", … ({len(idx)} in all)" if len(idx) > limit else ""
    return f"rows {shown}{more}"


# -- the header ----------------------------------------------------------------------------------
def check_columns(columns: Sequence[str], schema: LeadSchema) -> None:
    """The target and every column the schema reads must be there."""
    if schema.target not in columns:
        raise DataError(
            f"target column '{schema.target}' not found; columns are: "
            + ", ".join(map(str, list(columns)[:30]))
        )
    missing = list(dict.fromkeys(f.column for f in schema.features if f.column not in columns))
    if missing:
        raise DataError(f"columns in the schema but not in the data: {', '.join(missing)}")
    for key in ("converted_at", "closed_at"):
        column = getattr(schema, key)
        if column and column not in columns:
            raise DataError(f"{key} column '{column}' is not in the data")


def outcome_date_kinds(schema: LeadSchema) -> dict[str, str]:
    """The conversion and close dates, typed as dates while training (never features)."""
    return {c: "date" for c in (schema.converted_at, schema.closed_at) if c}


# -- one table or partition ----------------------------------------------------------------------
@dataclass
class RowReport:
    """What the row checks found in one part of a table; small, it travels back from Dask."""

    labeled: int
    unlabeled: int
    #: The target's distinct values, canonically spelled (a handful; at most
    #: ``MAX_TARGET_VALUES + 1``, enough to say there are too many).
    target_values: list[str]
    #: Feature → rows holding a usable value (for date features: a date).
    present: dict[str, int]
    #: Feature → why it looks like an identifier here (categoricals only).
    identifier_like: dict[str, str] = field(default_factory=dict)
    #: The newest date in the part (created, converted or closed; float ns): the export date
    #: unless --as-of says otherwise.
    newest: float = float("nan")
    #: Problems that stop training, worded with the part's rows.
    errors: list[str] = field(default_factory=list)
    #: Problems left behind with a warning, worded with the part's rows.
    warnings: list[str] = field(default_factory=list)


@dataclass
class RowCheck:
    """The rows with an outcome value, typed (the target as written), and the report."""

    frame: pd.DataFrame
    report: RowReport


def check_rows(frame: pd.DataFrame, schema: LeadSchema, where: str = "") -> RowCheck:
    """Type the schema's columns of ``frame`` and check its rows; ``where`` names the part.

    ``schema.day_first`` must be settled (``validate`` does it), so that every part reads
    05/11/2026 the same way. Rows without an outcome are left out with a warning; row numbers
    in messages are those of ``frame`` as given.
    """
    prefix = f"{where}: " if where else ""
    labeled = frame[schema.target].notna().to_numpy()
    values = spell(frame.loc[labeled, schema.target]).dropna().unique().tolist()
    ordinal = {f.name: f.levels or [] for f in schema.features if f.kind == "ordinal"}
    kinds = schema_column_kinds(schema) | outcome_date_kinds(schema)
    missing, unanswered = schema.missing_values, schema.unanswered
    typed, parsed = parse_columns(frame, kinds, missing, schema.day_first, ordinal, unanswered)
    report = RowReport(
        labeled=int(labeled.sum()),
        unlabeled=int((~labeled).sum()),
        target_values=sorted(values)[: MAX_TARGET_VALUES + 1],
        present={},
    )
    if report.unlabeled:
        report.warnings.append(
            f"{prefix}{report.unlabeled} rows with no value in '{schema.target}' were left out "
            f"({rows_text(~labeled)})"
        )
    if schema.time and schema.time in parsed:
        bad = parsed[schema.time].unreadable & labeled
        if bad.any():
            example = frame[schema.time][bad].iloc[0]
            report.errors.append(
                f"{prefix}time column '{schema.time}' has {int(bad.sum())} values that are not "
                f"dates (e.g. {example!r}, {rows_text(bad)})"
            )
    for column_name in outcome_date_kinds(schema):
        bad = parsed[column_name].unreadable & labeled
        if bad.any():
            report.warnings.append(
                f"{prefix}column '{column_name}' has {int(bad.sum())} values that are not dates "
                f"({rows_text(bad)}); they were treated as missing"
            )
    for spec in schema.features:
        column = parsed[spec.column]
        raw = frame[spec.column]
        if spec.kind in DATE_KINDS:
            report.present[spec.name] = int((column.values.notna().to_numpy() & labeled).sum())
            bad = column.unreadable & labeled
            if bad.any() and report.present[spec.name]:
                report.warnings.append(
                    f"{prefix}column '{spec.source}' has {int(bad.sum())} values that are not "
                    f"dates ({rows_text(bad)}); '{spec.name}' treats them as missing"
                )
            continue
        given = column.given & labeled
        report.present[spec.name] = int(given.sum())
        if not given.any():
            continue
        if spec.kind == "numeric":
            bad = column.unreadable & labeled
            if bad.any():
                report.errors.append(
                    f"{prefix}column '{spec.name}' has {int(bad.sum())} non-numeric values "
                    f"({rows_text(bad)}, e.g. {raw[bad].iloc[0]!r}); expected numbers"
                )
            infinite = column.infinite & labeled
            if infinite.any():
                report.warnings.append(
                    f"{prefix}column '{spec.name}' has {int(infinite.sum())} infinite values "
                    f"({rows_text(infinite)}); they were treated as missing"
                )
        elif spec.kind == "ordinal":
            known = set(spec.levels or [])
            unknown = given & ~column.values.isin(known).to_numpy(dtype=bool, na_value=False)
            unknown &= ~column.not_answered  # "(not answered)": the schema's unanswered words
            if unknown.any():
                answers = sorted(set(column.values[unknown].dropna().tolist()))[:5]
                report.errors.append(
                    f"{prefix}column '{spec.name}' has {int(unknown.sum())} answers not in its "
                    f"levels ({rows_text(unknown)}: {answers}); add them to the schema's levels "
                    "in order"
                )
        elif spec.kind == "categorical":
            # A "category" with a distinct value on most rows is an identifier in disguise:
            # it can only memorise leads, never generalise, so it is left out.
            distinct = int(column.values[given].nunique())
            if distinct > IDENTIFIER_LEVELS and distinct > 0.5 * int(given.sum()):
                report.identifier_like[spec.name] = (
                    f"column '{spec.name}' has {distinct:,} distinct values on "
                    f"{int(given.sum()):,} rows: it looks like an identifier and was left out"
                )
    kept = typed.loc[labeled].reset_index(drop=True)
    report.newest = newest_date(kept, schema)
    return RowCheck(frame=kept, report=report)


def outcome_timeline(
    typed: pd.DataFrame, classes: TargetClasses, schema: LeadSchema, as_of: float
) -> Timeline:
    """Typed rows' outcomes as the export showed them on ``as_of`` (one frame or partition)."""
    codes = classes.codes(spell(typed[schema.target]))
    undecided = OPEN if classes.open else NOT_CONVERTED
    return Timeline.of(typed, codes, schema, as_of, undecided)


# -- the whole table -----------------------------------------------------------------------------
def target_classes(reports: Iterable[RowReport], schema: LeadSchema) -> TargetClasses:
    """Which of the target's values mean converted, not converted and still open, from every
    part's values (the lexicon, and the schema's ``positive``, ``negative`` and ``open``)."""
    values = sorted({v for r in reports for v in r.target_values})
    if not values:
        raise DataError(f"target column '{schema.target}' is empty")
    if len(values) > MAX_TARGET_VALUES:
        raise DataError(
            f"target column '{schema.target}' has more than {MAX_TARGET_VALUES} distinct "
            "values: it is not an outcome (converted / not converted / open)"
        )
    return schema_classes(schema, values)


def combine_reports(
    reports: Iterable[RowReport], schema: LeadSchema
) -> tuple[LeadSchema, list[str]]:
    """The table-wide checks over every part's report: raise the first problem that stops
    training; else return the schema of the features kept, and the warnings. (The outcome's
    classes and counts are checked once the labels are settled: ``settle_labels``.)"""
    reports = list(reports)
    for report in reports:
        if report.errors:
            raise DataError(report.errors[0])

    notes = [w for r in reports for w in r.warnings]
    warnings = notes[:MAX_WARNINGS]
    if len(notes) > MAX_WARNINGS:
        warnings.append(f"… and {len(notes) - MAX_WARNINGS} more")
    kept = []
    for spec in schema.features:
        said = (r.identifier_like[spec.name] for r in reports if spec.name in r.identifier_like)
        identifier = next(said, None)
        if identifier:
            warnings.append(identifier)
        elif not sum(r.present.get(spec.name, 0) for r in reports):
            warnings.append(
                f"feature '{spec.name}': column '{spec.source}' holds no dates and was left out"
                if spec.kind in DATE_KINDS
                else f"column '{spec.name}' has no values at all and was left out"
            )
        else:
            kept.append(spec)
    if not kept:
        raise DataError("no usable feature columns: every feature is empty")
    return schema.model_copy(update={"features": kept}), warnings


def duplicate_ids_error(column: str, count: int, example: object, where: str) -> DataError:
    """The one wording for repeated lead ids, however they were counted."""
    return DataError(
        f"id column '{column}' has {count} duplicated values (e.g. {example!r}{where})"
    )


def settle_day_first(schema: LeadSchema, frame: pd.DataFrame) -> tuple[LeadSchema, list[str]]:
    """The schema with ``day_first`` decided once (from ``frame`` when the schema is silent),
    so that splitting, encoding and scoring all read 05/11/2026 alike."""
    day_first = resolve_day_first(schema, frame)
    notes = []
    if day_first and schema.day_first is None:
        notes.append(
            "dates such as 05/11/2026 were read day first (5 November), as the data's other "
            "dates show; set day_first = false in the schema if that is wrong"
        )
    return schema.model_copy(update={"day_first": day_first}), notes


# -- one DataFrame -------------------------------------------------------------------------------
@dataclass
class Validated:
    """A checked table: the rows learned from, typed, their 0/1 label, the schema actually
    used (features left out removed, the day order settled), what was left out, and when each
    label became known (``known_at``, float nanoseconds: what a backtest fold may learn from)."""

    frame: pd.DataFrame
    y: np.ndarray
    schema: LeadSchema
    warnings: list[str] = field(default_factory=list)
    known_at: np.ndarray | None = None
    label: LabelSummary | None = None
    #: Converted at all (within the horizon or later): the leakage guard's "filled for
    #: converted leads only" is about this, not about the horizon's label.
    converted: np.ndarray | None = None
    #: With a horizon: when labels settled, and the young leads already settled, for the
    #: newest conversion level (:class:`leadml.data.newest_level.Maturity`).
    maturity: Maturity | None = None
    #: The schema's audit columns of the rows learned from, as given (never features).
    audit: pd.DataFrame | None = None
    #: Leads left out because they objected to profiling (``schema.opt_out``).
    opted_out: int = 0


def learned_rows(columns: pd.DataFrame, target: pd.Series, learn: np.ndarray) -> pd.DataFrame:
    """``columns`` of the rows learned from: labelled (as ``check_rows`` keeps them), then
    ``learn`` of those, positions aligned with the validated frame."""
    labelled = columns.loc[target.notna().to_numpy()].reset_index(drop=True)
    return labelled.loc[learn].reset_index(drop=True)


def validate(
    frame: pd.DataFrame,
    schema: LeadSchema,
    min_class_count: int = setting_default("min_class_count"),
    rule: LabelRule | None = None,
) -> Validated:
    """Check a training table against its schema and settle its labels (``rule``: the horizon
    and export date, :mod:`leadml.data.maturity`); raise ``DataError`` naming what is wrong."""
    if len(frame.columns) == 0 or len(frame) == 0:
        raise DataError("the data has no rows" if len(frame.columns) else "the data is empty")
    check_columns(list(frame.columns), schema)
    frame, opted_out = drop_opted_out(frame, schema)
    audit = audit_frame(frame, schema)
    schema, notes = settle_day_first(schema, frame)
    notes = opted_out_note(schema, opted_out) + notes
    checked = check_rows(frame, schema)
    classes = target_classes([checked.report], schema)
    used, warnings = combine_reports([checked.report], schema)
    if schema.id and schema.id in frame.columns:
        ids = checked.frame[schema.id]
        repeated = ids.duplicated(keep=False).to_numpy()
        if repeated.any():
            first = ids[repeated].iloc[0]
            raise duplicate_ids_error(
                schema.id, int(repeated.sum()), first, f" at {rows_text(ids == first)}"
            )
    rule = rule or LabelRule()
    timeline = outcome_timeline(
        checked.frame, classes, schema, rule.export_date(checked.report.newest)
    )
    labels, summary, notes_on_labels = settle_labels(
        timeline, classes.to_dict(), schema, rule, min_class_count
    )
    learn = labels.learn
    return Validated(
        frame=checked.frame.loc[learn].reset_index(drop=True),
        y=labels.y[learn],
        schema=used,
        warnings=notes + warnings + notes_on_labels,
        known_at=labels.known_at[learn],
        label=summary,
        converted=labels.converted[learn] if labels.converted is not None else None,
        maturity=maturity_of(timeline, labels, summary.horizon_days),
        audit=None if audit is None else learned_rows(audit, frame[schema.target], learn),
        opted_out=opted_out,
    )
