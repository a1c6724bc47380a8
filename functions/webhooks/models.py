"""What the webhooks routes take and answer (SPEC 6). A secret is in the answer that creates it or
rotates it, never in a listing or a read."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StrictBool

from functions.shared.domain.webhooks import ATTEMPTS_KEPT, NOTIFICATION_NAMES, HeldBack, NotificationName
from functions.shared.inputs import Model, one_of
from functions.shared.replaces import DESCRIPTION as REPLACES_DESCRIPTION
from functions.shared.replaces import Seen


class PutWebhook(Model):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, Field(min_length=1, max_length=2048, description="https:// to a public address")]
    events: Annotated[list[NotificationName], Field(min_length=1, max_length=len(NOTIFICATION_NAMES))]
    enabled: StrictBool = True  # `"false"` is not false: 422
    replaces: Seen = Field(default=None, description=REPLACES_DESCRIPTION.format("webhook"))


class WebhookView(Model):
    id: str
    url: str
    events: list[Annotated[str, one_of(NOTIFICATION_NAMES)]]
    enabled: bool
    created_at: datetime
    updated_at: datetime
    disabled_reason: str | None = None
    receiver_silent_since: datetime | None = Field(
        default=None,
        description="its receiver has not answered a try since then (several in a row): its deliveries "
        "wait, one try at a time finding out whether it is back; null while it answers",
    )
    receiver_slow_since: datetime | None = Field(
        default=None,
        description="its receiver's tries have taken 3 seconds or more since then: tries to the "
        "program's slow receivers go one at a time; null once a try takes less, 10 minutes or more "
        "after its latest slow one",
    )
    secret: str | None = Field(
        default=None, description="whsec_...: in the answer that creates the webhook only"
    )


class WebhookPage(Model):
    items: list[WebhookView]


class SecretRotated(Model):
    id: str
    secret: str = Field(description="the new secret, shown this once")
    previous_secret_valid_until: datetime = Field(description="the old secret keeps signing until then")


class AttemptView(Model):
    number: int
    at: datetime
    answer_code: int | None
    outcome: Literal["delivered", "retry", "failed", "gone"]


class DeliveryView(Model):
    id: str
    notification_id: str
    type: Annotated[str, one_of(NOTIFICATION_NAMES)]
    status: Literal["pending", "delivered", "failed"]
    created_at: datetime
    next_attempt_at: datetime | None
    stopped_because: str | None = Field(
        description="why it failed without a try of its own (its webhook no longer subscribes to its "
        "notification, or was disabled until its retries ended); null otherwise"
    )
    held_back_because: HeldBack | None = Field(
        None,
        description="a pending delivery: why its next try waits past next_attempt_at, as its webhook "
        "stands: no_longer_subscribed (it fails at its next try), webhook_disabled (its tries wait "
        "until the webhook is enabled, then fail at 24 hours), receiver_silent (one try at a time "
        "finds out whether the receiver is back), receiver_slow (its program's slow receivers take "
        "one try at a time); null when nothing holds it back",
    )
    attempts: Annotated[
        list[AttemptView],
        Field(description=f"its tries, oldest first: the latest {ATTEMPTS_KEPT}, numbered from the first"),
    ]


class DeliveryPage(Model):
    items: list[DeliveryView]
    next_cursor: str | None = None  # null on the last page
