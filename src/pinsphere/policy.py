"""The one place that decides who may see and do what.

Visibility is expressed as an :class:`AccessRule`, a small value every backend compiles into
its own query (a SQL ``WHERE`` clause, a Mongo filter, a Python predicate for ``memory://``),
so that get, list, search, count, tags and blob access all apply the same rule and pagination
never filters after the fact.

Actions on an object the caller can already see are decided by the ``can_*`` functions
below; the facade turns a ``False`` into :class:`~pinsphere.errors.PermissionDenied`, and an
invisible object into :class:`~pinsphere.errors.NotFound`.

The rules:

========================  =========  ==========  ==========  ===========
who                       private    internal    public      actions
========================  =========  ==========  ==========  ===========
anonymous                 no         no          yes         none
viewer                    own        yes         yes         none
member                    own        yes         yes         own objects
admin                     yes        yes         yes         everything
========================  =========  ==========  ==========  ===========
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pinsphere.models import Board, Pin, Role, User, Visibility

__all__ = [
    "ROLE_PERMISSIONS",
    "AccessRule",
    "Action",
    "Principal",
    "access_rule",
    "can",
    "explain",
]

Action = Literal["upload", "edit", "delete", "manage_users"]

ROLE_PERMISSIONS: dict[Role, frozenset[Action]] = {
    "admin": frozenset({"upload", "edit", "delete", "manage_users"}),
    "member": frozenset({"upload", "edit", "delete"}),
    "viewer": frozenset(),
}
"""What each role may do at all; ``edit`` and ``delete`` further need ownership unless admin."""


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: a user, or nobody (anonymous)."""

    user: User | None = None

    @property
    def user_id(self) -> str | None:
        """The user's id, or ``None`` when anonymous."""
        return self.user.id if self.user else None

    @property
    def is_admin(self) -> bool:
        """Whether the caller is an enabled admin."""
        return self.user is not None and self.user.role == "admin" and not self.user.disabled


class AccessRule(BaseModel):
    """What a caller may see, in a form each backend compiles into its query.

    An object is visible when ``everything`` is set, or the caller owns it (``owner_id``), or
    its visibility is one of ``visibilities``.

    Attributes:
        everything: The caller sees every object (admins).
        owner_id: The caller's user id; ``None`` when anonymous.
        visibilities: Visibilities that anyone in the caller's position sees.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    everything: bool = False
    owner_id: str | None = None
    visibilities: frozenset[Visibility] = frozenset({"public"})

    def allows(self, owner_id: str, visibility: Visibility) -> bool:
        """Check one object in Python (the memory backend and the oracle in tests use it)."""
        return (
            self.everything
            or (self.owner_id is not None and owner_id == self.owner_id)
            or visibility in self.visibilities
        )


def access_rule(principal: Principal) -> AccessRule:
    """The visibility rule for a caller."""
    user = principal.user
    if user is None or user.disabled:
        return AccessRule()
    if principal.is_admin:
        return AccessRule(everything=True, owner_id=user.id, visibilities=frozenset())
    return AccessRule(owner_id=user.id, visibilities=frozenset({"public", "internal"}))


def can(principal: Principal, action: Action, target: Pin | Board | None = None) -> bool:
    """Whether the caller may perform ``action`` (on ``target``, which it can already see)."""
    user = principal.user
    if user is None or user.disabled:
        return False
    if action not in ROLE_PERMISSIONS[user.role]:
        return False
    if target is None or user.role == "admin":
        return True
    return target.owner_id == user.id


def explain(principal: Principal, target: Pin | Board) -> str:
    """Say in words why the caller can or cannot see ``target`` (for audits and debugging)."""
    rule = access_rule(principal)
    who = principal.user.username if principal.user else "anonymous"
    if rule.everything:
        return f"{who} is an admin and sees everything"
    if rule.owner_id is not None and target.owner_id == rule.owner_id:
        return f"{who} owns it"
    if target.visibility in rule.visibilities:
        if target.visibility == "public":
            return "it is public"
        return f"it is {target.visibility} and {who} is signed in"
    return f"{who} may not see it: it is {target.visibility} and owned by {target.owner}"
