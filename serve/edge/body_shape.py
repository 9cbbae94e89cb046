"""Unknown fields counted before pydantic validates a body, so no body costs more than its size.

pydantic reports each unknown field of a model that forbids extras as an error of its own: one
lead of 150,000 unknown fields (2 MB) made 150,000 errors, held the event loop for 4.5 s and came
back as a 16 MB 422. Counting them first costs a set comparison per object (a few ms for 150,000
keys, in the worker thread that reads big bodies: :mod:`serve.edge.body`). Past
:data:`MAX_UNKNOWN` the body is refused with the bounded summary of
:class:`serve.edge.errors.UnknownFields` and pydantic never sees it; fewer go on to pydantic,
which reports them together with the body's other problems.

The :class:`Shape` of a body is read once per route from its pydantic model: the names each
object accepts and which fields hold nested models (``leads`` holds ``Lead`` objects).
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from typing import Any

from annotated_types import MaxLen
from pydantic import AliasChoices, AliasPath, BaseModel

from serve.edge.errors import UnknownFields, field_path

#: Unknown fields (counted in every object they are sent in) that pydantic still reports with
#: the body's other problems; past this a mapping is wrong wholesale, and the count is the news.
MAX_UNKNOWN = 100
#: Nested models are followed this deep (the request models nest two levels).
MAX_DEPTH = 4


@dataclass(frozen=True)
class Child:
    """A field holding a model (``many``: a list of them, of at most ``max_items``)."""

    keys: tuple[str, ...]
    shape: Shape
    many: bool
    max_items: int | None


@dataclass(frozen=True)
class Shape:
    """The names an object may carry (None: any) and its fields that hold models."""

    allowed: frozenset[str] | None
    children: tuple[Child, ...]


def _strip(annotation: Any) -> Any:
    """``Annotated[X, ...]`` → X, and ``X | None`` → X (the only unions a body model uses)."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return _strip(members[0])
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    annotation = _strip(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _names(name: str, field: Any, by_name: bool) -> tuple[str, ...]:
    """Every key that fills this field: its alias, its validation aliases, its own name."""
    names = [field.alias or name]
    choices = field.validation_alias
    if isinstance(choices, str):
        names.append(choices)
    elif isinstance(choices, AliasChoices):
        for choice in choices.choices:
            if isinstance(choice, str):
                names.append(choice)
            elif isinstance(choice, AliasPath) and isinstance(choice.path[0], str):
                names.append(choice.path[0])
    if by_name or (field.alias is None and choices is None):
        names.append(name)
    return tuple(dict.fromkeys(names))


def shape_of(annotation: Any, depth: int = 0) -> Shape | None:
    """The shape of a body annotated ``annotation`` (None: not a model, nothing to count)."""
    model = _model(annotation)
    if model is None or depth > MAX_DEPTH:
        return None
    config = model.model_config
    by_name = bool(config.get("populate_by_name") or config.get("validate_by_name"))
    allowed: set[str] = set()
    children = []
    for name, field in model.model_fields.items():
        keys = _names(name, field, by_name)
        allowed.update(keys)
        inner = _strip(field.annotation)
        many = typing.get_origin(inner) is list
        child = shape_of(typing.get_args(inner)[0] if many else inner, depth + 1)
        if child is not None:
            limits = [m.max_length for m in field.metadata if isinstance(m, MaxLen)]
            children.append(Child(keys, child, many, min(limits) if limits else None))
    forbids = config.get("extra") == "forbid"
    return Shape(frozenset(allowed) if forbids else None, tuple(children))


def count_unknown(data: Any, shape: Shape, found: UnknownFields, loc: tuple = ()) -> None:
    """Add every unknown key of ``data`` (and of the models nested in it) to ``found``.

    A list longer than its field allows is not walked: pydantic refuses it with one error.
    """
    if not isinstance(data, dict):
        return
    allowed = shape.allowed
    if allowed is not None and not data.keys() <= allowed:
        found.add_all([k for k in data if k not in allowed], field_path(("body", *loc)))
    for child in shape.children:
        for key in child.keys:
            value = data.get(key)
            if value is None:
                continue
            if not child.many:
                count_unknown(value, child.shape, found, (*loc, key))
            elif isinstance(value, list) and len(value) <= (child.max_items or len(value)):
                for i, item in enumerate(value):
                    count_unknown(item, child.shape, found, (*loc, key, i))
