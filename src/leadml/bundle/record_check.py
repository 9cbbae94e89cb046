"""The training record in ``leadml.json`` (its ``meta``), checked before any request reads it.

Training writes, beside the model, what serving and monitoring read back on every request: the
version label every score is stored under, the 90 % interval's two cut-offs, the novelty
counts behind the *unfamiliar* flag, the label's counts and horizon, and the reference profile
drift is measured from. None of these stops LightGBM from predicting, so a bundle with a bad
one loads, passes a test lead and then fails later, on every request that reads it: an
interval cut-off that is text answers 500 on every ``?detail=full`` and ``/v1/explain``; a
version label longer than the history's column makes PostgreSQL refuse every score.

So each field is checked here for what its readers assume (types, ranges, lengths, counts
that add up), each refusal one line naming the field. Fields training never writes are left
alone, and every field is optional, as for bundles written before it existed.

The grade cut-offs are the one check that needs a judgement, not a type. Cut-offs of 3e-9 are
three valid, falling probabilities, and grade every lead A. What makes them absurd is the model
they are stored with: training grades its own sample of training leads with them and stores
how many fell in each grade (``reference.grades``) beside those leads' score histogram
(``reference.score``, leads per 10 points). Both come from the same probabilities, so the
cut-offs must be able to produce the stored counts: the leads at or above each cut-off, read
off the histogram (exactly for whole bins, either way for the bin the cut-off falls in), must
bracket the stored count at or above it. Cut-offs changed after training (3e-9: at least 43 %
of the test bundle's leads, against 11 % stored) fail that. And since a grade that holds every
lead grades nothing, no grade but D (training's own fallback when every lead scores alike)
may hold them all. A bundle without a reference (older ones) keeps the range checks alone.
"""

from __future__ import annotations

import math
from itertools import pairwise
from typing import Any

from leadml.features.encoder import FeatureEncoder

GRADES = ("A", "B", "C", "D")
#: Text fields that are shown or logged (not labels): bounded so a log line stays a line.
MAX_TEXT = 1_000
#: Bins of any histogram training keeps: deciles (9 edges), novelty bands (13 edges), levels
#: (at most MAX_LEVELS, 256) and the fixed month/weekday/yes-no ones.
MAX_BINS = 300
INTERVAL_FIELDS = {"level", "method", "convert_from", "stay_up_to", "calibrated_on", "converted"}
#: Training's interval cut-offs: 1 + 1e-9 when no held-out lead converts, -1e-9 when all do.
INTERVAL_SLACK = 1e-6
#: Where score s = rint(100 p) lies: p within half a point of it (and within float error).
HALF_POINT = 0.005 + 1e-9


class RecordError(ValueError):
    """A field of the training record readers would fail on; the message names it."""


def finite(value: Any) -> bool:
    """A real number, not a bool, not NaN or infinite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def count(value: Any) -> bool:
    """A whole number of leads (or rows): an int, not a bool, never negative."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _text(record: dict[str, Any], name: str, limit: int) -> None:
    value = record.get(name)
    if value is not None and not (isinstance(value, str) and len(value) <= limit):
        shown = f"{len(value):,} characters" if isinstance(value, str) else type(value).__name__
        raise RecordError(f"meta.{name} must be text of at most {limit:,} characters ({shown})")


def check_labels(record: dict[str, Any], label_limit: int) -> None:
    """The version label every score is stored under (``version``, else ``model_id``), and the
    identity fields shown with it."""
    for name in ("version", "model_id"):
        _text(record, name, label_limit)
        value = record.get(name)
        if isinstance(value, str) and not value.isprintable():
            raise RecordError(f"meta.{name} holds control characters")
    for name in ("registered_model", "registry_version", "run_id", "trained_at", "ref"):
        _text(record, name, MAX_TEXT)


def check_interval(spec: Any) -> None:
    """The 90 % interval: its level in (0, 1), its two cut-offs probabilities (or training's
    just-outside values), counts whole; no other field."""
    if spec is None:
        return
    if not isinstance(spec, dict) or set(spec) - INTERVAL_FIELDS:
        extra = sorted(set(spec) - INTERVAL_FIELDS)[:3] if isinstance(spec, dict) else spec
        raise RecordError(f"meta.interval must hold only {sorted(INTERVAL_FIELDS)} (got {extra})")
    if not (finite(spec.get("level")) and 0.0 < spec["level"] < 1.0):
        raise RecordError(f"meta.interval.level must be in (0, 1) (got {spec.get('level')!r})")
    for name in ("convert_from", "stay_up_to"):
        value = spec.get(name)
        if not (finite(value) and -INTERVAL_SLACK <= value <= 1.0 + INTERVAL_SLACK):
            raise RecordError(f"meta.interval.{name} must be a probability (got {value!r:.40})")
    for name in ("calibrated_on", "converted"):
        if name in spec and not count(spec[name]):
            raise RecordError(f"meta.interval.{name} must be a whole number ≥ 0")
    if not isinstance(spec.get("method", ""), str) or len(spec.get("method", "")) > MAX_TEXT:
        raise RecordError("meta.interval.method must be text")


def check_label(label: Any) -> None:
    """The label's horizon (days, whole, ≥ 1, or None) and counts (whole, ≥ 0)."""
    if label is None:
        return
    if not isinstance(label, dict):
        raise RecordError("meta.label must be an object")
    days = label.get("horizon_days")
    if days is not None and not (count(days) and days >= 1):
        raise RecordError(f"meta.label.horizon_days must be a whole number ≥ 1 (got {days!r:.40})")
    counts = label.get("counts")
    if counts is not None and not (
        isinstance(counts, dict) and all(count(v) for v in counts.values())
    ):
        raise RecordError("meta.label.counts must map outcomes to whole numbers ≥ 0")


def _histogram(spec: Any, where: str, *, edges: bool) -> int:
    """``counts`` (whole, ≥ 0) and ``missing``, with ``edges`` (finite, never falling, one
    fewer than the counts) or none; returns the leads it holds."""
    if not isinstance(spec, dict):
        raise RecordError(f"{where} must be an object")
    cuts, counts = spec.get("edges"), spec.get("counts")
    if not (isinstance(counts, list) and len(counts) <= MAX_BINS and all(map(count, counts))):
        raise RecordError(f"{where}.counts must be at most {MAX_BINS} whole numbers ≥ 0")
    if not count(spec.get("missing", 0)):
        raise RecordError(f"{where}.missing must be a whole number ≥ 0")
    if edges:
        if not (isinstance(cuts, list) and all(map(finite, cuts))):
            raise RecordError(f"{where}.edges must be finite numbers")
        if any(b < a for a, b in pairwise(cuts)):
            raise RecordError(f"{where}.edges must never fall")
        if len(counts) != len(cuts) + 1:
            raise RecordError(f"{where} has {len(counts)} counts for {len(cuts)} edges (needs +1)")
    return sum(counts) + spec.get("missing", 0)


def _field(spec: Any, where: str) -> int:
    """One feature's histogram, read as its readers read it: by its edges when it has them
    (bands of a number), else by level code. The count of levels need not be the encoder's
    (a challenger may keep fewer): a code past the counts falls in "missing", and only codes
    the encoder made (its own levels) are ever named."""
    numeric = isinstance(spec, dict) and spec.get("edges") is not None
    return _histogram(spec, where, edges=numeric)


def check_novelty(spec: Any, encoder: FeatureEncoder) -> None:
    """Counts per field for every encoder feature, adding up to the rows they were taken
    from; the quantile in (0, 1); the threshold a finite number (or None)."""
    if spec is None:
        return
    if not isinstance(spec, dict) or not count(spec.get("rows")):
        raise RecordError("meta.novelty must be an object with rows, a whole number ≥ 0")
    if not (finite(spec.get("quantile")) and 0.0 < spec["quantile"] < 1.0):
        raise RecordError(f"meta.novelty.quantile must be in (0, 1) (got {spec.get('quantile')!r})")
    threshold = spec.get("threshold")
    if threshold is not None and not finite(threshold):
        raise RecordError(f"meta.novelty.threshold must be a finite number (got {threshold!r})")
    fields = spec.get("fields")
    if not isinstance(fields, dict) or set(encoder.names) - set(fields):
        absent = sorted(set(encoder.names) - set(fields))[:3] if isinstance(fields, dict) else []
        raise RecordError(f"meta.novelty.fields must count every encoder feature (not {absent})")
    for name in encoder.names:
        where = f"meta.novelty.fields.{name}"
        held = _field(fields[name], where)
        if held != spec["rows"]:
            raise RecordError(f"{where} counts {held} leads, rows says {spec['rows']}")


#: Segment profiles a reference may hold (``leadml.monitor.profile.MAX_SEGMENTS``).
MAX_SEGMENT_PROFILES = 10


def check_reference(spec: Any, encoder: FeatureEncoder) -> None:
    """The drift reference: every histogram well formed, the score's and grades' counts adding
    up to its rows."""
    if spec is None:
        return
    if not isinstance(spec, dict) or not count(spec.get("rows")):
        raise RecordError("meta.reference must be an object with rows, a whole number ≥ 0")
    segments = spec.get("segments", {})
    if not isinstance(segments, dict) or len(segments) > MAX_SEGMENT_PROFILES:
        raise RecordError("meta.reference.segments must map at most ten segments to profiles")
    for segment in segments.values():  # each segment's profile is a reference of its own
        check_reference({k: v for k, v in segment.items() if k != "segments"}, encoder)
    features = spec.get("features", {})
    if not isinstance(features, dict):
        raise RecordError("meta.reference.features must map features to counts")
    for name in encoder.names:
        if name in features:
            where = f"meta.reference.features.{name}"
            _field(features[name], where)
            median = features[name].get("median")
            if median is not None and not finite(median):
                raise RecordError(f"{where}.median must be a finite number")
    pushes = spec.get("pushes", {})
    if not isinstance(pushes, dict) or not all(isinstance(v, dict) for v in pushes.values()):
        raise RecordError("meta.reference.pushes must map frameworks to criteria")
    for framework, buckets in pushes.items():
        for bucket, push in buckets.items():
            _histogram(push, f"meta.reference.pushes.{framework}.{bucket}", edges=True)
    mean = spec.get("mean_probability")
    if mean is not None and not (finite(mean) and 0.0 <= mean <= 1.0):
        raise RecordError(f"meta.reference.mean_probability must be in [0, 1] (got {mean!r})")
    if (
        "score" in spec
        and _histogram(spec["score"], "meta.reference.score", edges=True) != (spec["rows"])
    ):
        raise RecordError("meta.reference.score does not count its rows")
    grades = spec.get("grades")
    if grades is not None and not (
        isinstance(grades, dict)
        and set(grades) == set(GRADES)
        and all(map(count, grades.values()))
        and sum(grades.values()) == spec["rows"]
    ):
        raise RecordError("meta.reference.grades must count A, B, C and D, adding up to rows")


def _score_bins(edges: list[float]) -> list[tuple[float, float]]:
    """Each score bin's probability range: scores are whole points, bins closed on the right."""
    lows = [-math.inf, *edges]
    highs = [*edges, math.inf]
    return [(_bin_low(lo), _bin_high(hi)) for lo, hi in zip(lows, highs, strict=True)]


def _bin_low(lo: float) -> float:
    """The lowest probability of a bin above edge ``lo`` (its first whole point, less half)."""
    return max(0.0, (math.floor(lo) + 1) / 100 - HALF_POINT) if lo > -math.inf else 0.0


def _bin_high(hi: float) -> float:
    """The highest probability of a bin up to edge ``hi`` (its last whole point, plus half)."""
    return min(1.0, math.floor(hi) / 100 + HALF_POINT) if hi < math.inf else 1.0


def check_cutoffs(cutoffs: list[float], reference: Any) -> None:
    """The cut-offs against the grades training gave its own leads (the module's docstring)."""
    if not isinstance(reference, dict) or "grades" not in reference or "score" not in reference:
        return
    grades, score = reference["grades"], reference["score"]
    rows = reference["rows"]
    if not rows:
        return
    bins = _score_bins(score["edges"])
    counts = score["counts"]
    stored = 0
    for letter, cut in zip(GRADES, cutoffs, strict=False):
        stored += grades[letter]
        surely = sum(n for (lo, _), n in zip(bins, counts, strict=True) if lo >= cut)
        maybe = sum(n for (_, hi), n in zip(bins, counts, strict=True) if hi >= cut)
        if not surely <= stored <= maybe:
            raise RecordError(
                f"grade cut-off {letter} {cut:.3g} puts {surely / rows:.0%}–{maybe / rows:.0%} of "
                f"the training leads at or above {letter}, training stored "
                f"{stored / rows:.0%} (cut-offs changed after training?)"
            )
    full = next((g for g in GRADES[:3] if grades[g] == rows), None)
    if full is not None:
        raise RecordError(f"grade {full} holds every training lead: the cut-offs grade nothing")


def check_record(
    record: Any,
    encoder: FeatureEncoder,
    cutoffs: list[float],
    label_limit: int,
    segment_cutoffs: dict[str, list[float]] | None = None,
) -> None:
    """Every field of the training record its readers use; ``RecordError`` naming the first
    that is wrong. ``segment_cutoffs``: the segments with grade bands of their own: each
    segment's profile is then checked against its own cut-offs (and the others' against the
    model's), since the whole table's grades mix several bands."""
    if not isinstance(record, dict):
        raise RecordError("meta must be an object")
    check_labels(record, label_limit)
    check_label(record.get("label"))
    check_interval(record.get("interval"))
    check_novelty(record.get("novelty"), encoder)
    reference = record.get("reference")
    check_reference(reference, encoder)
    if not segment_cutoffs:
        check_cutoffs(cutoffs, reference)
        return
    for value, profile in (reference or {}).get("segments", {}).items():
        check_cutoffs(segment_cutoffs.get(value, cutoffs), profile)
