"""FastAPI dependencies: the service context, the caller, and the caller's scope.

The caller is read from the store on every request (never trusted from the token alone), so
that a disabled account, a changed role or a deleted user takes effect at once.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from pinsphere import PinScope, Principal, User
from pinsphere.errors import AuthenticationError, NotFound, PermissionDenied
from pinsphere_http.context import ServiceContext

__all__ = [
    "TOKEN_URL",
    "Admin",
    "Caller",
    "Context",
    "CurrentUser",
    "Scope",
    "get_context",
]

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret

# auto_error=False: no token means anonymous, which is allowed on many routes.
_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def get_context(request: Request) -> ServiceContext:
    """The app's :class:`ServiceContext`."""
    context: ServiceContext = request.app.state.pinsphere
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


def _caller(
    request: Request,
    context: Context,
    token: Annotated[str | None, Depends(_bearer)],
) -> User | None:
    if token is None:
        if "authorization" in request.headers:
            # A header in another scheme is a client mistake, not a request to be anonymous.
            raise AuthenticationError("use a bearer token")
        return None
    claims = context.signer.decode(token, "access")
    try:
        user = context.store.users.get(str(claims["sub"]))
    except NotFound:
        raise AuthenticationError("the account no longer exists") from None
    if user.disabled:
        raise AuthenticationError("the account is disabled")
    return user


Caller = Annotated[User | None, Depends(_caller)]
"""The signed-in user, or ``None`` for an anonymous request."""


def _current_user(user: Caller) -> User:
    if user is None:
        raise AuthenticationError("sign in first")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
"""The signed-in user; anonymous requests get 401."""


def _admin(user: CurrentUser) -> User:
    if not Principal(user).is_admin:
        raise PermissionDenied("administrators only")
    return user


Admin = Annotated[User, Depends(_admin)]
"""The signed-in user, who must be an admin (403 otherwise)."""


def _scope(context: Context, user: Caller) -> PinScope:
    # The user was just read from the store, so the scope is built from it directly rather
    # than through store.as_user, which would read it a second time.
    if user is None:
        return context.store.anonymous
    return PinScope(context.store, Principal(user))


Scope = Annotated[PinScope, Depends(_scope)]
"""The caller's view of the store (anonymous when there is no token)."""
