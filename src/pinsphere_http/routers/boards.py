"""Boards: list, create, change, delete, and put pins on them or take them off."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import TypeAdapter
from starlette.responses import Response

from pinsphere import Board
from pinsphere_http.dependencies import CurrentUser, Scope
from pinsphere_http.responses import json_items, json_model, problems
from pinsphere_http.schemas import BoardCreate, BoardPatch

__all__ = ["router"]

router = APIRouter(prefix="/api/v1/boards", tags=["boards"])

_BOARDS = TypeAdapter(list[Board])

_BOARD_ID = "The board's id (or the name of one of your boards)."


@router.get("", response_model=list[Board], summary="List boards", responses=problems(401))
def list_boards(
    scope: Scope,
    owner: Annotated[str | None, Query(description="Only this user's boards.")] = None,
) -> Response:
    """Boards the caller can see."""
    return json_items(_BOARDS, scope.boards.list(owner=owner))


@router.post(
    "",
    status_code=201,
    response_model=Board,
    summary="Create a board",
    responses=problems(401, 403, 409, 422),
)
def create_board(body: BoardCreate, user: CurrentUser, scope: Scope) -> Response:
    """A new board owned by the caller; 409 if the caller has one with that name."""
    board = scope.boards.create(body.name, description=body.description, visibility=body.visibility)
    return json_model(board, status_code=201, headers={"Location": f"{router.prefix}/{board.id}"})


@router.get(
    "/{board_id}", response_model=Board, summary="Get a board", responses=problems(401, 404)
)
def get_board(board_id: str, scope: Scope) -> Response:
    """One board, if the caller can see it. Its pins: ``GET /api/v1/pins?q=board:NAME``."""
    return json_model(scope.boards.get(board_id))


@router.patch(
    "/{board_id}",
    response_model=Board,
    summary="Change a board",
    responses=problems(401, 403, 404, 409, 422),
)
def update_board(board_id: str, body: BoardPatch, user: CurrentUser, scope: Scope) -> Response:
    """Rename a board or change its description or visibility."""
    board = scope.boards.update(
        board_id, name=body.name, description=body.description, visibility=body.visibility
    )
    return json_model(board)


@router.delete(
    "/{board_id}", status_code=204, summary="Delete a board", responses=problems(401, 403, 404)
)
def delete_board(board_id: str, user: CurrentUser, scope: Scope) -> Response:
    """Delete a board; its pins stay."""
    scope.boards.delete(board_id)
    return Response(status_code=204)


@router.put(
    "/{board_id}/pins/{pin_id}",
    status_code=204,
    summary="Put a pin on a board",
    responses=problems(401, 403, 404),
)
def add_pin(board_id: str, pin_id: str, user: CurrentUser, scope: Scope) -> Response:
    """Put a visible pin on one of the caller's boards (idempotent)."""
    scope.boards.add(board_id, pin_id)
    return Response(status_code=204)


@router.delete(
    "/{board_id}/pins/{pin_id}",
    status_code=204,
    summary="Take a pin off a board",
    responses=problems(401, 403, 404),
)
def remove_pin(board_id: str, pin_id: str, user: CurrentUser, scope: Scope) -> Response:
    """Take a pin off one of the caller's boards (idempotent)."""
    scope.boards.remove(board_id, pin_id)
    return Response(status_code=204)
