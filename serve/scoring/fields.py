"""The validated leads as the scoring work reads them, and the refusal of leads that say too
little.

A lead scored from (almost) nothing gets the average grade, which a CRM would show as a
judgement; so a lead giving fewer than the configured share of the model's fields is a 422
that names it (``--allow-sparse`` turns the check off).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from leadml.features.inputs import input_fields, lead_missing_fields, needed_fields, sparse_message
from serve.edge.errors import BodyRejected
from serve.model.holder import LoadedModel

#: Leads named one by one in the 422 for many sparse leads; the rest are counted.
NAMED_LEADS = 10


def lead_dicts(
    leads: list[BaseModel], id_column: str | None
) -> tuple[list[dict[str, Any]], list[str | None]]:
    """The validated leads as dicts under their column names, and their ids."""
    dicts = [lead.model_dump(by_alias=True) for lead in leads]
    ids = [d.get(id_column) for d in dicts] if id_column else [None] * len(dicts)
    # A blank id is no id: history keyed on "" would give unrelated leads one timeline.
    return dicts, [i if i is not None and i.strip() else None for i in ids]


def sent_fields(leads: list[BaseModel]) -> list[set[str]]:
    """The fields each lead was sent with (a field not sent is warned about, one sent as null
    is a deliberate "unknown")."""
    out = []
    for lead in leads:
        fields = type(lead).model_fields
        out.append({fields[name].alias or name for name in lead.model_fields_set})
    return out


def check_fields(
    loaded: LoadedModel, dicts: list[dict[str, Any]], min_share: float | None, where: str
) -> None:
    """422 naming every lead that gives fewer than ``min_share`` of the model's fields (None:
    sparse leads allowed); ``where`` is the body's list of leads ("" for a single lead)."""
    if min_share is None:
        return
    fields = input_fields(loaded.model)
    need = needed_fields(len(fields), min_share)
    errors = []
    for i, lead in enumerate(dicts):
        missing = lead_missing_fields(fields, lead)
        if len(fields) - len(missing) < need:
            place = f"{where}[{i}]" if where else "body"
            message = sparse_message(missing, len(fields), min_share)
            errors.append({"field": place, "message": message, "type": "too_few_fields"})
    if not errors:
        return
    hint = "send more of each lead's fields, or start the server with --allow-sparse"
    if len(errors) == 1:
        detail = f"{errors[0]['field']}: {errors[0]['message']}; {hint}"
    else:
        shown = ", ".join(e["field"] for e in errors[:NAMED_LEADS])
        more = f" … and {len(errors) - NAMED_LEADS} more" if len(errors) > NAMED_LEADS else ""
        detail = (
            f"{len(errors)} leads give fewer than {need} of the model's {len(fields)} fields: "
            f"{shown}{more}; {hint}"
        )
    raise BodyRejected(422, detail, errors)
