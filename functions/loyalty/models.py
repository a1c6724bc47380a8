"""The loyalty API's bodies and answers (SPEC 3.4). Unknown fields are refused; points are exact
integers (`10` or `10.0`, the same JSON number; never `10.5`, `"10"` or `true`). An optional field
may be absent, null or blank (SPEC 3.1): blank is absent."""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    SerializerFunctionWrapHandler,
    StrictBool,
    StrictStr,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_serializer,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from functions.shared.inputs import (
    BLANK_PATTERN,
    NOTE_PATTERN,
    Blank,
    EventTime,
    Identifier,
    Model,
    NullOrBlankAs,
    OptionalIdentifier,
    Time,
    blank_to_none,
    json_integer,
    matching,
    none_if_blank,
    readable,
    shown_or_blank,
    trim,
)
from functions.shared.replaces import DESCRIPTION as REPLACES_DESCRIPTION

MAX_POINTS = 1_000_000_000
Points = Annotated[int, Field(gt=0, le=MAX_POINTS), BeforeValidator(json_integer)]
Cap = Annotated[int, Field(ge=0, le=10**15), BeforeValidator(json_integer)]
Threshold = Annotated[int, Field(ge=0, le=10**15), BeforeValidator(json_integer)]
Note = Annotated[
    Annotated[
        StrictStr,
        Field(max_length=1000, json_schema_extra={"pattern": NOTE_PATTERN}),
        AfterValidator(readable),
        AfterValidator(shown_or_blank),
    ]
    | None,
    AfterValidator(blank_to_none),
]
"""Optional text as `inputs.OptionalText`, up to 1000 characters: null or blank is none, else trimmed."""
EVENT_NAME_PATTERN = r"^[A-Za-z0-9._:/-]{1,128}$"
EventName = Annotated[
    StrictStr,
    Field(min_length=1, max_length=128, json_schema_extra={"pattern": EVENT_NAME_PATTERN}),
    matching(EVENT_NAME_PATTERN, "letters, digits and ._:/- only"),
]
PayloadKey = Annotated[str, StringConstraints(min_length=1, max_length=64)]
PAYLOAD_TEXT_MAX = 256  # 20 entries of at most 256 characters; together `workflows.WORKFLOWS_STORED_MAX`
# what `_payload_value` holds: a number kept exactly (15 digits always are; 16 or 17 when the float
# happens to write them back, which no simpler rule says), never one stored rounded
_EXACT = (
    "a number a 64-bit float holds as written (a payload keeps its numbers so): within its range "
    "(up to about 1.8e308 in size, down to 5e-324), any of up to 15 significant digits, a longer "
    "one only if the float writes it back the same"
)


def _payload_value(value: Any) -> Any:
    """A text, a number, a boolean or null, kept as sent. A number with a fraction or an exponent
    (read as a Decimal, its digits as sent) is kept as the float that writes it back as the same
    number (`12.50` as 12.5); one a float cannot hold (`12345678901234567.5`, `1e400`) is refused,
    never stored rounded. An integer is kept whole, of any length."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if len(value) > PAYLOAD_TEXT_MAX:
            raise ValueError(f"a text of at most {PAYLOAD_TEXT_MAX} characters")
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        exact = isinstance(value, float) or Decimal(repr(number)) == value
        if not math.isfinite(number) or not exact:
            raise ValueError(_EXACT)
        return number
    raise ValueError("a text, a number, true, false or null")


PayloadValue = Annotated[
    Any,
    PlainValidator(_payload_value),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": PAYLOAD_TEXT_MAX},
                {"type": "integer"},
                {"type": "number", "description": _EXACT},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    ),
]

EarnKind = Literal["purchase", "campaign_bonus", "other"]
Aggregation = Literal["earned", "bonus", "spent"]
DateRange = Literal[
    "today", "week_to_date", "month_to_date", "year_to_date", "last_7_days", "last_30_days", "lifetime"
]
LimitBehavior = Literal["soft", "dynamic", "hard"]
Status = Literal["active", "suspended", "blocked"]
HistoryAction = Literal["suspended", "unsuspended", "blocked", "unblocked", "communication"]


class Strict(Model):
    model_config = ConfigDict(extra="forbid")


# --- optional fields: absent, null or blank (SPEC 3.1) ---------------------------------------
if TYPE_CHECKING:  # what the fields hold once read: a blank is None
    OptionalEventTime = datetime | None
    OptionalTime = datetime | None
    OptionalEarnKind = EarnKind | None
else:  # and what they take, as the schema says: the value, a blank or null
    OptionalEventTime = Annotated[EventTime | Blank | None, AfterValidator(none_if_blank)]
    OptionalTime = Annotated[Time | Blank | None, AfterValidator(none_if_blank)]
    OptionalEarnKind = Annotated[EarnKind | Blank | None, AfterValidator(none_if_blank)]


def _no_campaign(value: Any) -> None:
    if value is None or (isinstance(value, str) and not trim(value)):
        return None
    raise ValueError("only with kind campaign_bonus")


NoCampaign = Annotated[
    None,
    PlainValidator(_no_campaign),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": BLANK_PATTERN}, {"type": "null"}]}),
]
"""A `campaign_id` where none belongs: absent, null or blank."""


# --- tagged unions -------------------------------------------------------------------------
def _tagged_by(tag: str, tags: tuple[str, ...], rest: type[BaseModel]) -> WrapValidator:
    """For `Annotated[<a union tagged by `tag`>, _tagged_by(...)]`: a value whose tag is missing,
    null or not one of `tags` is refused for that, in words that list the tags, and for whatever
    `rest` (the fields every member may have, each optional) finds wrong in its other fields, so
    one answer names every bad field (pydantic alone reports the tag and nothing else)."""
    allowed = ", ".join(tags)

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if not isinstance(value, dict) or value.get(tag) in tags:
            return handler(value)
        message = f"required, one of {allowed}" if value.get(tag) is None else f"one of {allowed}"
        errors = [
            InitErrorDetails(type=PydanticCustomError("tag", message), loc=(tag,), input=value.get(tag))
        ]
        try:
            rest.model_validate({key: item for key, item in value.items() if key != tag})
        except ValidationError as error:
            errors += [
                InitErrorDetails(
                    # the message as written: a template would read the `{}` some messages quote
                    type=PydanticCustomError(e["type"], "{message}", {"message": e["msg"]}),
                    loc=e["loc"],
                    input=e["input"],
                )
                for e in error.errors()
            ]
        raise ValidationError.from_exception_data(rest.__name__, errors)

    return WrapValidator(validate)


# --- earn and spend ------------------------------------------------------------------------
LOYALTY_ID = (
    "the idempotency key: sent again with the same body, the first answer again and nothing twice; "
    "with another body, 409. Earns and spends share one id space: an id an earn used is 409 for a "
    "spend, and the reverse (a SQL export with a sequence per table prefixes them: earn-17, spend-17)"
)


class _Earn(Strict):
    id: Identifier = Field(description=LOYALTY_ID)
    customer_id: Identifier
    points: Points
    occurred_at: OptionalEventTime = Field(default=None, description="the time received when absent")


class PurchaseEarn(_Earn):
    kind: Literal["purchase", "other"]
    campaign_id: NoCampaign = Field(default=None, description="only with kind campaign_bonus")


def _campaign_named(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not trim(value)):  # blank is absent (SPEC 3.1)
        raise ValueError("required with kind campaign_bonus (blank or null is none)")
    return value


class BonusEarn(_Earn):
    kind: Literal["campaign_bonus"]
    campaign_id: Annotated[Identifier, BeforeValidator(_campaign_named)] = Field(
        description="an existing campaign of the program"
    )


class _AnyEarn(_Earn):
    """What an earn of a kind not given is checked for besides its kind."""

    campaign_id: OptionalIdentifier = None


EARN_KIND_NAMES = ("purchase", "campaign_bonus", "other")
EarnRequest = Annotated[
    Annotated[PurchaseEarn | BonusEarn, Field(discriminator="kind")],
    _tagged_by("kind", EARN_KIND_NAMES, _AnyEarn),
]
EARN_KINDS = frozenset(EARN_KIND_NAMES)


class EarnAnswer(Model):
    granted: int
    requested: int
    balance: int
    limited_by: Literal["campaign", "customer"] | None


class SpendRequest(Strict):
    id: Identifier = Field(description=LOYALTY_ID)
    customer_id: Identifier
    points: Points
    occurred_at: OptionalEventTime = Field(default=None, description="the time received when absent")


class SpendAnswer(Model):
    balance: int


# --- customers -----------------------------------------------------------------------------
class StatusNote(Strict):
    note: Note = None


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

    # no return annotation: pydantic documents a serializer's item as what it is annotated to return
    # (`dict[str, Any]`, any object), and without one as the fields above
    @model_serializer(mode="wrap")
    def _without_absent_fields(self, handler: SerializerFunctionWrapHandler):
        return {key: value for key, value in handler(self).items() if value is not None}


class HistoryPage(Model):
    items: list[HistoryItem]  # newest first
    next_cursor: str | None


class CustomerView(Model):
    customer_id: str
    status: Status
    balance: int
    aggregates: Aggregates
    history: list[HistoryItem] = Field(
        description="Every status change and communication, oldest first; when they would not fit in "
        "one answer (about 5 MB of them), the newest that do (`history_complete` false): "
        "`GET /v1/loyalty/customers/{id}/history` pages through every one."
    )
    history_complete: bool = Field(
        description="false when the oldest history entries were left out of `history` to keep the "
        "answer within what the API can return"
    )


# --- campaigns -----------------------------------------------------------------------------


class CampaignSettings(Strict):
    total_cap: Cap
    per_customer_cap: Cap
    limit_behavior: LimitBehavior
    starts_at: OptionalTime = None
    ends_at: OptionalTime = None
    replaces: OptionalTime = Field(default=None, description=REPLACES_DESCRIPTION.format("campaign"))


class CampaignListItem(Model):
    """A campaign as its program's list shows it: its settings (its figures: `GET` the campaign)."""

    id: str
    total_cap: int
    per_customer_cap: int
    limit_behavior: LimitBehavior
    starts_at: datetime | None
    ends_at: datetime | None
    updated_at: datetime


class CampaignView(CampaignListItem):
    """A campaign: its settings and its figures."""

    granted_total: int
    customers: int


class CampaignPage(Model):
    items: list[CampaignListItem]  # by id
    next_cursor: str | None


# --- workflows -----------------------------------------------------------------------------
class Trigger(Strict):
    event: Literal["points.earned"]
    kind: OptionalEarnKind = Field(default=None, description="absent: any earn")


class AggregatedFilter(Strict):
    aggregation: Aggregation
    date_range: DateRange
    customer: Literal["current", "all"]
    threshold: Threshold = Field(description="the actions run when the aggregation is strictly above it")


Payload = Annotated[dict[PayloadKey, PayloadValue], Field(max_length=20)]


OptionalPayload = Annotated[Payload, NullOrBlankAs(dict)]
"""A payload absent, null or blank: none (`{}`)."""


class Communication(Strict):
    type: Literal["communication"]
    event: EventName
    payload: OptionalPayload = {}


class Suspend(Strict):
    type: Literal["suspend"]


class Block(Strict):
    type: Literal["block"]


class _AnyStep(Strict):
    """What an action of a type not given is checked for besides its type."""

    event: EventName | None = None
    payload: OptionalPayload = {}


ACTION_TYPE_NAMES = ("communication", "suspend", "block")
WorkflowStep = Annotated[
    Annotated[Communication | Suspend | Block, Field(discriminator="type")],
    _tagged_by("type", ACTION_TYPE_NAMES, _AnyStep),
]
ACTION_TYPES = frozenset(ACTION_TYPE_NAMES)


class WorkflowSettings(Strict):
    trigger: Trigger
    filter: AggregatedFilter
    actions: Annotated[list[WorkflowStep], Field(min_length=1, max_length=10)]
    enabled: StrictBool
    replaces: OptionalTime = Field(default=None, description=REPLACES_DESCRIPTION.format("workflow"))


class WorkflowView(Model):
    id: str
    trigger: dict[str, Any]
    filter: AggregatedFilter
    actions: list[dict[str, Any]]
    enabled: bool
    updated_at: datetime


class WorkflowList(Model):
    items: list[WorkflowView]  # `items`, as every list of the API answers (all of a program's: few)
