"""Does a column, or a value, read as an identifier? By its name (``landing_page_id``,
``idCliente``, ``order_ref``) and by its values' shape (UUIDs, hex hashes, long digit strings,
letter-and-digit codes).

An identifier says which lead, not how good a lead: as a feature it only memorises, and as a
reason no rep could argue with it. :mod:`leadml.data.column_roles` leaves such columns out of a
suggested schema, and :mod:`leadml.explain.reasons` never words them as reasons.
"""

from __future__ import annotations

import re

import numpy as np

from leadml.schema.lexicon import ID_WORDS, NUMBER_WORDS, name_words

#: Value shapes of identifiers: UUIDs, hex hashes (8+ characters, one a digit), 8+ digits.
UUID = re.compile(r"^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$", re.I)
HEX_HASH = re.compile(r"^(?=[a-f]*\d)[0-9a-f]{8,}$|^(?=[A-F]*\d)[0-9A-F]{8,}$")
DIGITS = re.compile(r"^\d{8,}$")
#: A code of letters and digits (separators allowed), e.g. "0015g00000XyZabAAB", "ORD-2024-0042".
CODE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_-]*$")
_RUNS = re.compile(r"\d+|[A-Za-z]+")
#: Name words that, last in a name, number things without being an identifier of one.
_NOT_ID_LAST = frozenset({"code", "no"})


def id_like_name(column: str) -> bool:
    """A name that reads as an identifier: ``landing_page_id``, ``campaign_key``, ``sdr_id``,
    ``idCliente``, ``order_ref``; not ``key_account``, ``country_code`` nor ``num_calls``."""
    tokens = name_words(column)
    if not tokens:
        return False
    inside = ID_WORDS - {"key"}  # "key account" is an important account, not a key
    return bool(set(tokens) & inside) or tokens[-1] in (ID_WORDS | NUMBER_WORDS) - _NOT_ID_LAST


def looks_like_id(value: object) -> bool:
    """A value shaped like an identifier rather than a word: a UUID, a hex hash of 8+
    characters, a string of 8+ digits, or a letter-and-digit code of 10+ characters in which
    digits dominate or alternate with letters (``a8387c01a0``, ``ORD-2024-000123``; not
    ``summer2024sale`` nor ``Q3-2024-campaign``)."""
    text = str(value).strip()
    if UUID.match(text) or HEX_HASH.match(text) or DIGITS.match(text):
        return True
    bare = text.replace("-", "").replace("_", "")
    if len(bare) < 10 or not CODE.match(text):
        return False
    digits = sum(c.isdigit() for c in bare)
    return digits / len(bare) >= 0.5 or len(_RUNS.findall(bare)) >= 4


def id_shaped_share(values) -> float:
    """Share of the (distinct) values that look like identifiers."""
    values = [v for v in values if str(v).strip()]
    return float(np.mean([looks_like_id(v) for v in values])) if values else 0.0
