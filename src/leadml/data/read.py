"""Read a raw CRM export, whatever shape it comes in.

Exports arrive as CSV written by Excel in a European locale (``;`` and Latin-1 or cp1250), as
tab-separated text, Parquet, .xlsx, or straight from the CRM's database. Users should not have
to say which: the delimiter and encoding are detected, and a database is named by its
SQLAlchemy URL (``URL#table`` or ``URL#SELECT ...``). Every failure is one line that names the
source and the problem; a database password never appears in it.
"""

from __future__ import annotations

import csv
import gzip
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from leadml.errors import DataError
from leadml.schema.spec import DEFAULT_MISSING

#: Candidate CSV delimiters, in order of preference when two fit equally well.
DELIMITERS = ",;\t|"
#: Bytes read to detect the encoding and delimiter.
SAMPLE_BYTES = 1 << 16
#: Code pages tried after UTF-8, in order of preference: what Excel writes in Western and in
#: Central Europe, then Latin-1, which decodes anything.
FALLBACK_ENCODINGS = ("cp1252", "cp1250", "latin_1")
_SQL_URL = re.compile(r"^[a-z][a-z0-9+]*://", re.IGNORECASE)
_QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")


def is_sql_url(source: str | Path) -> bool:
    """True for a SQLAlchemy URL such as ``postgresql+psycopg://u@host/db#leads``."""
    return isinstance(source, str) and bool(_SQL_URL.match(source))


def describe_source(source: str | Path) -> str:
    """How to name a source in messages, logs and MLflow: a URL without its password."""
    if not is_sql_url(source):
        return str(source)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    url, _, what = str(source).partition("#")
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        shown = url.split("://", 1)[0] + "://…"
    return f"{shown}#{what}" if what else shown


# -- files ---------------------------------------------------------------------------------------
def read_table(source: str | Path) -> pd.DataFrame:
    """A DataFrame from a CSV/TSV, Parquet or .xlsx file, or from a SQLAlchemy URL."""
    if is_sql_url(source):
        return read_sql(str(source))
    path = Path(source)
    sheet: str | None = None
    if not path.exists() and "#" in path.name:  # book.xlsx#Sheet2
        base, _, sheet = str(source).rpartition("#")
        path = Path(base)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a folder; give a CSV, Parquet or Excel file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".xlsx", ".xlsm"):
            return read_excel(path, sheet)
        if suffix == ".xls":
            raise DataError(
                f"{path}: old .xls workbooks are not supported; save it as .xlsx or CSV"
            )
        return read_csv(path)
    except DataError:
        raise
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError, KeyError) as exc:
        raise DataError(f"cannot read {path}: {_first_line(exc)}") from None


def read_excel(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The first sheet of a workbook (or the one named after ``#``), through openpyxl."""
    import zipfile

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DataError(f"{path} is not a readable .xlsx workbook ({_first_line(exc)})") from None
    with book:
        if sheet is not None and sheet not in book.sheet_names:
            raise DataError(
                f"{path} has no sheet '{sheet}'; sheets are: {', '.join(book.sheet_names)}"
            )
        return book.parse(sheet if sheet is not None else 0)


def _sample(path: Path) -> bytes:
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    with opener(path, "rb") as handle:
        return handle.read(SAMPLE_BYTES)


def _odd_letters(text: str) -> int:
    """Non-ASCII symbols wedged between letters: "Å³ódŸ" is Polish read with the wrong page."""
    return sum(
        1
        for a, b, c in zip(text, text[1:], text[2:], strict=False)
        if ord(b) > 127 and not b.isalpha() and a.isalpha() and c.isalpha()
    )


def detect_encoding(raw: bytes) -> str:
    """UTF-8 when the bytes are valid UTF-8 (a BOM is dropped), else a European code page.

    A cut in the middle of a multi-byte character at the end of the sample is not an error.
    Among code pages, the first that puts no stray symbol inside a word wins: Western text
    reads cleanly in cp1252, while Polish read as cp1252 shows "³" for "ł" and "¹" for "ą".
    (Statistical detectors such as charset-normalizer pick cp1250 for short Portuguese
    samples, turning "São" into "Săo": a fixed preference order is more predictable.)
    """
    if raw.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        raw.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    scored = []
    for rank, encoding in enumerate(FALLBACK_ENCODINGS):
        try:
            scored.append((_odd_letters(raw.decode(encoding)), rank, encoding))
        except UnicodeDecodeError:
            continue
    return min(scored)[2]


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab and | that splits the sample's lines most consistently.

    Each candidate is parsed with the csv module (so quoted fields count right); the winner is
    the one whose lines most often have the same number of fields, more than one, with more
    fields breaking ties. A file with a single column falls back to a comma.
    """
    lines = sample.splitlines()
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a sample may be cut short
    lines = [line for line in lines[:200] if line.strip()]
    best, best_key = ",", (0.0, 0)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not counts:
            continue
        fields, seen = Counter(counts).most_common(1)[0]
        if fields < 2:
            continue
        key = (seen / len(counts), fields)
        if key > best_key:
            best, best_key = delimiter, key
    return best


def read_csv(path: Path) -> pd.DataFrame:
    """Delimited text with its encoding and delimiter detected; decimal commas understood."""
    raw = _sample(path)
    if not raw.strip():
        raise DataError(f"{path} is empty")
    if b"\x00" in raw:
        raise DataError(f"{path} is not a text CSV file (it contains binary data)")
    encoding = detect_encoding(raw)
    sep = sniff_delimiter(raw.decode(encoding, errors="replace"))
    try:
        frame = pd.read_csv(path, sep=sep, encoding=encoding, low_memory=False)
    except UnicodeDecodeError:
        # Valid UTF-8 in the sample, not further on: Excel's "CSV" is usually cp1252.
        encoding = "cp1252"
        frame = pd.read_csv(path, sep=sep, encoding=encoding, encoding_errors="replace")
    _check_not_cut(path, sep, encoding, len(frame.columns))
    if sep != ",":
        frame = _decimal_commas(frame)
    return frame


def _check_not_cut(path: Path, sep: str, encoding: str, n_columns: int) -> None:
    """Stop on a file whose bytes end inside a row: what a copy or download cut short leaves.

    pandas would quietly fill the missing fields of that last row with NaN; training on a file
    that lost its tail without saying so is worse than stopping.
    """
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 65536))
        tail = handle.read()
    if not tail or tail.endswith((b"\n", b"\r")):
        return
    last = tail.decode(encoding, errors="replace").splitlines()[-1]
    fields = next(csv.reader([last], delimiter=sep), [])
    if 0 < len(fields) < n_columns:
        line = sum(1 for _ in path.open("rb"))
        raise DataError(
            f"{path} ends in the middle of a row (line {line} has {len(fields)} of "
            f"{n_columns} fields): the file looks cut off; copy or export it again"
        )


def _decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Numbers written 1.234,5 (the usual in ;-separated European exports) become floats."""
    return parse_decimal_commas(frame, decimal_comma_columns(frame))


def _given(col: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column stripped, and which cells hold something (not blank, not a placeholder)."""
    text = col.astype("string").str.strip()
    blank = text.isna() | text.isin(DEFAULT_MISSING)
    return text, ~blank.to_numpy(dtype=bool, na_value=True)


def decimal_comma_columns(frame: pd.DataFrame) -> list[str]:
    """Text columns whose every given value is a number written with a decimal comma."""
    found = []
    for name in frame.columns:
        col = frame[name]
        if not (pd.api.types.is_string_dtype(col) or col.dtype == object):
            continue
        text, given = _given(col)
        text = text[given]
        if text.empty or not text.str.contains(",", regex=False).any():
            continue
        if text.str.fullmatch(_DECIMAL_COMMA.pattern).all():
            found.append(str(name))
    return found


def parse_decimal_commas(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``columns`` read as decimal-comma numbers; placeholders ("N/A", "-", ...) are missing.

    The columns are chosen once (on a whole file, or on the first part of a partitioned table)
    and applied to every part, so that all parts agree; a part where such a column holds text
    that is no number stops with the column and an example, never as a silent gap.
    """
    parsed = {}
    for name in columns:
        text, given = _given(frame[name])
        ok = text.str.fullmatch(_DECIMAL_COMMA.pattern).to_numpy(dtype=bool, na_value=False)
        bad = given & ~ok
        if bad.any():
            raise DataError(
                f"column '{name}' holds numbers written with decimal commas (1.234,5) but also "
                f"{int(bad.sum())} values that are not numbers (e.g. {text[bad].iloc[0]!r})"
            )
        cleaned = text.where(ok).str.replace(".", "", regex=False).str.replace(",", ".")
        parsed[name] = pd.to_numeric(cleaned).to_numpy(dtype=float, na_value=np.nan)
    return frame.assign(**parsed) if parsed else frame


# -- databases -----------------------------------------------------------------------------------
def read_sql(source: str) -> pd.DataFrame:
    """A table or a query through SQLAlchemy: ``URL#table``, ``URL#SELECT ...`` or just ``URL``.

    With no table named, a database holding exactly one table is read; otherwise the error lists
    the tables to choose from.
    """
    from sqlalchemy import create_engine, inspect, text
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

    url, _, what = source.partition("#")
    what = what.strip()
    shown = describe_source(url)
    try:
        engine = create_engine(url)
    except NoSuchModuleError:
        raise DataError(f"unknown database type in {shown}") from None
    except ModuleNotFoundError as exc:
        raise DataError(f"the database driver for {shown} is not installed ({exc.name})") from None
    except (ArgumentError, ValueError) as exc:
        raise DataError(f"not a valid database URL: {shown} ({_first_line(exc)})") from None
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            if not what:
                if len(tables) != 1:
                    listed = ", ".join(tables) if tables else "none"
                    raise DataError(
                        f"{shown} holds {len(tables)} tables ({listed}); name one as URL#table "
                        "or give a query as URL#SELECT ..."
                    )
                what = tables[0]
            if _QUERY.match(what):
                return pd.read_sql_query(text(what), conn)
            if what not in tables:
                raise DataError(
                    f"no table '{what}' in {shown}; tables are: {', '.join(tables) or 'none'}"
                )
            return pd.read_sql_table(what, conn)
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) else exc
        detail = _first_line(getattr(cause, "orig", None) or cause or exc)
        password = engine.url.password
        if password:
            detail = detail.replace(str(password), "***")
        raise DataError(f"cannot read from {shown}: {detail}") from None
    finally:
        engine.dispose()


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
