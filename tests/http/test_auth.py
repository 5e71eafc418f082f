"""Sign-in, tokens (forged ones too), refresh rotation, throttling, sign-up, own account."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from http_support import PASSWORDS, SECRET, SignIn, assert_problem
from joserfc import jwt
from joserfc.jwk import OctKey

import pinsphere
from pinsphere_http import HTTPSettings, create_app
from pinsphere_http.tokens import TokenSigner

pytestmark = pytest.mark.anyio

ME = "/api/v1/users/me"


async def _tokens(client: httpx.AsyncClient, username: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": PASSWORDS[username]}
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_sign_in_returns_a_bearer_pair(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User]
) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": "alice", "password": PASSWORDS["alice"]}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["access_token"]
    assert body["refresh_token"]
    me = await client.get(ME, headers=_bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["email"] == "a@example.com"


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong-password"), ("nobody", "whatever-pass")]
)
async def test_bad_credentials_are_one_401(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User], username: str, password: str
) -> None:
    response = await client.post(
        "/api/v1/auth/token", data={"username": username, "password": password}
    )
    body = assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert body["detail"] == "invalid credentials or token"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user: pinsphere.User, **changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "pinsphere",
        "sub": user.id,
        "use": "access",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return claims


def _forge(key: str, claims: dict[str, object], alg: str = "HS256") -> str:
    return jwt.encode({"alg": alg}, claims, OctKey.import_key(key.encode()), [alg])


@pytest.mark.parametrize(
    "kind",
    ["alg-none", "wrong-key", "expired", "no-exp", "wrong-issuer", "refresh-as-access", "junk"],
)
async def test_forged_tokens_are_401(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User], kind: str
) -> None:
    alice = users["alice"]
    if kind == "alg-none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(alice))}."
    elif kind == "wrong-key":
        token = _forge("another-key-that-is-long-enough-for-hs256!!", _claims(alice))
    elif kind == "expired":
        token = _forge(SECRET, _claims(alice, exp=int(time.time()) - 5))
    elif kind == "no-exp":
        claims = _claims(alice)
        del claims["exp"]
        token = _forge(SECRET, claims)
    elif kind == "wrong-issuer":
        token = _forge(SECRET, _claims(alice, iss="someone-else"))
    elif kind == "refresh-as-access":
        token = (await _tokens(client, "alice"))["refresh_token"]
    else:
        token = "not.a.token"
    response = await client.get(ME, headers=_bearer(token))
    assert_problem(response, 401)
    assert "www-authenticate" in response.headers


async def test_a_token_signed_with_the_key_is_accepted(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User]
) -> None:
    # The control for the forgeries above: the same claims with the right key work.
    response = await client.get(ME, headers=_bearer(_forge(SECRET, _claims(users["alice"]))))
    assert response.status_code == 200


async def test_another_scheme_is_401_not_anonymous(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/pins", headers={"Authorization": "Basic YWxpY2U6eA=="})
    assert_problem(response, 401)


async def test_disabled_or_deleted_users_lose_access_at_once(
    client: httpx.AsyncClient, store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    alice = _bearer((await _tokens(client, "alice"))["access_token"])
    bob = _bearer((await _tokens(client, "bob"))["access_token"])
    store.users.disable(users["alice"])
    store.delete_user(users["bob"])
    assert_problem(await client.get(ME, headers=alice), 401)
    assert_problem(await client.get(ME, headers=bob), 401)


async def test_refresh_rotates_and_reuse_revokes_the_family(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User]
) -> None:
    first = await _tokens(client, "alice")
    response = await client.post(
        "/api/v1/auth/refresh",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
    )
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get(ME, headers=_bearer(second["access_token"]))).status_code == 200

    # The spent token again: theft is assumed, and the newer token dies with it.
    reused = await client.post(
        "/api/v1/auth/refresh", data={"refresh_token": first["refresh_token"]}
    )
    assert_problem(reused, 401)
    after = await client.post(
        "/api/v1/auth/refresh", data={"refresh_token": second["refresh_token"]}
    )
    assert_problem(after, 401)


async def test_an_access_token_cannot_be_refreshed(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User]
) -> None:
    tokens = await _tokens(client, "alice")
    response = await client.post(
        "/api/v1/auth/refresh", data={"refresh_token": tokens["access_token"]}
    )
    assert_problem(response, 401)


async def test_logout_ends_the_session(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User]
) -> None:
    tokens = await _tokens(client, "alice")
    response = await client.post(
        "/api/v1/auth/logout", data={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 204
    again = await client.post(
        "/api/v1/auth/refresh", data={"refresh_token": tokens["refresh_token"]}
    )
    assert_problem(again, 401)
    assert (
        await client.post("/api/v1/auth/logout", data={"refresh_token": "junk"})
    ).status_code == 204


def _throttled_app(store: pinsphere.PinStore, **changes: object) -> FastAPI:
    settings = HTTPSettings(secret_key=SECRET, **changes)  # type: ignore[arg-type]
    return create_app(store, settings)


async def test_failed_sign_ins_are_throttled_per_username(
    store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    app = _throttled_app(store, login_failures_per_user=3)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for _ in range(3):
            bad = {"username": "Alice", "password": "wrong-password"}
            assert (await client.post("/api/v1/auth/token", data=bad)).status_code == 401
        good = {"username": "alice", "password": PASSWORDS["alice"]}
        response = await client.post("/api/v1/auth/token", data=good)
        body = assert_problem(response, 429)
        assert int(response.headers["retry-after"]) > 0
        assert body["detail"] == "too many attempts; try again later"
        # Another account from the same address is not held back by alice's counter.
        other = {"username": "bob", "password": PASSWORDS["bob"]}
        assert (await client.post("/api/v1/auth/token", data=other)).status_code == 200


async def test_failed_sign_ins_are_throttled_per_address_behind_a_trusted_proxy(
    store: pinsphere.PinStore, users: dict[str, pinsphere.User]
) -> None:
    app = _throttled_app(store, login_failures_per_address=2, trusted_proxies=["127.0.0.1"])
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        for name in ("x1", "x2"):
            response = await client.post(
                "/api/v1/auth/token",
                data={"username": name, "password": "wrong-password"},
                headers={"X-Forwarded-For": "203.0.113.9"},
            )
            assert response.status_code == 401
        blocked = await client.post(
            "/api/v1/auth/token",
            data={"username": "alice", "password": PASSWORDS["alice"]},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )
        assert_problem(blocked, 429)
        # A different client behind the same proxy has its own count; a forged extra hop
        # on the left is not believed.
        other = await client.post(
            "/api/v1/auth/token",
            data={"username": "alice", "password": PASSWORDS["alice"]},
            headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"},
        )
        assert other.status_code == 200


async def test_signup_creates_a_member_who_can_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/signup", json={"username": "carol", "password": "carol-password"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "member"
    assert response.json()["email"] is None
    signed_in = await client.post(
        "/api/v1/auth/token", data={"username": "carol", "password": "carol-password"}
    )
    assert signed_in.status_code == 200


async def test_signup_reveals_only_that_it_failed(
    client: httpx.AsyncClient, users: dict[str, pinsphere.User]
) -> None:
    response = await client.post(
        "/api/v1/auth/signup", json={"username": "ALICE", "password": "another-password"}
    )
    body = assert_problem(response, 409)
    assert body["detail"] == "could not create an account with these details"
    # No e-mail can be claimed without verification (it would let someone pre-empt a
    # later Google sign-in with that address).
    with_email = await client.post(
        "/api/v1/auth/signup",
        json={"username": "dave", "password": "dave-password", "email": "x@example.com"},
    )
    assert_problem(with_email, 422)


async def test_signup_validation_never_echoes_the_password(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/signup", json={"username": "", "password": "secret-value-123"}
    )
    body = assert_problem(response, 422)
    assert "secret-value-123" not in response.text
    assert body["errors"]


async def test_signup_can_be_turned_off_and_is_throttled(store: pinsphere.PinStore) -> None:
    closed = create_app(store, HTTPSettings(secret_key=SECRET, signup_enabled=False))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=closed), base_url="http://t"
    ) as client:
        response = await client.post(
            "/api/v1/auth/signup", json={"username": "eve", "password": "eve-password"}
        )
        assert_problem(response, 403)
    limited = create_app(store, HTTPSettings(secret_key=SECRET, signups_per_address=2))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited), base_url="http://t"
    ) as client:
        statuses = [
            (
                await client.post(
                    "/api/v1/auth/signup", json={"username": f"u{i}", "password": "p-password"}
                )
            ).status_code
            for i in range(3)
        ]
    assert statuses == [201, 201, 429]


async def test_change_password(client: httpx.AsyncClient, users: dict[str, pinsphere.User]) -> None:
    tokens = await _tokens(client, "alice")
    headers = _bearer(tokens["access_token"])
    wrong = await client.post(
        f"{ME}/password",
        json={"current_password": "not-it-at-all", "new_password": "new-password-1"},
        headers=headers,
    )
    assert_problem(wrong, 403)
    right = await client.post(
        f"{ME}/password",
        json={"current_password": PASSWORDS["alice"], "new_password": "new-password-1"},
        headers=headers,
    )
    assert right.status_code == 204
    # Every session the old password started is over.
    refreshed = await client.post(
        "/api/v1/auth/refresh", data={"refresh_token": tokens["refresh_token"]}
    )
    assert_problem(refreshed, 401)
    new = await client.post(
        "/api/v1/auth/token", data={"username": "alice", "password": "new-password-1"}
    )
    assert new.status_code == 200


async def test_delete_own_account(
    client: httpx.AsyncClient, store: pinsphere.PinStore, sign_in: SignIn
) -> None:
    headers = await sign_in("bob")
    assert (await client.delete(ME, headers=headers)).status_code == 204
    assert_problem(await client.get(ME, headers=headers), 401)
    with pytest.raises(pinsphere.errors.NotFound):
        store.users.find("bob")


def test_signer_rejects_other_uses() -> None:
    signer = TokenSigner(SECRET, "pinsphere")
    token = signer.encode("oidc-state", "x", timedelta(minutes=1))
    with pytest.raises(pinsphere.errors.AuthenticationError):
        signer.decode(token, "access")
    assert signer.decode(token, "oidc-state")["sub"] == "x"
