"""A suggested schema and the reasons behind it, said so a person can review it: one line per
decision worth a look (naming columns, never values), and the TOML ``leadml schema infer``
writes, headed by those lines as comments.

:mod:`leadml.data.suggest` makes the suggestion; this module is what it says.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadml.data.column_roles import ColumnReport
from leadml.schema.spec import LeadSchema


@dataclass
class SchemaSuggestion:
    """The suggested schema and the per-column reasons behind it."""

    schema: LeadSchema
    columns: dict[str, ColumnReport]

    def role(self, role: str) -> dict[str, ColumnReport]:
        return {c: r for c, r in self.columns.items() if r.role == role}

    @property
    def placeholders(self) -> dict[str, list[str]]:
        """Column → the placeholder answers found in it: read as missing, but for the form
        defaults ("Select"), which the schema's ``unanswered`` keeps apart as not answered in
        category and ordinal fields."""
        heads = ("placeholders read as missing: ", "form defaults read as not answered")
        out: dict[str, list[str]] = {}
        for column, report in self.columns.items():
            for note in report.notes:
                if note.startswith(heads):
                    out.setdefault(column, []).extend(note.partition(": ")[2].split(", "))
        return {column: sorted(found) for column, found in out.items()}

    @property
    def high_cardinality(self) -> list[str]:
        return [c for c, r in self.columns.items() if any("high cardinality" in n for n in r.notes)]

    @property
    def unassigned(self) -> list[str]:
        """Features no name or value rule placed in a group: the user should say."""
        return [s.name for s in self.schema.features if s.group == "other"]

    def placements(self) -> list[str]:
        """One line per placed feature: its criterion, group and the evidence, e.g.
        "'Search' → source: a yes/no flag named for a channel". Date parts of the time
        column are said with it."""
        lines = []
        for spec in self.schema.features:
            report = self.columns.get(spec.column)
            if spec.group == "other" or (spec.group == "calendar" and spec.source):
                continue
            where = spec.group if spec.criterion == "none" else f"{spec.criterion} ({spec.group})"
            why = (report.evidence if report else "") or "as the schema says"
            lines.append(f"'{spec.name}' → {where}: {why}")
        return lines

    def summary(self) -> list[str]:
        """One line per decision worth a look, naming columns only (never values)."""
        schema = self.schema
        lines = [f"target '{schema.target}' (converted = {schema.positive!r})"]
        for key, title in (("negative", "not converted"), ("open", "still open, never learned")):
            if getattr(schema, key):
                lines.append(f"{title}: {', '.join(repr(v) for v in getattr(schema, key))}")
        if schema.id:
            lines.append(f"id: '{schema.id}'")
        if schema.time:
            lines.append(f"time column: '{schema.time}'")
        for key, title in (("converted_at", "conversion date"), ("closed_at", "close date")):
            column = getattr(schema, key)
            if column:
                why = "; ".join(self.columns[column].notes) if column in self.columns else "given"
                lines.append(f"{title}: '{column}' ({why}; never a feature)")
        if self.schema.day_first:
            lines.append("dates are day first (05/11/2026 = 5 November): day_first = true")
        for role, title in (
            ("pii", "personal data, never a feature"),
            ("staff", "staff, left out"),
            ("excluded", "left out"),
        ):
            for column, report in self.role(role).items():
                lines.append(f"{title}: '{column}' ({'; '.join(report.notes)})")
        for column, values in self.placeholders.items():
            lines.append(f"placeholders in '{column}': {', '.join(values)}")
        notes = [n for r in self.columns.values() for n in r.notes]
        if schema.unanswered and any(n.startswith("form defaults") for n in notes):
            lines.append(
                "form defaults (" + ", ".join(map(repr, schema.unanswered)) + ") are the answer "
                "'(not answered)' in category and ordinal fields, a state of its own apart from "
                "blanks; other placeholders are missing (unanswered = [] in the schema reads "
                "form defaults as missing too)"
            )
        for column in self.high_cardinality:
            lines.append(f"high-cardinality category: '{column}' (rare levels pooled)")
        lines += self.placements()
        if self.unassigned:
            lines.append(
                "unassigned (group 'other': no name or value rule places them): "
                + ", ".join(f"'{c}'" for c in self.unassigned)
                + "; set their group and criterion in the schema (`leadml schema infer --out "
                "FILE` writes it) and train with --schema FILE"
            )
        return lines

    def to_toml(self, source: str | None = None, extra: list[str] | None = None) -> str:
        """The schema as TOML, headed by comments that say what to review."""
        head = ["# Inferred by `leadml schema infer`: review it, then train with --schema."]
        if source:
            head.append(f"# Data: {source}")
        head += [f"# {line}" for line in [*self.summary(), *(extra or [])]]
        return "\n".join(head) + "\n\n" + self.schema.to_toml()
