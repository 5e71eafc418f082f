"""The two servers the HTTP benchmark compares, and the launcher that runs either under uvicorn.

* ``pinsphere``: :func:`pinsphere_http.create_app` over a store opened from the
  ``PINSPHERE_*_URL`` variables, exactly as ``pinsphere serve``'s factory does, except that the
  store's upload limit can be raised (``PINSPHERE_BENCH_STORE_MAX_UPLOAD_BYTES``): the 1 GB
  upload would otherwise hit :class:`pinsphere.StoreSettings`' 200 MiB default, which
  ``pinsphere serve`` reads from nowhere.
* ``bare``: the least a FastAPI service needs to give the same answers from the same SQLite
  file: raw ``sqlite3`` on a connection per thread, the same JSON shape built from plain dicts,
  and a Starlette ``FileResponse`` of the same media file. It applies the visibility rule of a
  signed-in member (public, internal or owned by them) for the member named in
  ``PINSPHERE_BENCH_MEMBER_ID`` and does no authentication at all: the ratio prices
  everything Pinsphere does on top, sign-in check included.

``python -m benchmarks.http_apps --app pinsphere|bare --port N --workers N`` calls
``uvicorn.run`` with the arguments ``pinsphere serve`` uses (uvloop and httptools when
installed, no proxy headers, the service's log configuration, access log on), so both sides
run under identical server settings.
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, HTTPException
from starlette.responses import FileResponse, Response

__all__ = ["bare_app", "main", "pinsphere_app"]

ENV_DATABASE = "PINSPHERE_BENCH_DATABASE"
ENV_MEMBER_ID = "PINSPHERE_BENCH_MEMBER_ID"
ENV_FILE = "PINSPHERE_BENCH_FILE"
ENV_CHUNK = "PINSPHERE_BENCH_CHUNK_SIZE"
ENV_STORE_LIMIT = "PINSPHERE_BENCH_STORE_MAX_UPLOAD_BYTES"

MIB = 1024 * 1024


def pinsphere_app() -> FastAPI:
    """``pinsphere serve``'s app: a store opened from the environment, closed on shutdown."""
    import pinsphere
    from pinsphere.settings import StoreSettings
    from pinsphere_http import create_app

    limit = int(os.environ.get(ENV_STORE_LIMIT) or 0)
    settings = StoreSettings(max_upload_bytes=limit) if limit else None
    return create_app(pinsphere.open(settings=settings), close_store=True)


# -- the bare side -----------------------------------------------------------------------------

_COLUMNS = (
    "id, owner_id, owner, title, description, visibility, mime_type, size, sha256, width,"
    " height, duration, blurhash, tags, thumbnails, created_at, updated_at, processing,"
    " frame_count, codec, camera, taken_at"
)
_VISIBLE_PIN = "(p.visibility IN ('public', 'internal') OR p.owner_id = ?)"
_GET_SQL = (
    f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))}"
    f" FROM pins p WHERE p.id = ? AND {_VISIBLE_PIN}"
)
# pin_tags carries each pin's owner and visibility, so the rule is checked in the index walk.
_TAG_SQL = (
    f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))}"
    " FROM pin_tags t JOIN pins p ON p.id = t.pin_id"
    " WHERE t.tag = ? AND (t.visibility IN ('public', 'internal') OR t.owner_id = ?)"
    " ORDER BY t.pin_id DESC LIMIT ?"
)
_BOARDS_SQL = (
    "SELECT bp.pin_id, b.name FROM board_pins bp JOIN boards b ON b.id = bp.board_id"
    " WHERE bp.pin_id IN ({marks})"
    " AND (b.visibility IN ('public', 'internal') OR b.owner_id = ?) ORDER BY b.name"
)


def _id_alphabet() -> str:
    from pinsphere.ids import encode_id

    return "".join(encode_id(digit)[-1] for digit in range(32))


_ALPHABET = _id_alphabet()
_DECODE = {char: value for value, char in enumerate(_ALPHABET)}
_ID_WIDTH = 13


def _encode(value: int) -> str:
    chars = []
    for _ in range(_ID_WIDTH):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def _decode(text: str) -> int | None:
    if len(text) != _ID_WIDTH:
        return None
    value = 0
    for char in text:
        digit = _DECODE.get(char)
        if digit is None:
            return None
        value = (value << 5) | digit
    return value


def _timestamp(stored: str) -> str:
    # SQLite holds "2025-01-02 13:16:42.624000" in UTC; pydantic writes "...T...624000Z" and
    # drops a zero fraction.
    text = stored.replace(" ", "T", 1)
    if text.endswith(".000000"):
        text = text[:-7]
    return text + "Z"


def _pin(row: Sequence[Any], boards: Sequence[str]) -> dict[str, Any]:
    return {
        "id": _encode(row[0]),
        "owner_id": row[1],
        "owner": row[2],
        "title": row[3],
        "description": row[4],
        "tags": row[13].split("\n") if row[13] else [],
        "boards": list(boards),
        "visibility": row[5],
        "media": {
            "mime_type": row[6],
            "size": row[7],
            "sha256": row[8],
            "width": row[9],
            "height": row[10],
            "duration": row[11],
            "blurhash": row[12],
            "frame_count": row[18],
            "codec": row[19],
            "camera": row[20],
            "taken_at": row[21],
        },
        "thumbnails": [int(w) for w in row[14].split(",")] if row[14] else [],
        "processing": row[17],
        "created_at": _timestamp(row[15]),
        "updated_at": _timestamp(row[16]),
    }


class _Connections(threading.local):
    """One read-only ``sqlite3`` connection per thread of the server's thread pool."""

    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def _board_names(
    connection: sqlite3.Connection, keys: Sequence[int], member: str
) -> dict[int, list[str]]:
    if not keys:
        return {}
    sql = _BOARDS_SQL.format(marks=", ".join("?" * len(keys)))
    names: dict[int, list[str]] = {}
    for pin_id, name in connection.execute(sql, (*keys, member)):
        names.setdefault(pin_id, []).append(name)
    return names


class _FileResponse(FileResponse):
    chunk_size = int(os.environ.get(ENV_CHUNK) or MIB)


def bare_app() -> FastAPI:
    """The hand-written service: same rows, same JSON, raw ``sqlite3``, no framework extras."""
    database = os.environ[ENV_DATABASE]
    member = os.environ[ENV_MEMBER_ID]
    media_file = os.environ.get(ENV_FILE, "")
    local = _Connections(database)
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

    @app.get("/healthz")
    def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get("/pins/{pin_id}")
    def get_pin(pin_id: str) -> Response:
        key = _decode(pin_id)
        if key is None:
            raise HTTPException(404)
        connection = local.connection
        row = connection.execute(_GET_SQL, (key, member)).fetchone()
        if row is None:
            raise HTTPException(404)
        boards = _board_names(connection, [key], member).get(key, ())
        return Response(dumps(_pin(row, boards)).encode(), media_type="application/json")

    @app.get("/pins")
    def search(q: str, limit: int = 20) -> Response:
        kind, _, tag = q.partition(":")
        if kind != "tag" or not tag or not 1 <= limit <= 200:
            raise HTTPException(400)
        connection = local.connection
        rows = connection.execute(_TAG_SQL, (tag, member, limit + 1)).fetchall()
        more = len(rows) > limit
        rows = rows[:limit]
        names = _board_names(connection, [row[0] for row in rows], member)
        items = [_pin(row, names.get(row[0], ())) for row in rows]
        cursor = None
        if more:
            position = json.dumps({"after": items[-1]["id"], "q": q}).encode()
            cursor = base64.urlsafe_b64encode(position).rstrip(b"=").decode()
        body = dumps({"items": items, "next_cursor": cursor}).encode()
        return Response(body, media_type="application/json")

    @app.get("/file")
    def file() -> FileResponse:
        return _FileResponse(media_file, media_type="video/mp4")

    return app


# -- the launcher ------------------------------------------------------------------------------

_FACTORIES = {
    "pinsphere": "benchmarks.http_apps:pinsphere_app",
    "bare": "benchmarks.http_apps:bare_app",
}


def main(argv: Sequence[str] | None = None) -> None:
    """Serve one of the apps on 127.0.0.1 with ``pinsphere serve``'s uvicorn settings."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_apps")
    parser.add_argument("--app", choices=sorted(_FACTORIES), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    import uvicorn

    from pinsphere_http.factory import log_config

    uvicorn.run(
        _FACTORIES[args.app],
        factory=True,
        host="127.0.0.1",
        port=args.port,
        workers=args.workers,
        loop="uvloop" if importlib.util.find_spec("uvloop") else "auto",
        http="httptools" if importlib.util.find_spec("httptools") else "auto",
        proxy_headers=False,
        log_config=log_config(),
    )


if __name__ == "__main__":
    main()
