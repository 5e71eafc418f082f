"""Streaming ``multipart/form-data`` parsing for uploads.

The body is read from ``request.stream()`` and fed to python-multipart's incremental parser;
the file part goes to a :class:`tempfile.SpooledTemporaryFile` (in memory up to 1 MiB, then on
disk) while its bytes are counted. Nothing holds the whole body, and the limit is enforced
as the bytes arrive: a declared ``Content-Length`` over it fails before anything is read, and
a body that passes it fails at that chunk, without reading further.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Final

import anyio
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from pinsphere.errors import InvalidInput, TooLarge
from pinsphere_http.problems import ProblemError

if TYPE_CHECKING:
    from python_multipart.multipart import MultipartCallbacks

__all__ = ["FILE_FIELD", "TEXT_FIELDS", "UploadForm", "read_upload_form"]

FILE_FIELD: Final = "file"
TEXT_FIELDS: Final = frozenset({"title", "description", "tags", "board", "visibility"})
SPOOL_BYTES: Final = 1024 * 1024
# Boundaries and part headers on top of the file and the text fields.
_ENVELOPE_BYTES: Final = 16 * 1024
_MAX_PARTS: Final = 64


@dataclass
class UploadForm:
    """A parsed upload form.

    Attributes:
        file: The file's bytes, rewound; the caller closes it.
        filename: The name the client gave (informational only: it decides nothing).
        size: The file's length in bytes.
        fields: Text fields by name, each with every value sent.
    """

    file: IO[bytes]
    filename: str | None
    size: int
    fields: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        """The first value of a text field, if sent."""
        values = self.fields.get(name)
        return values[0] if values else None


class _FormBuilder:
    """Collects parts from the parser's callbacks, enforcing the limits as data arrives."""

    def __init__(self, max_file_bytes: int, max_field_bytes: int) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_field_bytes = max_field_bytes
        self.file: IO[bytes] | None = None
        self.filename: str | None = None
        self.size = 0
        self.fields: dict[str, list[str]] = {}
        self.field_bytes = 0
        self.parts = 0
        self.ended = False
        # Per part:
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._text = bytearray()
        # File bytes of the current chunk, written by the caller outside the callbacks so that
        # disk writes can leave the event loop.
        self.pending: list[bytes] = []

    def callbacks(self) -> MultipartCallbacks:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > _MAX_PARTS:
            raise InvalidInput("the form has too many parts")
        self._headers = {}
        self._name = None
        self._is_file = False
        self._text = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition"))
        if disposition != b"form-data" or b"name" not in params:
            raise InvalidInput("each part needs Content-Disposition: form-data; name=...")
        name = _text(params[b"name"], "a field name")
        if name == FILE_FIELD:
            if self.file is not None:
                raise InvalidInput("send one file per upload")
            self._is_file = True
            self.file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by the caller
            raw_name = params.get(b"filename")
            self.filename = _text(raw_name, "the file name") if raw_name else None
        elif name not in TEXT_FIELDS:
            raise InvalidInput(f"unknown form field {name!r}")
        self._name = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        length = end - start
        if self._is_file:
            self.size += length
            if self.size > self.max_file_bytes:
                raise TooLarge(
                    f"the file is larger than {self.max_file_bytes} bytes",
                    limit=self.max_file_bytes,
                )
            self.pending.append(data[start:end])
        else:
            self.field_bytes += length
            if self.field_bytes > self.max_field_bytes:
                raise InvalidInput(f"the text fields exceed {self.max_field_bytes} bytes")
            self._text += data[start:end]

    def _part_end(self) -> None:
        if not self._is_file and self._name is not None:
            self.fields.setdefault(self._name, []).append(_text(bytes(self._text), self._name))

    def _end(self) -> None:
        self.ended = True


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} is not UTF-8") from None


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise ProblemError(
            415,
            "unsupported-media",
            "send the upload as multipart/form-data",
            headers={"Accept": "multipart/form-data"},
        )
    return boundary


def _check_declared_length(request: Request, allowed: int, file_limit: int) -> None:
    declared = request.headers.get("content-length")
    if declared is None:
        return
    if not declared.isdigit():
        raise ProblemError(400, "bad-request", "Content-Length is not a number")
    if int(declared) > allowed:
        raise TooLarge(f"the file is larger than {file_limit} bytes", limit=file_limit)


async def read_upload_form(
    request: Request, *, max_file_bytes: int, max_field_bytes: int
) -> UploadForm:
    """Read an upload form from the request body as it streams in.

    Args:
        request: The request; its body must not have been read.
        max_file_bytes: The largest file accepted.
        max_field_bytes: The most bytes all text fields together may have.

    Returns:
        The form; close its ``file`` when done.

    Raises:
        TooLarge: The body or the file is over the limit.
        InvalidInput: The form is malformed, has unknown fields, or no file.
        ProblemError: Not ``multipart/form-data`` (415), or the body ended early (400).
    """
    boundary = _boundary(request)
    # The envelope allowance keeps a file just under the limit from being refused for its
    # boundaries; the file itself is still held to max_file_bytes below.
    _check_declared_length(
        request, max_file_bytes + max_field_bytes + _ENVELOPE_BYTES, max_file_bytes
    )
    builder = _FormBuilder(max_file_bytes, max_field_bytes)
    parser = MultipartParser(boundary, builder.callbacks())
    try:
        async for chunk in request.stream():
            parser.write(chunk)
            if builder.pending:
                await _flush(builder)
        parser.finalize()
    except MultipartParseError:
        _discard(builder)
        raise InvalidInput("the multipart body is malformed") from None
    except ClientDisconnect:
        _discard(builder)
        raise ProblemError(400, "bad-request", "the request body ended early") from None
    except BaseException:
        _discard(builder)
        raise
    if not builder.ended or builder.file is None:
        _discard(builder)
        if not builder.ended:
            raise ProblemError(400, "bad-request", "the multipart body is incomplete")
        raise InvalidInput(f"the form has no {FILE_FIELD!r} part")
    builder.file.seek(0)
    return UploadForm(builder.file, builder.filename, builder.size, builder.fields)


async def _flush(builder: _FormBuilder) -> None:
    file = builder.file
    assert file is not None
    data = b"".join(builder.pending)
    builder.pending.clear()
    if builder.size - len(data) < SPOOL_BYTES:
        file.write(data)  # still (mostly) in memory: cheaper than a thread hop
    else:
        await anyio.to_thread.run_sync(file.write, data)


def _discard(builder: _FormBuilder) -> None:
    if builder.file is not None:
        builder.file.close()
