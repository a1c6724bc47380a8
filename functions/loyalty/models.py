"""The loyalty API's bodies and answers (SPEC 3.4). Unknown fields are refused; points are exact
integers (`10` or `10.0`, the same JSON number; never `10.5`, `"10"` or `true`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_serializer,
)

from functions.shared.inputs import (
    NON_BLANK_PATTERN,
    EventTime,
    Identifier,
    Model,
    Time,
    json_integer,
    matching,
    trim,
)

MAX_POINTS = 1_000_000_000
Points = Annotated[int, Field(gt=0, le=MAX_POINTS), BeforeValidator(json_integer)]
Cap = Annotated[int, Field(ge=0, le=10**15), BeforeValidator(json_integer)]
Threshold = Annotated[int, Field(ge=0, le=10**15), BeforeValidator(json_integer)]
Note = Annotated[
    StrictStr,
    Field(max_length=1000, json_schema_extra={"pattern": NON_BLANK_PATTERN}),
    matching(NON_BLANK_PATTERN, "must not be blank"),
    AfterValidator(trim),
]
EVENT_NAME_PATTERN = r"^[A-Za-z0-9._:/-]{1,128}$"
EventName = Annotated[
    StrictStr,
    Field(min_length=1, max_length=128, json_schema_extra={"pattern": EVENT_NAME_PATTERN}),
    matching(EVENT_NAME_PATTERN, "letters, digits and ._:/- only"),
]
PayloadKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
# 20 entries of at most 256 characters: 50 workflows stay well inside one 400 KB item
PayloadValue = (
    Annotated[str, StringConstraints(max_length=256)]
    | StrictInt
    | Annotated[float, Field(allow_inf_nan=False)]
    | StrictBool
    | None
)

EarnKind = Literal["purchase", "campaign_bonus", "other"]
Aggregation = Literal["earned", "bonus", "spent"]
DateRange = Literal[
    "today", "week_to_date", "month_to_date", "year_to_date", "last_7_days", "last_30_days", "lifetime"
]
LimitBehavior = Literal["soft", "dynamic", "hard"]
Status = Literal["active", "suspended", "blocked"]
HistoryAction = Literal["suspended", "unsuspended", "blocked", "unblocked", "communication"]
ACTION_TYPES = frozenset({"communication", "suspend", "block"})


class Strict(Model):
    model_config = ConfigDict(extra="forbid")


# --- earn and spend ------------------------------------------------------------------------
class _Earn(Strict):
    id: Identifier
    customer_id: Identifier
    points: Points
    occurred_at: EventTime | None = Field(default=None, description="the time received when absent")


class PurchaseEarn(_Earn):
    kind: Literal["purchase", "other"]
    campaign_id: None = Field(default=None, description="only with kind campaign_bonus")


class BonusEarn(_Earn):
    kind: Literal["campaign_bonus"]
    campaign_id: Identifier = Field(description="an existing campaign of the program")


EarnRequest = Annotated[PurchaseEarn | BonusEarn, Field(discriminator="kind")]
EARN_KINDS = frozenset({"purchase", "other", "campaign_bonus"})


class EarnAnswer(Model):
    granted: int
    requested: int
    balance: int
    limited_by: Literal["campaign", "customer"] | None


class SpendRequest(Strict):
    id: Identifier
    customer_id: Identifier
    points: Points
    occurred_at: EventTime | None = Field(default=None, description="the time received when absent")


class SpendAnswer(Model):
    balance: int


# --- customers -----------------------------------------------------------------------------
class StatusNote(Strict):
    note: Note | None = None


class RangeFigures(Model):
    today: int
    week_to_date: int
    month_to_date: int
    year_to_date: int
    last_7_days: int
    last_30_days: int
    lifetime: int


class Aggregates(Model):
    earned: RangeFigures
    bonus: RangeFigures
    spent: RangeFigures


class HistoryItem(Model):
    """One status change or communication; `note` when one was given, `event` and `payload` for a
    communication (absent otherwise)."""

    at: datetime
    action: HistoryAction
    by: str = Field(description="the actor's name, or workflow:<id>")
    note: str | None = None
    event: str | None = None
    payload: dict[str, Any] | None = None

    @model_serializer(mode="wrap")
    def _without_absent_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return {key: value for key, value in handler(self).items() if value is not None}


class HistoryPage(Model):
    items: list[HistoryItem]  # newest first
    next_cursor: str | None


class CustomerView(Model):
    customer_id: str
    status: Status
    balance: int
    aggregates: Aggregates
    history: list[HistoryItem]


# --- campaigns -----------------------------------------------------------------------------
class CampaignSettings(Strict):
    total_cap: Cap
    per_customer_cap: Cap
    limit_behavior: LimitBehavior
    starts_at: Time | None = None
    ends_at: Time | None = None


class CampaignView(Model):
    id: str
    total_cap: int
    per_customer_cap: int
    limit_behavior: LimitBehavior
    starts_at: datetime | None
    ends_at: datetime | None
    granted_total: int
    customers: int
    updated_at: datetime


# --- workflows -----------------------------------------------------------------------------
class Trigger(Strict):
    event: Literal["points.earned"]
    kind: EarnKind | None = Field(default=None, description="absent: any earn")


class AggregatedFilter(Strict):
    aggregation: Aggregation
    date_range: DateRange
    customer: Literal["current", "all"]
    threshold: Threshold = Field(description="the actions run when the aggregation is strictly above it")


class Communication(Strict):
    type: Literal["communication"]
    event: EventName
    payload: Annotated[dict[PayloadKey, PayloadValue], Field(max_length=20)] = {}


class Suspend(Strict):
    type: Literal["suspend"]


class Block(Strict):
    type: Literal["block"]


WorkflowStep = Annotated[Communication | Suspend | Block, Field(discriminator="type")]


class WorkflowSettings(Strict):
    trigger: Trigger
    filter: AggregatedFilter
    actions: Annotated[list[WorkflowStep], Field(min_length=1, max_length=10)]
    enabled: StrictBool


class WorkflowView(Model):
    id: str
    trigger: dict[str, Any]
    filter: AggregatedFilter
    actions: list[dict[str, Any]]
    enabled: bool
    updated_at: datetime


class WorkflowList(Model):
    workflows: list[WorkflowView]
