"""The partner-program events integrations send to `POST /v1/events` (SPEC 3.1), one model per type.

Unknown fields are refused (a typo must not silently drop data); amounts are exact decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    StringConstraints,
)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$"),
]
Email = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


Country = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=r"^[A-Z]{2}$")]
Currency = Annotated[str, BeforeValidator(_upper), StringConstraints(pattern=r"^[A-Z]{3}$")]
Amount = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=6)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Fingerprint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=512)]
Labels = Annotated[list[Text], Field(max_length=50)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coordinates(Strict):
    lat: Latitude
    lon: Longitude


class Address(Strict):
    line1: Text
    city: Text
    region: Text
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    country: Country
    lat: Latitude | None = None
    lon: Longitude | None = None


class Session(Strict):
    ip: IPvAnyAddress
    device_fingerprint: Fingerprint
    user_agent: Annotated[str, StringConstraints(max_length=1024)] | None = None
    ip_location: Coordinates | None = None


class NewPartner(Strict):
    id: Identifier
    name: Text
    email: Email
    country: Country
    address: Address
    group: Text | None = None
    team: Text | None = None
    tags: Labels = []
    segments: Labels = []
    payout_account: Text | None = None


class ChangedPartner(Strict):
    """A partner's id and only the fields that changed."""

    id: Identifier
    name: Text | None = None
    email: Email | None = None
    country: Country | None = None
    address: Address | None = None
    group: Text | None = None
    team: Text | None = None
    tags: Labels | None = None
    segments: Labels | None = None
    payout_account: Text | None = None


class Transaction(Strict):
    id: Identifier
    amount: Amount
    currency: Currency


class Customer(Strict):
    id: Identifier
    email: Email
    name: Text | None = None
    country: Country
    ip: IPvAnyAddress
    device_fingerprint: Fingerprint


class Commission(Strict):
    id: Identifier
    amount: Amount
    currency: Currency


class ApiReward(Strict):
    id: Identifier
    partner_id: Identifier
    customer_id: Identifier | None = None
    transaction_id: Identifier
    amount: Amount
    currency: Currency


class EventBase(Strict):
    id: Identifier
    occurred_at: AwareDatetime


class PartnershipCreated(EventBase):
    type: Literal["partnership.created"]
    partner: NewPartner
    session: Session


Activity = Literal["login", "logout", "profile_update", "payout_update", "email_change", "password_change"]


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
    reward: Commission | None = None


class RewardCreated(EventBase):
    type: Literal["reward.created"]
    reward: ApiReward


PartnerEvent = Annotated[
    PartnershipCreated | AccountUpdated | TransactionCreated | RewardCreated,
    Field(discriminator="type"),
]
EVENT_TYPES = frozenset({"partnership.created", "account.updated", "transaction.created", "reward.created"})


class Accepted(BaseModel):
    event_id: str
    status: Literal["queued", "scored", "failed"]


class Reason(BaseModel):
    code: str
    detail: str


class Decision(BaseModel):
    score: int = Field(ge=0, le=100)
    action: Literal["allow", "flag"]
    reasons: list[Reason]


class EventStatus(BaseModel):
    event_id: str
    type: str
    status: Literal["queued", "scored", "failed"]
    decision: Decision | None = None
    case_id: str | None = None
    failure: str | None = None
