"""`documents`: when a retried body is the same document (SPEC 3.1)."""

from __future__ import annotations

import json
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from functions.shared.documents import document_hash, legacy_hash, same_document
from functions.shared.inputs import trim

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.decimals(allow_nan=False, allow_infinity=False, places=None),
)
texts = st.text(max_size=8)
keys = st.text(min_size=1, max_size=5)
documents = st.recursive(
    st.one_of(numbers, texts, st.booleans()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=12,
)


def _respelled(value):
    """The same document as another serializer writes it: numbers in other digits (a trailing
    zero, an exponent), object members in reverse order, an absent member sent as null."""
    if isinstance(value, dict):
        members = {k: _respelled(v) for k, v in reversed(list(value.items()))}
        return {**members, "\u0000absent": None}
    if isinstance(value, list):
        return [_respelled(v) for v in value]
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        sign, digits, exponent = Decimal(value).as_tuple()
        return Decimal((sign, (*digits, 0), int(exponent) - 1))  # one more digit: a trailing zero
    return value


def _meaning(value):
    """What a document says, compared by Python's own equality (numbers by value, each JSON
    type apart: `True` is not `1`), without its null members nor its blank texts (an optional value
    sent blank is not sent: SPEC 3.1)."""
    if isinstance(value, dict):
        return {
            k: _meaning(v)
            for k, v in value.items()
            if v is not None and not (isinstance(v, str) and not trim(v))
        }
    if isinstance(value, list):
        return tuple(_meaning(v) for v in value)
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | Decimal):
        return ("number", Decimal(value))
    return ("text", value)


@given(documents)
def test_a_document_respelled_is_the_same_document(document):
    assert document_hash(_respelled(document)) == document_hash(document)


@given(documents, documents)
@example({}, {"k": ""})  # a blank text is no value
@example({"k": "\ufeff"}, {"k": None})
@example({"k": " a"}, {"k": "a"})  # a text with something in it is as sent
def test_two_documents_hash_alike_exactly_when_they_say_the_same(first, second):
    assert (document_hash(first) == document_hash(second)) == (_meaning(first) == _meaning(second))


def test_a_text_is_not_a_number_and_a_kind_is_part_of_the_document():
    assert document_hash({"amount": "5"}) != document_hash({"amount": 5})
    assert document_hash({"points": 5}, "earn") != document_hash({"points": 5}, "spend")
    assert document_hash({"a": 1.5}) == document_hash({"a": Decimal("1.50")})
    assert document_hash({"a": [None]}) != document_hash({"a": []})  # null in a list is a value
    assert document_hash({"n": Decimal("1e999999999")}) != document_hash({"n": Decimal("1e999999998")})


def test_a_hash_stored_before_documents_still_matches_its_own_body():
    body = json.loads('{"id": "e1", "amount": 12.5, "tags": ["a"]}', parse_float=Decimal)
    stored = legacy_hash(body, "earn")

    assert same_document(stored, body, "earn")
    assert not same_document(stored, {**body, "amount": Decimal("13")}, "earn")


def test_what_json_has_no_type_for_is_written_as_rfc_3339_or_its_text():
    from datetime import UTC, date, datetime, timedelta, timezone

    from functions.shared.documents import json_default

    paris = datetime(2026, 12, 3, 21, 0, tzinfo=timezone(timedelta(hours=1)))
    assert json_default(paris) == "2026-12-03T20:00:00.000000Z"
    assert json_default(datetime(2026, 12, 3, 20, 0, 0, 5, tzinfo=UTC)) == "2026-12-03T20:00:00.000005Z"
    assert json_default(date(2026, 12, 3)) == "2026-12-03"
    assert json_default(Decimal("12.50")) == "12.50"
