"""A program holds at most `tenancy.MAX_PROGRAM_KEYS` keys not revoked (SPEC 3.2 `/v1/keys`):
`GET /v1/keys` answers them in one page, which stays within an answer's budget whatever names they
carry. Pure: the in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.keys import service
from functions.shared import paging, tenancy
from functions.shared.auth import issue_key
from functions.shared.clock import FixedClock
from functions.shared.errors import Conflict
from functions.shared.storage.memory import InMemoryRepository

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
LONGEST_NAME = "\U0001f600" * 200  # an actor name at its limit, each character escaped twice in an answer


@pytest.fixture
def full():
    """A program holding as many keys as it may, each named as long as a name may be."""
    repository = InMemoryRepository()
    clock = FixedClock(NOW)
    program = tenancy.create_program(repository, clock, "Acme")
    for _ in range(tenancy.MAX_PROGRAM_KEYS):
        record, _ = issue_key(program.program_id, "fraud", LONGEST_NAME, NOW)
        repository.create_api_key(record)
    return repository, clock, program


def test_a_key_past_the_limit_is_refused_and_nothing_is_written(full):
    repository, clock, program = full

    with pytest.raises(Conflict, match="revoke one"):
        tenancy.create_key(repository, clock, program.program_id, "integration", "Backend")

    assert len(repository.list_api_keys(program.program_id)) == tenancy.MAX_PROGRAM_KEYS


def test_a_revoked_key_makes_room_for_a_new_one(full):
    repository, clock, program = full
    oldest = repository.list_api_keys(program.program_id)[-1].key

    tenancy.revoke_key(repository, clock, oldest.key_id)
    record, _ = tenancy.create_key(repository, clock, program.program_id, "integration", "Backend")

    listed = {r.key.key_id for r in repository.list_api_keys(program.program_id)}
    assert record.key_id in listed and oldest.key_id not in listed
    assert len(listed) == tenancy.MAX_PROGRAM_KEYS


def test_the_limit_is_one_programs_alone(full):
    repository, clock, _ = full
    other = tenancy.create_program(repository, clock, "Globex")

    record, _ = tenancy.create_key(repository, clock, other.program_id, "admin", "Ops")

    assert [r.key.key_id for r in repository.list_api_keys(other.program_id)] == [record.key_id]


def test_a_full_programs_listing_fits_one_answer(full):
    repository, _, program = full

    page = service.list_keys(repository, program.program_id)

    assert len(page.items) == tenancy.MAX_PROGRAM_KEYS
    assert paging.answer_bytes(page.model_dump(mode="json")) < paging.ANSWER_BUDGET
