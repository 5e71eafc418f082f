"""Random bearer secrets and their digests, for public links and API tokens.

A secret carries 256 bits from :mod:`secrets`; only its SHA-256 digest is stored, so a copy
of the database does not hand out working links or tokens. Looking a secret up by its
digest is safe against timing attacks: the digest of a guess reveals nothing about stored
digests.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["digest", "new_secret"]


def new_secret(prefix: str) -> str:
    """A new secret, e.g. ``pst_`` + 43 URL-safe characters; the prefix lets scanners spot
    leaked secrets."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a secret is stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
