"""Segment routes: which booster, calibrator and grade bands score a lead of each segment.

A model trained with a segment column (``schema.segment``: region, channel, team) is one
global booster that has the segment among its features, plus, per segment value, what the
backtest found worth its own:

* a **calibrator** of its own where the segment has the positives to fit one and it beats the
  global calibrator on the segment's held-out leads (else the global one);
* **grade bands** of its own (each team its own shares and SQL cut-off, and capacity);
* a **specialist booster** only where it beat the global model on the segment's backtest with
  a bootstrap interval of the difference that excludes zero (at most ten, as Dynamics 365).
  A specialist either replaces the global booster's score (``continued`` False: trained on the
  segment's leads alone) or adds to it (``continued``: boosted on from the global model's
  scores, so its trees only correct the global model). Either way TreeSHAP contributions add
  up to the raw score, so explanations need nothing special.

A lead is routed by the segment code in its encoded row (the encoder's frozen levels), so
routing costs a comparison per segment; a value training never saw, or a missing one, goes
the global way. Specialists are plain LightGBM text files in the bundle (``segment-<k>.txt``,
named by position, never by a value a client sent), checked like ``model.txt`` before loading.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np

from leadml.bundle.calibration import Calibrator
from leadml.bundle.check import (
    MAX_MODEL_BYTES,
    check_bands,
    check_calibrator,
    check_model_header,
    check_model_trees,
)
from leadml.bundle.single_row import Kind, SingleRowPredictor
from leadml.errors import ModelLoadError
from leadml.features.encoder import FeatureEncoder
from leadml.qualify.grades import GradeBands

#: The most specialists one model carries (Dynamics 365's limit of segment models).
MAX_SPECIALISTS = 10
GLOBAL = "global"


@dataclass
class Route:
    """How the leads of one segment value are scored (None: the global model's part)."""

    value: str
    code: float
    calibrator: Calibrator | None = None
    bands: GradeBands | None = None
    booster: lgb.Booster | None = None
    continued: bool = False
    #: The specialist's file in the bundle (``segment-<k>.txt``) and its SHA-256.
    file: str | None = None
    sha256: str | None = None
    _single: dict[Kind, SingleRowPredictor] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        """What a score records as its model: ``global`` or ``segment:<value>``."""
        return GLOBAL if self.booster is None else f"segment:{self.value}"

    def single(self, kind: Kind) -> SingleRowPredictor:
        predictor = self._single.get(kind)
        if predictor is None:
            predictor = self._single.setdefault(kind, SingleRowPredictor(self.booster, kind))
        return predictor

    def predict(self, x: np.ndarray, kind: Kind, num_threads: int) -> np.ndarray:
        """The specialist's raw scores (or contributions) of ``x``'s rows."""
        if num_threads == 1 and len(x) == 1:
            out = self.single(kind)(x[0])
            return out if kind == "raw" else out[np.newaxis, :]
        contrib = kind == "contrib"
        return self.booster.predict(  # type: ignore[union-attr]
            x, raw_score=not contrib, pred_contrib=contrib, num_threads=num_threads
        )


@dataclass
class SegmentRoutes:
    """The segment column and a route per segment value the encoder knows."""

    column: str
    index: int
    routes: list[Route]

    @property
    def specialists(self) -> list[Route]:
        return [r for r in self.routes if r.booster is not None]

    def route_of(self, value: Any) -> Route | None:
        for route in self.routes:
            if route.value == str(value):
                return route
        return None

    def masks(self, x: np.ndarray, routes: list[Route] | None = None) -> list[tuple[Route, Any]]:
        """(route, rows of ``x`` in its segment) for each route with any row."""
        codes = x[:, self.index]
        found = []
        for route in self.routes if routes is None else routes:
            rows = codes == route.code
            if rows.any():
                found.append((route, rows))
        return found

    def boosted(self, x: np.ndarray, out: np.ndarray, kind: Kind, num_threads: int) -> np.ndarray:
        """``out`` (the global booster's raw scores or contributions of ``x``) with each
        specialist's rows replaced by, or added to, the specialist's own."""
        for route, rows in self.masks(x, self.specialists):
            own = route.predict(x[rows], kind, num_threads)
            out[rows] = out[rows] + own if route.continued else own
        return out

    def names(self, x: np.ndarray) -> list[str]:
        """The model each row of ``x`` is scored by."""
        names = np.full(len(x), GLOBAL, dtype=object)
        for route, rows in self.masks(x, self.specialists):
            names[rows] = route.name
        return names.tolist()

    def calibrated(self, raw: np.ndarray, x: np.ndarray, fallback: Calibrator) -> np.ndarray:
        """Probabilities of ``raw`` (aligned with ``x``'s rows), each by its segment's
        calibrator where it has one."""
        p = np.asarray(fallback(raw), dtype=np.float64)
        for route, rows in self.masks(x):
            if route.calibrator is not None:
                p[rows] = route.calibrator(np.asarray(raw)[rows])
        return p

    def bands_of(self, x: np.ndarray, fallback: GradeBands) -> list[tuple[GradeBands, Any]]:
        """(bands, rows) covering every row of ``x``: each segment's own bands, else the
        global ones."""
        taken = np.zeros(len(x), dtype=bool)
        out: list[tuple[GradeBands, Any]] = []
        for route, rows in self.masks(x):
            if route.bands is not None:
                out.append((route.bands, rows))
                taken |= rows
        if not taken.all():
            out.append((fallback, ~taken))
        return out

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "routes": [
                {
                    "value": r.value,
                    "calibrator": None if r.calibrator is None else r.calibrator.to_dict(),
                    "bands": None if r.bands is None else r.bands.to_dict(),
                    "file": r.file,
                    "continued": r.continued,
                    "sha256": r.sha256,
                }
                for r in self.routes
            ],
        }

    def write_boosters(self, folder: Path) -> None:
        """Each specialist's text file, its checksum kept for ``to_dict``."""
        for route in self.specialists:
            path = folder / str(route.file)
            route.booster.save_model(str(path))  # type: ignore[union-attr]
            route.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()

    @classmethod
    def from_dict(cls, folder: Path, data: Any, encoder: FeatureEncoder) -> SegmentRoutes:
        """Routes as a bundle stores them, every part checked before anything is built."""
        if not isinstance(data, dict) or data.get("column") not in encoder.names:
            raise ModelLoadError(f"{folder}: corrupt bundle: segments name no model feature")
        index = encoder.names.index(data["column"])
        levels = encoder.level_names(index)
        routes = data.get("routes")
        if not isinstance(routes, list) or len(routes) > len(levels):
            raise ModelLoadError(f"{folder}: corrupt bundle: segment routes are not a list")
        built = [_route(folder, raw, levels, encoder) for raw in routes]
        if len([r for r in built if r.booster is not None]) > MAX_SPECIALISTS:
            raise ModelLoadError(f"{folder}: corrupt bundle: more than {MAX_SPECIALISTS} models")
        return cls(data["column"], index, built)


def specialist_file(k: int) -> str:
    """The bundle file of the ``k``-th specialist (named by position only)."""
    return f"segment-{k}.txt"


def _route(folder: Path, raw: Any, levels: list[str], encoder: FeatureEncoder) -> Route:
    if not isinstance(raw, dict) or raw.get("value") not in levels:
        raise ModelLoadError(f"{folder}: corrupt bundle: a segment route names no known value")
    route = Route(value=raw["value"], code=float(levels.index(raw["value"])))
    if raw.get("calibrator") is not None:
        check_calibrator(folder, raw["calibrator"])
        route.calibrator = Calibrator.from_dict(raw["calibrator"])
    if raw.get("bands") is not None:
        check_bands(folder, raw["bands"])
        route.bands = GradeBands.from_dict(raw["bands"])
    name = raw.get("file")
    if name is None:
        return route
    if name not in {specialist_file(k) for k in range(1, MAX_SPECIALISTS + 1)}:
        raise ModelLoadError(f"{folder}: corrupt bundle: segment model file {name!r}")
    path = folder / name
    if not path.is_file() or path.stat().st_size > MAX_MODEL_BYTES:
        raise ModelLoadError(f"{folder}: corrupt bundle: {name} is missing or too large")
    data = path.read_bytes()
    text = data.decode()
    if hashlib.sha256(data).hexdigest() != raw.get("sha256"):
        raise ModelLoadError(f"{folder}: corrupt bundle ({name} does not match its checksum)")
    check_model_header(folder, text, encoder.names)
    check_model_trees(folder, text, encoder.names)
    route.booster = lgb.Booster(model_str=text)
    route.file, route.sha256, route.continued = name, raw["sha256"], bool(raw.get("continued"))
    return route


class RowCalibrator:
    """The calibrator of each row of one matrix: called with raw scores aligned with those
    rows (explanations turn pushes into points through it)."""

    def __init__(self, fallback: Calibrator, routes: SegmentRoutes | None, x: np.ndarray):
        self.fallback, self.routes, self.x = fallback, routes, x
        one = routes.masks(x) if routes is not None and len(x) == 1 else []
        own = [r.calibrator for r, _ in one if r.calibrator is not None]
        self.single: Calibrator = own[0] if own else fallback

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if self.routes is None or raw.ndim == 0 or len(raw) != len(self.x):
            return self.single(raw) if len(self.x) == 1 else self.fallback(raw)
        return self.routes.calibrated(raw, self.x, self.fallback)

    def one(self, raw: float) -> float:
        return self.single.one(raw)
