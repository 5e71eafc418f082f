"""Helpers shared by the REST service tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

SECRET = "test-secret-key-that-is-long-enough-for-hs256"

SignIn = Callable[[str], Awaitable[dict[str, str]]]
"""Signs a test user in and returns the Authorization header."""

PASSWORDS = {"alice": "alice-password", "bob": "bob-password", "root": "root-password"}


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    """Check that the response is an RFC 9457 problem with this status; return its body."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"]
    assert isinstance(body["title"], str)
    assert body["title"]
    assert body["request_id"] == response.headers["x-request-id"]
    return dict(body)
