"""The hand-written PostgreSQL baseline: the best schema and queries the field notes found.

* ``pins`` keyed by the bigint pin id, tags denormalised as ``text[]``, and a stored
  ``tsvector`` of the pin's search words (built from the same words Pinsphere indexes, with
  ``array_to_tsvector`` semantics, so both sides match exactly the same pins) under GIN;
* ``pin_tags(tag, created_at, pin_id)`` as the primary key, holding every tag and its
  ancestors, read backwards for "newest with tag X";
* two tags: walk the rarer tag's index and probe the other with a correlated
  ``(SELECT 1 ... LIMIT 1)``, which the planner cannot turn into a hash join;
* pages by keyset ``(created_at, pin_id) < (…)``;
* shares as in the SQLite baseline: ``pin_shares`` and ``board_shares`` keyed with the
  grantee first, ``board_pins(pin_id, board_id)``, ``boards(id, owner_id)``; the share
  probes are correlated ``(SELECT 1 ... LIMIT 1)`` lookups that run only for rows the
  cheaper conditions refuse (an ``EXISTS`` may become a hashed sub-plan reading all shares);
* ``plan_cache_mode = force_custom_plan`` on the connection, so psycopg's automatic prepared
  statements never fall back to a generic plan that ignores the tag.

It speaks raw psycopg 3 and returns plain tuples: it is the yardstick, not a product.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg

from benchmarks.baseline_sqlite import MEMBER_ID, SHARER_ID, owner_id
from benchmarks.datagen import BoardPlan, PinRecord
from pinsphere.tags import tag_ancestors

__all__ = ["PostgresBaseline", "keyset_position"]

_VISIBLE = "(p.visibility IN ('public', 'internal') OR p.owner_id = %(member)s)"


def _visible_shared(schema: str) -> str:
    # Scalar (SELECT 1 ... LIMIT 1) probes, not EXISTS: the planner may turn an EXISTS under
    # OR into a hashed sub-plan that reads every share of the user (or, for boards, joins all
    # shared boards' pins) once per query; these probes run only for the rows the cheaper
    # conditions refuse, one primary-key lookup each.
    s = schema
    return f"""(p.visibility IN ('public', 'internal') OR p.owner_id = %(member)s
  OR (SELECT 1 FROM {s}.pin_shares sh
      WHERE sh.user_id = %(member)s AND sh.pin_id = p.id LIMIT 1) IS NOT NULL
  OR (SELECT 1 FROM {s}.board_pins bp
      JOIN {s}.board_shares bs ON bs.user_id = %(member)s AND bs.board_id = bp.board_id
      JOIN {s}.boards b ON b.id = bp.board_id
      WHERE bp.pin_id = p.id AND b.owner_id = p.owner_id LIMIT 1) IS NOT NULL)"""


def _schema_sql(schema: str) -> str:
    return f"""
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.pins (
    id bigint PRIMARY KEY,
    owner_id text NOT NULL,
    owner text NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    tags text[] NOT NULL,
    visibility text NOT NULL,
    mime_type text NOT NULL,
    size bigint NOT NULL,
    sha256 text NOT NULL,
    width integer,
    height integer,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    search tsvector NOT NULL
);
CREATE TABLE IF NOT EXISTS {schema}.pin_tags (
    tag text NOT NULL,
    created_at timestamptz NOT NULL,
    pin_id bigint NOT NULL,
    PRIMARY KEY (tag, created_at, pin_id)
);
CREATE INDEX IF NOT EXISTS pins_search ON {schema}.pins USING gin (search);
CREATE TABLE IF NOT EXISTS {schema}.pin_shares (
    user_id text NOT NULL,
    pin_id bigint NOT NULL,
    PRIMARY KEY (user_id, pin_id)
);
CREATE TABLE IF NOT EXISTS {schema}.boards (id integer PRIMARY KEY, owner_id text NOT NULL);
CREATE TABLE IF NOT EXISTS {schema}.board_pins (
    pin_id bigint NOT NULL,
    board_id integer NOT NULL,
    PRIMARY KEY (pin_id, board_id)
);
CREATE TABLE IF NOT EXISTS {schema}.board_shares (
    user_id text NOT NULL,
    board_id integer NOT NULL,
    PRIMARY KEY (user_id, board_id)
);
"""


def _tsvector_text(words: list[str]) -> str:
    # Pinsphere's words are runs of letters and digits and need no quoting in tsvector
    # syntax; anything else is quoted, so that the baseline stays correct for any word.
    return " ".join(
        w if _PLAIN.fullmatch(w) else "'" + w.replace("\\", "\\\\").replace("'", "''") + "'"
        for w in set(words)
    )


_PLAIN = re.compile(r"[^\W_]+")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _copy_array(values: Sequence[str]) -> str:
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return _copy_text("{" + ",".join(quoted) + "}")


def _copy_time(ms: int) -> str:
    seconds, millis = divmod(ms, 1000)
    return f"{datetime.fromtimestamp(seconds, tz=UTC):%Y-%m-%d %H:%M:%S}.{millis:03d}+00"


def _tsquery(word: str) -> str:
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"


def _when(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class PostgresBaseline:
    """A hand-written PostgreSQL schema of pins.

    Args:
        conninfo: A libpq connection string or ``postgresql://`` URL.
        schema: The schema to create and use (a plain identifier).
    """

    def __init__(self, conninfo: str, schema: str) -> None:
        self.schema = schema
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.conn.execute("SET plan_cache_mode = force_custom_plan")
        self.conn.execute(_schema_sql(schema))
        self._sql = {False: self._queries(_VISIBLE), True: self._queries(_visible_shared(schema))}

    def _queries(self, visible: str) -> dict[str, str]:
        columns = (
            "p.id, p.owner_id, p.owner, p.title, p.description, p.tags, p.visibility,"
            " p.mime_type, p.size, p.sha256, p.width, p.height, p.created_at, p.updated_at"
        )
        s = self.schema
        return {
            "one": f"""
SELECT {columns}, t.created_at FROM {s}.pin_tags t JOIN {s}.pins p ON p.id = t.pin_id
WHERE t.tag = %(tag)s AND {visible}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT %(limit)s""",
            "after": f"""
SELECT {columns}, t.created_at FROM {s}.pin_tags t JOIN {s}.pins p ON p.id = t.pin_id
WHERE t.tag = %(tag)s AND (t.created_at, t.pin_id) < (%(after_at)s, %(after_id)s)
  AND {visible}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT %(limit)s""",
            "two": f"""
SELECT {columns}, t.created_at FROM {s}.pin_tags t JOIN {s}.pins p ON p.id = t.pin_id
WHERE t.tag = %(rare)s
  AND (SELECT 1 FROM {s}.pin_tags o
       WHERE o.tag = %(other)s AND o.created_at = t.created_at AND o.pin_id = t.pin_id
       LIMIT 1) IS NOT NULL
  AND {visible}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT %(limit)s""",
            "word": f"""
SELECT {columns}, p.created_at FROM {s}.pins p
WHERE p.search @@ %(query)s::tsquery AND {visible}
ORDER BY p.id DESC LIMIT %(limit)s""",
        }

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def drop(self) -> None:
        """Drop the schema and everything in it."""
        self.conn.execute(f"DROP SCHEMA IF EXISTS {self.schema} CASCADE")

    def load(self, batch: Sequence[PinRecord]) -> int:
        """Insert one batch of pins in one transaction with ``COPY``.

        The rows are written as ``COPY`` text by hand, which is several times faster than
        adapting every value through psycopg's per-row ``write_row``.
        """
        s = self.schema
        pins: list[str] = []
        tags: list[str] = []
        for r in batch:
            when = _copy_time(r.created_ms)
            pins.append(
                f"{r.id}\t{owner_id(r.owner)}\towner{r.owner}\t{_copy_text(r.title)}\t"
                f"{_copy_text(r.description)}\t{_copy_array(r.tags)}\t{r.visibility}\t"
                f"{r.mime_type}\t{r.size}\t{r.sha256}\t{r.width}\t{r.height}\t"
                f"{when}\t{when}\t{_copy_text(_tsvector_text(r.words()))}\n"
            )
            for tag in {a for t in r.tags for a in tag_ancestors(t)}:
                tags.append(f"{_copy_text(tag)}\t{when}\t{r.id}\n")
        with self.conn.transaction(), self.conn.cursor() as cur:
            with cur.copy(
                f"COPY {s}.pins (id, owner_id, owner, title, description, tags, visibility,"
                " mime_type, size, sha256, width, height, created_at, updated_at, search)"
                " FROM STDIN"
            ) as copy:
                copy.write("".join(pins))
            with cur.copy(f"COPY {s}.pin_tags (tag, created_at, pin_id) FROM STDIN") as copy:
                copy.write("".join(tags))
        return len(batch)

    def create_boards(self, boards: Sequence[BoardPlan]) -> None:
        """Create the shared boards and share each with the sharer (before any pins)."""
        s = self.schema
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {s}.boards VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(b.index, owner_id(b.owner)) for b in boards],
            )
            cur.executemany(
                f"INSERT INTO {s}.board_shares VALUES (%s, %s) ON CONFLICT DO NOTHING",
                [(SHARER_ID, b.index) for b in boards],
            )

    def load_shares(self, batch: Sequence[PinRecord]) -> None:
        """Insert the direct shares and board places of one batch of (loaded) pins."""
        s = self.schema
        shares = [(SHARER_ID, r.id) for r in batch if r.shared]
        shares += [(owner_id(r.grantee), r.id) for r in batch if r.grantee >= 0]
        places = [(r.id, r.board) for r in batch if r.board >= 0]
        if not shares and not places:
            return
        with self.conn.transaction(), self.conn.cursor() as cur:
            if shares:
                cur.executemany(f"INSERT INTO {s}.pin_shares VALUES (%s, %s)", shares)
            if places:
                cur.executemany(f"INSERT INTO {s}.board_pins VALUES (%s, %s)", places)

    def analyze(self) -> None:
        """Vacuum and analyse every table, as autovacuum would after a bulk load."""
        for table in ("pins", "pin_tags", "pin_shares", "boards", "board_pins", "board_shares"):
            self.conn.execute(f"VACUUM ANALYZE {self.schema}.{table}")

    def share_counts(self, user: str) -> tuple[int, int]:
        """How many pins and boards are shared with ``user``."""
        s = self.schema
        pins = self.conn.execute(f"SELECT count(*) FROM {s}.pin_shares WHERE user_id = %s", (user,))
        boards = self.conn.execute(
            f"SELECT count(*) FROM {s}.board_shares WHERE user_id = %s", (user,)
        )
        return int(pins.fetchone()[0]), int(boards.fetchone()[0])  # type: ignore[index]

    def count(self) -> int:
        """How many pins are stored."""
        row = self.conn.execute(f"SELECT count(*) FROM {self.schema}.pins").fetchone()
        return int(row[0]) if row else 0

    def tag_count(self, tag: str) -> int:
        """How many pins carry ``tag`` (the hand-writer's knowledge of which tag is rarer)."""
        row = self.conn.execute(
            f"SELECT count(*) FROM {self.schema}.pin_tags WHERE tag = %s", (tag,)
        ).fetchone()
        return int(row[0]) if row else 0

    def newest_with_tag(
        self,
        tag: str,
        limit: int = 20,
        after: tuple[datetime, int] | None = None,
        *,
        member: str = MEMBER_ID,
        shares: bool = False,
    ) -> list[tuple[Any, ...]]:
        """Newest visible pins carrying ``tag`` (or a descendant), after a keyset position.

        ``shares`` adds the share conditions to the visibility rule, for ``member``.
        """
        params: dict[str, object] = {"tag": tag, "member": member, "limit": limit}
        if after is None:
            return self.conn.execute(self._sql[shares]["one"], params).fetchall()
        params["after_at"], params["after_id"] = after
        return self.conn.execute(self._sql[shares]["after"], params).fetchall()

    def newest_with_tags(
        self,
        rare: str,
        other: str,
        limit: int = 20,
        *,
        member: str = MEMBER_ID,
        shares: bool = False,
    ) -> list[tuple[Any, ...]]:
        """Newest visible pins carrying both tags; walks ``rare`` and probes ``other``."""
        params = {"rare": rare, "other": other, "member": member, "limit": limit}
        return self.conn.execute(self._sql[shares]["two"], params).fetchall()

    def newest_with_word(
        self, word: str, limit: int = 20, *, member: str = MEMBER_ID, shares: bool = False
    ) -> list[tuple[Any, ...]]:
        """Newest visible pins whose words include ``word``."""
        params = {"query": _tsquery(word), "member": member, "limit": limit}
        return self.conn.execute(self._sql[shares]["word"], params).fetchall()

    def explain(self, name: str, *, shares: bool = False, **params: object) -> list[str]:
        """``EXPLAIN ANALYZE`` of one of the baseline's queries, as text lines."""
        full = {"member": MEMBER_ID, "limit": 20, **params}
        sql = self._sql[shares][name]
        rows = self.conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, full).fetchall()
        return [str(row[0]) for row in rows]


def keyset_position(row: tuple[Any, ...]) -> tuple[datetime, int]:
    """The ``(created_at, pin_id)`` keyset position of a baseline result row."""
    return row[-1], int(row[0])
