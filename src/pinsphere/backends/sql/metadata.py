"""Pins, tags and boards in SQLite or PostgreSQL.

The physical design is described in :mod:`pinsphere.backends.sql.tables` and the search
plans in :mod:`pinsphere.backends.sql.compiler`. A page of results costs one query, whatever
the page size: tags travel in the pin row and the names of its visible boards come from a
subquery evaluated for the returned rows only (plus one primary-key lookup of tag sizes
when several tags compete to drive the search).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from pinsphere.backends.base import (
    BoardChanges,
    MetadataBackend,
    MetadataCapabilities,
    PinChanges,
    page_position,
)
from pinsphere.backends.sql import compiler
from pinsphere.backends.sql.connected import SQLConnected
from pinsphere.backends.sql.drivers import choose_driver, stable_plan
from pinsphere.backends.sql.engine import Database
from pinsphere.backends.sql.pin_cache import PinCache
from pinsphere.backends.sql.plans import Plans
from pinsphere.backends.sql.rows import (
    BOARD_COLUMNS,
    PIN_COLUMNS,
    board_from_row,
    join_tags,
    new_revision,
    pin_from_record,
    pin_from_row,
    pin_key,
    pin_values,
    pin_with_boards,
    record_boards,
    split_tags,
    sqlite_pin_record,
    to_utc,
)
from pinsphere.backends.sql.sharing import SharingTables
from pinsphere.backends.sql.sizes import change_sizes
from pinsphere.backends.sql.tables import board_pins, boards, pin_tags, pins
from pinsphere.backends.sql.terms import Dialect, board_name_key
from pinsphere.backends.sql.words import WordPlans
from pinsphere.backends.sql.writes import (
    TagRow,
    bulk_allocation,
    expand_tags,
    insert_rows,
    insert_sqlite_rows,
    tag_row_dicts,
    tag_rows,
)
from pinsphere.errors import InvalidInput, NotFound
from pinsphere.ids import encode_id
from pinsphere.models import (
    AuditEvent,
    Board,
    Link,
    Pin,
    ProcessingState,
    Share,
    ShareRole,
    TagCount,
    TargetKind,
)
from pinsphere.policy import AccessRule
from pinsphere.query import Query
from pinsphere.text import search_words

__all__ = ["SQLMetadataBackend"]

_EVERYTHING = AccessRule(everything=True, visibilities=frozenset())
# Greater than any character a tag may hold, so "prefix" <= tag < prefix + this.
_AFTER_EVERY_CHAR = "\U0010ffff"
# Positions in a search row: PIN_COLUMNS (the revision last), then the board names.
_REVISION_AT = len(PIN_COLUMNS) - 1
_BOARD_NAMES_AT = len(PIN_COLUMNS)
_BOARD_TAKEN = "the owner already has a board with that name"


class SQLMetadataBackend(SQLConnected, MetadataBackend):
    """Pins, tags and boards in a SQL database (``sqlite:///…``, ``postgresql+psycopg://…``)."""

    capabilities: ClassVar[MetadataCapabilities] = MetadataCapabilities(
        transactions=True, full_text_index=True, shared_between_processes=True
    )

    schema_branch = "metadata"

    def __init__(self, database: Database) -> None:
        """Use an opened database whose schema is current; see :meth:`from_url`."""
        super().__init__(database)
        self._dialect: Dialect = "sqlite" if database.is_sqlite else "postgresql"
        self._plans = Plans(database.engine.dialect)
        self._sharing = SharingTables(database)
        # One-word searches on PostgreSQL: the way chosen from ANALYZE's word frequencies.
        self._words = None if database.is_sqlite else WordPlans(database)
        self._pin_cache = PinCache(database.pin_cache_size)

    # -- pins -------------------------------------------------------------------------------

    def insert_pins(self, pins_and_boards: Iterable[tuple[Pin, Sequence[str]]]) -> int:
        """Insert new pins with the ids of the boards each is on, in one transaction.

        Raises:
            Conflict: A pin id exists already (or appears twice).
            NotFound: A board id does not exist.
            InvalidInput: A pin id is not well-formed.
        """
        with bulk_allocation():
            return self._insert_batch(pins_and_boards)

    def _insert_batch(self, pins_and_boards: Iterable[tuple[Pin, Sequence[str]]]) -> int:
        sqlite = self._dialect == "sqlite"
        pin_rows: list[Any] = []
        index_rows: list[TagRow] = []
        board_rows: list[dict[str, Any]] = []
        board_ids: set[str] = set()
        for pin, on_boards in pins_and_boards:
            key = pin_key(pin.id)
            if key is None:
                raise InvalidInput(f"not a pin id: {pin.id!r}")
            pin_rows.append(sqlite_pin_record(pin, key) if sqlite else pin_values(pin, key))
            index_rows.extend(tag_rows(key, pin.tags, pin.owner_id, pin.visibility))
            for board_id in dict.fromkeys(on_boards):
                board_rows.append({"board_id": board_id, "pin_id": key})
                board_ids.add(board_id)
        if not pin_rows:
            return 0
        conflict = "a pin with that id exists already"
        if sqlite:
            # An upload's own write: on the driver, where SQLAlchemy's transaction handling
            # cost as much as the inserts (see Database.sqlite_write).
            with self._db.sqlite_write(conflict) as connection:
                found = _existing_boards(connection, board_ids)
                _check_boards(board_ids, found)
                insert_sqlite_rows(connection, pin_rows, index_rows, board_rows)
            return len(pin_rows)
        with self._db.write(conflict) as conn:
            if board_ids:
                _check_boards(
                    board_ids,
                    conn.execute(sa.select(boards.c.id).where(boards.c.id.in_(board_ids)))
                    .scalars()
                    .all(),
                )
            insert_rows(conn, pin_rows, index_rows, board_rows)
        return len(pin_rows)

    def get_pin(self, pin_id: str, access: AccessRule) -> Pin | None:
        """The pin, or ``None`` when it does not exist or ``access`` does not allow it."""
        key = pin_key(pin_id)
        if key is None:
            return None
        # The hottest read of a service (every pin page and media request): one statement,
        # compiled once per access shape, on the driver, outside a transaction.
        with self._db.reader(stable_plan=True) as reader:
            sql, parameters = self._plans.pin(access, key)
            rows = reader.rows(sql, parameters)
        return pin_from_record(rows[0], sqlite=self._dialect == "sqlite") if rows else None

    def update_pin(self, pin_id: str, changes: PinChanges) -> Pin | None:
        """Apply ``changes`` atomically; ``None`` when the pin does not exist.

        The row is locked while tag deltas are applied, so concurrent tag changes all land.
        """
        key = pin_key(pin_id)
        if key is None:
            return None
        with self._db.write() as conn:
            row = _locked_row(conn, key)
            if row is None:
                return None
            old_tags = split_tags(row["tags"])
            tags = old_tags
            if changes.add_tags or changes.remove_tags:
                tags = tuple(
                    sorted((set(old_tags) | set(changes.add_tags)) - set(changes.remove_tags))
                )
            values: dict[str, Any] = {"updated_at": to_utc(changes.updated_at)}
            for name in ("title", "description", "visibility", "processing"):
                value = getattr(changes, name)
                if value is not None:
                    values[name] = value
            values.update(changes.media_updates())
            if changes.thumbnails is not None:
                values["thumbnails"] = ",".join(str(width) for width in changes.thumbnails)
            if tags != old_tags:
                values["tags"] = join_tags(tags)
            if {"title", "description", "tags"} & values.keys():
                values["search_doc"] = search_words(
                    values.get("title", row["title"]),
                    values.get("description", row["description"]),
                    tags,
                )
            values["revision"] = new_revision()
            conn.execute(pins.update().where(pins.c.id == key).values(values))
            visibility = values.get("visibility", row["visibility"])
            if tags != old_tags or visibility != row["visibility"]:
                _replace_tag_rows(conn, key, old_tags, tags, row["owner_id"], visibility)
            fresh = conn.execute(sa.select(*PIN_COLUMNS).where(pins.c.id == key)).mappings().one()
            names = _board_names(conn, [key], _EVERYTHING)
        self._pin_cache.forget(key)
        return pin_from_row(fresh, names.get(key, ()))

    def delete_pin(self, pin_id: str) -> Pin | None:
        """Delete the pin with its tags, board entries, shares and links; return it, or
        ``None`` if absent."""
        key = pin_key(pin_id)
        if key is None:
            return None
        with self._db.write() as conn:
            row = _locked_row(conn, key)
            if row is None:
                return None
            names = _board_names(conn, [key], _EVERYTHING)
            tags = expand_tags(split_tags(row["tags"]))
            if tags:
                conn.execute(
                    pin_tags.delete().where(
                        pin_tags.c.tag.in_(sorted(tags)), pin_tags.c.pin_id == key
                    )
                )
                change_sizes(conn, dict.fromkeys(tags, -1))
            # board_pins rows go with the pin (ON DELETE CASCADE); the FTS row by trigger.
            conn.execute(pins.delete().where(pins.c.id == key))
            self._sharing.forget(conn, "pin", pin_id)
        self._pin_cache.forget(key)
        return pin_from_row(row, names.get(key, ()))

    def search_pins(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> list[Pin]:
        """Up to ``limit`` visible pins matching ``query``, in ``query.order``.

        Raises:
            InvalidInput: ``limit`` is below 1.
            InvalidQuery: ``after`` is not a pin id.
        """
        rows = self.search_rows(query, access, limit=limit, after=after)
        sqlite = self._dialect == "sqlite"
        return [pin_from_record(row, sqlite=sqlite) for row in rows]

    def search_page(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> tuple[list[Pin], bool]:
        """Up to ``limit`` pins and whether more follow: one more row is read, not built.

        Pins built before from the same revision of their rows are used again (see
        :mod:`.pin_cache`); when most are expected to be, only the page's ids and revisions
        are read first.
        """
        if self._pin_cache.worth_probing:
            probed = self._probed_page(query, access, limit=limit, after=after)
            if probed is not None:
                return probed
        rows = self.search_rows(query, access, limit=limit + 1, after=after)
        return self._pins_of_records(rows[:limit]), len(rows) > limit

    def clear_pin_cache(self) -> None:
        """Drop the pins kept from earlier searches (they are never stale, so this only
        frees memory, or measures a search that finds none)."""
        self._pin_cache.clear()

    def _pins_of_records(self, rows: Sequence[Sequence[Any]]) -> list[Pin]:
        """Pins from whole search rows, using those kept from the same revisions."""
        cache = self._pin_cache
        sqlite = self._dialect == "sqlite"
        if not cache.enabled:
            return [pin_from_record(row, sqlite=sqlite) for row in rows]
        made = []
        built = []
        for row in rows:
            key, revision = row[0], row[_REVISION_AT]
            pin = self._kept(key, revision, row[_BOARD_NAMES_AT])
            if pin is None:
                pin = pin_from_record(row, sqlite=sqlite)
                built.append((key, revision, pin))
            made.append(pin)
        if built:
            cache.put_many(built)
        cache.count_found(len(rows) - len(built), len(rows))
        return made

    def _probed_page(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None
    ) -> tuple[list[Pin], bool] | None:
        """A page read as ids and revisions, then the rows of the pins not kept; ``None``
        when a row changed between the two statements (the caller then reads whole rows)."""
        probed = self._search_rows(query, access, limit=limit + 1, after=after, probe=True)
        page = probed[:limit]
        made = [self._kept(key, revision, names) for key, revision, names in page]
        missing = [key for (key, _, _), pin in zip(page, made, strict=True) if pin is None]
        if missing:
            with self._db.reader(stable_plan=True) as reader:
                fetched = {row[0]: row for row in reader.rows(*self._plans.pins_by_key(missing))}
            sqlite = self._dialect == "sqlite"
            built = []
            for at, (key, revision, stored_names) in enumerate(page):
                if made[at] is not None:
                    continue
                row = fetched.get(key)
                if row is None or row[_REVISION_AT] != revision:
                    return None  # changed or deleted since the probe: read it all again
                pin = pin_from_record((*row, stored_names), sqlite=sqlite)
                built.append((key, revision, pin))
                made[at] = pin
            self._pin_cache.put_many(built)
        self._pin_cache.count_found(len(page) - len(missing), len(page))
        return [pin for pin in made if pin is not None], len(probed) > limit

    def _kept(self, key: int, revision: int, stored_names: Any) -> Pin | None:
        """The pin kept from this revision of its row, showing the boards of a search row's
        last column (they depend on the caller); ``None`` when none is kept."""
        pin = self._pin_cache.get(key, revision)
        if pin is None:
            return None
        names = record_boards(stored_names)
        return pin if names == pin.boards else pin_with_boards(pin, names)

    def search_rows(
        self, query: Query, access: AccessRule, *, limit: int, after: str | None = None
    ) -> list[tuple[Any, ...]]:
        """The driver's rows of a search, before any pin is built from them.

        One statement returns the pins with the names of their visible boards; it runs on
        the driver level from SQL compiled once per query shape (:mod:`.plans`). Public for
        diagnostics: the benchmarks time it to tell the database's share of a search from
        the cost of building its results.
        """
        return self._search_rows(query, access, limit=limit, after=after)

    def _search_rows(
        self,
        query: Query,
        access: AccessRule,
        *,
        limit: int,
        after: str | None,
        probe: bool = False,
    ) -> list[tuple[Any, ...]]:
        """:meth:`search_rows`; with ``probe``, the ids, revisions and board names only."""
        after_key = page_position(limit, after)
        way = None if self._words is None else self._words.choose(query, limit)
        with self._db.reader(stable_plan=way is not None or stable_plan(query)) as reader:
            driver = choose_driver(reader, query, self._dialect) if way is None else way.driver
            sql, parameters = self._plans.search(
                query, access, driver, limit=limit, after=after_key, probe=probe
            )
            return reader.rows(sql, parameters)

    def count_pins(self, query: Query, access: AccessRule) -> int:
        """How many visible pins match ``query``."""
        with self._db.reader() as reader:
            driver = choose_driver(reader, query, self._dialect)
            sql, parameters = self._plans.count(query, access, driver)
            return int(reader.rows(sql, parameters)[0][0])

    def tag_counts(
        self, access: AccessRule, *, prefix: str | None = None, limit: int = 1000
    ) -> list[TagCount]:
        """Direct tags of visible pins with how many visible pins carry each.

        Sorted by count descending, then tag.
        """
        count = sa.func.count().label("count")
        statement = (
            sa.select(pin_tags.c.tag, count)
            .where(
                pin_tags.c.direct == sa.true(),
                compiler.visible(
                    access, pin_tags.c.owner_id, pin_tags.c.visibility, key=pin_tags.c.pin_id
                ),
            )
            .group_by(pin_tags.c.tag)
            .order_by(count.desc(), pin_tags.c.tag)
            .limit(max(limit, 0))
        )
        if prefix:
            statement = statement.where(
                pin_tags.c.tag >= prefix, pin_tags.c.tag < prefix + _AFTER_EVERY_CHAR
            )
        with self._db.read() as conn:
            rows = conn.execute(statement).all()
        return [TagCount.model_construct(tag=tag, count=int(n)) for tag, n in rows]

    def count_blob_references(self, sha256: str) -> int:
        """How many pins (of any owner) have an original with this digest."""
        statement = sa.select(sa.func.count()).where(pins.c.sha256 == sha256)
        with self._db.read() as conn:
            return int(conn.execute(statement).scalar_one())

    def owner_pin_ids(self, owner_id: str) -> list[str]:
        """Ids of every pin the user owns, oldest first."""
        statement = sa.select(pins.c.id).where(pins.c.owner_id == owner_id).order_by(pins.c.id)
        with self._db.read() as conn:
            keys = conn.execute(statement).scalars().all()
        return [encode_id(key) for key in keys]

    def pins_in_state(self, state: ProcessingState, *, limit: int) -> list[Pin]:
        """Up to ``limit`` pins whose ``processing`` is ``state``, oldest first (through the
        partial index of m0005, which holds only the pins not ``ready``).

        Raises:
            InvalidInput: ``limit`` is below 1.
        """
        if limit < 1:
            raise InvalidInput("limit must be at least 1")
        conditions = [pins.c.processing == state]
        if state != "ready":
            # Repeats the partial index's condition: SQLite uses a partial index only when
            # the query's WHERE names its condition, it does not infer it from the equality.
            conditions.append(pins.c.processing != "ready")
        statement = sa.select(*PIN_COLUMNS).where(*conditions).order_by(pins.c.id).limit(limit)
        with self._db.read() as conn:
            rows = conn.execute(statement).mappings().all()
        return [pin_from_row(row) for row in rows]

    # -- boards -----------------------------------------------------------------------------

    def create_board(self, board: Board) -> Board:
        """Store a new board.

        Raises:
            Conflict: The owner has a board with that name already.
        """
        values = {
            "id": board.id,
            "owner_id": board.owner_id,
            "owner": board.owner,
            "name": board.name,
            "name_key": board_name_key(board.name),
            "description": board.description,
            "visibility": board.visibility,
            "created_at": to_utc(board.created_at),
        }
        with self._db.write(_BOARD_TAKEN) as conn:
            conn.execute(boards.insert().values(values))
        return board.model_copy(update={"pin_count": 0})

    def _boards(
        self, conn: Connection, access: AccessRule, *conditions: sa.ColumnElement[bool]
    ) -> list[Board]:
        pin_count = (
            sa.select(sa.func.count())
            .select_from(board_pins.join(pins, pins.c.id == board_pins.c.pin_id))
            .where(
                board_pins.c.board_id == boards.c.id,
                compiler.visible(access, pins.c.owner_id, pins.c.visibility, key=pins.c.id),
            )
            .scalar_subquery()
            .label("pin_count")
        )
        statement = (
            sa.select(*BOARD_COLUMNS, pin_count)
            .where(
                compiler.visible(
                    access, boards.c.owner_id, boards.c.visibility, key=boards.c.id, kind="board"
                ),
                *conditions,
            )
            .order_by(boards.c.owner, boards.c.name)
        )
        rows = conn.execute(statement).mappings().all()
        return [board_from_row(row, int(row["pin_count"])) for row in rows]

    def get_board(self, board_id: str, access: AccessRule) -> Board | None:
        """The board if it exists and ``access`` allows it; ``pin_count`` counts visible pins."""
        with self._db.read() as conn:
            found = self._boards(conn, access, boards.c.id == board_id)
        return found[0] if found else None

    def find_board(self, owner_id: str, name: str, access: AccessRule) -> Board | None:
        """The owner's board with that name (case-insensitive), if ``access`` allows it."""
        key = board_name_key(name)
        with self._db.read() as conn:
            found = self._boards(
                conn, access, boards.c.owner_id == owner_id, boards.c.name_key == key
            )
        return found[0] if found else None

    def list_boards(self, access: AccessRule, *, owner_id: str | None = None) -> list[Board]:
        """Visible boards (of one owner if given), sorted by owner then name."""
        conditions = [] if owner_id is None else [boards.c.owner_id == owner_id]
        with self._db.read() as conn:
            return self._boards(conn, access, *conditions)

    def update_board(self, board_id: str, changes: BoardChanges) -> Board | None:
        """Apply ``changes``; ``None`` when absent.

        Raises:
            Conflict: The new name is taken by another of the owner's boards.
        """
        values: dict[str, Any] = {}
        if changes.name is not None:
            values["name"] = changes.name
            values["name_key"] = board_name_key(changes.name)
        if changes.description is not None:
            values["description"] = changes.description
        if changes.visibility is not None:
            values["visibility"] = changes.visibility
        with self._db.write(_BOARD_TAKEN) as conn:
            if values:
                done = conn.execute(boards.update().where(boards.c.id == board_id).values(values))
                if done.rowcount == 0:
                    return None
            found = self._boards(conn, _EVERYTHING, boards.c.id == board_id)
        return found[0] if found else None

    def delete_board(self, board_id: str) -> bool:
        """Delete the board with its shares and links (its pins stay); ``False`` when absent."""
        with self._db.write() as conn:
            # Explicit rather than relying on ON DELETE CASCADE, which SQLite applies only
            # when the connection has foreign keys switched on.
            conn.execute(board_pins.delete().where(board_pins.c.board_id == board_id))
            done = conn.execute(boards.delete().where(boards.c.id == board_id))
            self._sharing.forget(conn, "board", board_id)
        return done.rowcount > 0

    def add_to_board(self, board_id: str, pin_id: str) -> None:
        """Put a pin on a board (no error if it is there already).

        Raises:
            NotFound: The board or the pin does not exist.
        """
        key = pin_key(pin_id)
        with self._db.write() as conn:
            board_exists = conn.execute(
                sa.select(boards.c.id).where(boards.c.id == board_id)
            ).first()
            if board_exists is None:
                raise NotFound(f"no board with id {board_id!r}")
            pin_exists = (
                None
                if key is None
                else conn.execute(sa.select(pins.c.id).where(pins.c.id == key)).first()
            )
            if pin_exists is None:
                raise NotFound(f"no pin with id {pin_id!r}")
            insert = (
                postgresql.insert(board_pins)
                if self._dialect == "postgresql"
                else sqlite.insert(board_pins)
            )
            conn.execute(insert.values(board_id=board_id, pin_id=key).on_conflict_do_nothing())

    def remove_from_board(self, board_id: str, pin_id: str) -> None:
        """Take a pin off a board (no error if it was not on it)."""
        key = pin_key(pin_id)
        if key is None:
            return
        with self._db.write() as conn:
            conn.execute(
                board_pins.delete().where(
                    board_pins.c.board_id == board_id, board_pins.c.pin_id == key
                )
            )

    # -- shares, links and audit (see :mod:`.sharing`) ------------------------------------

    def put_share(self, share: Share) -> Share:
        """Share a pin or board, replacing the role of an existing share.

        Raises:
            NotFound: The target does not exist.
        """
        return self._sharing.put_share(share)

    def delete_share(self, target_kind: TargetKind, target_id: str, user_id: str) -> bool:
        """Stop sharing; ``False`` when there was no such share."""
        return self._sharing.delete_share(target_kind, target_id, user_id)

    def list_shares(self, target_kind: TargetKind, target_id: str) -> list[Share]:
        """Who a target is shared with, by case-folded username."""
        return self._sharing.list_shares(target_kind, target_id)

    def share_role(self, target_kind: TargetKind, target_id: str, user_id: str) -> ShareRole | None:
        """The user's strongest share of a target (for pins, through boards too)."""
        return self._sharing.share_role(target_kind, target_id, user_id)

    def add_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a new public link.

        Raises:
            NotFound: The target does not exist.
        """
        self._sharing.add_link(link, token_hash, password_hash)

    def find_link(self, token_hash: str) -> tuple[Link, str | None] | None:
        """The link with this token digest and its password hash."""
        return self._sharing.find_link(token_hash)

    def get_link(self, link_id: str) -> Link | None:
        """The link with this id."""
        return self._sharing.get_link(link_id)

    def use_link(self, link_id: str, when: datetime) -> bool:
        """Count one opening if the link is still usable (one conditional update)."""
        return self._sharing.use_link(link_id, when)

    def revoke_link(self, link_id: str, when: datetime) -> bool:
        """Revoke a link."""
        return self._sharing.revoke_link(link_id, when)

    def list_links(
        self, *, created_by: str | None = None, target: tuple[TargetKind, str] | None = None
    ) -> list[Link]:
        """Links, newest first."""
        return self._sharing.list_links(created_by, target)

    def add_audit_event(self, event: AuditEvent) -> None:
        """Record a permission change."""
        self._sharing.add_audit_event(event)

    def list_audit_events(self, *, limit: int = 100, before: str | None = None) -> list[AuditEvent]:
        """Events newest first."""
        return self._sharing.list_audit_events(limit, before)

    def export_links(self, *, page_size: int = 500) -> Iterable[tuple[Link, str, str | None]]:
        """Every link with its token digest and password hash, in keyset pages by id.

        Raises:
            InvalidInput: ``page_size`` is below 1.
        """
        return self._sharing.export_links(page_size)

    def import_link(self, link: Link, token_hash: str, password_hash: str | None) -> None:
        """Store a link exactly as exported elsewhere (uses, expiry, revocation).

        Raises:
            Conflict: A link with this id or token digest exists.
            NotFound: The target does not exist.
        """
        self._sharing.import_link(link, token_hash, password_hash)


_IDS_PER_STATEMENT = 500


def _existing_boards(connection: sqlite3.Connection, board_ids: set[str]) -> list[str]:
    """Which of these board ids exist, read on a SQLite driver connection."""
    found: list[str] = []
    ordered = sorted(board_ids)
    # In slices: a bulk insert may name thousands of boards, more parameters than older
    # SQLite builds take in one statement (999).
    for start in range(0, len(ordered), _IDS_PER_STATEMENT):
        part = ordered[start : start + _IDS_PER_STATEMENT]
        marks = ", ".join("?" * len(part))
        sql = f"SELECT id FROM boards WHERE id IN ({marks})"  # noqa: S608 - only placeholders
        found.extend(row[0] for row in connection.execute(sql, part))
    return found


def _check_boards(wanted: set[str], found: Iterable[str]) -> None:
    """Raise :class:`NotFound` for the first wanted board id that was not found."""
    missing = wanted.difference(found)
    if missing:
        raise NotFound(f"no board with id {sorted(missing)[0]!r}")


def _locked_row(conn: Connection, key: int) -> RowMapping | None:
    """The pin's row, locked until the transaction ends (SQLite: the write lock is held)."""
    statement = sa.select(*PIN_COLUMNS).where(pins.c.id == key).with_for_update()
    return conn.execute(statement).mappings().first()


def _replace_tag_rows(
    conn: Connection,
    key: int,
    old_tags: Sequence[str],
    tags: Sequence[str],
    owner_id: str,
    visibility: str,
) -> None:
    """Rewrite one pin's tag index rows by primary key (at most a few hundred)."""
    old = expand_tags(old_tags)
    if old:
        conn.execute(
            pin_tags.delete().where(pin_tags.c.tag.in_(sorted(old)), pin_tags.c.pin_id == key)
        )
    rows = tag_rows(key, tags, owner_id, visibility)
    if rows:
        conn.execute(pin_tags.insert(), tag_row_dicts(rows))
    new = {row[0] for row in rows}
    change_sizes(conn, {tag: (tag in new) - (tag in old) for tag in new | old.keys()})


def _board_names(
    conn: Connection, keys: Sequence[int], access: AccessRule
) -> dict[int, tuple[str, ...]]:
    """For each pin, the names of the boards it is on that ``access`` allows, sorted.

    One query for a whole page, never one per pin.
    """
    statement = (
        sa.select(board_pins.c.pin_id, boards.c.name)
        .join(boards, boards.c.id == board_pins.c.board_id)
        .where(
            board_pins.c.pin_id.in_(keys),
            compiler.visible(
                access, boards.c.owner_id, boards.c.visibility, key=boards.c.id, kind="board"
            ),
        )
    )
    names: defaultdict[int, list[str]] = defaultdict(list)
    for key, name in conn.execute(statement):
        names[key].append(name)
    return {key: tuple(sorted(found)) for key, found in names.items()}
