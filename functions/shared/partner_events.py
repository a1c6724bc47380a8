"""The partner-program events integrations send to `POST /v1/events` (SPEC 3.1), one model per type.

Unknown fields are refused (a typo must not silently drop data); amounts are exact decimals."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from functions.shared.domain.commission_review import REVIEW_ID_PREFIX as COMMISSION_REVIEW_ID_PREFIX
from functions.shared.domain.commission_review import REVIEW_TYPE as COMMISSION_REVIEW_TYPE
from functions.shared.domain.linked_earlier import REVIEW_ID_PREFIX as EARLIER_REVIEW_ID_PREFIX
from functions.shared.domain.linked_earlier import REVIEW_TYPE as EARLIER_REVIEW_TYPE
from functions.shared.domain.linked_removal import REVIEW_ID_PREFIX, REVIEW_TYPE
from functions.shared.domain.model import REASON_CODES
from functions.shared.inputs import (
    NAME_MAX,
    UNPLACED,
    AbsentWhenEmpty,
    Amount,
    ChangedLabels,
    Country,
    Currency,
    Email,
    EventTime,
    Identifier,
    IgnoredWhenInvalid,
    IgnoredWhenInvalidObject,
    IpAddress,
    KnownCountry,
    Labels,
    Latitude,
    Longitude,
    OptionalCountry,
    OptionalEmail,
    OptionalIdentifier,
    OptionalIpAddress,
    OptionalReadText,
    OptionalText,
    Text,
    blank_to_none,
    check_amount,
    note_ignored,
    one_of,
    unplaced,
)


def _payout(account: str | None) -> str | None:
    """The account's key (`identity.payout_keys`: with its key before, when that differs), or none
    for a blank one or one that names no account (`identity.names_an_account`: `N/A`, `PayPal`,
    `TBD`, `0`). Its length is the key's: an IBAN padded past NAME_MAX with zero-width spaces, or
    blanks inside it, is the IBAN, as the key reads it; only a key itself longer is no account
    (ignored, `IgnoredWhenInvalid`)."""
    account = blank_to_none(account)
    if account is None:
        return None
    from functions.shared.domain.identity import names_an_account, payout_keys  # not at a cold start

    key = payout_keys(account)
    if len(key) > NAME_MAX:
        raise ValueError(f"an account of at most {NAME_MAX} letters and digits")
    return key if names_an_account(key) else None


PayoutAccount = Annotated[StrictStr | None, AfterValidator(_payout)]
"""A payout account, keyed as written in any format (`identity.payout_key`): null or blank is none."""
FINGERPRINT_KEPT = 512


def _fingerprint(value: str | None) -> str | None:
    """Blank is none; one longer than `FINGERPRINT_KEPT` characters is kept normalized
    (`identity.normalize_device`), and as the SHA-256 of that form when it is still longer: the
    same device still links, a profile keeps a short value, and padding a fingerprint (the
    fraudster's own browser reports it) hides nothing. Its length is the normalized form's: a
    blocked partner's device padded past the limit with zero-width spaces or soft hyphens is the
    device, not a digest that never meets it. (One long in bytes is kept as sent, as it was before:
    the keys it goes in hold it whole, or as a digest past DynamoDB's limits, `keys._fit`.)"""
    value = blank_to_none(value)
    if value is not None and len(value) > FINGERPRINT_KEPT:
        from functions.shared.domain.identity import normalize_device  # as `_payout`: not at import

        normalized = normalize_device(value)
        if len(normalized) <= FINGERPRINT_KEPT:
            return normalized or None
        return "sha256:" + hashlib.sha256(normalized.encode()).hexdigest()
    return value


Fingerprint = Annotated[
    StrictStr | None,
    AfterValidator(_fingerprint),
    Field(
        description=f"longer than {FINGERPRINT_KEPT} characters, kept as read (what shows nothing "
        "dropped, case folded) when that is shorter, else as its SHA-256"
    ),
]
UserAgent = Annotated[Annotated[StrictStr, Field(max_length=1024)] | None, AfterValidator(blank_to_none)]

# Optional fields detection can do without: a value that is not one is ignored, never the event
# (SPEC 3.1); scoring's notes on the event name it. Identifiers stay strict: a key sent wrong would
# attach a reward to no one.
_TEXT = "a text of at most 200 characters"
# a payout account's length is its key's (`_payout`): the letters and digits an account is read by
_PAYOUT = "a text whose letters and digits are at most 200 characters"
_LABELS = "a list of at most 50 texts of at most 200 characters"
_EMAIL = "an e-mail address"
_COUNTRY = "an ISO 3166 alpha-2 code"
_FINGERPRINT = "a text"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coordinates(Strict):
    lat: Annotated[Latitude, Field(description="a latitude in degrees, -90 to 90")]
    lon: Annotated[Longitude, Field(description="a longitude in degrees, -180 to 180")]


def _unplaced(coordinates: Coordinates) -> str | None:
    return UNPLACED if unplaced(coordinates.lat, coordinates.lon) else None


class Address(Strict):
    """Its country or nothing (the whole address is then ignored); each other part on its own."""

    country: KnownCountry
    line1: Annotated[OptionalText, IgnoredWhenInvalid("partner.address.line1", _TEXT)] = None
    city: Annotated[OptionalText, IgnoredWhenInvalid("partner.address.city", _TEXT)] = None
    region: Annotated[OptionalText, IgnoredWhenInvalid("partner.address.region", _TEXT)] = None
    postal_code: Annotated[OptionalText, IgnoredWhenInvalid("partner.address.postal_code", _TEXT)] = None
    lat: Annotated[Latitude | None, IgnoredWhenInvalid("partner.address.lat", "a latitude in degrees")] = None
    lon: Annotated[Longitude | None, IgnoredWhenInvalid("partner.address.lon", "a longitude in degrees")] = (
        None
    )

    @model_validator(mode="after")
    def _placed(self, info: ValidationInfo) -> Address:
        if unplaced(self.lat, self.lon):  # the address stays, without coordinates
            note_ignored(info, f"partner.address.lat and lon ignored: {UNPLACED}")
            self.lat = self.lon = None
        return self


_LOCATION = IgnoredWhenInvalidObject(
    "session.ip_location", "coordinates {lat, lon} in degrees", model=Coordinates, absent_when=_unplaced
)


class Session(Strict):
    ip: IpAddress
    device_fingerprint: Annotated[
        Fingerprint, IgnoredWhenInvalid("session.device_fingerprint", _FINGERPRINT)
    ] = None
    user_agent: Annotated[
        UserAgent, IgnoredWhenInvalid("session.user_agent", "a text of at most 1024 characters")
    ] = None
    ip_location: Annotated[Coordinates | None, _LOCATION] = None


_Address = Annotated[
    Address | None,
    IgnoredWhenInvalidObject("partner.address", "an address with an ISO 3166 alpha-2 country", model=Address),
]
_Group = Annotated[OptionalText, IgnoredWhenInvalid("partner.group", _TEXT)]
_Team = Annotated[OptionalText, IgnoredWhenInvalid("partner.team", _TEXT)]
_Payout = Annotated[PayoutAccount, IgnoredWhenInvalid("partner.payout_account", _PAYOUT)]


def _labels(field: str) -> IgnoredWhenInvalid:
    return IgnoredWhenInvalid(f"partner.{field}", _LABELS, [])


class NewPartner(Strict):
    id: Identifier
    name: Text
    email: Email
    country: Country
    address: _Address = None
    group: _Group = None
    team: _Team = None
    # a factory, not `[]`: a mutable default is deep-copied on every validation (scoring validates
    # each stored event again); the schema still says the default is empty
    tags: Annotated[Labels, _labels("tags")] = Field(default_factory=list, json_schema_extra={"default": []})
    segments: Annotated[Labels, _labels("segments")] = Field(
        default_factory=list, json_schema_extra={"default": []}
    )
    keys: Annotated[Labels, _labels("keys")] = Field(
        default_factory=list,
        json_schema_extra={"default": []},
        # its own words first, then the limit every such list has (an integration tester sent 3,500
        # keys and lost them all to a limit the document did not say)
        description=f"the partner's referral keys: {_LABELS}; null or blank is absent; any other value "
        "(more than 50 of them, say) is ignored as if absent, the whole list (the event's notes say so)",
    )
    payout_account: _Payout = None


class ChangedPartner(Strict):
    """A partner's id and only the fields that changed (null or blank: unchanged)."""

    id: Identifier
    name: Annotated[OptionalText, IgnoredWhenInvalid("partner.name", _TEXT)] = None
    email: Annotated[OptionalEmail, IgnoredWhenInvalid("partner.email", _EMAIL)] = None
    country: Annotated[OptionalCountry, IgnoredWhenInvalid("partner.country", _COUNTRY)] = None
    address: _Address = None
    group: _Group = None
    team: _Team = None
    tags: Annotated[ChangedLabels, IgnoredWhenInvalid("partner.tags", _LABELS)] = None
    segments: Annotated[ChangedLabels, IgnoredWhenInvalid("partner.segments", _LABELS)] = None
    keys: Annotated[ChangedLabels, IgnoredWhenInvalid("partner.keys", _LABELS)] = None
    payout_account: _Payout = None


class Money(Strict):
    """An amount in a currency: at most the currency's decimal places."""

    currency: Currency
    amount: Amount

    @field_validator("amount")
    @classmethod
    def _currency_places(cls, amount: Decimal, info: ValidationInfo) -> Decimal:
        return check_amount(amount, info.data.get("currency"))


class Transaction(Money):
    id: Identifier


class Customer(Strict):
    id: Identifier
    email: Annotated[OptionalEmail, IgnoredWhenInvalid("customer.email", _EMAIL)] = None
    name: Annotated[OptionalReadText, IgnoredWhenInvalid("customer.name", _TEXT)] = None
    country: Annotated[OptionalCountry, IgnoredWhenInvalid("customer.country", _COUNTRY)] = None
    ip: Annotated[OptionalIpAddress, IgnoredWhenInvalid("customer.ip", "an IPv4 or IPv6 address")] = None
    device_fingerprint: Annotated[
        Fingerprint, IgnoredWhenInvalid("customer.device_fingerprint", _FINGERPRINT)
    ] = None


class Commission(Money):
    id: Identifier


class ApiReward(Money):
    id: Identifier
    partner_id: Identifier
    customer_id: OptionalIdentifier = None
    transaction_id: OptionalIdentifier = Field(default=None, description="absent for a bonus")


# the ids the system's own events begin with: a removal's reviews (`linked_removal.review_id`), the
# reviews of partners that gave an identifier after an earlier event's (`linked_earlier.review_id`),
# and a purchase's of its partner for a large commission (`commission_review.review_id`)
SYSTEMS_ID_PREFIXES = (REVIEW_ID_PREFIX, EARLIER_REVIEW_ID_PREFIX, COMMISSION_REVIEW_ID_PREFIX)


def _not_the_systems(value: str, info: ValidationInfo) -> str:
    """An id the system's own events begin with (`SYSTEMS_ID_PREFIXES`) is not an integration's:
    taken first, a review under it would never be recorded. One stored before its prefix was
    reserved is scored as it was accepted (`STORED`)."""
    taken = next((prefix for prefix in SYSTEMS_ID_PREFIXES if value.startswith(prefix)), None)
    if taken is not None and not (info.context or {}).get("stored"):
        raise ValueError(
            f"{value!r} begins with {taken!r}, a prefix the system keeps for its own events (the "
            "reviews it records of partners sharing an identifier): choose another id"
        )
    return value


EventId = Annotated[
    Identifier,
    AfterValidator(_not_the_systems),
    Field(
        description="unique per program, the idempotency key; not beginning with "
        + " or ".join(f"`{prefix}`" for prefix in SYSTEMS_ID_PREFIXES)
    ),
]


class EventBase(Strict):
    id: EventId
    occurred_at: EventTime


class PartnershipCreated(EventBase):
    type: Literal["partnership.created"]
    partner: NewPartner
    session: Session


KNOWN_ACTIVITIES = ("login", "logout", "profile_update", "payout_update", "email_change", "password_change")
_FOLDED_ACTIVITIES = {activity.replace("_", ""): activity for activity in KNOWN_ACTIVITIES}


def _known_activity(value: str) -> str:
    """A known activity written in another case or with other separators (`PAYOUT_UPDATE`,
    `payout-update`, `payoutUpdate`) is that activity: compared as written, it was scored as a name
    of the integration's own, and a payout change before a large reward went unseen."""
    return _FOLDED_ACTIVITIES.get(re.sub(r"[-_.:]", "", value.lower()), value)


Activity = Annotated[
    Identifier,
    AfterValidator(_known_activity),
    Field(
        max_length=64,
        description="what the partner did: one of "
        + ", ".join(f"`{a}`" for a in KNOWN_ACTIVITIES)
        + " (in any case, with `_`, `-`, `.` or no separator: `PAYOUT_UPDATE`, `payoutUpdate`), or "
        "another of the integration's own names (SPEC 3.1 lists examples), scored as a change "
        "that is not sensitive",
        examples=list(KNOWN_ACTIVITIES),
    ),
]


class AccountUpdated(EventBase):
    type: Literal["account.updated"]
    partner: ChangedPartner
    session: Session
    activity: Activity


class TransactionCreated(EventBase):
    type: Literal["transaction.created"]
    transaction: Transaction
    partner_id: Identifier
    customer: Customer
    # a LEFT JOIN with no commission row sends one of nulls: no reward
    reward: Annotated[Commission | None, AbsentWhenEmpty(Commission)] = None


class RewardCreated(EventBase):
    type: Literal["reward.created"]
    reward: ApiReward


PartnerEvent = Annotated[
    PartnershipCreated | AccountUpdated | TransactionCreated | RewardCreated,
    Field(discriminator="type"),
]
EVENT_TYPES = frozenset({"partnership.created", "account.updated", "transaction.created", "reward.created"})


class ReviewedLink(BaseModel):
    kind: Literal["email", "device", "payout"]  # `links.GUARDED_JOINS`
    value: str


class RemovedBy(BaseModel):
    partner_id: str
    case_id: str


class LinkedRemovalReview(BaseModel):
    """A review of a partner on a removed partner's strong links (`linked_removal`): an internal
    event a removal records, never one an integration may send (it is not a `PartnerEvent`, so
    `POST /v1/events` refuses its type), scored by the score function like any event."""

    model_config = ConfigDict(extra="forbid")

    id: str
    type: Literal["partner.linked_to_removed"]
    occurred_at: datetime
    partner_id: str
    removed: RemovedBy
    links: list[ReviewedLink]


class EarlierEvent(BaseModel):
    subject_type: Literal["partner"]
    subject_id: str
    event_id: str
    flagged_at: datetime | None = None  # since when that partner was flagged once it was decided


class LinkedEarlierReview(BaseModel):
    """A review of a partner that gave an e-mail address, a device or a payout account after another
    partner did, scored before that partner's event arrived (`linked_earlier`): an internal event
    recorded with the earlier event's decision, never one an integration may send, scored like any
    event."""

    model_config = ConfigDict(extra="forbid")

    id: str
    type: Literal["partner.linked_to_earlier"]
    occurred_at: datetime
    partner_id: str
    earlier: EarlierEvent
    links: list[ReviewedLink]


class ReviewedCommission(BaseModel):
    id: str
    amount: Decimal
    currency: str


class CommissionReview(BaseModel):
    """A review of a partner whose large commission came with a purchase just after it changed its
    payout details (`commission_review`): an internal event the purchase records, never one an
    integration may send, scored as a `reward.created` of that money is."""

    model_config = ConfigDict(extra="forbid")

    id: str
    type: Literal["partner.commission_after_payout_change"]
    occurred_at: datetime
    partner_id: str
    event_id: str  # the purchase's
    reward: ReviewedCommission


class Accepted(BaseModel):
    event_id: str
    status: Literal["queued", "scored", "failed"]


class Reason(BaseModel):
    code: Annotated[str, one_of(REASON_CODES)]
    detail: str


class Decision(BaseModel):
    score: int = Field(ge=0, le=100)
    action: Literal["allow", "flag"]
    reasons: list[Reason]


class EventStatus(BaseModel):
    event_id: str
    type: str = Field(
        description="the event's type: one an integration sends (`POST /v1/events`), or "
        f"`{REVIEW_TYPE}`, the review the system records itself when a partner sharing an e-mail "
        "address, a device or a payout account with this one is removed (its id begins "
        f"`{REVIEW_ID_PREFIX}`), or `{EARLIER_REVIEW_TYPE}`, its review of a partner that gave an "
        "e-mail address, a device or a payout account after another partner whose event arrived "
        "later, within a day (its "
        f"id begins `{EARLIER_REVIEW_ID_PREFIX}`), or `{COMMISSION_REVIEW_TYPE}`, its review of a "
        "partner whose large commission came with a purchase just after it changed its payout details "
        f"(its id begins `{COMMISSION_REVIEW_ID_PREFIX}`); `POST /v1/events` refuses those types and "
        "prefixes",
        examples=[*sorted(EVENT_TYPES), REVIEW_TYPE, EARLIER_REVIEW_TYPE, COMMISSION_REVIEW_TYPE],
    )
    status: Literal["queued", "scored", "failed"]
    decision: Decision | None = None
    case_id: str | None = None
    failure: str | None = None
    notes: list[str] = Field(
        default_factory=list,
        description="what scoring did other than the decision says: an optional value it ignored as "
        "invalid (`customer.email ignored: not an e-mail address`), a reward refused because its id is "
        "already used, a removed partner's event that flags opening no case",
    )
