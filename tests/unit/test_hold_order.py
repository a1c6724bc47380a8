"""The hold-amount order's rule and its key: text order is (micro-units, case id) order, for every
amount a store can hold, negatives included; the primary hold is the largest currency (ties: the
first code)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.shared.domain.cases import in_hold_order
from functions.shared.domain.hold_order import orderable, primary_hold
from functions.shared.storage import keys

LIMIT = 10**38
amounts = st.one_of(
    st.integers(min_value=-LIMIT + 1, max_value=LIMIT - 1),
    st.integers(min_value=-1000, max_value=1000),  # small amounts and zero, often
)
case_ids = st.text(alphabet="abcz019_-#é", min_size=1, max_size=6)


@given(st.lists(st.tuples(amounts, case_ids), min_size=2, max_size=30))
def test_the_key_sorts_as_the_amount_then_the_case_id(positions):
    by_key = sorted(positions, key=lambda p: keys.case_hold_sk(*p))
    assert by_key == sorted(positions)


@given(amounts, case_ids)
def test_the_amount_has_a_fixed_width(micros, case_id):
    assert keys.case_hold_sk(micros, case_id).split("#", 1) == [
        keys.case_hold_sk(micros, "x").split("#", 1)[0],
        case_id,
    ]
    assert len(keys.case_hold_sk(micros, case_id).split("#", 1)[0]) == 1 + 38


def test_amounts_no_key_can_hold_are_refused():
    for micros in (LIMIT, -LIMIT, 10**40):
        assert not orderable(micros)
        with pytest.raises(ValueError, match="38 digits"):
            keys.case_hold_sk(micros, "c1")
    assert orderable(LIMIT - 1) and orderable(-LIMIT + 1)


def test_the_primary_hold_is_the_largest_currency_the_first_code_on_a_tie():
    assert primary_hold({}) == (None, 0)
    assert primary_hold({"USD": 0}) == (None, 0)
    assert primary_hold({"EUR": 9, "USD": 1}) == ("EUR", 9)
    assert primary_hold({"USD": 5, "GBP": 5, "EUR": 0}) == ("GBP", 5)


def test_only_the_cases_of_the_active_view_are_ordered():
    assert [s for s in ("open", "disputed", "approved", "declined", "removed") if in_hold_order(s)] == [
        "open",
        "disputed",
    ]
