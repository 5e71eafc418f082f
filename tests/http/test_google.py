"""Google sign-in against a fake OpenID provider served on loopback by this test."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from http_support import SECRET, assert_problem
from joserfc import jwt
from joserfc.jwk import RSAKey

import pinsphere
from pinsphere_http import HTTPSettings, create_app

pytestmark = pytest.mark.anyio

CLIENT_ID = "pinsphere-test-client"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class FakeProvider:
    """What the fake provider knows and how it misbehaves on request."""

    base: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, auto_kid=True))
    email: str = "new.person@example.com"
    email_verified: bool = True
    sign_with_another_key: bool = False
    wrong_nonce: bool = False
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    token_calls: int = 0

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.base,
            "aud": CLIENT_ID,
            "sub": "google-subject-1",
            "iat": now,
            "exp": now + 300,
            "nonce": "another" if self.wrong_nonce else nonce,
            "email": self.email,
            "email_verified": self.email_verified,
        }
        key = self.key
        if self.sign_with_another_key:
            key = RSAKey.generate_key(2048, parameters={"kid": key.kid or ""})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, ["RS256"])


def _handler(provider: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path == "/.well-known/openid-configuration":
                self._json(
                    200,
                    {
                        "issuer": provider.base,
                        "authorization_endpoint": f"{provider.base}/authorize",
                        "token_endpoint": f"{provider.base}/token",
                        "jwks_uri": f"{provider.base}/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif url.path == "/jwks":
                self._json(200, {"keys": [provider.key.as_dict(private=False)]})
            elif url.path == "/authorize":
                # The person consents at once: back to the client with a code.
                query = {name: values[0] for name, values in parse_qs(url.query).items()}
                assert query["client_id"] == CLIENT_ID
                assert query["response_type"] == "code"
                assert query["code_challenge_method"] == "S256"
                assert "openid" in query["scope"].split()
                code = secrets.token_urlsafe(16)
                provider.codes[code] = query
                target = f"{query['redirect_uri']}?" + urlencode(
                    {"code": code, "state": query["state"]}
                )
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            provider.token_calls += 1
            length = int(self.headers["Content-Length"])
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._json(401, {"error": "invalid_client"})
                return
            request = provider.codes.pop(form.get("code", ""), None)  # single use
            if request is None or form.get("grant_type") != "authorization_code":
                self._json(400, {"error": "invalid_grant"})
                return
            digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            if challenge != request["code_challenge"]:
                self._json(400, {"error": "invalid_grant", "error_description": "PKCE"})
                return
            if form.get("redirect_uri") != request["redirect_uri"]:
                self._json(400, {"error": "invalid_grant"})
                return
            self._json(
                200,
                {
                    "access_token": "provider-access-token",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "id_token": provider.id_token(request["nonce"]),
                },
            )

    return Handler


@pytest.fixture(scope="module")
def running_provider() -> Iterator[FakeProvider]:
    """The fake provider, listening on a loopback port for the module's tests."""
    provider = FakeProvider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(provider))
    provider.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture
def provider(running_provider: FakeProvider) -> FakeProvider:
    """The provider, reset to well-behaved defaults."""
    running_provider.email = "new.person@example.com"
    running_provider.email_verified = True
    running_provider.sign_with_another_key = False
    running_provider.wrong_nonce = False
    running_provider.codes.clear()
    return running_provider


@pytest.fixture
async def google_client(store: pinsphere.PinStore, provider: FakeProvider) -> httpx.AsyncClient:
    """A client of an app configured for the fake provider."""
    settings = HTTPSettings(
        secret_key=SECRET,
        google_client_id=CLIENT_ID,
        google_client_secret=CLIENT_SECRET,  # type: ignore[arg-type]
        google_discovery_url=f"{provider.base}/.well-known/openid-configuration",
    )
    app = create_app(store, settings)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def _consent(client: httpx.AsyncClient) -> str:
    """Start the sign-in and let the provider consent; returns the callback path and query."""
    login = await client.get("/api/v1/auth/google/login")
    assert login.status_code == 302, login.text
    assert "pinsphere_oidc" in login.headers["set-cookie"]
    assert "HttpOnly" in login.headers["set-cookie"]
    assert "samesite=lax" in login.headers["set-cookie"].lower()
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(login.headers["location"])
    assert consent.status_code == 302
    callback = urlsplit(consent.headers["location"])
    assert callback.path == "/api/v1/auth/google/callback"
    return f"{callback.path}?{callback.query}"


async def test_a_verified_email_creates_a_passwordless_account(
    google_client: httpx.AsyncClient, store: pinsphere.PinStore
) -> None:
    async with google_client as client:
        response = await client.get(await _consent(client))
        assert response.status_code == 200, response.text
        tokens = response.json()
        me = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.json()["email"] == "new.person@example.com"
        assert me.json()["username"] == "new.person"
        # The same person again signs in to the same account.
        again = await client.get(await _consent(client))
        assert again.status_code == 200
    with pytest.raises(pinsphere.errors.AuthenticationError):
        store.users.authenticate("new.person", "")  # no password sign-in for it


async def test_a_verified_email_links_to_the_existing_account(
    google_client: httpx.AsyncClient,
    provider: FakeProvider,
    users: dict[str, pinsphere.User],
) -> None:
    provider.email = "A@example.com"
    async with google_client as client:
        response = await client.get(await _consent(client))
        assert response.status_code == 200, response.text
        me = await client.get(
            "/api/v1/users/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        )
        assert me.json()["username"] == "alice"


async def test_an_unverified_email_is_refused(
    google_client: httpx.AsyncClient, provider: FakeProvider, store: pinsphere.PinStore
) -> None:
    provider.email = "a@example.com"
    provider.email_verified = False
    async with google_client as client:
        assert_problem(await client.get(await _consent(client)), 403)
    with pytest.raises(pinsphere.errors.NotFound):
        store.users.find_by_email("a@example.com")


@pytest.mark.parametrize("flaw", ["another-key", "wrong-nonce"])
async def test_a_bad_id_token_is_refused(
    google_client: httpx.AsyncClient, provider: FakeProvider, flaw: str
) -> None:
    provider.sign_with_another_key = flaw == "another-key"
    provider.wrong_nonce = flaw == "wrong-nonce"
    async with google_client as client:
        assert_problem(await client.get(await _consent(client)), 401)


async def test_state_cookie_and_code_are_checked(google_client: httpx.AsyncClient) -> None:
    async with google_client as client:
        callback = await _consent(client)
        path, _, query = callback.partition("?")
        params = {name: values[0] for name, values in parse_qs(query).items()}
        forged = await client.get(path, params={**params, "state": "forged"})
        assert_problem(forged, 401)
        # Without the cookie (another browser) the callback is refused.
        cookie = client.cookies.get("pinsphere_oidc")
        client.cookies.clear()
        assert_problem(await client.get(callback), 401)
        client.cookies.set("pinsphere_oidc", cookie or "", path="/api/v1/auth/google")
        assert (await client.get(callback)).status_code == 200
        # A code is good once.
        client.cookies.set("pinsphere_oidc", cookie or "", path="/api/v1/auth/google")
        assert_problem(await client.get(callback), 401)
        assert_problem(await client.get(f"{path}?error=access_denied"), 401)


async def test_not_configured_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/auth/google/login"), 404)


async def test_the_web_ui_gets_a_cookie_session(google_client: httpx.AsyncClient) -> None:
    async with google_client as client:
        login = await client.get("/api/v1/auth/google/login", params={"web": "true"})
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(login.headers["location"])
        callback = urlsplit(consent.headers["location"])
        response = await client.get(f"{callback.path}?{callback.query}")
        assert response.status_code == 303
        assert response.headers["location"] == "/"
        assert "access_token" not in response.text
        cookies = response.headers.get_list("set-cookie")
        assert any(c.startswith("pinsphere_access=") and "HttpOnly" in c for c in cookies)
        me = await client.get("/api/v1/users/me")
        assert me.json()["email"] == "new.person@example.com"
