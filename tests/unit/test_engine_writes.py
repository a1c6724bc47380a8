"""What a scored event writes: only what changes (issue 15: unchanged links are not rewritten)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from functions.score.engine import Engine
from functions.score.reference import EmbeddedReferenceData
from functions.shared.domain.holdables import candidates, listed_id
from functions.shared.domain.identity import LOCAL_PEPPER
from functions.shared.domain.model import StoredEvent
from functions.shared.domain.writes import MarkLink, MarkNetwork, Step
from functions.shared.messaging import InMemoryPublisher
from functions.shared.storage.memory import InMemoryRepository
from tests.support import sample


class RecordingRepository(InMemoryRepository):
    """The plain store, keeping each step it applies."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[Step] = []

    def apply(self, step: Step) -> None:
        super().apply(step)
        self.steps.append(step)


def _score(engine: Engine, body: dict[str, Any]) -> list[Any]:
    stored = StoredEvent(
        program_id="prg",
        event_id=body["id"],
        type=body["type"],
        body=body,
        body_hash=hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest(),
        occurred_at=datetime.fromisoformat(body["occurred_at"]),
        received_at=datetime.now(UTC),
    )
    repository = engine.repository
    assert isinstance(repository, RecordingRepository)
    repository.record_event(stored)
    repository.steps.clear()
    engine.score(stored)
    return [w for step in repository.steps for w in step.writes]


def _engine() -> Engine:
    return Engine(RecordingRepository(), EmbeddedReferenceData(), LOCAL_PEPPER.encode(), InMemoryPublisher())


def test_a_repeat_of_known_identifiers_writes_no_link_again() -> None:
    engine = _engine()
    first = _score(engine, sample("partnership.created"))
    # Given the partner's sign-up linked its e-mail keys, device and IP
    linked = {w.key for w in first if isinstance(w, MarkLink)}
    assert {kind for kind, _ in linked} >= {"email", "email_skeleton", "email_local", "device", "ip"}
    assert {w.key[0] for w in first if isinstance(w, MarkNetwork)} == {"email", "device"}

    # When it updates its account from the same device and IP, with a new payout account
    later = _score(engine, sample("account.updated", id="evt-account-2"))

    # Then only the new identifier is linked; the known ones are not written again
    assert [w.key[0] for w in later if isinstance(w, MarkLink)] == ["payout"]
    assert [w for w in later if isinstance(w, MarkNetwork)] == []
    assert engine.repository.get_event("prg", "evt-account-2").status == "scored"


def test_a_flag_still_marks_every_identifier_it_names() -> None:
    engine = _engine()
    _score(engine, sample("partnership.created"))
    # Given a second partner with the same e-mail address and device, already linked by its sign-up
    twin = sample("partnership.created", id="evt-twin")
    twin["partner"] = {**twin["partner"], "id": "p_twin", "email": "ada.lovelace@example.com"}
    _score(engine, twin)
    twin_again = sample("partnership.created", id="evt-twin-again")
    twin_again["partner"] = twin["partner"]

    # When its same identifiers come again and the event flags
    writes = _score(engine, twin_again)
    decision = engine.repository.get_event("prg", "evt-twin-again").decision

    # Then each link it names is written, with the flag
    assert decision["action"] == "flag"
    marks = [w for w in writes if isinstance(w, MarkLink) and "flagged" in w.add]
    assert {w.key[0] for w in marks} >= {"email", "device", "ip"}


def test_a_flag_marks_the_subjects_older_identifiers_in_its_one_step() -> None:
    engine = _engine()
    _score(engine, sample("partnership.created"))
    # Given a second partner who signed up with its own address, device and IP
    other = sample("partnership.created", id="evt-other", occurred_at="2026-11-02T10:00:00Z")
    other["partner"] = {**other["partner"], "id": "p_2", "email": "charles.babbage@example.com"}
    other["session"] = {"ip": "81.2.70.9", "device_fingerprint": "fp-babbage-1"}
    _score(engine, other)

    # When it changes its address to the first partner's, and is flagged for it
    update = sample("account.updated", id="evt-change", occurred_at="2026-11-03T12:00:00Z")
    update["partner"] = {"id": "p_2", "email": "ada.lovelace@example.com"}
    update["activity"] = "email_change"
    update["session"] = other["session"]
    _score(engine, update)
    repository = engine.repository
    assert isinstance(repository, RecordingRepository)
    assert repository.get_event("prg", "evt-change").decision["action"] == "flag"

    # Then one step carries the flag and the marks on its older identifiers too (the old address's
    # near-duplicate keys among them), and the profile is noted fully marked in it
    assert len(repository.steps) == 1
    flagged = {w.key for w in repository.steps[0].writes if isinstance(w, MarkLink) and "flagged" in w.add}
    assert ("email", "charles.babbage@example.com") in flagged
    assert any(kind == "email_near" and value.startswith("charlesbabbage") for kind, value in flagged)
    assert repository.get_subject("prg", "partner", "p_2").marks_pending is False


def test_a_reward_through_the_api_for_a_customer_is_listed_on_the_customer_not_marked_unknown() -> None:
    engine = _engine()
    _score(engine, sample("partnership.created"))

    _score(engine, sample("reward.created"))  # r_7002 for partner p_1001 and customer c_9001

    read = engine.repository.scoring_snapshot("prg", ("customer", "c_9001"), None, [], [], [])
    assert [listed_id(e) for e in read.holdables.entries] == ["r_7002"]
    assert read.holdables.unlisted == frozenset()  # the customer's flag needs no index for it
    assert candidates(read.holdables, "prg", None) is not None
