"""What each column of a raw CRM export is: an identifier, a date, personal data, the company's
own staff, or a feature of some kind, group and criterion (placed by
:mod:`leadml.data.column_meaning`), each decided the way an analyst would and said why.

Columns are judged by their name *and* their content (a column called "contact" full of
e-mail addresses is still e-mail addresses), in English, Portuguese, Spanish and Polish. A
category that could only memorise its training rows (many identifier-shaped values such as the
hex hashes of a ``landing_page_id``, or most rows in values seen once or twice) is left out,
said why. The rules only describe single columns; :mod:`leadml.data.suggest` assembles them
into a schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from leadml.data.column_meaning import place_column, staff_evidence, staff_note
from leadml.data.identifiers import id_like_name, id_shaped_share
from leadml.data.parse import FALSE_WORDS, TRUE_WORDS, parse_dates
from leadml.schema.lexicon import (
    COMPANY_WORDS,
    FIRST_NAMES,
    NOT_PERSONAL,
    PII_QUALIFIERS,
    PII_WORDS,
    PLACEHOLDERS,
    SURNAMES,
    fold,
    is_form_default,
    name_words,
)

#: Values looked at per column for content rules (e-mails, phones, names, dates).
SAMPLE_VALUES = 2000
#: A categorical with more levels than this is "high-cardinality": rare levels get pooled.
HIGH_CARDINALITY = 50
#: Share of distinct values (per filled row) from which text is an identifier or free text.
NEAR_UNIQUE = 0.5
#: Share of sampled values that must match a content rule (e-mail, phone, date).
CONTENT_SHARE = 0.8
#: Levels seen fewer times than this are pooled as missing by the encoder: "rare".
RARE_COUNT = 3
#: Share of rows in rare levels from which a categorical only memorises.
MOSTLY_RARE = 0.5

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+?[\d\s().\-/]{7,24}$")
DATE = re.compile(
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_NUMBER = r"(\d+(?:[.,]\d+)?)\s*([km]?)"
RANGE = re.compile(rf"^\D*?{_NUMBER}\s*(?:[-–—]|to|a|até|do)\s*\D*?{_NUMBER}\D*$", re.I)
BELOW = re.compile(
    rf"^\s*(?:<|≤|<=|under|below|less than|up to|até|menos de|hasta|do)\s*\D*?{_NUMBER}", re.I
)
ABOVE = re.compile(
    rf"^\s*(?:>|≥|>=|over|above|more than|mais de|más de|powyżej)\s*\D*?{_NUMBER}", re.I
)
PLUS = re.compile(rf"^\D*?{_NUMBER}\s*\+")
#: Ordered answer scales, worst (lowest) first, compared after folding.
SCALES = [
    ["very low", "low", "medium", "high", "very high"],
    ["low", "medium", "high"],
    ["baixo", "medio", "alto"],
    ["baixa", "media", "alta"],
    ["bajo", "medio", "alto"],
    ["baja", "media", "alta"],
    ["niski", "sredni", "wysoki"],
    ["niska", "srednia", "wysoka"],
    ["cold", "warm", "hot"],
    ["frio", "morno", "quente"],
    ["frio", "tibio", "caliente"],
    ["small", "medium", "large"],
    ["pequeno", "medio", "grande"],
    ["pequena", "mediana", "grande"],
    ["maly", "sredni", "duzy"],
]


@dataclass
class ColumnReport:
    """What inference decided about one column, and why (shown to the user, logged nowhere)."""

    column: str
    role: str  # target, id, time, pii, staff, feature, date, excluded
    kind: str | None = None
    group: str = "other"
    criterion: str = "none"
    evidence: str = ""  # why the group and criterion: "name words 'matters', 'choosing'"
    levels: list[str] | None = None
    notes: list[str] = field(default_factory=list)


# -- identifiers -------------------------------------------------------------------------------
def only_memorises(column: str, present: pd.Series, distinct: int, sample: pd.Series) -> str | None:
    """Why a categorical column can only memorise its training rows, or None.

    With more than :data:`HIGH_CARDINALITY` levels, when most rows sit in levels seen fewer
    than :data:`RARE_COUNT` times: the encoder pools those as missing anyway, and what is left
    is learnt lead by lead. An identifier's name or identifier-shaped values (hex hashes,
    UUIDs) are said in the reason, but do not decide alone: a landing page id shared by many
    leads carries real signal (it is kept as a feature and never worded as a reason, see
    ``leadml.explain.reasons.can_be_reason``). Near-unique text is caught before (``_kind``).
    """
    if distinct <= HIGH_CARDINALITY:
        return None
    counts = present.value_counts()
    rare = float(counts[counts < RARE_COUNT].sum() / len(present))
    if rare <= MOSTLY_RARE:
        return None
    shaped = id_shaped_share(pd.unique(sample.astype(str)))
    if shaped > 0.5:
        what = f"values look like identifiers ({shaped:.0%} of them hashes, UUIDs or codes)"
    elif id_like_name(column):
        what = "an identifier by its name"
    else:
        what = "a category"
    return (
        f"{what} with {distinct} distinct values, {rare:.0%} of rows in values seen fewer "
        f"than {RARE_COUNT} times: it would only memorise"
    )


# -- the rules, one column at a time -------------------------------------------------------------
def as_text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def _placeholders(text: pd.Series) -> list[str]:
    """The exact spellings in a column that are placeholders ("Select", "N/A", "-", ""), form
    defaults ("Please choose", "--None--") included."""
    found = [
        str(v)
        for v in text.dropna().unique()
        if fold(str(v)) in PLACEHOLDERS or is_form_default(str(v))
    ]
    return sorted(found)


def pii_by_name(column: str) -> bool:
    """A name made of personal-data words and qualifiers only: ``email``, ``first_name``,
    ``telefone_celular``; not ``email_opens`` nor ``company_name``."""
    tokens = set(name_words(column))
    return (
        bool(tokens & PII_WORDS)
        and tokens <= PII_WORDS | PII_QUALIFIERS
        and not (tokens & NOT_PERSONAL)
    )


def _share(values: pd.Series, test) -> float:
    return float(np.mean([bool(test(v)) for v in values])) if len(values) else 0.0


def _is_phone(value: str) -> bool:
    # A leading apostrophe is the formula-injection escape CSV writers (leadml's too) put
    # before "+44 …" so spreadsheets do not read it as a formula.
    value = value.removeprefix("'")
    if not PHONE.match(value) or DATE.match(value):
        return False
    digits = sum(c.isdigit() for c in value)
    formatted = value.startswith(("+", "0", "(")) or any(c in value for c in " -.()/")
    return 7 <= digits <= 15 and formatted


def _looks_like_person(value: str) -> tuple[bool, bool]:
    """(Title Case words like a person's name, and a known given name or surname among them)."""
    parts = value.split()
    if not 2 <= len(parts) <= 4:
        return False, False
    letters = [p for p in parts if p.lower() not in {"da", "de", "do", "dos", "das", "del", "van"}]
    shaped = all(
        p[:1].isupper() and p.replace("-", "").replace("'", "").replace("’", "").isalpha()
        for p in letters
    )
    folded = [fold(p) for p in letters]
    if any(w in COMPANY_WORDS for w in folded):
        return False, False
    known = folded[0] in FIRST_NAMES or folded[-1] in SURNAMES
    return shaped, known


def pii_by_content(sample: pd.Series) -> str | None:
    """Why the sampled values are personal data (e-mails, phones, people's names), or None."""
    values = sample.astype(str)
    share = _share(values, EMAIL.match)
    if share >= 0.5:
        return f"values look like e-mail addresses ({share:.0%})"
    share = _share(values, _is_phone)
    if share >= CONTENT_SHARE:
        return f"values look like phone numbers ({share:.0%})"
    people = [_looks_like_person(v) for v in values]
    shaped = float(np.mean([s for s, _ in people])) if people else 0.0
    known = float(np.mean([k for _, k in people])) if people else 0.0
    # Names repeat (one contact, several leads) but far less than categories do.
    if shaped >= CONTENT_SHARE and known >= 0.3 and values.nunique() >= 0.1 * len(values):
        return f"values look like people's names ({known:.0%} with a common given name or surname)"
    return None


def _is_date_column(series: pd.Series, sample: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if pd.api.types.is_numeric_dtype(series) or sample.empty:
        return False
    shaped = _share(sample.astype(str), DATE.match)
    return shaped >= 0.95 and parse_dates(sample).notna().mean() >= 0.95


def _range_key(value: str) -> float | None:
    """A sort key for an answer such as "< 10k", "10k–50k", "> 250k", "500+", "3-6 months"."""

    def number(digits: str, suffix: str) -> float:
        scale = {"k": 1e3, "m": 1e6}.get(suffix.lower(), 1.0)
        return float(digits.replace(",", ".")) * scale

    text = value.strip()
    for pattern, nudge in ((BELOW, -0.5), (ABOVE, 0.5), (PLUS, 0.5)):
        match = pattern.match(text)
        if match:
            return number(match.group(1), match.group(2)) + nudge
    match = RANGE.match(text)
    if match:
        return number(match.group(1), match.group(2))
    return None


def ordinal_levels(levels: list[str]) -> tuple[list[str], str] | None:
    """Levels in order when they form a known scale or numeric ranges, with the reason."""
    folded = {fold(v): v for v in levels}
    fitting = [scale for scale in SCALES if set(folded) <= set(scale) and len(folded) >= 2]
    if fitting:
        scale = min(fitting, key=len)
        return [folded[s] for s in scale if s in folded], f"a {'/'.join(scale)} scale"
    keys = {v: _range_key(v) for v in levels}
    parsed = all(k is not None for k in keys.values())
    if len(levels) >= 3 and parsed and len(set(keys.values())) == len(keys):
        return sorted(levels, key=lambda v: keys[v]), "numeric ranges"
    return None


def analyse_column(
    column: str, series: pd.Series, rng: np.random.Generator
) -> tuple[ColumnReport, list]:
    """Everything but the choice of id and time column; returns the report and placeholders."""
    report = ColumnReport(column, role="feature")
    numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
    text = None if numeric or pd.api.types.is_bool_dtype(series) else as_text(series)
    found: list[str] = []
    if text is not None and not pd.api.types.is_datetime64_any_dtype(series):
        found = _placeholders(text)
        if found:
            text = text.mask(text.isin(found))
            # A form's default ("Select") is "not answered" in a category or ordinal field
            # (the schema's ``unanswered``), apart from blank; the rest mean unknown.
            skipped = [v for v in found if is_form_default(v)]
            for words, note in (
                ([v for v in found if v not in skipped], "placeholders read as missing: "),
                (skipped, "form defaults read as not answered (missing in numbers): "),
            ):
                if words:
                    report.notes.append(note + ", ".join(repr(v) for v in words))
    clean = text if text is not None else series
    present = clean.dropna()
    if present.empty:
        report.role = "excluded"
        report.notes.append("no values")
        return report, found
    if len(present) > SAMPLE_VALUES:
        sample = present.iloc[np.sort(rng.choice(len(present), SAMPLE_VALUES, replace=False))]
    else:
        sample = present
    distinct = int(present.nunique())
    if pii_by_name(column):
        report.role = "pii"
        report.notes.append("its name says personal data")
        return report, found
    if _is_date_column(series, sample):
        report.role, report.kind = "date", "date"
        return report, found
    shown = [str(v) for v in present.unique()[:200]] if text is not None else None
    if why := staff_evidence(column, shown):
        # Before the content rules: a rep's name is who sold, whether or not it reads as a name.
        report.role = "staff"
        report.notes.append(staff_note(column, why))
        return report, found
    if text is not None and (reason := pii_by_content(sample)):
        report.role = "pii"
        report.notes.append(reason)
        return report, found
    if distinct == 1:
        fill = len(present) / len(series)
        if 0.05 <= fill <= 0.95:
            report.kind = "categorical"
            report.notes.append("one value: only whether it is filled carries signal")
        else:
            report.role = "excluded"
            report.notes.append("a single value: carries no signal")
            return report, found

    unique_ratio = distinct / len(present)
    named_id = id_like_name(column)
    integer = numeric and pd.api.types.is_integer_dtype(series)
    if len(present) >= 20 and (
        (named_id and unique_ratio >= 0.9)
        or (text is not None and unique_ratio >= 0.98)
        or (integer and unique_ratio == 1.0 and present.is_monotonic_increasing)
    ):
        report.role = "id"
        report.notes.append(f"an identifier: {unique_ratio:.0%} of values unique")
        return report, found

    if report.kind is None:
        report.kind = _kind(report, series, clean, present, distinct, found)
    if report.role == "excluded":
        return report, found
    if report.kind == "categorical" and (why := only_memorises(column, present, distinct, sample)):
        report.role = "excluded"
        report.notes = [n for n in report.notes if not n.startswith("high cardinality")]
        report.notes.append(why)
        return report, found
    levels = None
    if report.kind in ("categorical", "ordinal") and distinct <= 200:
        levels = [str(v) for v in present.unique()]
    placed = place_column(column, levels, flag=report.kind == "boolean")
    report.group, report.criterion = placed.group, placed.criterion
    report.evidence = placed.evidence
    if report.kind == "categorical" and named_id:
        report.notes.append(
            f"a reference to another table ({distinct} values), kept as a category but never "
            "worded as a reason"
        )
    return report, found


def _kind(
    report: ColumnReport,
    series: pd.Series,
    clean: pd.Series,
    present: pd.Series,
    distinct: int,
    found: list[str],
) -> str:
    """numeric, boolean, ordinal or categorical (may exclude near-unique free text)."""
    if pd.api.types.is_bool_dtype(series):
        return "boolean"
    if pd.api.types.is_numeric_dtype(series):
        return "boolean" if set(present.unique()) <= {0, 1} and distinct == 2 else "numeric"
    lowered = {str(v).lower() for v in present.unique()}
    if distinct == 2 and lowered <= TRUE_WORDS | FALSE_WORDS and lowered & TRUE_WORDS:
        return "boolean"
    numbers = pd.to_numeric(present, errors="coerce")
    if numbers.notna().all():
        return "numeric"
    odd = present[numbers.isna()]
    if numbers.notna().mean() >= 0.95 and odd.nunique() <= 3:
        # A few stray words in a numeric column ("n.d.") are placeholders too.
        extra = sorted(str(v) for v in odd.unique())
        found += extra
        report.notes.append("placeholders read as missing: " + ", ".join(map(repr, extra)))
        return "numeric"
    if distinct <= 20:
        ordered = ordinal_levels([str(v) for v in present.unique()])
        if ordered:
            report.notes.append(f"ordinal: {ordered[1]}")
            report.levels = ordered[0]
            return "ordinal"
    if distinct > HIGH_CARDINALITY:
        if distinct / len(present) >= NEAR_UNIQUE:
            report.role = "excluded"
            report.notes.append(
                f"near-unique text ({distinct} distinct values): free text or an identifier"
            )
            return "categorical"
        report.notes.append(
            f"high cardinality ({distinct} levels): levels seen fewer than 3 times are pooled "
            "as missing, at most 256 kept"
        )
    return "categorical"
