"""The URL options of ``s3://bucket/prefix`` blob stores (S3, MinIO and other S3 servers).

Credentials come, in order, from ``key``/``secret`` in the URL (discouraged: URLs end up in
logs and process listings), else from botocore's usual chain: ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``, ``AWS_PROFILE`` and the shared credentials
file, then instance roles. ``anon=true`` sends unsigned requests (public buckets).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field, SecretStr, model_validator

from pinsphere.backends.fsspec.options import FsspecBlobOptions

__all__ = ["MIN_BLOCK_SIZE", "S3BlobOptions"]

MIN_BLOCK_SIZE = 5 * 1024 * 1024
"""The smallest part S3 accepts in a multipart upload (all but the last part)."""


class S3BlobOptions(FsspecBlobOptions):
    """Options of an ``s3://`` blob store, from the URL's query string.

    Attributes:
        endpoint_url: The server, for MinIO and other S3-compatible stores
            (``http://127.0.0.1:9000``); AWS when omitted.
        region: The bucket's region (``AWS_DEFAULT_REGION`` or the profile's when omitted).
        key: Access key id; prefer the environment.
        secret: Secret access key; prefer the environment. Never shown in ``repr``.
        anon: Send unsigned requests (public buckets, read-only use).
        block_size: Bytes per part of a multipart upload, and the most a writer buffers;
            blobs up to this size are sent in one request. At least 5 MiB (S3's minimum
            part); S3 allows 10,000 parts, so the largest blob is 10,000 blocks.
        conditional_writes: Publish small blobs with ``If-None-Match: *`` (one request,
            and two writers of one key cannot both win). Turn off for servers that reject
            the header; a ``HEAD`` is then sent first.
        connect_timeout: Seconds to wait for a connection.
        read_timeout: Seconds to wait for a response.
        max_attempts: Attempts per request, the first included (botocore's standard retry
            mode: connection errors, throttling and 5xx answers are retried with backoff).
    """

    # Validation errors would otherwise quote the URL's options, secret included.
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    endpoint_url: str | None = None
    region: str | None = None
    key: str | None = None
    secret: SecretStr | None = None
    anon: bool = False
    block_size: int = Field(default=8 * 1024 * 1024, ge=MIN_BLOCK_SIZE, le=5 * 1024**3)
    conditional_writes: bool = True
    connect_timeout: float = Field(default=5.0, gt=0, le=300)
    read_timeout: float = Field(default=60.0, gt=0, le=3600)
    max_attempts: int = Field(default=5, ge=1, le=20)

    @model_validator(mode="after")
    def _credentials_come_in_pairs(self) -> S3BlobOptions:
        if (self.key is None) != (self.secret is None):
            raise ValueError("give both key and secret, or neither")
        if self.anon and self.key is not None:
            raise ValueError("anon=true sends no credentials; drop key and secret")
        return self

    def storage_options(self) -> dict[str, Any]:
        """Keyword arguments for :class:`s3fs.S3FileSystem`.

        Returns:
            Arguments for :func:`fsspec.url_to_fs`.
        """
        config: dict[str, Any] = {
            "connect_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "retries": {"max_attempts": self.max_attempts, "mode": "standard"},
        }
        if not self.anon:
            # Presigned URLs in SigV4, which every region and MinIO accept.
            config["signature_version"] = "s3v4"
        client: dict[str, Any] = {}
        if self.region is not None:
            client["region_name"] = self.region
        options: dict[str, Any] = {
            "anon": self.anon,
            "endpoint_url": self.endpoint_url,
            "config_kwargs": config,
            "client_kwargs": client,
            "default_block_size": self.block_size,
            # Blobs are read and written through direct calls too; a listing cache could
            # then answer "absent" for a blob that was just written.
            "use_listings_cache": False,
            # Each backend owns its filesystem (and its connections), closed with it.
            "skip_instance_cache": True,
        }
        if self.key is not None and self.secret is not None:
            options["key"] = self.key
            options["secret"] = self.secret.get_secret_value()
        return options
