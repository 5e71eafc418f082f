"""FastAPI dependencies: the service context, the caller, and the caller's scope.

A bearer token is either a signed access token (a sign-in session) or one of the store's
personal API tokens (``pst_...``). Either way the caller is read from the store on every
request (never trusted from the token alone), so that a disabled account, a changed role,
a revoked API token or a deleted user takes effect at once. An API token's scope is the
store's own (``store.as_token``): read-only unless the token has the ``write`` scope, which
the core enforces on every change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from pinsphere import PinScope, Principal, User
from pinsphere.api_tokens import API_TOKEN_PREFIX
from pinsphere.errors import AuthenticationError, NotFound, PermissionDenied
from pinsphere_http.context import ServiceContext
from pinsphere_http.cookies import session_claims

__all__ = [
    "TOKEN_URL",
    "Caller",
    "Context",
    "CurrentUser",
    "Scope",
    "SessionUser",
    "get_context",
]

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret

# auto_error=False: no token means anonymous, which is allowed on many routes.
_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description=(
        "An access token from the password flow, or a personal API token (`pst_...`, "
        "from `POST /api/v1/tokens`) sent the same way: `Authorization: Bearer pst_...`. "
        "A token without the `write` scope cannot change anything (403)."
    ),
)


def get_context(request: Request) -> ServiceContext:
    """The app's :class:`ServiceContext`."""
    context: ServiceContext = request.app.state.pinsphere
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


@dataclass(frozen=True, slots=True)
class _Access:
    """How the caller got in: their scope, and whether through an API token."""

    scope: PinScope
    api_token: bool = False


def _access(
    request: Request,
    context: Context,
    token: Annotated[str | None, Depends(_bearer)],
) -> _Access:
    store = context.store
    if token is None:
        if "authorization" in request.headers:
            # A header in another scheme is a client mistake, not a request to be anonymous.
            raise AuthenticationError("use a bearer token")
        # The web UI's cookie session (CSRF-checked on changes), else anonymous.
        cookie_claims = session_claims(request, context)
        if cookie_claims is None:
            return _Access(store.anonymous)
        claims = cookie_claims
    elif token.startswith(API_TOKEN_PREFIX):
        return _Access(store.as_token(token), api_token=True)
    else:
        claims = context.signer.decode(token, "access")
    try:
        user = store.users.get(str(claims["sub"]))
    except NotFound:
        raise AuthenticationError("the account no longer exists") from None
    if user.disabled:
        raise AuthenticationError("the account is disabled")
    # The user was just read from the store, so the scope is built from it directly rather
    # than through store.as_user, which would read it a second time.
    return _Access(PinScope(store, Principal(user)))


_AccessDep = Annotated[_Access, Depends(_access)]


def _scope(access: _AccessDep) -> PinScope:
    return access.scope


Scope = Annotated[PinScope, Depends(_scope)]
"""The caller's view of the store (anonymous when there is no token)."""


def _caller(access: _AccessDep) -> User | None:
    return access.scope.user


Caller = Annotated[User | None, Depends(_caller)]
"""The signed-in user, or ``None`` for an anonymous request."""


def _current_user(user: Caller) -> User:
    if user is None:
        raise AuthenticationError("sign in first")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
"""The signed-in user (by session or API token); anonymous requests get 401."""


def _session_user(access: _AccessDep, user: CurrentUser) -> User:
    if access.api_token:
        raise PermissionDenied("sign in with a password for this; API tokens cannot do it")
    return user


SessionUser = Annotated[User, Depends(_session_user)]
"""A user signed in with a session (not an API token): for changes to the account itself
(password, deletion), which a leaked script token must never be able to make."""
