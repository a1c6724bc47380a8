"""What a page or view counts against Lambda's answer limit (`paging.answer_bytes`, `fitting`):
never less than the items add to the answer as the functions send it (the body as the API
serializes it, then the body's string inside the function's answer), whatever the items hold:
text outside the basic plane, quotes, backslashes, control characters."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.shared import paging, problems

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
items = st.lists(st.dictionaries(st.text(max_size=10), values, max_size=5), max_size=8)


def answered(body: dict[str, Any]) -> int:
    """The size of a function's answer carrying `body`, as Lambda receives it."""
    return len(json.dumps({"statusCode": 200, "body": problems.to_json(body)}))


@settings(max_examples=300, deadline=None)
@given(items)
def test_the_items_of_an_answer_never_add_more_than_counted(page):
    empty = answered({"items": []})

    assert answered({"items": page}) - empty <= sum(paging.answer_bytes(item) for item in page)


def test_a_character_outside_the_basic_plane_is_counted_as_escaped_twice():
    clef = {"note": "\U0001d11e" * 1_000}

    assert answered({"items": [clef]}) - answered({"items": []}) > 12_000  # \\ud834\\udd1e each
    assert paging.answer_bytes(clef) >= answered({"items": [clef]}) - answered({"items": []})


@given(st.lists(st.integers(min_value=1, max_value=60), max_size=30))
def test_fitting_takes_items_while_they_fit_and_always_the_first(sizes):
    budget = 100 * paging.answer_bytes("")
    page = ["x" * size for size in sizes]
    original = paging.ANSWER_BUDGET
    paging.ANSWER_BUDGET = budget
    try:
        taken = paging.fitting(page)
    finally:
        paging.ANSWER_BUDGET = original

    counted = [paging.answer_bytes(item) for item in page]
    assert taken == len(page) or sum(counted[: taken + 1]) > budget
    assert taken == min(1, len(page)) or sum(counted[:taken]) <= budget


def test_an_item_larger_than_the_budget_alone_is_still_taken_and_the_budget_itself_fits():
    one = {"note": "x" * 100}
    original = paging.ANSWER_BUDGET
    try:
        paging.ANSWER_BUDGET = paging.answer_bytes(one) - 1
        assert paging.fitting([one, one]) == 1  # a page is never empty while items are left
        paging.ANSWER_BUDGET = 2 * paging.answer_bytes(one)
        assert paging.fitting([one, one, one]) == 2  # exactly the budget fits
    finally:
        paging.ANSWER_BUDGET = original
