"""FastAPI dependencies: the service context, the caller, and the caller's scope.

A bearer token is either a signed access token (a sign-in session) or one of the store's
personal API tokens (``pst_...``). Either way the caller is read from the store on every
request (never trusted from the token alone), so that a disabled account, a changed role,
a revoked API token or a deleted user takes effect at once. An API token's scope is the
store's own (``store.as_token``): read-only unless the token has the ``write`` scope, which
the core enforces on every change.

Every dependency here is ``async`` and does no blocking I/O on the event loop: the one
blocking step, reading the caller from the store, happens in a worker thread, once per
request. Routes that need only that and one store call use :data:`Access` and do both in a
single thread hop (:meth:`Credentials.run`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from starlette.concurrency import run_in_threadpool

from pinsphere import PinScope, PinStore, Principal, User
from pinsphere.api_tokens import API_TOKEN_PREFIX
from pinsphere.errors import AuthenticationError, NotFound, PermissionDenied
from pinsphere_http.context import ServiceContext
from pinsphere_http.cookies import session_claims
from pinsphere_http.threads import run_in_worker

__all__ = [
    "TOKEN_URL",
    "Access",
    "Caller",
    "Context",
    "Credentials",
    "CurrentUser",
    "Scope",
    "SessionUser",
    "get_context",
]

T = TypeVar("T")

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


async def get_context(request: Request) -> ServiceContext:
    """The app's :class:`ServiceContext`."""
    context: ServiceContext = request.app.state.pinsphere
    return context


Context = Annotated[ServiceContext, Depends(get_context)]


@dataclass(frozen=True, slots=True)
class _Access:
    """How the caller got in: their scope, and whether through an API token."""

    scope: PinScope
    api_token: bool = False


@dataclass(frozen=True, slots=True)
class Credentials:
    """What a request presented, checked as far as it can be without the store.

    A signed access token (bearer or cookie session) is verified here and leaves its
    subject; an API token is only recognised (the store checks it); neither means
    anonymous. :meth:`open` does the part that needs the store, and blocks.

    Attributes:
        store: The store the credentials are opened against.
        user_id: The subject of a verified access token.
        api_token: A personal API token, unchecked.
    """

    store: PinStore
    user_id: str | None = None
    api_token: str | None = None

    def open(self) -> _Access:
        """The caller's scope, read from the store now (blocking I/O).

        Raises:
            AuthenticationError: The account is gone or disabled, or the API token is
                unknown or expired.
        """
        store = self.store
        if self.api_token is not None:
            return _Access(store.as_token(self.api_token), api_token=True)
        if self.user_id is None:
            return _Access(store.anonymous)
        try:
            user = store.users.get(self.user_id)
        except NotFound:
            raise AuthenticationError("the account no longer exists") from None
        if user.disabled:
            raise AuthenticationError("the account is disabled")
        # The user was just read from the store, so the scope is built from it directly
        # rather than through store.as_user, which would read it a second time.
        return _Access(PinScope(store, Principal(user)))

    def scope(self) -> PinScope:
        """The caller's scope (blocking I/O; see :meth:`open`)."""
        return self.open().scope

    async def run(self, work: Callable[[PinScope], T], *, holds_resources: bool = False) -> T:
        """Open the caller's scope and call ``work`` with it, both in one worker thread.

        The caller is read from the store on every request (a disabled account loses access
        at once); doing that read in the same thread hop as the route's own store call
        keeps a request to one hop.

        Args:
            work: The route's store calls.
            holds_resources: What ``work`` returns holds something to close (an open
                file): it then runs through anyio, which waits for the call even when the
                request is cancelled, rather than the leaner :func:`run_in_worker`.
        """

        def in_thread() -> T:
            return work(self.open().scope)

        if holds_resources:
            return await run_in_threadpool(in_thread)
        return await run_in_worker(in_thread)


async def _credentials(
    request: Request,
    token: Annotated[str | None, Depends(_bearer)],
) -> Credentials:
    # The context straight from the app rather than through the Context dependency: one
    # dependency fewer to solve on every request.
    context: ServiceContext = request.app.state.pinsphere
    store = context.store
    if token is None:
        if "authorization" in request.headers:
            # A header in another scheme is a client mistake, not a request to be anonymous.
            raise AuthenticationError("use a bearer token")
        # The web UI's cookie session (CSRF-checked on changes), else anonymous.
        cookie_claims = session_claims(request, context)
        if cookie_claims is None:
            return Credentials(store)
        claims = cookie_claims
    elif token.startswith(API_TOKEN_PREFIX):
        return Credentials(store, api_token=token)
    else:
        claims = context.signer.decode(token, "access")
    return Credentials(store, user_id=str(claims["sub"]))


Access = Annotated[Credentials, Depends(_credentials)]
"""The caller's credentials, for routes that open the scope themselves, together with their
own store call in one worker thread (:meth:`Credentials.run`)."""


async def _access(credentials: Access) -> _Access:
    return await run_in_threadpool(credentials.open)


_AccessDep = Annotated[_Access, Depends(_access)]


async def _scope(access: _AccessDep) -> PinScope:
    return access.scope


Scope = Annotated[PinScope, Depends(_scope)]
"""The caller's view of the store (anonymous when there is no token)."""


async def _caller(access: _AccessDep) -> User | None:
    return access.scope.user


Caller = Annotated[User | None, Depends(_caller)]
"""The signed-in user, or ``None`` for an anonymous request."""


async def _current_user(user: Caller) -> User:
    if user is None:
        raise AuthenticationError("sign in first")
    return user


CurrentUser = Annotated[User, Depends(_current_user)]
"""The signed-in user (by session or API token); anonymous requests get 401."""


async def _session_user(access: _AccessDep, user: CurrentUser) -> User:
    if access.api_token:
        raise PermissionDenied("sign in with a password for this; API tokens cannot do it")
    return user


SessionUser = Annotated[User, Depends(_session_user)]
"""A user signed in with a session (not an API token): for changes to the account itself
(password, deletion), which a leaked script token must never be able to make."""
