"""Record the service's answers for a fixed model and fixed leads: the "before" of a change.

``tests/serve/test_golden.py`` starts a real server on the committed bundle and checks that
every answer is still the recorded one, field by field (numbers to 1e-12). Run this only when
the response contract changes on purpose, and say so in the commit; the recording in
``data/golden/`` was made before the latency work, so speed-ups are held to the old answers.

    .venv/bin/python tests/serve/record_golden.py
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run as a script: the project importable

from leadml.config import Settings  # noqa: E402
from leadml.data.synthetic import generate_leads  # noqa: E402
from leadml.modeling.train import train_leads  # noqa: E402
from leadml.schema import bundled_schema  # noqa: E402
from tests.support.servers import LiveServer, lead_payloads, serve_settings  # noqa: E402

GOLDEN = HERE / "data" / "golden"
#: Leads a CRM could send that the synthetic generator never makes: the edges of the encoder.
ODD_LEADS: list[dict[str, Any]] = [
    {"lead_id": "odd-empty"},
    {"lead_id": 4711, "budget_range": "Select", "job_title": "  CEO  ", "employees": 0},
    {"lead_id": "odd-unknown", "industry": "Basket weaving", "country": "Atlantis"},
    {"lead_id": " ", "demo_requested": True, "webinar_attended": False, "site_visits": 1e6},
    {"employees": 12.5, "annual_revenue": 0, "pricing_page_views": 2},
    # as CRMs write values: separators, currency, other spellings, a Salesforce placeholder
    {
        "lead_id": "odd-crm",
        "budget_range": "100k-250k",
        "seniority": "vp",
        "employees": "1,200",
        "annual_revenue": "$50,000",
        "decision_role": "--None--",
        "job_title": "CFO",
    },
]


def fixed_leads(schema: Any) -> list[dict[str, Any]]:
    frame = generate_leads(30, seed=2024).drop(columns=[schema.target])
    return lead_payloads(frame) + ODD_LEADS


def record(url: str, leads: list[dict[str, Any]]) -> dict[str, Any]:
    import httpx

    out: dict[str, Any] = {"leads": leads, "single": [], "single_numbers": [], "explain": []}
    with httpx.Client(base_url=url, timeout=30) as http:
        for lead in leads:
            for key, path in (
                ("single", "/v1/score"),
                ("single_numbers", "/v1/score?explain=false"),
            ):
                response = http.post(path, json={"leads": [lead]})
                response.raise_for_status()
                out[key].append(response.json())
            response = http.post("/v1/explain", json=lead)
            response.raise_for_status()
            out["explain"].append(response.json())
        for key, path in (("batch", "/v1/score"), ("batch_numbers", "/v1/score?explain=false")):
            response = http.post(path, json={"leads": leads})
            response.raise_for_status()
            out[key] = response.json()
    return out


def main(answers_only: bool = False) -> None:
    """Train the fixed model and record its answers; ``--answers-only`` keeps the committed
    model and records its answers again (when the response contract changed on purpose)."""
    schema = bundled_schema()
    work = Path(tempfile.mkdtemp(prefix="leadml-golden-"))
    try:
        if not answers_only:
            frame = generate_leads(3_000, seed=5)
            result = train_leads(
                frame, schema, Settings(home=work, num_threads=1), out=work / "model", track=False
            )
            if GOLDEN.exists():
                shutil.rmtree(GOLDEN)
            # The files a server loads; the report and plots are left out to keep it small.
            shutil.copytree(
                result.bundle, GOLDEN / "model", ignore=shutil.ignore_patterns("plots", "*.html")
            )
        # History off: trends depend on what was scored before, not on the model.
        server = LiveServer(serve_settings(work, GOLDEN / "model", history_url="none")).start()
        try:
            answers = record(server.url, fixed_leads(schema))
        finally:
            server.stop()
        (GOLDEN / "responses.json").write_text(json.dumps(answers, separators=(",", ":")) + "\n")
        print(f"recorded {len(answers['leads'])} leads in {GOLDEN}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(answers_only="--answers-only" in sys.argv[1:])
