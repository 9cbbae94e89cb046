"""``leadml outcomes import``: an export of closed leads into the history the service writes,
read as training reads a target, every problem named by rows before anything is stored, and
nothing printed but counts and lead ids."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from leadml.cli import app
from leadml.errors import DataError
from leadml.history.outcomes import stored_time
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory
from leadml.lifecycle.outcome_table import converted_flags, lead_ids, target_column
from tests.support.processes import free_port

EMAIL = "jane.doe@example.com"


def history_with(url: str, lead_ids: list[str], tenant: str = "default") -> None:
    keeper = ScoreHistory(url, days=None)
    keeper.start()
    now = datetime.now(UTC)
    keeper.record(ScoreRecord(tenant, i, "v1", 0.5, 50, "B", now, None) for i in lead_ids)
    assert keeper.flush()
    keeper.close()


def outcomes(url: str) -> dict[tuple[str, str], tuple[bool, datetime | None]]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT tenant, lead_id, converted, outcome_at FROM lead_outcomes")
            ).all()
    finally:
        engine.dispose()
    return {(r[0], r[1]): (bool(r[2]), stored_time(r[3])) for r in rows}


def run(*args: str, home: Path, **env: str):
    return CliRunner().invoke(
        app,
        ["outcomes", "import", *args],
        env={"LEADML_HOME": str(home), "COLUMNS": "300", **env},
    )


def test_import_records_new_and_changed_and_reports_unknown_leads(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history_with(url, ["L1", "L2", "42", "007"])
    export = tmp_path / "closed.csv"
    pd.DataFrame(
        {
            "id": ["L1", "L2", "42", "007", "NOPE-1", "NOPE-2"],
            "email": [EMAIL] * 6,
            "Status": ["Won", "lost", "closed won", "No", "yes", "1"],
            "closed": ["2026-11-30T10:00:00Z", "", "2026-11-30 11:00", "N/A", "", ""],
        }
    ).to_csv(export, index=False)
    args = ["--data", str(export), "--on", "id", "--target", "Status", "--at", "closed"]
    done = run(*args, "--history", url, home=tmp_path)
    assert done.exit_code == 0, done.output
    assert (
        "Recorded 4 outcomes (0 unchanged); 2 lead ids have no score in the history: "
        "NOPE-1, NOPE-2 (not stored)"
    ) in done.output
    assert EMAIL not in done.output
    won_at = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert outcomes(url) == {
        ("default", "L1"): (True, won_at),
        ("default", "L2"): (False, None),
        ("default", "42"): (True, datetime(2026, 11, 30, 11, 0, tzinfo=UTC)),
        ("default", "007"): (False, None),  # the id as written, not the number 7
    }
    again = run(*args, "--history", url, home=tmp_path)
    assert again.exit_code == 0 and "Recorded 0 outcomes (4 unchanged)" in again.output


def test_defaults_the_history_the_service_writes_and_the_converted_column(tmp_path: Path) -> None:
    default = f"sqlite:///{tmp_path / 'data' / 'score_history.db'}"
    history_with(default, ["1", "2", "3"])
    export = tmp_path / "closed.parquet"
    # Ids with a gap read as floats (1.0): stored as "1" as the API stores them.
    pd.DataFrame({"lead": [1.0, 2.0, None], "converted": [True, False, True]}).iloc[:2].to_parquet(
        export
    )
    done = run("--data", str(export), "--on", "lead", home=tmp_path)
    assert done.exit_code == 0, done.output
    assert "Recorded 2 outcomes (0 unchanged)" in done.output
    assert outcomes(default) == {("default", "1"): (True, None), ("default", "2"): (False, None)}


def test_tenant_and_positive(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history_with(url, ["A1", "A2"], tenant="crm-a")
    export = tmp_path / "deals.csv"
    export.write_text("lead_id,stage\nA1,Signed\nA2,Dropped\n")
    done = run(
        "--data", str(export), "--on", "lead_id", "--target", "stage", "--positive", "signed",
        "--tenant", "crm-a", "--history", url, home=tmp_path,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert outcomes(url) == {("crm-a", "A1"): (True, None), ("crm-a", "A2"): (False, None)}
    # Another tenant's leads are unknown to it.
    history_with(url, ["B1"], tenant="crm-b")
    other = run("--data", str(export), "--on", "lead_id", "--target", "stage",
                "--positive", "signed", "--tenant", "crm-b", "--history", url,
                home=tmp_path)  # fmt: skip
    assert "2 lead ids have no score in the history: A1, A2" in other.output


def test_without_tenant_the_only_one_or_a_one_line_error(tmp_path: Path) -> None:
    """The history's only tenant is the one meant; with several, the import asks which (an
    outcome is one CRM's word about its own lead), and a tenant it does not hold is a typo."""
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history_with(url, ["A1", "A2"], tenant="crm-a")
    export = tmp_path / "deals.csv"
    export.write_text("lead_id,converted\nA1,1\nA2,0\n")
    common = ("--data", str(export), "--on", "lead_id", "--history", url)
    done = run(*common, home=tmp_path)
    assert done.exit_code == 0, done.output
    assert "tenant crm-a" in done.output and "Recorded 2 outcomes" in done.output
    assert outcomes(url) == {("crm-a", "A1"): (True, None), ("crm-a", "A2"): (False, None)}
    history_with(url, ["A1"], tenant="crm-b")
    mixed = run(*common, home=tmp_path)
    assert mixed.exit_code == 2
    assert "leads of 2 tenants (crm-a, crm-b): name one with --tenant NAME" in mixed.output
    typo = run(*common, "--tenant", "crm-z", home=tmp_path)
    assert typo.exit_code == 2 and "tenant 'crm-z' has no scores or outcomes" in typo.output
    assert len(outcomes(url)) == 2  # neither stored anything


@pytest.mark.parametrize(
    ("rows", "extra", "message"),
    [
        (
            "L1,won\nL2,\nL3,maybe\nL4,lost\n",
            [],
            "column 'result' has 1 values that say neither converted nor not converted (rows 3)",
        ),
        ("L1,won\n,lost\n", [], "--on column 'id' has 1 rows without a lead id (rows 3)"),
        ("L1,won\n", ["--target", "nope"], "--target column 'nope' is not in the table"),
        ("L1,won\nL3,maybe\nL4,lost\n", [], "cannot tell whether 'maybe' means converted"),
        ("L1,Signed\nL2,Dropped\nL3,Open\n", ["--positive", "signed"], "'dropped'"),
    ],
)
def test_problems_are_one_line_naming_rows_and_nothing_is_stored(
    tmp_path: Path, rows: str, extra: list[str], message: str
) -> None:
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history_with(url, ["L1", "L2", "L3", "L4"])
    export = tmp_path / "closed.csv"
    export.write_text(f"id,result\n{rows}")
    done = run("--data", str(export), "--on", "id", *extra, "--history", url, home=tmp_path)
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert "Traceback" not in done.output
    assert outcomes(url) == {}


def test_refusals(tmp_path: Path) -> None:
    export = tmp_path / "closed.csv"
    export.write_text("id,converted,closed\nL1,1,next tuesday\n")
    missing = tmp_path / "nowhere.db"
    done = run("--data", str(export), "--on", "id", "--history", f"sqlite:///{missing}",
               home=tmp_path)  # fmt: skip
    assert done.exit_code == 2 and "no score history at" in done.output
    assert not missing.exists()
    dead = f"postgresql+psycopg://leadml:secret-pw@127.0.0.1:{free_port()}/nowhere"
    down = run("--data", str(export), "--on", "id", "--history", dead, home=tmp_path)
    assert down.exit_code == 2 and "cannot be read to tell whose leads" in down.output
    assert "(nothing was changed)" in down.output
    assert "secret-pw" not in down.output
    off = run("--data", str(export), "--on", "id", "--history", "none", home=tmp_path)
    assert off.exit_code == 2 and "score history is turned off" in off.output
    url = f"sqlite:///{tmp_path / 'history.db'}"
    history_with(url, ["L1"])
    bad_time = run("--data", str(export), "--on", "id", "--at", "closed", "--history", url,
                   home=tmp_path)  # fmt: skip
    assert bad_time.exit_code == 2
    assert "--at column 'closed' has 1 values that are not times (rows 2)" in bad_time.output
    assert "next tuesday" not in bad_time.output


def test_target_column_defaults() -> None:
    assert target_column(["id", "Converted", "x"], "id", None, None) == "Converted"
    assert target_column(["id", "status", "closed"], "id", "closed", None) == "status"
    assert target_column(["id", "a", "b"], "id", None, "b") == "b"
    with pytest.raises(DataError, match="give --target COLUMN"):
        target_column(["id", "a", "b"], "id", None, None)


def test_converted_flags_read_as_a_target() -> None:
    flags = converted_flags(pd.Series(["Won", "1", 0, 1.0, "No", "closed lost"], name="s"), None)
    assert flags.tolist() == [1, 1, 0, 1, 0, 0]
    # --positive: the one other value is "not converted"; an open lead has no outcome yet.
    two = converted_flags(pd.Series(["A", "b", "a"], name="s"), "a")
    assert two.tolist() == [1, 0, 1]
    assert converted_flags(pd.Series(["Won", "Working"], name="s"), None).tolist() == [1, -1]
    assert lead_ids(pd.Series([1.0, 2.5, "x"], name="id")) == ["1", "2.5", "x"]
