"""How results look in a terminal: rich tables and explanation cards, kept apart from the work.

Everything a command prints beyond a status line is built here, from plain results (metrics
dicts, ``LeadExplanation`` objects), so the library stays free of presentation and a notebook
can print the very same cards.

Off a terminal (a log, a pipe, CI) rich assumes 80 columns and cuts what does not fit with "…",
numbers included ("(0.851–…"). Here both consoles are :data:`LOG_WIDTH` wide there instead
(``COLUMNS`` still wins), and table columns fold a long cell onto a second line rather than cut
it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleDimensions
from rich.table import Table

from leadml.counts import plural
from leadml.explain.points import shown_points
from leadml.schema.frameworks import criterion_label

if TYPE_CHECKING:
    import pandas as pd

    from leadml.bundle.model import LeadModel
    from leadml.explain.attributions import LeadExplanation

#: Columns a console has off a terminal: a log has no right edge to cut numbers at.
LOG_WIDTH = 160


class _Console(Console):
    """rich's console, :data:`LOG_WIDTH` wide when it writes to no terminal and the width is
    neither given nor in ``COLUMNS``; the file is looked at on every print, as rich does (a
    test runner swaps ``sys.stdout`` in and out)."""

    @property  # type: ignore[override]
    def size(self) -> ConsoleDimensions:
        size = Console.size.fget(self)  # type: ignore[attr-defined]
        if self._width is None and not self.is_terminal and "COLUMNS" not in self._environ:
            return ConsoleDimensions(max(size.width, LOG_WIDTH), size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        Console.size.fset(self, new_size)  # type: ignore[attr-defined]


#: Progress, warnings and errors (stderr), so that stdout can be piped.
console = _Console(stderr=True)
#: Results (stdout).
screen = _Console()


def _column(table: Table, name: str, justify: str = "right") -> None:
    """A column that folds a cell too long for it onto the next line instead of cutting it."""
    table.add_column(name, justify=justify, overflow="fold")  # type: ignore[arg-type]


def backtest_table(metrics: dict[str, Any]) -> Table:
    """The backtest fold by fold (oldest first), the pooled folds, and what was shipped."""
    from leadml.report.html import calibration_text

    backtest = metrics["backtest"]
    shipped = metrics["shipped"]
    table = Table(
        title=f"Backtest ({backtest['method']}): each fold learned only from the leads before it"
        if "time" in backtest["method"]
        else f"Backtest ({backtest['method']})",
        caption=f"Shipped: trained on all {plural(shipped['rows'], 'lead')}, "
        f"{plural(shipped['rounds'], 'round')}, "
        f"{calibration_text(shipped['calibration'], shipped['calibrated_on'])}. "
        f"{backtest['recency']['note']}",
    )
    waited = any(f.get("not_yet_known") for f in backtest["folds"])
    columns = ["fold", "leads judged", "learned from"]
    columns += ["not known yet"] if waited else []
    columns += ["conversion", "roc_auc (95 %)", "ece", "logistic regression roc_auc"]
    for c in columns:
        _column(table, c)
    for f in backtest["folds"]:
        lo, hi = f["intervals"].get("roc_auc", [float("nan")] * 2)
        lr = f["baselines"].get("logistic_regression", {}).get("roc_auc", float("nan"))
        table.add_row(
            f"{f['fold']}{' headline' if f is backtest['folds'][-1] else ''}",
            f"{f['period']} ({f['test_rows']:,})",
            f"{f['train_rows']:,}",
            *([f"{f.get('not_yet_known', 0):,}"] if waited else []),
            f"{f['conversion']:.1%}",
            f"{f['roc_auc']:.3f} ({lo:.3f}–{hi:.3f})",
            f"{f['ece']:.3f}",
            f"{lr:.3f}",
        )
    pooled = backtest["pooled"]
    lo, hi = pooled["intervals"].get("roc_auc", [float("nan")] * 2)
    table.add_row(
        "pooled",
        f"every fold ({pooled['rows']:,})",
        "",
        *([""] if waited else []),
        "",
        f"{pooled['roc_auc']:.3f} ({lo:.3f}–{hi:.3f})",
        f"{pooled['ece']:.3f}",
        "",
    )
    if waited:
        table.caption = (
            f"{table.caption} 'not known yet': older leads a fold could not learn from, their "
            "outcome still open or too young at its cutoff."
        )
    return table


def headline_title(split: str) -> str:
    """What the headline fold is, named by the split it came from."""
    if split.startswith("time"):
        return f"the newest leads, {split}"
    return f"one of the {split}, not the newest leads"


def metrics_table(metrics: dict[str, Any]) -> Table:
    """Model next to its baselines, one row each, on the headline fold."""
    cols = ["roc_auc", "pr_auc", "log_loss", "brier", "ece", "lift_top_decile"]
    title = headline_title(str(metrics.get("split", "")))
    table = Table(title=f"Headline fold ({title}): model vs baselines")
    _column(table, "model", "left")
    for c in cols:
        _column(table, c)
    rows = {"leadml (LightGBM)": metrics, **metrics.get("baselines", {})}
    for name, values in rows.items():
        table.add_row(name, *(f"{values.get(c, float('nan')):.3f}" for c in cols))
    return table


def grades_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Grade bands on the headline fold")
    for c in ("grade", "min probability", "leads", "share", "observed conversion"):
        _column(table, c)
    for r in records:
        conv = r.get("conversion")
        table.add_row(
            r["grade"],
            f"{r['min_probability']:.3f}",
            f"{r['leads']:,}",
            f"{r['share']:.0%}",
            "–" if conv is None or conv != conv else f"{conv:.1%}",
        )
    return table


def _verdict_mark(met: bool | None) -> str:
    return {True: "[green]✓ met[/]", False: "[red]✗ not met[/]", None: "[dim]? unknown[/]"}[met]


def _decision_lines(decisions: dict[str, Any] | None, model: LeadModel | None) -> Any:
    """Next steps, the 90 % outcome interval and the unfamiliar flag, as card lines."""
    from rich.text import Text

    lines = Text()
    if not decisions:
        return lines
    for step in decisions.get("next_steps") or []:
        lines.append("  → ", style="magenta").append(f"{step.text(model)}\n")
    interval = decisions.get("interval")
    if interval:
        lines.append(f"  90 % interval: {interval['verdict']}\n", style="dim")
    flag = decisions.get("unfamiliar")
    if flag and flag["unfamiliar"]:
        lines.append("  ⚠ unlike the training leads: ", style="yellow").append(
            "; ".join(flag["reasons"]) + "\n"
        )
    lines.rstrip()
    return lines


def explanation_card(
    explanation: LeadExplanation,
    title: str = "Lead",
    decisions: dict[str, Any] | None = None,
    model: LeadModel | None = None,
) -> Any:
    """A rich panel: probability, the criteria with verdicts, the reasons for and against,
    fit and engagement, and with ``decisions`` (:func:`lead_decisions`) what to do next."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    from leadml.explain.average import average_lead_words, conversion_rate
    from leadml.explain.reasons import MIN_REASON_POINTS as least
    from leadml.explain.verdicts import qualified_rule

    e = explanation
    own = e.framework_criteria
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    name = e.framework.upper()
    table.add_column(name)
    table.add_column("points", justify="right")
    table.add_column("verdict")
    for criterion in own:
        v = e.criteria[criterion]
        if v.features:  # an unrecorded criterion is said once, in the header, not as a row
            table.add_row(criterion_label(criterion), shown_points(v.points), _verdict_mark(v.met))
    others = [(n, v) for n, v in e.criteria.items() if n not in own and v.features]
    for group, v in others:
        table.add_row(f"[dim]{criterion_label(group)}[/]", f"[dim]{shown_points(v.points)}[/]", "")
    lines = Text()
    for r in e.positive:
        lines.append("  + ", style="green").append(f"{r.text}").append(
            f"  {shown_points(r.points)}\n", style="dim"
        )
    for r in e.negative:
        lines.append("  − ", style="red").append(f"{r.text}").append(
            f"  {shown_points(r.points)}\n", style="dim"
        )
    for q in e.questions:
        lines.append("  ? ", style="cyan").append(f"{q.text}\n")
    lines.rstrip()
    verdict = {
        True: f"[green]{name} qualified[/]",
        False: f"[yellow]not {name} qualified[/]",
        None: f"[dim]{name}: cannot judge yet[/]",
    }[e.qualified]
    means = f" [dim]({model.probability_means})[/]" if model is not None else ""
    rate = conversion_rate(model) if model is not None else None
    summary = (
        f"[bold]score {round(e.probability * 100)}[/]{means} · {verdict} · "
        f"[dim]points from {average_lead_words(e.base_score, rate)}[/]"
    )
    sides = " · ".join(
        f"{label} {'?' if value is None else value}"
        for label, value in (("fit", e.fit), ("engagement", e.engagement))
    )
    steps = _decision_lines(decisions, model)
    unrecorded = qualified_rule(model, e.framework).sentence if model is not None else None
    return Panel(
        Group(
            summary,
            Text(sides, style="dim"),
            *((Text(unrecorded, style="yellow"),) if unrecorded else ()),
            Text(""),
            table,
            Text(""),
            lines if lines.plain else Text(f"  (no field moved the score by {least:g} points)"),
            *((Text("Next steps and certainty", style="bold"), steps) if steps.plain else ()),
        ),
        title=f"[bold]{title}[/]",
        title_align="left",
        expand=False,
    )


def explanation_cards(model: LeadModel, frame: pd.DataFrame, framework: str = "bant") -> list[Any]:
    """Rich cards for the rows of a lead frame (the CLI's ``demo`` and ``explain``)."""
    from leadml.explain.attributions import explain_matrix
    from leadml.explain.decisions import lead_decisions

    x = model.matrix(frame)
    explanations = explain_matrix(model, x, framework)
    decisions = lead_decisions(model, x, [e.probability for e in explanations], explanations)
    id_column = model.schema.id
    ids = (
        frame[id_column].astype(str).tolist()
        if id_column and id_column in frame.columns
        else [f"Row {i}" for i in frame.index]
    )
    return [
        explanation_card(e, f"Lead {lead_id}", d, model)
        for lead_id, e, d in zip(ids, explanations, decisions, strict=True)
    ]


def hottest_table(scored: pd.DataFrame, id_column: str | None, title: str) -> Table:
    """The top leads of a scored frame: id, probability, grade, stage and the first reason."""
    table = Table(title=title)
    for column in ("lead", "probability", "grade", "stage", "first reason"):
        _column(table, column, "left")
    for i, row in scored.iterrows():
        lead = str(row[id_column]) if id_column and id_column in scored.columns else f"Row {i}"
        reason = str(row.get("reasons", "") or "").split(" | ")[0]
        table.add_row(
            lead, f"{row['probability']:.1%}", str(row["grade"]), str(row["stage"]), reason
        )
    return table
