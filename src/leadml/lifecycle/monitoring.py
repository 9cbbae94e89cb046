"""Monitoring as library calls: a model on recent leads, from a file, from the score history,
or from one tenant's newest leads as the service reads them.

``leadml monitor``, ``GET /v1/monitor`` and the Python API all end in
:func:`leadml.monitor.report.monitor_recent`; what differs is where the leads come from, and
that lives here, once:

- ``monitor_frame``: a table of leads (outcomes from its target column, where there);
- ``monitor_history``: the chosen tenants' leads scored in a window, each at its latest score,
  with the shadow challenger's scores beside them. One tenant unless pooled on purpose:
  pooled, one CRM's leads hide another's drift and performance;
- ``monitor_newest``: one tenant's ``MAX_LEADS`` most recently scored leads of a window, so a
  call costs what 5,000 leads cost whatever the history holds (the service's bound, issue 27).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from leadml.history.window import newest_leads, sample_pairs
from leadml.monitor.recent import from_history, parse_since
from leadml.monitor.report import MonitorResult, monitor_recent

if TYPE_CHECKING:
    import pandas as pd
    import sqlalchemy as sa

    from leadml.bundle.model import LeadModel

#: The window's most recently scored leads ``monitor_newest`` reads (about a second of work).
MAX_LEADS = 5_000
#: The newest scores of the window they are found among (room for leads scored often).
SCAN_SCORES = 4 * MAX_LEADS
#: Why the history's tenants are not pooled unless asked (``leadml.history.tenants``).
POOLING = "pooled, one CRM's leads hide another's drift and performance"


def monitor_frame(
    model: LeadModel,
    frame: pd.DataFrame,
    source: str,
    *,
    framework: str = "bant",
    by: str | None = None,
) -> MonitorResult:
    """``model`` on a table of leads (``source`` names it in the result; ``by="segment"``
    adds the figures per segment)."""
    from leadml.monitor.recent import from_file

    return monitor_recent(model, from_file(model, frame, source), framework=framework, by=by)


def monitor_history(
    model: LeadModel,
    url: str,
    since: str = "30d",
    *,
    tenant: str | None = None,
    tenants: str | None = None,
    all_tenants: bool = False,
    framework: str = "bant",
    say: Callable[[str], object] | None = None,
    by: str | None = None,
) -> MonitorResult:
    """``model`` on the chosen tenants' leads scored since ``since`` (a span such as 30d, or a
    date) in the history at ``url``; ``say`` hears each step (for a spinner)."""
    from leadml.history.engine import make_engine
    from leadml.history.tenants import tenants_at
    from leadml.history.window import scored_leads, shadow_pairs

    start = parse_since(since)
    chosen = tenants_at(url, tenant, tenants, all_tenants, why=POOLING)
    engine = make_engine(url)
    try:
        if say is not None:
            say("Reading the score history")
        scored = chosen.keep(scored_leads(engine, chosen.one, start))
        pairs = chosen.keep(shadow_pairs(engine, chosen.one, start))
    finally:
        engine.dispose()
    # Each lead is (tenant, lead id): pooled tenants' leads sit side by side, never merged.
    whose = f" ({chosen.describe()})" if chosen.names else ""
    recent = from_history(model, scored, f"since {start:%Y-%m-%d %H:%M} UTC{whose}")
    if say is not None:
        say(f"Monitoring {len(recent.leads):,} leads")
    return monitor_recent(model, recent, framework=framework, shadow=pairs, by=by)


def monitor_newest(
    model: LeadModel,
    engine: sa.Engine,
    tenant: str,
    start: datetime,
    full: bool,
    *,
    framework: str = "bant",
    num_threads: int = 0,
    by: str | None = None,
) -> MonitorResult:
    """``model`` on the tenant's newest ``MAX_LEADS`` leads scored since ``start``.

    ``full``: the window holds at least ``SCAN_SCORES`` scores, so the sample is its newest
    scores whatever ``start`` is: the result names the sample, not ``start``, and the shadow
    scores paired are those since the oldest lead sampled (the same for every such window).
    """
    scored = newest_leads(engine, tenant, start, MAX_LEADS, scan=SCAN_SCORES)
    if full and len(scored):
        start = scored["scored_at"].min().to_pydatetime()
        window = f"the newest {len(scored):,} leads, scored since {start:%Y-%m-%d %H:%M} UTC"
    else:
        window = f"since {start:%Y-%m-%d %H:%M} UTC"
    recent = from_history(model, scored, window)
    pairs = sample_pairs(engine, tenant, start, scored)
    result = monitor_recent(
        model, recent, framework=framework, shadow=pairs, num_threads=num_threads, by=by
    )
    if len(scored) == MAX_LEADS:
        result.notes.append(
            f"the window's {MAX_LEADS:,} most recently scored leads are monitored (see sampled)"
        )
    return result
