"""The one place that decides who may see and do what.

Visibility is expressed as an :class:`AccessRule`, a small value every backend compiles into
its own query (a SQL ``WHERE`` clause, a Mongo filter, a Python predicate for ``memory://``),
so that get, list, search, count, tags and blob access all apply the same rule and pagination
never filters after the fact.

Actions on an object the caller can already see are decided by the ``can_*`` functions
below; the facade turns a ``False`` into :class:`~pinsphere.errors.PermissionDenied`, and an
invisible object into :class:`~pinsphere.errors.NotFound`.

The rules:

========================  =========  ==========  ==========  ==============================
who                       private    internal    public      actions
========================  =========  ==========  ==========  ==============================
anonymous                 no         no          yes         none
viewer                    own,       yes         yes         none
                          shared
member                    own,       yes         yes         own objects; edit pins shared
                          shared                             with them as ``editor``
admin                     yes        yes         yes         everything
someone holding a link    the link's pin, or the board      none (reading the original
                          owner's pins on the link's board  only if the link allows it)
========================  =========  ==========  ==========  ==============================

A share of a board covers the pins *its owner* put on it, not pins of other users that the
owner saved there: sharing a board never reveals someone else's private pin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict

from pinsphere.models import Board, Pin, Role, ShareRole, TargetKind, User, Visibility

__all__ = [
    "ROLE_PERMISSIONS",
    "SHARE_PERMISSIONS",
    "AccessRule",
    "Action",
    "Principal",
    "access_rule",
    "can",
    "explain",
    "link_rule",
]

Action = Literal["upload", "edit", "delete", "share", "manage_users"]

ROLE_PERMISSIONS: dict[Role, frozenset[Action]] = {
    "admin": frozenset({"upload", "edit", "delete", "share", "manage_users"}),
    "member": frozenset({"upload", "edit", "delete", "share"}),
    "viewer": frozenset(),
}
"""What each role may do at all. On a given object, members further need to own it — or,
for ``edit`` only, to hold an ``editor`` share of it; admins may act on anything."""

SHARE_PERMISSIONS: dict[ShareRole, frozenset[Action]] = {
    "viewer": frozenset(),
    "editor": frozenset({"edit"}),
}
"""What a share adds on an object someone else owns (never delete, never re-share)."""


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

    An object is visible when any of these holds:

    * ``everything`` is set;
    * the caller owns it (``owner_id``);
    * its visibility is one of ``visibilities``;
    * ``shares`` is set and it is shared with ``owner_id`` — a pin directly, or through a
      share of a board it is on that is owned by the pin's owner; a board directly;
    * ``link_kind``/``link_id`` name it: the link's pin, or the link's board and the pins its
      owner put on it. A link rule sees nothing else.

    Attributes:
        everything: The caller sees every object (admins).
        owner_id: The caller's user id; ``None`` when anonymous.
        visibilities: Visibilities that anyone in the caller's position sees.
        shares: Objects shared with ``owner_id`` are visible.
        link_kind: With ``link_id``: the target of the public link being followed.
        link_id: The link target's id.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    everything: bool = False
    owner_id: str | None = None
    visibilities: frozenset[Visibility] = frozenset({"public"})
    shares: bool = False
    link_kind: TargetKind | None = None
    link_id: str | None = None

    def allows(self, owner_id: str, visibility: Visibility) -> bool:
        """The owner-and-visibility part of the rule for one object, in Python.

        Shares and links depend on stored relations, which each backend checks itself.
        """
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
    return AccessRule(owner_id=user.id, visibilities=frozenset({"public", "internal"}), shares=True)


def link_rule(kind: TargetKind, target_id: str) -> AccessRule:
    """The visibility rule of someone following a public link to ``target_id``."""
    return AccessRule(visibilities=frozenset(), link_kind=kind, link_id=target_id)


def can(
    principal: Principal,
    action: Action,
    target: Pin | Board | None = None,
    *,
    share_role: ShareRole | None = None,
) -> bool:
    """Whether the caller may perform ``action``.

    Args:
        principal: The caller.
        action: What they want to do.
        target: The object, which the caller can already see (``None`` for actions on no
            object, such as ``upload``).
        share_role: The caller's share of ``target``, if any.
    """
    user = principal.user
    if user is None or user.disabled:
        return False
    if action not in ROLE_PERMISSIONS[user.role]:
        return False
    if target is None or user.role == "admin" or target.owner_id == user.id:
        return True
    return share_role is not None and action in SHARE_PERMISSIONS[share_role]


def explain(
    principal: Principal, target: Pin | Board, *, share_role: ShareRole | None = None
) -> str:
    """Say in words why the caller can or cannot see ``target`` (for audits and debugging).

    Args:
        principal: The caller.
        target: The pin or board.
        share_role: The caller's share of ``target`` (direct or through a board), if any.
    """
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
    if rule.shares and share_role is not None:
        return f"it is shared with {who} as {share_role}"
    return f"{who} may not see it: it is {target.visibility} and owned by {target.owner}"
