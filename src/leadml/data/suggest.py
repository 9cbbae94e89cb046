"""Suggest a ``LeadSchema`` for a raw CRM export, so one command trains on a user's own leads.

Each column is read by :mod:`leadml.data.column_roles`; here the readings become a schema: one
identifier, the time column that drives the split, the features (with calendar parts derived
from dates), the personal data and what is left out, each with its reason.

The result is a suggestion for a person to review (``leadml schema infer`` writes it as TOML):
columns that no rule places are listed as unassigned rather than guessed at. Whether a column
leaks the outcome is not decided here but by the leakage guard, on every training.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from leadml.data.column_meaning import place_column, staff_evidence
from leadml.data.column_roles import ColumnReport, analyse_column, as_text
from leadml.data.identifiers import id_like_name
from leadml.data.parse import day_first_in, parse_dates
from leadml.data.suggestion import SchemaSuggestion
from leadml.data.target import CONVERTED, NOT_CONVERTED, OPEN, classify_target, spell
from leadml.errors import DataError
from leadml.schema.lexicon import CREATED_WORDS, form_defaults, name_words
from leadml.schema.spec import DEFAULT_MISSING, FeatureSpec, LeadSchema

#: History needed before a date's month is a feature: with less, month stands in for the date
#: itself (and test months may never occur in training), instead of measuring seasonality.
SEASON_DAYS = 730
#: An outcome date is filled for at least this share of the leads it belongs to ...
OUTCOME_DATE_FILLED = 0.9
#: ... and for at most this share of the others (a date kept only when the outcome came).
OUTCOME_DATE_ELSEWHERE = 0.02


def _choose_time(frame: pd.DataFrame, dates: list[str]) -> str | None:
    """The date the lead came in: named so (created, first contact...), else the earliest.

    Only a column whose every value is a date can drive the split (validation insists).
    """
    usable = []
    for column in dates:
        raw = (
            as_text(frame[column])
            if not pd.api.types.is_datetime64_any_dtype(frame[column])
            else frame[column]
        )
        given = raw.notna() & (raw.astype("string") != "")
        stamps = parse_dates(frame[column])
        if (stamps.notna() | ~given).all() and stamps.notna().mean() >= 0.5:
            usable.append((column, stamps))
    if not usable:
        return None
    named = [c for c, _ in usable if set(name_words(c)) & CREATED_WORDS]
    if named:
        return named[0]
    table = pd.DataFrame({c: s for c, s in usable})
    earliest = table.eq(table.min(axis=1), axis=0).mean()
    return str(earliest.idxmax())


def _calendar_parts(series: pd.Series, report: ColumnReport) -> tuple[str, ...]:
    """Weekday always; month only when the history is long enough to show seasons."""
    stamps = parse_dates(series)
    span = (stamps.max() - stamps.min()).days if stamps.notna().any() else 0
    if span >= SEASON_DAYS:
        report.notes.append("month and weekday derived")
        return ("month", "weekday")
    report.notes.append(
        f"weekday derived; not month: {span} days of history cannot show seasons, so month "
        "would stand in for the date"
    )
    return ("weekday",)


def _derived(column: str, kinds: tuple[str, ...], taken: set[str], group: str, criterion: str):
    specs = []
    for kind in kinds:
        name = f"{column}_{kind}"
        while name in taken:
            name += "_"
        taken.add(name)
        label = column.replace("_", " ").strip()
        display = {
            "month": f"{label.capitalize()}: month",
            "weekday": f"{label.capitalize()}: weekday",
            "age_days": f"Days since {label}",
        }[kind]
        # Ages are worded as facts that read right whichever way they push: "Last activity
        # date: 45 days ago" (counted from the lead's time column; "1 days" is singularised).
        # A weekday or month gets no template: date parts are never reasons on their own
        # unless the user's schema words them (explain/reasons.py), yet still count in points.
        said = label.capitalize().replace("{", "{{").replace("}", "}}")
        reason = f"{said}: {{value}} days ago" if kind == "age_days" else None
        specs.append(
            FeatureSpec(
                name=name,
                kind=kind,
                source=column,
                group=group,
                criterion=criterion,
                display=display,
                reason=reason,
            )
        )
    return specs


def _values(values: str | list[str] | None) -> list[str] | None:
    if values is None or isinstance(values, list):
        return values
    return [values]


def outcome_date(
    frame: pd.DataFrame, dates: list[str], codes: np.ndarray, belongs: np.ndarray
) -> tuple[str, str] | None:
    """The date column kept only for the leads in ``belongs`` (converted ones: the conversion
    date; closed ones: the close date), and why: filled for nearly all of them and nearly none
    of the others. These are the columns the leakage guard would flag as filled for one class
    only; named here, they measure time to convert instead (never features)."""
    placed = codes != -9
    if not belongs.any() or not (placed & ~belongs).any():
        return None
    for column in dates:
        filled = parse_dates(frame[column]).notna().to_numpy()
        mine, others = filled[belongs].mean(), filled[placed & ~belongs].mean()
        if mine >= OUTCOME_DATE_FILLED and others <= OUTCOME_DATE_ELSEWHERE:
            return column, f"filled for {mine:.0%} of them and {others:.0%} of the others"
    return None


def suggest_schema(
    frame: pd.DataFrame,
    target: str,
    positive: str | list[str] | None = None,
    *,
    negative: list[str] | None = None,
    open: list[str] | None = None,
    converted_at: str | None = None,
    name: str = "leads",
    seed: int = 0,
) -> SchemaSuggestion:
    """Read a raw lead table and suggest its schema; raise ``DataError`` for an unusable target.

    The target's values are placed as converted, not converted or still open (the lexicon,
    and ``positive``, ``negative`` and ``open`` as the user named them), and written into the
    schema, so the bundle records what was decided. The conversion date (and, with open
    leads, the close date) is inferred unless ``converted_at`` names it. ``name`` becomes the
    schema's name, and so the registered model's: give each project its own
    (``project_name`` makes one from a file name).
    """
    if target not in frame.columns:
        raise DataError(
            f"target column '{target}' not found; columns are: "
            + ", ".join(map(str, list(frame.columns)[:30]))
        )
    spelled = spell(frame[target])
    if spelled.dropna().empty:
        raise DataError(f"target column '{target}' is empty")
    classes = classify_target(
        spelled.dropna().unique().tolist(),
        target,
        positive=_values(positive),
        negative=negative,
        open=open,
    )
    codes = classes.codes(spelled)
    # The schema names each value as the data writes it ("Won", not "won").
    written = dict(zip(spelled.dropna(), as_text(frame[target])[spelled.notna()], strict=True))

    def as_written(values: frozenset[str]) -> list[str]:
        return sorted(str(written.get(v, v)) for v in values)

    chosen = as_written(classes.converted) or ["1"]
    positive = chosen[0] if len(chosen) == 1 else chosen
    if converted_at is not None and converted_at not in frame.columns:
        raise DataError(f"--converted-at column '{converted_at}' is not in the data")

    rng = np.random.default_rng(seed)
    reports: dict[str, ColumnReport] = {
        target: ColumnReport(target, role="target", notes=[f"converted = {positive!r}"])
    }
    missing = list(DEFAULT_MISSING)
    for column in frame.columns:
        if column == target:
            continue
        if not isinstance(column, str):
            raise DataError(f"column names must be text; got {column!r}")
        report, found = analyse_column(column, frame[column], rng)
        reports[column] = report
        missing += [v for v in found if v not in missing]

    # The outcome's own dates: when a lead converted, when it was closed.
    dates = [c for c, r in reports.items() if r.role == "date"]
    found_at = (converted_at, "you named it") if converted_at else None
    found_at = found_at or outcome_date(frame, dates, codes, codes == CONVERTED)
    closed_at = None
    if found_at:
        converted_at = found_at[0]
        reports.setdefault(converted_at, ColumnReport(converted_at, role="date"))
        reports[converted_at].role = "outcome date"
        reports[converted_at].notes = [f"when a lead converted: {found_at[1]}"]
        if (codes == OPEN).any():
            closed = np.isin(codes, (CONVERTED, NOT_CONVERTED))
            rest = [c for c in dates if c != converted_at]
            if found_closed := outcome_date(frame, rest, codes, closed):
                closed_at = found_closed[0]
                reports[closed_at].role = "outcome date"
                reports[closed_at].notes = [f"when a lead was closed: {found_closed[1]}"]

    ids = [c for c, r in reports.items() if r.role == "id"]
    id_column = next((c for c in ids if id_like_name(c)), ids[0] if ids else None)
    for column in ids:
        if column != id_column:
            reports[column].role = "excluded"
            reports[column].notes.append("another identifier")

    dates = [c for c, r in reports.items() if r.role == "date"]
    orders = {day_first_in(frame[c]) for c in dates}
    day_first = None if orders >= {True, False} else (True if True in orders else None)
    for column in dates:
        if day_first_in(frame[column]) is True:
            reports[column].notes.append("dates written day first (e.g. 23/11/2026)")
    time = _choose_time(frame, dates)
    features: list[FeatureSpec] = []
    taken = set(map(str, frame.columns))
    for column, report in reports.items():
        if report.role == "feature":
            spec = FeatureSpec(
                name=column,
                kind=report.kind or "categorical",
                group=report.group,
                criterion=report.criterion,
                levels=report.levels,
            )
            features.append(spec)
        elif report.role == "date":
            placed = place_column(column)
            group, criterion, report.evidence = placed.group, placed.criterion, placed.evidence
            if column == time or time is None:
                parts = _calendar_parts(frame[column], report)
                if column == time:
                    report.role = "time"
                    report.notes.append("the time column: it drives the split")
                features += _derived(column, parts, taken, "calendar", "none")
            else:
                report.notes.append(f"a date: its age in days at the lead's '{time}' is derived")
                features += _derived(column, ("age_days",), taken, group, criterion)
    if not features:
        raise DataError(
            "no column can be a feature: every column is the target, an identifier, personal "
            "data, empty or constant"
        )
    schema = LeadSchema(
        name=name,
        id=id_column,
        target=target,
        positive=positive,
        negative=as_written(classes.not_converted),
        open=as_written(classes.open),
        converted_at=converted_at,
        closed_at=closed_at,
        time=time,
        pii=[c for c, r in reports.items() if r.role == "pii"],
        exclude=[c for c, r in reports.items() if r.role in ("excluded", "staff")],
        missing_values=missing,
        unanswered=form_defaults(missing),
        day_first=day_first,
        features=features,
    )
    return SchemaSuggestion(schema=schema, columns=reports)


def allow_staff(schema: LeadSchema, allow: Iterable[str] | None) -> LeadSchema:
    """The schema with the staff columns named in ``--allow`` back as features.

    Who worked a lead is left out by default (it follows the outcome and no rep can act on
    it); a team that wants it anyway (which office converts) names it, as it names a column
    the leakage guard flags. It returns as a category in the group "staff": a person or a
    team is a label, never a quantity. Other columns in ``allow`` are the guard's to judge.
    """
    back = [c for c in dict.fromkeys(allow or ()) if c in schema.exclude and staff_evidence(c)]
    if not back:
        return schema
    specs = [FeatureSpec(name=c, kind="categorical", group="staff") for c in back]
    return schema.model_copy(
        update={
            "exclude": [c for c in schema.exclude if c not in back],
            "features": [*schema.features, *specs],
        }
    )


def project_name(source: str | Path) -> str:
    """A registered-model name from a data source: ``exports/bank-full.csv`` → ``bank-full``.

    Only the file's stem is used (never a database URL's host or password), in the letters,
    digits, dots, dashes and underscores MLflow's registry accepts everywhere.
    """
    text = str(source).partition("#")[0].rstrip("/")
    stem = Path(text).name.split(".")[0] if "://" not in text else text.rsplit("/", 1)[-1]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem).strip("-._").lower()
    return slug or "leads"
