"""What a webhook delivery's body says (SPEC 6): the envelope `{id, type, created_at, program_id,
data}` that `delivery._deliver_to` builds, and for each notification the `data` its rule decides
(`scoring_plan` flags, `rewards.held_notice`, `disputes`, `removal`, the loyalty `service` and
`workflows`). The OpenAPI document's `webhooks` are generated from these models, and the tests
check a body of every notification the system sends against that document, field for field (no
field left undocumented, none documented that is not sent: the tests close each object the
document leaves open), so the two cannot drift apart.

Documentation only: nothing validates a notification against them at run time (the delivery
function does not load pydantic for it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, create_model

from functions.shared.domain.cases import RESOLVED
from functions.shared.domain.disputes import NOTICE_REWARD_IDS
from functions.shared.domain.model import SUBJECT_TYPES
from functions.shared.domain.webhooks import NOTIFICATION_NAMES
from functions.shared.inputs import Model, one_of
from functions.shared.partner_events import Reason


class Exact(Model):
    """Every field the server sends is named here, and the tests check that nothing else is sent.
    The document leaves each object open all the same: a receiver ignores a field it does not know,
    so a field added later breaks no receiver's parser."""


class SubjectOf(Exact):
    type: Annotated[str, one_of(SUBJECT_TYPES)]
    id: str


class AboutCase(Exact):
    program_id: str
    case_id: str
    subject: SubjectOf


class Flagged(AboutCase):
    """`PartnerFlagged` or `CustomerFlagged`: the event that opened the case, as it was scored."""

    score: int = Field(ge=0, le=100)
    reasons: list[Reason]
    flagged_at: datetime = Field(description="when the event that flagged it occurred: the case's flagged_at")


class HeldAmount(Exact):
    amount: str
    currency: str


class RewardsHeld(AboutCase):
    """Rewards put on hold under the case in one change (a flag's, a later reward's, a sweep's)."""

    count: int
    amounts: list[HeldAmount] = Field(description="per currency, the rewards held in this change")
    reward_ids: list[str]


class DisputeOpened(AboutCase):
    reason: str
    by: str = Field(description="the actor's name of the key that disputed")


class DisputeResolved(AboutCase):
    outcome: Annotated[str, one_of(RESOLVED)]
    rewards: list[str] = Field(
        description=f"ids of the rewards the verdict moved, sorted, the first {NOTICE_REWARD_IDS}"
    )
    reward_count: int = Field(description="how many rewards the verdict moved, all of them")
    rewards_now: Literal["pending", "declined", "on_hold"] = Field(
        description="where they went: pending (approved), declined, or on_hold when the subject stays "
        "flagged under another case (`held_under`)"
    )
    held_under: str | None = Field(
        None, description="the case that still holds the subject's rewards; absent unless there is one"
    )


class PartnerRemoved(Exact):
    program_id: str
    case_id: str
    partner_id: str
    block_reapply: bool
    archived_rewards: int = Field(description="how many of the partner's rewards the removal archives")
    by: str = Field(description="the actor's name of the key that removed the partner")
    dispute_withdrawn: bool = Field(
        description="the case was disputed: its removal withdrew the dispute (no DisputeResolved follows)"
    )


class CustomerStatusChanged(Exact):
    """`CustomerSuspended` or `CustomerBlocked`: by hand (`note` when one was given) or by a workflow's
    action (`workflow_id`, and `by` is `workflow:<id>`)."""

    program_id: str
    customer_id: str
    by: str = Field(description="the actor's name, or workflow:<id>")
    at: datetime
    note: str | None = Field(None, description="absent unless the change by hand gave one")
    workflow_id: str | None = Field(None, description="absent unless a workflow made the change")


class LoyaltyCommunication(Exact):
    program_id: str
    customer_id: str
    workflow_id: str
    event: str = Field(description="the workflow action's event name")
    payload: dict[str, Any] = Field(description="the workflow action's payload, as it was set")
    at: datetime


DATA: dict[str, type[Model]] = {
    "PartnerFlagged": Flagged,
    "CustomerFlagged": Flagged,
    "RewardsHeld": RewardsHeld,
    "DisputeOpened": DisputeOpened,
    "DisputeResolved": DisputeResolved,
    "PartnerRemoved": PartnerRemoved,
    "CustomerSuspended": CustomerStatusChanged,
    "CustomerBlocked": CustomerStatusChanged,
    "LoyaltyCommunication": LoyaltyCommunication,
}
assert tuple(DATA) == NOTIFICATION_NAMES, "a notification a webhook may subscribe to is undocumented"


class Envelope(Exact):
    id: str = Field(description="the delivery's id: the same on every retry (deduplicate on it)")
    notification_id: str = Field(
        description="what happened, the same in the deliveries of every webhook it was sent to (deduplicate "
        "on it across webhooks: one replacing another, say)"
    )
    created_at: datetime = Field(
        description="when the notification was made (the change that caused it): the same in every "
        "delivery of it, also one the relay sent after the bus was down"
    )
    program_id: str


def delivery_model(name: str) -> type[Model]:
    """The body of a delivery of notification `name`: the envelope, its `type`, and its `data`."""
    fields: Any = {"type": (Literal[name], ...), "data": (DATA[name], ...)}
    return create_model(f"{name}Delivery", __base__=Envelope, **fields)
