"""API keys over real HTTP, and the rule that an open API only listens on loopback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from leadml.cli import app as cli_app
from leadml.errors import LeadMLError
from serve.edge.auth import KeyRing, parse_keys
from serve.server import check_bind
from serve.settings import ServeSettings, is_loopback

KEYS = "crm-a:k-first-0123456789,k-second-abcdef"
SCORING = ["k-first-0123456789", "k-second-abcdef"]
ADMIN = "k-admin-9876543210"
PROTECTED = [
    ("POST", "/v1/score", {"leads": [{"employees": 10}]}),
    ("POST", "/v1/explain", {"employees": 10}),
    ("GET", "/v1/model", None),
    ("GET", "/v1/history", None),
]


@pytest.fixture(scope="module")
def locked(tmp_path_factory, bundle):
    from tests.support.servers import LiveServer, serve_settings

    home = tmp_path_factory.mktemp("serve-auth")
    settings = serve_settings(home, bundle, api_keys=KEYS, admin_keys=f"ops:{ADMIN}")
    server = LiveServer(settings).start()
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
        for key in SCORING:
            ok = client.request(method, path, json=body, headers={"Authorization": f"Bearer {key}"})
            assert ok.status_code == 200, ok.text


def test_only_an_admin_key_may_reload(locked) -> None:
    with locked.client() as client:
        missing = client.post("/v1/admin/reload")
        assert missing.status_code == 401 and "admin key" in missing.json()["detail"]
        wrong = client.post("/v1/admin/reload", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        for key in SCORING:
            scoring = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {key}"})
            assert scoring.status_code == 403, scoring.text
            assert "not administer" in scoring.json()["detail"]
        assert locked.app.state.holder.reloads == 0
        ok = client.post("/v1/admin/reload", headers={"Authorization": f"Bearer {ADMIN}"})
        assert ok.status_code == 200, ok.text
        assert locked.app.state.holder.reloads == 1


def test_without_admin_keys_the_reload_route_is_off(api) -> None:
    with api.client() as client:
        response = client.post("/v1/admin/reload")
        assert response.status_code == 403
        assert "LEADML_ADMIN_KEYS" in response.json()["detail"]


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
    keys = KeyRing(parse_keys("crm-a:alpha-key,beta-key"))
    assert keys.match("beta-key") == "default" and keys.match("alpha-key") == "crm-a"
    assert keys.match("alpha-ke") is None and keys.match("alpha-key ") is None
    assert keys.match("") is None
    assert not KeyRing().enabled and keys.enabled


@pytest.mark.parametrize("text", ["crm-a:", "bad name:SECRET", "x" * 65 + ":SECRET"])
def test_a_bad_key_list_names_the_entry_not_the_key(text: str) -> None:
    with pytest.raises(ValueError, match="entry 1") as caught:
        parse_keys(text)
    assert "SECRET" not in str(caught.value)


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
