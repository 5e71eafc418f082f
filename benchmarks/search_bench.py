"""The search questions, asked of Pinsphere (through the facade) and of the baseline.

Each question runs as the signed-in member ``bench`` on the Pinsphere side (so the
visibility rule is compiled into the query) and with the same condition, written by hand, on
the baseline side. Before timing, the two sides' answers are compared pin for pin: a
difference is an error, because a fast wrong answer proves nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.datagen import Vocabulary
from benchmarks.report import Report, SearchResult
from benchmarks.timing import time_alternating
from pinsphere.ids import encode_id

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
    """

    name: str
    pinsphere: Callable[[], list[str]]
    hand: Callable[[], list[str]]


def _ids_of_page(page: Any) -> list[str]:
    return [pin.id for pin in page.items]


def _ids_of_rows(rows: Sequence[Sequence[Any]]) -> list[str]:
    return [encode_id(int(row[0])) for row in rows]


def questions(
    scope: Any, baseline: Any, vocab: Vocabulary, keyset: Callable[..., Any]
) -> list[Question]:
    """The questions for one database.

    Args:
        scope: ``store.as_user(member)``.
        baseline: A :class:`~benchmarks.baseline_sqlite.SqliteBaseline` or
            :class:`~benchmarks.baseline_postgres.PostgresBaseline`.
        vocab: The vocabulary the pins were generated from.
        keyset: Reads the keyset position from a baseline row.
    """
    frequent, mid = vocab.frequent_tag, vocab.mid_tag
    first, second = vocab.tag_pair
    rare, other = sorted((first, second), key=baseline.tag_count)
    word = vocab.text_word

    def ask(text: str, cursor: str | None = None) -> Callable[[], list[str]]:
        return lambda: _ids_of_page(scope.search(text, limit=PAGE_SIZE, cursor=cursor))

    # Page 50: follow the cursor 49 times on each side, then time only the 50th fetch (an
    # earlier page when there are fewer, as with the smoke test's small data set).
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
        rows = baseline.newest_with_tag(frequent, PAGE_SIZE, after=position)
        position = keyset(rows[-1])

    return [
        Question(
            f"newest 20, frequent tag ({frequent})",
            ask(f"tag:{frequent}"),
            lambda: _ids_of_rows(baseline.newest_with_tag(frequent, PAGE_SIZE)),
        ),
        Question(
            f"newest 20, mid tag ({mid})",
            ask(f"tag:{mid}"),
            lambda: _ids_of_rows(baseline.newest_with_tag(mid, PAGE_SIZE)),
        ),
        Question(
            f"newest 20, two tags ({first} + {second})",
            ask(f"tag:{first} tag:{second}"),
            lambda: _ids_of_rows(baseline.newest_with_tags(rare, other, PAGE_SIZE)),
        ),
        Question(
            f"newest 20, free-text word ({word})",
            ask(word),
            lambda: _ids_of_rows(baseline.newest_with_word(word, PAGE_SIZE)),
        ),
        Question(
            f"page {page_number} by cursor, frequent tag",
            ask(f"tag:{frequent}", cursor),
            lambda: _ids_of_rows(baseline.newest_with_tag(frequent, PAGE_SIZE, after=position)),
        ),
    ]


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
            ours, theirs = time_alternating(question.pinsphere, question.hand, repeat=repeat)
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
        )
        report.searches.append(result)
        if not quiet:
            print(
                f"  {database:10} {question.name:55} pinsphere {ours.p50_ms:8.3f} ms"
                f"  hand {theirs.p50_ms:8.3f} ms  ratio {result.ratio:5.2f}",
                flush=True,
            )
