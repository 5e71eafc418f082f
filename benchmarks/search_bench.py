"""The search questions, asked of Pinsphere (through the facade) and of the baseline.

Each question runs as a signed-in member on the Pinsphere side (so the visibility rule is
compiled into the query) and with the same condition, written by hand, on the baseline side:
the plain questions as ``bench``, who has no shares, and the "with shares" questions as
``ana``, who owns a fifth of the pins like ``bench`` and has 1,000 pins and 20 boards of other
owners shared with her (see :mod:`benchmarks.datagen`). Before timing, the two sides' answers
are compared pin for pin: a difference is an error, because a fast wrong answer proves
nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.baseline_sqlite import MEMBER_ID, SHARER_ID
from benchmarks.datagen import Vocabulary
from benchmarks.report import Report, SearchResult
from benchmarks.timing import time_interleaved
from pinsphere.cursors import decode_cursor
from pinsphere.ids import encode_id
from pinsphere.search import parse_query

__all__ = ["Question", "questions", "run_questions"]

PAGE_SIZE = 20
PAGE_NUMBER = 50


@dataclass
class Question:
    """One question, as a pair of zero-argument calls that each return pin ids.

    Attributes:
        name: Shown in the report.
        pinsphere: Asks the facade.
        hand: Asks the baseline.
        via_shares: With shares: how many pins of the answer only a share makes visible.
        rows: Runs the statement the facade runs, on the backend's driver, without building
            results (SQL backends only): the database's share of the facade's time.
        target: The ratio to stay within; ``None`` for a question shown for information.
    """

    name: str
    pinsphere: Callable[[], list[str]]
    hand: Callable[[], list[str]]
    via_shares: Callable[[], int] | None = None
    rows: Callable[[], object] | None = None
    target: float | None = 1.5


def _ids_of_page(page: Any) -> list[str]:
    return [pin.id for pin in page.items]


def _ids_of_rows(rows: Sequence[Sequence[Any]]) -> list[str]:
    return [encode_id(int(row[0])) for row in rows]


Rows = Callable[[], Sequence[Sequence[Any]]]


def _private_of_others(rows: Sequence[Sequence[Any]], member: str) -> int:
    # Baseline rows: id, owner_id, owner, title, description, tags, visibility, ...
    return sum(1 for row in rows if row[1] != member and row[6] == "private")


def questions(
    scope: Any,
    baseline: Any,
    vocab: Vocabulary,
    keyset: Callable[..., Any],
    *,
    sharer: Any = None,
    metadata: Any = None,
) -> list[Question]:
    """The questions for one database.

    Args:
        scope: ``store.as_user(member)``, the member without shares.
        baseline: A :class:`~benchmarks.baseline_sqlite.SqliteBaseline` or
            :class:`~benchmarks.baseline_postgres.PostgresBaseline`.
        vocab: The vocabulary the pins were generated from.
        keyset: Reads the keyset position from a baseline row.
        sharer: ``store.as_user(sharer)``, the member with shares; when given, the "with
            shares" questions follow the plain ones.
        metadata: The store's metadata backend; when it can run a search's statement alone
            (``search_rows``), that is timed too.
    """
    frequent, mid = vocab.frequent_tag, vocab.mid_tag
    first, second = vocab.tag_pair
    rare, other = sorted((first, second), key=baseline.tag_count)
    word = vocab.text_word

    def asked_as(side: _Member, *, with_mid: bool) -> list[tuple[str, str, str | None, Rows]]:
        b, options = baseline, side.options
        listed: list[tuple[str, str, str | None, Rows]] = [
            (
                f"newest 20, frequent tag ({frequent})",
                f"tag:{frequent}",
                None,
                lambda: b.newest_with_tag(frequent, PAGE_SIZE, **options),
            ),
            (
                f"newest 20, mid tag ({mid})",
                f"tag:{mid}",
                None,
                lambda: b.newest_with_tag(mid, PAGE_SIZE, **options),
            ),
            (
                f"newest 20, two tags ({first} + {second})",
                f"tag:{first} tag:{second}",
                None,
                lambda: b.newest_with_tags(rare, other, PAGE_SIZE, **options),
            ),
            (
                f"newest 20, free-text word ({word})",
                word,
                None,
                lambda: b.newest_with_word(word, PAGE_SIZE, **options),
            ),
            (
                f"page {side.page_number} by cursor, frequent tag",
                f"tag:{frequent}",
                side.cursor,
                lambda: b.newest_with_tag(frequent, PAGE_SIZE, after=side.position, **options),
            ),
        ]
        return listed if with_mid else [q for q in listed if q[1] != f"tag:{mid}"]

    member = _Member(scope, baseline, keyset, frequent, MEMBER_ID, shares=False, metadata=metadata)
    result = [
        Question(name, member.ours(text, cursor), _ids(rows), rows=member.rows(text, cursor))
        for name, text, cursor, rows in asked_as(member, with_mid=True)
    ]
    cold = member.ours_with_nothing_kept(f"tag:{frequent}")
    if cold is not None:
        name, _, _, rows = asked_as(member, with_mid=False)[0]
        result.insert(1, Question(f"{name}, no pins kept", cold, _ids(rows), target=None))
    if sharer is None:
        return result
    pin_shares, _ = baseline.share_counts(SHARER_ID)
    with_shares = _Member(
        sharer, baseline, keyset, frequent, SHARER_ID, shares=True, metadata=metadata
    )
    for name, text, cursor, rows in asked_as(with_shares, with_mid=False):
        result.append(
            Question(
                f"{name}, user with {pin_shares:,} shares",
                with_shares.ours(text, cursor),
                _ids(rows),
                _counter(rows, SHARER_ID),
                with_shares.rows(text, cursor),
            )
        )
    return result


def _ids(rows: Rows) -> Callable[[], list[str]]:
    return lambda: _ids_of_rows(rows())


def _counter(rows: Rows, member: str) -> Callable[[], int]:
    return lambda: _private_of_others(rows(), member)


class _Member:
    """One member on both sides, with the cursor and keyset position of the deep page."""

    def __init__(
        self,
        scope: Any,
        baseline: Any,
        keyset: Callable[..., Any],
        frequent: str,
        member: str,
        *,
        shares: bool,
        metadata: Any,
    ) -> None:
        self.scope = scope
        self.metadata = metadata
        self.options: dict[str, Any] = {"member": member, "shares": shares}
        # Page 50: follow the cursor 49 times on each side, then time only the 50th fetch
        # (an earlier page when there are fewer, as with the smoke test's small data set).
        cursor = None
        page_number = 1
        for _ in range(PAGE_NUMBER - 1):
            page = scope.search(f"tag:{frequent}", limit=PAGE_SIZE, cursor=cursor)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
            page_number += 1
        position = None
        for _ in range(page_number - 1):
            rows = baseline.newest_with_tag(frequent, PAGE_SIZE, after=position, **self.options)
            position = keyset(rows[-1])
        self.cursor, self.position, self.page_number = cursor, position, page_number

    def ours(self, text: str, cursor: str | None) -> Callable[[], list[str]]:
        """Asks Pinsphere, as this member."""
        scope = self.scope
        return lambda: _ids_of_page(scope.search(text, limit=PAGE_SIZE, cursor=cursor))

    def ours_with_nothing_kept(self, text: str) -> Callable[[], list[str]] | None:
        """Asks Pinsphere after dropping the pins its SQL backend kept from earlier searches
        (``None`` for a backend that keeps none)."""
        backend, scope = self.metadata, self.scope
        if backend is None or not hasattr(backend, "clear_pin_cache"):
            return None

        def ask() -> list[str]:
            backend.clear_pin_cache()
            return _ids_of_page(scope.search(text, limit=PAGE_SIZE))

        return ask

    def rows(self, text: str, cursor: str | None) -> Callable[[], object] | None:
        """Runs the statement of the same search on the SQL backend's driver (rows only)."""
        backend = self.metadata
        if backend is None or not hasattr(backend, "search_rows"):
            return None
        query = parse_query(text)
        viewer = self.scope.principal.user_id
        after = decode_cursor(cursor, query, viewer) if cursor else None
        access = self.scope.access
        # The facade reads one row more than the page, to tell whether another follows.
        return lambda: backend.search_rows(query, access, limit=PAGE_SIZE + 1, after=after)


def run_questions(
    database: str, asked: Sequence[Question], *, repeat: int, report: Report, quiet: bool
) -> None:
    """Check each question's answers agree, then time both sides ``repeat`` times."""
    for question in asked:
        try:
            got, want = question.pinsphere(), question.hand()
            if got != want:
                report.error(
                    f"{database}: {question.name}: pinsphere and hand-written answers differ"
                    f" (pinsphere {len(got)} pins, first {got[:3]}; hand {len(want)} pins,"
                    f" first {want[:3]})"
                )
                continue
            if len(want) < PAGE_SIZE:
                report.notes.append(f"{database}: {question.name}: only {len(want)} pins match")
            if question.via_shares is not None:
                report.notes.append(
                    f"{database}: {question.name}: {question.via_shares()} of {len(want)} pins"
                    " visible only through a share"
                )
            sides = [question.pinsphere, question.hand]
            if question.rows is not None:
                sides.append(question.rows)
            ours, theirs, *rows = time_interleaved(sides, repeat=repeat)
        except Exception as exc:  # report and go on with the other questions
            report.error(f"{database}: {question.name}: {type(exc).__name__}: {exc}")
            continue
        result = SearchResult(
            question=question.name,
            database=database,
            pinsphere_p50_ms=ours.p50_ms,
            pinsphere_p99_ms=ours.p99_ms,
            hand_p50_ms=theirs.p50_ms,
            hand_p99_ms=theirs.p99_ms,
            rows_p50_ms=rows[0].p50_ms if rows else None,
            target=question.target,
        )
        report.searches.append(result)
        if not quiet:
            statement = (
                f"  (statement {result.rows_p50_ms:.3f} ms, x{result.rows_ratio:.2f})"
                if result.rows_ratio is not None
                else ""
            )
            print(
                f"  {database:10} {question.name:55} pinsphere {ours.p50_ms:8.3f} ms"
                f"  hand {theirs.p50_ms:8.3f} ms  ratio {result.ratio:5.2f}{statement}",
                flush=True,
            )
