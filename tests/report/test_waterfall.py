"""One lead's waterfall: points of the 0–100 score, from the average lead to this lead."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import matplotlib.figure
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text

from leadml.report.plots import _signed, waterfall_png

BANT = ("budget", "authority", "need", "timing")


def stand_in(points: dict[str, float], base_score: float = 15.0) -> SimpleNamespace:
    """What ``waterfall_png`` reads of a ``LeadExplanation``, without training a model."""
    criteria = {
        name: SimpleNamespace(features=(f"{name}_field",), met=value > 0, points=value)
        for name, value in points.items()
    }
    criteria["firmographic"] = SimpleNamespace(features=(), met=None, points=0.0)  # no fields
    return SimpleNamespace(
        criteria=criteria,
        points={n: c.points for n, c in criteria.items()},
        base_score=base_score,
        probability=(base_score + sum(points.values())) / 100,
        framework_criteria=BANT,
    )


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[matplotlib.figure.Figure]:
    """The figures ``waterfall_png`` saves, caught on their way to the file."""
    figures: list[matplotlib.figure.Figure] = []
    save = matplotlib.figure.Figure.savefig

    def keep(self, *args, **kwargs):
        figures.append(self)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    return figures


def texts(figure: matplotlib.figure.Figure) -> dict[str, object]:
    ax = figure.axes[0]
    return {t.get_text(): t for t in ax.texts}


@pytest.mark.parametrize(
    "points",
    [
        {"budget": 12.4, "authority": -4.2, "need": 0.3, "timing": 30.1, "engagement": 8.4},
        {"budget": -4.0, "authority": 1.2, "need": -0.1, "timing": -9.3},  # ends below average
        {"budget": 20.0, "authority": 11.2, "need": 30.1, "timing": 22.3},  # 99 points
        {"budget": -9.0, "authority": 3.0, "need": 5.0, "timing": -2.0},  # raises first
        {"budget": 50.0, "authority": 30.0, "need": -10.0, "timing": 10.0},  # lowers first: 95
    ],
)
def test_waterfall_is_in_points_of_the_score(
    tmp_path: Path, drawn: list, points: dict[str, float]
) -> None:
    lead = stand_in(points)
    path = waterfall_png(lead, tmp_path / "deep" / "lead.png", title="Lead L1")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
    (figure,) = drawn
    ax = figure.axes[0]
    assert ax.get_xlabel() == "score (0–100)"
    assert all(0 <= t <= 100 for t in ax.get_xticks())
    # The two ends are named in words, with their scores; no f(x) nor E[f(X)].
    said = texts(figure)
    assert "average lead 15" in said
    assert f"this lead {100 * lead.probability:.0f}" in said
    assert not any("f(x)" in t.lower() for t in said)
    # One bar per criterion with fields, each labelled in points.
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert len(rows) == len(points)
    assert "Budget (met)" in rows or "Budget (not met)" in rows
    assert {_signed(v) for v in points.values()} <= set(said)
    # Bottom to top: one sign's pushes, then the other's, each smallest first, and the
    # running total never leaves 0–100.
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    widths = [bar.get_width() for bar in bars]
    signs = [w > 0 for w in widths]
    assert signs == sorted(signs) or signs == sorted(signs, reverse=True)
    for group in ([w for w in widths if w > 0], [w for w in widths if w <= 0]):
        assert group == sorted(group, key=abs)
    assert all(0 <= bar.get_x() + bar.get_width() <= 100 for bar in bars)
    assert sum(widths) == pytest.approx(100 * lead.probability - lead.base_score)
    assert bars[0].get_x() == pytest.approx(lead.base_score)  # starts at the average lead


def test_the_title_does_not_overlap_the_labels(tmp_path: Path, drawn: list) -> None:
    waterfall_png(stand_in({"budget": 30.0, "timing": 40.0}), tmp_path / "lead.png", "Lead L2")
    (figure,) = drawn
    canvas = FigureCanvasAgg(figure)  # the figure is closed once saved
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = figure.axes[0]
    heading = ax.get_title(loc="left")
    assert heading == "Lead L2 — 85% likely to convert"
    (title,) = [
        t.get_window_extent(renderer)
        for t in ax.get_children()
        if isinstance(t, Text) and t.get_text() == heading
    ]
    labels = [*ax.texts, *ax.get_xticklabels(), *ax.get_yticklabels(), ax.xaxis.label]
    for label in labels:
        if label.get_text():
            assert not title.overlaps(label.get_window_extent(renderer)), label.get_text()
