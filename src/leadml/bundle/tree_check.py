"""The trees of ``model.txt``, read as LightGBM will read them, before LightGBM is given them.

LightGBM trusts its own text format. Its reader (``Tree::Tree(const char*)`` in
``src/io/tree.cpp`` and ``GBDT::LoadModelFromString`` in ``src/boosting/gbdt_model_text.cpp``)
copies a tree's arrays with no bounds check on what they point to, and its predictor follows
them (``CategoricalDecision`` in ``include/LightGBM/tree.h``). So a file edited by hand loads
and predicts most leads, and crashes the process (SIGSEGV) on the first lead that takes the
edited branch: a categorical split whose threshold names a category set the tree does not
have is only read for a *known* category, since a missing value goes right without reading
it. No test lead finds that reliably; reading the structure does, in one pass.

What this module checks, each the way LightGBM uses it:

* the header's ``num_class`` and ``num_tree_per_iteration`` are 1 (a binary model; the latter
  divides the tree count, and 0 stops the process), ``tree_sizes`` (byte lengths LightGBM
  jumps by, unchecked) land each on a ``Tree=`` line inside the file;
* per tree, every key line holds ``=``, ``num_leaves`` is in 1..131,072 (LightGBM's own
  limit), every per-node array has ``num_leaves − 1`` entries and every per-leaf array
  ``num_leaves`` (LightGBM reads that many values whatever the line holds);
* ``split_feature`` within ``0..max_feature_idx``; ``decision_type`` one of the values
  LightGBM writes (bit 0 categorical, bit 1 default left, bits 2–3 the missing type 0–2);
* ``left_child``/``right_child``: internal nodes ``1 ≤ i < num_leaves − 1``, leaves as
  ``~i`` with ``0 ≤ i < num_leaves``, and together one tree: every node and leaf reached
  from the root exactly once (a cycle loops the predictor forever), no deeper than
  :data:`MAX_DEPTH` (TreeSHAP allocates a path buffer quadratic in the depth, and recurses);
* categorical splits: the threshold is a whole number indexing ``0..num_cat − 1``;
  ``cat_boundaries`` holds ``num_cat + 1`` non-decreasing offsets from 0 to the length of
  ``cat_threshold``, which holds exactly that many 32-bit words;
* no linear trees (leadml never trains them, and their per-leaf feature lists are more
  unchecked indices), no NUL byte and no carriage return (LightGBM would read a different
  file than this reader does).

Pure Python on bytes, one pass, converting to numbers only what an index depends on: a
1,000-tree model is checked in a few hundredths of a second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

#: LightGBM refuses ``num_leaves`` above this when training.
MAX_LEAVES = 131_072
#: Deepest tree accepted. Training here keeps at most 63 leaves (depth ≤ 62); TreeSHAP's
#: path buffer is (depth + 1)(depth + 2)/2 elements of 32 bytes: 4 MB at this depth.
MAX_DEPTH = 512
#: Lines LightGBM 4 reads for one tree (``max_num_line``): keys past it are ignored by it.
MAX_TREE_LINES = 22
#: Decision types LightGBM writes: categorical (1) and default-left (2) bits, missing type 0–2.
DECISION_TYPES = frozenset(
    kind | left | (missing << 2) for kind in (0, 1) for left in (0, 2) for missing in (0, 1, 2)
)
NODE_ARRAYS = (
    "split_feature",
    "threshold",
    "left_child",
    "right_child",
    "split_gain",
    "decision_type",
    "internal_value",
    "internal_weight",
    "internal_count",
)
LEAF_ARRAYS = ("leaf_value", "leaf_weight", "leaf_count")
REQUIRED = ("split_feature", "threshold", "left_child", "right_child")
UINT32 = 2**32


class TreeFormatError(ValueError):
    """``model.txt``'s trees are not what LightGBM may safely read; the message names the
    tree and the field."""


@dataclass(frozen=True)
class TreeSummary:
    """What was checked: for the log and the benchmark."""

    trees: int
    nodes: int
    categorical_splits: int
    max_depth: int


def _int(value: bytes, what: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise TreeFormatError(f"{what} is not a whole number ({value[:40]!r})") from None


def _ints(value: bytes, what: str) -> list[int]:
    try:
        return [int(v) for v in value.split()]
    except ValueError:
        raise TreeFormatError(f"{what} holds a value that is not a whole number") from None


def _header(data: bytes, start: int) -> dict[bytes, bytes]:
    header: dict[bytes, bytes] = {}
    for line in data[:start].split(b"\n"):
        key, sep, value = line.partition(b"=")
        if sep:
            header[key] = value
    return header


def _first_tree(data: bytes) -> int:
    if data.startswith(b"Tree="):
        return 0
    at = data.find(b"\nTree=")
    if at < 0:
        raise TreeFormatError("holds no tree")
    return at + 1


def _tree_starts(data: bytes, header: dict[bytes, bytes], first: int) -> list[int]:
    """Byte offsets of each ``Tree=`` line, found as LightGBM finds them."""
    sizes = header.get(b"tree_sizes")
    if sizes is None:  # LightGBM then walks tree after tree, each ending at a blank line
        starts, at = [], first
        while data.startswith(b"Tree=", at):
            starts.append(at)
            end = data.find(b"\n\n", at)
            at = len(data) if end < 0 else end + 2
            while data.startswith(b"\n", at):  # LightGBM skips any run of blank lines
                at += 1
        return starts
    starts, at = [], first
    for i, size in enumerate(_ints(sizes, "tree_sizes")):
        if at >= len(data):
            raise TreeFormatError(
                f"tree_sizes puts tree {i} at byte {at}, past the end ({len(data)} bytes)"
            )
        if not data.startswith(b"Tree=", at):
            raise TreeFormatError(f"tree_sizes puts tree {i} at byte {at}, not on a Tree= line")
        if size <= 0:
            raise TreeFormatError(f"tree_sizes gives tree {i} {size} bytes")
        starts.append(at)
        at += size
    return starts


def _fields(data: bytes, start: int, i: int) -> dict[str, bytes]:
    """The ``key=value`` lines of the tree at ``start`` (its ``Tree=`` line skipped)."""
    line_end = data.find(b"\n", start)
    if line_end < 0:
        raise TreeFormatError(f"tree {i} ends before its first field")
    fields: dict[str, bytes] = {}
    at = line_end + 1
    for _ in range(MAX_TREE_LINES):
        end = data.find(b"\n", at)
        if end < 0:
            raise TreeFormatError(f"tree {i} runs to the end of the file without a blank line")
        if end == at:
            break
        key, sep, value = data[at:end].partition(b"=")
        if not sep:
            raise TreeFormatError(f"tree {i}: line {data[at:end][:40]!r} is not key=value")
        fields[key.decode("ascii", "replace")] = value
        at = end + 1
    return fields


def _count(fields: dict[str, bytes], name: str, expected: int, where: str) -> None:
    value = fields.get(name)
    if value is None:
        if name in REQUIRED or name == "leaf_value":
            raise TreeFormatError(f"{where} has no {name}")
        return
    found = len(value.split())
    if found != expected:
        raise TreeFormatError(f"{where}: {name} holds {found} values, num_leaves needs {expected}")


def _walk(left: list[int], right: list[int], leaves: int, where: str) -> int:
    """Every node and leaf reached from the root once; returns the depth."""
    inner = leaves - 1
    seen_node = bytearray(inner)
    seen_leaf = bytearray(leaves)
    stack = [(0, 0)]
    seen_node[0] = 1
    deepest = 0
    while stack:
        node, depth = stack.pop()
        for child in (left[node], right[node]):
            if child >= 0:
                if child == 0 or child >= inner:
                    raise TreeFormatError(
                        f"{where}: node {node} has child node {child} (internal nodes are "
                        f"1..{inner - 1})"
                    )
                if seen_node[child]:
                    raise TreeFormatError(f"{where}: node {child} is reached twice (not a tree)")
                seen_node[child] = 1
                if depth + 1 > MAX_DEPTH:
                    raise TreeFormatError(f"{where} is deeper than {MAX_DEPTH} levels")
                stack.append((child, depth + 1))
            else:
                leaf = ~child
                if leaf >= leaves:
                    raise TreeFormatError(
                        f"{where}: node {node} has leaf {leaf} (the tree has {leaves} leaves)"
                    )
                if seen_leaf[leaf]:
                    raise TreeFormatError(f"{where}: leaf {leaf} is reached twice (not a tree)")
                seen_leaf[leaf] = 1
                deepest = max(deepest, depth + 1)
    if not all(seen_node) or not all(seen_leaf):
        raise TreeFormatError(f"{where}: some nodes or leaves are not reached from the root")
    return deepest


def _categories(fields: dict[str, bytes], num_cat: int, where: str) -> None:
    """``cat_boundaries``: num_cat + 1 offsets, 0 first, never falling, the last the length of
    ``cat_threshold`` (32-bit words)."""
    bounds = fields.get("cat_boundaries")
    words = fields.get("cat_threshold")
    if bounds is None or words is None:
        raise TreeFormatError(f"{where} has num_cat={num_cat} but no cat_boundaries/cat_threshold")
    offsets = _ints(bounds, f"{where}: cat_boundaries")
    if len(offsets) != num_cat + 1:
        raise TreeFormatError(
            f"{where}: cat_boundaries holds {len(offsets)} values, num_cat={num_cat} needs "
            f"{num_cat + 1}"
        )
    if offsets[0] != 0 or any(b < a for a, b in pairwise(offsets)):
        raise TreeFormatError(f"{where}: cat_boundaries must rise from 0 (got {offsets[:6]})")
    bits = _ints(words, f"{where}: cat_threshold")
    if len(bits) != offsets[-1]:
        raise TreeFormatError(
            f"{where}: cat_threshold holds {len(bits)} words, cat_boundaries says {offsets[-1]}"
        )
    if any(not 0 <= w < UINT32 for w in bits):
        raise TreeFormatError(f"{where}: cat_threshold holds a value outside 32 bits")


def _check_tree(fields: dict[str, bytes], i: int, features: int) -> tuple[int, int, int]:
    """(internal nodes, categorical splits, depth) of tree ``i``, or ``TreeFormatError``."""
    where = f"tree {i}"
    if "num_leaves" not in fields or "num_cat" not in fields:
        raise TreeFormatError(f"{where} has no num_leaves or num_cat")
    leaves = _int(fields["num_leaves"], f"{where}: num_leaves")
    if not 1 <= leaves <= MAX_LEAVES:
        raise TreeFormatError(f"{where}: num_leaves={leaves} (1..{MAX_LEAVES})")
    num_cat = _int(fields["num_cat"], f"{where}: num_cat")
    if not 0 <= num_cat <= max(leaves - 1, 0):
        raise TreeFormatError(f"{where}: num_cat={num_cat} (0..{leaves - 1}, one per split)")
    if _int(fields.get("is_linear", b"0"), f"{where}: is_linear") != 0:
        raise TreeFormatError(f"{where} is a linear tree (leadml never trains them)")
    for name in LEAF_ARRAYS:
        _count(fields, name, leaves, where)
    if leaves == 1:  # LightGBM reads nothing more of a one-leaf tree
        return 0, 0, 0
    inner = leaves - 1
    for name in NODE_ARRAYS:
        _count(fields, name, inner, where)
    split = _ints(fields["split_feature"], f"{where}: split_feature")
    bad = next((f for f in split if not 0 <= f < features), None)
    if bad is not None:
        raise TreeFormatError(
            f"{where}: split_feature {bad} is outside 0..{features - 1} (max_feature_idx)"
        )
    kinds = _ints(fields.get("decision_type", b"0 " * inner), f"{where}: decision_type")
    odd = next((k for k in kinds if k not in DECISION_TYPES), None)
    if odd is not None:
        raise TreeFormatError(f"{where}: decision_type {odd} is not one LightGBM writes")
    left = _ints(fields["left_child"], f"{where}: left_child")
    right = _ints(fields["right_child"], f"{where}: right_child")
    depth = _walk(left, right, leaves, where)
    categorical = [n for n, k in enumerate(kinds) if k & 1]
    if num_cat:
        _categories(fields, num_cat, where)
    if categorical:
        thresholds = fields["threshold"].split()
        for node in categorical:
            try:
                index = float(thresholds[node])
            except ValueError:
                index = math.nan
            if not (math.isfinite(index) and index == int(index) and 0 <= index < num_cat):
                raise TreeFormatError(
                    f"{where}: categorical split at node {node} reads category set "
                    f"{thresholds[node][:30].decode('ascii', 'replace')}, the tree has "
                    f"{num_cat} (0..{num_cat - 1})"
                )
    return inner, len(categorical), depth


def check_trees(text: str | bytes, features: int) -> TreeSummary:
    """Check every tree of a LightGBM text model for ``features`` input columns; raises
    ``TreeFormatError`` naming the tree and the field."""
    data = text.encode() if isinstance(text, str) else text
    if b"\0" in data or b"\r" in data:
        raise TreeFormatError("holds a NUL byte or a carriage return (LightGBM writes neither)")
    first = _first_tree(data)
    header = _header(data, first)
    for key in (b"num_class", b"num_tree_per_iteration"):
        if key in header and header[key] != b"1":
            raise TreeFormatError(f"{key.decode()} is {header[key][:20]!r}, a lead model's is 1")
    max_idx = _int(header.get(b"max_feature_idx", b""), "max_feature_idx")
    if max_idx != features - 1:
        raise TreeFormatError(f"max_feature_idx is {max_idx}, the encoder has {features} features")
    nodes = categorical = deepest = 0
    starts = _tree_starts(data, header, first)
    if not starts:
        raise TreeFormatError("holds no tree")
    for i, start in enumerate(starts):
        inner, cats, depth = _check_tree(_fields(data, start, i), i, features)
        nodes += inner
        categorical += cats
        deepest = max(deepest, depth)
    return TreeSummary(len(starts), nodes, categorical, deepest)
