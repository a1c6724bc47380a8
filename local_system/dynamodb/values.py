"""DynamoDB's attribute values as the wire carries them, for the local engine.

A value is the decoded JSON of the wire: `{"S": "x"}`, `{"N": "12.5"}`, `{"B": "<base64>"}`,
`{"BOOL": true}`, `{"NULL": true}`, `{"SS": [...]}`, `{"NS": [...]}`, `{"BS": [...]}`,
`{"L": [values]}`, `{"M": {name: value}}`; an item is `dict[str, value]`. Nothing here builds an
object per attribute: the engine stores these dicts as they are (after `canonical`).

The rules come from DynamoDB's Developer Guide ("Supported data types and naming rules",
"Item sizes and formats") and its API reference (AttributeValue):
- a number has at most 38 significant digits (leading and trailing zeros do not count), a magnitude
  of 1E-130 to 9.9999999999999999999999999999999999999E+125, or is zero; DynamoDB returns it in
  plain notation without redundant zeros ("1.50" comes back "1.5", "1E+2" comes back "100");
- a set is not empty and holds no duplicates (numbers compare numerically, binaries by their bytes);
- strings and binaries sort by their UTF-8 bytes / raw bytes, unsigned; numbers numerically;
- an item's size is the UTF-8 length of its attribute names plus the sizes of their values.
"""

from __future__ import annotations

import base64
import binascii
import re
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Underflow
from functools import lru_cache
from typing import Any

Value = dict[str, Any]
Item = dict[str, Value]

SCALAR_TYPES = frozenset({"S", "N", "B"})
SET_TYPES = {"SS": "S", "NS": "N", "BS": "B"}
ALL_TYPES = frozenset({"S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"})
# DynamoDB's type names where its messages spell them out (UpdateExpression's ADD and DELETE).
TYPE_NAMES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "SS": "STRING_SET",
    "NS": "NUMBER_SET",
    "BS": "BINARY_SET",
    "L": "LIST",
    "M": "MAP",
}

MAX_DIGITS = 38
MAX_EXPONENT = 125  # the largest adjusted exponent: 9.99...E+125
MIN_EXPONENT = -130  # the smallest: 1E-130

# DynamoDB reads numbers as Java's BigDecimal does: an optional sign, digits with an optional point,
# an optional exponent. No spaces, no "NaN"/"Infinity", no underscores (which Python's Decimal takes).
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_PLAIN_INTEGER = re.compile(r"-?[1-9]\d{0,37}\Z")

# Arithmetic (UpdateExpression's + and -, ADD) is exact within 38 digits; a result that would need
# rounding or leave the range is refused, as DynamoDB refuses it.
ARITHMETIC = Context(
    prec=MAX_DIGITS, Emax=MAX_EXPONENT, Emin=MIN_EXPONENT, traps=[Inexact, Overflow, Underflow]
)

NOT_A_NUMBER = "The parameter cannot be converted to a numeric value: {}"
TOO_PRECISE = "Attempting to store more than 38 significant digits in a Number"
OVERFLOW = "Number overflow. Attempting to store a number with magnitude larger than supported range"
EXACTLY_ONE = "must contain exactly one of the supported datatypes"
NO_TYPE = "Supplied AttributeValue is empty, " + EXACTLY_ONE
TWO_TYPES = "Supplied AttributeValue has more than one datatypes set, " + EXACTLY_ONE
INVALID = "One or more parameter values were invalid: "
UNDERFLOW = "Number underflow. Attempting to store a number with magnitude smaller than supported range"


class InvalidValue(Exception):
    """A value DynamoDB refuses: the message is the ValidationException's, in DynamoDB's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SerializationError(InvalidValue):
    """A value of the wrong JSON shape ({"N": 12}): DynamoDB answers a SerializationException."""


# ---------------------------------------------------------------------------------------- numbers


@lru_cache(maxsize=8192)
def number(text: str) -> Decimal:
    """The Decimal of a number's text, checked as DynamoDB checks it (raises InvalidValue)."""
    if _PLAIN_INTEGER.match(text):
        return Decimal(text)
    if not _NUMBER_TEXT.match(text):
        raise InvalidValue(NOT_A_NUMBER.format(text))
    value = Decimal(text)
    if not value:
        return value
    sign, digits, exponent = value.as_tuple()
    significant = len(digits)
    while significant and digits[significant - 1] == 0:
        significant -= 1
    if significant > MAX_DIGITS:
        raise InvalidValue(TOO_PRECISE)
    adjusted = value.adjusted()
    if adjusted > MAX_EXPONENT:
        raise InvalidValue(OVERFLOW)
    if adjusted < MIN_EXPONENT:
        raise InvalidValue(UNDERFLOW)
    return value


@lru_cache(maxsize=8192)
def canonical_number(text: str) -> str:
    """A valid number's text as DynamoDB returns it: plain notation, no redundant zeros, no sign on 0."""
    if _PLAIN_INTEGER.match(text):
        return text
    return number_text(number(text))


def number_text(value: Decimal) -> str:
    if not value:
        return "0"
    return format(value.normalize(ARITHMETIC_FORMAT), "f")


# normalize() rounds to its context's precision: a wide one keeps every digit of a valid number.
ARITHMETIC_FORMAT = Context(prec=MAX_DIGITS + 2)


def arithmetic(a: str, b: str, subtract: bool = False) -> str:
    """a + b (or a - b) of two valid numbers, exact, as DynamoDB's + and - and ADD compute it.
    A result that needs more than 38 digits DynamoDB refuses with its overflow message (sic: it says
    overflow for lost precision too); one out of range with the overflow or underflow message."""
    x, y = number(a), number(b)
    try:
        result = ARITHMETIC.subtract(x, y) if subtract else ARITHMETIC.add(x, y)
    except Underflow:
        raise InvalidValue(UNDERFLOW) from None
    except (Inexact, Overflow, InvalidOperation):
        raise InvalidValue(OVERFLOW) from None
    if result and result.adjusted() > MAX_EXPONENT:
        raise InvalidValue(OVERFLOW)
    if result and result.adjusted() < MIN_EXPONENT:
        raise InvalidValue(UNDERFLOW)
    return number_text(result)


# ------------------------------------------------------------------------------------- validation


def check_item(item: dict[str, Any]) -> None:
    """Raises InvalidValue for anything DynamoDB would refuse in an item's attribute values."""
    if not isinstance(item, dict):
        raise SerializationError("Start of structure or map found where not expected")
    for value in item.values():
        check_value(value)


MAX_NESTING = 32  # "DynamoDB supports nested attributes up to 32 levels deep"


def check_value(value: Any, depth: int = 0) -> None:
    """One value (recursively): exactly one known type key, a payload of the right JSON shape,
    valid numbers, non-empty sets without duplicates, NULL true, documents at most 32 levels deep."""
    if not isinstance(value, dict) or not value:
        raise InvalidValue(NO_TYPE)
    if len(value) != 1:
        raise InvalidValue(TWO_TYPES)
    ((kind, payload),) = value.items()
    if kind == "S":
        _string(payload)
    elif kind == "N":
        number(_string(payload))
    elif kind == "B":
        _binary(payload)
    elif kind == "BOOL":
        if not isinstance(payload, bool):
            raise SerializationError("Unexpected value type in payload")
    elif kind == "NULL":
        if payload is not True:
            raise InvalidValue(INVALID + "Null attribute value types must have the value of true")
    elif kind in SET_TYPES:
        _check_set(kind, payload)
    elif kind in ("L", "M"):
        if depth >= MAX_NESTING:
            raise InvalidValue(INVALID + "Nesting Levels have exceeded supported limits")
        if kind == "L" and not isinstance(payload, list):
            raise SerializationError("Start of list found where not expected")
        if kind == "M" and not isinstance(payload, dict):
            raise SerializationError("Start of structure or map found where not expected")
        for element in payload if kind == "L" else payload.values():
            check_value(element, depth + 1)
    else:
        # An unknown member is skipped by DynamoDB's reader, which then finds no type at all.
        raise InvalidValue(NO_TYPE)


def _string(payload: Any) -> str:
    if not isinstance(payload, str):
        if isinstance(payload, int | float) and not isinstance(payload, bool):
            raise SerializationError("NUMBER_VALUE cannot be converted to String")
        raise SerializationError("Unexpected value type in payload")
    return payload


def _binary(payload: Any) -> bytes:
    if not isinstance(payload, str):
        raise SerializationError("Unexpected value type in payload")
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise SerializationError(
            "Base64 encoded length is expected a multiple of 4 bytes but found: " + str(len(payload))
        ) from None


_EMPTY_SET = {
    "SS": "One or more parameter values were invalid: An string set  may not be empty",
    "NS": "One or more parameter values were invalid: An number set  may not be empty",
    "BS": "One or more parameter values were invalid: Binary sets should not be empty",
}


def _check_set(kind: str, payload: Any) -> None:
    if not isinstance(payload, list):
        raise SerializationError("Start of list found where not expected")
    if not payload:
        raise InvalidValue(_EMPTY_SET[kind])
    keys: list[Any]
    if kind == "SS":
        keys = [_string(element) for element in payload]
    elif kind == "NS":
        keys = [number(_string(element)) for element in payload]
    else:
        keys = [_binary(element) for element in payload]
    if len(set(keys)) != len(keys):
        raise InvalidValue(f"{INVALID}Input collection [{', '.join(payload)}] contains duplicates.")


# -------------------------------------------------------------------------------------- canonical


def canonical(item: dict[str, Value]) -> dict[str, Value]:
    """A copy of a valid item with its numbers as DynamoDB returns them (sets keep their order).
    Containers are copied, so the stored item shares nothing with the request's."""
    return {name: canonical_value(value) for name, value in item.items()}


def canonical_value(value: Value) -> Value:
    if "S" in value:
        return {"S": value["S"]}
    if "N" in value:
        return {"N": canonical_number(value["N"])}
    if "M" in value:
        return {"M": {name: canonical_value(element) for name, element in value["M"].items()}}
    if "L" in value:
        return {"L": [canonical_value(element) for element in value["L"]]}
    if "NS" in value:
        return {"NS": [canonical_number(element) for element in value["NS"]]}
    ((kind, payload),) = value.items()
    if kind in ("SS", "BS"):
        return {kind: list(payload)}
    return {kind: payload}


# ----------------------------------------------------------------------------- order and equality


def type_of(value: Value) -> str:
    for kind in value:
        return kind
    raise InvalidValue(NO_TYPE)


def key_of(value: Value) -> Any:
    """The sort order of a key value (S: its UTF-8 bytes, N: its Decimal, B: its bytes), comparable
    with another of the same type; DynamoDB orders binaries as unsigned bytes, as Python's bytes do."""
    if "S" in value:
        return value["S"].encode()
    if "N" in value:
        return number(value["N"])
    if "B" in value:
        return decoded(value["B"])
    raise InvalidValue(f"Only S, N and B values have an order; got {type_of(value)}")


def decoded(text: str) -> bytes:
    """A binary's bytes; short ones (the usual keys and flags) are remembered, long ones are not, so
    the cache never holds more than a few megabytes."""
    return _decoded_short(text) if len(text) <= 1024 else base64.b64decode(text)


@lru_cache(maxsize=4096)
def _decoded_short(text: str) -> bytes:
    return base64.b64decode(text)


def equal(a: Value, b: Value) -> bool:
    """DynamoDB's equality: same type, numbers numerically, binaries by their bytes, sets as sets,
    lists element by element, maps name by name."""
    kind = type_of(a)
    if kind not in b:
        return False
    x, y = a[kind], b[kind]
    if kind == "S" or kind == "BOOL" or kind == "NULL":
        return bool(x == y)
    if kind == "N":
        return x == y or number(x) == number(y)
    if kind == "B":
        return x == y or decoded(x) == decoded(y)
    if kind == "SS":
        return len(x) == len(y) and set(x) == set(y)
    if kind == "NS":
        return len(x) == len(y) and {number(e) for e in x} == {number(e) for e in y}
    if kind == "BS":
        return len(x) == len(y) and {decoded(e) for e in x} == {decoded(e) for e in y}
    if kind == "L":
        return len(x) == len(y) and all(equal(e, f) for e, f in zip(x, y, strict=True))
    if kind == "M":
        return x.keys() == y.keys() and all(equal(e, y[name]) for name, e in x.items())
    return False


# ------------------------------------------------------------------------------------------- size


def item_size(item: dict[str, Value]) -> int:
    """An item's size as DynamoDB counts it ("Item sizes and formats"): each attribute's name in
    UTF-8 bytes plus its value's size. A string: its UTF-8 bytes; a binary: its raw bytes; a number:
    about one byte per two significant digits plus one; BOOL and NULL: one byte; a set: its
    elements' sizes; a list or map: three bytes plus, for each element, one byte and its size (and a
    map element's name)."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def value_size(value: Value) -> int:
    if "S" in value:
        return _utf8_length(value["S"])
    if "N" in value:
        return _number_size(value["N"])
    if "M" in value:
        return 3 + sum(_utf8_length(name) + 1 + value_size(element) for name, element in value["M"].items())
    if "L" in value:
        return 3 + sum(1 + value_size(element) for element in value["L"])
    if "B" in value:
        return _binary_size(value["B"])
    if "SS" in value:
        return sum(_utf8_length(element) for element in value["SS"])
    if "NS" in value:
        return sum(_number_size(element) for element in value["NS"])
    if "BS" in value:
        return sum(_binary_size(element) for element in value["BS"])
    return 1  # BOOL, NULL


def _utf8_length(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


@lru_cache(maxsize=8192)
def _number_size(text: str) -> int:
    digits = number(text).as_tuple().digits
    start, end = 0, len(digits)
    while start < end and digits[start] == 0:
        start += 1
    while end > start and digits[end - 1] == 0:
        end -= 1
    return (end - start + 1) // 2 + 1


def _binary_size(text: str) -> int:
    padding = len(text) - len(text.rstrip("="))
    return len(text) * 3 // 4 - padding
