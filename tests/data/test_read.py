"""Reading raw exports: CSV dialects and encodings, Parquet, Excel, SQL, and outcome joins."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from leadml.data.outcomes import attach_outcomes
from leadml.data.read import describe_source, read_table, sniff_delimiter
from leadml.errors import DataError

LEADS = pd.DataFrame(
    {
        "lead_id": [101, 102, 103, 104],
        "city": ["São Paulo", "Kraków", "Málaga", "Zürich"],
        "budget": [1500.5, 20000.0, 350.25, 1234567.5],
        "source": ["Web", "Feira; evento", 'Quote "x"', "Email"],
    }
)


def _check(frame: pd.DataFrame, cities: list[str] | None = None) -> None:
    assert list(frame.columns) == list(LEADS.columns)
    assert frame["lead_id"].tolist() == LEADS["lead_id"].tolist()
    assert frame["budget"].tolist() == pytest.approx(LEADS["budget"].tolist())
    assert frame["city"].tolist() == (cities or LEADS["city"].tolist())
    assert frame["source"].tolist() == LEADS["source"].tolist()


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_detected(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "leads.csv"
    LEADS.to_csv(path, sep=sep, index=False)
    _check(read_table(path))


def test_european_excel_csv_latin1_semicolons_decimal_commas(tmp_path: Path) -> None:
    """What Excel writes in a Portuguese or Spanish locale: ; , decimal commas, cp1252."""
    path = tmp_path / "export.csv"
    LEADS.drop(columns="city").assign(city=["São Paulo", "Málaga", "Köln", "Açores"])[
        list(LEADS.columns)
    ].to_csv(path, sep=";", decimal=",", index=False, encoding="latin-1")
    assert b"S\xe3o" in path.read_bytes()  # really Latin-1, not UTF-8
    _check(read_table(path), ["São Paulo", "Málaga", "Köln", "Açores"])


def test_decimal_commas_with_form_placeholders_and_thousands(tmp_path: Path) -> None:
    """A CRM writes "N/A" or "-" where a number is unknown; the rest still reads as numbers,
    thousands dots included; a column of plain text with commas stays text."""
    path = tmp_path / "pt.csv"
    path.write_text(
        "receita;tempo;nota\n1.234,5;2,5;boa, mas cara\nN/A;-;ok\n2.000;10,25;ruim, lenta\n",
        encoding="utf-8",
    )
    read = read_table(path)
    assert read["receita"].tolist()[0] == 1234.5 and read["receita"].tolist()[2] == 2000.0
    assert np.isnan(read["receita"][1]) and np.isnan(read["tempo"][1])
    assert read["tempo"].tolist()[2] == 10.25
    assert read["nota"].tolist() == ["boa, mas cara", "ok", "ruim, lenta"]


def test_polish_windows_export_cp1250(tmp_path: Path) -> None:
    path = tmp_path / "polska.csv"
    names = ["Łódź", "Kraków", "Gdańsk", "Poznań"] * 30
    frame = pd.DataFrame({"miasto": names, "budżet": range(len(names))})
    frame.to_csv(path, sep=";", index=False, encoding="cp1250")
    read = read_table(path)
    assert list(read.columns) == ["miasto", "budżet"]
    assert read["miasto"].tolist() == names


def test_utf8_with_bom_and_tabs(tmp_path: Path) -> None:
    path = tmp_path / "leads.tsv"
    LEADS.to_csv(path, sep="\t", index=False, encoding="utf-8-sig")
    _check(read_table(path))


def test_sniffer_ignores_delimiters_inside_quotes() -> None:
    sample = 'a;b;c\n"x, y, z";1;2\n"p, q";3;4\n'
    assert sniff_delimiter(sample) == ";"
    assert sniff_delimiter("just one column\nvalue\n") == ","


def test_parquet_and_excel(tmp_path: Path) -> None:
    LEADS.to_parquet(tmp_path / "leads.parquet", index=False)
    _check(read_table(tmp_path / "leads.parquet"))
    with pd.ExcelWriter(tmp_path / "leads.xlsx", engine="openpyxl") as writer:
        LEADS.head(1).to_excel(writer, sheet_name="Notes", index=False)
        LEADS.to_excel(writer, sheet_name="Leads", index=False)
    assert len(read_table(tmp_path / "leads.xlsx")) == 1  # the first sheet by default
    _check(read_table(f"{tmp_path / 'leads.xlsx'}#Leads"))
    with pytest.raises(DataError, match="no sheet 'Deals'; sheets are: Notes, Leads"):
        read_table(f"{tmp_path / 'leads.xlsx'}#Deals")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.csv", "is empty"),
        (b"\x00\x01\x02binary", "blob.csv", "binary data"),
        (b"not a workbook", "book.xlsx", "not a readable .xlsx"),
        (b"old", "book.xls", "old .xls workbooks"),
        (b"PAR1 broken", "bad.parquet", "cannot read"),
    ],
)
def test_unreadable_files_say_why(tmp_path: Path, content: bytes, name: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_table(path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


# -- SQL -----------------------------------------------------------------------------------------
@pytest.fixture()
def crm_db(tmp_path: Path) -> str:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as conn:
        LEADS.to_sql("leads", conn, index=False)
        pd.DataFrame({"lead_id": [102, 104], "amount": [10.0, 20.0]}).to_sql(
            "deals", conn, index=False
        )
    return f"sqlite:///{path}"


def test_sql_table_and_query(crm_db: str) -> None:
    _check(read_table(f"{crm_db}#leads"))
    query = read_table(f"{crm_db}#SELECT lead_id, budget FROM leads WHERE budget > 1000")
    assert query["lead_id"].tolist() == [101, 102, 104]


def test_sql_without_a_table_lists_the_tables(crm_db: str) -> None:
    with pytest.raises(DataError, match=r"holds 2 tables \(deals, leads\)"):
        read_table(crm_db)
    with pytest.raises(DataError, match=r"no table 'contacts'.*tables are: deals, leads"):
        read_table(f"{crm_db}#contacts")
    with pytest.raises(DataError, match="cannot read from"):
        read_table(f"{crm_db}#SELECT nothing FROM leads")


def test_a_single_table_database_needs_no_table_name(tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    with sqlite3.connect(path) as conn:
        LEADS.to_sql("only", conn, index=False)
    _check(read_table(f"sqlite:///{path}"))


def test_database_errors_never_show_the_password() -> None:
    url = "postgresql+psycopg://crm:s3cret-pw@127.0.0.1:9/crm#leads"
    with pytest.raises(DataError) as caught:
        read_table(url)
    assert "s3cret-pw" not in str(caught.value)
    assert "127.0.0.1" in str(caught.value)
    assert "s3cret-pw" not in describe_source(url)
    with pytest.raises(DataError, match="unknown database type"):
        read_table("nosuchdb://x/y")


@pytest.mark.postgres
def test_postgres_table(tmp_path: Path) -> None:
    """The PostgreSQL server `make test` starts: a real server, a real driver."""
    from sqlalchemy import create_engine

    url = os.environ.get(
        "LEADML_TEST_POSTGRES_URL",
        "postgresql+psycopg://leadml:leadml@127.0.0.1:55432/leadml_test",
    )
    table = f"leads_{os.getpid()}"
    engine = create_engine(url)
    try:
        LEADS.to_sql(table, engine, index=False, if_exists="replace")
        _check(read_table(f"{url}#{table}"))
        assert len(read_table(f"{url}#SELECT * FROM {table} WHERE lead_id > 102")) == 2
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        engine.dispose()


# -- outcomes from a second table ----------------------------------------------------------------
def test_outcomes_mark_converted_leads_and_copy_nothing_else() -> None:
    deals = pd.DataFrame(
        {"lead_id": ["102", "104", "999"], "won_date": ["2024-01-02"] * 3, "value": [1, 2, 3]}
    )
    labelled, warnings = attach_outcomes(LEADS, deals, "lead_id")
    assert labelled["converted"].tolist() == [0, 1, 0, 1]  # int ids meet text ids
    assert list(labelled.columns) == [*LEADS.columns, "converted"]
    assert warnings == ["1 of 3 outcome keys in 'lead_id' match no lead and were ignored"]


def test_outcomes_leave_keyless_leads_unlabelled() -> None:
    leads = LEADS.astype({"lead_id": "object"})
    leads.loc[2, "lead_id"] = None
    labelled, _ = attach_outcomes(leads, pd.DataFrame({"lead_id": [101]}), "lead_id", "won")
    assert labelled["won"].isna().tolist() == [False, False, True, False]


@pytest.mark.parametrize(
    ("leads", "deals", "on", "message"),
    [
        (LEADS, pd.DataFrame({"id": [1]}), "lead_id", "not in the outcome table"),
        (LEADS, pd.DataFrame({"lead_id": [1]}), "mql", "not in the lead table"),
        (LEADS.assign(converted=1), pd.DataFrame({"lead_id": [101]}), "lead_id", "already has"),
        (LEADS, pd.DataFrame({"lead_id": [7, 8]}), "lead_id", "none of the 2 keys"),
        (LEADS, pd.DataFrame({"lead_id": [None]}), "lead_id", "no values"),
    ],
)
def test_outcome_join_errors(leads, deals, on: str, message: str) -> None:
    with pytest.raises(DataError, match=message):
        attach_outcomes(leads, deals, on)


def test_bank_files_are_read_with_their_semicolons(shared_data: Path) -> None:
    frame = read_table(shared_data / "bank-marketing" / "bank-full.csv")
    assert frame.shape == (45211, 17)
    assert frame["y"].value_counts().to_dict() == {"no": 39922, "yes": 5289}
