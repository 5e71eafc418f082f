"""Blobs in an S3 bucket (AWS, MinIO, any S3-compatible server) through s3fs.

URL: ``s3://bucket[/prefix][?options]``, options in :class:`S3BlobOptions`, e.g.
``s3://pins/prod?endpoint_url=http://127.0.0.1:9000&region=eu-west-1``. Credentials come
from the standard AWS environment variables (or ``key``/``secret`` in the URL, discouraged).

Opening checks that the bucket answers (``HeadBucket``, which needs ``s3:ListBucket``): a
missing bucket, refused credentials or an unreachable server fail at once with a
:class:`~pinsphere.errors.BackendUnavailable` saying which. A bucket is never created.

Writes: see :mod:`pinsphere.backends.fsspec.s3_writer` (a small blob is one conditional
``PutObject``; a large one a multipart upload to ``.staging/`` then a server-side copy).
Reads are s3fs files: ranged ``GET`` requests of ``chunk_size`` bytes, so ``seek`` skips
what it skips. :meth:`S3BlobBackend.presigned_url` signs ``GET`` URLs locally (no request);
:meth:`S3BlobBackend.presigned_upload` signs ``POST`` forms for one exact key and a size range
(see :mod:`pinsphere.backends.fsspec.s3_presign`). Listing keys reads ``ListObjectsV2`` pages
lazily, in key order.

Sweeping removes, older than the grace period: writers of this process that went idle
(their buffered block is freed), incomplete multipart uploads and staged objects under
``.staging/`` left by crashed processes (their age read from the time in their names).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import IO, Any, ClassVar, Self, cast

import fsspec

from pinsphere.backends.base import BlobCapabilities, BlobWriter, PresignedUpload
from pinsphere.backends.fsspec.backend import FsspecBlobBackend
from pinsphere.backends.fsspec.keys import STAGING_FOLDER, prefix_folder, validate_key
from pinsphere.backends.fsspec.options import FsspecBlobOptions, parse_url, register_options_model
from pinsphere.backends.fsspec.readers import TranslatingReader
from pinsphere.backends.fsspec.s3_errors import s3_translated
from pinsphere.backends.fsspec.s3_options import S3BlobOptions
from pinsphere.backends.fsspec.s3_presign import presigned_post
from pinsphere.backends.fsspec.s3_writer import S3Writer, staged_name, staged_time
from pinsphere.backends.fsspec.timestamps import as_utc
from pinsphere.errors import BackendUnavailable, InvalidInput, NotFound, UnknownBackend

__all__ = ["MAX_PRESIGN_SECONDS", "S3BlobBackend", "S3BlobOptions"]

MAX_PRESIGN_SECONDS = 7 * 24 * 3600
"""The longest a SigV4 presigned URL may last."""

register_options_model("s3", S3BlobOptions)

_loader_lock = threading.Lock()
_loader: Any = None


def _new_session() -> Any:
    """A botocore session of its own (credentials are read per store) that shares one
    loader of service models: parsing them costs ~0.3 s, once per process instead of per
    store."""
    from aiobotocore.session import AioSession  # type: ignore[import-untyped]
    from botocore.loaders import create_loader  # type: ignore[import-untyped]

    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = create_loader()
        session = AioSession()
        session.register_component("data_loader", _loader)
    return session


class S3BlobBackend(FsspecBlobBackend):
    """Blobs as objects under ``bucket/prefix``; see the module docstring.

    Attributes:
        bucket: The bucket.
        prefix: The folder inside it (``""`` for the whole bucket).
        endpoint: The server, as messages name it.
    """

    capabilities: ClassVar[BlobCapabilities] = BlobCapabilities(
        atomic_commit=True, ranged_reads=True, presigned_urls=True, presigned_uploads=True
    )
    options: S3BlobOptions
    list_page_size: int = 1000
    """Keys asked for per ``ListObjectsV2`` request by :meth:`keys` (S3 sends at most 1000)."""

    def __init__(
        self, fs: Any, root: str, options: FsspecBlobOptions | None = None, **kwargs: Any
    ) -> None:
        """Use ``root`` (``bucket/prefix``) on an s3fs filesystem (prefer :meth:`from_url`).

        Raises:
            InvalidInput: The options are not :class:`S3BlobOptions`, or ``fsync`` is set.
            BackendUnavailable: The bucket is missing, the credentials are refused, or the
                server cannot be reached.
        """
        options = S3BlobOptions() if options is None else options
        if not isinstance(options, S3BlobOptions):
            raise InvalidInput("an S3 blob store takes S3BlobOptions")
        self.bucket, _, self.prefix = root.strip("/").partition("/")
        self.endpoint = options.endpoint_url or "AWS S3"
        self._writers: weakref.WeakSet[S3Writer] = weakref.WeakSet()
        self._writers_lock = threading.Lock()
        # Retries are botocore's (max_attempts, with backoff); s3fs's own loop on top would
        # multiply them, and an unreachable server would take minutes to report.
        fs.retries = 1
        super().__init__(fs, root, options, **kwargs)

    @classmethod
    def from_url(cls, url: str) -> Self:
        """Open ``s3://bucket[/prefix][?options]``.

        Raises:
            InvalidInput: Not an ``s3://`` URL, no bucket, or a bad option.
            UnknownBackend: s3fs is not installed.
            BackendUnavailable: See :meth:`__init__`.
        """
        protocol, location, options = parse_url(url, cls.options_models)
        if protocol != "s3":
            raise InvalidInput(f"an S3 blob store opens s3:// URLs, not {protocol}://")
        if not location.removeprefix(f"{protocol}://").strip("/"):
            raise InvalidInput("an s3:// URL names a bucket: s3://bucket[/prefix]")
        try:
            session = _new_session()
            fs, root = fsspec.url_to_fs(location, session=session, **options.storage_options())
        except ImportError as exc:
            raise UnknownBackend(
                "s3:// needs s3fs", scheme="s3", hint="install it with: pip install 'pinsphere[s3]'"
            ) from exc
        return cls(fs, root, options)

    def close(self) -> None:
        """Close the connections of this store's client."""
        client = getattr(self.fs, "_s3", None)
        if client is not None:
            self.fs.close_session(self.fs.loop, client)
            self.fs._s3 = None

    def _prepare_root(self) -> None:
        # Object stores have no folders to make; only check the bucket answers.
        self.ping()

    def ping(self) -> None:
        """Check that the bucket exists and the credentials are accepted.

        Raises:
            BackendUnavailable: It does not, they are not, or the server is unreachable.
        """
        with self._translated(f"reach bucket {self.bucket!r}"):
            self.fs.call_s3("head_bucket", Bucket=self.bucket)

    # -- writing ----------------------------------------------------------------------------

    def writer(self) -> BlobWriter:
        """Start a blob; nothing is sent until it outgrows one block or is committed."""
        writer = S3Writer(
            self.fs,
            f"{self._staging}/{staged_name()}",
            self.root,
            block_size=self.options.block_size,
            conditional_writes=self.options.conditional_writes,
            endpoint=self.endpoint,
        )
        with self._writers_lock:
            self._writers.add(writer)
        return writer

    def sweep_staging(self, older_than: timedelta) -> int:
        """Remove writes abandoned for longer than ``older_than`` (see the module docstring).

        Returns:
            How many writes were removed: idle writers, incomplete uploads, staged objects.

        Raises:
            InvalidInput: ``older_than`` is negative.
            BackendUnavailable: The server failed.
        """
        if older_than < timedelta(0):
            raise InvalidInput("older_than must not be negative")
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        busy: set[str] = set()
        with self._writers_lock:
            writers = list(self._writers)
        for writer in writers:
            if not writer.is_open:
                continue
            if writer.touched < cutoff:
                writer.discard()
                removed += 1
            elif writer.upload_id is not None:
                busy.add(writer.upload_id)
        with self._translated(f"sweep {self._staging}"):
            removed += self._sweep_uploads(cutoff, busy)
            removed += self._sweep_staged_objects(cutoff)
        return removed

    def _sweep_uploads(self, cutoff: datetime, busy: set[str]) -> int:
        removed = 0
        for upload in self._staged_uploads():
            key, upload_id = str(upload["Key"]), str(upload["UploadId"])
            started = staged_time(key.rpartition("/")[2]) or as_utc(upload.get("Initiated"))
            if upload_id in busy or started is None or started >= cutoff:
                continue
            try:
                self.fs.call_s3(
                    "abort_multipart_upload", Bucket=self.bucket, Key=key, UploadId=upload_id
                )
            except FileNotFoundError:
                continue  # completed or aborted meanwhile
            removed += 1
        return removed

    def _staged_uploads(self) -> Iterator[dict[str, Any]]:
        markers: dict[str, str] = {}
        while True:
            page = self.fs.call_s3(
                "list_multipart_uploads",
                Bucket=self.bucket,
                Prefix=self._staging_prefix(),
                **markers,
            )
            yield from page.get("Uploads", ())
            if not page.get("IsTruncated"):
                return
            markers = {
                "KeyMarker": page["NextKeyMarker"],
                "UploadIdMarker": page["NextUploadIdMarker"],
            }

    def _sweep_staged_objects(self, cutoff: datetime) -> int:
        removed = 0
        for entry in self._objects(self._staging_prefix()):
            key = str(entry["Key"])
            started = staged_time(key.rpartition("/")[2]) or as_utc(entry.get("LastModified"))
            if started is not None and started < cutoff:
                self.fs.call_s3("delete_object", Bucket=self.bucket, Key=key)
                removed += 1
        return removed

    def _objects(self, prefix: str, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """The bucket's objects under ``prefix`` (a key in the bucket), lazily, one
        ``ListObjectsV2`` page of ``page_size`` at a time, in key order."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": page_size}
        while True:
            page = self.fs.call_s3("list_objects_v2", **request)
            yield from page.get("Contents", ())
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            request["ContinuationToken"] = token

    # -- reading ----------------------------------------------------------------------------

    def open(self, key: str) -> IO[bytes]:
        """Open a blob for streaming reads: ranged ``GET`` requests of ``chunk_size`` bytes.

        Raises:
            InvalidInput: The key is bad.
            NotFound: No blob has this key.
            BackendUnavailable: The server failed.
        """
        size = self.size(key)  # a HEAD that also tells a blob from a "folder" of blobs
        with self._translated(f"open blob {key!r}", missing=f"no blob {key!r}"):
            inner = self.fs.open(
                f"{self.root}/{key}", "rb", block_size=self.options.chunk_size, size=size
            )
        return cast("IO[bytes]", TranslatingReader(inner, key))

    def size(self, key: str) -> int:
        """The blob's length in bytes (one ``HeadObject``).

        Raises:
            InvalidInput: The key is bad.
            NotFound: No blob has this key.
            BackendUnavailable: The server failed.
        """
        return int(self._head(key)["ContentLength"])

    def modified(self, key: str) -> datetime:
        """When the blob was written (its ``LastModified``), in UTC.

        Raises:
            InvalidInput: The key is bad.
            NotFound: No blob has this key.
            BackendUnavailable: The server failed or sent no time.
        """
        when = as_utc(self._head(key).get("LastModified"))
        if when is None:
            raise BackendUnavailable(f"the S3 server reports no time for blob {key!r}")
        return when

    def exists(self, key: str) -> bool:
        """Whether a blob has this key (one ``HeadObject``).

        Raises:
            InvalidInput: The key is bad.
            BackendUnavailable: The server failed.
        """
        try:
            self._head(key)
        except NotFound:
            return False
        return True

    def presigned_url(self, key: str, *, expires_in: int = 300) -> str | None:
        """A ``GET`` URL for the blob, valid for ``expires_in`` seconds (signed locally).

        The URL does not check that the blob exists; fetching a missing one gets a 404.

        Raises:
            InvalidInput: The key is bad, or ``expires_in`` is not 1 s to 7 days.
            BackendUnavailable: The URL cannot be signed (no credentials).
        """
        validate_key(key)
        if not isinstance(expires_in, int) or not 1 <= expires_in <= MAX_PRESIGN_SECONDS:
            raise InvalidInput(f"expires_in is 1 to {MAX_PRESIGN_SECONDS} seconds")
        with self._translated(f"sign a URL for blob {key!r}"):
            return str(self.fs.url(f"{self.root}/{key}", expires=expires_in))

    def presigned_upload(
        self, key: str, *, max_size: int, expires_in: int = 900
    ) -> PresignedUpload | None:
        """A ``POST`` form that writes exactly ``key`` with 1 to ``max_size`` bytes, valid
        for ``expires_in`` seconds (signed locally; see :mod:`.s3_presign`).

        Raises:
            InvalidInput: The key is bad, or ``max_size`` or ``expires_in`` is out of range.
            BackendUnavailable: The form cannot be signed (no credentials, or ``anon=true``).
        """
        validate_key(key)
        if self.options.anon:
            raise BackendUnavailable("an anonymous (anon=true) S3 store cannot sign uploads")
        with self._translated(f"sign an upload form for blob {key!r}"):
            return presigned_post(
                self.fs,
                self.bucket,
                self._object_key(key),
                max_size=max_size,
                expires_in=expires_in,
            )

    # -- listing ----------------------------------------------------------------------------

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every key starting with ``prefix``, never a staged write, in S3's order (by UTF-8
        bytes, which is also the order of Python strings).

        Keys are read lazily, one ``ListObjectsV2`` page of :attr:`list_page_size` keys at a
        time: memory holds one page however large the store, and a caller that stops early
        (taking the first key) sends one request. Folder placeholders (objects whose name
        ends in a slash, made by some tools) are not blobs and are left out.

        Raises:
            InvalidInput: The prefix could not start a valid key (at once).
            BackendUnavailable: The server failed (when the page is read).
        """
        prefix_folder(prefix)
        return self._listed_keys(prefix)

    def _listed_keys(self, prefix: str) -> Iterator[str]:
        inside = self._object_key("")  # the store's folder in the bucket, with its slash
        staging = STAGING_FOLDER + "/"
        objects = self._objects(inside + prefix, self.list_page_size)
        while True:
            # Each page is read inside next(): translate its errors, not the caller's.
            with self._translated(f"list blobs under {prefix!r}"):
                entry = next(objects, None)
            if entry is None:
                return
            key = str(entry["Key"])[len(inside) :]
            if not (key.startswith(staging) or key.endswith("/")):
                yield key

    # -- removing ---------------------------------------------------------------------------

    def delete(self, key: str) -> None:
        """Remove a blob (one ``DeleteObject``; no error when absent).

        Raises:
            InvalidInput: The key is bad.
            BackendUnavailable: The server failed.
        """
        validate_key(key)
        with self._translated(f"delete blob {key!r}"):
            self.fs.call_s3("delete_object", Bucket=self.bucket, Key=self._object_key(key))

    # -- helpers ----------------------------------------------------------------------------

    def _object_key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _staging_prefix(self) -> str:
        return self._object_key(STAGING_FOLDER) + "/"

    def _head(self, key: str) -> dict[str, Any]:
        validate_key(key)
        with self._translated(f"stat blob {key!r}", missing=f"no blob {key!r}"):
            answer: dict[str, Any] = self.fs.call_s3(
                "head_object", Bucket=self.bucket, Key=self._object_key(key)
            )
        return answer

    def _translated(self, action: str, *, missing: str | None = None) -> Any:
        return s3_translated(action, bucket=self.bucket, endpoint=self.endpoint, missing=missing)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(s3://{self.root})"
