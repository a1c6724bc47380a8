"""When a retried request is "the same body" (SPEC 3.1: an id used again with the same body is a
retry, answered as before; with another body, a 409).

Two bodies are the same document when they differ only in what JSON and the contract say carries
no meaning: key order and spacing, how a number is written (`100`, `100.0` and `1e2` are one
number; a body is read with its numbers' digits, so `5.000000000000000000001` is not `5`), and an
optional field sent as `null` or left out (SPEC 3.1: the same). A text stays a text: `"5"` is not
`5`, and two spellings of one instant are two texts.

It reads a body as the system reads it (`AS_READ`, the thirty-third session): text is trimmed of
the blanks around it (`inputs.trim`: `"USD "` is `"USD"`), and a member whose value is null, blank
text, or an object of only such members (`{}`, a SQL export's `{"id": null, "amount": null}`) is
absent, so a retry that sends a reward of nulls where the first attempt sent none is the same event.

`document_hash` is what is stored, in the newest form. Hashes stored in an older form (`FORMS`,
and `legacy_hash`: key order and spacing only) still match their own bodies (`same_document`), so
a retry across a deploy is never a conflict.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from functions.shared.inputs import trim
from functions.shared.problems import api_time

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


Form = Literal["as_read", "blanks_absent", "nulls_absent"]
AS_READ: Form = "as_read"
"""Text trimmed; null, blank text and objects of only such members absent (the thirty-third session)."""
FORMS: tuple[Form, ...] = (AS_READ, "blanks_absent", "nulls_absent")
"""Every form a stored hash may be in, newest first: `blanks_absent`, null and blank text members
absent (until the thirty-third session); `nulls_absent`, null members absent (before that)."""


def document_hash(body: Any, kind: str | None = None, *, form: Form = AS_READ) -> str:
    """`kind`: what the body asks for, when one id space holds several (a loyalty earn or spend).
    `form`: how the body is read (`FORMS`); new documents are hashed in the newest."""
    text = _canonical({"kind": kind, "body": body} if kind is not None else body, form)
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_hash(body: Any, kind: str | None = None) -> str:
    document = {"kind": kind, "body": body} if kind is not None else body
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def same_document(stored_hash: str, body: Any, kind: str | None = None) -> bool:
    """Whether a body is the one stored under the hash, in any form hashes were made in."""
    return stored_hash == legacy_hash(body, kind) or any(
        stored_hash == document_hash(body, kind, form=form) for form in FORMS
    )


def _absent(value: Any, form: Form) -> bool:
    """Whether an object's member with this value is as if not sent (SPEC 3.1: an optional value
    may be absent, null or blank)."""
    if value is None:
        return True
    if isinstance(value, str):
        return form != "nulls_absent" and not trim(value)
    if isinstance(value, dict):  # `{}`, `{"lat": null}`, `{"a": {"b": ""}}`: a LEFT JOIN's missing row
        return form == AS_READ and all(_absent(part, form) for part in value.values())
    return False


def _canonical(value: Any, form: Form) -> str:
    """One text per document: objects by sorted key without their absent members (`_absent`),
    numbers in their shortest exact form, texts as JSON writes them (trimmed, `AS_READ`)."""
    if isinstance(value, dict):
        members = sorted((str(k), v) for k, v in value.items() if not _absent(v, form))
        return "{" + ",".join(f"{json.dumps(k)}:{_canonical(v, form)}" for k, v in members) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(v, form) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float | Decimal):
        return _number(value)
    text = str(value)
    return json.dumps(trim(text) if form == AS_READ else text)


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


def as_kept(document: dict[str, Any]) -> dict[str, Any]:
    """A document as a store keeps it and gives it back: JSON, what JSON has no type for written as
    `json_default` writes it (a number read with its digits as its text, a time in RFC 3339). The
    DynamoDB store packs a body so (`pack_json`); the in-memory one keeps it so too, or a body read
    back would be numbers there and text on DynamoDB, and a retry sending `"12.5"` for a first
    `12.5` would be the same event on one and 409 on the other."""
    return json.loads(json.dumps(document, default=json_default))


def json_default(value: Any) -> Any:
    """How what JSON has no type for is written in what this system sends and keeps (notifications
    on the bus and to webhooks, audit details): a time in RFC 3339, UTC, as the API's answers write
    it (`problems.api_time`: `2026-12-03T20:09:06.752746Z`, `2026-12-03T20:09:06Z` without a
    fraction; a contract tester's: a webhook's `flagged_at`, "the case's", was written
    `...06.000000Z` where the case said `...06Z`; `str` gave `2026-12-03 20:09:06.752746+00:00`,
    which strict parsers refuse), a day as `2026-12-03`, a number read with its digits (`Decimal`) in plain
    notation (`1e2` as `100`, never `1E+2`: no amount's decimal string, so a stored body read back
    with its numbers as text, `inputs.STORED`, would refuse it), anything else as its text."""
    if isinstance(value, datetime):
        return api_time(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))  # no zone: UTC
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal) and value.is_finite() and -40 < int(value.as_tuple().exponent) < 40:
        return format(value, "f")  # within bounds: `1e999999999` would be a billion digits
    return str(value)
