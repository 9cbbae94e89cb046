"""What the terminal shows, off a terminal too: tables that fold instead of cutting numbers,
counts that agree with their words, the card's start in the base rate's terms."""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.testing import CliRunner

from leadml.cli.render import LOG_WIDTH, backtest_table, grades_table, metrics_table, screen


def fold(n: int, auc: float) -> dict[str, Any]:
    return {
        "fold": n,
        "period": f"2026-0{n}-01 → 2026-0{n + 1}-01",
        "train_rows": 36_168 + n,
        "not_yet_known": 1_204 if n == 2 else 0,
        "test_rows": 9_043,
        "conversion": 0.117,
        "roc_auc": auc,
        "ece": 0.0087,
        "intervals": {"roc_auc": [auc - 0.0131, auc + 0.0124]},
        "baselines": {"logistic_regression": {"roc_auc": 0.7581}},
    }


METRICS: dict[str, Any] = {
    "split": "time (newest 20 %)",
    "roc_auc": 0.8512,
    "pr_auc": 0.4335,
    "log_loss": 0.2871,
    "brier": 0.0821,
    "ece": 0.0087,
    "lift_top_decile": 4.2453,
    "baselines": {
        "base_rate": {"roc_auc": 0.5, "pr_auc": 0.117, "log_loss": 0.3571, "brier": 0.1033},
        "logistic_regression": {"roc_auc": 0.7581, "pr_auc": 0.3312, "log_loss": 0.3011},
    },
    "backtest": {
        "method": "time, rolling origin (5 folds)",
        "folds": [fold(n, 0.8512 - n / 100) for n in range(1, 6)],
        "pooled": {"roc_auc": 0.8401, "ece": 0.0101, "rows": 45_215, "intervals": {}},
        "recency": {"note": "Recency: none (every lead counts the same)."},
    },
    "shipped": {"rows": 45_211, "rounds": 1, "calibration": "none", "calibrated_on": 45_211},
    "grades": [
        {"grade": g, "min_probability": p, "leads": 900, "share": 0.2, "conversion": c}
        for g, p, c in (("A", 0.5, 0.61), ("B", 0.2, 0.3), ("C", 0.05, 0.1), ("D", 0.0, 0.02))
    ],
}


def show_tables() -> None:
    """What ``leadml train`` prints after training."""
    screen.print(backtest_table(METRICS))
    screen.print(metrics_table(METRICS))
    screen.print(grades_table(METRICS["grades"]))


def test_tables_off_a_terminal_fold_instead_of_cutting_numbers(monkeypatch) -> None:
    """A log or a pipe is no terminal: rich would assume 80 columns and cut "(0.851–…"."""
    monkeypatch.delenv("COLUMNS", raising=False)
    app = typer.Typer()
    app.command()(show_tables)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "…" not in out
    assert max(len(line) for line in out.splitlines()) <= LOG_WIDTH
    for f in METRICS["backtest"]["folds"]:
        lo, hi = f["intervals"]["roc_auc"]
        assert f"{f['roc_auc']:.3f} ({lo:.3f}–{hi:.3f})" in out  # on one line, whole
    for name in ("logistic_regression", "lift_top_decile", "observed conversion"):
        assert name in out
    # the caption: count words agree, no "calibrated (none)"
    caption = " ".join(out.split())
    assert "1 round," in caption and "1 rounds" not in caption
    assert "not calibrated" in caption and "calibrated (" not in caption
    # with COLUMNS set the user's width wins, and a narrow one folds rather than cuts
    monkeypatch.setenv("COLUMNS", "60")
    narrow = CliRunner().invoke(app, [], env={"COLUMNS": "60"}).output
    assert max(len(line) for line in narrow.splitlines()) <= 60
    assert not re.search(r"\d…|–…", narrow)
