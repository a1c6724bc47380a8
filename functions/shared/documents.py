"""When a retried request is "the same body" (SPEC 3.1: an id used again with the same body is a
retry, answered as before; with another body, a 409).

Two bodies are the same document when they differ only in what JSON and the contract say carries
no meaning: key order and spacing, how a number is written (`100`, `100.0` and `1e2` are one
number; a body is read with its numbers' digits, so `5.000000000000000000001` is not `5`), and an
optional field sent as `null` or left out (SPEC 3.1: the same). A text stays a text: `"5"` is not
`5`, and two spellings of one instant are two texts.

`document_hash` is what is stored. Hashes stored before it (`legacy_hash`: key order and spacing
only) still match their own bodies, so a retry across the deploy is not a conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from functions.shared.inputs import trim
from functions.shared.storage.keys import timestamp

_INT_DIGITS = 4000  # under Python's own limit on the digits of an int read from text (4300)


def _json_int(text: str) -> int | Decimal:
    """An integer of more digits than Python reads as an int is valid JSON all the same: a Decimal,
    which validation then refuses by its range (422), not a body refused as malformed (400)."""
    return int(text) if len(text) <= _INT_DIGITS else Decimal(text)


def _json_number(text: str) -> Decimal:
    """A number with a fraction or an exponent, digits as sent. One whose exponent is past what a
    Decimal holds (`1e99999999999999999999`) is no number any field takes: refused as the body."""
    try:
        return Decimal(text)
    except ArithmeticError:
        raise ValueError(f"the number {text[:40]} has an exponent out of any range this API reads") from None


def _not_json(constant: str) -> Any:
    """`NaN`, `Infinity` and `-Infinity`, which Python's parser takes and RFC 8259 does not."""
    raise ValueError(f"{constant} is not a JSON value (RFC 8259 has no NaN or infinity)")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose every key is named once: with a key twice, what it means depends on the
    parser (the first value, the last, an error), so it means nothing here."""
    document = dict(pairs)
    if len(document) != len(pairs):
        twice = Counter(key for key, _ in pairs).most_common(1)[0][0]
        raise ValueError(f"the key {json.dumps(twice)[:100]} appears more than once in one object")
    return document


def read_json(text: str | bytes) -> Any:
    """A body as this system reads it: a number with a fraction or an exponent as a Decimal, its
    digits as sent (`5.000000000000000000001` is not the float 5.0, nor `1e400` infinity), and an
    integer of any length. ValueError for what is not JSON (RFC 8259): also `NaN` and `Infinity`,
    which Python's parser takes, and an object with a key twice, whose meaning is the parser's."""
    return json.loads(
        text,
        parse_float=_json_number,
        parse_int=_json_int,
        parse_constant=_not_json,
        object_pairs_hook=_object,
    )


def document_hash(body: Any, kind: str | None = None, *, blanks_absent: bool = True) -> str:
    """`kind`: what the body asks for, when one id space holds several (a loyalty earn or spend).
    A member that is null or blank text is as if absent (an optional value sent blank is not sent:
    SPEC 3.1), so a retry that sends `""` where the first attempt left the field out is the same
    document. `blanks_absent=False`: the form hashes had before that (`same_document`)."""
    text = _canonical({"kind": kind, "body": body} if kind is not None else body, blanks_absent)
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_hash(body: Any, kind: str | None = None) -> str:
    document = {"kind": kind, "body": body} if kind is not None else body
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def same_document(stored_hash: str, body: Any, kind: str | None = None) -> bool:
    """Whether a body is the one stored under the hash, in any form hashes were made in."""
    return stored_hash in (
        document_hash(body, kind),
        document_hash(body, kind, blanks_absent=False),
        legacy_hash(body, kind),
    )


def _canonical(value: Any, blanks_absent: bool = True) -> str:
    """One text per document: objects by sorted key without their null (and blank text) members,
    numbers in their shortest exact form, texts as JSON writes them."""
    if isinstance(value, dict):
        members = sorted(
            (str(k), v)
            for k, v in value.items()
            if v is not None and not (blanks_absent and isinstance(v, str) and not trim(v))
        )
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical(v, blanks_absent)}" for k, v in members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v, blanks_absent) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float | Decimal):
        return _number(value)
    return json.dumps(str(value))


def _number(value: int | float | Decimal) -> str:
    """Its significant digits and exponent (`1E2`, `55E-1`): one text per value, read off its digits
    (no arithmetic: `1e999999999` is past what Decimal computes with, and a billion digits long)."""
    number = Decimal(value) if not isinstance(value, float) else Decimal(repr(value))
    if not number.is_finite():
        return json.dumps(str(number))  # not JSON; never in a body read by `read_json`
    sign, digits, exponent = number.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return "0"
    exponent = int(exponent) + len(digits) - len(significant)
    return f"{'-' if sign else ''}{significant}E{exponent}"


def json_default(value: Any) -> Any:
    """How what JSON has no type for is written in what this system sends and keeps (notifications
    on the bus and to webhooks, audit details): a time in RFC 3339, UTC (`2026-12-03T20:09:06.752746Z`,
    the form of every other time it sends; `str` gave `2026-12-03 20:09:06.752746+00:00`, which
    strict parsers refuse), a day as `2026-12-03`, a number read with its digits (`Decimal`) in plain
    notation (`1e2` as `100`, never `1E+2`: no amount's decimal string, so a stored body read back
    with its numbers as text, `inputs.STORED`, would refuse it), anything else as its text."""
    if isinstance(value, datetime):  # the form of the keys' times (`keys.timestamp`), read as UTC
        return timestamp(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite() and -40 < int(value.as_tuple().exponent) < 40:
        return format(value, "f")  # within bounds: `1e999999999` would be a billion digits
    return str(value)
