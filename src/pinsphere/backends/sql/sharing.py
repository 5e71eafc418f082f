"""Shares, public links and the audit trail in SQL (tables made by migration m0003).

Shares are split by target: ``pin_shares`` keyed ``(pin_id, user_id)`` over the integer pin
key, and ``board_shares`` keyed ``(board_id, user_id)``, so that the access rule's "shared
with me" check is a primary-key probe in either case (see :func:`shared_condition`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pinsphere.backends.base import keyset_stream
from pinsphere.backends.sql.engine import Database
from pinsphere.backends.sql.rows import pin_key, to_utc
from pinsphere.backends.sql.tables import (
    BIGINT_KEY,
    KEY_TEXT,
    board_pins,
    boards,
    metadata_schema,
    pins,
)
from pinsphere.errors import NotFound
from pinsphere.ids import decode_id, encode_id
from pinsphere.models import AuditEvent, Link, Share, ShareRole, TargetKind

__all__ = [
    "SharingTables",
    "audit_events",
    "board_shares",
    "link_condition",
    "links",
    "pin_shares",
    "probe",
    "shared_condition",
]


def _share_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("user_id", KEY_TEXT, primary_key=True),
        sa.Column("username", sa.Text, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    ]


pin_shares = sa.Table(
    "pin_shares",
    metadata_schema,
    sa.Column("pin_id", BIGINT_KEY, primary_key=True, autoincrement=False),
    *_share_columns(),
)

board_shares = sa.Table(
    "board_shares",
    metadata_schema,
    sa.Column("board_id", KEY_TEXT, primary_key=True),
    *_share_columns(),
)

links = sa.Table(
    "links",
    metadata_schema,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("target_kind", sa.String(8), nullable=False),
    sa.Column("target_id", sa.Text, nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True)),
    sa.Column("max_uses", sa.Integer),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("password_hash", sa.Text),
    sa.Column("allow_download", sa.Boolean, nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

audit_events = sa.Table(
    "audit_events",
    metadata_schema,
    sa.Column("id", BIGINT_KEY, primary_key=True, autoincrement=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor_id", sa.Text),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("target_kind", sa.Text, nullable=False),
    sa.Column("target_id", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),
)

_ROLE_ORDER = {"viewer": 1, "editor": 2}


def shared_condition(
    user_id: sa.BindParameter[Any],
    pin_id: sa.ColumnElement[Any],
    owner_id: sa.ColumnElement[Any],
) -> sa.ColumnElement[bool]:
    """ "The pin is shared with the user": directly, or through a share of a board that its
    owner put it on (never through someone else's board, which would leak the pin).

    Each per-row probe is guarded by "the user has any such share at all", a subquery that
    does not depend on the row, so the database answers it once per statement: most users
    have no shares, and for them a search then costs no probes for the pins it skips.
    """
    direct = probe(
        sa.select(ONE).where(pin_shares.c.user_id == user_id, pin_shares.c.pin_id == pin_id)
    )
    via_board = probe(
        sa.select(ONE)
        .select_from(
            board_pins.join(board_shares, board_shares.c.board_id == board_pins.c.board_id).join(
                boards, boards.c.id == board_pins.c.board_id
            )
        )
        .where(
            board_pins.c.pin_id == pin_id,
            board_shares.c.user_id == user_id,
            boards.c.owner_id == owner_id,
        )
    )
    return sa.or_(
        sa.and_(_has_any(pin_shares, user_id), direct),
        sa.and_(_has_any(board_shares, user_id), via_board),
    )


def _has_any(table: sa.Table, user_id: sa.BindParameter[Any]) -> sa.ColumnElement[bool]:
    """ "The user holds a share in this table": uncorrelated, so evaluated once per statement
    (an index seek on the ``user_id``-first index of m0004)."""
    return probe(sa.select(ONE).where(table.c.user_id == user_id))


ONE: sa.ColumnClause[Any] = sa.literal_column("1")
"""The constant a probe selects."""


def probe(select: sa.Select[Any]) -> sa.ColumnElement[bool]:
    """A per-row probe: "does this correlated select find a row".

    Written as ``(SELECT 1 … LIMIT 1) IS NOT NULL`` rather than ``EXISTS``: PostgreSQL drops
    the LIMIT of an EXISTS and may then hash the whole share table of every user on every
    search; a scalar subquery stays a primary-key probe of the rows the search reaches.
    """
    return select.limit(1).scalar_subquery().is_not(None)


def board_shared_condition(
    user_id: sa.BindParameter[Any], board_id: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """ "The board is shared with the user"."""
    return probe(
        sa.select(ONE).where(board_shares.c.user_id == user_id, board_shares.c.board_id == board_id)
    )


def link_condition(
    kind: TargetKind,
    target: sa.BindParameter[Any],
    pin_id: sa.ColumnElement[Any],
    owner_id: sa.ColumnElement[Any],
) -> sa.ColumnElement[bool]:
    """ "The pin is what the link shows": the link's pin (``target`` is its integer key), or
    a pin on the link's board (``target`` is the board id) put there by the board's owner."""
    if kind == "pin":
        return pin_id == target
    return probe(
        sa.select(ONE)
        .select_from(board_pins.join(boards, boards.c.id == board_pins.c.board_id))
        .where(
            board_pins.c.board_id == target,
            board_pins.c.pin_id == pin_id,
            boards.c.owner_id == owner_id,
        )
    )


def _share(row: sa.RowMapping, kind: TargetKind, target_id: str) -> Share:
    return Share(
        id=row["id"],
        target_kind=kind,
        target_id=target_id,
        user_id=row["user_id"],
        username=row["username"],
        role=row["role"],
        created_by=row["created_by"],
        created_at=to_utc(row["created_at"]),
    )


def _link(row: sa.RowMapping) -> Link:
    return Link(
        id=row["id"],
        target_kind=row["target_kind"],
        target_id=row["target_id"],
        created_by=row["created_by"],
        created_at=to_utc(row["created_at"]),
        expires_at=None if row["expires_at"] is None else to_utc(row["expires_at"]),
        max_uses=row["max_uses"],
        uses=row["uses"],
        has_password=row["password_hash"] is not None,
        allow_download=bool(row["allow_download"]),
        revoked_at=None if row["revoked_at"] is None else to_utc(row["revoked_at"]),
    )


class SharingTables:
    """The share, link and audit operations of the SQL metadata backend.

    Args:
        database: The metadata backend's database.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    # -- shares -----------------------------------------------------------------------------

    def _target(self, kind: TargetKind, target_id: str) -> tuple[sa.Table, sa.Column[Any], Any]:
        if kind == "pin":
            key = pin_key(target_id)
            return pin_shares, pin_shares.c.pin_id, key
        return board_shares, board_shares.c.board_id, target_id

    def _require(self, conn: sa.Connection, kind: TargetKind, target_id: str) -> None:
        if kind == "pin":
            key = pin_key(target_id)
            found = (
                key is not None
                and conn.execute(sa.select(pins.c.id).where(pins.c.id == key)).first()
            )
        else:
            found = conn.execute(sa.select(boards.c.id).where(boards.c.id == target_id)).first()
        if not found:
            raise NotFound(f"no such {kind}")

    def put_share(self, share: Share) -> Share:
        """Insert a share or change the role of the existing one."""
        table, column, key = self._target(share.target_kind, share.target_id)
        with self._db.write() as conn:
            self._require(conn, share.target_kind, share.target_id)
            where = (column == key, table.c.user_id == share.user_id)
            existing = conn.execute(sa.select(table).where(*where)).mappings().first()
            if existing is None:
                values = share.model_dump(exclude={"target_kind", "target_id"})
                values["created_at"] = to_utc(share.created_at)
                conn.execute(table.insert().values({column.name: key, **values}))
                return share
            conn.execute(
                table.update().where(*where).values(role=share.role, username=share.username)
            )
        return _share(existing, share.target_kind, share.target_id).model_copy(
            update={"role": share.role, "username": share.username}
        )

    def delete_share(self, kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Remove a share; whether there was one."""
        table, column, key = self._target(kind, target_id)
        if key is None:
            return False
        with self._db.write() as conn:
            done = conn.execute(table.delete().where(column == key, table.c.user_id == user_id))
        return done.rowcount > 0

    def list_shares(self, kind: TargetKind, target_id: str) -> list[Share]:
        """Shares of one target, by case-folded username."""
        table, column, key = self._target(kind, target_id)
        if key is None:
            return []
        with self._db.read() as conn:
            rows = conn.execute(sa.select(table).where(column == key)).mappings().all()
        shares = [_share(row, kind, target_id) for row in rows]
        return sorted(shares, key=lambda share: share.username.casefold())

    def share_role(self, kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The strongest share of a target for a user (for pins, through boards too)."""
        table, column, key = self._target(kind, target_id)
        if key is None:
            return None
        statements: list[sa.Select[Any]] = [
            sa.select(table.c.role).where(column == key, table.c.user_id == user_id)
        ]
        if kind == "pin":
            statements.append(
                sa.select(board_shares.c.role)
                .select_from(
                    board_pins.join(board_shares, board_shares.c.board_id == board_pins.c.board_id)
                    .join(boards, boards.c.id == board_pins.c.board_id)
                    .join(pins, pins.c.id == board_pins.c.pin_id)
                )
                .where(
                    board_pins.c.pin_id == key,
                    board_shares.c.user_id == user_id,
                    boards.c.owner_id == pins.c.owner_id,
                )
            )
        with self._db.read() as conn:
            roles = [role for statement in statements for role in conn.execute(statement).scalars()]
        if not roles:
            return None
        return max(roles, key=lambda role: _ROLE_ORDER[role])  # type: ignore[no-any-return]

    def forget(self, conn: sa.Connection, kind: TargetKind, target_id: str) -> None:
        """Delete a target's shares and links, in the transaction deleting the target."""
        table, column, key = self._target(kind, target_id)
        conn.execute(table.delete().where(column == key))
        conn.execute(
            links.delete().where(links.c.target_kind == kind, links.c.target_id == target_id)
        )

    # -- links ------------------------------------------------------------------------------

    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Insert a link."""
        values = link.model_dump(exclude={"has_password"})
        for name in ("created_at", "expires_at", "revoked_at"):
            if values[name] is not None:
                values[name] = to_utc(values[name])
        with self._db.write() as conn:
            self._require(conn, link.target_kind, link.target_id)
            conn.execute(
                links.insert().values(token_hash=token_hash, password_hash=password_hash, **values)
            )

    def import_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Insert an exported link with every part of its state.

        Raises:
            Conflict: A link with this id or digest exists (the table's unique keys).
            NotFound: Its target does not exist.
        """
        values = link.model_dump(exclude={"has_password"})
        for name in ("created_at", "expires_at", "revoked_at"):
            if values[name] is not None:
                values[name] = to_utc(values[name])
        with self._db.write("a link with this id or token digest exists already") as conn:
            self._require(conn, link.target_kind, link.target_id)
            conn.execute(
                links.insert().values(token_hash=token_hash, password_hash=password_hash, **values)
            )

    def export_links(self, page_size: int) -> Iterator[tuple[Link, str, str | None]]:
        """Every link with its digest and password hash, in keyset pages by id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return keyset_stream(self._link_page, lambda record: record[0].id, page_size)

    def _link_page(self, after: str | None, limit: int) -> list[tuple[Link, str, str | None]]:
        statement = sa.select(links).order_by(links.c.id).limit(limit)
        if after is not None:
            statement = statement.where(links.c.id > after)
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        return [(_link(row), row["token_hash"], row["password_hash"]) for row in rows]

    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """A link and its password hash, by token digest."""
        with self._db.read() as conn:
            row = (
                conn.execute(sa.select(links).where(links.c.token_hash == token_hash))
                .mappings()
                .first()
            )
        return None if row is None else (_link(row), row["password_hash"])

    def get_link(self, link_id: str) -> Link | None:
        """A link by id."""
        with self._db.read() as conn:
            row = conn.execute(sa.select(links).where(links.c.id == link_id)).mappings().first()
        return None if row is None else _link(row)

    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one use, in one conditional update, if the link is still usable."""
        now = to_utc(when)
        statement = (
            links.update()
            .where(
                links.c.id == link_id,
                links.c.revoked_at.is_(None),
                sa.or_(links.c.expires_at.is_(None), links.c.expires_at > now),
                sa.or_(links.c.max_uses.is_(None), links.c.uses < links.c.max_uses),
            )
            .values(uses=links.c.uses + 1)
        )
        with self._db.write() as conn:
            return conn.execute(statement).rowcount == 1

    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link once."""
        statement = (
            links.update()
            .where(links.c.id == link_id, links.c.revoked_at.is_(None))
            .values(revoked_at=to_utc(when))
        )
        with self._db.write() as conn:
            return conn.execute(statement).rowcount == 1

    def list_links(
        self, created_by: str | None, target: tuple[TargetKind, str] | None
    ) -> list[Link]:
        """Links by creator and/or target, newest first."""
        statement = sa.select(links)
        if created_by is not None:
            statement = statement.where(links.c.created_by == created_by)
        if target is not None:
            statement = statement.where(
                links.c.target_kind == target[0], links.c.target_id == target[1]
            )
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        found = [_link(row) for row in rows]
        return sorted(found, key=lambda link: decode_id(link.id) or 0, reverse=True)

    # -- audit ------------------------------------------------------------------------------

    def add_audit_event(self, event: AuditEvent) -> None:
        """Insert an event."""
        key = decode_id(event.id)
        if key is None:
            raise NotFound("an audit event needs a well-formed id")
        values = event.model_dump(exclude={"id", "details"})
        values["at"] = to_utc(event.at)
        with self._db.write() as conn:
            conn.execute(
                audit_events.insert().values(
                    id=key, details=json.dumps(event.details, sort_keys=True), **values
                )
            )

    def list_audit_events(self, limit: int, before: str | None) -> list[AuditEvent]:
        """Events newest first, older than the event id ``before``."""
        statement = sa.select(audit_events).order_by(audit_events.c.id.desc()).limit(max(limit, 0))
        if before is not None:
            bound = decode_id(before)
            if bound is None:
                return []
            statement = statement.where(audit_events.c.id < bound)
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        return [
            AuditEvent(
                id=encode_id(row["id"]),
                at=to_utc(row["at"]),
                actor_id=row["actor_id"],
                action=row["action"],
                target_kind=row["target_kind"],
                target_id=row["target_id"],
                details=json.loads(row["details"]),
            )
            for row in rows
        ]
