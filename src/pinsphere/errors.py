"""The exceptions Pinsphere raises.

Every error a caller can see belongs to one tree, so ``except PinsphereError`` catches all of
them. Backends translate their native errors (SQLAlchemy, pymongo, botocore, ``OSError``) into
this tree at their boundary and keep the original as ``__cause__``::

    PinsphereError
    ├── NotFound (KeyError)            the thing does not exist, or the caller may not see it
    ├── PermissionDenied               visible to the caller, but the action is not allowed
    ├── AuthenticationError            wrong credentials, disabled account, forged token
    ├── Conflict                       a unique name or e-mail is already taken
    ├── InvalidInput (ValueError)      an argument is malformed
    │   ├── InvalidMedia               the bytes are not an allowed, well-formed media file
    │   ├── InvalidQuery               the search text or cursor does not parse
    │   └── TooLarge                   the upload is over the configured size limit
    ├── UnknownBackend (LookupError)   no backend is registered for a URL scheme
    ├── Unsupported (NotImplementedError)  a backend lacks an optional operation
    └── BackendUnavailable             a backend cannot be reached or failed unexpectedly
        └── UnknownLayout              the blob store's layout marker names no known layout

Something the caller may not see is always :class:`NotFound`, never
:class:`PermissionDenied`, so that errors never reveal that a private pin exists.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BackendUnavailable",
    "Conflict",
    "InvalidInput",
    "InvalidMedia",
    "InvalidQuery",
    "NotFound",
    "PermissionDenied",
    "PinsphereError",
    "TooLarge",
    "UnknownBackend",
    "UnknownLayout",
    "Unsupported",
]


class PinsphereError(Exception):
    """The root of every error Pinsphere raises."""


class NotFound(PinsphereError, KeyError):  # noqa: N818 - the binding public name
    """The object does not exist, or the caller is not allowed to know that it exists."""

    def __str__(self) -> str:
        # KeyError quotes its argument; a message reads better plain.
        return str(self.args[0]) if self.args else "not found"


class PermissionDenied(PinsphereError):  # noqa: N818 - the binding public name
    """The caller can see the object but may not perform this action on it."""


class AuthenticationError(PinsphereError):
    """Credentials or a token were rejected.

    The message never says which part was wrong, so that it cannot be used to find out
    which usernames exist.
    """


class Conflict(PinsphereError):  # noqa: N818 - the binding public name
    """A unique value (a username, an e-mail, a board name) is already taken."""


class InvalidInput(PinsphereError, ValueError):  # noqa: N818 - reads as a noun
    """An argument is malformed (a tag with forbidden characters, an empty title...)."""


class InvalidMedia(InvalidInput):
    """The uploaded bytes are not an allowed media type, or are corrupt.

    Attributes:
        detected_type: The MIME type sniffed from the bytes, if any.
    """

    def __init__(self, message: str, *, detected_type: str | None = None) -> None:
        super().__init__(message)
        self.detected_type = detected_type


class InvalidQuery(InvalidInput):
    """A search string, sort order or cursor cannot be understood.

    Attributes:
        position: The 0-based character offset of the error in the query text, when the
            error is about the text (``None`` for a bad cursor).
    """

    def __init__(self, message: str, *, position: int | None = None) -> None:
        if position is not None:
            message = f"{message} (at position {position})"
        super().__init__(message)
        self.position = position


class TooLarge(InvalidInput):
    """The upload is larger than the configured limit.

    Attributes:
        limit: The limit in bytes.
    """

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class UnknownBackend(PinsphereError, LookupError):  # noqa: N818 - the binding public name
    """No backend is registered for a URL's scheme.

    Attributes:
        scheme: The scheme that was asked for.
        hint: What to install to get it, when known (``pip install 'pinsphere[mongo]'``).
    """

    def __init__(self, message: str, *, scheme: str, hint: str | None = None) -> None:
        if hint:
            message = f"{message}; {hint}"
        super().__init__(message)
        self.scheme = scheme
        self.hint = hint


class Unsupported(PinsphereError, NotImplementedError):  # noqa: N818 - reads as a state
    """The backend does not offer an optional operation.

    Methods added to a backend interface after third-party backends were written against it
    (such as exporting records for a migration) are not abstract: their default raises this,
    so that those backends keep working and callers can tell "cannot" from "failed".

    Attributes:
        operation: The name of the method that is not offered.
    """

    def __init__(self, message: str, *, operation: str) -> None:
        super().__init__(message)
        self.operation = operation


class BackendUnavailable(PinsphereError):  # noqa: N818 - the binding public name
    """A backend could not be reached, or failed in a way the caller cannot fix."""


class UnknownLayout(BackendUnavailable):
    """The blob store records a layout this version cannot use: its marker is garbled, or
    was written by a newer Pinsphere; or it has no marker, and its originals are not all
    in one layout this version knows (see :mod:`pinsphere.layout_marker`).

    Attributes:
        key: The marker's blob key.
    """

    def __init__(self, message: str, *, key: str) -> None:
        super().__init__(message)
        self.key = key
