"""The outcomes the CRM sent back, as labels for retraining (``leadml retrain``).

A CRM that posts outcomes (``POST /v1/outcomes``) need not export them again: ``retrain`` reads
its leads from an export without the target column and takes each lead's outcome from here,
by lead id. Leads without an outcome yet are left out of training (their result is not known),
and the command says how many.
"""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history.engine import error_line, make_engine, redact, sqlite_file
from leadml.history.tables import lead_outcomes


def stored_outcomes(url: str, tenant: str | None = None) -> pd.DataFrame:
    """Every stored outcome (one tenant's, or all): columns ``lead_id``, ``converted`` (0/1).

    The same lead id under two tenants is two CRMs' leads: reading all tenants, such an id is
    an error rather than a guess.
    """
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        raise LeadMLError(f"no score history at {path}: no outcomes were posted there")
    engine = make_engine(url)
    c = lead_outcomes.c
    query = sa.select(c.tenant, c.lead_id, c.converted)
    if tenant is not None:
        query = query.where(c.tenant == tenant)
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
    shared = frame["lead_id"][frame["lead_id"].duplicated()]
    if len(shared):
        raise LeadMLError(
            f"lead id {shared.iloc[0]!r} has outcomes under several tenants: say which with "
            "--tenant NAME"
        )
    frame["converted"] = frame["converted"].astype(int)
    return frame[["lead_id", "converted"]]


def label_from_store(
    frame: pd.DataFrame, id_column: str, target: str, outcomes: pd.DataFrame
) -> tuple[pd.DataFrame, str]:
    """The leads that have a stored outcome, labelled in ``target``; and a line saying so."""
    if id_column not in frame.columns:
        raise LeadMLError(
            f"the data has no target column '{target}' and no id column '{id_column}' to find "
            "its leads' outcomes by"
        )
    known = dict(zip(outcomes["lead_id"], outcomes["converted"], strict=True))
    labels = frame[id_column].astype("string").map(known)
    kept = frame[labels.notna().to_numpy()].copy()
    if kept.empty:
        raise LeadMLError(
            f"none of the {len(frame):,} leads has an outcome in the score history (posted with "
            "POST /v1/outcomes or `leadml outcomes import`)"
        )
    kept[target] = labels[labels.notna()].astype(int).to_numpy()
    note = (
        f"{len(kept):,} of {len(frame):,} leads labelled from the outcomes in the score history "
        f"({len(frame) - len(kept):,} without an outcome yet are left out)"
    )
    return kept.reset_index(drop=True), note
