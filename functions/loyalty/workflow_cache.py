"""A program's workflows, kept for a few seconds in the function's memory.

Every earn needs them (does it match a workflow?), and at 3,000 earns/s the program's one workflows
item would take 3,000 reads a second. Kept `CACHE_SECONDS` per Lambda environment, a changed
workflow applies within that (SPEC 8 allows seconds); in the environment that changed it, at once.
Only references to settings are kept, never state a decision depends on: caps and aggregates are
always read in the earn's snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.shared.runtime import Dependencies
from functions.shared.storage.port_loyalty import Workflow

CACHE_SECONDS = 5


@dataclass(frozen=True)
class _Entry:
    store: object  # the repository it was read from: a fresh store (a new test, a new table) misses
    read_at: datetime
    workflows: tuple[Workflow, ...]


_entries: dict[str, _Entry] = {}
_changes: dict[str, int] = {}  # `forget`s per program: a read that one overtook is not kept


def program_workflows(
    deps: Dependencies, program_id: str, read_since: datetime | None = None
) -> tuple[Workflow, ...]:
    """`read_since`: a list read before then is not good enough (read again)."""
    now = deps.clock.now()
    entry = _entries.get(program_id)
    if (
        entry is not None
        and entry.store is deps.repository
        and timedelta(0) <= now - entry.read_at < timedelta(seconds=CACHE_SECONDS)
        and (read_since is None or entry.read_at >= read_since)
    ):
        return entry.workflows
    changes = _changes.get(program_id, 0)
    workflows = tuple(deps.repository.list_workflows(program_id))
    if _changes.get(program_id, 0) == changes:  # else a change landed while it read: maybe not in it
        _entries[program_id] = _Entry(deps.repository, now, workflows)
    return workflows


def forget(program_id: str) -> None:
    """After a change of the program's workflows in this environment: the next earn reads them,
    and a read begun before the change (a concurrent earn's) is not kept for the seconds after it."""
    _changes[program_id] = _changes.get(program_id, 0) + 1
    _entries.pop(program_id, None)
