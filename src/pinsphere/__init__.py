"""Pinsphere: a media-pin store with tags, boards, search and sharing over pluggable backends.

>>> import pinsphere
>>> with pinsphere.open("./pinsphere-data") as store:   # doctest: +SKIP
...     alice = store.users.create("alice", password="correct horse")
...     pin = store.as_user(alice).upload("cat.gif", tags=["animals/cats"])
"""

from pinsphere import errors
from pinsphere.hookspecs import hookimpl
from pinsphere.links import LinkScope
from pinsphere.models import (
    ApiToken,
    AuditEvent,
    Board,
    Link,
    Media,
    NewApiToken,
    NewLink,
    Page,
    Pin,
    Role,
    Share,
    ShareRole,
    TagCount,
    User,
    Visibility,
)
from pinsphere.opening import open_store as open
from pinsphere.policy import AccessRule, Principal
from pinsphere.query import Query
from pinsphere.settings import PasswordHashing, StoreSettings
from pinsphere.store import BoardManager, PinScope, PinStore

__version__ = "0.1.0"

__all__ = [
    "AccessRule",
    "ApiToken",
    "AuditEvent",
    "Board",
    "BoardManager",
    "Link",
    "LinkScope",
    "Media",
    "NewApiToken",
    "NewLink",
    "Page",
    "PasswordHashing",
    "Pin",
    "PinScope",
    "PinStore",
    "Principal",
    "Query",
    "Role",
    "Share",
    "ShareRole",
    "StoreSettings",
    "TagCount",
    "User",
    "Visibility",
    "errors",
    "hookimpl",
    "open",
]
