"""The hold-amount order's rule and its key: text order is (place, case id) order, for every place a
store can hold, negatives included; the primary hold is the currency worth the most in euros (ties:
the first code), the place the whole hold's worth in euros; currencies without a reference rate
come after every currency with one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from functions.shared.domain.cases import in_hold_order
from functions.shared.domain.hold_order import RATED_FROM, order_place, orderable, primary_hold
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


M = 1_000_000


def test_the_primary_hold_is_the_currency_worth_the_most_in_euros_the_first_code_on_a_tie():
    assert primary_hold({}) == (None, 0)
    assert primary_hold({"USD": 0}) == (None, 0)
    assert primary_hold({"EUR": 9, "USD": 1}) == ("EUR", 9)
    assert primary_hold({"USD": 5, "GBP": 5, "EUR": 0}) == ("GBP", 5)
    # the fraud tester's: 20,000 JPY is about 114 EUR, not more than 9,000 EUR
    assert primary_hold({"EUR": 9000 * M, "JPY": 20000 * M}) == ("EUR", 9000 * M)
    assert primary_hold({"EUR": 1 * M, "DKK": 7_473_500}) == ("DKK", 7_473_500)  # 1.00000 EUR: a tie
    # no rate (AED, XOF): the largest amount, only when nothing held has a rate
    assert primary_hold({"AED": 5 * M, "XOF": 3 * M}) == ("AED", 5 * M)
    assert primary_hold({"AED": 10**9 * M, "USD": 1}) == ("USD", 1)


def test_the_place_is_the_whole_hold_in_euros_and_without_a_rate_below_every_rated_hold():
    assert order_place({}) == order_place({"USD": 0}) == 0
    assert order_place({"EUR": 9000 * M}) == RATED_FROM + 9000 * M
    jpy = order_place({"JPY": 20000 * M}) - RATED_FROM
    assert 100 * M < jpy < 130 * M  # 20,000 JPY at a rate of about 175 to the euro
    assert order_place({"EUR": 9000 * M, "JPY": 20000 * M}) == RATED_FROM + 9000 * M + jpy
    ordered = [{}, {"AED": 1}, {"XOF": 10**30}, {"IDR": 1}, {"IDR": 100000 * M}, {"JPY": 20000 * M}]
    ordered += [{"EUR": 9000 * M}, {"EUR": 9000 * M, "JPY": 20000 * M}, {"GBP": 10**37}]
    places = [order_place(h) for h in ordered]
    assert places == sorted(places) and len(set(places)) == len(places)
    assert order_place({"AED": 7 * M, "XOF": 3 * M}) == 7 * M  # its largest amount
    assert order_place({"AED": 10**40}) == RATED_FROM - 1  # clamped into its band


@given(st.dictionaries(st.sampled_from(["EUR", "USD", "GBP", "JPY", "IDR", "AED"]), amounts, max_size=6))
def test_every_hold_has_a_place_a_key_can_hold(holds):
    assert orderable(order_place(holds))
    keys.case_hold_sk(order_place(holds), "c1")


def test_only_the_cases_of_the_active_view_are_ordered():
    assert [s for s in ("open", "disputed", "approved", "declined", "removed") if in_hold_order(s)] == [
        "open",
        "disputed",
    ]
