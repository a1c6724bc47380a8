"""Cursor paging, one way for every listing: a cursor is the position of the last item of a page
(its sort values) together with the query that produced it, as unpadded URL-safe base64 JSON.

Opaque to clients, and tamper-safe without a secret: every position is checked for its shape and
types, a cursor of another query is refused, and the position is only ever used as a key bound
inside the caller's own partitions (the program comes from the API key, never from the cursor),
so an edited cursor can move a listing within the caller's data and nowhere else. A position is a
key, not an offset: items inserted meanwhile neither repeat nor skip items of the next page. A
cursor names its program with its query, so one program's cursor is refused by another's listing.
(An item whose own sort value changes between two pages, a case's hold amount, is moved by a page
only on the side of that page's cursor it was on: `dynamodb_partners._same_side`. It is listed once
in a walk, at its place before or after the change, unless another reader's first page moves it
past the cursor meanwhile, or the next page is read before the index shows a move the page before
made; the plain store places it by its value as it is.)
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from functions.shared.errors import InvalidInput, invalid_query

T = TypeVar("T")

SCAN_BUDGET = 500  # items a searched or filtered page may read before it answers with what it found
# a position's text (an id, an instant) is this many UTF-8 bytes at most: DynamoDB refuses a key past
# 1,024 bytes (a 500), and no id of this API (128 characters) nor instant comes near it
POSITION_TEXT_MOST = 256


# What the items of one answer may add up to, as answered (`answer_bytes`): Lambda passes a
# function's answer only up to 6,291,456 bytes, and past that API Gateway answers 502 (for a change,
# written, answered as failed). A page or view whose items could pass it ends where this is reached;
# the rest is on the next page. The rest of any answer (its other fields, headers) is far smaller.
ANSWER_BUDGET = 5_000_000


def answer_bytes(item: Any) -> int:
    """What one item adds to a function's answer at most: its JSON (non-ASCII escaped, as the
    answer's is), escaped again as part of the body's string (the answer's envelope), a separator."""
    return len(json.dumps(json.dumps(item, default=str))) + 1


def fitting(items: Iterable[Any]) -> int:
    """How many of `items`, from the first, fit in `ANSWER_BUDGET` bytes as answered (the first
    always: no item of this API comes near it)."""
    total = count = 0
    budget = ANSWER_BUDGET
    for item in items:
        total += answer_bytes(item)
        if total > budget and count:
            break
        count += 1
    return count


def encode_cursor(position: tuple[Any, ...], query: dict[str, Any]) -> str:
    # text as UTF-8, not escaped: a search of 200 emoji made a cursor longer than a cursor may be
    raw = json.dumps({"after": list(position), "query": query}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, query: dict[str, Any], kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """The position in `cursor`, whose values must be of `kinds`; InvalidInput (422) for anything
    this API did not give for this very query."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, made_for = raw["after"], raw["query"]
        if not (isinstance(after, list) and len(after) == len(kinds)):
            raise ValueError("not a position")
        if any(type(value) is not kind for value, kind in zip(after, kinds, strict=True)):
            raise ValueError("not a position")
        if any(isinstance(value, str) and not _key_text(value) for value in after):
            raise ValueError("no key")
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):  # `[[[...` 1,500 deep
        raise not_given() from None
    if made_for != query:
        raise invalid_query(
            {"cursor": "belongs to another query"},
            "the cursor belongs to another query: keep the same filters and order when paging",
        )
    return tuple(after)


def _key_text(text: str) -> bool:
    """Text a key can hold: UTF-8 (an unpaired surrogate is not), and short enough in its bytes (256
    emoji are 1,024)."""
    try:
        return len(text.encode()) <= POSITION_TEXT_MOST
    except UnicodeEncodeError:
        return False


def cursor_time(text: Any) -> datetime:
    """A position's instant (ISO 8601 with its offset, as `encode_cursor` was given it); one that
    does not parse, or has no offset, is a cursor this API never gave: InvalidInput (422)."""
    at: datetime | None
    try:
        parsed = datetime.fromisoformat(text)
        at = parsed.astimezone(UTC) if parsed.tzinfo else None  # out of range fails here, not later
    except (TypeError, ValueError, OverflowError):
        at = None
    if at is None:
        raise not_given()
    return at


def not_given() -> InvalidInput:
    return invalid_query({"cursor": "invalid"}, "the cursor is not one this API gave")


def read_page(read: Iterable[T], limit: int) -> tuple[list[T], bool]:
    """The first `limit` items of `read` (in listing order) and whether another follows: reads one
    more than the page, never the rest."""
    found = list(itertools.islice(read, limit + 1))
    return found[:limit], len(found) > limit


def filtered_page(
    read: Iterable[T], keep: Callable[[T], bool], limit: int, budget: int = SCAN_BUDGET
) -> tuple[list[T], T | None, bool]:
    """Up to `limit` of the items `read` (in listing order) that `keep`, reading at most `budget`:
    (the page, the item the next page starts after, whether there is more). A full page looks
    ahead for one more match, so the last page does not promise another that would be empty; a page
    cut short by the budget is answered with what it found and goes on from the last item read, so
    a filter that matches little costs each request a bounded read, never the whole listing."""
    page: list[T] = []
    last: T | None = None
    more = False
    for count, item in enumerate(read, start=1):
        if keep(item):
            if len(page) == limit:
                more = True
                break
            page.append(item)
        if len(page) < limit:
            last = item
        if count >= budget:
            more = True  # perhaps: the next page goes on from where this one stopped
            break
    return page, (page[-1] if page and len(page) == limit else last), more
