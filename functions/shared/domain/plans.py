"""Plans of steps for a case's resolution or a removal, and the writes every plan makes alike: ids
derived from what they name, notifications, audit entries."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.shared.domain.model import AuditEntry, Case, Notification, Reward
from functions.shared.domain.writes import MAX_STEP_ITEMS, Audit, Notify, Step, Write


def derived_id(*parts: str) -> str:
    """A stable id for what a decision writes (audit entries, notifications): a retry of the same
    decision writes the same item again, never a second one."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:20]


def notify(program_id: str, name: str, detail: dict[str, Any], at: datetime, *origin: str) -> Notify:
    return Notify(Notification(derived_id(program_id, name, *origin), program_id, name, detail, at))


def audit(
    case: Case | tuple[str, str], action: str, actor: str, at: datetime, detail: dict[str, Any], *origin: str
) -> Audit:
    program_id, case_id = (case.program_id, case.case_id) if isinstance(case, Case) else case
    entry_id = (
        derived_id(program_id, case_id, action, *origin)
        if origin
        else derived_id(program_id, case_id, action, at.isoformat())
    )
    return Audit(program_id, case_id, AuditEntry(at, action, actor, detail), entry_id)


@dataclass
class Plan:
    """A change too big for one step: steps applied in order, each safe to apply again."""

    steps: list[Step] = field(default_factory=list)
    moved: list[Reward] = field(default_factory=list)  # the rewards it changes


def chunked(writes: list[Write], *guards: Write) -> list[Step]:
    """`writes` in steps that fit a transaction, each with every one of `guards` (conditions)."""
    room = MAX_STEP_ITEMS - len(guards)
    return [Step([*writes[i : i + room], *guards]) for i in range(0, len(writes), room)]
