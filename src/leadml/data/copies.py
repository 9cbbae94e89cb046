"""Copies of a flagged column: the leakage guard's last rule, so a leak cannot stay in disguise.

Exports often carry one fact twice: a sales score and its binned "index" (7–18 and
"01.High" / "02.Medium" / "03.Low"), an amount in two currencies, a status and its code. When
the guard leaves the score out, the index tells the model the same thing; so a column that is
a **function of a flagged column** is flagged with it, in three ways, each stated with its
measure:

* **it maps**: the column's value is fixed once the flagged column's is known (conditional
  entropy ≈ 0), judged only when the flagged column has few enough levels that this is not
  trivially true (a near-unique column "determines" every other);
* **binned**: ordered by a many-valued flagged number, the column changes value only a few
  times (each of its values covers one range of the number): a binned copy;
* **rescaled**: a number that ranks the leads as a flagged number does (|Spearman| ≥ 0.99).

Missing counts as a value: a copy that is blank exactly where the original is blank is still
a copy. The rule reads the encoded matrix (missing is NaN, categories are codes) and runs
after every other rule, repeatedly, so that a copy of a copy is found too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from leadml.schema.spec import FeatureSpec

#: "It maps" is judged when the flagged column has at most this many values ...
MAX_LEVELS = 100
#: ... and at least this many rows per value on average (else any column looks determined).
ROWS_PER_LEVEL = 20
#: A column is a function of another when this share of its entropy is left at most.
LEFT_ENTROPY = 0.02
#: "Binned" is judged for a column of at most this many values; its changes along the
#: flagged number may exceed its values by this share of the rows (a few clerical slips).
MAX_BINS = 20
RUN_SLACK = 0.002
#: A column whose rarer values cover fewer rows than this tells nothing either way.
MIN_MINORITY = 20
#: "Rescaled": ranks agreeing this well, on rows where missing agrees this often.
COPY_RHO = 0.99
SAME_MISSING = 0.99
NUMBER_KINDS = ("numeric", "age_days")


def _codes(column: np.ndarray) -> np.ndarray:
    """Dense codes 0..k-1 of a matrix column, missing (NaN) as a value of its own."""
    return pd.factorize(pd.Series(column), use_na_sentinel=False)[0].astype(np.int64)


def _entropy(codes: np.ndarray) -> float:
    counts = np.bincount(codes)
    p = counts[counts > 0] / len(codes)
    return float(-(p * np.log2(p)).sum())


def _informative(codes: np.ndarray) -> bool:
    """Two values or more, the rarer ones on enough rows to judge."""
    counts = np.bincount(codes)
    return len(counts) >= 2 and len(codes) - counts.max() >= MIN_MINORITY


def maps_to(copy: np.ndarray, original: np.ndarray) -> bool:
    """Is ``copy`` (codes) fixed once ``original`` (codes) is known, the original having few
    enough values for that to mean something?"""
    levels = int(original.max()) + 1
    if levels > MAX_LEVELS or len(original) < ROWS_PER_LEVEL * levels:
        return False
    if not _informative(copy):
        return False
    joint = np.unique(original * (int(copy.max()) + 1) + copy, return_inverse=True)[1]
    left = _entropy(joint) - _entropy(original)
    return left <= LEFT_ENTROPY * _entropy(copy)


def binned_from(copy: np.ndarray, number: np.ndarray) -> bool:
    """Ordered by ``number`` (missing last), does ``copy`` (codes) change value only about as
    often as it has values, each covering one range of the number?"""
    levels = int(copy.max()) + 1
    if levels > MAX_BINS or not _informative(copy):
        return False
    if len(np.unique(number[~np.isnan(number)])) <= MAX_LEVELS:
        # Few values: "it maps" judges that. Ordered by so coarse a number, ties sorted by the
        # copy would make any rare yes/no flag look binned.
        return False
    order = np.lexsort((copy, np.nan_to_num(number, nan=np.inf), np.isnan(number)))
    runs = 1 + int(np.count_nonzero(np.diff(copy[order])))
    return runs <= levels + RUN_SLACK * len(copy)


def rescaled_from(copy: np.ndarray, number: np.ndarray) -> float | None:
    """|Spearman| of two numbers when they rank the leads alike and are missing together."""
    missing_a, missing_b = np.isnan(copy), np.isnan(number)
    both = ~missing_a & ~missing_b
    if both.sum() < MIN_MINORITY or (missing_a == missing_b).mean() < SAME_MISSING:
        return None
    a, b = copy[both], number[both]
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    from scipy.stats import spearmanr

    rho = abs(float(spearmanr(a, b).statistic))
    return rho if rho >= COPY_RHO else None


def copy_evidence(
    copy: np.ndarray, copy_kind: str, original: np.ndarray, original_kind: str, name: str
) -> str | None:
    """Why the column ``copy`` is a copy of the flagged column ``name`` (``original``), or
    None. Both are columns of the encoded matrix."""
    copy_codes, original_codes = _codes(copy), _codes(original)
    if maps_to(copy_codes, original_codes):
        if maps_to(original_codes, copy_codes):
            how = "the same values renamed: one to one with this column's"
        else:
            how = "binned: each of its values maps to one of this column's"
        return f"a copy of flagged '{name}' ({how})"
    if original_kind not in NUMBER_KINDS:
        return None
    if binned_from(copy_codes, original):
        return f"a copy of flagged '{name}' (binned: each of its ranges is one of this column's)"
    rho = rescaled_from(copy, original) if copy_kind in NUMBER_KINDS else None
    return None if rho is None else f"a copy of flagged '{name}' (rescaled: Spearman {rho:.3f})"


def find_copies(
    matrix: np.ndarray, features: Sequence[FeatureSpec], flagged: Sequence[str]
) -> dict[str, str]:
    """Features (by name) that copy a flagged one, or a copy of one, with the evidence for
    each; ``matrix`` has one column per feature, in ``features``' order."""
    index = {spec.name: j for j, spec in enumerate(features)}
    found: dict[str, str] = {}
    queue = [name for name in flagged if name in index]
    while queue:
        original = features[index[queue.pop(0)]]
        for j, spec in enumerate(features):
            if spec.name in found or spec.name in flagged or spec.name == original.name:
                continue
            evidence = copy_evidence(
                matrix[:, j],
                spec.kind,
                matrix[:, index[original.name]],
                original.kind,
                original.column,
            )
            if evidence:
                found[spec.name] = evidence
                queue.append(spec.name)
    return found
