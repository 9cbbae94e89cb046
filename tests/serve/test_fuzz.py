"""No input gives a 500, and every answer matches the documented schema (schemathesis).

Schemathesis reads the live server's OpenAPI document and generates requests for every
operation, both fitting the schema (positive) and breaking it (negative); each response is
checked: no server error, a body that conforms to the declared model, bad data rejected.
The strategies are driven with plain Hypothesis ``@given`` so the test needs no plugin glue.
Both servers have scoring and admin keys, and every operation is called with the key its
security scheme names (``ScoringKey`` or ``AdminKey``), so schemathesis's ``ignored_auth`` check
also proves that each route refuses a request without a key or with a wrong one.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import negative_data_rejection

from tests.support.processes import free_port, start_process, stop_process
from tests.support.servers import LiveServer, serve_settings

#: Exercised by test_hot_swap.py: random model references would only ever hit "not found".
SKIPPED = {"/v1/admin/reload"}
KEY = "fuzz-key-0123456789"
ADMIN_KEY = "fuzz-admin-9876543210"
#: The key each security scheme of the OpenAPI document stands for.
SCHEME_KEYS = {"ScoringKey": KEY, "AdminKey": ADMIN_KEY}
EXAMPLES = 20
#: The API deliberately accepts what CRMs send that JSON Schema cannot state exactly ("Select"
#: and "" placeholders as missing answers, Yes/No for booleans, numeric text for numbers).
EXCLUDED = [negative_data_rejection]
#: Text with a NUL character is refused (422) on purpose, in keys and values alike: PostgreSQL
#: cannot store it, and JSON Schema cannot say so. (Lone surrogates, refused too, are never
#: generated: schemathesis draws UTF-8-encodable text.)
GENERATION = """
[generation]
database = "none"
allow-x00 = false
"""


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory, bundle):
    home = tmp_path_factory.mktemp("serve-fuzz")
    settings = serve_settings(home, bundle, api_keys=KEY, admin_keys=f"ops:{ADMIN_KEY}")
    server = LiveServer(settings).start()
    yield server
    server.stop()


def auth_headers(doc: dict, method: str, path: str) -> dict[str, str]:
    """The Authorization header for the scheme the operation's security names (if any)."""
    for requirement in doc["paths"][path][method.lower()].get("security", []):
        for scheme in requirement:
            return {"Authorization": f"Bearer {SCHEME_KEYS[scheme]}"}
    return {}


def run_cases(strategy, base_url: str, headers: dict[str, str]) -> None:
    """Call and check every case the strategy draws: no 5xx, responses as documented."""

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case) -> None:
        response = case.call_and_validate(
            base_url=base_url, headers=headers, excluded_checks=EXCLUDED
        )
        assert response.status_code < 500

    check()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_survives_generated_input(fuzz_server: LiveServer, mode) -> None:
    url = f"{fuzz_server.url}/openapi.json"
    doc = httpx.get(url).json()
    # Input to break exists only where an operation takes a body or parameters.
    takes_input = {
        (method.upper(), path)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if op.get("requestBody") or op.get("parameters")
    }
    schema = schemathesis.openapi.from_url(url, config=SchemathesisConfig.from_str(GENERATION))
    operations = [result.ok() for result in schema.get_all_operations()]
    tested = []
    for operation in operations:
        key = (operation.method.upper(), operation.path)
        if operation.path in SKIPPED or (
            mode == GenerationMode.NEGATIVE and key not in takes_input
        ):
            continue

        headers = auth_headers(doc, operation.method, operation.path)
        run_cases(operation.as_strategy(generation_mode=mode), fuzz_server.url, headers)
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert {"POST /v1/score", "POST /v1/explain", "GET /v1/history/{lead_id}"} <= set(tested)
    if mode == GenerationMode.POSITIVE:
        assert {"GET /v1/model", "GET /health", "GET /ready"} <= set(tested)


# -- the schemathesis CLI against `leadml serve` with API keys: every phase, every route ----------
BIN = Path(sys.executable).parent
#: At least this many generated requests in all, or the run proves too little.
MIN_CASES = 1000
#: The fuzzed server's reload deadline, and the longest a reload may take to answer.
RELOAD_DEADLINE_S = 45
RELOAD_LIMIT_S = RELOAD_DEADLINE_S + 15
ST_CONFIG = (
    """
[cache]
enabled = false
"""
    + GENERATION
    + """

# Each security scheme of the OpenAPI document gets its own key.
[auth.openapi.ScoringKey]
bearer = "{KEY}"

[auth.openapi.AdminKey]
bearer = "{ADMIN_KEY}"

# A generated model reference never names a loadable model: refusing it (400 for a reference
# this server may not load, 422 for one that fails its checks) is the right answer; two
# workers may also overlap (409). A reload that is allowed proves the model in a child process
# (about 1 s here, far more on a loaded machine): its time limit is the server's own reload
# deadline (LEADML_RELOAD_TIMEOUT_S below) with room for the swap, not the 10 s default.
[[operations]]
include-path = "/v1/admin/reload"
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "409", "422"]
checks.max_response_time = {RELOAD_LIMIT_S}
"""
)
CHILD_CHECK = re.compile(r"in a child process in ([0-9.]+) s")
ACCESS_LINE = re.compile(r'"(?:GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|TRACE) [^"]*" (\d{3})')


@pytest.fixture(scope="module")
def keyed_server(bundle, tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """`leadml serve` in its own process and folder, keys on, log (with access log) to a file.

    Its own process and working folder because fuzzed reload references reach MLflow, whose
    default store is the working folder: nothing generated may land in the repository.
    """
    home = tmp_path_factory.mktemp("fuzz-cli")
    port = free_port()
    log = home / "server.log"
    env = {
        **os.environ,
        "LEADML_HOME": str(home),
        # Sparse leads are refused by default with a documented 422 that JSON Schema cannot
        # state (a field sent as null counts as not given); that refusal is tested in
        # test_crm_inputs.py, here every schema-valid lead must score.
        "LEADML_ALLOW_SPARSE": "true",
        "LEADML_API_KEYS": KEY,
        "LEADML_ADMIN_KEYS": f"ops:{ADMIN_KEY}",
        "LEADML_RELOAD_TIMEOUT_S": str(RELOAD_DEADLINE_S),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlflow.db'}",
    }
    url = f"http://127.0.0.1:{port}"
    args = [str(BIN / "leadml"), "serve", "--model", str(bundle), "--port", str(port)]
    proc = start_process(args, env, f"{url}/ready", log, cwd=home)
    yield url, log
    stop_process(proc)


def test_schemathesis_cli_every_route_over_a_thousand_cases(keyed_server, tmp_path: Path) -> None:
    """``st run`` with all four phases (examples, coverage, fuzzing, stateful), good and bad data.

    Checks: all of schemathesis's but ``negative_data_rejection``: the API deliberately accepts
    forms CRMs send that JSON Schema cannot state exactly (Yes/No and 0/1 for booleans,
    numeric text for numbers, 'Select' placeholders for unanswered fields).
    """
    url, log = keyed_server
    config = tmp_path / "schemathesis.toml"
    config.write_text(ST_CONFIG.format(KEY=KEY, ADMIN_KEY=ADMIN_KEY, RELOAD_LIMIT_S=RELOAD_LIMIT_S))
    report = tmp_path / "report.json"
    command = [
        str(BIN / "st"), "--config-file", str(config), "--no-color",
        "run", f"{url}/openapi.json",
        "--checks", "all", "--exclude-checks", "negative_data_rejection",
        "--phases", "examples,coverage,fuzzing,stateful", "--mode", "all",
        # No --max-time: it makes fuzzing repeat until the time is spent. The bound is the
        # example count per operation (and the subprocess timeout below).
        "--max-examples", "75", "--seed", "20261123", "--workers", "2",
        "--request-timeout", str(RELOAD_LIMIT_S + 10),
        "--report", "json", "--report-json-path", str(report),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=420)
    result = json.loads(report.read_text())
    output = done.stdout[-6000:] + done.stderr[-2000:]

    documented = httpx.get(f"{url}/openapi.json").json()["paths"]
    operations = sum(len(methods) for methods in documented.values())
    server_log = log.read_text()
    statuses = Counter(int(code) for code in ACCESS_LINE.findall(server_log))
    checks = [float(s) for s in CHILD_CHECK.findall(server_log)]
    print(
        f"\nschemathesis: {result['test_cases']['generated']} cases over "
        f"{result['operations']['tested']} operations in {result['running_time']:.0f} s; "
        f"server answered {sum(statuses.values())} requests: {dict(sorted(statuses.items()))}; "
        f"{len(checks)} reloads checked in a child, slowest {max(checks, default=0):.1f} s"
    )
    assert result["stop_reason"] == "completed", output
    assert result["operations"]["tested"] == result["operations"]["total"] == operations
    assert result["test_cases"]["generated"] >= MIN_CASES, output
    assert result["failures"] == [] and result["errors"] == [], output
    assert done.returncode == 0, output
    # The server's own access log agrees: it answered them all, and never with a 5xx.
    assert sum(statuses.values()) >= MIN_CASES
    assert not [code for code in statuses if code >= 500], statuses
    assert "Traceback" not in server_log and "internal error" not in server_log
