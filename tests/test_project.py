"""The front door: the project home, the store's name, ruff after a demo, version and help."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadml.cli import app
from leadml.config import HOME_MARKER, Settings, find_home
from leadml.version import __version__

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_is_clean_beside_a_store_and_data_folders(tmp_path: Path) -> None:
    """A folder at the top named like a library (the store, data) must not re-sort imports."""
    for part in ("pyproject.toml", "src", "serve", "tests", "bench", "notebooks"):
        source = ROOT / part
        copy = shutil.copytree if source.is_dir() else shutil.copy2
        copy(source, tmp_path / part)
    (tmp_path / "mlruns" / "1").mkdir(parents=True)
    (tmp_path / "mlruns" / "1" / "meta.yaml").write_text("name: x\n")
    (tmp_path / "mlflow.db").write_bytes(b"")
    for name in ("mlflow", "pandas", "numpy"):  # an old store layout, or a user's data folder
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    done = subprocess.run(
        [str(BIN / "ruff"), "check", "--no-cache", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_store_is_named_as_mlflow_names_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, mlflow_tracking_uri=None)
    assert settings.tracking_uri == f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert settings.artifact_root == tmp_path / "mlruns"


def test_the_home_is_found_above_the_working_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LEADML_HOME", raising=False)
    project = tmp_path / "sales"
    deep = project / "exports" / "2026"
    deep.mkdir(parents=True)
    (project / HOME_MARKER).write_text("")
    home, why = find_home(deep)
    assert home == project and HOME_MARKER in why
    # a leadml checkout is a home too, from any folder inside it
    assert find_home(ROOT / "tests")[0] == ROOT
    # nothing above: the working folder, and the message says how to choose another
    lone = tmp_path / "lone"
    lone.mkdir()
    home, why = find_home(lone)
    assert home == lone and "LEADML_HOME" in why
    monkeypatch.setenv("LEADML_HOME", str(project))
    assert find_home(lone) == (project, "LEADML_HOME")
    monkeypatch.chdir(deep)
    monkeypatch.delenv("LEADML_HOME")
    assert Settings().home == project


def test_every_command_says_which_home_it_uses(tmp_path: Path) -> None:
    done = CliRunner().invoke(
        app, ["evaluate", "--model", "nowhere", "--data", "none.csv"],
        env={"LEADML_HOME": str(tmp_path)},
    )  # fmt: skip
    assert done.exit_code == 2
    assert done.output.startswith(f"Project home: {tmp_path} (LEADML_HOME)")


def test_version() -> None:
    done = subprocess.run([str(BIN / "leadml"), "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"leadml {__version__}"


@pytest.mark.parametrize("verb", ["train", "score", "explain", "promote", "serve", "generate"])
def test_help_speaks_in_options_not_python_types(verb: str) -> None:
    done = CliRunner().invoke(app, [verb, "--help"], env={"COLUMNS": "120"})
    assert done.exit_code == 0, done.output
    for python in ("<bool>", "list[str]", "[str]", "NoneType", "Optional"):
        assert python not in done.output, (verb, python)


def test_flags_are_flags(tmp_path: Path) -> None:
    """``--explain`` takes no value (``--explain true`` is a usage error, not a bool)."""
    done = CliRunner().invoke(app, ["score", "--help"], env={"COLUMNS": "120"})
    assert "--explain" in done.output
    done = CliRunner().invoke(
        app, ["score", "--model", "m", "--data", "d", "--out", "o", "--explain", "true"]
    )
    assert done.exit_code == 2 and "unexpected extra argument" in done.output.lower()


def test_make_help_shows_values_not_variables() -> None:
    done = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "make demo" in done.stdout and "make test" in done.stdout
    assert "$(" not in done.stdout


def test_the_architecture_layout_names_every_module() -> None:
    """The map in docs/architecture.md's "Project layout" is the tree, module for module."""
    import re
    from collections import Counter

    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = page.split("## Project layout", 1)[1].split("\n## ", 1)[0]
    named = Counter(Path(p).name for p in re.findall(r"[\w/]+\.(?:py|html|toml)\b", section))
    modules = [
        p
        for folder in (ROOT / "src" / "leadml", ROOT / "serve")
        for p in folder.rglob("*.py")
        if p.name not in ("__init__.py", "__main__.py")
    ]
    on_disk = Counter(p.name for p in modules)
    missing = {name: n - named[name] for name, n in on_disk.items() if named[name] < n}
    assert not missing, f"modules docs/architecture.md's layout does not list: {missing}"
    files = {p.name for p in (ROOT / "src").rglob("*")} | {
        p.name for p in (ROOT / "serve").rglob("*")
    }
    assert not set(named) - files, f"listed but not in the tree: {set(named) - files}"
