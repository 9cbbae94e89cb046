"""A model with date-derived features (weekday, month, age) is served from the raw date."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from leadml.config import Settings
from leadml.data.outcomes import attach_outcomes
from leadml.data.read import read_table
from leadml.data.suggest import suggest_schema
from leadml.modeling.train import train_leads
from serve.model.holder import encode
from tests.support.servers import LiveServer, serve_settings


@pytest.fixture(scope="module")
def olist_bundle(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = shared_data / "olist-marketing-funnel"
    leads = read_table(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = read_table(folder / "olist_closed_deals_dataset.csv")
    frame, _ = attach_outcomes(leads, deals, on="mql_id", target="converted")
    schema = suggest_schema(frame, target="converted").schema
    assert any(f.source == "first_contact_date" for f in schema.features)
    home = tmp_path_factory.mktemp("olist-serve")
    result = train_leads(
        frame, schema, Settings(home=home, num_threads=1), out=home / "m", track=False
    )
    return result.bundle


def test_date_features_are_computed_from_the_raw_date(olist_bundle: Path, tmp_path: Path) -> None:
    server = LiveServer(serve_settings(tmp_path, olist_bundle)).start()
    try:
        with server.client() as http:
            lead = {
                "mql_id": "x1",
                "first_contact_date": "2018-03-06",  # a Tuesday
                "landing_page_id": "22c29808c4f815213303f8933030604c",
                "origin": "organic_search",
            }
            reply = http.post("/v1/explain", json=lead)
            assert reply.status_code == 200, reply.text
            features = {f["name"]: f["value"] for f in reply.json()["features"]}
            weekday = [v for n, v in features.items() if n.endswith("weekday")]
            assert weekday == [1]  # Monday is 0
            spec = reply.json()
            assert 0 < spec["probability"] < 1
            # The request model names the raw date, not the derived feature.
            doc = http.get("/openapi.json").json()
            lead_props = doc["components"]["schemas"]["Lead"]["properties"]
            assert "first_contact_date" in lead_props
            assert not any(name.endswith("_weekday") for name in lead_props)
            loaded = server.app.state.holder.current
            row = encode(loaded, [lead])[0]
            assert not math.isnan(row[loaded.model.encoder.names.index(weekday_name(features))])
            assert np.isfinite(row).sum() >= 3
    finally:
        server.stop()


def weekday_name(features: dict) -> str:
    return next(n for n in features if n.endswith("weekday"))
