"""A small web-form export where skipping a question and never seeing it convert differently.

Built by hand (not by the export generator) so that the shares are known: a lead who saw the
form and left "Specialization" at "Select" converts at about 40 %, one who never saw it (blank)
at about 14 %, as on the real EdTech export the issue was written from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from leadml.schema import LeadSchema

SPECIALIZATIONS = ("Finance", "Marketing", "IT", "HR", "Operations")
#: The share of each state of "Specialization" and its conversion rate.
SELECT, BLANK = ("Select", 0.30, 0.40), (None, 0.25, 0.14)
BUDGETS = ["Até R$ 1.000", "R$ 1.000 – 5.000", "Mais de R$ 5.000"]
COUNTRIES = ("Brazil", "India", "Poland", "Spain")


def form_export(rows: int, seed: int = 0) -> pd.DataFrame:
    """Leads as a form tool exports them: placeholders ("Select", "Selecione", "N/A") beside
    blanks, a budget answer in Portuguese, counts, a yes/no flag, an e-mail (personal data)."""
    rng = np.random.default_rng(seed)
    u = rng.random(rows)
    answered = rng.choice(SPECIALIZATIONS, rows)
    special = np.where(u < SELECT[1], SELECT[0], answered).astype(object)
    blank = (u >= SELECT[1]) & (u < SELECT[1] + BLANK[1])
    special[blank] = None
    rate = np.where(u < SELECT[1], SELECT[2], np.where(blank, BLANK[2], 0.27))
    budget_code = rng.integers(0, 3, rows)
    budget = np.asarray(BUDGETS, dtype=object)[budget_code]
    v = rng.random(rows)
    budget[v < 0.15] = "Selecione"
    budget[(v >= 0.15) & (v < 0.25)] = None
    rate = np.clip(rate + np.where(v < 0.25, 0.0, 0.06 * (budget_code - 1)), 0.02, 0.95)
    visits = rng.poisson(4, rows).astype(float)
    rate = np.clip(rate + 0.02 * (visits - 4), 0.02, 0.95)
    visits[rng.random(rows) < 0.08] = np.nan
    country = rng.choice(COUNTRIES, rows).astype(object)
    w = rng.random(rows)
    country[w < 0.10] = "Select"
    country[(w >= 0.10) & (w < 0.15)] = "N/A"
    country[(w >= 0.15) & (w < 0.22)] = None
    return pd.DataFrame(
        {
            "lead_id": [f"L{seed:02d}-{i:05d}" for i in range(rows)],
            "specialization": special,
            "budget": budget,
            "visits": visits,
            "do_not_email": rng.choice(["Yes", "No"], rows, p=[0.2, 0.8]),
            "country": country,
            "email": [f"lead{i}@example.org" for i in range(rows)],
            "converted": (rng.random(rows) < rate).astype(int),
        }
    )


def form_schema(unanswered: list[str] | None = None, monotone_budget: bool = False) -> LeadSchema:
    """The export's schema; ``unanswered`` as a schema would write it (None: an older schema,
    written before the field existed)."""
    raw: dict = {
        "name": "forms",
        "id": "lead_id",
        "target": "converted",
        "pii": ["email"],
        "features": {
            "specialization": {
                "kind": "categorical",
                "group": "qualification",
                "criterion": "need",
            },
            "budget": {
                "kind": "ordinal",
                "levels": BUDGETS,
                "criterion": "budget",
                "monotone": 1 if monotone_budget else 0,
            },
            "visits": {"kind": "numeric", "group": "engagement"},
            "do_not_email": {"kind": "boolean"},
            "country": {"kind": "categorical", "group": "demographic"},
        },
    }
    if unanswered is not None:
        raw["unanswered"] = unanswered
    return LeadSchema.from_dict(raw)
