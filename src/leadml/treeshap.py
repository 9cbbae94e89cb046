"""Exact path-dependent TreeSHAP for LightGBM boosters, compiled with numba: the same numbers as
``booster.predict(x, pred_contrib=True)``, at a fraction of the cost.

Why it exists: LightGBM's own TreeSHAP costs ~1 ms per lead on a typical lead model (every
leaf of every tree is visited and the recursive path bookkeeping is O(depth²) per leaf), which
is tens of times the cost of scoring the lead. Explanations are shown next to every score in
the CRM, so they must cost about as much as the score itself.

How: for one leaf ``l`` with value ``v``, let ``P`` be the distinct features on its path, ``z_j``
the share of training rows that follow the path's splits on ``j`` (the "zero fraction") and
``A`` the features whose splits on the path this lead satisfies. The path-dependent TreeSHAP
game of the leaf is ``v · Π_{j∈S∩A} 1 · Π_{j∈S\\A} 0 · Π_{j∉S} z_j``, so with Shapley weights
``w_d(k) = k!(d-k-1)!/d!`` (``d = |P|``) and ``e_m`` the elementary symmetric polynomials of
``{z_j : j ∈ A}``, ``Zc = Π_{j∈P\\A} z_j``:

* a feature *not* in ``A`` receives ``-v · Zc · Σ_k w_d(k) e_{|A|-k}(A)`` (the same for all);
* a feature ``i`` in ``A`` receives ``v · (1 - z_i) · Zc · Σ_k w_d(k) e_{|A|-1-k}(A \\ {i})``.

That is the closed form of what LightGBM's recursion computes (Lundberg et al. 2020, Algorithm
2), evaluated per leaf without the recursion; ``tests/test_explain.py`` holds it to LightGBM's
``pred_contrib`` to 1e-9 on real models, including missing values, unseen categories and values
exactly on split thresholds. Split decisions follow LightGBM's ``NumericalDecision`` and
``CategoricalDecision`` (missing types None/Zero/NaN, default direction, category sets).

When numba is unavailable, or the model uses something this module does not model (linear
trees, averaged output, multiclass), :func:`compile_tables` returns ``None`` and callers use
``pred_contrib``.
"""

from __future__ import annotations

import itertools
import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # numba ships with shap; without it callers fall back to LightGBM's own TreeSHAP
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba is missing
    njit = None

_MISSING = {"None": 0, "Zero": 1, "NaN": 2}
#: Leaves with more distinct path features than this are evaluated without a table.
MAX_TABLE_SLOTS = 14
_ZERO = 1e-35  # LightGBM's kZeroThreshold


@dataclass(frozen=True)
class TreeTables:
    """A booster's trees flattened into arrays a compiled kernel can walk.

    Nodes are stored in pre-order (a parent before its children), so one forward pass over
    them carries each lead's "which path features does it satisfy" state down to the leaves.
    A node's *slot* is the position of its feature among the distinct features on the path
    from the root; it is the same for every leaf below the node.
    """

    n_features: int
    base_value: float
    node_feature: np.ndarray
    node_threshold: np.ndarray
    node_categorical: np.ndarray
    node_default_left: np.ndarray
    node_missing: np.ndarray
    cat_start: np.ndarray
    cat_len: np.ndarray
    cat_values: np.ndarray
    node_slot: np.ndarray
    node_left: np.ndarray  # child: >= 0 a node, < 0 the leaf ~child
    node_right: np.ndarray
    leaf_value: np.ndarray
    leaf_slot_start: np.ndarray
    slot_feature: np.ndarray
    slot_z: np.ndarray
    slot_ratio: np.ndarray
    table_start: np.ndarray
    table: np.ndarray
    weights: np.ndarray
    max_slots: int

    def arrays(self) -> tuple[np.ndarray, ...]:
        return (
            self.node_feature,
            self.node_threshold,
            self.node_categorical,
            self.node_default_left,
            self.node_missing,
            self.cat_start,
            self.cat_len,
            self.cat_values,
            self.node_slot,
            self.node_left,
            self.node_right,
            self.leaf_value,
            self.leaf_slot_start,
            self.slot_feature,
            self.slot_z,
            self.slot_ratio,
            self.table_start,
            self.table,
            self.weights,
        )


class _Builder:
    """Collects nodes and leaves while walking ``booster.dump_model()``."""

    def __init__(self) -> None:
        self.node_feature: list[int] = []
        self.node_threshold: list[float] = []
        self.node_categorical: list[bool] = []
        self.node_default_left: list[bool] = []
        self.node_missing: list[int] = []
        self.cat_start: list[int] = []
        self.cat_len: list[int] = []
        self.cat_values: list[int] = []
        self.node_slot: list[int] = []
        self.node_left: list[int] = []
        self.node_right: list[int] = []
        self.leaf_value: list[float] = []
        self.leaf_slot_start: list[int] = [0]
        self.slot_feature: list[int] = []
        self.slot_z: list[float] = []
        self.max_slots = 0

    def add_node(self, node: dict[str, Any], slot: int) -> int:
        index = len(self.node_feature)
        self.node_feature.append(int(node["split_feature"]))
        self.node_default_left.append(bool(node.get("default_left", False)))
        self.node_missing.append(_MISSING[str(node.get("missing_type", "None"))])
        self.cat_start.append(len(self.cat_values))
        self.node_slot.append(slot)
        self.node_left.append(0)
        self.node_right.append(0)
        if node["decision_type"] == "==":
            cats = [int(c) for c in str(node["threshold"]).split("||") if c != ""]
            self.node_categorical.append(True)
            self.node_threshold.append(0.0)
            self.cat_values.extend(cats)
            self.cat_len.append(len(cats))
        elif node["decision_type"] == "<=":
            self.node_categorical.append(False)
            self.node_threshold.append(float(node["threshold"]))
            self.cat_len.append(0)
        else:
            raise ValueError(f"unsupported decision type {node['decision_type']!r}")
        return index

    def add_leaf(self, value: float, features: list[int], shares: list[float]) -> int:
        self.slot_feature.extend(features)
        self.slot_z.extend(shares)
        self.leaf_value.append(value)
        self.leaf_slot_start.append(len(self.slot_feature))
        self.max_slots = max(self.max_slots, len(features))
        return ~(len(self.leaf_value) - 1)


class _Unsupported(Exception):
    """The booster uses something the closed form does not model (e.g. linear trees)."""


def _count(node: dict[str, Any]) -> float:
    return float(node["leaf_count"] if "leaf_index" in node else node["internal_count"])


def _walk(
    builder: _Builder,
    node: dict[str, Any],
    features: list[int],
    shares: list[float],
    total: float,
    expected: list[float],
) -> int:
    """Add a subtree in pre-order; return its reference (node index, or ~leaf index).

    ``features``/``shares``: the distinct features on the path so far and, per feature, the
    product of the shares of training rows that followed the path's splits on it.
    """
    if "split_index" not in node:
        if "leaf_coeff" in node:
            raise _Unsupported("linear trees")
        value = float(node["leaf_value"])
        expected[0] += value * (_count(node) / total if total > 0 else 1.0)
        return builder.add_leaf(value, features, shares)
    feature = int(node["split_feature"])
    slot = features.index(feature) if feature in features else len(features)
    index = builder.add_node(node, slot)
    parent = _count(node)
    for side, target in (("left_child", builder.node_left), ("right_child", builder.node_right)):
        child = node[side]
        share = _count(child) / parent
        if slot == len(features):
            child_features, child_shares = [*features, feature], [*shares, share]
        else:
            child_features, child_shares = features, list(shares)
            child_shares[slot] *= share
        target[index] = _walk(builder, child, child_features, child_shares, total, expected)
    return index


def _weights(max_slots: int) -> np.ndarray:
    """Shapley weights ``w[d, k] = k! (d-k-1)! / d!`` for paths of ``d`` distinct features."""
    out = np.zeros((max_slots + 1, max_slots + 1))
    for d in range(1, max_slots + 1):
        for k in range(d):
            out[d, k] = math.factorial(k) * math.factorial(d - k - 1) / math.factorial(d)
    return out


def build_tables(booster: Any) -> TreeTables | None:
    """Flatten a LightGBM booster; ``None`` when it uses features this module does not model."""
    dump = booster.dump_model()
    if dump.get("num_tree_per_iteration", 1) != 1 or dump.get("average_output"):
        return None
    builder = _Builder()
    expected = [0.0]
    for tree in dump["tree_info"]:
        root = tree["tree_structure"]
        if "split_index" not in root:  # a single-leaf tree only shifts the base value
            expected[0] += float(root["leaf_value"])
            continue
        try:
            _walk(builder, root, [], [], _count(root), expected)
        except _Unsupported:
            return None
    if not builder.node_feature:
        return None
    as_int = np.int32
    slot_start = np.asarray(builder.leaf_slot_start, dtype=np.int64)
    slot_z = np.asarray(builder.slot_z, dtype=np.float64)
    sizes = np.diff(slot_start)
    # Per-leaf tables of 2^d entries (Fast TreeSHAP v2): a few MB for lead models. Long paths
    # (rare) and zero shares keep the per-lead polynomial evaluation instead.
    # every leaf below a split has at least one path feature, so reduceat's segments are valid
    has_zero = np.minimum.reduceat(slot_z, slot_start[:-1]) <= 0
    tabled = (sizes <= MAX_TABLE_SLOTS) & ~has_zero
    table_start = np.full(len(sizes), -1, dtype=np.int64)
    lengths = np.where(tabled, 2**sizes, 0)
    table_start[tabled] = (np.cumsum(lengths) - lengths)[tabled]
    weights = _weights(max(builder.max_slots, 1))
    table = np.zeros(max(int(lengths.sum()), 1))
    _fill_tables(table, table_start, slot_start, slot_z, weights)
    safe = np.where(slot_z > 0, slot_z, 1.0)
    ratio = np.where(slot_z > 0, (1.0 - slot_z) / safe, 0.0)
    return TreeTables(
        n_features=int(dump["max_feature_idx"]) + 1,
        base_value=expected[0],
        node_feature=np.asarray(builder.node_feature, dtype=as_int),
        node_threshold=np.asarray(builder.node_threshold, dtype=np.float64),
        node_categorical=np.asarray(builder.node_categorical, dtype=np.bool_),
        node_default_left=np.asarray(builder.node_default_left, dtype=np.bool_),
        node_missing=np.asarray(builder.node_missing, dtype=np.int8),
        cat_start=np.asarray(builder.cat_start, dtype=as_int),
        cat_len=np.asarray(builder.cat_len, dtype=as_int),
        cat_values=np.asarray(builder.cat_values or [0], dtype=np.int64),
        node_slot=np.asarray(builder.node_slot, dtype=np.int64),
        node_left=np.asarray(builder.node_left, dtype=as_int),
        node_right=np.asarray(builder.node_right, dtype=as_int),
        leaf_value=np.asarray(builder.leaf_value, dtype=np.float64),
        leaf_slot_start=np.asarray(builder.leaf_slot_start, dtype=as_int),
        slot_feature=np.asarray(builder.slot_feature, dtype=as_int),
        slot_z=slot_z,
        slot_ratio=ratio,
        table_start=table_start,
        table=table,
        weights=weights,
        max_slots=max(builder.max_slots, 1),
    )


def _row_kernel(
    x,
    out,
    cleared,
    leaf_cleared,
    e,
    e2,
    node_feature,
    node_threshold,
    node_categorical,
    node_default_left,
    node_missing,
    cat_start,
    cat_len,
    cat_values,
    node_slot,
    node_left,
    node_right,
    leaf_value,
    leaf_slot_start,
    slot_feature,
    slot_z,
    slot_ratio,
    table_start,
    table,
    weights,
):  # pragma: no cover - compiled by numba; exercised through Explainer
    # 1. Every split's decision, as LightGBM's Tree::Decision makes it, carried down in
    #    pre-order: a leaf's bit for a path feature is cleared when the lead fails any of the
    #    path's splits on that feature.
    cleared[:] = 0
    for n in range(node_feature.shape[0]):
        v = x[node_feature[n]]
        if node_categorical[n]:
            left = False
            if not np.isnan(v):
                iv = int(v)
                if iv >= 0:
                    for c in range(cat_start[n], cat_start[n] + cat_len[n]):
                        if cat_values[c] == iv:
                            left = True
                            break
        else:
            mt = node_missing[n]
            if np.isnan(v) and mt != 2:
                v = 0.0
            if (mt == 1 and v >= -1e-35 and v <= 1e-35) or (mt == 2 and np.isnan(v)):
                left = node_default_left[n]
            else:
                left = v <= node_threshold[n]
        bit = np.int64(1) << node_slot[n]
        here = cleared[n]
        went_left = np.int64(left)
        into_left = here | (bit * (1 - went_left))
        into_right = here | (bit * went_left)
        child = node_left[n]
        if child >= 0:
            cleared[child] = into_left
        else:
            leaf_cleared[~child] = into_left
        child = node_right[n]
        if child >= 0:
            cleared[child] = into_right
        else:
            leaf_cleared[~child] = into_right
    # 2. Each leaf's closed-form share for the distinct features on its path.
    for leaf in range(leaf_value.shape[0]):
        s0 = leaf_slot_start[leaf]
        d = leaf_slot_start[leaf + 1] - s0
        mask = ((np.int64(1) << d) - 1) & ~leaf_cleared[leaf]
        v = leaf_value[leaf]
        ts = table_start[leaf]
        if ts >= 0:
            cold = -v * table[ts + mask]  # the table holds 0 for the full set
            for s in range(d):
                hot = (mask >> s) & 1  # branch-free: sides are coin flips to the CPU
                share = v * slot_ratio[s0 + s] * table[ts + (mask ^ (np.int64(1) << s))]
                out[slot_feature[s0 + s]] += hot * share + (1 - hot) * cold
            continue
        a = 0
        zc = 1.0
        e[0] = 1.0
        for s in range(d):
            z = slot_z[s0 + s]
            if (mask >> s) & 1:
                a += 1
                e[a] = 0.0
                for m in range(a, 0, -1):
                    e[m] += z * e[m - 1]
            else:
                zc *= z
        scale = v * zc
        cold = 0.0
        if a < d:
            total = 0.0
            for k in range(a + 1):
                total += weights[d, k] * e[a - k]
            cold = -scale * total
        for s in range(d):
            if (mask >> s) & 1:
                z = slot_z[s0 + s]
                e2[0] = 1.0
                for m in range(1, a):
                    e2[m] = e[m] - z * e2[m - 1]
                total = 0.0
                for k in range(a):
                    total += weights[d, k] * e2[a - 1 - k]
                out[slot_feature[s0 + s]] += scale * (1.0 - z) * total
            else:
                out[slot_feature[s0 + s]] += cold


def _fill_tables_kernel(table, table_start, slot_start, slot_z, weights):  # pragma: no cover
    """``table[start + B] = Π_{j∉B} z_j · Σ_k w_d(k) e_{|B|-k}(z_B)`` for every subset B."""
    e = np.empty(weights.shape[0] + 1)
    for leaf in range(table_start.shape[0]):
        ts = table_start[leaf]
        if ts < 0:
            continue
        s0 = slot_start[leaf]
        d = slot_start[leaf + 1] - s0
        for mask in range(1 << d):
            b = 0
            zc = 1.0
            e[0] = 1.0
            for s in range(d):
                z = slot_z[s0 + s]
                if mask & (1 << s):
                    b += 1
                    e[b] = 0.0
                    for m in range(b, 0, -1):
                        e[m] += z * e[m - 1]
                else:
                    zc *= z
            if b == d:
                table[ts + mask] = 0.0  # never read: some feature is always off the set
                continue
            total = 0.0
            for k in range(b + 1):
                total += weights[d, k] * e[b - k]
            table[ts + mask] = zc * total


def _matrix_kernel(x, out, max_slots, n_nodes, n_leaves, *tables):  # pragma: no cover - numba
    cleared = np.empty(n_nodes, dtype=np.int64)
    leaf_cleared = np.empty(n_leaves, dtype=np.int64)
    e = np.empty(max_slots + 1)
    e2 = np.empty(max_slots + 1)
    for i in range(x.shape[0]):
        _row(x[i], out[i], cleared, leaf_cleared, e, e2, *tables)


if njit is not None:
    _row = njit(cache=True, nogil=True)(_row_kernel)
    _matrix = njit(cache=True, nogil=True)(_matrix_kernel)
    _fill_tables = njit(cache=True, nogil=True)(_fill_tables_kernel)
else:  # pragma: no cover
    _row = _matrix = _fill_tables = None


#: Below this many rows a batch runs on the calling thread (thread start-up would dominate).
PARALLEL_MIN_ROWS = 2_048


class Explainer:
    """Compiled TreeSHAP for one booster. Thread-safe: scratch buffers are per thread, and the
    kernels release the GIL, so a thread pool (FastAPI's, or :meth:`matrix`'s) runs them in
    parallel without numba's own threading layer."""

    def __init__(self, tables: TreeTables) -> None:
        self.tables = tables
        self._arrays = tables.arrays()
        self._local = threading.local()

    def _scratch(self) -> tuple[np.ndarray, ...]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            t = self.tables
            scratch = (
                np.empty(len(t.node_feature), dtype=np.int64),
                np.empty(len(t.leaf_value), dtype=np.int64),
                np.empty(t.max_slots + 1),
                np.empty(t.max_slots + 1),
            )
            self._local.scratch = scratch
        return scratch

    def row(self, x: np.ndarray) -> np.ndarray:
        """Contributions for one encoded row: ``(n_features + 1,)``, base value last."""
        t = self.tables
        out = np.zeros(t.n_features + 1)
        row = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
        _row(row, out, *self._scratch(), *self._arrays)
        out[t.n_features] = t.base_value
        return out

    def _run(self, x: np.ndarray, out: np.ndarray) -> None:
        t = self.tables
        _matrix(x, out, t.max_slots, len(t.node_feature), len(t.leaf_value), *self._arrays)

    def matrix(self, x: np.ndarray, num_threads: int = 0) -> np.ndarray:
        """Contributions for every row: ``(n, n_features + 1)``, as ``pred_contrib`` lays out."""
        t = self.tables
        x = np.ascontiguousarray(x, dtype=np.float64)
        out = np.zeros((len(x), t.n_features + 1))
        threads = num_threads if num_threads > 0 else (os.cpu_count() or 1)
        if len(x) < PARALLEL_MIN_ROWS or threads == 1:
            self._run(x, out)
        else:
            bounds = np.linspace(0, len(x), threads + 1).astype(int)
            with ThreadPoolExecutor(max_workers=threads) as pool:
                jobs = [
                    pool.submit(self._run, x[lo:hi], out[lo:hi])
                    for lo, hi in itertools.pairwise(bounds)
                ]
                for job in jobs:
                    job.result()
        out[:, t.n_features] = t.base_value
        return out


def compile_tables(booster: Any) -> Explainer | None:
    """An explainer for ``booster``, or ``None`` to use LightGBM's ``pred_contrib`` instead."""
    if _row is None:
        return None
    tables = build_tables(booster)
    if tables is None:
        return None
    explainer = Explainer(tables)
    explainer.row(np.zeros(tables.n_features))  # compile (or load from cache) now, not per lead
    return explainer
