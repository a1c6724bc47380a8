"""What the keys routes take and answer (SPEC 3.2 `/v1/keys`). A listing never carries a key or its
hash: the key text exists once, in the answer that created it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import ConfigDict, Field

from functions.shared.inputs import ActorName, Model, one_of

# The roles an admin may give a key of their program. `security` is the platform's, never a program's.
ProgramRole = Literal["integration", "viewer", "fraud", "admin"]


class CreateKey(Model):
    model_config = ConfigDict(extra="forbid")

    role: ProgramRole
    actor: Annotated[
        ActorName,
        Field(
            description="Who uses the key, shown in audit trails. Not `system`, `dispute-cycle`, "
            "`hold-sweep` (however spaced or written) nor a name beginning `workflow:` (in any case "
            "or look-alike letters): the names the system signs its own entries with (422)."
        ),
    ]


class KeyCreated(Model):
    key_id: str
    key: str  # shown this once; only its hash is stored
    role: Annotated[str, one_of(get_args(ProgramRole))]
    actor: str


class KeyView(Model):
    key_id: str
    actor: str
    role: Annotated[str, one_of(get_args(ProgramRole))]  # a program's keys: never `security`
    created_at: datetime
    last_used_at: datetime | None  # to the minute; null until first used
    created_by: str | None = Field(
        description="the key_id of the admin key that made it (POST /v1/keys); null for a key an "
        "operator made (fraudctl). After a leak, revoke the leaked key and the keys it made"
    )


class KeyPage(Model):
    items: list[KeyView]
