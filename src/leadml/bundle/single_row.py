"""One lead at a time through LightGBM's own single-row predictor (its ``FastConfig`` C API).

``Booster.predict`` is made for matrices: every call builds a predictor object, checks and
converts the input and sizes the output, about 20 µs before the first tree is read, which is
more than the trees themselves cost for one lead's raw score (37 µs against 17 µs measured on
the demo model). LightGBM's C API has a path for exactly this case:
``LGBM_BoosterPredictForMatSingleRowFastInit`` prepares a predictor once and
``LGBM_BoosterPredictForMatSingleRowFast`` reuses it for each row. The Python package does not
wrap it, so it is called here through the library handle the package itself loaded, with the
same prediction parameters ``Booster.predict(..., num_threads=1)`` passes: the same tree walk
and the same TreeSHAP, so the numbers are identical to the last bit (tested against
``Booster.predict``).

A prepared predictor serialises its callers behind a mutex (LightGBM recommends one per
thread), so a pool keeps as many as there have been concurrent callers. They are freed when
this object is collected, and they keep the booster alive until then: a prepared predictor
points into the booster's trees. A pickled copy (Dask sends whole models to its workers)
prepares its own.
"""

from __future__ import annotations

import ctypes
import queue
import weakref
from typing import Literal

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _safe_call

#: LightGBM's C API constants (c_api.h).
PREDICT_TYPES = {"raw": 1, "contrib": 3}
DTYPE_FLOAT64 = 1
#: What ``Booster.predict(..., num_threads=1)`` passes as its prediction parameters.
PARAMETERS = b"num_threads=1"

Kind = Literal["raw", "contrib"]


def _free(handles: queue.SimpleQueue, _booster: lgb.Booster) -> None:
    """Free every prepared predictor (``_booster`` is only held so it outlives them)."""
    while True:
        try:
            handle = handles.get_nowait()
        except queue.Empty:
            return
        _LIB.LGBM_FastConfigFree(handle)


class SingleRowPredictor:
    """``predictor(row)`` → the booster's raw score (``kind="raw"``, an array of one) or its
    contributions with the base value last (``kind="contrib"``) for one float64 row."""

    def __init__(self, booster: lgb.Booster, kind: Kind) -> None:
        self.booster = booster
        self.kind = kind
        self.columns = booster.num_feature()
        self.outputs = self.columns + 1 if kind == "contrib" else 1
        # As Booster.predict chooses: the best iteration when early stopping recorded one.
        best = booster.best_iteration
        self.iterations = best if best > 0 else -1
        self._idle: queue.SimpleQueue = queue.SimpleQueue()
        weakref.finalize(self, _free, self._idle, booster)

    def __reduce__(self) -> tuple:
        # Prepared predictors live in this process's memory: a copy sent elsewhere (a Dask
        # worker receives the whole LeadModel) prepares its own from the same booster.
        return (SingleRowPredictor, (self.booster, self.kind))

    def _prepare(self) -> ctypes.c_void_p:
        handle = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                self.booster._handle,
                ctypes.c_int(PREDICT_TYPES[self.kind]),
                ctypes.c_int(0),
                ctypes.c_int(self.iterations),
                ctypes.c_int(DTYPE_FLOAT64),
                ctypes.c_int32(self.columns),
                ctypes.c_char_p(PARAMETERS),
                ctypes.byref(handle),
            )
        )
        return handle

    def __call__(self, row: np.ndarray) -> np.ndarray:
        row = np.ascontiguousarray(row, dtype=np.float64).reshape(-1)
        if row.shape[0] != self.columns:
            raise ValueError(f"expected {self.columns} values, got {row.shape[0]}")
        out = np.empty(self.outputs, dtype=np.float64)
        written = ctypes.c_int64(0)
        try:
            handle = self._idle.get_nowait()
        except queue.Empty:
            handle = self._prepare()
        try:
            _safe_call(
                _LIB.LGBM_BoosterPredictForMatSingleRowFast(
                    handle,
                    row.ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(written),
                    out.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                )
            )
        finally:
            self._idle.put(handle)
        if written.value != self.outputs:
            raise RuntimeError(f"LightGBM wrote {written.value} values, expected {self.outputs}")
        return out
