"""Signing browser-style ``POST`` uploads to S3 locally, without a request to the server.

A POST policy lists conditions the server checks before it stores anything. The policy
signed here pins three of them, so that a client holding the form can write nothing but what
the service meant:

* the bucket, and the exact object key (``{"key": ...}``; never ``starts-with``, which would
  let the client pick any key under a prefix);
* ``content-length-range`` ``[1, max_size]``: an empty or oversized body is refused by the
  server itself, before it is stored;
* the expiry, after which the signature is refused.

Signing needs credentials but no network: botocore computes the SigV4 signature from the
policy document.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fsspec.asyn import sync

from pinsphere.backends.base import PresignedUpload
from pinsphere.errors import InvalidInput

__all__ = ["MAX_UPLOAD_EXPIRY_SECONDS", "presigned_post"]

MAX_UPLOAD_EXPIRY_SECONDS = 7 * 24 * 3600
"""The longest a SigV4 POST policy may last."""


async def _sign(fs: Any, bucket: str, object_key: str, max_size: int, expires_in: int) -> Any:
    await fs.set_session()
    client = await fs.get_s3(bucket)
    return await client.generate_presigned_post(
        Bucket=bucket,
        Key=object_key,
        Conditions=[["content-length-range", 1, max_size]],
        ExpiresIn=expires_in,
    )


def presigned_post(
    fs: Any, bucket: str, object_key: str, *, max_size: int, expires_in: int
) -> PresignedUpload:
    """Sign a ``POST`` form that writes exactly ``object_key`` with 1 to ``max_size`` bytes.

    Args:
        fs: The :class:`s3fs.S3FileSystem` whose credentials sign.
        bucket: The bucket.
        object_key: The full object key (prefix included).
        max_size: The largest body accepted, in bytes (at least 1).
        expires_in: Seconds the form stays valid (1 s to 7 days).

    Returns:
        The URL and the fields to send before the file.

    Raises:
        InvalidInput: ``max_size`` or ``expires_in`` is out of range, or the key would be read
            as a template by the signer.
    """
    if isinstance(max_size, bool) or not isinstance(max_size, int) or max_size < 1:
        raise InvalidInput("max_size must be a positive number of bytes")
    if (
        isinstance(expires_in, bool)
        or not isinstance(expires_in, int)
        or not 1 <= expires_in <= MAX_UPLOAD_EXPIRY_SECONDS
    ):
        raise InvalidInput(f"expires_in is 1 to {MAX_UPLOAD_EXPIRY_SECONDS} seconds")
    if "${filename}" in object_key:
        # botocore turns a key ending in it into a starts-with condition: any key would do.
        raise InvalidInput("a presigned upload's key must not contain ${filename}")
    # Taken before signing and cut to whole seconds (as the policy states it), so the
    # reported expiry is never later than the signed one.
    expires_at = (datetime.now(UTC) + timedelta(seconds=expires_in)).replace(microsecond=0)
    signed = sync(fs.loop, _sign, fs, bucket, object_key, max_size, expires_in)
    fields = {str(name): str(value) for name, value in dict(signed["fields"]).items()}
    return PresignedUpload(url=str(signed["url"]), fields=fields, expires_at=expires_at)
