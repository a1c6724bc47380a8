"""One contract, two implementations: the DynamoDB adapter (on moto) and the in-memory fake."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.shared.domain.model import ApiKey, NetworkState, Program, SigningSecrets, StoredEvent
from functions.shared.errors import Conflict, NotFound
from functions.shared.storage import keys
from functions.shared.storage.memory import InMemoryRepository
from functions.shared.storage.port import KeyRecord

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["dynamodb", "memory"])
def repository(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


def program(program_id="prg-a", signing_secret=None, previous_signing_secret=None, **changes):
    values = dict(program_id=program_id, name="A", created_at=T0, timezone="Europe/Paris")
    values.update(changes)
    if signing_secret is not None:
        values["signing"] = SigningSecrets.clear(signing_secret, previous_signing_secret)
    return Program(**values)


def seen(found: Program) -> tuple[object, ...]:
    """A program as its users see it: its secrets opened (a store may keep them sealed)."""
    return (
        found.program_id,
        found.name,
        found.created_at,
        found.timezone,
        found.signing_secret,
        found.previous_signing_secret,
        found.previous_signing_secret_until,
    )


def event(event_id="e1", program_id="prg-a", received_at=T0, body=None):
    body = body or {"id": event_id, "type": "reward.created"}
    return StoredEvent(program_id, event_id, "reward.created", body, f"hash-{body}", T0, received_at)


def test_programs_round_trip_and_list(repository):
    repository.create_program(program("prg-b", signing_secret="s" * 20))
    repository.create_program(program("prg-a"))

    assert seen(repository.get_program("prg-b")) == seen(program("prg-b", signing_secret="s" * 20))
    assert [p.program_id for p in repository.list_programs()] == ["prg-a", "prg-b"]


def test_a_programs_signing_secrets_are_saved_and_read_back(repository):
    repository.create_program(program("prg-b", signing_secret="s" * 20))
    until = T0 + timedelta(hours=24)
    rotated = program("prg-b", signing_secret="n" * 20, previous_signing_secret="s" * 20)
    rotated = replace(rotated, previous_signing_secret_until=until)

    repository.save_signing_secrets(rotated, repository.get_program("prg-b"))

    assert seen(repository.get_program("prg-b")) == seen(rotated)
    assert rotated.accepted_secrets(until - timedelta(seconds=1)) == ("n" * 20, "s" * 20)
    assert rotated.accepted_secrets(until) == ("n" * 20,)
    with pytest.raises(NotFound):
        nope = program("prg-nope", signing_secret="n" * 20)
        repository.save_signing_secrets(nope, nope)


def test_two_rotations_from_one_read_save_once(repository):
    # two operators at once: both were told their secret was the program's, and one never was
    repository.create_program(program("prg-b", signing_secret="s" * 20))
    read = repository.get_program("prg-b")
    repository.save_signing_secrets(program("prg-b", signing_secret="b" * 20), read)

    with pytest.raises(Conflict, match="changed meanwhile"):
        repository.save_signing_secrets(program("prg-b", signing_secret="c" * 20), read)
    assert repository.get_program("prg-b").signing_secret == "b" * 20
    unsigned = program("prg-u")
    repository.create_program(unsigned)
    repository.save_signing_secrets(program("prg-u", signing_secret="u" * 20), unsigned)
    with pytest.raises(Conflict):
        repository.save_signing_secrets(program("prg-u", signing_secret="v" * 20), unsigned)


def test_a_program_id_is_created_once(repository):
    repository.create_program(program())
    with pytest.raises(Conflict):
        repository.create_program(program(name="other"))
    assert repository.get_program("prg-a").name == "A"


def test_unknown_program_and_key_are_not_found(repository):
    with pytest.raises(NotFound):
        repository.get_program("nope")
    with pytest.raises(NotFound):
        repository.get_api_key("0" * 16)
    with pytest.raises(NotFound):
        repository.load_credentials("0" * 16)
    with pytest.raises(NotFound):
        repository.revoke_api_key("0" * 16, T0)


def test_credentials_load_the_key_with_its_program(repository):
    repository.create_program(program())
    key = ApiKey("a" * 16, "prg-a", "fraud", "Dana", "h" * 64, T0)
    platform = ApiKey("b" * 16, None, "security", "Sec", "h" * 64, T0)
    repository.create_api_key(key)
    repository.create_api_key(platform)

    assert repository.load_credentials(key.key_id) == (KeyRecord(key), program())
    assert repository.load_credentials(platform.key_id) == (KeyRecord(platform), None)


def test_revocation_is_recorded_once(repository):
    repository.create_program(program())
    repository.create_api_key(ApiKey("a" * 16, "prg-a", "fraud", "Dana", "h" * 64, T0))

    first = repository.revoke_api_key("a" * 16, T0 + timedelta(hours=1))
    second = repository.revoke_api_key("a" * 16, T0 + timedelta(hours=2))

    assert first.revoked_at == second.revoked_at == T0 + timedelta(hours=1)
    assert not repository.get_api_key("a" * 16).active


def key(key_id: str, program_id: str | None = "prg-a", role: str = "fraud", minutes: int = 0) -> ApiKey:
    return ApiKey(key_id * 16, program_id, role, f"Actor {key_id}", "h" * 64, T0 + timedelta(minutes=minutes))


def test_a_programs_keys_are_listed_newest_first_without_other_programs_or_platform_keys(repository):
    repository.create_program(program("prg-a"))
    repository.create_program(program("prg-b"))
    for stored in (
        key("a", minutes=1),
        key("b", minutes=3, role="admin"),
        key("c", minutes=2, role="integration"),
        key("d", program_id="prg-b"),
        key("e", program_id=None, role="security"),
    ):
        repository.create_api_key(stored)

    listed = repository.list_api_keys("prg-a")

    assert listed == [
        KeyRecord(key("b", minutes=3, role="admin")),
        KeyRecord(key("c", minutes=2, role="integration")),
        KeyRecord(key("a", minutes=1)),
    ]
    assert [r.key.key_id for r in repository.list_api_keys("prg-b")] == ["d" * 16]
    assert repository.list_api_keys("prg-unknown") == []


def test_a_revoked_key_leaves_its_programs_listing_at_once(repository):
    repository.create_program(program())
    repository.create_api_key(key("a"))
    repository.create_api_key(key("b", minutes=1))

    repository.revoke_api_key("a" * 16, T0 + timedelta(hours=1))

    assert [r.key.key_id for r in repository.list_api_keys("prg-a")] == ["b" * 16]
    assert not repository.load_credentials("a" * 16)[0].key.active  # still there, revoked


def test_a_keys_use_is_written_only_when_the_last_one_is_older_than_asked(repository):
    repository.create_program(program())
    repository.create_api_key(key("a"))
    first, later = T0 + timedelta(minutes=10), T0 + timedelta(minutes=10, seconds=30)

    assert repository.note_key_used("a" * 16, first, unless_since=first - timedelta(minutes=1))
    assert not repository.note_key_used("a" * 16, later, unless_since=later - timedelta(minutes=1))
    assert repository.load_credentials("a" * 16)[0].last_used_at == first
    assert repository.list_api_keys("prg-a")[0].last_used_at == first

    again = first + timedelta(minutes=1, seconds=1)
    assert repository.note_key_used("a" * 16, again, unless_since=again - timedelta(minutes=1))
    assert repository.load_credentials("a" * 16)[0].last_used_at == again


def test_concurrent_uses_of_a_key_write_its_last_use_once(repository):
    repository.create_program(program())
    repository.create_api_key(key("a"))
    at = T0 + timedelta(minutes=5)

    with ThreadPoolExecutor(max_workers=8) as pool:
        written = list(
            pool.map(lambda _: repository.note_key_used("a" * 16, at, at - timedelta(minutes=1)), range(16))
        )

    assert sum(written) == 1


def test_no_use_is_recorded_for_an_unknown_or_revoked_key(repository):
    repository.create_program(program())
    repository.create_api_key(key("a"))
    repository.revoke_api_key("a" * 16, T0)

    assert not repository.note_key_used("a" * 16, T0, T0 - timedelta(minutes=1))
    assert not repository.note_key_used("0" * 16, T0, T0 - timedelta(minutes=1))
    assert repository.load_credentials("a" * 16)[0].last_used_at is None
    with pytest.raises(NotFound):  # the use of an unknown key created nothing
        repository.get_api_key("0" * 16)


def test_an_event_is_recorded_once_and_the_first_body_wins(repository):
    first = repository.record_event(event(body={"v": 1}))
    second = repository.record_event(event(body={"v": 2}))

    assert first.created and not second.created
    assert second.event.body == {"v": 1}
    assert repository.get_event("prg-a", "e1").body == {"v": 1}


def test_events_are_scoped_by_program(repository):
    repository.record_event(event(program_id="prg-a"))

    assert repository.record_event(event(program_id="prg-b")).created
    with pytest.raises(NotFound):
        repository.get_event("prg-c", "e1")


def test_concurrent_records_of_one_id_have_one_winner(repository):
    bodies = [{"writer": n} for n in range(16)]

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(lambda b: repository.record_event(event(body=b)), bodies))

    assert sum(o.created for o in outcomes) == 1
    winner = next(o.event.body for o in outcomes if o.created)
    assert all(o.event.body == winner for o in outcomes)


def test_the_outbox_lists_unsent_events_oldest_first_until_cleared(repository):
    for n in range(5):
        repository.record_event(event(f"e{n}", received_at=T0 + timedelta(seconds=n)))
    repository.record_event(event("other-program", program_id="prg-b"))

    waiting = repository.outbox("prg-a", T0 + timedelta(seconds=3), limit=10)
    assert [e.event_id for e in waiting] == ["e0", "e1", "e2"]

    repository.clear_outbox("prg-a", "e1")
    repository.clear_outbox("prg-a", "e1")  # idempotent
    repository.clear_outbox("prg-a", "never-recorded")  # nothing to clear is fine
    assert [e.event_id for e in repository.outbox("prg-a", T0 + timedelta(hours=1), limit=2)] == ["e0", "e2"]
    with pytest.raises(NotFound):
        repository.get_event("prg-a", "never-recorded")


def test_recently_queued_reads_the_newest_of_each_shard_in_a_window_oldest_first(repository):
    # Given events received one a second from T0, one of them scored (cleared), one of another program
    for n in range(40):
        repository.record_event(event(f"e{n:02d}", received_at=T0 + timedelta(seconds=n)))
    repository.record_event(event("other-program", program_id="prg-b", received_at=T0 + timedelta(seconds=5)))
    repository.clear_outbox("prg-a", "e07")

    def read(after: int, before: int, per_shard: int = 50) -> list[str]:
        found = repository.recently_queued(
            "prg-a", T0 + timedelta(seconds=after), T0 + timedelta(seconds=before), per_shard
        )
        return [e.event_id for e in found]

    # Then: at or after the first time, before the second, still queued, of the program
    assert read(3, 9) == ["e03", "e04", "e05", "e06", "e08"]
    assert read(50, 60) == [] and read(0, 40, per_shard=0) == []
    # and of more, the newest `per_shard` of each shard, still oldest first
    by_shard: dict[int, list[str]] = {}
    for n in range(40):
        if n != 7:
            by_shard.setdefault(keys.outbox_shard(f"e{n:02d}"), []).append(f"e{n:02d}")
    assert read(0, 40, per_shard=2) == sorted(e for shard in by_shard.values() for e in shard[-2:])
    assert len(read(0, 40, per_shard=2)) < 39


# --- the DynamoDB adapter's event items (issue 15) ------------------------------------------------
def test_a_sign_up_is_stored_deflated_under_one_kilobyte_and_reads_back_whole(aws):
    from benchmarks.scoring import item_size
    from tests.support import sample

    body = sample("partnership.created")
    body["partner"]["name"] = "Ada Augusta King, Countess of Lovelace"  # a long one
    stored = StoredEvent("prg-a", body["id"], body["type"], body, "h" * 64, T0, T0)
    aws.repository.record_event(stored)
    raw = boto3.client("dynamodb", region_name="us-east-1")
    key = {"pk": {"S": keys.event_pk("prg-a", body["id"])}, "sk": {"S": keys.EVENT_SK}}
    item = raw.get_item(TableName=aws.resources.table_name, Key=key)["Item"]
    assert "body" not in item and "packed_body" in item
    plain = len(json.dumps(body, sort_keys=True).encode())
    assert len(item["packed_body"]["B"]) < 0.75 * plain  # deflated: a unit of write capacity less
    assert item_size(item) < 1024
    assert aws.repository.get_event("prg-a", body["id"]).body == body


def put_as_written_before(aws, item):
    """An item as an earlier version of the adapter wrote it, straight into the table."""
    boto3.client("dynamodb", region_name="us-east-1").put_item(TableName=aws.resources.table_name, Item=item)


def test_an_event_written_before_bodies_and_decisions_were_packed_still_reads(aws):
    body = {"id": "e-old", "type": "partnership.created", "note": "ünïcode"}
    put_as_written_before(
        aws,
        {
            "pk": {"S": keys.event_pk("prg-a", "e-old")},
            "sk": {"S": keys.EVENT_SK},
            "item_type": {"S": "event"},
            "program_id": {"S": "prg-a"},
            "event_id": {"S": "e-old"},
            "type": {"S": "partnership.created"},
            "body": {"S": json.dumps(body)},
            "body_hash": {"S": "h" * 64},
            "occurred_at": {"S": "2026-11-02T09:00:00.000000+0000"},
            "received_at": {"S": "2026-11-02T09:00:00.000000+0000"},
            "status": {"S": "scored"},
            "decision": {"S": json.dumps({"score": 0, "action": "allow", "reasons": []})},
        },
    )
    old = aws.repository.get_event("prg-a", "e-old")
    assert old.body == body and old.decision == {"score": 0, "action": "allow", "reasons": []}


def test_a_network_item_written_before_programs_were_dropped_still_reads(aws):
    put_as_written_before(
        aws,
        {
            "pk": {"S": keys.network_pk("device", "h-old")},
            "sk": {"S": keys.LINK_SK},
            "item_type": {"S": "network_link"},
            "programs": {"SS": ["t1", "t2"]},
            "flagged": {"SS": ["t2.s9"]},
        },
    )
    read = aws.repository.scoring_snapshot("prg-a", ("partner", "p1"), None, [], [("device", "h-old")], [])
    assert read.network[("device", "h-old")] == NetworkState(flagged=frozenset({"t2.s9"}))
