"""From what a user gave (a schema file, or a target column and how to read it) to the
schema a training uses, and the lead table labelled from a second table of conversions.

These are the rules behind ``leadml train``, ``leadml schema infer``, ``leadml retrain`` and
``leadml.train``: one place, so the CLI and the Python API read an outcome the same way. They
never print: what a person should see comes back as lines, and each caller shows them its way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadml.errors import LeadMLError

if TYPE_CHECKING:
    import pandas as pd

    from leadml.schema.spec import LeadSchema

#: Said when nothing tells the training what to predict.
NO_SCHEMA = "give --schema FILE, or --target COLUMN to infer a schema from the data"


def outcome_options(outcomes: str | None, on: str | None) -> bool:
    """``--outcomes FILE`` and ``--on KEY`` come together; True when both are given."""
    if outcomes is None and on is not None:
        raise LeadMLError("--on KEY goes with --outcomes FILE")
    if outcomes is not None and on is None:
        raise LeadMLError("--outcomes needs --on KEY: the column both tables share")
    return outcomes is not None


@dataclass(frozen=True)
class OutcomeOptions:
    """How the user said to read the outcome: the values of each class and the conversion
    date (None: the schema's, else the lexicon's and inference's)."""

    positive: list[str] | None = None
    negative: list[str] | None = None
    open: list[str] | None = None
    converted_at: str | None = None

    def apply(self, schema: LeadSchema) -> LeadSchema:
        """The schema with what was given written in, so the bundle records it."""
        update: dict[str, Any] = {}
        if self.positive:
            update["positive"] = self.positive[0] if len(self.positive) == 1 else self.positive
        for key in ("negative", "open"):
            if getattr(self, key):
                update[key] = sorted({*getattr(schema, key), *getattr(self, key)})
        if self.converted_at:
            update["converted_at"] = self.converted_at
        return schema.model_copy(update=update) if update else schema


@dataclass
class Labelled:
    """The lead table, and the target column and positive value to read it with (``--outcomes``
    makes them its own); ``notes``: what attaching the outcomes found worth a warning."""

    frame: pd.DataFrame
    target: str | None
    positive: str | list[str] | None
    notes: list[str]


def label_with_outcomes(
    frame: pd.DataFrame,
    outcomes: str | None,
    on: str | None,
    target: str | None,
    positive: str | list[str] | None,
) -> Labelled:
    """``frame`` labelled from a second table of conversions when ``outcomes`` is given: a
    lead converted when its ``on`` key appears there (only the key is read)."""
    if not outcome_options(outcomes, on):
        return Labelled(frame, target, positive, [])
    from leadml.data.outcomes import attach_outcomes
    from leadml.data.read import read_table

    target = target or "converted"
    frame, notes = attach_outcomes(frame, read_table(str(outcomes)), str(on), target)
    return Labelled(frame, target, "1", list(notes))


def read_with_outcomes(
    data: str,
    outcomes: str | None,
    on: str | None,
    target: str | None,
    positive: str | list[str] | None,
) -> Labelled:
    """The lead table read from ``data`` (a file or a SQLAlchemy URL), then
    :func:`label_with_outcomes`."""
    from leadml.data.read import read_table

    return label_with_outcomes(read_table(data), outcomes, on, target, positive)


@dataclass
class Resolved:
    """The schema a training uses, and what inference said about it (one line each)."""

    schema: LeadSchema
    lines: list[str]


def resolve_schema(
    source: str,
    frame: pd.DataFrame | None,
    schema: str | Path | LeadSchema | None,
    target: str | None,
    outcome: OutcomeOptions,
) -> Resolved:
    """A schema (a file or a ``LeadSchema``) when given; else one suggested from the data around
    ``target``, named after ``source`` (so each project gets its own registered model)."""
    from leadml.schema.spec import LeadSchema

    if isinstance(schema, LeadSchema):
        return Resolved(outcome.apply(schema), [])
    if schema is not None:
        return Resolved(outcome.apply(LeadSchema.load(schema)), [])
    if target is None:
        raise LeadMLError(NO_SCHEMA)
    from leadml.data.suggest import project_name, suggest_schema

    suggestion = suggest_schema(
        frame,
        target=target,
        positive=outcome.positive,
        negative=outcome.negative,
        open=outcome.open,
        converted_at=outcome.converted_at,
        name=project_name(source),
    )
    return Resolved(suggestion.schema, list(suggestion.summary()))


@dataclass(frozen=True)
class ColumnRoles:
    """Columns given a duty on the command line: ``--segment``, ``--audit`` (repeatable)
    and ``--opt-out`` (None or empty: as the schema says)."""

    segment: str | None = None
    audit: list[str] | None = None
    opt_out: str | None = None

    def apply(self, schema: LeadSchema) -> LeadSchema:
        """The schema with these roles written in: an audit or opt-out column stops being a
        feature; a segment column becomes one (a category) if it was left out."""
        from leadml.schema.spec import LeadSchema

        if not (self.segment or self.audit or self.opt_out):
            return schema
        duty = {*(self.audit or []), self.opt_out} - {None}
        raw = schema.to_dict()
        raw["features"] = {k: v for k, v in raw["features"].items() if k not in duty}
        raw["exclude"] = [c for c in raw["exclude"] if c not in duty | {self.segment}]
        if self.audit:
            raw["audit"] = sorted({*schema.audit, *self.audit})
        if self.opt_out:
            raw["opt_out"] = self.opt_out
        if self.segment:
            raw["segment"] = self.segment
        return LeadSchema.from_dict(raw)


def schema_options(
    lead_schema: LeadSchema,
    allow: list[str] | None,
    time_order: bool,
    roles: ColumnRoles | None = None,
) -> Any:
    """``--allow``, ``--time-order`` and the column roles written into the schema, so the
    bundle records them.

    ``--allow`` keeps a column the leakage guard flags, and brings back a staff column that
    inference left out (``leadml.data.suggest.allow_staff``)."""
    if roles is not None:
        lead_schema = roles.apply(lead_schema)
    update: dict[str, Any] = {}
    if allow:
        from leadml.data.suggest import allow_staff

        lead_schema = allow_staff(lead_schema, allow)
        update["leakage_allowed"] = sorted({*lead_schema.leakage_allowed, *allow})
    if time_order:
        update["rows_in_time_order"] = True
    return lead_schema.model_copy(update=update) if update else lead_schema


def staff_kept(before: LeadSchema, after: LeadSchema) -> list[str]:
    """The lines saying which staff columns ``--allow`` brought back as features."""
    return [
        f"staff column '{column}' kept as a feature, as --allow asks"
        for column in sorted(set(before.exclude) - set(after.exclude))
    ]
