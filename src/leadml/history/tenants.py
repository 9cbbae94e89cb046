"""Whose leads a command reads from the score history: one rule for every verb.

Each CRM's key name is a tenant, and CRMs number their leads alike (``L1``, ``L2``, …), so a
lead is a (tenant, lead id) pair: pooling tenants by id mixes one CRM's outcomes into another's
leads (issue 27: tenant B posted the opposite outcomes for 1,500 of tenant A's ids, and a
default retrain learned them). So every verb reads **one tenant** unless the operator pools
tenants outright:

- ``--tenant NAME``: that tenant;
- ``--tenants A,B``: those tenants, pooled;
- ``--all-tenants``: every tenant of the history, pooled;
- none of them: the history's only tenant, or a one-line error listing its tenants and the
  three ways to choose (nothing is changed).

``retrain``, ``thresholds``, ``monitor`` and ``outcomes import`` (which writes one tenant's
outcomes, so takes ``--tenant`` alone) all choose here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from leadml.errors import LeadMLError
from leadml.history.engine import error_line, make_engine, redact, sqlite_file
from leadml.history.tables import DEFAULT_TENANT, lead_outcomes, lead_scores

#: Tenants named in an error at most.
SHOWN = 5
#: How an error tells the operator to choose (reads may pool; a write may not).
CHOOSE_READ = "choose with --tenant NAME (one), --tenants A,B (pooled) or --all-tenants (pooled)"
CHOOSE_WRITE = "name one with --tenant NAME"


@dataclass(frozen=True)
class Tenants:
    """The tenants a command reads: ``names`` (sorted; empty when the history holds none yet),
    whether they are pooled, and ``everyone`` when the operator asked for every tenant."""

    names: tuple[str, ...]
    pooled: bool = False
    everyone: bool = False

    @property
    def one(self) -> str | None:
        """The one tenant read (a SQL filter), or None when several are pooled or none is."""
        return self.names[0] if len(self.names) == 1 else None

    def describe(self) -> str:
        """Whose leads, for the command's output: "tenant crm-a", "tenants crm-a, crm-b
        (pooled)", "every tenant (crm-a, crm-b; pooled)"."""
        if not self.names:
            return "no tenant (the history holds none yet)"
        if len(self.names) == 1 and not self.everyone:
            return f"tenant {self.names[0]}"
        shown = _listed(self.names)
        return f"every tenant ({shown}; pooled)" if self.everyone else f"tenants {shown} (pooled)"

    def keep(self, frame: pd.DataFrame, column: str = "tenant") -> pd.DataFrame:
        """The rows of the chosen tenants (a read of every tenant, filtered after SQL when
        several but not all are pooled)."""
        if self.everyone or not self.names:
            return frame
        return frame[frame[column].isin(self.names)].reset_index(drop=True)


def history_tenants(engine: sa.Engine) -> list[str]:
    """Every tenant with a score or an outcome in the history, sorted (none: an empty or new
    history). Read from the tables as they are: nothing is created or upgraded here."""
    names: set[str] = set()
    try:
        with engine.connect() as conn:
            present = sa.inspect(conn)
            for table in (lead_scores, lead_outcomes):
                if not present.has_table(table.name):
                    continue
                if "tenant" not in {c["name"] for c in present.get_columns(table.name)}:
                    names.add(DEFAULT_TENANT)  # a first-release history: scores before tenants
                    continue
                names.update(conn.execute(sa.select(table.c.tenant).distinct()).scalars())
    except sa.exc.SQLAlchemyError as exc:
        url = engine.url.render_as_string(hide_password=False)
        raise LeadMLError(
            f"score history {redact(url)} cannot be read to tell whose leads it holds "
            f"(nothing was changed): {error_line(exc, url)}"
        ) from None
    return sorted(names)


def parse_tenants(tenant: str | None, tenants: str | None, all_tenants: bool) -> list[str] | None:
    """The names the operator gave (None: none given; every name when ``--all-tenants``: an
    empty list stands for it). One way at a time; ``--tenants`` is a comma-separated list."""
    given = {"--tenant": tenant is not None, "--tenants": tenants is not None}
    given["--all-tenants"] = all_tenants
    if sum(given.values()) > 1:
        both = " and ".join(flag for flag, on in given.items() if on)
        raise LeadMLError(f"{both} cannot go together: each is a whole choice of tenants")
    if tenant is not None:
        if not tenant.strip():
            raise LeadMLError("--tenant needs a name: the API key name the leads were scored under")
        return [tenant.strip()]
    if tenants is not None:
        names = sorted({name.strip() for name in tenants.split(",") if name.strip()})
        if not names:
            raise LeadMLError("--tenants needs names separated by commas (--tenants crm-a,crm-b)")
        return names
    return [] if all_tenants else None


def choose_tenants(
    held: Sequence[str],
    tenant: str | None = None,
    tenants: str | None = None,
    all_tenants: bool = False,
    *,
    why: str,
    write: bool = False,
) -> Tenants:
    """The tenants a command reads, from those the history ``held`` and the operator's choice.

    With none given: the only tenant, else a one-line error listing them and saying ``why``
    the choice matters. A named tenant the history does not hold is an error too (a typo would
    otherwise read nothing, or label nothing); on an empty history any name stands.
    ``write``: one tenant only (``--tenant``), and an empty history means ``default``.
    """
    held = sorted(set(held))
    names = parse_tenants(tenant, tenants, all_tenants)
    if names is None:
        if len(held) > 1:
            choose = CHOOSE_WRITE if write else CHOOSE_READ
            raise LeadMLError(
                f"the score history holds the leads of {len(held)} tenants ({_listed(held)}): "
                f"{choose}; {why}"
            )
        return Tenants(tuple(held) or ((DEFAULT_TENANT,) if write else ()))
    if not names:
        return Tenants(tuple(held), pooled=True, everyone=True)
    unknown = [name for name in names if name not in held]
    if held and unknown:
        raise LeadMLError(
            f"tenant {unknown[0]!r} has no scores or outcomes in the score history: it holds "
            f"{_listed(held)}"
        )
    return Tenants(tuple(names), pooled=len(names) > 1)


def tenants_at(
    url: str,
    tenant: str | None = None,
    tenants: str | None = None,
    all_tenants: bool = False,
    *,
    why: str,
    write: bool = False,
) -> Tenants:
    """``choose_tenants`` on the history at ``url`` (a SQLite file that is not there holds no
    tenant, and is not created by asking)."""
    path = sqlite_file(url)
    if path is not None and not path.is_file():
        held: list[str] = []
    else:
        engine = make_engine(url)
        try:
            held = history_tenants(engine)
        finally:
            engine.dispose()
    return choose_tenants(held, tenant, tenants, all_tenants, why=why, write=write)


def _listed(names: Sequence[str]) -> str:
    more = len(names) - SHOWN
    return ", ".join(names[:SHOWN]) + (f" and {more} more" if more > 0 else "")
