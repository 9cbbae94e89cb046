"""Progress off a terminal is plain lines (the step when it changes, then again every few
seconds), and a spinner on one. The commands' own output is tested where they are:
``tests/modeling/test_promotion.py`` (train, retrain, evaluate, promote under CliRunner)."""

from __future__ import annotations

import io
import re
import time

import pytest
from rich.console import Console

from leadml.cli import progress as progress_module
from leadml.cli.progress import PlainProgress, progress


def test_off_a_terminal_the_step_is_written_as_it_changes_and_again_while_it_lasts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(progress_module, "PLAIN_EVERY_S", 0.3)
    monkeypatch.setattr(progress_module, "MIN_GAP_S", 0.05)
    monkeypatch.setattr(progress_module, "QUIET_S", 0.0)
    out = io.StringIO()
    log = Console(file=out, force_terminal=False, width=40)
    with progress("Backtesting over 4 folds", out=log) as status:
        assert isinstance(status, PlainProgress)
        time.sleep(1.0)
        status.update("Fitting the shipped model on all 12,000 leads")
        time.sleep(0.2)
    lines = out.getvalue().splitlines()
    assert all(re.fullmatch(r"… .+, \d+ s", line) for line in lines), lines
    first = [line for line in lines if "Backtesting" in line]
    assert first[0] == "… Backtesting over 4 folds, 0 s" and 3 <= len(first) <= 5, lines
    # a long step is one line, never cut at the console's width
    assert lines[-1] == "… Fitting the shipped model on all 12,000 leads, 1 s", lines
    count = len(lines)
    time.sleep(0.4)
    assert len(out.getvalue().splitlines()) == count  # nothing after the block ends


def test_on_a_terminal_it_is_the_spinner() -> None:
    out = io.StringIO()
    with progress("Training", out=Console(file=out, force_terminal=True)) as status:
        assert not isinstance(status, PlainProgress)
        status.update("Calibrating")
    assert "… Training, 0 s" not in out.getvalue()


def test_a_command_that_stops_at_once_prints_no_progress() -> None:
    """One clear error line, not a progress line before it."""
    out = io.StringIO()
    with progress("Training", out=Console(file=out, force_terminal=False)):
        time.sleep(0.2)
    assert out.getvalue() == ""
