"""The audit in sentences: facts with their figures, never a verdict.

"The SQL cut-off selects 18 % of leads aged 60+ and 31 % of leads aged 30–39: ratio 0.58,
below 0.8" says what happens and against which rule; whether it is justified (older leads may
convert less, for reasons a business may accept) is for people to judge, so no sentence says
"unfair" or "biased". Every function reads the JSON-ready audit of one column
(:meth:`leadml.fairness.audit.ColumnAudit.to_dict`), so the report and the CLI say the same.
"""

from __future__ import annotations

from leadml.counts import plural
from leadml.fairness.groups import MIN_LEADS, group_words
from leadml.fairness.metrics import RATIO_FLOOR
from leadml.fairness.proxies import PROXY_AUC


def percent(x: float | None) -> str:
    """A rate as people read it: "31 %", "0.4 %" below one in a hundred, "–" when undefined."""
    if x is None:
        return "–"
    return f"{x * 100:.1f} %" if 0 < x < 0.01 else f"{x * 100:.0f} %"


def span(ci: list[float] | None, digits: int = 2) -> str:
    """A 95 % interval as "0.50–0.66" (empty when there is none)."""
    return "" if not ci else f"{ci[0]:.{digits}f}–{ci[1]:.{digits}f}"


def _names(column: dict, group: str) -> str:
    return group_words(column["column"], group, column["how"])


def selection_lines(column: dict) -> list[str]:
    """How the cut-off's selection rates compare across the column's groups."""
    rows, name = column["groups"], column["column"]
    compared = [r for r in rows if r.get("ratio") is not None]
    small = [r for r in rows if r["leads"] < MIN_LEADS]
    lines = []
    if not compared:
        lines.append(f"{name}: the SQL cut-off selects no lead of a group of {MIN_LEADS}+ leads")
    else:
        top = max(compared, key=lambda r: r["selection_rate"] or 0.0)
        flagged = [r for r in compared if r["flagged"]]
        lowest = min(compared, key=lambda r: r["ratio"])
        for row in flagged or ([lowest] if lowest is not top else []):
            between = f" (95 % interval {span(row['ratio_ci'])})" if row.get("ratio_ci") else ""
            rule = "below" if row["flagged"] else "the lowest for " + name + "; none below"
            lines.append(
                f"the SQL cut-off selects {percent(row['selection_rate'])} of "
                f"{_names(column, row['group'])} and {percent(top['selection_rate'])} of "
                f"{_names(column, top['group'])}: ratio {row['ratio']:.2f}{between}, "
                f"{rule} {RATIO_FLOOR:g}"
            )
        if len(compared) == 1:
            lines.append(f"{name}: one group of {MIN_LEADS}+ leads, nothing to compare it with")
    if small:
        lines.append(
            f"{name}: {plural(len(small), 'group')} of fewer than {MIN_LEADS} leads "
            f"({', '.join(r['group'] for r in small)}) given, not compared"
        )
    return lines


def outcome_lines(column: dict) -> list[str]:
    """Among leads with a settled outcome: who the cut-off finds, calibration, ranking."""
    rows = [r for r in column["groups"] if r["leads"] >= MIN_LEADS and r.get("settled")]
    lines = []
    with_tpr = [r for r in rows if r.get("tpr") is not None]
    if len(with_tpr) > 1:
        low = min(with_tpr, key=lambda r: r["tpr"])
        high = max(with_tpr, key=lambda r: r["tpr"])
        if low is not high:
            lines.append(
                f"of the leads that converted, the SQL cut-off selects {percent(low['tpr'])} "
                f"of {_names(column, low['group'])} and {percent(high['tpr'])} of "
                f"{_names(column, high['group'])}"
            )
    judged = [r for r in rows if r.get("observed_conversion") is not None]
    if judged:
        far = max(judged, key=lambda r: abs(r["mean_probability"] - r["observed_conversion"]))
        lines.append(
            f"{_names(column, far['group'])}: mean probability "
            f"{percent(far['mean_probability'])}, observed conversion "
            f"{percent(far['observed_conversion'])} (the widest gap of {column['column']})"
        )
    ranked = [r for r in rows if r.get("roc_auc") is not None]
    if len(ranked) > 1:
        low = min(ranked, key=lambda r: r["roc_auc"])
        high = max(ranked, key=lambda r: r["roc_auc"])
        lines.append(
            f"ROC AUC ranges from {low['roc_auc']:.2f} ({_names(column, low['group'])}) to "
            f"{high['roc_auc']:.2f} ({_names(column, high['group'])})"
        )
    return lines


def proxy_lines(column: dict) -> list[str]:
    """The features that predict the column alone, with the figure; or the strongest one."""
    name, proxies = column["column"], column["proxies"]
    lines = []
    if column.get("is_feature"):
        lines.append(f"{name} is itself a feature of the model")
    named = [p for p in proxies if p["proxy"]]
    for p in named:
        lines.append(
            f"{p['feature']} predicts {name} (ROC AUC {p['roc_auc']:.2f} for {p['group']} "
            f"against the rest, mutual information {p['mutual_information']:.3f} nats): "
            "a possible proxy"
        )
    if not named and proxies:
        best = proxies[0]
        lines.append(
            f"no feature predicts {name} with ROC AUC ≥ {PROXY_AUC:g} on its own "
            f"(highest: {best['feature']}, {best['roc_auc']:.2f})"
        )
    return lines


def column_lines(column: dict) -> list[str]:
    """Every sentence about one audit column, in reading order."""
    return selection_lines(column) + outcome_lines(column) + proxy_lines(column)
