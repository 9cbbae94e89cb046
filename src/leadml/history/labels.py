"""The outcomes the CRM sent back, as labels for retraining (``leadml retrain``).

A CRM that posts outcomes (``POST /v1/outcomes``) need not export them again: ``retrain`` reads
its leads from an export without the target column and takes each lead's outcome from here,
by lead id. Leads without an outcome yet are left out of training (their result is not known),
and the command says how many.

Ids are matched within the tenants the operator chose (:mod:`leadml.history.tenants`), never
across all of them by default: two CRMs number their leads alike, and another tenant's outcome
for the same id is a different lead's (or a hostile one). Pooled tenants that disagree about an
id stop the read, naming it: whose lead it is cannot be told from the id.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history.engine import error_line, make_engine, redact, sqlite_file
from leadml.history.tables import lead_outcomes
from leadml.history.tenants import Tenants


def stored_outcomes(url: str, chosen: Tenants) -> pd.DataFrame:
    """The chosen tenants' stored outcomes: columns ``lead_id``, ``converted`` (0/1) and
    ``tenant`` (whose outcome it is), one row per id.

    Pooled tenants may share an id: when their outcomes agree the id is kept once (under the
    first tenant by name); when they disagree it is an error naming the id and the tenants.
    """
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise LeadMLError(f"no score history at {path}: no outcomes were posted there")
    engine = make_engine(url)
    c = lead_outcomes.c
    query = sa.select(c.tenant, c.lead_id, c.converted)
    if chosen.one is not None:
        query = query.where(c.tenant == chosen.one)
    elif not chosen.everyone:
        query = query.where(c.tenant.in_(chosen.names))
    try:
        with engine.connect() as conn:
            rows = conn.execute(query).all()
    except sa.exc.SQLAlchemyError as exc:
        raise LeadMLError(
            f"cannot read outcomes from {redact(url)}: {error_line(exc, url)}"
        ) from None
    finally:
        engine.dispose()
    frame = pd.DataFrame(rows, columns=["tenant", "lead_id", "converted"])
    frame["converted"] = frame["converted"].astype(int)
    frame = frame.sort_values(["lead_id", "tenant"], kind="stable")
    verdicts = frame.groupby("lead_id", sort=False)["converted"].nunique()
    split = verdicts[verdicts > 1]
    if len(split):
        lead_id = split.index[0]
        whose = ", ".join(frame.loc[frame["lead_id"] == lead_id, "tenant"])
        more = f" ({len(split):,} ids in all)" if len(split) > 1 else ""
        raise LeadMLError(
            f"lead id {lead_id!r} has opposite outcomes under tenants {whose}{more}: whose lead "
            "it is cannot be told from the id; retrain one tenant with --tenant NAME"
        )
    frame = frame.drop_duplicates("lead_id", keep="first")
    return frame[["lead_id", "converted", "tenant"]].reset_index(drop=True)


def label_from_store(
    frame: pd.DataFrame,
    id_column: str,
    target: str,
    outcomes: pd.DataFrame,
    whose: str = "the score history",
) -> tuple[pd.DataFrame, str]:
    """The leads that have a stored outcome, labelled in ``target``; and a line saying so and
    whose outcomes labelled them (``whose``, and the count per tenant when several did)."""
    if id_column not in frame.columns:
        raise LeadMLError(
            f"the data has no target column '{target}' and no id column '{id_column}' to find "
            "its leads' outcomes by"
        )
    ids = frame[id_column].astype("string")
    known = dict(zip(outcomes["lead_id"], outcomes["converted"], strict=True))
    labels = ids.map(known)
    found = labels.notna().to_numpy()
    kept = frame[found].copy()
    if kept.empty:
        raise LeadMLError(
            f"none of the {len(frame):,} leads has an outcome of {whose} in the score history "
            "(posted with POST /v1/outcomes or `leadml outcomes import`)"
        )
    kept[target] = labels[found].astype(int).to_numpy()
    note = f"{len(kept):,} of {len(frame):,} leads labelled from the outcomes of {whose}"
    if "tenant" in outcomes.columns:
        owner = dict(zip(outcomes["lead_id"], outcomes["tenant"], strict=True))
        counts = ids[found].map(owner).value_counts().sort_index()
        if len(counts) > 1:
            note += " (" + ", ".join(f"{n:,} of {t}'s" for t, n in counts.items()) + ")"
    note += f"; {len(frame) - len(kept):,} without an outcome yet are left out"
    return kept.reset_index(drop=True), note
