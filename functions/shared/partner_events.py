"""The partner-program events integrations send to `POST /v1/events` (SPEC 3.1), one model per type.

Unknown fields are refused (a typo must not silently drop data); amounts are exact decimals."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictStr, ValidationInfo, field_validator

from functions.shared.inputs import (
    Amount,
    ChangedLabels,
    Country,
    Currency,
    Email,
    EventTime,
    Identifier,
    IpAddress,
    Labels,
    Latitude,
    Longitude,
    OptionalCountry,
    OptionalEmail,
    OptionalIdentifier,
    OptionalIpAddress,
    OptionalText,
    Text,
    blank_to_none,
    check_amount,
)


def _payout(account: str | None) -> str | None:
    from functions.shared.domain.identity import payout_key  # not at the ingest function's cold start

    return (payout_key(account) or None) if account else None


PayoutAccount = Annotated[OptionalText, AfterValidator(_payout)]
"""A payout account, keyed as written in any format (`identity.payout_key`): null or blank is none."""
Fingerprint = Annotated[Annotated[StrictStr, Field(max_length=512)] | None, AfterValidator(blank_to_none)]
UserAgent = Annotated[Annotated[StrictStr, Field(max_length=1024)] | None, AfterValidator(blank_to_none)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Coordinates(Strict):
    lat: Latitude
    lon: Longitude


class Address(Strict):
    country: Country
    line1: OptionalText = None
    city: OptionalText = None
    region: OptionalText = None
    postal_code: OptionalText = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class Session(Strict):
    ip: IpAddress
    device_fingerprint: Fingerprint = None
    user_agent: UserAgent = None
    ip_location: Coordinates | None = None


class NewPartner(Strict):
    id: Identifier
    name: Text
    email: Email
    country: Country
    address: Address | None = None
    group: OptionalText = None
    team: OptionalText = None
    # a factory, not `[]`: a mutable default is deep-copied on every validation (scoring validates
    # each stored event again); the schema still says the default is empty
    tags: Labels = Field(default_factory=list, json_schema_extra={"default": []})
    segments: Labels = Field(default_factory=list, json_schema_extra={"default": []})
    keys: Labels = Field(
        default_factory=list, json_schema_extra={"default": []}, description="the partner's referral keys"
    )
    payout_account: PayoutAccount = None


class ChangedPartner(Strict):
    """A partner's id and only the fields that changed (null or blank: unchanged)."""

    id: Identifier
    name: OptionalText = None
    email: OptionalEmail = None
    country: OptionalCountry = None
    address: Address | None = None
    group: OptionalText = None
    team: OptionalText = None
    tags: ChangedLabels = None
    segments: ChangedLabels = None
    keys: ChangedLabels = None
    payout_account: PayoutAccount = None


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
    email: OptionalEmail = None
    name: OptionalText = None
    country: OptionalCountry = None
    ip: OptionalIpAddress = None
    device_fingerprint: Fingerprint = None


class Commission(Money):
    id: Identifier


class ApiReward(Money):
    id: Identifier
    partner_id: Identifier
    customer_id: OptionalIdentifier = None
    transaction_id: OptionalIdentifier = Field(default=None, description="absent for a bonus")


class EventBase(Strict):
    id: Identifier
    occurred_at: EventTime


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
    notes: list[str] = Field(
        default_factory=list,
        description="what scoring did other than the decision says: a reward refused because its id "
        "is already used, a removed partner's event that flags opening no case",
    )
