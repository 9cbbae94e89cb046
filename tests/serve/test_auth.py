"""API keys over real HTTP, and the rule that an open API only listens on loopback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from leadml.cli import app as cli_app
from leadml.errors import LeadMLError
from serve.auth import ApiKeys
from serve.server import check_bind
from serve.settings import ServeSettings, is_loopback

KEYS = "k-first-0123456789,k-second-abcdef"
PROTECTED = [
    ("POST", "/v1/score", {"leads": [{"employees": 10}]}),
    ("POST", "/v1/explain", {"employees": 10}),
    ("GET", "/v1/model", None),
    ("GET", "/v1/history", None),
    ("POST", "/v1/admin/reload", None),
]


@pytest.fixture(scope="module")
def locked(tmp_path_factory, bundle):
    from tests.serve.conftest import LiveServer, serve_settings

    home = tmp_path_factory.mktemp("serve-auth")
    server = LiveServer(serve_settings(home, bundle, api_keys=KEYS)).start()
    yield server
    server.stop()


@pytest.mark.parametrize(("method", "path", "body"), PROTECTED)
def test_every_v1_route_needs_a_key(locked, method: str, path: str, body) -> None:
    with locked.client() as client:
        missing = client.request(method, path, json=body)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert "Authorization: Bearer" in missing.json()["detail"]
        wrong = client.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid API key"
        for key in KEYS.split(","):
            ok = client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200, ok.text


@pytest.mark.parametrize(
    "header",
    ["k-first-0123456789", "Basic k-first-0123456789", "Bearer k-first-012345678", "Bearer"],
)
def test_malformed_or_partial_keys_are_refused(locked, header: str) -> None:
    with locked.client() as client:
        response = client.post("/v1/score", json={"leads": [{}]}, headers={"Authorization": header})
        assert response.status_code == 401


def test_health_ready_page_and_docs_stay_open(locked) -> None:
    with locked.client() as client:
        for path in ("/health", "/ready", "/", "/docs", "/openapi.json"):
            assert client.get(path).status_code == 200, path
        assert 'id="key-row" hidden' not in client.get("/").text  # the page asks for a key


def test_no_keys_means_open_api(api) -> None:
    with api.client() as client:
        assert client.post("/v1/score", json={"leads": [{}]}).status_code == 200
        assert 'id="key-row" hidden' in client.get("/").text


def test_every_key_is_compared_in_constant_time() -> None:
    keys = ApiKeys(("alpha-key", "beta-key"))
    assert keys.accepts("beta-key") and keys.accepts("alpha-key")
    assert not keys.accepts("alpha-ke") and not keys.accepts("alpha-key ") and not keys.accepts("")
    assert not ApiKeys(()).enabled and keys.enabled


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.1", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_no_keys_refuses_a_public_bind(tmp_path) -> None:
    open_settings = ServeSettings(home=tmp_path, api_keys="")
    with pytest.raises(LeadMLError, match="LEADML_API_KEYS"):
        check_bind(open_settings, "0.0.0.0")
    check_bind(open_settings, "127.0.0.1")
    check_bind(ServeSettings(home=tmp_path, api_keys="secret"), "0.0.0.0")


def test_cli_refuses_a_public_bind_without_keys(bundle, monkeypatch) -> None:
    monkeypatch.delenv("LEADML_API_KEYS", raising=False)
    result = CliRunner().invoke(
        cli_app, ["serve", "--model", str(bundle), "--host", "0.0.0.0", "--port", "1"]
    )
    assert result.exit_code == 2
    assert "refusing to listen on 0.0.0.0" in result.output
    assert "Traceback" not in result.output


def test_cli_names_a_missing_model(tmp_path) -> None:
    result = CliRunner().invoke(cli_app, ["serve", "--model", str(tmp_path / "nothing")])
    assert result.exit_code == 2
    assert "is not a leadml bundle" in result.output
