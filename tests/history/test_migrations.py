"""The revisions: revision 1 is the first release's table exactly, a history that release wrote
keeps every row through the upgrade, and the newest revision is what ``tables.py`` says."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from leadml.history.changes import with_changes
from leadml.history.engine import make_engine
from leadml.history.rows import ScoreRecord
from leadml.history.store import ScoreHistory
from leadml.history.tables import (
    FIRST_REVISION,
    VERSION_TABLE,
    alembic_config,
    current_revision,
    head_revision,
    metadata,
    upgrade,
)

#: The table exactly as the first release (serve/history.py) created it with create_all: frozen
#: here, so a change to tables.py can never make this test agree with itself.
RELEASE_1 = sa.MetaData()
sa.Table(
    "lead_scores",
    RELEASE_1,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("lead_id", sa.String(500), nullable=False, index=True),
    sa.Column("model_version", sa.String(200), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("score", sa.SmallInteger, nullable=False),
    sa.Column("grade", sa.String(1), nullable=False),
    sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("features", sa.JSON, nullable=True),
)
ROWS = 1500  # more than one chunk of anything


def release_1_rows() -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=30)
    return [
        {
            "lead_id": f"L{i % 400}",
            "model_version": "v1",
            "probability": (i % 100) / 100,
            "score": i % 100,
            "grade": "ABCD"[i % 4],
            "scored_at": start + timedelta(minutes=i),
            "features": {"employees": float(i), "budget_range": "< 10k"},
        }
        for i in range(ROWS)
    ]


def shape(engine: sa.Engine) -> dict[str, Any]:
    """What a database says about lead_scores: columns, keys, indexes."""
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        return {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"])
                for c in inspector.get_columns("lead_scores")
            ],
            "primary_key": inspector.get_pk_constraint("lead_scores")["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes("lead_scores")
            ),
        }


def differences(conn: sa.Connection) -> list:
    """Alembic's comparison of the database with tables.py (empty: they agree)."""
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return compare_metadata(context, metadata)


def drop_all(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS lead_scores"))
        conn.execute(sa.text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on the test database, disposed whatever the test did."""
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_revision_1_is_the_first_release_table(engine: sa.Engine) -> None:
    RELEASE_1.create_all(engine)
    written_by_release_1 = shape(engine)
    drop_all(engine)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), FIRST_REVISION)
    assert shape(engine) == written_by_release_1


def test_a_release_1_history_is_upgraded_without_losing_a_row(db_url: str) -> None:
    engine = make_engine(db_url)
    RELEASE_1.create_all(engine)
    rows = release_1_rows()
    with engine.begin() as conn:
        conn.execute(RELEASE_1.tables["lead_scores"].insert(), rows)
    engine.dispose()

    store = ScoreHistory(db_url)  # what the service does at start
    store.start()
    try:
        assert store.healthy, store.status()
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            kept = conn.execute(
                sa.text("SELECT lead_id, score, tenant FROM lead_scores ORDER BY id")
            ).all()
            # The table is now exactly what the code reads and writes.
            assert differences(conn) == []
        assert [(r.lead_id, r.score) for r in kept] == [(r["lead_id"], r["score"]) for r in rows]
        assert {r.tenant for r in kept} == {"default"}  # whose they were is not known
        # The old rows read back through the store, features and all, and trends still work.
        timeline = store.lead("default", "L7")
        assert [r["score"] for r in timeline] == [r["score"] for r in rows if r["lead_id"] == "L7"]
        assert timeline[0]["features"] == {"employees": 7.0, "budget_range": "< 10k"}
        assert store.previous_scores("default", ["L399"]) == {"L399": rows[1499]["score"]}
        stamp = datetime.now(UTC)
        store.record([ScoreRecord("crm-a", "L7", "v2", 0.9, 90, "A", stamp, None)])
        assert store.flush()
        assert len(store.lead("default", "L7")) == len(timeline)
        assert [r["score"] for r in store.lead("crm-a", "L7")] == [90]
    finally:
        store.close()

    again = make_engine(db_url)  # a second start finds it at the newest revision: no change
    try:
        assert upgrade(again) == (head_revision(), head_revision())
        with again.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM lead_scores")).scalar() == ROWS + 1
    finally:
        again.dispose()


def test_a_new_database_gets_the_newest_table(engine: sa.Engine) -> None:
    assert upgrade(engine) == (None, head_revision())
    with engine.connect() as conn:
        assert differences(conn) == []


def test_revisions_go_down_and_up_again(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), FIRST_REVISION)
    assert "tenant" not in {c[0] for c in shape(engine)["columns"]}
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        assert differences(conn) == []


def test_a_history_beside_mlflow_ignores_mlflow_revisions(engine: sa.Engine) -> None:
    """MLflow's store also uses Alembic, with the default version table: not ours to read."""
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO alembic_version VALUES ('1b5f0d9ad7c1')"))
    assert upgrade(engine) == (None, head_revision())
    with engine.connect() as conn:
        mlflow = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert mlflow == "1b5f0d9ad7c1"


@pytest.mark.postgres
def test_the_upgrade_stays_in_the_schema_the_url_names(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        upgrade(engine)
        schema = sa.make_url(postgres_url).query["options"].removeprefix("-csearch_path=")
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
            assert {"lead_scores", VERSION_TABLE} <= set(tables)
            public = conn.execute(
                sa.text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = 'public' AND table_name = :t"
                ),
                {"t": VERSION_TABLE},
            ).scalar()
        assert public == 0
    finally:
        engine.dispose()


def test_a_history_from_a_newer_release_is_left_as_it_is(
    engine: sa.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """A rollback: the newer release's revision is not ours to undo; writing goes on."""
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {VERSION_TABLE} SET version_num = '0099'"))
    assert upgrade(engine) == ("0099", "0099")
    assert any("does not know" in m for m in caplog.messages)
    with engine.connect() as conn:
        assert current_revision(conn) == "0099"


def test_a_history_before_criterion_points_keeps_its_rows_and_reads_them_as_unexplained(
    db_url: str,
) -> None:
    """Revision 3 to the newest: the rows stay, their criteria read as null (never invented),
    and a change into a new explained score says how much it moved, not why."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0003")
    rows = [{**r, "tenant": "crm-a"} for r in release_1_rows()[:20]]
    with engine.begin() as conn:
        conn.execute(sa.Table("lead_scores", sa.MetaData(), autoload_with=conn).insert(), rows)
    engine.dispose()

    store = ScoreHistory(db_url)
    store.start()
    try:
        assert store.healthy, store.status()
        old = store.lead("crm-a", "L3")
        assert [r["score"] for r in old] == [r["score"] for r in rows if r["lead_id"] == "L3"]
        assert [r["criteria"] for r in old] == [None]
        assert old[0]["features"] == {"employees": 3.0, "budget_range": "< 10k"}
        points = {"budget": 5.0, "other": 1.0}
        stamp = datetime.now(UTC)
        store.record([ScoreRecord("crm-a", "L3", "v2", 0.6, 60, "B", stamp, criteria=points)])
        assert store.flush()
        timeline = with_changes(store.lead("crm-a", "L3"), 100)
        assert [r["criteria"] for r in timeline] == [None, points]
        change = timeline[1]["change"]
        assert (change["from_score"], change["to_score"], change["criteria"]) == (3, 60, None)
        with store.engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            assert differences(conn) == []
    finally:
        store.close()


RACE = """
import sys, time
from leadml.history.engine import make_engine
from leadml.history.tables import upgrade
start = float(sys.argv[2])
while time.time() < start:
    pass
upgrade(make_engine(sys.argv[1]))
"""


def test_two_processes_creating_a_fresh_sqlite_history_both_succeed(tmp_path) -> None:
    """Two services (or a service and a CLI verb) starting at once on a new SQLite file: both
    get the newest table, neither fails with 'table already exists' (1 start in 3 did)."""
    failures = []
    for attempt in range(8):
        url = f"sqlite:///{tmp_path / f'fresh{attempt}.db'}"
        at = str(time.time() + 1.5)  # both past their imports, then off together
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACE, url, at],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(2)
        ]
        for racer in racers:
            output = racer.communicate(timeout=60)[0].decode(errors="replace")
            if racer.returncode:
                failures.append(output.strip().splitlines()[-1])
        engine = make_engine(url)
        try:
            with engine.connect() as conn:
                assert current_revision(conn) == head_revision()
        finally:
            engine.dispose()
    assert not failures, f"{len(failures)} of 16 starts failed: {failures[0]}"
