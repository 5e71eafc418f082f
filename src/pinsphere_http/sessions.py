"""Sign-in sessions: a short-lived access token plus a rotating refresh token.

The refresh token the client holds is a signed envelope (``use: refresh``) around the
store's opaque token: the store decides whether the session is alive (rotation, reuse
detection, revocation), and the envelope makes sure a refresh token can never pass as an
access token, nor an access token be rotated.
"""

from __future__ import annotations

from pinsphere import User
from pinsphere.errors import AuthenticationError
from pinsphere_http.context import ServiceContext
from pinsphere_http.schemas import TokenResponse

__all__ = ["end_session", "rotate_session", "start_session"]

_STORE_TOKEN_CLAIM = "rt"  # noqa: S105 - a claim name


def _tokens(context: ServiceContext, user: User, store_token: str) -> TokenResponse:
    settings = context.settings
    lifetime = settings.access_token_lifetime
    return TokenResponse(
        access_token=context.signer.encode("access", user.id, lifetime),
        expires_in=int(lifetime.total_seconds()),
        refresh_token=context.signer.encode(
            "refresh",
            user.id,
            context.store.settings.refresh_token_lifetime,
            {_STORE_TOKEN_CLAIM: store_token},
        ),
    )


def start_session(context: ServiceContext, user: User) -> TokenResponse:
    """Tokens for a user who has just proved who they are (a new session family)."""
    return _tokens(context, user, context.store.refresh_tokens.issue(user))


def rotate_session(context: ServiceContext, refresh_token: str) -> TokenResponse:
    """Exchange a refresh token for new tokens; the old one is spent.

    Raises:
        AuthenticationError: The token is forged, expired, revoked or reused (the store then
            revokes its whole family), or the account is gone or disabled.
    """
    claims = context.signer.decode(refresh_token, "refresh")
    store_token = claims.get(_STORE_TOKEN_CLAIM)
    if not isinstance(store_token, str):
        raise AuthenticationError("the refresh token is invalid")
    user, next_token = context.store.refresh_tokens.rotate(store_token)
    if user.id != claims["sub"]:
        # Cannot happen with tokens this service signed; never hand out a mixed-up session.
        context.store.refresh_tokens.revoke(next_token)
        raise AuthenticationError("the refresh token is invalid")
    return _tokens(context, user, next_token)


def end_session(context: ServiceContext, refresh_token: str) -> None:
    """Sign out: revoke the refresh token's family. Invalid tokens are ignored."""
    try:
        claims = context.signer.decode(refresh_token, "refresh")
    except AuthenticationError:
        return
    store_token = claims.get(_STORE_TOKEN_CLAIM)
    if isinstance(store_token, str):
        context.store.refresh_tokens.revoke(store_token)
