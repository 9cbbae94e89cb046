"""``model.txt``'s trees checked before LightGBM reads them: each refusal, and what passes.

Every edit is made on the session's trained model (``tests.bundle.crafted`` keeps
``tree_sizes`` right, so LightGBM itself would load each of them); each refusal must name the
tree and the field, in one line, and come from ``LeadModel.load`` before LightGBM is called.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import lightgbm as lgb
import pytest

from leadml.bundle.files import MODEL_FILE
from leadml.bundle.model import LeadModel
from leadml.bundle.tree_check import MAX_DEPTH, TreeFormatError, check_trees
from leadml.errors import ModelLoadError
from leadml.modeling.finish import TrainResult
from tests.support.bundles import tamper
from tests.support.crafted import (
    categorical_node,
    drop_field,
    edit_tree,
    join_model,
    many_trees,
    out_of_bounds_category,
    split_model,
    tree_fields,
)

FEATURES = 23


@pytest.fixture(scope="module")
def text(trained: TrainResult) -> str:
    assert trained.bundle is not None
    return (trained.bundle / MODEL_FILE).read_text()


@pytest.fixture(scope="module")
def width(trained: TrainResult) -> int:
    return len(LeadModel.load(trained.bundle).encoder.names)


def refusal(text: str, width: int) -> str:
    with pytest.raises(TreeFormatError) as caught:
        check_trees(text, width)
    message = str(caught.value)
    assert "\n" not in message
    return message


def first_split_tree(text: str) -> int:
    """A tree with at least three leaves (the edits below need two internal nodes)."""
    _, trees, _ = split_model(text)
    return next(i for i, t in enumerate(trees) if int(tree_fields(t)["num_leaves"]) >= 3)


def test_every_trained_model_passes_and_fast(text: str, width: int) -> None:
    started = time.perf_counter()
    summary = check_trees(text, width)
    took = time.perf_counter() - started
    assert summary.trees > 100 and summary.categorical_splits > 0
    assert summary.max_depth <= MAX_DEPTH
    assert took < 0.5, f"{summary.trees} trees took {took:.3f} s"
    print(f"\ntree check: {summary.trees} trees, {summary.nodes} nodes in {took * 1000:.1f} ms")


def test_a_thousand_trees_in_well_under_a_second(text: str, width: int) -> None:
    big = many_trees(text, 1000)
    assert lgb.Booster(model_str=big).num_trees() == 1000  # a model LightGBM loads
    started = time.perf_counter()
    summary = check_trees(big, width)
    took = time.perf_counter() - started
    assert summary.trees == 1000
    assert took < 0.5, f"1,000 trees took {took:.3f} s"
    print(f"\ntree check: 1,000 trees, {summary.nodes} nodes in {took * 1000:.1f} ms")


def test_the_issues_out_of_bounds_category_is_refused(text: str, width: int) -> None:
    crafted, tree, node = out_of_bounds_category(text)
    assert lgb.Booster(model_str=crafted).num_trees() > 0  # LightGBM loads it as it is
    message = refusal(crafted, width)
    assert f"tree {tree}" in message and f"node {node}" in message
    assert "category set 2000000000" in message


def test_categorical_set_lengths_must_agree(text: str, width: int) -> None:
    tree, _ = categorical_node(text)
    _, trees, _ = split_model(text)
    fields = tree_fields(trees[tree])
    words = fields["cat_threshold"].split()
    message = refusal(edit_tree(text, tree, cat_threshold=" ".join(words[:-1])), width)
    assert f"tree {tree}" in message and "cat_threshold" in message
    bounds = fields["cat_boundaries"].split()
    message = refusal(edit_tree(text, tree, cat_boundaries=" ".join(bounds[:-1])), width)
    assert "cat_boundaries" in message and "num_cat" in message
    falling = [bounds[0], bounds[2], bounds[1], *bounds[3:]]
    assert "cat_boundaries must rise" in refusal(
        edit_tree(text, tree, cat_boundaries=" ".join(falling)), width
    )
    # a categorical split in a tree that declares no category set at all
    no_sets = edit_tree(text, tree, num_cat="0")
    assert "reads category set" in refusal(no_sets, width)


@pytest.mark.parametrize("bad", ["-1", "23", "99999"])
def test_split_feature_within_max_feature_idx(text: str, width: int, bad: str) -> None:
    i = first_split_tree(text)
    _, trees, _ = split_model(text)
    features = tree_fields(trees[i])["split_feature"].split()
    features[-1] = bad
    message = refusal(edit_tree(text, i, split_feature=" ".join(features)), width)
    assert f"tree {i}" in message and f"split_feature {bad}" in message


def test_child_indices_in_range_and_one_tree(text: str, width: int) -> None:
    i = first_split_tree(text)
    _, trees, _ = split_model(text)
    fields = tree_fields(trees[i])
    leaves = int(fields["num_leaves"])
    left = fields["left_child"].split()
    cases = {
        str(leaves - 1): "has child node",  # past the internal nodes
        "0": "has child node",  # the root as a child: a cycle
        str(~leaves): f"has leaf {leaves}",  # past the leaves
    }
    for value, said in cases.items():
        edited = [value, *left[1:]]
        message = refusal(edit_tree(text, i, left_child=" ".join(edited)), width)
        assert f"tree {i}" in message and said in message, message
    right = fields["right_child"].split()
    twice = [left[0], *right[1:]]  # the root's right child is its left one too
    message = refusal(edit_tree(text, i, right_child=" ".join(twice)), width)
    assert "reached twice" in message


@pytest.mark.parametrize("field", ["leaf_value", "leaf_count", "threshold", "decision_type"])
def test_array_lengths_match_num_leaves(text: str, width: int, field: str) -> None:
    i = first_split_tree(text)
    _, trees, _ = split_model(text)
    values = tree_fields(trees[i])[field].split()
    message = refusal(edit_tree(text, i, **{field: " ".join(values[:-1])}), width)
    assert f"tree {i}: {field} holds {len(values) - 1} values" in message


def test_required_fields_and_odd_values(text: str, width: int) -> None:
    header, trees, rest = split_model(text)
    trees[2] = drop_field(trees[2], "left_child")
    assert "tree 2 has no left_child" in refusal(join_model(header, trees, rest), width)
    kinds = tree_fields(split_model(text)[1][2])["decision_type"].split()
    message = refusal(edit_tree(text, 2, decision_type=" ".join(["64", *kinds[1:]])), width)
    assert "decision_type 64" in message
    assert "num_leaves=0" in refusal(edit_tree(text, 2, num_leaves="0"), width)
    assert "linear tree" in refusal(edit_tree(text, 2, is_linear="1"), width)
    inner = int(tree_fields(split_model(text)[1][2])["num_leaves"]) - 1
    garbled = edit_tree(text, 2, left_child=" ".join(["a"] * inner))
    assert "not a whole number" in refusal(garbled, width)


def test_header_and_layout(text: str, width: int) -> None:
    assert "num_tree_per_iteration" in refusal(
        text.replace("num_tree_per_iteration=1", "num_tree_per_iteration=0"), width
    )
    assert "max_feature_idx" in refusal(text, width + 1)
    sizes = next(line for line in text.splitlines() if line.startswith("tree_sizes="))
    numbers = sizes.removeprefix("tree_sizes=").split()
    shifted = f"tree_sizes={int(numbers[0]) + 7} {' '.join(numbers[1:])}"
    assert "not on a Tree= line" in refusal(text.replace(sizes, shifted), width)
    assert "carriage return" in refusal(text.replace("\n", "\r\n"), width)
    header, _, rest = split_model(text)
    assert "no tree" in refusal(header + rest, width)


def test_load_refuses_before_lightgbm_reads_it(copied: Path, text: str) -> None:
    """Through ``LeadModel.load``: one line naming the folder, model.txt, the tree, the field;
    and a process that loads it survives (LightGBM was never given the file)."""
    crafted, tree, _ = out_of_bounds_category(text)
    tamper(copied, model_text=crafted)
    with pytest.raises(ModelLoadError) as caught:
        LeadModel.load(copied)
    message = str(caught.value)
    assert message.startswith(f"{copied}: corrupt bundle: {MODEL_FILE} tree {tree}: ")
    assert "\n" not in message


def test_the_canary_crashes_on_what_the_tree_check_refuses(copied: Path, text: str) -> None:
    """Were the tree check absent, the child's test leads (every known level, with TreeSHAP)
    still reach the crafted split: the check process dies, where an empty lead passed."""
    crafted, _, _ = out_of_bounds_category(text)
    (copied.parent / "crafted.txt").write_text(crafted)
    program = f"""
import sys
from pathlib import Path
import lightgbm as lgb
from leadml.bundle.model import LeadModel
from leadml.explain.attributions import explain_lead
from serve.model.candidate import canary
model = LeadModel.load({str(copied)!r})
model.booster = lgb.Booster(model_str=Path({str(copied.parent / "crafted.txt")!r}).read_text())
model.score_one({{}})
explain_lead(model, {{}}, "bant")
print("empty lead passed", flush=True)
canary(model, "bant")
print("canary passed", flush=True)
"""
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=120
    )
    assert "empty lead passed" in done.stdout, done.stderr[-2000:]
    assert "canary passed" not in done.stdout
    assert done.returncode < 0, (done.returncode, done.stderr[-2000:])  # SIGSEGV, not an error
