"""``leadml thresholds``: the SQL cut-off that sends sales the leads it can work.

The recent inflow (a file of leads, scored here, or the score history's recent leads) gives
the cut-off and its figures (:mod:`leadml.qualify.capacity`). ``--apply`` stores it as the
model's SQL stage band in a new bundle version, never by changing one in place where others
may be reading it: a folder is rewritten whole and swapped in atomically (with its report and
plots), a registered model gets a new version beside the old one, logged as its own MLflow run.
The champion follows only when the reference named it, and the move is recorded as a promotion
(``leadml rollback`` undoes it). Grades and probabilities are never touched: only the stage.
"""

from __future__ import annotations

import getpass
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.table import Table

from leadml.cli.options import (
    DATA_HELP,
    HISTORY_HELP,
    MODEL_HELP,
    AllTenantsOption,
    TenantOption,
    TenantsOption,
    history_url,
    warn_all,
)
from leadml.cli.render import console, screen
from leadml.cli.shell import project_settings
from leadml.counts import plural
from leadml.errors import LeadMLError
from leadml.qualify.capacity import (
    CapacityPlan,
    InflowWindow,
    band_change,
    capacity_plan,
    capacity_record,
    check_capacity,
    inflow_window,
    period_days,
)

if TYPE_CHECKING:
    from leadml.bundle.model import LeadModel
    from leadml.config import Settings
    from leadml.history.tenants import Tenants


@dataclass
class Inflow:
    """Recent leads as probabilities of the model at hand, with when each came in."""

    probability: np.ndarray
    times: pd.Series | None
    source: str
    notes: list[str] = field(default_factory=list)
    #: Each lead's segment code (the model's segment feature), when the model has one.
    segments: np.ndarray | None = None

    def of_segment(self, code: float, name: str) -> Inflow:
        """Only the leads of one segment (``--segment``)."""
        keep = self.segments == code
        if not keep.any():
            raise LeadMLError(f"{self.source} holds no lead of segment {name}")
        times = None if self.times is None else self.times[keep]
        return Inflow(self.probability[keep], times, f"{self.source}, segment {name}", self.notes)


def segment_codes(lead_model: LeadModel, x: np.ndarray) -> np.ndarray | None:
    return None if lead_model.segments is None else x[:, lead_model.segments.index]


def from_file(lead_model: LeadModel, data: str, settings: Settings, weeks: float | None) -> Inflow:
    """A file of leads scored with the model; times from the schema's time column."""
    from leadml.data.parse import parse_dates, resolve_day_first
    from leadml.data.read import describe_source, read_table
    from leadml.features.inputs import check_table_fields

    source = describe_source(data)
    with console.status(f"Reading {source}"):
        frame = read_table(data)
    if frame.empty:
        raise LeadMLError(f"{source} holds no leads")
    time, schema = lead_model.schema.time, lead_model.schema
    has_time = bool(time) and time in frame.columns
    if weeks is None and not has_time:
        named = f"time column '{time}'" if time else "time column (the schema names none)"
        raise LeadMLError(
            f"{source} has no {named} to count leads a period from: add it, or give "
            "--weeks N, the weeks the file's leads came in over"
        )
    share = None if settings.allow_sparse else settings.min_field_share
    given = [c for c in frame.columns if frame[c].notna().any()]
    left_out = check_table_fields(lead_model, given, share)
    notes = [f"not in the table, scored as unknown: {', '.join(left_out)}"] if left_out else []
    with console.status(f"Scoring {len(frame):,} leads"):
        x = lead_model.matrix(frame)
        p = lead_model.predict_proba(x)
    times = parse_dates(frame[time], resolve_day_first(schema, frame)) if has_time else None
    times = None if times is None else times.reset_index(drop=True)
    codes = segment_codes(lead_model, x)
    return Inflow(np.asarray(p, dtype=np.float64), times, source, notes, codes)


def from_history(
    lead_model: LeadModel, settings: Settings, history: str | None, since: str, chosen: Tenants
) -> Inflow:
    """The chosen tenants' leads scored since ``since`` (each once, at its latest score): the
    stored probability where this model (or its booster) scored it, else rescored from the
    values stored with it. One tenant unless the operator pooled them
    (:mod:`leadml.history.tenants`): a cut-off is one sales team's capacity."""
    from leadml.history.engine import make_engine
    from leadml.history.window import scored_leads
    from leadml.monitor.recent import from_history as history_leads
    from leadml.monitor.recent import parse_since

    start = parse_since(since)
    engine = make_engine(history_url(settings, history, "pass --data recent.csv"))
    try:
        with console.status("Reading the score history"):
            scored = chosen.keep(scored_leads(engine, chosen.one, start))
    finally:
        engine.dispose()
    window = f"since {start:%Y-%m-%d %H:%M} UTC" + (
        f" ({chosen.describe()})" if chosen.names else ""
    )
    if scored.empty:
        raise LeadMLError(
            f"the score history holds no scored lead {window}; pass --data recent.csv"
        )
    p = scored["probability"].to_numpy(dtype=np.float64).copy()
    # Versions that differ from this one only in the SQL band score exactly as it does.
    same = {lead_model.version, *(c["from"] for c in lead_model.meta.get("band_changes", []))}
    other = (~scored["model_version"].isin(same)).to_numpy()
    notes = []
    # The values stored, decoded once: every lead's for its segment, else the rescored ones.
    need = np.ones(len(other), dtype=bool) if lead_model.segments is not None else other
    codes = None
    if need.any():
        x = lead_model.matrix(history_leads(lead_model, scored[need], window).leads)
        codes = segment_codes(lead_model, x)
    if other.any():
        p[other] = lead_model.predict_proba(x[other[need]])
        notes.append(
            f"{plural(int(other.sum()), 'lead')} {'was' if other.sum() == 1 else 'were'} "
            "scored by other versions: rescored with "
            f"{lead_model.version} from the values stored (dates are not stored)"
        )
    times = scored["scored_at"].reset_index(drop=True)
    return Inflow(p, times, f"the score history {window}", notes, codes)


def plan_table(plan: CapacityPlan, window: InflowWindow, title: str) -> Table:
    per = plan.per
    table = Table(title=title, caption=window.describe(), show_header=False)
    table.add_column("figure")
    table.add_column("value", justify="right")
    if plan.all_sent:
        cut = f"p ≥ {plan.cutoff:.4f}: every lead (capacity ≥ inflow)"
    else:
        cut = f"p ≥ {plan.cutoff:.4f} (score {round(plan.cutoff * 100)})"
    table.add_row("cut-off", cut)
    table.add_row(f"leads a {per} sent", f"{plan.leads_per_period:,.1f} ({plan.share:.0%})")
    table.add_row(f"inflow a {per}", f"{plan.inflow_per_period:,.1f}")
    table.add_row(
        f"expected conversions a {per} ({plan.level:.0%})",
        f"{plan.expected_per_period:,.1f} ({plan.low:,}–{plan.high:,})",
    )
    lpc = plan.leads_per_conversion
    table.add_row("leads per conversion", "—" if lpc is None else f"{lpc:.1f}")
    below = "" if plan.next_100_cutoff is None else f" (p ≥ {plan.next_100_cutoff:.4f})"
    table.add_row(f"100 more leads a {per} would add", f"+{plan.next_100:.1f} conversions{below}")
    return table


def apply_to_folder(
    folder: Path, lead_model: LeadModel, settings: Settings, plan_cutoff: float
) -> dict[str, Any]:
    """Rewrite the bundle folder whole (report and plots kept), signed when a key is held,
    and swap it in: readers see the old folder or the new one, never a mix."""
    from leadml.bundle.files import copy_bundle, swap_in
    from leadml.bundle.signing import SIGNATURE_FILE, sign_bundle

    if (folder / SIGNATURE_FILE).exists() and settings.bundle_key is None:
        raise LeadMLError(f"{folder} is signed: set LEADML_BUNDLE_KEY to sign the changed bundle")
    base = str(lead_model.meta["derived_from"]["label"]).split("+sql")[0]
    lead_model.meta["version"] = f"{base}+sql{plan_cutoff:.4f}"
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        shutil.rmtree(staging)
        copy_bundle(folder, staging)
        lead_model.write_files(staging)
        if settings.bundle_key is not None:
            sign_bundle(staging, settings.bundle_key)
        swap_in(staging, folder)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"bundle": str(folder), "version": lead_model.version}


def thresholds(
    model: Annotated[str, typer.Option(help=MODEL_HELP, metavar="REF")],
    capacity: Annotated[
        float, typer.Option(help="Leads sales can work a period (see --per).", metavar="N")
    ],
    per: Annotated[str, typer.Option(help="day, week or month.", metavar="PERIOD")] = "week",
    data: Annotated[
        str | None,
        typer.Option(
            help=f"Recent leads instead of the score history. {DATA_HELP}", metavar="FILE"
        ),
    ] = None,
    weeks: Annotated[
        float | None,
        typer.Option(help="Weeks --data's leads came in over (default: their times).", metavar="N"),
    ] = None,
    since: Annotated[
        str, typer.Option(help="History window: 8w, 30d or a date.", metavar="SPAN|DATE")
    ] = "8w",
    tenant: TenantOption = None,
    tenants: TenantsOption = None,
    all_tenants: AllTenantsOption = False,
    history: Annotated[str | None, typer.Option(help=HISTORY_HELP, metavar="URL")] = None,
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Store the cut-off as the model's SQL band (new version)."),
    ] = False,
    segment: Annotated[
        str | None,
        typer.Option(
            help="One segment's leads and SQL band: each team its own capacity.",
            metavar="VALUE",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """The probability cut-off that sends sales about --capacity leads a period, and what it
    brings: conversions (with a 95 % interval), leads per conversion, the next 100 leads."""
    from leadml.tracking.references import is_registry_reference, load_model

    period_days(per)
    capacity = check_capacity(capacity)
    per = per.strip().lower()
    if weeks is not None and data is None:
        raise LeadMLError("--weeks goes with --data FILE (the history's leads carry their times)")
    settings = project_settings()
    with console.status(f"Loading {model}"):
        lead_model = load_model(model, settings.tracking_uri, settings.bundle_key)
    if data is not None:
        inflow = from_file(lead_model, data, settings, weeks)
    else:
        from leadml.history.tenants import tenants_at

        url = history_url(settings, history, "pass --data recent.csv")
        why = "a cut-off is one sales team's capacity"
        chosen = tenants_at(url, tenant, tenants, all_tenants, why=why)
        inflow = from_history(lead_model, settings, history, since, chosen)
    bands = lead_model.bands
    if segment is not None:
        route = lead_model.segment_route(segment)
        inflow, bands = inflow.of_segment(route.code, segment), route.bands or bands
    window = inflow_window(inflow.times, len(inflow.probability), per, weeks)
    plan = capacity_plan(inflow.probability, window.periods, capacity, per)
    notes = [*inflow.notes, *([window.note] if window.note else [])]
    current, label = bands.sql_cutoff, lead_model.version
    result: dict[str, Any] = {
        "model": label,
        "source": inflow.source,
        "window": window.to_dict(),
        "plan": plan.to_dict(),
        "current_sql_cutoff": current,
        "segment": segment,
        "notes": notes,
        "applied": None,
    }
    if not as_json:
        title = f"{label}: SQL from capacity" + (f", segment {segment}" if segment else "")
        screen.print(plan_table(plan, window, title))
        if current is not None:
            screen.print(f"The model's SQL band now: p ≥ {current:.4f}", highlight=False)
    warn_all(notes)
    if apply:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        record = capacity_record(plan, window, inflow.source, at, getpass.getuser())
        with console.status("Writing the new bundle version"):
            if is_registry_reference(model):
                from leadml.tracking.bands import apply_to_registry

                result["applied"] = apply_to_registry(model, settings, plan, record, segment)
            else:
                lead_model.take_capacity(plan, record, segment)
                lead_model.meta = band_change(lead_model.meta, label, plan, record)
                result["applied"] = apply_to_folder(Path(model), lead_model, settings, plan.cutoff)
        say_applied(result["applied"], plan)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))


def say_applied(applied: dict[str, Any], plan: CapacityPlan) -> None:
    if "bundle" in applied:
        console.print(f"[green]✓[/] {applied['bundle']}: {plan.why()} ({applied['version']})")
        return
    name, new, old = applied["registered_model"], applied["version"], applied["from_version"]
    console.print(f"[green]✓[/] {name} v{new} registered: v{old} with {plan.why()}")
    from shlex import quote  # the commands offered paste into a shell, whatever the name

    if applied["moved"]:
        console.print(
            f"  champion moved v{old} → v{new} (undo: leadml rollback --name {quote(name)})"
        )
    else:
        ref = quote(f"models:/{name}/{new}")
        console.print(f"  to serve it: leadml promote --model {ref} --data FILE")
