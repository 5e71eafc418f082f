"""The hand-written SQLite baseline: the best schema and queries the field notes found.

* ``pins`` keyed by the integer pin id (SQLite's rowid, so a probe by id is one b-tree seek);
  tags kept denormalised in the row so a result needs no second query;
* ``pin_tags(tag, created_at, pin_id)`` as a ``WITHOUT ROWID`` table, holding every tag and
  its ancestors (``animals/cats`` also files the pin under ``animals``), read backwards so
  "newest 20 with tag X" stops after 20 visible rows;
* a contentless FTS5 table whose rowid is the pin id, hence in time order, so
  ``ORDER BY rowid DESC LIMIT 20`` walks the posting list from the newest end;
* shares as ``WITHOUT ROWID`` tables keyed with the grantee first, ``pin_shares(user_id,
  pin_id)`` and ``board_shares(user_id, board_id)``, plus ``board_pins(pin_id, board_id)``
  and ``boards(id, owner_id)``: a user with shares sees a pin that is public, internal, owned
  by them, shared with them, or on a board of the pin's owner that is shared with them; the
  last two are primary-key probes made only for pins the first three do not admit.

It speaks raw :mod:`sqlite3` and returns plain tuples: it is the yardstick, not a product.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

from benchmarks.datagen import MEMBER, SHARER, BoardPlan, PinRecord
from pinsphere.tags import tag_ancestors

__all__ = [
    "MEMBER_ID",
    "SHARER_ID",
    "SqliteBaseline",
    "keyset_position",
    "load_all",
    "owner_id",
]

MEMBER_ID = f"user-{MEMBER}"
"""The baseline's id for the searching member (owner index 0)."""

SHARER_ID = f"user-{SHARER}"
"""The baseline's id for the member with shares."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pins (
    id INTEGER PRIMARY KEY,
    owner_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    tags TEXT NOT NULL,
    visibility TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS pin_tags (
    tag TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    pin_id INTEGER NOT NULL,
    PRIMARY KEY (tag, created_at, pin_id)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS pin_fts USING fts5(words, content='', columnsize=0);
CREATE TABLE IF NOT EXISTS pin_shares (
    user_id TEXT NOT NULL,
    pin_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, pin_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS boards (id INTEGER PRIMARY KEY, owner_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS board_pins (
    pin_id INTEGER NOT NULL,
    board_id INTEGER NOT NULL,
    PRIMARY KEY (pin_id, board_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS board_shares (
    user_id TEXT NOT NULL,
    board_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, board_id)
) WITHOUT ROWID;
"""

_COLUMNS = (
    "p.id, p.owner_id, p.owner, p.title, p.description, p.tags, p.visibility, p.mime_type,"
    " p.size, p.sha256, p.width, p.height, p.created_at, p.updated_at"
)
_VISIBLE = "(p.visibility IN ('public', 'internal') OR p.owner_id = :member)"
_VISIBLE_SHARED = """(p.visibility IN ('public', 'internal') OR p.owner_id = :member
  OR EXISTS (SELECT 1 FROM pin_shares s WHERE s.user_id = :member AND s.pin_id = p.id)
  OR EXISTS (SELECT 1 FROM board_pins bp
             JOIN board_shares bs ON bs.user_id = :member AND bs.board_id = bp.board_id
             JOIN boards b ON b.id = bp.board_id
             WHERE bp.pin_id = p.id AND b.owner_id = p.owner_id))"""


def _queries(visible: str) -> dict[str, str]:
    return {
        "one": f"""
SELECT {_COLUMNS}, t.created_at FROM pin_tags t CROSS JOIN pins p ON p.id = t.pin_id
WHERE t.tag = :tag AND {visible}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT :limit
""",
        "after": f"""
SELECT {_COLUMNS}, t.created_at FROM pin_tags t CROSS JOIN pins p ON p.id = t.pin_id
WHERE t.tag = :tag AND (t.created_at, t.pin_id) < (:after_at, :after_id) AND {visible}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT :limit
""",
        "two": f"""
SELECT {_COLUMNS}, t.created_at FROM pin_tags t CROSS JOIN pins p ON p.id = t.pin_id
WHERE t.tag = :rare
  AND EXISTS (SELECT 1 FROM pin_tags o
              WHERE o.tag = :other AND o.created_at = t.created_at AND o.pin_id = t.pin_id)
  AND {visible}
ORDER BY t.created_at DESC, t.pin_id DESC LIMIT :limit
""",
        "word": f"""
SELECT {_COLUMNS}, p.created_at FROM pin_fts f CROSS JOIN pins p ON p.id = f.rowid
WHERE pin_fts MATCH :match AND {visible}
ORDER BY f.rowid DESC LIMIT :limit
""",
    }


# The queries by name, without shares (False) and with them (True).
_SQL = {False: _queries(_VISIBLE), True: _queries(_VISIBLE_SHARED)}


def owner_id(index: int) -> str:
    """The baseline's user id for an owner index."""
    return f"user-{index}"


def _fts_match(word: str) -> str:
    return '"' + word.replace('"', '""') + '"'


class SqliteBaseline:
    """A hand-written SQLite database of pins at ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode = WAL")
        self.conn.execute("PRAGMA synchronous = NORMAL")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def load(self, batch: Sequence[PinRecord]) -> int:
        """Insert one batch of pins in one transaction with ``executemany``."""
        pins = []
        tags = []
        fts = []
        for r in batch:
            pins.append(
                (
                    r.id,
                    owner_id(r.owner),
                    f"owner{r.owner}",
                    r.title,
                    r.description,
                    "\n".join(r.tags),
                    r.visibility,
                    r.mime_type,
                    r.size,
                    r.sha256,
                    r.width,
                    r.height,
                    r.created_ms,
                    r.created_ms,
                )
            )
            for tag in {a for t in r.tags for a in tag_ancestors(t)}:
                tags.append((tag, r.created_ms, r.id))
            fts.append((r.id, " ".join(r.words())))
        conn = self.conn
        conn.execute("BEGIN")
        try:
            conn.executemany("INSERT INTO pins VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", pins)
            conn.executemany("INSERT INTO pin_tags VALUES (?,?,?)", tags)
            conn.executemany("INSERT INTO pin_fts (rowid, words) VALUES (?,?)", fts)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return len(pins)

    def create_boards(self, boards: Sequence[BoardPlan]) -> None:
        """Create the shared boards and share each with the sharer (before any pins)."""
        self._write(
            (
                "INSERT OR IGNORE INTO boards VALUES (?, ?)",
                [(b.index, owner_id(b.owner)) for b in boards],
            ),
            (
                "INSERT OR IGNORE INTO board_shares VALUES (?, ?)",
                [(SHARER_ID, b.index) for b in boards],
            ),
        )

    def load_shares(self, batch: Sequence[PinRecord]) -> None:
        """Insert the direct shares and board places of one batch of (loaded) pins."""
        shares = [(SHARER_ID, r.id) for r in batch if r.shared]
        shares += [(owner_id(r.grantee), r.id) for r in batch if r.grantee >= 0]
        places = [(r.id, r.board) for r in batch if r.board >= 0]
        if shares or places:
            self._write(
                ("INSERT INTO pin_shares VALUES (?, ?)", shares),
                ("INSERT INTO board_pins VALUES (?, ?)", places),
            )

    def _write(self, *statements: tuple[str, list[tuple[object, ...]]]) -> None:
        conn = self.conn
        conn.execute("BEGIN")
        try:
            for sql, rows in statements:
                conn.executemany(sql, rows)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def count(self) -> int:
        """How many pins are stored."""
        return int(self.conn.execute("SELECT count(*) FROM pins").fetchone()[0])

    def share_counts(self, user: str) -> tuple[int, int]:
        """How many pins and boards are shared with ``user``."""
        pins = self.conn.execute("SELECT count(*) FROM pin_shares WHERE user_id = ?", (user,))
        boards = self.conn.execute("SELECT count(*) FROM board_shares WHERE user_id = ?", (user,))
        return int(pins.fetchone()[0]), int(boards.fetchone()[0])

    def tag_count(self, tag: str) -> int:
        """How many pins carry ``tag`` (the hand-writer's knowledge of which tag is rarer)."""
        row = self.conn.execute("SELECT count(*) FROM pin_tags WHERE tag = ?", (tag,)).fetchone()
        return int(row[0])

    # Each query returns full rows whose last column is the keyset position's time.

    def newest_with_tag(
        self,
        tag: str,
        limit: int = 20,
        after: tuple[int, int] | None = None,
        *,
        member: str = MEMBER_ID,
        shares: bool = False,
    ) -> list[tuple[object, ...]]:
        """Newest visible pins carrying ``tag`` (or a descendant), after a keyset position.

        ``shares`` adds the share conditions to the visibility rule, for ``member``.
        """
        params: dict[str, object] = {"tag": tag, "member": member, "limit": limit}
        if after is None:
            return self.conn.execute(_SQL[shares]["one"], params).fetchall()
        params["after_at"], params["after_id"] = after
        return self.conn.execute(_SQL[shares]["after"], params).fetchall()

    def newest_with_tags(
        self,
        rare: str,
        other: str,
        limit: int = 20,
        *,
        member: str = MEMBER_ID,
        shares: bool = False,
    ) -> list[tuple[object, ...]]:
        """Newest visible pins carrying both tags; walks ``rare`` and probes ``other``."""
        params = {"rare": rare, "other": other, "member": member, "limit": limit}
        return self.conn.execute(_SQL[shares]["two"], params).fetchall()

    def newest_with_word(
        self, word: str, limit: int = 20, *, member: str = MEMBER_ID, shares: bool = False
    ) -> list[tuple[object, ...]]:
        """Newest visible pins whose words include ``word``."""
        params = {"match": _fts_match(word), "member": member, "limit": limit}
        return self.conn.execute(_SQL[shares]["word"], params).fetchall()

    def explain(self, sql_name: str, *, shares: bool = False) -> list[str]:
        """The query plan of one of the baseline's queries (for checking the index use)."""
        params = {
            "tag": "x",
            "rare": "x",
            "other": "y",
            "match": '"x"',
            "member": MEMBER_ID,
            "limit": 20,
            "after_at": 0,
            "after_id": 0,
        }
        sql = _SQL[shares][sql_name]
        rows = self.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return [str(row[-1]) for row in rows]


def keyset_position(row: tuple[object, ...]) -> tuple[int, int]:
    """The ``(created_at, pin_id)`` keyset position of a baseline result row."""
    return int(row[-1]), int(row[0])  # type: ignore[call-overload]


def load_all(baseline: SqliteBaseline, batches: Iterable[Sequence[PinRecord]]) -> int:
    """Load every batch; returns how many pins were inserted."""
    return sum(baseline.load(batch) for batch in batches)
