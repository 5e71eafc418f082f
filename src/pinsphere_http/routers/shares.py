"""Shares: who else may see (``viewer``) or edit (``editor``) a pin or a board.

The same three operations exist under ``/api/v1/pins/{pin_id}/shares`` and
``/api/v1/boards/{board_id}/shares``. The path names what the target must be: a board's id
under ``/pins`` is 404, as is anything the caller cannot see. Only the owner (or an admin)
manages a target's shares; someone who can see it but does not own it gets 403.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import TypeAdapter
from starlette.responses import Response

from pinsphere import PinScope
from pinsphere.models import Share
from pinsphere_http.dependencies import CurrentUser, Scope
from pinsphere_http.responses import json_items, json_model, problems
from pinsphere_http.schemas import ShareCreate

__all__ = ["router"]

router = APIRouter(tags=["shares"])

_SHARES = TypeAdapter(list[Share])

_PINS = "/api/v1/pins/{pin_id}/shares"
_BOARDS = "/api/v1/boards/{board_id}/shares"


def _pin_id(scope: PinScope, pin_id: str) -> str:
    return scope.get(pin_id).id


def _board_id(scope: PinScope, board_id: str) -> str:
    return scope.boards.get(board_id).id


def _share(scope: PinScope, target_id: str, body: ShareCreate) -> Response:
    return json_model(scope.share(target_id, body.username, body.role))


@router.post(
    _PINS,
    response_model=Share,
    summary="Share a pin with a user",
    responses=problems(401, 403, 404, 422),
)
def share_pin(pin_id: str, body: ShareCreate, user: CurrentUser, scope: Scope) -> Response:
    """Share one of the caller's pins with a user as ``viewer`` or ``editor``; sharing
    again changes the role. An editor may change the pin's metadata and tags, never delete
    or re-share it."""
    return _share(scope, _pin_id(scope, pin_id), body)


@router.get(
    _PINS,
    response_model=list[Share],
    summary="Who a pin is shared with",
    responses=problems(401, 403, 404),
)
def list_pin_shares(pin_id: str, user: CurrentUser, scope: Scope) -> Response:
    """The users one of the caller's pins is shared with."""
    return json_items(_SHARES, scope.shares(_pin_id(scope, pin_id)))


@router.delete(
    _PINS + "/{username}",
    status_code=204,
    summary="Stop sharing a pin with a user",
    responses=problems(401, 403, 404),
)
def unshare_pin(pin_id: str, username: str, user: CurrentUser, scope: Scope) -> Response:
    """Stop sharing a pin with a user (idempotent; 404 for an unknown user)."""
    scope.unshare(_pin_id(scope, pin_id), username)
    return Response(status_code=204)


@router.post(
    _BOARDS,
    response_model=Share,
    summary="Share a board with a user",
    responses=problems(401, 403, 404, 422),
)
def share_board(board_id: str, body: ShareCreate, user: CurrentUser, scope: Scope) -> Response:
    """Share one of the caller's boards (by id, or the name of one of the caller's boards)
    with a user; the share covers the pins the owner put on the board."""
    return _share(scope, _board_id(scope, board_id), body)


@router.get(
    _BOARDS,
    response_model=list[Share],
    summary="Who a board is shared with",
    responses=problems(401, 403, 404),
)
def list_board_shares(board_id: str, user: CurrentUser, scope: Scope) -> Response:
    """The users one of the caller's boards is shared with."""
    return json_items(_SHARES, scope.shares(_board_id(scope, board_id)))


@router.delete(
    _BOARDS + "/{username}",
    status_code=204,
    summary="Stop sharing a board with a user",
    responses=problems(401, 403, 404),
)
def unshare_board(board_id: str, username: str, user: CurrentUser, scope: Scope) -> Response:
    """Stop sharing a board with a user (idempotent; 404 for an unknown user)."""
    scope.unshare(_board_id(scope, board_id), username)
    return Response(status_code=204)
