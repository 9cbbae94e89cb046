"""The tests' own house rules: helpers come from tests/support, never from a conftest or bench/.

A conftest module imported by a test runs twice (once as pytest's plugin, once as a module) and
ties the test to a folder's fixtures; bench/ is a set of scripts, not a library.
"""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CONFTEST_IMPORT = re.compile(r"^\s*(from\s+\S*conftest\s+import|import\s+\S*conftest)", re.M)
BENCH_IMPORT = re.compile(r"^\s*(from\s+bench[.\s]|import\s+bench\b)", re.M)
#: None: what a test shares with a benchmark (servers, the load generator) is in tests/support.
BENCH_ALLOWED: set[str] = set()


def _modules() -> dict[str, str]:
    return {str(p.relative_to(TESTS)): p.read_text() for p in TESTS.rglob("*.py")}


def test_no_test_imports_a_conftest_module() -> None:
    offenders = sorted(name for name, text in _modules().items() if CONFTEST_IMPORT.search(text))
    assert offenders == []


def test_no_test_imports_bench_code() -> None:
    offenders = {name for name, text in _modules().items() if BENCH_IMPORT.search(text)}
    assert offenders <= BENCH_ALLOWED, sorted(offenders - BENCH_ALLOWED)


def test_conftest_files_hold_only_fixtures() -> None:
    """No class in a conftest: what tests share beyond fixtures lives in tests/support."""
    for path in TESTS.rglob("conftest.py"):
        assert not re.search(r"^class ", path.read_text(), re.M), path


def test_a_store_set_by_one_test_is_not_seen_by_the_next(tmp_path: Path) -> None:
    """What the autouse fixture in tests/conftest.py does after every test."""
    import os

    import mlflow

    from tests.support.isolation import restore, snapshot

    before = snapshot()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'elsewhere.db'}")
    os.chdir(tmp_path)
    restore(before)
    assert os.environ.get("MLFLOW_TRACKING_URI") == before.environ["MLFLOW_TRACKING_URI"]
    assert os.getcwd() == before.cwd
    assert "elsewhere" not in mlflow.get_tracking_uri()
