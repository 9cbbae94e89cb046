"""``model.txt`` edited the way someone who can write a bundle folder could edit it.

LightGBM finds each tree by the byte lengths in the header's ``tree_sizes``, so every edit here
rewrites them (and renumbers ``Tree=`` lines): what comes out loads in LightGBM, which is
the point, since only :mod:`leadml.bundle.tree_check` then stands between it and the server.
"""

from __future__ import annotations

import re

#: A category set no tree has: for a known level LightGBM reads ``cat_boundaries`` 8 GB away.
FAR_AWAY = "2000000000"


def split_model(text: str) -> tuple[str, list[str], str]:
    """(header, tree blocks each from its ``Tree=`` line to the next, the rest)."""
    first = text.index("\nTree=") + 1
    end = text.index("end of trees")
    blocks = re.split(r"(?m)^(?=Tree=)", text[first:end])
    return text[:first], [b for b in blocks if b], text[end:]


def join_model(header: str, trees: list[str], rest: str) -> str:
    """The model again, ``Tree=`` lines renumbered and ``tree_sizes`` measured anew."""
    blocks = [re.sub(r"\ATree=\d+", f"Tree={i}", tree) for i, tree in enumerate(trees)]
    sizes = " ".join(str(len(b.encode())) for b in blocks)
    header = re.sub(r"(?m)^tree_sizes=.*$", f"tree_sizes={sizes}", header)
    return header + "".join(blocks) + rest


def tree_fields(tree: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in tree.splitlines()[1:] if "=" in line)


def set_field(tree: str, key: str, value: str) -> str:
    """The tree with ``key=value`` (added before ``shrinkage`` when it has no such line)."""
    if re.search(rf"(?m)^{key}=", tree):
        return re.sub(rf"(?m)^{key}=.*$", lambda _: f"{key}={value}", tree)
    return re.sub(r"(?m)^shrinkage=", f"{key}={value}\nshrinkage=", tree)


def drop_field(tree: str, key: str) -> str:
    return re.sub(rf"(?m)^{key}=.*\n", "", tree)


def edit_tree(text: str, index: int, **fields: str) -> str:
    """``text`` with tree ``index``'s fields replaced (tree_sizes kept right)."""
    header, trees, rest = split_model(text)
    for key, value in fields.items():
        trees[index] = set_field(trees[index], key, value)
    return join_model(header, trees, rest)


def categorical_node(text: str) -> tuple[int, int]:
    """(tree, node) of a categorical split that sends a missing value right without reading
    its category set (missing type NaN): a lead with the field missing never finds an edit
    there, any real level does. A tree's root first, so that every lead reaches it."""
    _, trees, _ = split_model(text)
    found = []
    for t, tree in enumerate(trees):
        kinds = [int(k) for k in tree_fields(tree).get("decision_type", "").split()]
        found += [(node, t) for node, kind in enumerate(kinds) if kind & 1 and kind >> 2 == 2]
    assert found, "the model has no categorical split that sends missing values right"
    node, t = min(found)
    return t, node


def out_of_bounds_category(text: str) -> tuple[str, int, int]:
    """The issue's crafted model: one categorical split's threshold names category set
    2,000,000,000. Returns (model text, tree, node)."""
    t, node = categorical_node(text)
    _, trees, _ = split_model(text)
    thresholds = tree_fields(trees[t])["threshold"].split()
    thresholds[node] = FAR_AWAY
    return edit_tree(text, t, threshold=" ".join(thresholds)), t, node


def many_trees(text: str, count: int) -> str:
    """The model's trees repeated to ``count`` trees (a bigger model of the same shape)."""
    header, trees, rest = split_model(text)
    return join_model(header, [trees[i % len(trees)] for i in range(count)], rest)
