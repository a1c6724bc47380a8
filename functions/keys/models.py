"""What the keys routes take and answer (SPEC 3.2 `/v1/keys`). A listing never carries a key or its
hash: the key text exists once, in the answer that created it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict

from functions.shared.inputs import ActorName, Model

# The roles an admin may give a key of their program. `security` is the platform's, never a program's.
ProgramRole = Literal["integration", "viewer", "fraud", "admin"]


class CreateKey(Model):
    model_config = ConfigDict(extra="forbid")

    role: ProgramRole
    actor: ActorName  # shown in audit trails


class KeyCreated(Model):
    key_id: str
    key: str  # shown this once; only its hash is stored
    role: str
    actor: str


class KeyView(Model):
    key_id: str
    actor: str
    role: str
    created_at: datetime
    last_used_at: datetime | None  # to the minute; null until first used


class KeyPage(Model):
    items: list[KeyView]
