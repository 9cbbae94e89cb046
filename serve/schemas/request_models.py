"""Request models, built from the served model's ``LeadSchema``.

Building the lead model from the schema means the OpenAPI document a CRM integrator reads at
``/docs`` shows every field with its type, its allowed answers (ordinal levels), its BANT
criterion and a description, and that a typo in a field name is rejected with its name instead
of being silently scored as missing. Fields are declared by alias so that any column name a
bring-your-own schema uses (spaces, dots, names clashing with pydantic's own) works.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Collection
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StringConstraints,
    WithJsonSchema,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from leadml.data.parse import boolean_value
from leadml.data.values import (
    NOT_ANSWERED,
    answer_or_blank,
    canonical,
    level_lookup,
    number_from_text,
    placeholder_keys,
    unanswered_keys,
)
from leadml.schema.spec import DATE_KINDS, FeatureSpec, LeadSchema

#: How many known categorical levels the field description lists before "...".
LEVELS_SHOWN = 25
MAX_TEXT = 500


def _int_to_text(value: Any) -> Any:
    """CRMs send ids and codes as numbers as often as as strings; both mean the same text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


Text = Annotated[
    str,
    BeforeValidator(_int_to_text),
    StringConstraints(max_length=MAX_TEXT),
    # Documented as accepted: integers are taken as text (the schemathesis fuzz checks this).
    WithJsonSchema({"anyOf": [{"type": "string", "maxLength": MAX_TEXT}, {"type": "integer"}]}),
]


def _not_a_flag(value: Any) -> Any:
    """pydantic would read true/false as 1/0: a flag in a number field is a mistake, not 0."""
    if isinstance(value, bool):
        raise PydanticCustomError("number_type", "expected a number, not true or false")
    return value


def _number(floor: float | None) -> BeforeValidator:
    """Numbers as CRMs send them: 1200, "1,200", "$50,000", "2.4M" (:mod:`leadml.data.values`);
    with ``floor`` 0, a negative value is refused: the field was never negative in training.
    The value itself is never echoed (it may sit next to personal data)."""

    def read(value: Any) -> Any:
        value = _not_a_flag(value)
        if isinstance(value, str):
            number = number_from_text(value)
            if math.isnan(number):
                raise PydanticCustomError(
                    "number_parsing", "expected a number (such as 1200, 1,200 or $50,000)"
                )
            value = number
        if floor is not None and isinstance(value, int | float) and value < floor:
            raise PydanticCustomError(
                "negative_count",
                "cannot be negative: the model only ever saw values from 0 up for this field",
            )
        return value

    return BeforeValidator(read)


def _answer(levels: list[str]) -> BeforeValidator:
    """An ordinal answer in any case, spacing or dash ("vp", "100k-250k") is the level it
    names; anything else is refused, listing the answers (never echoing the value)."""
    lookup = level_lookup(levels)
    known = set(levels)

    def read(value: Any) -> Any:
        if value is None or value == NOT_ANSWERED:
            return value
        if isinstance(value, str):
            text = value.strip()
            found = text if text in known else canonical(text, lookup)
            if found is not None:
                return found
        raise PydanticCustomError(
            "literal_error",
            "expected one of {expected}",
            {"expected": ", ".join(repr(level) for level in levels)},
        )

    return BeforeValidator(read)


def _flag(value: Any) -> Any:
    """Yes/no as CRMs and forms write it, in the languages the training data comes in."""
    if isinstance(value, str):
        flag = boolean_value(value.strip())  # the file path's own reading of yes / no
        if flag == flag:
            return bool(flag)
    return value


Number = Annotated[float, Field(allow_inf_nan=False)]
#: Numbers as text, as documented (the parser reads more: currency codes, k/M suffixes, ...;
#: the schema states a form every client can rely on, and the schemathesis fuzz checks it).
NUMBER_TEXT = r"^\$?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?$"
SIGNED_TEXT = r"^-?[0-9]{1,3}(,[0-9]{3})*(\.[0-9]+)?$"


def _number_schema(floor: float | None) -> WithJsonSchema:
    """Documented as accepted: a number (from ``floor`` up when set), or text holding one."""
    number: dict[str, Any] = {"type": "number"}
    text = NUMBER_TEXT if floor is not None else SIGNED_TEXT
    if floor is not None:
        number["minimum"] = floor
    return WithJsonSchema(
        {"anyOf": [number, {"type": "string", "pattern": text}, {"type": "null"}]}
    )


def _describe(spec: FeatureSpec, known_levels: list[str] | None) -> str:
    parts = [spec.description or spec.label]
    where = spec.group if spec.criterion == "none" else f"{spec.group}, BANT {spec.criterion}"
    parts.append(f"({where}).")
    if spec.kind == "ordinal":
        parts.append("One of the listed answers, worst to best.")
    elif spec.kind == "categorical" and known_levels:
        shown = ", ".join(known_levels[:LEVELS_SHOWN])
        more = ", ..." if len(known_levels) > LEVELS_SHOWN else ""
        parts.append(f"Known values: {shown}{more}; other values are scored as missing.")
    elif spec.kind == "boolean":
        parts.append("true or false.")
    if spec.monotone == 1:
        parts.append("More never lowers the score.")
    elif spec.monotone == -1:
        parts.append("More never raises the score.")
    parts.append("Omit or send null when unknown (CRM placeholders such as 'Select' count too).")
    return " ".join(parts)


def _placeholders_are_missing(
    missing: frozenset[str], unanswered: frozenset[str] = frozenset(), text: bool = False
) -> BeforeValidator:
    """CRM exports write "Select", "N/A" or "--None--" for an unanswered field: missing; in a
    ``text`` field of a schema with ``unanswered`` words, a form default is "(not answered)"
    (the rule of :func:`leadml.data.values.answer_or_blank`, as a file's cells are read)."""
    keys = placeholder_keys(missing, unanswered)
    skipped = unanswered_keys(unanswered) if text else frozenset()

    def to_none(value: Any) -> Any:
        if isinstance(value, str):
            read = answer_or_blank(value, keys, skipped)
            if read is None or read == NOT_ANSWERED:
                return read
        return value

    return BeforeValidator(to_none)


def _feature_type(
    spec: FeatureSpec,
    missing: frozenset[str],
    floor: float | None,
    unanswered: frozenset[str] = frozenset(),
) -> Any:
    blank = _placeholders_are_missing(missing, unanswered, spec.kind in ("ordinal", "categorical"))
    if spec.kind == "numeric":
        return Annotated[Number | None, _number(floor), blank, _number_schema(floor)]
    if spec.kind == "boolean":
        base: Any = bool
        flag = BeforeValidator(_flag)
        return Annotated[base | None, flag, blank]
    if spec.kind == "ordinal":
        levels = list(spec.levels or ())
        shown = WithJsonSchema(
            {"anyOf": [{"enum": levels}, {"type": "null"}], "title": spec.label},
        )
        return Annotated[str | None, _answer(levels), blank, shown]
    return Annotated[Text | None, blank]


def _attribute(i: int, column: str) -> str:
    """A safe Python attribute for a column; the column name itself is the JSON alias."""
    plain = column.isidentifier() and not keyword.iskeyword(column)
    if plain and not column.startswith(("model_", "_")) and column not in dir(BaseModel):
        return column
    return f"field_{i}"


def lead_request_model(
    schema: LeadSchema,
    levels: dict[str, list[str]] | None = None,
    never_negative: Collection[str] = (),
) -> type[BaseModel]:
    """The ``Lead`` body model: the schema's features, its id, and its PII, audit, opt-out
    and time columns.

    PII, audit and time columns are accepted (CRMs send whole records) but never used, stored
    or logged; their values are declared as free JSON so they can never fail validation and be
    echoed in an error message. An audit column (age, marital status) is personal data by
    another name: it is read only by the training's fairness audit and ``leadml audit``.
    """
    levels = levels or {}
    missing, unanswered = frozenset(schema.missing_values), frozenset(schema.unanswered)
    fields: dict[str, Any] = {}
    columns: list[str] = []

    def add(column: str, annotation: Any, description: str, **extra: Any) -> None:
        fields[_attribute(len(columns), column)] = (
            annotation,
            Field(default=None, alias=column, description=description, **extra),
        )
        columns.append(column)

    if schema.id:
        add(
            schema.id,
            Text | None,
            "Lead identifier from the CRM (string or integer); keys the score history.",
        )
    for spec in schema.features:
        if spec.kind in DATE_KINDS:
            # Weekday, month and age are computed from the raw date the CRM sends.
            if spec.column not in columns:
                order = (
                    "ISO 8601, or day first as in the training data: 05/11/2026 is 5 November"
                    if schema.day_first
                    else "ISO 8601"
                )
                add(spec.column, Text | None, f"A date ({order}); features are derived from it.")
            continue
        extra = {"title": spec.label}
        if spec.kind == "categorical" and levels.get(spec.name):
            extra["examples"] = levels[spec.name][:3]
        description = _describe(spec, levels.get(spec.name))
        floor = 0.0 if spec.name in never_negative else None
        add(spec.name, _feature_type(spec, missing, floor, unanswered), description, **extra)
    for column in schema.pii:
        add(column, JsonValue, "Personal data: accepted, never used, stored or logged.")
    for column in schema.audit:
        if column not in columns:
            add(column, JsonValue, "Fairness audit column: accepted, never used, stored or logged.")
    if schema.opt_out and schema.opt_out not in columns:
        values = ", ".join(schema.opt_out_values)
        add(
            schema.opt_out,
            StrictBool | Text | None,
            f"The lead objected to profiling (GDPR Art. 21) when true or one of: {values}. "
            "Such a lead is answered scored: false, never scored or stored; never a feature.",
        )
    if schema.time and schema.time not in columns:
        add(schema.time, JsonValue, "Creation time: date-derived ages are measured from it.")
    return create_model(  # type: ignore[call-overload]
        "Lead",
        __config__=ConfigDict(
            extra="forbid",
            title="Lead",
            json_schema_extra={"description": f"One lead as the '{schema.name}' schema says."},
        ),
        **fields,
    )


def score_request_model(lead: type[BaseModel], max_leads: int) -> type[BaseModel]:
    """``{"leads": [...]}`` with a count check that runs before any lead is validated."""

    def check_count(cls: type, value: Any) -> Any:
        if isinstance(value, list):
            if not value:
                raise PydanticCustomError("too_few_leads", "send at least one lead")
            if len(value) > max_leads:
                raise PydanticCustomError(
                    "too_many_leads",
                    "{count} leads in one request; at most {limit} are accepted per request: "
                    "split the batch",
                    {"count": len(value), "limit": max_leads},
                )
        return value

    return create_model(  # type: ignore[call-overload]
        "ScoreRequest",
        __config__=ConfigDict(extra="forbid"),
        __validators__={"check_count": field_validator("leads", mode="before")(check_count)},
        leads=(
            list[lead],  # type: ignore[valid-type]
            Field(
                min_length=1,
                max_length=max_leads,
                description=f"1 to {max_leads} leads, scored in one call.",
            ),
        ),
    )
