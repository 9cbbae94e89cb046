"""The words a schema may tag a feature with, and what each qualification framework reads.

A schema tags each feature with at most one criterion. The tags are BANT's four (budget,
authority, need, timing), ``goals`` (which only GPCT reads), ``none``, or a framework's own
criterion named directly (``money``, ``urgency``, ...). This table is plain data, kept apart
from the mapping in :mod:`leadml.schema.frameworks` so that the schema can check its tags
against it without importing the code that reads them.
"""

from __future__ import annotations

#: BANT's four criteria; features without one roll up under their group instead.
BANT = ("budget", "authority", "need", "timing")

#: ``group:<name>`` in a source list means "untagged features of that group".
GROUP_PREFIX = "group:"

#: framework → criterion → the schema tags (or ``group:`` sources) that feed it, in order.
FRAMEWORKS: dict[str, dict[str, tuple[str, ...]]] = {
    "bant": {
        "budget": ("budget",),
        "authority": ("authority",),
        "need": ("need",),
        "timing": ("timing",),
    },
    "champ": {
        "challenges": ("need",),
        "authority": ("authority",),
        "money": ("budget",),
        "prioritisation": ("timing",),
    },
    "anum": {
        "authority": ("authority",),
        "need": ("need",),
        "urgency": ("timing",),
        "money": ("budget",),
    },
    "faint": {
        "funds": ("budget",),
        "authority": ("authority",),
        "interest": ("group:engagement",),
        "need": ("need",),
        "timing": ("timing",),
    },
    "gpct": {
        "goals": (),
        "plans": ("budget", "authority"),
        "challenges": ("need",),
        "timeline": ("timing",),
    },
}

#: The tags a schema is written with, in the order error messages list them.
MAIN_TAGS = (*BANT, "goals", "none")

#: Every tag a feature may carry: the main ones and any framework's own criterion.
TAGS = frozenset(MAIN_TAGS) | {c for criteria in FRAMEWORKS.values() for c in criteria}
