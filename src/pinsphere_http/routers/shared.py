"""Following a public link, anonymously: ``/api/v1/shared/{token}`` and what it leads to.

Every request re-opens the link in the store, so a link that is revoked, expires, or whose
pin or board is deleted stops working at once, for media requests too.

**Password.** A link with a password needs it in the ``X-Link-Password`` header (raw UTF-8
bytes are accepted). Missing or wrong: 401 with a ``WWW-Authenticate: X-Link-Password``
challenge; wrong passwords are throttled like failed sign-ins (429). A header rather than a
form: it works the same for scripts and pages, and needs no CSRF defence. An answer to a
request that brought the right password also sets the cookie ``pinsphere_link_pass``: a
signed proof, bound to this link, valid as long as a visit, ``HttpOnly``,
``SameSite=Strict`` and scoped to this link's path, so that nothing else receives it. A
request carrying it needs no password: media elements (``<img>``, ``<video>``), which
cannot send headers, show a protected link's pictures and play its videos, and the
password's deliberately slow hash is not recomputed for every range of a video. A visit
alone never stands in for the password: it travels in URLs, which end up in logs.

**Counting visits.** A link's ``max_uses`` counts visits, not requests. A request that
brings no visit starts one and counts a use; its answer carries a *visit* (the ``visit``
member of ``GET /api/v1/shared/{token}``, and the ``X-Link-Visit`` response header). The
follow-up requests of that visit (other pages, a pin, its media, ranges of a video) send it
back, in the ``X-Link-Visit`` header or the ``visit`` query parameter (for ``<img>`` and
``<video>`` sources), and are not counted. A visit is a signed token bound to the link's
token, valid for an hour; on its own it opens nothing.

**Statuses.** Unknown, revoked, expired and used-up links, and anything outside the link,
are all 404 (they must not be told apart); originals of a link that does not allow
downloads are 403.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from typing import Annotated, Final
from urllib.parse import quote

import anyio
from fastapi import APIRouter, Header, Path, Query, Request
from starlette.responses import Response

from pinsphere import Pin
from pinsphere.errors import AuthenticationError, PermissionDenied
from pinsphere.links import LinkScope
from pinsphere_http.attempts import LoginAttempt
from pinsphere_http.context import ServiceContext
from pinsphere_http.cookies import cookie_is_secure, strict_cookie
from pinsphere_http.dependencies import Context
from pinsphere_http.downloads import media_responses, prepare_download, stream_blob
from pinsphere_http.problems import ProblemError
from pinsphere_http.responses import json_model, problems
from pinsphere_http.schemas import PinPage, SharedTarget
from pinsphere_http.thumbnails import (
    DEFAULT_WIDTH,
    OpenedThumbnail,
    Width,
    open_thumbnail,
    thumbnail_response,
    thumbnail_responses,
)
from pinsphere_http.tokens import TokenUse

__all__ = ["PASSWORD_HEADER", "PROOF_COOKIE", "VISIT_HEADER", "VISIT_LIFETIME", "router"]

router = APIRouter(prefix="/api/v1/shared/{token}", tags=["shared"])

PASSWORD_HEADER: Final = "X-Link-Password"  # noqa: S105 - a header name
VISIT_HEADER: Final = "X-Link-Visit"
PROOF_COOKIE: Final = "pinsphere_link_pass"
VISIT_LIFETIME: Final = timedelta(hours=1)
_REVALIDATE: Final = "private, no-cache"

LinkToken = Annotated[str, Path(max_length=256, description="The link's token.")]
Password = Annotated[
    str | None,
    Header(
        alias=PASSWORD_HEADER,
        max_length=4096,
        description="The link's password, when it has one.",
    ),
]
VisitHeader = Annotated[
    str | None,
    Header(
        alias=VISIT_HEADER,
        max_length=2048,
        description="The visit this request belongs to (so it is not counted again).",
    ),
]
VisitQuery = Annotated[
    str | None,
    Query(
        alias="visit",
        max_length=2048,
        description=f"The same as the {VISIT_HEADER} header, for media elements.",
    ),
]


class _Visit:
    """An opened link, the visit the request belongs to, and a password proof to hand out."""

    def __init__(
        self, visitor: LinkScope, visit: str, started: bool, proof_cookie: str | None = None
    ) -> None:
        self.visitor = visitor
        self.visit = visit
        self.started = started
        self.proof_cookie = proof_cookie

    def headers(self) -> dict[str, str]:
        """The visit header, on answers that started one; the password proof, on answers to
        a request that brought the right password."""
        headers = {VISIT_HEADER: self.visit} if self.started else {}
        if self.proof_cookie is not None:
            headers["Set-Cookie"] = self.proof_cookie
        return headers


def _link_key(token: str) -> str:
    # The visit names the link by a digest of its token, never the token itself.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _signed_for_link(
    context: ServiceContext, signed: str | None, use: TokenUse, token: str
) -> bool:
    """Whether ``signed`` is a genuine, unexpired token of this use, bound to this link.

    A stale or forged one is simply none: a visit then starts afresh, a password is asked
    for again.
    """
    if not signed:
        return False
    try:
        claims = context.signer.decode(signed, use)
    except AuthenticationError:
        return False
    return hmac.compare_digest(str(claims["sub"]), _link_key(token))


def _proof_path(request: Request, token: str) -> str:
    # The link's own path (below the service's mount point, if any): the browser sends the
    # cookie to this link's routes only.
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return root + router.prefix.replace("{token}", quote(token, safe=""))


def _proof_cookie(context: ServiceContext, request: Request, token: str) -> str:
    proof = context.signer.encode("link-password", _link_key(token), VISIT_LIFETIME)
    return strict_cookie(
        PROOF_COOKIE,
        proof,
        path=_proof_path(request, token),
        max_age=int(VISIT_LIFETIME.total_seconds()),
        secure=cookie_is_secure(request, context),
    )


def _password(raw: str | None) -> str | None:
    if raw is None:
        return None
    # Starlette reads header bytes as Latin-1; a client sending UTF-8 gets its text back.
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return raw


def _open(
    context: ServiceContext,
    request: Request,
    token: str,
    password: str | None,
    visit: str | None,
) -> _Visit:
    following = _signed_for_link(context, visit, "link-visit", token)
    proven = _signed_for_link(context, request.cookies.get(PROOF_COOKIE), "link-password", token)
    if proven:
        # A proof of the right password makes the header redundant: checking it again
        # would cost a slow hash and hold an attempt against the link's limit, so that a
        # client fetching many media at once would be refused.
        password = None
    # Wrong passwords count against the sign-in throttle, per link and per client address;
    # opening without a password is not a guess.
    attempt: AbstractContextManager[object] = nullcontext()
    if password is not None:
        address = context.client_address(request)
        attempt = LoginAttempt(context, f"link:{_link_key(token)[:32]}", address)
    try:
        with attempt:
            visitor = context.store.open_link(
                token,
                password=_password(password),
                count_use=not following,
                password_proven=proven,
            )
    except AuthenticationError:
        raise ProblemError(
            401,
            "link-password",
            f"this link needs its password, in the {PASSWORD_HEADER} header",
            headers={"WWW-Authenticate": f'{PASSWORD_HEADER} realm="pinsphere"'},
        ) from None
    proof = None
    if password is not None and visitor.link.has_password:
        proof = _proof_cookie(context, request, token)
    if following:
        assert visit is not None
        return _Visit(visitor, visit, started=False, proof_cookie=proof)
    fresh = context.signer.encode("link-visit", _link_key(token), VISIT_LIFETIME)
    return _Visit(visitor, fresh, started=True, proof_cookie=proof)


@router.get(
    "",
    response_model=SharedTarget,
    summary="Open a public link",
    responses=problems(400, 401, 404, 422, 429),
)
def open_shared(
    request: Request,
    token: LinkToken,
    context: Context,
    password: Password = None,
    visit_header: VisitHeader = None,
    visit_query: VisitQuery = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Page size of a board's pins.")] = 20,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
) -> Response:
    """The link's pin, or its board with one page of the board's pins (newest first; page
    with ``cursor``). No sign-in: the token is the credential."""
    opened = _open(context, request, token, password, visit_header or visit_query)
    visitor = opened.visitor
    target = visitor.target
    link = visitor.link
    if isinstance(target, Pin):
        answer = SharedTarget(
            kind="pin",
            pin=target,
            allow_download=link.allow_download,
            expires_at=link.expires_at,
            visit=opened.visit,
        )
    else:
        page = visitor.search("", limit=limit, cursor=cursor)
        answer = SharedTarget(
            kind="board",
            board=target,
            pins=PinPage(items=list(page.items), next_cursor=page.next_cursor),
            allow_download=link.allow_download,
            expires_at=link.expires_at,
            visit=opened.visit,
        )
    return json_model(answer, headers={"Cache-Control": "no-store", **opened.headers()})


@router.get(
    "/pins/{pin_id}",
    response_model=Pin,
    summary="A pin through a public link",
    responses=problems(401, 404, 422, 429),
)
def shared_pin(
    request: Request,
    token: LinkToken,
    pin_id: str,
    context: Context,
    password: Password = None,
    visit_header: VisitHeader = None,
    visit_query: VisitQuery = None,
) -> Response:
    """The link's pin, or a pin of the link's board."""
    opened = _open(context, request, token, password, visit_header or visit_query)
    pin = opened.visitor.get(pin_id)
    return json_model(pin, headers={"Cache-Control": "no-store", **opened.headers()})


@router.get(
    "/pins/{pin_id}/media",
    summary="An original through a public link",
    response_class=Response,
    responses=media_responses(401, 403, 404, 416, 422, 429),
)
async def shared_media(
    request: Request,
    token: LinkToken,
    pin_id: str,
    context: Context,
    password: Password = None,
    visit_header: VisitHeader = None,
    visit_query: VisitQuery = None,
) -> Response:
    """The original file, streamed, with ``Range`` and ``If-None-Match`` as on
    ``/api/v1/pins/{pin_id}/media``; 403 when the link does not allow downloads."""
    visit = visit_header or visit_query
    chunk_size = context.settings.download_chunk_size

    def work() -> tuple[_Visit, Response]:
        # One worker thread for the link, the pin and (when the answer needs it) the file.
        opened = _open(context, request, token, password, visit)
        visitor = opened.visitor
        pin = visitor.get(pin_id)
        if not visitor.link.allow_download:
            raise PermissionDenied("this link does not allow downloads")
        early, byte_range = prepare_download(request, pin)
        if early is not None:
            return opened, early
        # visitor.open checks the link (and its download permission) once more as it opens.
        file = visitor.open(pin_id)
        return opened, stream_blob(file, pin, byte_range, chunk_size=chunk_size)

    opened, response = await anyio.to_thread.run_sync(work)
    # A browser must ask again before reusing a copy, so that a revoked link stops showing
    # the file (the ETag keeps that cheap: 304).
    response.headers.update({**opened.headers(), "Cache-Control": _REVALIDATE})
    return response


router.add_api_route(
    "/pins/{pin_id}/media",
    shared_media,
    methods=["HEAD"],
    include_in_schema=False,
    response_class=Response,
)


@router.get(
    "/pins/{pin_id}/thumbnail",
    summary="A thumbnail through a public link",
    response_class=Response,
    responses=thumbnail_responses(401, 404, 422, 429),
)
async def shared_thumbnail(
    request: Request,
    token: LinkToken,
    pin_id: str,
    context: Context,
    password: Password = None,
    visit_header: VisitHeader = None,
    visit_query: VisitQuery = None,
    width: Width = DEFAULT_WIDTH,
) -> Response:
    """The WebP thumbnail nearest to ``width``, as on ``/api/v1/pins/{pin_id}/thumbnail``;
    served by every link, including those that do not allow downloading originals."""
    chunk_size = context.settings.download_chunk_size
    if_none_match = request.headers.get("if-none-match")
    head = request.method == "HEAD"
    visit = visit_header or visit_query

    def work() -> tuple[_Visit, OpenedThumbnail]:
        opened = _open(context, request, token, password, visit)
        found = open_thumbnail(
            opened.visitor,
            pin_id,
            width,
            if_none_match=if_none_match,
            head=head,
            chunk_size=chunk_size,
        )
        return opened, found

    opened, found = await anyio.to_thread.run_sync(work)
    # As for originals: a browser asks again before reusing a copy, so a revoked link stops
    # showing the picture (a 304 when it still works).
    return thumbnail_response(
        found, cache_control=_REVALIDATE, chunk_size=chunk_size, headers=opened.headers()
    )


router.add_api_route(
    "/pins/{pin_id}/thumbnail",
    shared_thumbnail,
    methods=["HEAD"],
    include_in_schema=False,
    response_class=Response,
)
