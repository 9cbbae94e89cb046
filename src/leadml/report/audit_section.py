"""The fairness audit as a section of the model report: a table per audit column, the
sentences, the features that stand in for it.

It reads the JSON-ready audit (:meth:`leadml.fairness.audit.Audit.to_dict`), so the report
shows exactly what ``metrics.json`` and ``leadml audit --json`` hold. Only aggregates: group
labels and figures. The classes are the report's own (``note``, ``warn``, ``text``, ``grid``).
"""

from __future__ import annotations

from html import escape

from jinja2 import Environment, PackageLoader

from leadml.fairness.audit import audit_lines
from leadml.fairness.words import percent, span

_HEAD = (
    "group",
    "leads",
    "selected",
    "selection rate 95 %",
    "ratio to top",
    "TPR 95 %",
    "FPR 95 %",
    "mean probability",
    "observed conversion",
    "ROC AUC 95 %",
)


def _rate(row: dict, name: str) -> str:
    value = percent(row.get(name))
    ci = row.get(f"{name}_ci")
    return f"{value} ({percent(ci[0])}–{percent(ci[1])})" if ci else value


def _auc(row: dict) -> str:
    if row.get("roc_auc") is None:
        return "–"
    ci = span(row.get("roc_auc_ci"))
    return f"{row['roc_auc']:.3f}" + (f" ({ci})" if ci else "")


def _ratio(row: dict) -> str:
    if row.get("ratio") is None:
        return "–"
    return f"{row['ratio']:.2f}" + (" below the floor" if row["flagged"] else "")


def _table(column: dict) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in _HEAD)
    rows = [f"<tr>{cells}</tr>"]
    for row in column["groups"]:
        values = (
            row["group"],
            f"{row['leads']:,}",
            f"{row['selected']:,}",
            _rate(row, "selection_rate"),
            _ratio(row),
            _rate(row, "tpr"),
            _rate(row, "fpr"),
            percent(row.get("mean_probability")),
            percent(row.get("observed_conversion")),
            _auc(row),
        )
        css = ' class="warn"' if row["flagged"] else ""
        tds = "".join(f"<td>{escape(str(v))}</td>" for v in values)
        rows.append(f"<tr{css}>{tds}</tr>")
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def _proxies(column: dict) -> str:
    if not column["proxies"]:
        return ""
    head = '<tr><th>feature</th><th>ROC AUC alone</th><th class="text">best for</th>'
    head += '<th>mutual information (nats)</th><th class="text">possible proxy</th></tr>'
    rows = [head]
    for p in column["proxies"][:5]:
        css = ' class="warn"' if p["proxy"] else ""
        rows.append(
            f"<tr{css}><td>{escape(p['feature'])}</td><td>{p['roc_auc']:.3f}</td>"
            f'<td class="text">{escape(str(p["group"]))}</td>'
            f"<td>{p['mutual_information']:.3f}</td>"
            f'<td class="text">{"yes" if p["proxy"] else "no"}</td></tr>'
        )
    return "<table>\n" + "\n".join(rows) + "\n</table>"


def audit_section(audit: dict, plot_png: str | None = None) -> str:
    """The HTML fragment (an ``<h2>`` and what follows) for the report; ``plot_png``, a
    base64 PNG of :func:`leadml.report.plots_audit.audit_png`, is shown under the tables."""
    parts = [
        "<h2>How does the SQL cut-off treat groups of leads? (fairness audit)</h2>",
        f"<p>{escape(audit_lines(audit)[0])}. Per group of each audit column (never a feature, "
        "never stored): the share the cut-off selects, its ratio to the most-selected group "
        f"(below {audit['ratio_floor']:g} is flagged, the four-fifths rule), true- and "
        "false-positive rates, mean probability against observed conversion, and ROC AUC, "
        f"with 95&nbsp;% bootstrap intervals ({audit['resamples']} resamples).</p>",
    ]
    for name, column in audit["columns"].items():
        parts.append(f"<h3>{escape(name)} <small>({escape(column['how'])})</small></h3>")
        parts.append(_table(column))
        sentences = "".join(f"<li>{escape(line)}</li>" for line in column["lines"])
        parts.append(f'<ul class="note">{sentences}</ul>')
        parts.append(_proxies(column))
    if plot_png:
        parts.append(
            '<figure><img alt="selection rate per group at the SQL cut-off" '
            f'src="data:image/png;base64,{plot_png}"><figcaption>Selection rate per group '
            "at the SQL cut-off, with its 95 % interval.</figcaption></figure>"
        )
    parts.append(
        f'<p class="note">A feature that predicts an audit column on its own (ROC AUC ≥ '
        f"{audit['proxy_auc']:g}, one group against the rest, cross-validated) is named as a "
        "possible proxy: the figures say what the data shows, not whether it is justified.</p>"
    )
    return "\n".join(p for p in parts if p)


def audit_page(audit: dict, title: str, plot_png: str | None = None) -> str:
    """A page of its own for ``leadml audit --out``: the report's head, then the section."""
    environment = Environment(loader=PackageLoader("leadml.report", "."), autoescape=True)
    head = environment.get_template("head.html").render(title=title)
    body = audit_section(audit, plot_png)
    return f"{head}</head><body>\n<h1>{escape(title)}</h1>\n{body}\n</body></html>\n"
