"""Writing a blob to S3 without holding it whole and without copying it twice when small.

S3 has no rename, and a blob's key (its sha256) is known only once the last byte has been
streamed, so a writer cannot upload straight to its final key. It buffers at most one block
(``block_size``, 8 MiB by default):

* A blob that fits in one block never leaves the buffer until :meth:`commit`, and is then
  sent with one ``PutObject`` straight to its key, with ``If-None-Match: *`` so that it is
  published only if absent (the server answers ``412`` when it exists). A ``PutObject`` is
  atomic: the object appears whole or not at all.
* A larger blob becomes a multipart upload to ``.staging/<started-ms>-<random>``, one part
  per full block. On commit the upload is completed, then copied on the server to its key
  (``CopyObject``: no byte passes through this process again) and the staged object
  deleted. If the key exists already the staged object is deleted instead; two writers
  racing for one key both copy identical bytes (content addresses), which is harmless.

Anything that fails discards the write: the multipart upload is aborted, or the staged object
deleted. If the server is gone by then, the incomplete upload stays behind until
:meth:`~pinsphere.backends.fsspec.s3.S3BlobBackend.sweep_staging` finds it by the start time
in its name; it is never visible under a blob key.
"""

from __future__ import annotations

import secrets
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

from pinsphere.backends.fsspec.s3_errors import s3_translated
from pinsphere.backends.fsspec.writers import StagedWriter
from pinsphere.errors import PinsphereError, TooLarge

__all__ = ["MAX_COPY_SIZE", "MAX_PARTS", "S3Writer", "staged_name", "staged_time"]

MAX_PARTS = 10_000
"""The most parts S3 accepts in one multipart upload."""

MAX_COPY_SIZE = 5 * 1024**3
"""The largest object one ``CopyObject`` copies; larger ones need a multipart copy."""


def staged_name() -> str:
    """A fresh staged object name that records when the write started (for sweeping)."""
    return f"{time.time_ns() // 1_000_000:013d}-{secrets.token_hex(12)}"


def staged_time(name: str) -> datetime | None:
    """When the write a :func:`staged_name` names started, or ``None`` for another name."""
    stamp, dash, rest = name.partition("-")
    if not dash or not rest or not stamp.isdigit():
        return None
    try:
        return datetime.fromtimestamp(int(stamp) / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def split_path(path: str) -> tuple[str, str]:
    """``bucket/some/key`` as ``("bucket", "some/key")``."""
    bucket, _, key = path.partition("/")
    return bucket, key


class S3Writer(StagedWriter):
    """A blob being written to S3 (see the module docstring for the strategy).

    Args:
        fs: The :class:`s3fs.S3FileSystem`.
        staged: ``bucket/prefix/.staging/<name>``: where a multipart upload goes.
        root: ``bucket/prefix``: where blobs live.
        block_size: Bytes per part, and the most this writer buffers.
        conditional_writes: Publish small blobs with ``If-None-Match: *``.
        endpoint: The server, for messages.

    Attributes:
        touched: When bytes were last written (UTC), for sweeping idle writers.
    """

    def __init__(
        self,
        fs: Any,
        staged: str,
        root: str,
        *,
        block_size: int,
        conditional_writes: bool,
        endpoint: str,
    ) -> None:
        super().__init__(staged, root)
        self._fs = fs
        self._endpoint = endpoint
        self._bucket, self._staged_key = split_path(staged)
        self._block_size = block_size
        self._conditional = conditional_writes
        self._buffer = bytearray()
        self._size = 0
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._staged_exists = False
        self.touched = datetime.now(UTC)

    @property
    def is_open(self) -> bool:
        """Neither committed nor discarded yet."""
        return self._state == "open"

    @property
    def upload_id(self) -> str | None:
        """The multipart upload's id, once the blob outgrew one block."""
        return self._upload_id

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.discard()
            return
        # The error in flight says what went wrong; failing to clean up after it (the
        # server is gone) must not hide it. The sweeper removes what stays behind.
        with suppress(PinsphereError):
            self.discard()

    # -- StagedWriter steps -----------------------------------------------------------------

    def _write(self, chunk: bytes) -> None:
        self.touched = datetime.now(UTC)
        self._buffer += chunk
        self._size += len(chunk)
        # Strictly more than a block: a blob of exactly one block still goes in one request.
        while len(self._buffer) > self._block_size:
            self._upload_part(bytes(self._buffer[: self._block_size]))
            del self._buffer[: self._block_size]

    def _upload_part(self, data: bytes) -> None:
        if len(self._parts) >= MAX_PARTS:
            raise TooLarge(
                f"a blob store with block_size={self._block_size} takes blobs of at most "
                f"{MAX_PARTS} blocks",
                limit=MAX_PARTS * self._block_size,
            )
        if self._upload_id is None:
            started = self._request("create_multipart_upload", Key=self._staged_key)
            self._upload_id = str(started["UploadId"])
        number = len(self._parts) + 1
        answer = self._request(
            "upload_part",
            Key=self._staged_key,
            UploadId=self._upload_id,
            PartNumber=number,
            Body=data,
        )
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    def _finish(self) -> None:
        if self._upload_id is None:
            return  # one block or less: sent by _publish in one request
        if self._buffer:
            self._upload_part(bytes(self._buffer))
            self._buffer = bytearray()
        self._request(
            "complete_multipart_upload",
            Key=self._staged_key,
            UploadId=self._upload_id,
            MultipartUpload={"Parts": self._parts},
        )
        self._staged_exists = True

    def _publish(self, key: str, final: str) -> bool:
        _, final_key = split_path(final)
        if self._upload_id is None:
            return self._put_small(final_key)
        if self._exists(final_key):
            self._delete_staged()
            return False
        if self._size <= MAX_COPY_SIZE:
            self._request(
                "copy_object",
                Key=final_key,
                CopySource={"Bucket": self._bucket, "Key": self._staged_key},
            )
        else:
            with self._translated("copy a blob"):  # s3fs's multipart copy, on the server
                self._fs.copy(f"{self._bucket}/{self._staged_key}", final)
        self._delete_staged()
        return True

    def _put_small(self, final_key: str) -> bool:
        body = bytes(self._buffer)
        self._buffer = bytearray()
        if not self._conditional:
            if self._exists(final_key):
                return False
            self._request("put_object", Key=final_key, Body=body)
            return True
        with self._translated("publish a blob"):
            try:
                self._call("put_object", Key=final_key, Body=body, IfNoneMatch="*")
            except FileExistsError:  # s3fs's reading of "412 Precondition Failed"
                return False
        return True

    def _drop(self) -> None:
        self._buffer = bytearray()
        if self._upload_id is not None and not self._staged_exists:
            with self._translated("abort a multipart upload"), suppress(FileNotFoundError):
                # Missing: aborted already, by a sweep.
                self._call("abort_multipart_upload", Key=self._staged_key, UploadId=self._upload_id)
        elif self._staged_exists:
            self._delete_staged()

    # -- requests ---------------------------------------------------------------------------

    def _translated(self, action: str) -> Any:
        return s3_translated(action, bucket=self._bucket, endpoint=self._endpoint)

    def _call(self, method: str, **kwargs: Any) -> Any:
        """One request; native errors are left to the caller (s3fs's ``OSError`` kinds)."""
        return self._fs.call_s3(method, Bucket=self._bucket, **kwargs)

    def _request(self, method: str, **kwargs: Any) -> Any:
        """One request whose errors become :mod:`pinsphere.errors`."""
        with self._translated(method.replace("_", " ")):
            return self._call(method, **kwargs)

    def _exists(self, object_key: str) -> bool:
        with self._translated("check a blob"):
            try:
                self._call("head_object", Key=object_key)
            except FileNotFoundError:
                return False
        return True

    def _delete_staged(self) -> None:
        self._request("delete_object", Key=self._staged_key)
        self._staged_exists = False
