"""Field types of the API's request bodies (SPEC 3.1), shared by every function.

Each type validates exactly what its JSON Schema says, so the OpenAPI document is as strict as the
API and no stricter: JSON types are never coerced (a number is not an id, `"51.5"` is not a
latitude), patterns are checked with Python's `re` (the engine the schema's readers most likely use
to generate data too), and lengths count characters before anything is trimmed.

- Required text has a non-blank character; optional text may be absent, `null` or blank (then it
  is `None`). Names and lines: 200 characters. Text is any Unicode.
- Identifiers: 1 to 128 characters that a URL path carries as they are (letters and digits of any
  script and `_-.~()'!*:@,;=+&$<>[]{}|^`): never `#` (the storage's key separator), `/`, `?`, `%`,
  blanks or control characters, so every id sent in a body can be read back by its path.
- Times: RFC 3339 with an offset, from 2000-01-01 (`check_event_time` adds the upper bound, which
  depends on the clock).
- Amounts: a JSON number or a decimal string, > 0, at most 10^12, with at most the currency's
  decimal places (`check_amount`).
"""

from __future__ import annotations

import ipaddress
import math
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StrictStr,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, core_schema

from functions.shared.countries import country_codes
from functions.shared.errors import InvalidInput
from functions.shared.invisible import HIDDEN_MARKS, INVISIBLE, unshown
from functions.shared.money import currencies, decimal_places

NAME_MAX = 200
EMAIL_MAX = 254
IDENTIFIER_MAX = 128
EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_AMOUNT = Decimal(10) ** 12

# Patterns mean the same in Python and in the ECMA-262 dialect of JSON Schema: no \w, \d or \s
# (Unicode in one, ASCII in the other), blanks spelled out as ECMA's \s, `$` as the very end.
BLANKS = "\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
BLANK_CHARACTERS = (
    "".join(chr(c) for c in (*range(9, 14), 32, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029, 0x202F))
    + "\u205f\u3000\ufeff"
)
# `.` and `..` alone are path segments a URL resolves away (RFC 3986 5.2.4: browsers send
# /v1/loyalty/customers/.. as /v1/loyalty/), so no id read back by its URL can be one of them
IDENTIFIER_PATTERN = r"^(?!\.\.?$)[A-Za-z0-9_\-.~()'!*:@,;=+&$<>\[\]{}|^]{1,128}$"
# What shows nothing, beyond blanks (`invisible.NOT_SHOWN`: control characters, Unicode's
# default-ignorable characters such as zero-width spaces and joiners, direction marks, the soft hyphen,
# variation selectors and Hangul fillers, and the braille blank), in the basic plane. Text people must
# see (a required name, an actor, a written reason) has a character outside it and the blanks: one
# definition for every such rule, and for the identity keys, which read text without it.
NON_BLANK_PATTERN = f"[^{BLANKS}{INVISIBLE}]"
# A name shown to people as the one who did something (a key's actor in audit trails): printable,
# no control character (a line break, an escape sequence) and no mark that reorders or hides text
# (the joiners U+200C and U+200D are not such marks: Persian, Indic scripts and emoji are written with them)
# (what hides: a soft hyphen, the Mongolian vowel separator, a zero-width space, a word joiner and
# the invisible operators, the interlinear annotation marks, a BOM; what reorders: direction marks,
# the Arabic letter mark among them, embeddings, overrides, isolates). `HIDDEN_MARKS` is the part
# beyond the controls, which fraudctl's `terminal_safe` and the console's `shownText` show as code
# points too (the console's copy is JavaScript: a test holds it to this one).
UNPRINTABLE = "\\u0000-\\u001f\\u007f-\\u009f" + HIDDEN_MARKS
ACTOR_PATTERN = f"^[^{UNPRINTABLE}]*[^{UNPRINTABLE}{BLANKS}{INVISIBLE}][^{UNPRINTABLE}]*$"
BLANK_PATTERN = f"^[{BLANKS}]*$"
# Text people write for other people (a dispute's reason, a verdict's note), shown to the security
# team, in audit trails and in webhooks: line breaks and tabs allowed, no other control character
# and no mark that reorders text; written text has something visible (not only blanks, zero-width
# characters or direction marks)
TEXT_UNPRINTABLE = "\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"
NOTE_PATTERN = f"^[^{TEXT_UNPRINTABLE}]*$"
WRITTEN_PATTERN = f"^[^{TEXT_UNPRINTABLE}]*[^{TEXT_UNPRINTABLE}{BLANKS}{INVISIBLE}][^{TEXT_UNPRINTABLE}]*$"
# blanks around an address are allowed and trimmed (a phone keyboard's autocomplete adds one after it)
# An at sign and full stops as IDNA and an East Asian keyboard write them too (`＠`, `。`, `．`, `｡`):
# the keys read them as `@` and `.` (`identity.email_keys`), and so does the form
EMAIL_AT, EMAIL_DOTS = "@\uff20", ".\u3002\uff0e\uff61"
EMAIL_PATTERN = (
    f"^[{BLANKS}]*[^{EMAIL_AT}{BLANKS}]+[{EMAIL_AT}][^{EMAIL_AT}{BLANKS}]+[{EMAIL_DOTS}]"
    f"[^{EMAIL_AT}{BLANKS}]+[{BLANKS}]*$"
)
# blanks around a code are trimmed as around any text: a CHAR(2) or CHAR(3) column pads it (`"GB "`)
COUNTRY_PATTERN = f"^[{BLANKS}]*[A-Za-z]{{2}}[{BLANKS}]*$"
TIME_PATTERN = (
    # 1999-12-31 too, with an offset west of UTC (`23:30:00-01:00` is an instant of 2000)
    r"^(2[0-9]{3}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})"
    r"|1999-12-31[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?-[0-9]{2}:[0-9]{2})$"
)
# at most 6 places that count, and any zeros after them: a DECIMAL(18,8) column exports `12.50000000`
AMOUNT_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,6}0*)?$"


class Model(BaseModel):
    """The base of the API's bodies and answers: each builds its validator and serializer when
    first used, not when its module is imported (a request uses one or two of its function's many
    models; issue 15's cold starts)."""

    model_config = ConfigDict(defer_build=True)


def one_of(values: Iterable[str]) -> WithJsonSchema:
    """Text documented as one of the domain's own `values` (an answer's status, a query's filter),
    for `Annotated[str, one_of(...)]`: a generator gets the type, a reader the values. Documented,
    not checked here: an answer shows what was stored, and a query's values are checked by its
    service, which answers in words that depend on the query (`cases.list_cases`)."""
    return WithJsonSchema({"type": "string", "enum": list(values)})


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A schema pattern for Python: ECMA's `$` is the end of the text (Python's also matches before
    a final newline)."""
    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") else pattern)


def trim(value: str) -> str:
    return value.strip(BLANK_CHARACTERS)


def matching(pattern: str, message: str) -> AfterValidator:
    compiled = compile_pattern(pattern)

    def check(value: str) -> str:
        if not compiled.search(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


def blank_to_none(value: str | None) -> str | None:
    return (trim(value) or None) if value is not None else None


Blank = Annotated[
    StrictStr,
    Field(max_length=NAME_MAX, json_schema_extra={"pattern": BLANK_PATTERN}),
    matching(BLANK_PATTERN, "blank"),
]
"""What an optional field may be instead of a value (then it is None)."""


T = TypeVar("T")


def none_if_blank(value: T) -> T | None:
    """An optional field's value once read: a blank is none (SPEC 3.1)."""
    return None if isinstance(value, str) and not trim(value) else value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not trim(value))


def empty(value: Any) -> bool:
    """What an optional value may be instead of one (SPEC 3.1: absent, null or blank, and blank is
    absent): null, blank text, or an object whose members are only those, as a SQL export's LEFT
    JOIN that found no row sends one (`{"lat": null, "lon": null}`, `{}`). Only its own members: one
    that is an object or a list (`{"lat": {}}`) is a value of the wrong type, sent wrong, not absent."""
    if isinstance(value, dict):
        return all(_blank(part) for part in value.values())
    return _blank(value)


# --- text ----------------------------------------------------------------------------------
_SHOWS = compile_pattern(NON_BLANK_PATTERN)
_NOT_BLANK_BEFORE = compile_pattern(f"[^{BLANKS}]")  # the rule until the twentieth session


def _shows(value: str, info: ValidationInfo) -> str:
    """Something a person sees; a stored body is held to the rule it was accepted under (it is
    validated again when scored: an event accepted then is never refused now)."""
    if _SHOWS.search(value) or (_stored(info) and _NOT_BLANK_BEFORE.search(value)):
        return value
    raise ValueError("must not be blank (a character that shows, not only blanks or zero-width marks)")


Text = Annotated[
    StrictStr,
    Field(max_length=NAME_MAX, json_schema_extra={"pattern": NON_BLANK_PATTERN}),
    AfterValidator(_shows),
    AfterValidator(trim),
]
"""Required text: at least one character that shows, trimmed."""
OptionalText = Annotated[
    Annotated[StrictStr, Field(max_length=NAME_MAX)] | None, AfterValidator(blank_to_none)
]
"""Optional text: absent, null or blank is None; otherwise trimmed."""


def as_shown(text: str) -> str:
    """Text as it shows: without what shows nothing (`invisible.unshown`), its blanks one space each
    (a tab or a line break parts words, as the identity keys read it: `identity._shown`)."""
    return " ".join(unshown(" ".join(text.split())).split())


def read_within(most: int) -> AfterValidator:
    """At most `most` characters as read: text within it as sent is kept as sent; longer text is
    taken as it shows (`as_shown`) when that is within it. An identifier the keys read so (a
    customer's name or address: `identity`) padded past its limit with zero-width spaces or blanks
    is still that identifier, not a value ignored whole that no key ever meets."""

    def check(value: str) -> str:
        if len(value) <= most:
            return value
        if len(shown := as_shown(value)) > most:
            raise ValueError(f"at most {most} characters, what shows nothing aside")
        return shown

    return AfterValidator(check)


OptionalReadText = Annotated[
    Annotated[StrictStr, read_within(NAME_MAX)] | None, AfterValidator(blank_to_none)
]
"""Optional text that an identity key reads (a customer's name): `OptionalText`, its length as read."""
_NAME_UNPRINTABLE = compile_pattern(f"[{UNPRINTABLE}]")
_NAME_SHOWS = compile_pattern(f"[^{UNPRINTABLE}{BLANKS}{INVISIBLE}]")


def printable(value: str) -> str:
    """`ACTOR_PATTERN`, its reason said: the first character that is not shown, named, or blank
    (the pattern holds exactly when neither is found)."""
    found = _NAME_UNPRINTABLE.search(value)
    if found:
        code = ord(found.group())
        kind = (
            "a control character"
            if code < 0x20 or 0x7F <= code <= 0x9F
            else "a mark that reorders the text around it"
            if code in (0x061C, 0x200E, 0x200F) or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069
            else "a zero-width character"
        )
        raise ValueError(f"contains U+{code:04X}, {kind}, which is not shown: remove it")
    if not _NAME_SHOWS.search(value):
        raise ValueError("must not be blank (a character that shows, not only blanks or zero-width marks)")
    return value


ActorName = Annotated[
    StrictStr,
    Field(min_length=1, max_length=NAME_MAX, json_schema_extra={"pattern": ACTOR_PATTERN}),
    AfterValidator(printable),
    AfterValidator(trim),
]
"""Who did something, as audit trails show it: not blank, no control or reordering character."""
TEXT_MAX = 2000
_UNREADABLE = compile_pattern(f"[{TEXT_UNPRINTABLE}]")
_VISIBLE = compile_pattern(f"[^{TEXT_UNPRINTABLE}{BLANKS}{INVISIBLE}]")


def readable(value: str) -> str:
    """Text a person can read as written (no control character but line breaks and tabs, no mark
    that reorders text), its first offending character named: the person who typed it cannot see
    it (a right-to-left override even turns what they see around)."""
    found = _UNREADABLE.search(value)
    if found:
        character = found.group()
        kind = (
            "a mark that reverses the text around it"
            if 0x202A <= ord(character) <= 0x2069
            else "a control character"
        )
        raise ValueError(f"contains U+{ord(character):04X}, {kind}, which is not shown: remove it")
    return value


def written(value: str) -> str:
    if not _VISIBLE.search(readable(value)):
        raise ValueError("must say something: it is blank, or only characters that are not shown")
    return value


def shown_or_blank(value: str) -> str:
    """Optional text that shows nothing (only blanks and characters that are not shown, a lone
    zero-width space) is blank, as a blank one is: a note no one can read is no note (a loyalty
    tester's: `"\u200b"` was kept in a suspension's history as its note)."""
    return value if _VISIBLE.search(unshown(value)) else ""  # beyond the basic plane too (tags)


def none_written(note: str | None) -> str:
    return note or ""


if TYPE_CHECKING:  # what it holds once read: none is ""
    Note = str
else:  # and what it takes, as the schema says: text, a blank or null (SPEC 3.1's optional)
    Note = Annotated[
        Annotated[
            StrictStr,
            Field(max_length=TEXT_MAX, json_schema_extra={"pattern": NOTE_PATTERN}),
            AfterValidator(readable),
            AfterValidator(shown_or_blank),
            AfterValidator(trim),
        ]
        | None,
        AfterValidator(none_written),
    ]
"""An optional note to other people: absent, null or blank is none ("")."""
WrittenText = Annotated[
    StrictStr,
    Field(max_length=TEXT_MAX, json_schema_extra={"pattern": WRITTEN_PATTERN, "minLength": 1}),
    AfterValidator(written),
    AfterValidator(trim),
]
"""Text to other people that must say something (a dispute's reason)."""
IDENTIFIER_RULE = (
    "ASCII letters, digits and _-.~()'!*:@,;=+&$<>[]{}|^ only (no blanks, '#', '/', '?' or '%'), "
    "and not '.' or '..' alone"
)
Identifier = Annotated[
    StrictStr,
    Field(min_length=1, max_length=IDENTIFIER_MAX, json_schema_extra={"pattern": IDENTIFIER_PATTERN}),
    matching(IDENTIFIER_PATTERN, IDENTIFIER_RULE),
]
OptionalIdentifier = Annotated[Identifier | Blank | None, AfterValidator(none_if_blank)]


def _labels(value: list[str]) -> list[str]:
    return [trim(item) for item in value if trim(item)]


_LabelList = Annotated[
    list[Annotated[StrictStr, Field(max_length=NAME_MAX)]],
    Field(max_length=50),
    AfterValidator(_labels),
]
Labels = Annotated[_LabelList | None, AfterValidator(lambda v: v or [])]
"""An optional list of short texts (tags, segments, referral keys): null is empty, blank entries
are dropped."""
ChangedLabels = _LabelList | None
"""The same in a change: null leaves the list as it was."""


def _email_form(value: str) -> str:
    """`EMAIL_PATTERN`'s rule, read in one pass: blanks around, then a local part and a domain with a
    dot inside it, no blank and no other `@`. The pattern itself backtracks: `a@` followed by
    thousands of `a.` and an `@` took it seconds (41 s at 60 KB), once a length no longer bounded
    the text before it ran (`read_within`)."""
    local, at, domain = trim(value).translate(_EMAIL_SIGNS).partition("@")
    if not (local and at and len(domain) >= 3 and "." in domain[1:-1] and "@" not in domain) or any(
        c in _BLANK_SET for c in local + domain
    ):
        raise ValueError("not an e-mail address")
    return value


_EMAIL_SIGNS = str.maketrans({**dict.fromkeys(EMAIL_AT, "@"), **dict.fromkeys(EMAIL_DOTS, ".")})


_BLANK_SET = frozenset(BLANK_CHARACTERS)
_Email = Annotated[
    StrictStr,
    Field(max_length=EMAIL_MAX, json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(_email_form),
    AfterValidator(trim),
]
Email = _Email
_ReadEmail = Annotated[
    StrictStr,
    Field(json_schema_extra={"pattern": EMAIL_PATTERN}),
    AfterValidator(_email_form),
    read_within(EMAIL_MAX),
    AfterValidator(trim),
]
OptionalEmail = Annotated[_ReadEmail | Blank | None, AfterValidator(none_if_blank)]
"""An optional address (a customer's, a partner's change): its length as read (`read_within`), so
that one padded past 254 characters with zero-width spaces is the address its key reads."""


# Codes integrations send for a country that ISO 3166 names otherwise: `UK`, reserved at the United
# Kingdom's request and what its own domain says, is GB. Taken as sent, a British partner's every
# session was `ip_country_mismatch` ("IP ... is in GB, the reported country is UK"). `EL`, reserved
# likewise, is Greece in the European Union's own data (VAT numbers, VIES, Eurostat): GR.
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


def _codes(schema: dict[str, Any], codes: list[str]) -> None:
    """A code's schema: the codes (upper or lower case), listed, or one of them with blanks around."""
    listed = codes + [code.lower() for code in codes]
    padded = f"^[{BLANKS}]*({'|'.join(listed)})[{BLANKS}]*$"
    schema["anyOf"] = [{"enum": listed}, {"pattern": padded, "description": "blanks around are trimmed"}]


def _country(value: str, info: ValidationInfo) -> str:
    """A required country: one stored before codes were checked is scored as it was accepted."""
    value = trim(value)
    if _stored(info):
        return COUNTRY_ALIASES.get(value.upper(), value.upper())  # its form only, until the 24th session
    return _known_country(value)


def _known_country(value: str) -> str:
    """A country that names one, always: where it is optional (a customer's, an address's), one of
    no country is ignored (`IgnoredWhenInvalid`) in scoring as at ingest, never kept to stand for
    the subject's country."""
    value = trim(value)
    code = COUNTRY_ALIASES.get(value.upper(), value.upper())
    if value not in (value.upper(), value.lower()):
        raise ValueError("an ISO 3166 alpha-2 code, in upper or lower case, e.g. GB")
    if code not in country_codes():  # `ZZ` would hide where a partner is
        raise ValueError(f"an ISO 3166 alpha-2 code of a country, e.g. GB ({value} names none)")
    return code


def _country_schema(schema: dict[str, Any]) -> None:
    """The codes themselves (upper or lower case, and UK), listed when the document is built."""
    _codes(schema, sorted({*country_codes(), *COUNTRY_ALIASES}))


_COUNTRY_FIELD = Field(
    json_schema_extra=_country_schema,
    description="ISO 3166 alpha-2, upper or lower case (UK is taken as GB, EL as GR); blanks around "
    "are trimmed",
)
_COUNTRY_FORM = matching(COUNTRY_PATTERN, "an ISO 3166 alpha-2 code, e.g. GB")
Country = Annotated[StrictStr, _COUNTRY_FIELD, _COUNTRY_FORM, AfterValidator(_country)]
KnownCountry = Annotated[StrictStr, _COUNTRY_FIELD, _COUNTRY_FORM, AfterValidator(_known_country)]
OptionalCountry = Annotated[KnownCountry | Blank | None, AfterValidator(none_if_blank)]


def _currency(value: str, info: ValidationInfo) -> str:
    value = trim(value)
    code = value.upper()
    if _stored(info) and len(code) == 3 and code.isascii() and code.isalpha():
        return code  # accepted by its form until the twentieth session: scored as it was accepted
    if value not in (code, code.lower()) or code not in currencies():
        raise ValueError("an ISO 4217 currency code, in upper or lower case, e.g. EUR")
    return code


def _currency_schema(schema: dict[str, Any]) -> None:
    """The codes themselves (upper or lower case), listed when the document is built: the table is
    read then, not when a function starts."""
    _codes(schema, sorted(currencies()))


Currency = Annotated[
    StrictStr,
    Field(
        json_schema_extra=_currency_schema,
        description="ISO 4217, upper or lower case; blanks around are trimmed",
    ),
    AfterValidator(_currency),
]


def canonical_ip(value: str) -> str:
    """An IP address as every store and signal reads it (ValueError for none): canonical, an
    IPv4-mapped IPv6 address as its IPv4 address."""
    try:
        socket.inet_pton(socket.AF_INET, value)
        return value  # a dotted quad inet_pton takes is already canonical (no leading zeros, no blanks)
    except (OSError, ValueError):
        pass
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise ValueError(_not_an_address(value)) from None
    # a dual-stack server reports its IPv4 clients as IPv4-mapped IPv6 (`::ffff:81.2.69.160`): the
    # same client, linked, located and judged as the IPv4 address it is
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)


# an address with the port a proxy header sometimes carries (Azure's X-Forwarded-For does):
# `81.2.69.160:51234`, `[2001:db8::1]:443`
_WITH_PORT = re.compile(r"^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([0-9A-Fa-f:.]+)\]):\d{1,5}$")


def _not_an_address(value: str) -> str:
    """Why `value` is no IP address, and what to send instead when it is one with its port."""
    found = _WITH_PORT.match(value)
    if found:
        return f"not an IPv4 or IPv6 address: send the address without its port ({found[1] or found[2]})"
    return "not an IPv4 or IPv6 address"


_Ip = Annotated[
    StrictStr,
    AfterValidator(lambda value: canonical_ip(trim(value))),  # padded by a CHAR(n) column, as text is
    WithJsonSchema({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}),
]
IpAddress = _Ip
_PaddedIp = Annotated[StrictStr, AfterValidator(lambda value: canonical_ip(trim(value)))]
OptionalIpAddress = Annotated[_PaddedIp | Blank | None, AfterValidator(none_if_blank)]
"""An optional address (a customer's): blanks around it are trimmed, as around optional text, so
one a CHAR(n) column pads is the address, where it was ignored; a body's hash reads text trimmed
(`documents.AS_READ`), so a retry that trims it must mean the same event."""


# --- what detection can do without ---------------------------------------------------------
@dataclass(frozen=True)
class IgnoredWhenInvalid:
    """`Annotated[<an optional type>, IgnoredWhenInvalid(field, expected)]`: an optional field that
    detection can do without (SPEC 3.1: "an event is never refused for what detection can do
    without"). A value the type does not take is taken as absent (`absent`) and named in the
    validation context's `ignored` list, which scoring keeps as the event's notes. Its schema says
    what is expected and that anything else is ignored."""

    field: str
    expected: str
    absent: Any = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # the type first, any other value second: a valid value never leaves pydantic's core (a
        # wrapping validator would call Python for every field of every event scored)
        ignored = core_schema.with_info_plain_validator_function(self._ignore)
        return core_schema.union_schema([handler(source), ignored], mode="left_to_right")

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        ignored = "null or blank is absent; any other value is ignored as if absent"
        ignored += " (the event's notes say so)"
        return {"description": f"{self.expected}; {ignored}"}

    def _ignore(self, value: Any, info: ValidationInfo) -> Any:
        # null or blank is absent, not sent wrong: nothing to say (`"lat": ""`, an address of nulls)
        if not empty(value):
            note_ignored(info, f"{self.field} ignored: not {self.expected}")
        return list(self.absent) if isinstance(self.absent, list) else self.absent


# The keys of an object a model does not name, named one note each at most this many: an object of
# thousands of them (within the body's 64 KiB) made a note each, kept on the event's item, which then
# passed DynamoDB's 400 KB and failed its scoring: an event accepted and never scored.
UNKNOWN_KEYS_NAMED = 10


@dataclass(frozen=True, kw_only=True)
class IgnoredWhenInvalidObject(IgnoredWhenInvalid):
    """`IgnoredWhenInvalid` for an optional object of named fields (`Annotated[<model> | None,
    IgnoredWhenInvalidObject(field, expected, model=<model>)]`: an address, coordinates). A value
    that is not such an object, or lacks a field the model requires, is ignored whole, and its
    fields' values each as their own types say; a key the model does not name (`zip`, `line2`) is
    ignored alone, the rest of the object kept, and the notes name it (`partner.address.zip
    ignored: not a field of partner.address (country, line1, ...)`): SPEC 3.1, an event is never
    refused for what detection can do without, and a misspelt field must not cost the whole object
    without a word. Its schema names the model's fields, each taking any value."""

    model: type[BaseModel]
    # why a valid object is still taken as absent (None: it is not), said in its note
    absent_when: Callable[[Any], str | None] | None = None

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        # a wrapping validator: an object is seen whole before its model judges it (one Python call
        # for each object sent, where `IgnoredWhenInvalid`'s union calls none for a valid value)
        return core_schema.with_info_wrap_validator_function(self._validate, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        model = handler.resolve_ref_schema(handler(self.model.__pydantic_core_schema__))
        required = set(model.get("required", ()))
        properties = {}
        for name, field in model["properties"].items():
            # any value is taken (no type, no bounds): one a required field's type does not take
            # ignores the whole object, one another field's type does not take that field alone
            kept = {key: part for key, part in field.items() if key in ("title", "description", "default")}
            if name in required:
                kept["description"] = (
                    f"{field.get('description', name)}; required: without it, or with any other "
                    f"value, {self.field} is ignored as if absent"
                )
            properties[name] = kept
        return {
            "description": f"{self.expected}; null, blank, or an object whose every field is null or "
            "blank is absent; any other value is ignored as if absent, and a field it does not name is "
            "ignored alone (the event's notes say so)",
            "properties": properties,
        }

    def _validate(
        self, value: Any, validate: core_schema.ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        fields = self.model.model_fields
        if isinstance(value, dict) and (unknown := [key for key in value if key not in fields]):
            ignored = (info.context or {}).get("ignored")
            if ignored is not None:
                named = f"not a field of {self.field} ({', '.join(fields)})"
                ignored += [f"{self.field}.{key} ignored: {named}" for key in unknown[:UNKNOWN_KEYS_NAMED]]
                if len(unknown) > UNKNOWN_KEYS_NAMED:
                    more = len(unknown) - UNKNOWN_KEYS_NAMED
                    ignored.append(f"{more} more keys of {self.field} ignored: not fields of {self.field}")
            value = {key: part for key, part in value.items() if key not in unknown}
        if empty(value):  # every field null or blank (a LEFT JOIN's missing row): absent, silently
            return self._ignore(value, info)
        try:
            found = validate(value)
        except ValidationError:
            return self._ignore(value, info)
        if found is not None and self.absent_when is not None and (why := self.absent_when(found)):
            note_ignored(info, f"{self.field} ignored: {why}")
            return self.absent
        return found


@dataclass(frozen=True)
class AbsentWhenEmpty:
    """`Annotated[<model> | None, AbsentWhenEmpty(<model>)]`: an optional object that is checked
    when sent (a transaction's `reward`, whose fields are all required), except one whose every
    field is null or blank, or `{}`: a SQL export's LEFT JOIN that found no row, which is no object
    at all (SPEC 3.1: optional means it may be absent or null). A field it does not name still
    refuses it, as in any object. Its schema says so beside the model's."""

    model: type[BaseModel]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._absent, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        blank = {"anyOf": [{"type": "null"}, {"type": "string", "pattern": BLANK_PATTERN}]}
        nothing = {
            "type": "object",
            "properties": {name: blank for name in self.model.model_fields},
            "additionalProperties": False,
            "description": "every field null or blank (or none): as if absent",
        }
        kept = handler(schema)  # the model or null
        return {"anyOf": [*(kept["anyOf"] if set(kept) == {"anyOf"} else [kept]), nothing]}

    def _absent(self, value: Any) -> Any:
        known = isinstance(value, dict) and all(key in self.model.model_fields for key in value)
        return None if known and empty(value) else value


@dataclass(frozen=True)
class NullOrBlankAs:
    """`Annotated[<type>, NullOrBlankAs(<factory>)]`: an optional value whose absent form is one the
    field holds (a communication's `payload`: `{}`), and null or blank text is read as that (SPEC
    3.1: optional means absent, null or blank) before the type checks anything else, so a value
    sent wrong is named by the type's own errors alone. Its schema says so beside the type's."""

    factory: Callable[[], Any]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self._absent, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> dict[str, Any]:
        return {"anyOf": [handler(schema), {"type": "null"}, {"type": "string", "pattern": BLANK_PATTERN}]}

    def _absent(self, value: Any) -> Any:
        return self.factory() if _blank(value) else value


# --- numbers -------------------------------------------------------------------------------
STORED = {"stored": True}
"""Validation context for a body the API accepted and stored: its numbers may come back as text,
and a rule made stricter since it was accepted does not refuse it now (`_stored`)."""


def _stored(info: ValidationInfo) -> bool:
    return bool((info.context or {}).get("stored"))


def _json_number(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, bool) or (isinstance(value, str) and not _stored(info)):
        raise ValueError("a JSON number")
    return value


# past it a number is read as 10^18 (or its negative) without building its digits: beyond every
# integer field's own bound (`Field(le=...)`, each has one), which pydantic then names, as for any
# number over it (a points value of 10^20 was told "under 10^18", and 10^17 then "at most 10^9")
_HUGE_DIGITS = 18


def _json_integer(value: Any) -> Any:
    """A JSON integer: `10` or `10.0` (the same number in JSON), never `10.5`, `"10"` or `true`;
    a body read with its numbers' digits (`Decimal`) is judged on them: `5.000000000000000000001`
    is not a whole number, though the nearest float is."""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("a JSON integer")
    if isinstance(value, Decimal):  # judged on its digits: no arithmetic past Decimal's limits
        if not value.is_finite():
            raise ValueError("a whole number")
        _, digits, exponent = value.as_tuple()
        if int(exponent) < 0 and any(digits[int(exponent) :]):
            raise ValueError("a whole number")
        if value and value.adjusted() >= _HUGE_DIGITS:  # `1e999999999`: whole, a billion digits
            return -(10**_HUGE_DIGITS) if value < 0 else 10**_HUGE_DIGITS
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError("a whole number")
        return int(value)
    return value


def json_integer(value: Any) -> Any:
    """For `Annotated[int, Field(<constraints first, so the schema shows them>), json_integer]`."""
    return _json_integer(value)


Latitude = Annotated[float, Field(ge=-90, le=90), BeforeValidator(_json_number)]
Longitude = Annotated[float, Field(ge=-180, le=180), BeforeValidator(_json_number)]

# 0, 0 ("Null Island", in the Gulf of Guinea): where a location defaults to when none was found (a
# geo-IP lookup's miss, a column's default, a client's unset fields), never where a partner is or
# connects from: taken as absent, and the notes say so (an integration tester's: an honest
# household's session "5,727 km from the reported address", flagged)
UNPLACED = "0, 0 is where a missing location defaults to, not a place"


def unplaced(lat: float | None, lon: float | None) -> bool:
    return lat == 0 and lon == 0


def note_ignored(info: ValidationInfo, note: str) -> None:
    """Names a value taken as absent in the validation context's `ignored` list (the event's notes)."""
    ignored = (info.context or {}).get("ignored")
    if ignored is not None:
        ignored.append(note)


# --- times ---------------------------------------------------------------------------------
_TIME = compile_pattern(TIME_PATTERN)
_AMOUNT = compile_pattern(AMOUNT_PATTERN)


_YEAR_WRITTEN = re.compile(r"([0-9]{4})-[0-9]{2}-[0-9]{2}[Tt]")
_TIME_EXPECTED = "an RFC 3339 time with an offset, from 2000-01-01, e.g. 2026-11-05T08:00:00Z"
# the forms other systems write for a time, each told what to change (SPEC 3.1: a clear error)
_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_CLOCK = r"[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
_SPACED = re.compile(rf"({_DATE}) ([0-9]{{2}}:.*)")
_SPACED_OFFSET = re.compile(rf"({_DATE}[Tt]{_CLOCK}) +([Zz]|[+-][0-9]{{2}}:?[0-9]{{2}})")
_ALMOST = (
    # `2026-05-20T10:00:00`, Python's `isoformat()` of a naive time: which instant is it?
    (re.compile(rf"{_DATE}[Tt]{_CLOCK}"), "add the offset the time is written in: Z for UTC, or +hh:mm"),
    # `2026-05-20T10:00:00+0000`, ISO 8601's basic offset
    (re.compile(rf"{_DATE}[Tt]{_CLOCK}[+-][0-9]{{4}}"), "write the offset with a colon, as +hh:mm"),
    # `2026-05-20 10:00:00+00`, PostgreSQL's print of a time with its zone: the hours alone
    (re.compile(rf"{_DATE}[Tt]{_CLOCK}[+-][0-9]{{2}}"), "write the offset's minutes too, as +hh:mm"),
    # `2026-05-20 10:00:00 UTC`, BigQuery's: a zone's name, not an offset
    (re.compile(rf"{_DATE}[Tt]{_CLOCK} ?(UTC|GMT)", re.IGNORECASE), "write Z for UTC, not its name"),
    # `2026-05-20T10:00Z`, a time to the minute (ISO 8601 allows it, RFC 3339 does not)
    (
        re.compile(rf"{_DATE}[Tt][0-9]{{2}}:[0-9]{{2}}([Zz]|[+-][0-9]{{2}}:?[0-9]{{2}})?"),
        "write the seconds too, as hh:mm:ss (10:00:00)",
    ),
    (re.compile(_DATE), "a date and a time of day, not a date alone"),
)


_LEAP_SECOND = re.compile(r"(.*T[0-9]{2}:[0-9]{2}:)60(\.[0-9]+)?(\+.*|-.*)")


def _time_refused(value: Any) -> str:
    """What is wrong with a time the pattern refuses, said so that the sender can mend it."""
    if not isinstance(value, str):
        return _TIME_EXPECTED
    changes = []
    if value.strip(BLANK_CHARACTERS) != value:  # `" 2026-05-20T10:00:00Z"`: a time is not trimmed as text is
        changes.append("remove the blanks around it")
        value = value.strip(BLANK_CHARACTERS)
    if spaced := _SPACED.fullmatch(value):
        # `2026-05-20 10:00:00Z`, an SQL export's: RFC 3339 lets an application choose the space,
        # the document's `date-time` (JSON Schema's reading of RFC 3339) does not
        changes.append("write T between the date and the time")
        value = f"{spaced[1]}T{spaced[2]}"
    if offset := _SPACED_OFFSET.fullmatch(value):  # `10:00:00 +00:00`, as a database prints it
        changes.append("write the offset right after the time, without a space")
        value = f"{offset[1]}{offset[3]}"
    changes += [change for form, change in _ALMOST if form.fullmatch(value)]
    return "; ".join([_TIME_EXPECTED, *changes]) if changes else _TIME_EXPECTED


def _event_time(value: Any, far_future: str) -> datetime:
    if not isinstance(value, str) or not _TIME.match(value):
        if isinstance(value, str) and (year := _YEAR_WRITTEN.match(value)) and int(year[1]) >= 3000:
            # `9999-12-31T23:59:59Z`, a "never" of other systems: its form is fine, its year is not
            raise ValueError(far_future.format(year=year[1]))
        raise ValueError(_time_refused(value))
    written = value.upper().replace("Z", "+00:00")
    if leap := _LEAP_SECOND.fullmatch(written):
        # RFC 3339 writes a leap second as second 60, which Python's times cannot hold: read as the
        # last instant of its minute, before the next one (the order of events is kept)
        written = f"{leap[1]}59.999999{leap[3]}"
    try:
        at = datetime.fromisoformat(written)
    except ValueError:
        raise ValueError("not a valid date and time") from None
    if at < EARLIEST:  # `2000-01-01T00:00:00+05:00` is 1999 in UTC: the moment, not the year as written
        raise ValueError("before 2000-01-01T00:00:00Z")
    return at


def _time_type(description: str, far_future: str) -> Any:
    schema = {"type": "string", "format": "date-time", "pattern": TIME_PATTERN, "description": description}
    return Annotated[
        datetime, BeforeValidator(lambda value: _event_time(value, far_future)), WithJsonSchema(schema)
    ]


Time = _time_type(
    "RFC 3339 with an offset, from 2000-01-01",
    "a time before the year 3000, not in {year} (leave an optional end out for none)",
)
# when it happened: a "never" (`9999-12-31`) is told the bounds `check_event_time` holds it to
EventTime = _time_type(
    "RFC 3339 with an offset, from 2000-01-01 to 5 minutes after the time received",
    "a time from 2000-01-01 to 5 minutes after now, not in {year}",
)


def check_event_time(at: datetime | None, now: datetime, field: str = "occurred_at") -> None:
    """The bounds of SPEC 3.1: not before 2000-01-01, not more than 5 minutes in the future."""
    if at is None:
        return
    if at < EARLIEST or at > now + FUTURE_TOLERANCE:
        message = "must be from 2000-01-01 to 5 minutes after now"
        raise InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


# --- amounts -------------------------------------------------------------------------------
_STORED_NUMBER = re.compile(r"[0-9]+\.[0-9]+")  # a JSON number's digits as a stored body keeps them


def _amount(value: Any, info: ValidationInfo) -> Decimal:
    # a JSON number is an int, a float, or a Decimal where the body was read with `parse_float`
    # (ingest keeps a number's digits so): the synchronous decision scores that body as read; the
    # queue reads it back from the stored body as text, where `10.0000000` keeps its seven places
    # (its value, not its writing, decides: the currency's places below)
    if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
        raise ValueError('a JSON number or a decimal string, e.g. "12.50"')
    if (
        isinstance(value, str)
        and not _AMOUNT.match(value)
        and not (_stored(info) and _STORED_NUMBER.fullmatch(value))
    ):
        raise ValueError(_amount_text_refused(value))
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ValueError("not a number") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT:
        raise ValueError("must be more than 0 and at most 10^12")
    return amount


def _amount_text_refused(text: str) -> str:
    """Why a decimal string is not an amount, as precisely as its form tells ("-5" is a number, but
    not more than 0)."""
    plain = re.fullmatch(r"([+-]?)([0-9]+)(?:\.([0-9]+))?", text)
    if plain is None:
        return 'a decimal string of digits, e.g. "12.50"'
    sign, whole, places = plain.groups()
    if sign == "-" or not (int(whole) or int(places or "0")):
        return "must be more than 0 and at most 10^12"
    if sign == "+":
        return 'digits without a sign, e.g. "12.50"'
    if places and len(places.rstrip("0")) > 6:
        return f"at most 6 decimal places, not {len(places.rstrip('0'))} (and at most the currency's)"
    if len(whole) > 13 and int(whole) <= 10**12:  # leading zeros: the value is fine, its writing is not
        return f"at most 13 digits before the point, not {len(whole)}"
    return "must be more than 0 and at most 10^12"


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 10**12},
                {"type": "string", "pattern": AMOUNT_PATTERN},
            ],
            "description": "> 0, at most 10^12, with at most the currency's decimal places",
        }
    ),
]


def check_amount(amount: Decimal, currency: str | None) -> Decimal:
    """At most the currency's decimal places (for a field validator that has the currency)."""
    if currency is None:
        return amount
    places = decimal_places(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ValueError(f"{currency} amounts have at most {places} decimal places")
    return amount
