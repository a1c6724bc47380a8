"""Admins hold their program's keys (SPEC 2, 3.2 `/v1/keys`): list, create, revoke.

What a key is and who may hold one is decided once, in `functions.shared.tenancy` and
`functions.shared.auth.issue_key` (fraudctl uses the same): a program key never has the platform's
`security` role. This module keeps every request inside the caller's program: another program's key
is not found, as if it did not exist."""

from __future__ import annotations

from collections.abc import Callable

from functions.keys.models import KeyCreated, KeyPage, KeyView
from functions.shared import tenancy
from functions.shared.auth import is_key_id
from functions.shared.clock import Clock
from functions.shared.errors import NotFound
from functions.shared.observability import logger
from functions.shared.storage.port import KeyRecord, ProgramsPort


def list_keys(repository: ProgramsPort, program_id: str) -> KeyPage:
    return KeyPage(items=[key_view(record) for record in repository.list_api_keys(program_id)])


def create_key(
    repository: ProgramsPort, clock: Clock, program_id: str, role: str, actor: str, created_by: str
) -> KeyCreated:
    """A new key of the program, made by the admin key `created_by` (listed with it: after a leak,
    the keys the leaked one made are found by it, whatever `actor` they were given)."""
    record, text = tenancy.create_key(repository, clock, program_id, role, actor, created_by)
    return KeyCreated(key_id=record.key_id, key=text, role=record.role, actor=record.actor)


def revoke_key(repository: ProgramsPort, clock: Clock, program_id: str, key_id: str) -> None:
    """Revoked at once: the next request with the key is refused (revoking a revoked key again
    changes nothing). The key the caller signed in with may be revoked too: that signs them out."""
    if not is_key_id(key_id):
        raise NotFound(f"key {key_id} not found")
    key = repository.get_api_key(key_id)
    if key.program_id != program_id:
        raise NotFound(f"key {key_id} not found")  # the same words as an unknown key
    tenancy.revoke_key(repository, clock, key_id)


def stop_at_the_edge(flush_authorizer_cache: Callable[[], None] | None) -> None:
    """After a revocation: empties the edge authorizer's cache of the stage, so the revoked key is
    refused from the next request on rather than when its cached answer expires
    (`auth.AUTHORIZER_CACHE_SECONDS`). Best effort: the revocation is recorded whatever happens here
    (API Gateway limits flushes to a few a second); a failed flush is logged, and the key stops
    within the cache's lifetime."""
    if flush_authorizer_cache is None:
        return
    try:
        flush_authorizer_cache()
    except Exception:
        logger.warning("could not flush the edge authorizer's cache", exc_info=True)


def key_view(record: KeyRecord) -> KeyView:
    key = record.key
    return KeyView(
        key_id=key.key_id,
        actor=key.actor,
        role=key.role,
        created_at=key.created_at,
        last_used_at=record.last_used_at,
        created_by=key.created_by,
    )
