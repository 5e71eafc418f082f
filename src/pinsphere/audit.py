"""The audit trail of permission changes: who shared, linked, revoked or re-roled what."""

from __future__ import annotations

from pinsphere.backends.base import MetadataBackend
from pinsphere.ids import encode_id, id_time, new_id
from pinsphere.models import AuditEvent

__all__ = ["AuditLog"]


class AuditLog:
    """Records :class:`~pinsphere.models.AuditEvent` s in the metadata backend.

    Args:
        backend: Where events are kept.
    """

    def __init__(self, backend: MetadataBackend) -> None:
        self._backend = backend

    def record(
        self,
        actor_id: str | None,
        action: str,
        target_kind: str,
        target_id: str,
        **details: str,
    ) -> AuditEvent:
        """Record one event now.

        Args:
            actor_id: Who did it (``None``: the embedding application itself).
            action: What was done (``share``, ``link.revoke``, ``role.change``...).
            target_kind: What it was done to (``pin``, ``board``, ``user``...).
            target_id: The object's id.
            **details: Small facts worth keeping (``user="bob", role="editor"``).
        """
        event_id = new_id()
        event = AuditEvent(
            id=encode_id(event_id),
            at=id_time(event_id),
            actor_id=actor_id,
            action=action,
            target_kind=target_kind,
            target_id=target_id,
            details=details,
        )
        self._backend.add_audit_event(event)
        return event

    def events(self, *, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """Events newest first, older than the event id ``before``."""
        return self._backend.list_audit_events(limit=limit, before=before)
