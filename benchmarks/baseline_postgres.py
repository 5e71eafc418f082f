"""The hand-written PostgreSQL baseline: the best schema and queries the field notes found.

* ``pins`` keyed by the bigint pin id, tags denormalised as ``text[]``, and a stored
  ``tsvector`` of the pin's search words (built from the same words Pinsphere indexes, with
  ``array_to_tsvector`` semantics, so both sides match exactly the same pins) under GIN;
* ``pin_tags(tag, created_at, pin_id)`` as the primary key, holding every tag and its
  ancestors, read backwards for "newest with tag X";
* two tags: walk the rarer tag's index and probe the other with a correlated
  ``(SELECT 1 ... LIMIT 1)``, which the planner cannot turn into a hash join;
* pages by keyset ``(created_at, pin_id) < (…)``;
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

from benchmarks.baseline_sqlite import MEMBER_ID, owner_id
from benchmarks.datagen import PinRecord
from pinsphere.tags import tag_ancestors

__all__ = ["PostgresBaseline", "keyset_position"]

_VISIBLE = "(p.visibility IN ('public', 'internal') OR p.owner_id = %(member)s)"


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
        columns = (
            "p.id, p.owner_id, p.owner, p.title, p.description, p.tags, p.visibility,"
            " p.mime_type, p.size, p.sha256, p.width, p.height, p.created_at, p.updated_at"
        )
        s = schema
        self._one_tag = f"""
SELECT {columns}, t.created_at FROM {s}.pin_tags t JOIN {s}.pins p ON p.id = t.pin_id
WHERE t.tag = %(tag)s AND {_VISIBLE}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT %(limit)s"""
        self._one_tag_after = f"""
SELECT {columns}, t.created_at FROM {s}.pin_tags t JOIN {s}.pins p ON p.id = t.pin_id
WHERE t.tag = %(tag)s AND (t.created_at, t.pin_id) < (%(after_at)s, %(after_id)s)
  AND {_VISIBLE}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT %(limit)s"""
        self._two_tags = f"""
SELECT {columns}, t.created_at FROM {s}.pin_tags t JOIN {s}.pins p ON p.id = t.pin_id
WHERE t.tag = %(rare)s
  AND (SELECT 1 FROM {s}.pin_tags o
       WHERE o.tag = %(other)s AND o.created_at = t.created_at AND o.pin_id = t.pin_id
       LIMIT 1) IS NOT NULL
  AND {_VISIBLE}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT %(limit)s"""
        self._word = f"""
SELECT {columns}, p.created_at FROM {s}.pins p
WHERE p.search @@ %(query)s::tsquery AND {_VISIBLE}
ORDER BY p.id DESC LIMIT %(limit)s"""

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

    def analyze(self) -> None:
        """Vacuum and analyse both tables, as autovacuum would after a bulk load."""
        self.conn.execute(f"VACUUM ANALYZE {self.schema}.pins")
        self.conn.execute(f"VACUUM ANALYZE {self.schema}.pin_tags")

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
        self, tag: str, limit: int = 20, after: tuple[datetime, int] | None = None
    ) -> list[tuple[Any, ...]]:
        """Newest visible pins carrying ``tag`` (or a descendant), after a keyset position."""
        params: dict[str, object] = {"tag": tag, "member": MEMBER_ID, "limit": limit}
        if after is None:
            return self.conn.execute(self._one_tag, params).fetchall()
        params["after_at"], params["after_id"] = after
        return self.conn.execute(self._one_tag_after, params).fetchall()

    def newest_with_tags(self, rare: str, other: str, limit: int = 20) -> list[tuple[Any, ...]]:
        """Newest visible pins carrying both tags; walks ``rare`` and probes ``other``."""
        params = {"rare": rare, "other": other, "member": MEMBER_ID, "limit": limit}
        return self.conn.execute(self._two_tags, params).fetchall()

    def newest_with_word(self, word: str, limit: int = 20) -> list[tuple[Any, ...]]:
        """Newest visible pins whose words include ``word``."""
        params = {"query": _tsquery(word), "member": MEMBER_ID, "limit": limit}
        return self.conn.execute(self._word, params).fetchall()

    def explain(self, name: str, **params: object) -> list[str]:
        """``EXPLAIN ANALYZE`` of one of the baseline's queries, as text lines."""
        sql = {
            "one": self._one_tag,
            "after": self._one_tag_after,
            "two": self._two_tags,
            "word": self._word,
        }[name]
        full = {"member": MEMBER_ID, "limit": 20, **params}
        rows = self.conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, full).fetchall()
        return [str(row[0]) for row in rows]


def keyset_position(row: tuple[Any, ...]) -> tuple[datetime, int]:
    """The ``(created_at, pin_id)`` keyset position of a baseline result row."""
    return row[-1], int(row[0])
