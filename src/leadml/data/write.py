"""Write a table where the user asked for it: Parquet for ``.parquet``, else CSV."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def write_table(frame: pd.DataFrame, out: str | Path) -> Path:
    """Write ``frame`` (no index) as CSV or Parquet, by the file's suffix; folders are made."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path
