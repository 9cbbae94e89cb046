"""``LeadModel``: a trained booster with everything needed to score and explain a lead.

A bundle is a folder of plain files: ``model.txt`` (LightGBM's own text format),
``leadml.json`` (schema, frozen encodings, calibrator, grade bands, metadata) and
``metrics.json``. Nothing is pickled, so loading a model never runs code from the file; and
nothing is built from the files before they pass :mod:`leadml.bundle.check` (and, with a bundle
key, :mod:`leadml.bundle.signing`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from leadml.bundle.calibration import Calibrator
from leadml.bundle.check import (
    check_encoder,
    check_meta,
    check_model_header,
    check_model_trees,
    check_training_record,
    read_meta,
)
from leadml.bundle.files import (
    BUNDLE_FORMAT,
    META_FILE,
    METRICS_FILE,
    MODEL_FILE,
    checked_model_text,
    file_sha256,
    holds_bundle,
    json_default,
    swap_in,
)
from leadml.bundle.routes import Route, RowCalibrator, SegmentRoutes
from leadml.bundle.signing import Key, sign_bundle, verify_bundle
from leadml.bundle.single_row import Kind, SingleRowPredictor
from leadml.errors import ModelLoadError
from leadml.features.encoder import FeatureEncoder
from leadml.features.facts import ModelFacts
from leadml.qualify.capacity import CapacityPlan, with_capacity
from leadml.qualify.grades import GradeBands
from leadml.schema.frameworks import Rollup, map_features
from leadml.schema.spec import LeadSchema


@dataclass
class LeadModel:
    """Booster + encoder + calibrator + grade bands; scoring and contributions in one place."""

    booster: lgb.Booster
    encoder: FeatureEncoder
    schema: LeadSchema
    calibrator: Calibrator
    bands: GradeBands
    meta: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    #: Per segment value: its calibrator, grade bands and specialist, where it has them.
    segments: SegmentRoutes | None = None
    _single: dict[str, SingleRowPredictor] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: Tables scoring one lead reads again and again (training ranges, novelty counts, the
    #: roll-up plans), each made on first use and kept with the model, never beyond it.
    facts: ModelFacts = field(default_factory=ModelFacts, init=False, repr=False, compare=False)

    # -- identity ----------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Registry version when registered, else the bundle's own id."""
        return str(self.meta.get("version") or self.meta.get("model_id") or "unversioned")

    @property
    def feature_names(self) -> list[str]:
        return self.encoder.names

    @property
    def horizon_days(self) -> int | None:
        """The label's horizon: the probability is of converting within this many days of
        coming in (None: of converting at all, every closed outcome taken as final)."""
        return (self.meta.get("label") or {}).get("horizon_days")

    @property
    def probability_means(self) -> str:
        """What a probability of this model is, in words for the output, the card, the
        report, the page and ``GET /v1/model``."""
        days = self.horizon_days
        within = f" within {days} days of coming in" if days else ""
        return f"probability of converting{within}"

    # -- what the model records --------------------------------------------------------------
    def rollup(self, framework: str = "bant") -> Rollup:
        """``framework``'s reading of the features this model was trained on. The encoder is
        the truth about the model's columns (training may drop some the schema lists); the
        schema only adds tags and words to them."""
        specs = {f.name: f for f in self.schema.features}
        kept = [specs[name] for name in self.encoder.names if name in specs]
        return map_features(self.schema.model_copy(update={"features": kept}), framework)

    def unrecorded_criteria(self, framework: str = "bant") -> tuple[str, ...]:
        """The framework's criteria no feature of this model records ("timing" for an export
        with no timing field): the same for every lead, so said once per model."""
        return self.rollup(framework).unrecorded

    # -- scoring -----------------------------------------------------------------------------
    def matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Raw leads (as read from a file) → the model's input, parsed by the training rules."""
        return self.encoder.transform(self.encoder.parse(frame))

    def single_row(self, kind: Kind) -> SingleRowPredictor:
        """LightGBM's prepared one-row predictor (:mod:`leadml.bundle.single_row`), made on
        first use and kept with the model."""
        predictor = self._single.get(kind)
        if predictor is None:
            predictor = self._single.setdefault(kind, SingleRowPredictor(self.booster, kind))
        return predictor

    def _one_row(self, x: np.ndarray, num_threads: int) -> bool:
        # One lead on one thread is the serving path: the prepared predictor gives the same
        # numbers as Booster.predict without its per-call set-up.
        return num_threads == 1 and isinstance(x, np.ndarray) and x.ndim == 2 and len(x) == 1

    def raw_scores(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Log-odds straight from the booster (what the contributions add up to)."""
        if self._one_row(x, num_threads):
            raw = self.single_row("raw")(x[0])
        else:
            raw = self.booster.predict(x, raw_score=True, num_threads=num_threads)
        if self.segments is None:
            return raw
        return self.segments.boosted(x, np.array(raw, dtype=np.float64), "raw", num_threads)

    def predict_proba(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        raw = self.raw_scores(x, num_threads=num_threads)
        if self.segments is None:
            return self.calibrator(raw)
        return self.segments.calibrated(raw, x, self.calibrator)

    def calibrator_for(self, x: np.ndarray) -> Calibrator | RowCalibrator:
        """The calibrator of ``x``'s rows: the model's own, or with segments each row's."""
        return (
            self.calibrator
            if self.segments is None
            else RowCalibrator(self.calibrator, self.segments, x)
        )

    def contributions(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Exact TreeSHAP per feature in log-odds; the last column is the base value."""
        if self._one_row(x, num_threads):
            out = self.single_row("contrib")(x[0])[np.newaxis, :]
        else:
            out = self.booster.predict(x, pred_contrib=True, num_threads=num_threads)
        if self.segments is None:
            return out
        return self.segments.boosted(x, np.array(out, dtype=np.float64), "contrib", num_threads)

    # -- labels ------------------------------------------------------------------------------
    def labels(self, p: np.ndarray, x: np.ndarray) -> pd.DataFrame:
        """Score, grade, tier and stage of probabilities ``p`` of ``x``'s rows, each by its
        segment's grade bands; with segments also the model that scored it."""
        if self.segments is None:
            return self.bands.labels(p)
        parts = [
            bands.labels(p[rows]).set_axis(np.flatnonzero(rows))
            for bands, rows in self.segments.bands_of(x, self.bands)
        ]
        labels = pd.concat(parts).sort_index().reset_index(drop=True)
        labels["model"] = self.segments.names(x)
        return labels

    def label_one(self, p: float, row: np.ndarray) -> dict[str, Any]:
        """``labels`` for one lead (``row``: its encoded row, one dimension or a 1×n matrix)."""
        if self.segments is None:
            return self.bands.label_one(p)
        x = np.asarray(row, dtype=np.float64).reshape(1, -1)
        bands = self.segments.bands_of(x, self.bands)[0][0]
        return {**bands.label_one(p), "model": self.segments.names(x)[0]}

    def grades(self, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Grade letters of probabilities ``p`` of ``x``'s rows (their segments' bands)."""
        if self.segments is None:
            return self.bands.grade(p)
        out = np.empty(len(p), dtype=object)
        for bands, rows in self.segments.bands_of(x, self.bands):
            out[rows] = bands.grade(np.asarray(p)[rows])
        return out

    def bands_for(self, x: np.ndarray) -> GradeBands:
        """The grade bands of one lead's row (its segment's, else the model's)."""
        if self.segments is None:
            return self.bands
        return self.segments.bands_of(np.asarray(x).reshape(1, -1), self.bands)[0][0]

    def segment_route(self, value: str) -> Route:
        """The route of segment ``value``; a one-line error naming the known ones."""
        from leadml.errors import LeadMLError

        if self.segments is None:
            raise LeadMLError("the model has no segment column; train with --segment COL")
        route = self.segments.route_of(value)
        if route is None:
            known = ", ".join(r.value for r in self.segments.routes)
            raise LeadMLError(f"no segment '{value}' in {self.segments.column}; known: {known}")
        return route

    def take_capacity(
        self, plan: CapacityPlan, record: dict[str, Any], segment: str | None = None
    ) -> GradeBands:
        """The SQL band following capacity (``leadml thresholds --apply``): the model's, or
        one segment's (each team its own capacity). Returns the bands changed."""
        if segment is None:
            self.bands = with_capacity(self.bands, plan, record)
            return self.bands
        route = self.segment_route(segment)
        route.bands = with_capacity(route.bands or self.bands, plan, {**record, "segment": segment})
        return route.bands

    def sql_cutoffs(self, x: np.ndarray) -> np.ndarray:
        """Per row of ``x``, the probability from which it is an SQL (its segment's bands')."""
        if self.segments is None:
            return np.full(len(x), self.bands.sql_from)
        out = np.empty(len(x))
        for bands, rows in self.segments.bands_of(x, self.bands):
            out[rows] = bands.sql_from
        return out

    def calibrators(self, x: np.ndarray) -> list[Calibrator]:
        """Each row's calibrator (its segment's, else the model's)."""
        if self.segments is None:
            return [self.calibrator] * len(x)
        out = [self.calibrator] * len(x)
        for route, rows in self.segments.masks(x):
            if route.calibrator is not None:
                for i in np.flatnonzero(rows):
                    out[i] = route.calibrator
        return out

    def score_frame(self, frame: pd.DataFrame, num_threads: int = 0) -> pd.DataFrame:
        """Probability, score, grade, tier, stage for each row (index follows ``frame``);
        with segments, the model that scored it."""
        x = self.matrix(frame)
        labels = self.labels(self.predict_proba(x, num_threads=num_threads), x)
        labels.index = frame.index
        return labels

    def score_one(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """Fast path for one lead dict: numpy row, one thread, no pandas."""
        row = self.encoder.encode_row(lead)
        return self.label_one(float(self.predict_proba(row, num_threads=1)[0]), row)

    # -- persistence -------------------------------------------------------------------------
    def save(self, directory: str | Path, key: Key | None = None) -> Path:
        """Write the bundle atomically (a half-written folder never replaces a good one),
        signed when a bundle key is given."""
        target = Path(directory).resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
        try:
            self.write_files(staging)
            if key is not None:
                sign_bundle(staging, key)
            swap_in(staging, target)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
        return target

    def write_files(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.booster.save_model(str(folder / MODEL_FILE))
        if self.segments is not None:
            self.segments.write_boosters(folder)
        meta = {
            "format": BUNDLE_FORMAT,
            "model_sha256": file_sha256(folder / MODEL_FILE),
            "schema": self.schema.to_dict(),
            "encoder": self.encoder.to_dict(),
            "calibrator": self.calibrator.to_dict(),
            "bands": self.bands.to_dict(),
            "meta": self.meta,
        }
        if self.segments is not None:
            meta["segments"] = self.segments.to_dict()
        (folder / META_FILE).write_text(json.dumps(meta, indent=2, default=json_default))
        (folder / METRICS_FILE).write_text(json.dumps(self.metrics, indent=2, default=json_default))

    @classmethod
    def load(cls, directory: str | Path, key: Key | None = None) -> LeadModel:
        """Load a bundle that passes every check; with ``key``, only one signed with it.

        The order matters: sizes before reading, the signature before parsing, the metadata's
        numbers and names before building anything, the checksum, the feature names and every
        tree's indices in ``model.txt`` before LightGBM (which crashes, rather than raises, on
        a damaged file).
        """
        folder = Path(directory)
        if not holds_bundle(folder):
            raise ModelLoadError(
                f"{folder} is not a leadml bundle (expected {MODEL_FILE} and {META_FILE})"
            )
        try:
            if key is not None:
                verify_bundle(folder, key)
            meta = read_meta(folder)
            if meta.get("format") != BUNDLE_FORMAT:
                raise ModelLoadError(f"{folder}: unsupported bundle format {meta.get('format')}")
            check_meta(folder, meta)
            schema = LeadSchema.from_dict(meta["schema"])
            encoder = FeatureEncoder.from_dict(meta["encoder"])
            check_encoder(folder, encoder, schema)
            text = checked_model_text(folder, meta)
            check_model_header(folder, text, encoder.names)
            check_model_trees(folder, text, encoder.names)
            check_training_record(
                folder,
                meta.get("meta", {}),
                encoder,
                meta["bands"]["cutoffs"],
                meta.get("segments"),
            )
            booster = lgb.Booster(model_str=text)
            if booster.num_feature() != len(encoder.names):
                raise ModelLoadError(
                    f"{folder}: model has {booster.num_feature()} features, "
                    f"metadata lists {len(encoder.names)}"
                )
            segments = meta.get("segments")
            if segments is not None:
                segments = SegmentRoutes.from_dict(folder, segments, encoder)
            metrics_path = folder / METRICS_FILE
            metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else {}
            return cls(
                booster=booster,
                encoder=encoder,
                schema=schema,
                calibrator=Calibrator.from_dict(meta["calibrator"]),
                bands=GradeBands.from_dict(meta["bands"]),
                meta=meta.get("meta", {}),
                metrics=metrics,
                segments=segments,
            )
        except ModelLoadError:
            raise
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            RecursionError,
            lgb.basic.LightGBMError,
        ) as exc:
            raise ModelLoadError(
                f"{folder}: corrupt bundle ({type(exc).__name__}: {exc})"
            ) from None
