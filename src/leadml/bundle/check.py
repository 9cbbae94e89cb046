"""What a bundle must be before anything is built from it: sizes first, then every number and name.

A bundle that loads is served: NaN grade cut-offs grade every lead "D", a renamed encoder
feature is silently never read, 300,000 categorical levels cost a server 100 MB. None of these
stops LightGBM from predicting, so none is caught by scoring a test lead. They are checked here,
on the parsed ``leadml.json`` (whose size is checked before it is read), each refusal one line
naming the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

from leadml.bundle.files import META_FILE, METRICS_FILE, MODEL_FILE
from leadml.bundle.record_check import RecordError, check_record
from leadml.bundle.record_check import finite as _finite
from leadml.bundle.tree_check import TreeFormatError, TreeSummary, check_trees
from leadml.errors import ModelLoadError
from leadml.features.encoder import MAX_LEVELS, FeatureEncoder
from leadml.schema.spec import LeadSchema

#: leadml.json holds the schema, levels and numbers: kilobytes, a few MB with big schemas.
MAX_META_BYTES = 20 * 2**20
#: A LightGBM text model of thousands of trees is tens of MB.
MAX_MODEL_BYTES = 256 * 2**20
#: Training keeps at most MAX_LEVELS (256) levels a categorical feature: 50,000 in all is
#: ~200 such features, far beyond any CRM export.
MAX_TOTAL_LEVELS = 50_000
CALIBRATION_METHODS = ("none", "platt", "isotonic")
GRADE_LETTERS = ("A", "B", "C", "D")
#: The capacity record kept with an SQL cut-off is a dozen fields; more is not one of ours.
MAX_CAPACITY_FIELDS = 50
SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _corrupt(folder: Path, reason: str) -> ModelLoadError:
    return ModelLoadError(f"{folder}: corrupt bundle: {reason}")


def _show(values: Any, limit: int = 5) -> str:
    """A short rendering of what was found, for the message (never the whole list)."""
    if isinstance(values, list | tuple):
        shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:limit])
        return f"[{shown}{', ...' if len(values) > limit else ''}]"
    return repr(values)[:80]


def read_meta(folder: Path) -> dict[str, Any]:
    """``leadml.json``, parsed only once its size (and model.txt's and metrics.json's) is known
    to be sane."""
    limits = {META_FILE: MAX_META_BYTES, MODEL_FILE: MAX_MODEL_BYTES, METRICS_FILE: MAX_META_BYTES}
    for name, limit in limits.items():
        if not (folder / name).exists():
            continue  # metrics.json is optional; the other two were checked before
        size = (folder / name).stat().st_size
        if size > limit:
            raise _corrupt(folder, f"{name} is {size / 2**20:.1f} MB (at most {limit // 2**20})")
    meta = json.loads((folder / META_FILE).read_text())
    if not isinstance(meta, dict):
        raise _corrupt(folder, f"{META_FILE} is not an object")
    return meta


def check_meta(folder: Path, meta: dict[str, Any]) -> None:
    """The checksum's presence, grade bands, calibrator and encoder sizes, before parsing more."""
    if "model_sha256" not in meta:
        raise _corrupt(
            folder,
            f"model_sha256 is missing from {META_FILE} (every bundle must carry its model's "
            "checksum; retrain to write one)",
        )
    for part in ("schema", "encoder", "calibrator", "bands"):
        if part not in meta:
            raise _corrupt(folder, f"{part} is missing from {META_FILE}")
    if not isinstance(meta["model_sha256"], str) or not SHA256_HEX.fullmatch(meta["model_sha256"]):
        raise _corrupt(folder, "model_sha256 is not a SHA-256 in hex")
    check_bands(folder, meta["bands"])
    check_calibrator(folder, meta["calibrator"])
    check_encoder_sizes(folder, meta["encoder"])


def check_bands(folder: Path, bands: Any) -> None:
    """Cut-offs finite, in [0, 1], strictly falling A > B > C; tiers and stages for every grade;
    the optional SQL cut-off in [0, 1] and its capacity record flat.

    The one exception is training's own fallback (1, 1, 1) when every lead had the same
    probability: every lead is then D, which is what such a model can honestly say.
    """
    cuts = bands.get("cutoffs") if isinstance(bands, dict) else None
    valid = (
        isinstance(cuts, list)
        and len(cuts) == 3
        and all(_finite(c) and 0.0 <= c <= 1.0 for c in cuts)
        and (cuts[0] > cuts[1] > cuts[2] or cuts == [1.0, 1.0, 1.0])
    )
    if not valid:
        raise _corrupt(
            folder,
            "grade cut-offs must be three finite numbers in [0, 1], strictly decreasing "
            f"A > B > C (got {_show(cuts)})",
        )
    for part in ("tiers", "stages"):
        labels = bands.get(part)
        if not isinstance(labels, dict) or not all(
            isinstance(labels.get(g), str) for g in GRADE_LETTERS
        ):
            raise _corrupt(folder, f"grade {part} must name A, B, C and D with text")
    # Optional (``leadml thresholds --apply``): the probability from which a lead is an SQL,
    # and the capacity it was chosen for, a flat record of numbers and text.
    cut = bands.get("sql_cutoff")
    if cut is not None and not (_finite(cut) and 0.0 <= cut <= 1.0):
        raise _corrupt(folder, f"sql_cutoff must be a finite number in [0, 1] (got {_show(cut)})")
    record = bands.get("capacity")
    if record is not None and not (
        isinstance(record, dict)
        and len(record) <= MAX_CAPACITY_FIELDS
        and all(
            isinstance(k, str) and (v is None or isinstance(v, str | bool) or _finite(v))
            for k, v in record.items()
        )
    ):
        raise _corrupt(
            folder,
            f"capacity must be an object of at most {MAX_CAPACITY_FIELDS} numbers and texts "
            f"(got {_show(record)})",
        )


def check_calibrator(folder: Path, calibrator: Any) -> None:
    """A known method with finite numbers; isotonic knots sorted and probabilities in [0, 1]."""
    if not isinstance(calibrator, dict) or calibrator.get("method") not in CALIBRATION_METHODS:
        method = calibrator.get("method") if isinstance(calibrator, dict) else calibrator
        raise _corrupt(
            folder, f"calibrator method must be one of {CALIBRATION_METHODS}, not {_show(method)}"
        )
    for name in ("coef", "intercept"):
        if not _finite(calibrator.get(name, 0.0)):
            got = _show(calibrator[name])
            raise _corrupt(folder, f"calibrator {name} must be finite (got {got})")
    if calibrator["method"] == "platt" and not calibrator.get("coef", 1.0) > 0:
        raise _corrupt(
            folder,
            "calibrator coef must be positive (a calibrator never reverses "
            f"the ranking; got {calibrator['coef']})",
        )
    xs, ys = calibrator.get("knots_x", []), calibrator.get("knots_y", [])
    if not (isinstance(xs, list) and isinstance(ys, list)) or len(xs) != len(ys):
        raise _corrupt(folder, "calibrator knots_x and knots_y must be lists of one length")
    if not all(_finite(v) for v in (*xs, *ys)):
        raise _corrupt(folder, f"calibrator knots must be finite (got {_show(xs + ys)})")
    if calibrator["method"] == "isotonic" and (
        not xs or any(b < a for a, b in pairwise(xs)) or any(not 0.0 <= y <= 1.0 for y in ys)
    ):
        raise _corrupt(
            folder, "calibrator knots must be non-empty, knots_x increasing, knots_y in [0, 1]"
        )


def check_encoder_sizes(folder: Path, encoder: Any) -> None:
    """Names and kinds line up, and the levels stay within what training ever keeps."""
    if not isinstance(encoder, dict):
        raise _corrupt(folder, "encoder is not an object")
    names, kinds, levels = encoder.get("names"), encoder.get("kinds"), encoder.get("levels")
    if not (isinstance(names, list) and isinstance(kinds, list) and len(names) == len(kinds)):
        raise _corrupt(folder, "encoder names and kinds must be lists of one length")
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise _corrupt(folder, f"encoder names must be distinct text (got {_show(names)})")
    if not isinstance(levels, dict) or not all(isinstance(v, list) for v in levels.values()):
        raise _corrupt(folder, "encoder levels must map features to lists")
    total = sum(len(v) for v in levels.values())
    if total > MAX_TOTAL_LEVELS:
        raise _corrupt(
            folder,
            f"encoder levels hold {total:,} categories (at most {MAX_TOTAL_LEVELS:,} in all)",
        )
    kind_of = dict(zip(names, kinds, strict=True))
    for name, values in levels.items():
        if kind_of.get(name) == "categorical" and len(values) > MAX_LEVELS:
            raise _corrupt(
                folder,
                f"encoder levels of '{name}' hold {len(values):,} categories "
                f"(training keeps at most {MAX_LEVELS})",
            )
        if not all(isinstance(v, str) for v in values) or len(set(values)) != len(values):
            raise _corrupt(folder, f"encoder levels of '{name}' must be distinct text")


def check_encoder(folder: Path, encoder: FeatureEncoder, schema: LeadSchema) -> None:
    """The encoder reads exactly the schema's features, as the schema defines them.

    A feature renamed in one but not the other is never read from a lead: scored as missing,
    with no error anywhere. The encoder names features as the schema does (training fits it
    from the schema, and the leakage audit drops features from both).
    """
    wanted = schema.feature_names
    if encoder.names != wanted:
        extra = [n for n in encoder.names if n not in wanted]
        absent = [n for n in wanted if n not in encoder.names]
        detail = f"{_show(extra)} not in the schema, {_show(absent)} missing"
        if not extra and not absent:
            detail = "same names in another order"
        raise _corrupt(folder, f"encoder features differ from the schema's ({detail})")
    for spec, kind in zip(schema.features, encoder.kinds, strict=True):
        if kind != spec.kind:
            raise _corrupt(
                folder, f"encoder kind of '{spec.name}' is {kind!r}, the schema says {spec.kind!r}"
            )
        if spec.kind == "ordinal" and encoder.levels.get(spec.name) != list(spec.levels or []):
            raise _corrupt(folder, f"encoder levels of '{spec.name}' differ from the schema's")
        if spec.kind == "categorical" and spec.name not in encoder.levels:
            raise _corrupt(folder, f"encoder has no levels for categorical '{spec.name}'")
        if encoder.sources.get(spec.name) != spec.source:
            raise _corrupt(folder, f"encoder source of '{spec.name}' differs from the schema's")


def model_header(text: str) -> dict[str, str]:
    """The ``key=value`` lines LightGBM writes before the first tree."""
    header: dict[str, str] = {}
    for line in text[: 1 << 20].splitlines():
        if line.startswith("Tree="):
            break
        key, sep, value = line.partition("=")
        if sep:
            header[key] = value
    return header


def check_model_header(folder: Path, text: str, names: Sequence[str]) -> None:
    """``model.txt`` names the encoder's features, in order, before LightGBM parses it.

    LightGBM writes spaces in feature names as underscores. A booster made without names
    (``Booster.refit`` makes one) calls them Column_0, Column_1, ...: only the count is checked.
    """
    header = model_header(text)
    found = header.get("feature_names", "").split(" ")
    expected = [n.replace(" ", "_") for n in names]
    unnamed = [f"Column_{i}" for i in range(len(names))]
    if header.get("max_feature_idx") != str(len(names) - 1) or found not in (expected, unnamed):
        raise _corrupt(
            folder,
            f"{MODEL_FILE} names features {_show(found)}, the encoder {_show(expected)}",
        )


def check_model_trees(folder: Path, text: str, names: Sequence[str]) -> TreeSummary:
    """Every tree of ``model.txt`` safe for LightGBM to read and follow
    (:mod:`leadml.bundle.tree_check`): a damaged index crashes the process, not raises."""
    try:
        return check_trees(text, len(names))
    except TreeFormatError as exc:
        raise _corrupt(folder, f"{MODEL_FILE} {exc}") from None


def version_label_limit() -> int:
    """The longest version label the score history can store: its ``model_version`` column's
    length, read from the table itself (imported here, not at the top: only a load needs it)."""
    from leadml.history.tables import lead_scores

    return int(lead_scores.c.model_version.type.length)


def check_training_record(
    folder: Path,
    record: Any,
    encoder: FeatureEncoder,
    cutoffs: Sequence[float],
    segments: Any = None,
) -> None:
    """The training record (``meta`` in ``leadml.json``): every field requests read back
    (:mod:`leadml.bundle.record_check`), once the encoder it describes is known.
    ``segments``: the bundle's segment routes as stored (each segment's own cut-offs)."""
    own = {}
    if isinstance(segments, dict) and isinstance(segments.get("routes"), list):
        for route in segments["routes"]:
            bands = route.get("bands") if isinstance(route, dict) else None
            if isinstance(bands, dict) and isinstance(bands.get("cutoffs"), list):
                own[str(route.get("value"))] = list(bands["cutoffs"])
    try:
        check_record(record, encoder, list(cutoffs), version_label_limit(), own)
    except RecordError as exc:
        raise _corrupt(folder, str(exc)) from None
