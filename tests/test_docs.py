"""The docs site and the README: the site builds strictly, its examples run, the README is short.

``mkdocs build --strict`` regenerates the reference pages from the code (CLI, settings, Python
API, HTTP API), so a reference that drifts, or a link that breaks, fails here rather than in a
reader's browser. The Python blocks of the getting-started page marked ``<!-- runnable -->``
are run as a reader would run them, on fresh sample leads.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
QUIET = {"NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
RUNNABLE = re.compile(r"<!-- runnable -->\n```python\n(.*?)```", re.DOTALL)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The getting-started page's runnable blocks, run in order in a fresh project home on
    3,000 sample leads: the home (with the model they trained) and what they printed."""
    from leadml.data.synthetic import generate_leads

    blocks = RUNNABLE.findall((ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8"))
    assert len(blocks) >= 2 and "leadml.train(" in blocks[0]
    home = tmp_path_factory.mktemp("docs-examples")
    (home / "data" / "sample").mkdir(parents=True)
    generate_leads(3_000, seed=7).to_csv(home / "data" / "sample" / "leads.csv", index=False)
    (home / "leadml.toml").write_text("")
    # real training, cheaper: fewer bootstrap draws for the intervals, one thread (shared CI)
    env = {**os.environ, "LEADML_HOME": str(home), "LEADML_NUM_THREADS": "1"}
    env["LEADML_BOOTSTRAP"] = "10"
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [sys.executable, "-c", "\n".join(blocks)],
        cwd=home,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    return home, done.stdout


def test_the_getting_started_examples_run(examples: tuple[Path, str]) -> None:
    home, printed = examples
    assert "probability" in printed and "grade" in printed
    assert "BANT" in printed  # the card of the second block
    assert any(home.glob("models/*/leadml.json"))


def test_the_site_builds_strictly_with_every_reference(
    tmp_path: Path, examples: tuple[Path, str]
) -> None:
    site = tmp_path / "site"
    # the HTTP reference is built from a served model: the one the examples trained
    bundle = next(examples[0].glob("models/*/leadml.json")).parent
    done = subprocess.run(
        [str(BIN / "mkdocs"), "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env={**os.environ, **QUIET, "LEADML_DOCS_MODEL": str(bundle)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    page = {name: (site / name / "index.html").read_text(encoding="utf-8") for name in (
        "reference/cli", "reference/settings", "reference/http-api", "reference/python-api",
    )}  # fmt: skip
    assert "leadml train" in page["reference/cli"] and "--recency" in page["reference/cli"]
    assert "LEADML_HISTORY_URL" in page["reference/settings"]
    assert "LEADML_API_KEYS" in page["reference/settings"]
    assert "/v1/score" in page["reference/http-api"]
    assert (site / "reference" / "openapi.json").is_file()
    for name in ("train", "load", "Model", "LeadClassifier", "predict_proba"):
        assert name in page["reference/python-api"], name


def test_the_settings_reference_refuses_a_setting_without_a_description() -> None:
    spec = importlib.util.spec_from_file_location(
        "ref_settings", ROOT / "docs/_gen/ref_settings.py"
    )
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)  # not run by mkdocs: builds nothing, only defines

    class Described(BaseSettings):
        budget: int = Field(default=3, description="A described setting.")

    class Undescribed(Described):
        secret_rule: int = 4

    described = "\n".join(generator.table(Described, ["budget"]))
    assert "| `budget` | `BUDGET` | `3` | A described setting. |" in described
    with pytest.raises(SystemExit, match="secret_rule has no Field description"):
        generator.table(Undescribed, ["budget", "secret_rule"])


def test_the_readme_fits_one_screen_and_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; at most 200 (the rest: docs/)"
    first_code = readme.split("```", 2)[1]
    assert first_code.index("make demo") < first_code.index("make test")
    assert readme.index("make demo") < readme.index("\n## ", readme.index("```"))
    for page in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / page).is_file(), f"README links to {page}, which does not exist"
