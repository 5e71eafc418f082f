"""Health probes, request ids, problem documents, CORS, settings and the OpenAPI document."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from http_support import SECRET, SignIn, assert_problem
from pydantic import ValidationError

import pinsphere
from pinsphere.errors import BackendUnavailable
from pinsphere_http import HTTPSettings, create_app
from pinsphere_http.request_id import RequestIdLogFilter
from pinsphere_http.signing_key import resolve_secret_key

pytestmark = pytest.mark.anyio


async def test_health_and_readiness(
    client: httpx.AsyncClient, store: pinsphere.PinStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {
        "status": "ok",
        "backends": {"metadata": "ok", "users": "ok", "blobs": "ok"},
    }

    def down() -> None:
        raise BackendUnavailable("cannot reach db.internal:5432 as pinsphere:hunter2")

    monkeypatch.setattr(store.blobs, "ping", down)
    response = await client.get("/readyz")
    body = assert_problem(response, 503)
    assert "db.internal" not in response.text
    assert "hunter2" not in response.text
    assert body["backends"] == {"metadata": "ok", "users": "ok", "blobs": "unavailable"}
    assert body["detail"] == "unavailable: blobs"
    assert response.headers["retry-after"] == "5"
    assert (await client.get("/healthz")).status_code == 200


async def test_request_ids(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    hostile = await client.get("/healthz", headers={"X-Request-ID": "a b\tc" + "x" * 200})
    assert hostile.headers["x-request-id"] != "a b\tc" + "x" * 200
    assert len(hostile.headers["x-request-id"]) == 32


async def test_unexpected_errors_are_a_generic_500_logged_with_the_request_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 at /srv/secret")

    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    handler.addFilter(RequestIdLogFilter())
    logger = logging.getLogger("pinsphere_http")
    logger.addHandler(handler)
    try:
        response = await client.get("/boom", headers={"X-Request-ID": "req-500"})
    finally:
        logger.removeHandler(handler)
    body = assert_problem(response, 500)
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert body["detail"] == "an unexpected error occurred"
    assert [record.request_id for record in records] == ["req-500"]  # type: ignore[attr-defined]
    assert records[0].exc_info is not None


async def test_backend_failures_inside_a_request_do_not_leak(
    client: httpx.AsyncClient,
    store: pinsphere.PinStore,
    sign_in: SignIn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    headers = await sign_in("alice")

    def broken(*args: object, **kwargs: object) -> None:
        raise BackendUnavailable("psycopg: connection to 10.1.2.3 refused")

    monkeypatch.setattr(store.metadata, "search_page", broken)
    response = await client.get("/api/v1/pins", headers=headers)
    assert_problem(response, 503)
    assert "10.1.2.3" not in response.text
    assert response.headers["retry-after"] == "5"


async def test_http_errors_are_problems(client: httpx.AsyncClient) -> None:
    missing = assert_problem(await client.get("/api/v1/nothing-here"), 404)
    assert missing["type"] == "about:blank"
    assert_problem(await client.put("/api/v1/pins"), 405)


async def test_validation_problem_shape(client: httpx.AsyncClient, sign_in: SignIn) -> None:
    response = await client.post(
        "/api/v1/boards", json={"name": 5, "extra": True}, headers=await sign_in("alice")
    )
    body = assert_problem(response, 422)
    errors = body["errors"]
    assert isinstance(errors, list)
    assert {tuple(error["loc"]) for error in errors} == {("body", "name"), ("body", "extra")}
    assert all(set(error) == {"loc", "msg", "type"} for error in errors)


async def test_cors_only_for_configured_origins(store: pinsphere.PinStore) -> None:
    settings = HTTPSettings(secret_key=SECRET, cors_origins=["https://app.example"])
    app = create_app(store, settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        preflight = await client.options(
            "/api/v1/pins",
            headers={
                "Origin": "https://app.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        assert preflight.headers["access-control-allow-origin"] == "https://app.example"
        assert "access-control-allow-credentials" not in preflight.headers
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers
        exposed = await client.get("/healthz", headers={"Origin": "https://app.example"})
        assert "X-Request-ID" in exposed.headers["access-control-expose-headers"]


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PINSPHERE_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("PINSPHERE_SIGNUP_ENABLED", "false")
    monkeypatch.setenv("PINSPHERE_ACCESS_TOKEN_LIFETIME", "60")
    monkeypatch.setenv("PINSPHERE_METADATA_URL", "memory://")  # the store's, not ours: ignored
    settings = HTTPSettings()
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.signup_enabled is False
    assert settings.access_token_lifetime.total_seconds() == 60


@pytest.mark.parametrize(
    "changes",
    [
        {"cors_origins": ["*"], "cors_allow_credentials": True},
        {"secret_key": "short"},
        {"trusted_proxies": ["not-an-address"]},
    ],
)
def test_unsafe_settings_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        HTTPSettings(**changes)  # type: ignore[arg-type]


def test_a_generated_key_is_kept_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "http-secret.key"
    first = resolve_secret_key(HTTPSettings(secret_key_file=path))
    assert resolve_secret_key(HTTPSettings(secret_key_file=path)) == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(first) >= 32
    assert resolve_secret_key(HTTPSettings(secret_key=SECRET)) == SECRET


async def test_tokens_survive_an_app_restart_with_a_key_file(
    store: pinsphere.PinStore, users: dict[str, pinsphere.User], tmp_path: Path
) -> None:
    settings = HTTPSettings(secret_key_file=tmp_path / "key")
    tokens: list[str] = []
    for _ in range(2):
        app = create_app(store, settings)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            if not tokens:
                response = await client.post(
                    "/api/v1/auth/token", data={"username": "bob", "password": "bob-password"}
                )
                tokens.append(response.json()["access_token"])
            me = await client.get(
                "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens[0]}"}
            )
            assert me.status_code == 200


async def test_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for path in (
        "/api/v1/auth/token",
        "/api/v1/auth/refresh",
        "/api/v1/auth/signup",
        "/api/v1/users/me",
        "/api/v1/users/me/password",
        "/api/v1/pins",
        "/api/v1/pins/{pin_id}",
        "/api/v1/pins/{pin_id}/media",
        "/api/v1/boards",
        "/api/v1/boards/{board_id}/pins/{pin_id}",
        "/api/v1/tags",
        "/api/v1/admin/users",
        "/api/v1/admin/users/{username}",
        "/api/v1/admin/audit",
        "/api/v1/pins/{pin_id}/shares",
        "/api/v1/pins/{pin_id}/shares/{username}",
        "/api/v1/boards/{board_id}/shares",
        "/api/v1/boards/{board_id}/shares/{username}",
        "/api/v1/links",
        "/api/v1/links/{link_id}",
        "/api/v1/shared/{token}",
        "/api/v1/shared/{token}/pins/{pin_id}",
        "/api/v1/shared/{token}/pins/{pin_id}/media",
        "/api/v1/tokens",
        "/api/v1/tokens/{token_id}",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    upload = paths["/api/v1/pins"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"413", "415"} <= set(upload["responses"])
    for path_item in paths.values():
        for operation in path_item.values():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response["content"]) == ["application/problem+json"], status
    assert "Problem" in document["components"]["schemas"]
    assert "HTTPValidationError" not in document["components"]["schemas"]
    bearer = document["components"]["securitySchemes"]["OAuth2PasswordBearer"]
    assert bearer["type"] == "oauth2"
    assert "pst_" in bearer["description"]
    shared = paths["/api/v1/shared/{token}"]["get"]
    assert "security" not in shared  # anonymous: the token in the path is the credential
    headers = {p["name"] for p in shared["parameters"] if p["in"] == "header"}
    assert headers == {"X-Link-Password", "X-Link-Visit"}
    assert {"200", "206", "304", "403", "404", "416"} <= set(
        paths["/api/v1/shared/{token}/pins/{pin_id}/media"]["get"]["responses"]
    )
    for operation in (paths["/api/v1/boards"]["post"], paths["/api/v1/links"]["post"]):
        assert "400" in operation["responses"]  # a body that does not parse
