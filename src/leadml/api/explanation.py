"""One lead's explanation as ``Model.explain`` hands it to Python: the numbers, a card a rep
reads, and the waterfall by criterion.

The card is plain text so it prints the same in a notebook, a log and a doctest; the CLI's
coloured card (``leadml explain``) says the same things with its own look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from leadml.explain.points import shown_points

if TYPE_CHECKING:
    import pandas as pd

    from leadml.bundle.model import LeadModel
    from leadml.explain.attributions import LeadExplanation
    from leadml.explain.next_steps import NextStep

_VERDICT = {True: "met", False: "not met", None: "unknown"}


@dataclass(frozen=True)
class Explanation:
    """Why one lead scored what it did, against a qualification framework.

    Attributes
    ----------
    probability : float
        The calibrated probability that the lead converts.
    score : int
        The 0–100 score; ``grade`` (A–D) and ``stage`` are the labels sales works with.
    qualified : bool or None
        The framework's rule (BANT: 3 of 4 criteria met); None: cannot judge yet.
    next_steps : list of NextStep
        Per criterion not met, the smallest change that raises the grade.
    detail : LeadExplanation
        Everything else: contributions per feature, reasons, questions (``to_dict()``).
    """

    title: str
    score: int
    grade: str
    stage: str
    detail: LeadExplanation
    next_steps: list[NextStep] = field(default_factory=list)
    steps_text: list[str] = field(default_factory=list)

    @property
    def probability(self) -> float:
        return self.detail.probability

    @property
    def qualified(self) -> bool | None:
        return self.detail.qualified

    def criteria(self) -> pd.DataFrame:
        """One row per criterion and feature group: points of the score, log-odds, verdict.

        Returns
        -------
        DataFrame
            Indexed by criterion, columns ``points``, ``contribution`` and ``met``.

        Examples
        --------
        >>> table = model.explain(leads.iloc[0]).criteria()
        >>> list(table.columns)
        ['points', 'contribution', 'met']
        >>> "budget" in table.index
        True
        """
        import pandas as pd

        return pd.DataFrame(
            {
                name: {"points": v.points, "contribution": v.contribution, "met": v.met}
                for name, v in self.detail.criteria.items()
            }
        ).T

    def card(self) -> str:
        """The card a sales rep reads: score, verdict, criteria, reasons, next steps.

        Examples
        --------
        >>> print(model.explain(leads.iloc[0]).card())  # doctest: +ELLIPSIS
        Lead ... · score ... · grade ...
        ...
        """
        from leadml.schema.frameworks import criterion_label

        e = self.detail
        name = e.framework.upper()
        verdict = {True: f"{name} qualified", False: f"not {name} qualified"}.get(
            e.qualified, f"{name}: cannot judge yet"
        )
        lines = [
            f"{self.title} · score {self.score} · grade {self.grade} · {self.stage}",
            f"{verdict} · fit {_or_unknown(e.fit)} · engagement {_or_unknown(e.engagement)}",
        ]
        for criterion, v in e.criteria.items():
            if v.features:
                mark = _VERDICT[v.met] if criterion in e.framework_criteria else "group"
                label = criterion_label(criterion)
                lines.append(f"  {label:<22} {shown_points(v.points):>4}  {mark}")
        lines += [f"  + {r.text}  {shown_points(r.points)}" for r in e.positive]
        lines += [f"  − {r.text}  {shown_points(r.points)}" for r in e.negative]
        lines += [f"  ? {q.text}" for q in e.questions]
        lines += [f"  → {step}" for step in self.steps_text]
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Write the waterfall by criterion (points of the 0–100 score) to a PNG.

        Parameters
        ----------
        path : str or Path
            The PNG file to write.

        Returns
        -------
        Path
            The file written.

        Examples
        --------
        >>> png = model.explain(leads.iloc[0]).plot(home / "lead.png")
        >>> png.suffix, png.stat().st_size > 1_000
        ('.png', True)
        """
        from leadml.report.plots import waterfall_png

        return waterfall_png(self.detail, path, title=self.title)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the explanation as ``/v1/explain`` gives it, with the labels."""
        return {
            "score": self.score,
            "grade": self.grade,
            "stage": self.stage,
            **self.detail.to_dict(),
            "next_steps": [step.to_dict() for step in self.next_steps],
        }

    def __str__(self) -> str:
        return self.card()

    def __repr__(self) -> str:
        return f"<Explanation {self.title}: score {self.score}, grade {self.grade}>"


def explain_one(model: LeadModel, lead: dict[str, Any], framework: str, title: str) -> Explanation:
    """One lead dict explained, with its labels and next steps (the serving path's steps)."""
    from leadml.explain.attributions import explain_lead
    from leadml.explain.decisions import lead_decisions

    detail = explain_lead(model, lead, framework)
    row = model.encoder.encode_row(lead)
    labels = model.label_one(detail.probability, row)
    decided = lead_decisions(model, row, [detail.probability], [detail])[0]
    steps = list(decided["next_steps"])
    return Explanation(
        title=title,
        score=int(labels["score"]),
        grade=str(labels["grade"]),
        stage=str(labels["stage"]),
        detail=detail,
        next_steps=steps,
        steps_text=[step.text(model) for step in steps],
    )


def _or_unknown(value: int | None) -> str:
    return "?" if value is None else str(value)
