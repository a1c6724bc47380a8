"""`documents.read_json`: a body is read as JSON (RFC 8259) and nothing else, its numbers' digits
as sent. What Python's parser takes beyond JSON (NaN, Infinity) and a key named twice in one object
(its meaning is the parser's: the first value, the last, or an error) are refused as malformed."""

from __future__ import annotations

from decimal import Decimal

import pytest

from functions.shared.documents import read_json


@pytest.mark.parametrize(
    "text",
    [
        '{"points": NaN}',
        '{"points": Infinity}',
        '{"points": -Infinity}',
        "[1, [2, NaN]]",
        "NaN",
    ],
)
def test_nan_and_infinity_are_not_json(text):
    with pytest.raises(ValueError, match="not a JSON value"):
        read_json(text)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"points": 5, "points": 500000}', '"points"'),
        ('{"points": 5, "points": 5}', '"points"'),  # the same value twice is still a key twice
        ('{"a": [{"b": 1, "c": 2, "b": 3}]}', '"b"'),
        ('{"\\u0061": 1, "a": 2}', '"a"'),  # one key, spelled two ways
    ],
)
def test_a_key_twice_in_one_object_is_refused_naming_the_key(text, key):
    with pytest.raises(ValueError, match="appears more than once") as refused:
        read_json(text)

    assert key in str(refused.value)


def test_json_is_read_as_before_digits_and_all():
    text = '{"a": 1, "A": 2, "x": [1.10, {"a": 1}, {}], "n": null, "big": 1e400, "s": "NaN"}'

    assert read_json(text) == {
        "a": 1,
        "A": 2,
        "x": [Decimal("1.10"), {"a": 1}, {}],
        "n": None,
        "big": Decimal("1e400"),
        "s": "NaN",
    }
    assert str(read_json("[1.10]")[0]) == "1.10"
    assert read_json(b'{"k": true}') == {"k": True}
