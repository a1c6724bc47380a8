"""`fraudctl replay`'s route for each line (`path_of`): a loyalty body goes to earn when it names its
kind, to spend when not; a field sent as null is absent (SPEC 3.1), as `subject_of` reads it."""

from __future__ import annotations

import json

import pytest

from fraudctl.replay import EVENTS_PATH, path_of, route_of, subject_of


def _path(body: dict) -> str:
    return path_of(json.dumps(body).encode())


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"id": "e1", "customer_id": "m1", "points": 5, "kind": "purchase"}, "/v1/loyalty/earn"),
        ({"id": "s1", "customer_id": "m1", "points": 5}, "/v1/loyalty/spend"),
        ({"id": "s1", "customer_id": "m1", "points": 5, "kind": None}, "/v1/loyalty/spend"),
        ({"id": "s1", "type": None, "customer_id": "m1", "points": 5}, "/v1/loyalty/spend"),
        ({"id": "e1", "type": "reward.created", "customer_id": "m1"}, EVENTS_PATH),
    ],
)
def test_a_loyalty_line_goes_to_earn_only_when_it_names_its_kind(body, path):
    assert _path(body) == path


def test_a_null_kind_or_type_is_the_customers_as_its_subject_says():
    body = json.dumps({"id": "s1", "type": None, "customer_id": "m1", "kind": None}).encode()

    assert subject_of(body) == "customer:m1"
    assert path_of(body) == "/v1/loyalty/spend"


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        (
            {"id": "s1", "customer_id": "m1", "points": 5, "kind": None},
            {"id": "s1", "customer_id": "m1", "points": 5},
        ),
        (
            {"id": "s1", "type": None, "customer_id": "m1", "points": 5},
            {"id": "s1", "customer_id": "m1", "points": 5},
        ),
        (
            {"id": "e1", "type": None, "customer_id": "m1", "points": 5, "kind": "purchase"},
            {"id": "e1", "customer_id": "m1", "points": 5, "kind": "purchase"},
        ),
    ],
)
def test_the_null_fields_that_told_a_loyalty_lines_route_are_not_sent_to_it(body, sent):
    # the earn and spend routes refuse a field they do not take (422): `"kind": null` was refused
    path, text = route_of(json.dumps(body).encode())

    assert path != EVENTS_PATH
    assert json.loads(text) == sent


def test_a_loyalty_line_written_again_keeps_its_numbers_as_written():
    """An operator tester's: the line was written again through floats, and a 22-digit amount or
    `12.50` reached the API as another number than the file's."""
    numbers = b'"points": 1234567890123456789012.5, "x": [12.50, 7, -0.0, 1e3]'

    path, text = route_of(b'{"id": "s1", "kind": null, "customer_id": "m1", ' + numbers + b"}")

    assert path == "/v1/loyalty/spend"
    assert text == b'{"id": "s1", "customer_id": "m1", ' + numbers + b"}"


def test_any_other_line_is_sent_byte_for_byte():
    line = b'{"id": "e1", "type": "reward.created",  "kind": null}'

    assert route_of(line) == (EVENTS_PATH, line)
