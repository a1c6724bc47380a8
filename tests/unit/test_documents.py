"""`documents`: when a retried body is the same document (SPEC 3.1)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from functions.shared.documents import AS_READ, FORMS, document_hash, legacy_hash, same_document
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


def _meaning(value, form=AS_READ):
    """What a document says in a form, compared by Python's own equality (numbers by value, each
    JSON type apart: `True` is not `1`), without its null members, nor its blank texts (an optional
    value sent blank is not sent: SPEC 3.1) but in the oldest form; read as the system reads it
    (`AS_READ`): texts trimmed, and an object of only such members (`{}`, a reward of nulls) absent."""
    if isinstance(value, dict):
        return {k: _meaning(v, form) for k, v in value.items() if not _nothing(v, form)}
    if isinstance(value, list):
        return tuple(_meaning(v, form) for v in value)
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | Decimal):
        return ("number", Decimal(value))
    return ("text", trim(value) if form == AS_READ else value)


def _nothing(value, form):
    if value is None:
        return True
    if isinstance(value, str):
        return form != "nulls_absent" and not trim(value)
    return form == AS_READ and isinstance(value, dict) and all(_nothing(v, form) for v in value.values())


@pytest.mark.parametrize("form", FORMS)
@given(document=documents)
def test_a_document_respelled_is_the_same_document(form, document):
    assert document_hash(_respelled(document), form=form) == document_hash(document, form=form)
    # a hash stored in any form, the newest or an older one, matches the body's retry
    assert same_document(document_hash(document, form=form), _respelled(document))


@given(documents, documents)
@example({}, {"k": ""})  # a blank text is no value
@example({"k": "\ufeff"}, {"k": None})
@example({"k": " a"}, {"k": "a"})  # a text is read trimmed (`"USD "` is `"USD"`)
@example({"k": {"a": None, "b": " "}}, {})  # an object of nothing is nothing (a reward of nulls)
@example({"k": {"a": {}}}, {"k": None})
@example({"k": [None]}, {"k": []})  # null in a list is a value
@example({"k": [" a"]}, {"k": ["a"]})
def test_two_documents_hash_alike_exactly_when_they_say_the_same(first, second):
    assert (document_hash(first) == document_hash(second)) == (_meaning(first) == _meaning(second))


@pytest.mark.parametrize("form", FORMS[1:])
@given(first=documents, second=documents)
@example(first={}, second={"k": ""})
@example(first={"k": " a"}, second={"k": "a"})
@example(first={"k": {}}, second={})
def test_an_older_form_still_tells_apart_what_it_told_apart(form, first, second):
    same = document_hash(first, form=form) == document_hash(second, form=form)
    assert same == (_meaning(first, form) == _meaning(second, form))


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


# A body a SQL export sends, and the hashes the releases before the thirty-third session stored for
# it (as the code then computed them): each still matches the body's retry.
EXPORTED = {
    "id": "t1",
    "type": "transaction.created",
    "transaction": {"id": "x1", "amount": Decimal("12.50"), "currency": "USD "},
    "reward": {"id": None, "amount": None, "currency": None},
    "customer": {"id": "c1", "email": ""},
}
STORED_BEFORE = {
    None: (
        "523fd29161c226d31f3a5b94552568d0088f38f68d1de76a625e586188319863",  # blanks absent
        "1e563365f699e773912ce4163f8dd7504d81adeef3b2445c940d8dbabb9d3f51",  # nulls absent
        "f0f8e16f0c535cb733e41c59401c2445b77bec5e1d223a6b8178ff7662a22fb5",  # legacy
    ),
    "earn": (
        "c2d6e589cf7f14fb4f4fd39bd84d610cfb904d316d1621beca266bc700229b5f",
        "084d1b7210157a69d01a361b1568ebc9b38c26e68ed032e6544adeb137e9ce88",
        "1fde0fcb80f8bbd30a5821dfd1b8f38afce1fc4cde9c48b762e0909260ccd918",
    ),
}


@pytest.mark.parametrize("kind", STORED_BEFORE)
def test_hashes_stored_in_every_older_form_match_their_retry(kind):
    blanks, nulls, legacy = STORED_BEFORE[kind]
    assert document_hash(EXPORTED, kind, form="blanks_absent") == blanks
    assert document_hash(EXPORTED, kind, form="nulls_absent") == nulls
    assert legacy_hash(EXPORTED, kind) == legacy
    retry = {key: EXPORTED[key] for key in reversed(EXPORTED)}  # another serializer's order
    for stored in STORED_BEFORE[kind]:
        assert same_document(stored, EXPORTED, kind)
        assert same_document(stored, retry, kind)
        assert not same_document(stored, {**EXPORTED, "partner_id": "p2"}, kind)


def test_what_the_system_reads_alike_hashes_alike():
    """A retry of the same event sent another way a SQL export may send it: the same document."""
    no_reward = {k: v for k, v in EXPORTED.items() if k != "reward"}
    assert same_document(document_hash(EXPORTED), no_reward)  # a reward of nulls is no reward
    assert same_document(document_hash(no_reward), {**EXPORTED, "reward": {}})
    assert same_document(document_hash(no_reward), {**EXPORTED, "reward": {"id": " ", "amount": None}})
    trimmed = {**EXPORTED, "transaction": {**EXPORTED["transaction"], "currency": "USD"}}
    assert same_document(document_hash(EXPORTED), trimmed)  # a code padded by a CHAR(3) column
    location = {"session": {"ip": "81.2.69.160", "ip_location": {"lat": None, "lon": None}}}
    assert same_document(document_hash(location), {"session": {"ip": "81.2.69.160"}})
    # what the system reads otherwise is still another document
    assert not same_document(document_hash(no_reward), {**EXPORTED, "reward": {"id": "r1"}})
    assert not same_document(document_hash(EXPORTED), {**trimmed, "transaction": {"currency": "EUR"}})
    assert not same_document(document_hash({"a": 0}), {}) and not same_document(document_hash({"a": []}), {})


def test_what_json_has_no_type_for_is_written_as_rfc_3339_or_its_text():
    from datetime import UTC, date, datetime, timedelta, timezone

    from functions.shared.documents import json_default

    paris = datetime(2026, 12, 3, 21, 0, tzinfo=timezone(timedelta(hours=1)))
    assert json_default(paris) == "2026-12-03T20:00:00Z"  # as the API writes it (`problems.api_time`)
    assert json_default(datetime(2026, 12, 3, 20, 0)) == "2026-12-03T20:00:00Z"  # no zone: UTC
    assert json_default(datetime(2026, 12, 3, 20, 0, 0, 5, tzinfo=UTC)) == "2026-12-03T20:00:00.000005Z"
    assert json_default(date(2026, 12, 3)) == "2026-12-03"
    assert json_default(Decimal("12.50")) == "12.50"
