"""What went wrong talking to an S3 server, in words an operator can act on.

s3fs turns botocore's ``ClientError`` into ``OSError`` subclasses and keeps the original as
``__cause__``; connection failures arrive as botocore exceptions. :func:`s3_translated` reads
either and raises :mod:`pinsphere.errors`, with the native error as ``__cause__``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pinsphere.errors import BackendUnavailable, NotFound, PinsphereError

__all__ = ["describe_failure", "s3_translated"]

_DENIED_CODES = frozenset(
    {
        "403",
        "AccessDenied",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "AllAccessDisabled",
    }
)
# botocore's connection failures, by class name: matching names keeps botocore out of the
# import graph of anything that only handles errors.
_UNREACHABLE = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "ReadTimeoutError",
        "ProxyConnectionError",
        "SSLError",
    }
)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _error_code(exc: BaseException) -> tuple[str | None, int | None]:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None, None
    code = response.get("Error", {}).get("Code")
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return (str(code) if code is not None else None), (
        int(status) if isinstance(status, int) else None
    )


def describe_failure(exc: BaseException, *, bucket: str, endpoint: str) -> str | None:
    """Say why a request failed when the reason is one an operator fixes.

    Args:
        exc: The error raised by s3fs or botocore.
        bucket: The bucket the store uses.
        endpoint: The server, for the message.

    Returns:
        A sentence for an unreachable server, a missing bucket, refused credentials or no
        credentials at all; ``None`` for anything else.
    """
    for error in _chain(exc):
        name = type(error).__name__
        if name in _UNREACHABLE:
            return f"cannot reach the S3 endpoint {endpoint}: {error}"
        if name in {"NoCredentialsError", "PartialCredentialsError"}:
            return (
                "no S3 credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or a profile), or use anon=true for a public bucket"
            )
        code, status = _error_code(error)
        # HeadBucket has no body to carry a code: its bare 404 means the same.
        head_bucket = getattr(error, "operation_name", None) == "HeadBucket"
        if code == "NoSuchBucket" or (head_bucket and status == 404):
            return f"the bucket {bucket!r} does not exist at {endpoint}"
        if code in _DENIED_CODES or status == 403:
            return f"the S3 server at {endpoint} refused the credentials for bucket {bucket!r}"
    return None


@contextmanager
def s3_translated(
    action: str, *, bucket: str, endpoint: str, missing: str | None = None
) -> Iterator[None]:
    """Turn native errors into :mod:`pinsphere.errors`, keeping them as ``__cause__``.

    Args:
        action: What was being done, for the message ("stat blob 'x'").
        bucket: The store's bucket.
        endpoint: The server, for messages.
        missing: The message of a :class:`NotFound` for a missing object; without it a
            missing object is a :class:`BackendUnavailable`. A missing bucket is always one.

    Yields:
        Nothing; the body runs inside the translation.
    """
    try:
        yield
    except PinsphereError:
        raise
    except Exception as exc:
        reason = describe_failure(exc, bucket=bucket, endpoint=endpoint)
        if reason is not None:
            raise BackendUnavailable(f"S3 blob store failed to {action}: {reason}") from exc
        if missing is not None and isinstance(exc, FileNotFoundError):
            raise NotFound(missing) from exc
        raise BackendUnavailable(f"S3 blob store failed to {action}: {exc}") from exc
