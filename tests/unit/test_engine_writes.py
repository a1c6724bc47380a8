"""What a scored event writes: only what changes (issue 15: unchanged links are not rewritten)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from functions.score.engine import Engine
from functions.score.reference import EmbeddedReferenceData
from functions.shared.domain.holdables import candidates, listed_id
from functions.shared.domain.identity import LOCAL_PEPPER, near_keys
from functions.shared.domain.model import StoredEvent
from functions.shared.domain.removal import removal_plan
from functions.shared.domain.writes import MarkLink, MarkNetwork, PutCase, Step
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
    assert {kind for kind, _ in linked} >= {"email", "email_skeleton", "device", "ip"}
    assert [w for w in first if isinstance(w, MarkNetwork)] == []  # unmarked: the network item is read only

    # When it updates its account from the same device and IP, with a new payout account
    later = _score(engine, sample("account.updated", id="evt-account-2"))

    # Then only the new identifier is linked (a British IBAN under its domestic form too: sort code
    # and account number); the known ones are not written again
    assert sorted(w.key for w in later if isinstance(w, MarkLink)) == [
        ("payout", "60161331926819"),
        ("payout", "GB29NWBK60161331926819"),
        ("payout", "NWBK60161331926819"),  # its domestic forms: the BBAN and the sort code's
    ]
    # and the network learns who gave the account first, under each of its keys (`links.network_first`),
    # marking nothing
    claims = [w for w in later if isinstance(w, MarkNetwork)]
    assert sorted(w.key[0] for w in claims if w.first and not w.add and not w.remove) == ["payout"] * 3
    assert engine.repository.get_event("prg", "evt-account-2").status == "scored"
    # the same account given again writes neither again
    again = _score(engine, sample("account.updated", id="evt-account-3"))
    assert [w for w in again if isinstance(w, MarkLink | MarkNetwork)] == []


def _twins(engine: Engine) -> dict[str, Any]:
    """A partner, then a second with the same e-mail address and device: flagged at sign-up."""
    _score(engine, sample("partnership.created"))
    twin = sample("partnership.created", id="evt-twin")
    twin["partner"] = {**twin["partner"], "id": "p_twin", "email": "ada.lovelace@example.com"}
    _score(engine, twin)
    assert engine.repository.get_event("prg", "evt-twin").decision["action"] == "flag"
    return twin


def _flagged_on(engine: Engine, keys: list[Any], subject: str) -> set[Any]:
    read = engine.repository.scoring_snapshot("prg", ("partner", "p_twin"), None, keys, [], [])
    return {key for key, state in read.links.items() if subject in state.flagged}


def test_a_flag_marks_every_identifier_it_names() -> None:
    engine = _engine()
    twin = _twins(engine)
    # Then each link its sign-up named carries the flag's mark
    named = [("email", "ada.lovelace@example.com"), ("device", twin["session"]["device_fingerprint"])]
    named.append(("ip", twin["session"]["ip"]))
    assert _flagged_on(engine, named, "partner:p_twin") == set(named)


def test_a_flagged_subject_flagged_again_writes_no_mark_it_has() -> None:
    engine = _engine()
    twin = _twins(engine)
    twin_again = sample("partnership.created", id="evt-twin-again")
    twin_again["partner"] = twin["partner"]

    # When its same identifiers come again and the event flags
    writes = _score(engine, twin_again)

    # Then the case takes the flag, and no link or network item is written again
    assert engine.repository.get_event("prg", "evt-twin-again").decision["action"] == "flag"
    assert [w.key for w in writes if isinstance(w, MarkLink | MarkNetwork)] == []


def test_a_flagged_subjects_new_identifier_is_marked_even_by_an_event_that_does_not_flag() -> None:
    engine = _engine()
    _twins(engine)
    # When the flagged partner updates its payout account in an event that does not flag
    update = sample("account.updated", id="evt-twin-payout", occurred_at="2026-11-01T12:00:00Z")
    update["partner"] = {"id": "p_twin", "payout_account": "GB33BUKB20201555555555"}
    update["activity"] = "profile_update"
    update["session"] = {"ip": "81.2.69.160", "device_fingerprint": "fp-twin-laptop"}
    _score(engine, update)
    assert engine.repository.get_event("prg", "evt-twin-payout").decision["action"] == "allow"

    # Then its new identifiers carry its flag's mark at once (no later flag needed to mark them)
    new = [("payout", "GB33BUKB20201555555555"), ("device", "fp-twin-laptop")]
    assert _flagged_on(engine, new, "partner:p_twin") == set(new)


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
    old_near = {("email_near", key) for key, _ in near_keys("charles.babbage@example.com")}
    assert old_near and old_near <= flagged
    assert repository.get_subject("prg", "partner", "p_2").marks_pending is False


def test_a_reward_through_the_api_for_a_customer_is_listed_on_the_customer_not_marked_unknown() -> None:
    engine = _engine()
    _score(engine, sample("partnership.created"))

    _score(engine, sample("reward.created"))  # r_7002 for partner p_1001 and customer c_9001

    read = engine.repository.scoring_snapshot("prg", ("customer", "c_9001"), None, [], [], [])
    assert [listed_id(e) for e in read.holdables.entries] == ["r_7002"]
    assert read.holdables.unlisted == frozenset()  # the customer's flag needs no index for it
    assert candidates(read.holdables, "prg", None) is not None


def _removed_twin(engine: Engine, block_reapply: bool) -> str:
    """The twins' flagged partner, removed from its case (whose id this returns)."""
    _twins(engine)
    repository = engine.repository
    twin = repository.get_subject("prg", "partner", "p_twin")
    case = repository.get_case("prg", twin.active_case_id or "")
    removal = removal_plan(case, twin, [], LOCAL_PEPPER.encode(), block_reapply, "admin", datetime.now(UTC))
    for step in removal.steps:
        repository.apply(step)
    return case.case_id


def test_a_removed_partners_new_device_carries_the_removal_and_blocks_whoever_signs_up_with_it() -> None:
    engine = _engine()
    repository = engine.repository
    # Given the flagged partner removed, re-applying blocked
    _removed_twin(engine, block_reapply=True)

    # When its next event comes from a device it never used before
    update = sample("account.updated", id="evt-removed-later", occurred_at="2026-11-02T12:00:00Z")
    update["partner"] = {"id": "p_twin"}
    update["activity"] = "profile_update"
    update["session"] = {"ip": "81.2.69.160", "device_fingerprint": "fp-after-removal"}
    _score(engine, update)

    # Then the device carries the removal's marks, here and across the network
    key = ("device", "fp-after-removal")
    read = repository.scoring_snapshot("prg", ("partner", "p_twin"), None, [key], [], [])
    assert "partner:p_twin" in read.links[key].removed & read.links[key].blocked
    # And a newcomer signing up from it is known as the removed partner re-applying
    newcomer = sample("partnership.created", id="evt-newcomer", occurred_at="2026-11-03T09:00:00Z")
    newcomer["partner"] = {**newcomer["partner"], "id": "p_new", "email": "someone.else@example.org"}
    newcomer["session"] = {"ip": "81.2.70.200", "device_fingerprint": "fp-after-removal"}
    _score(engine, newcomer)
    reasons = repository.get_event("prg", "evt-newcomer").decision["reasons"]
    assert "blocked_reapply" in {r["code"] for r in reasons}


def test_a_removed_partner_flagged_again_stays_removed_and_is_never_paid() -> None:
    engine = _engine()
    repository = engine.repository
    # Given the flagged partner removed
    removed_under = _removed_twin(engine, block_reapply=False)

    # When its payout details change and a large reward follows (a flag on its own)
    update = sample("account.updated", id="evt-removed-payout", occurred_at="2026-11-02T12:00:00Z")
    update["partner"] = {"id": "p_twin", "payout_account": "GB29NWBK60161331926800"}
    _score(engine, update)
    big = sample("reward.created", id="evt-removed-big", occurred_at="2026-11-02T13:00:00Z")
    big["reward"] = {"id": "r_big", "partner_id": "p_twin", "amount": "900.00", "currency": "EUR"}
    writes = _score(engine, big)

    # Then the decision flags and names the case that removed the partner, but no case is opened
    event = repository.get_event("prg", "evt-removed-big")
    assert event.decision["action"] == "flag"
    assert event.case_id == removed_under
    assert not [w for w in writes if isinstance(w, PutCase)]
    assert "p_twin" not in {c.subject_id for c in repository.cases_in_view("prg", "active", True)}
    # And the partner stays removed, its rewards archived under that case, now and later
    partner = repository.get_subject("prg", "partner", "p_twin")
    assert (partner.status, partner.active_case_id, partner.flag_case_id) == ("removed", None, removed_under)
    assert repository.get_reward("prg", "r_big").status == "archived"
    later = sample("reward.created", id="evt-removed-later", occurred_at="2026-11-02T14:00:00Z")
    later["reward"] = {"id": "r_later", "partner_id": "p_twin", "amount": "10.00", "currency": "EUR"}
    _score(engine, later)
    assert (
        repository.get_reward("prg", "r_later").status,
        repository.get_reward("prg", "r_later").case_id,
    ) == (
        "archived",
        removed_under,
    )


def test_a_flagged_customer_renamed_in_a_purchase_held_under_its_case_writes_the_case_once() -> None:
    # the case's new name and the held reward's figures are one write of the case: two writes of
    # one item in a step is a transaction DynamoDB refuses (found by the scoring benchmark)
    engine = _engine()
    _score(engine, sample("partnership.created", id="e-partner"))
    partner = sample("partnership.created")["partner"]
    flagging = sample("transaction.created", id="e-self", occurred_at="2026-11-05T08:00:00+00:00")
    flagging["partner_id"] = partner["id"]
    flagging["customer"].update(id="c-self", email=partner["email"], name="Linda Cook")  # self-referral
    flagging["transaction"]["id"], flagging["reward"]["id"] = "t-self", "r-self"
    _score(engine, flagging)
    case_id = engine.repository.get_subject("prg", "customer", "c-self").active_case_id
    assert case_id is not None

    renamed = {**flagging, "id": "e-renamed", "occurred_at": "2026-11-05T09:00:00+00:00"}
    # not a self-referral this time (its own address): an event that does not flag, its reward held
    renamed["customer"] = {**flagging["customer"], "name": "Linda J. Cook", "email": "linda@example.org"}
    renamed["transaction"] = {**flagging["transaction"], "id": "t-renamed"}
    renamed["reward"] = {**flagging["reward"], "id": "r-renamed"}
    writes = _score(engine, renamed)

    case_writes = [
        w for w in writes if getattr(w, "case_id", None) == case_id and type(w).__name__ == "UpdateCase"
    ]
    assert len(case_writes) == 1 and case_writes[0].changes == {"subject_name": "Linda J. Cook"}
    assert case_writes[0].held == 1  # the held reward's figures, in the same write
    assert engine.repository.get_event("prg", "e-renamed").decision["action"] == "allow"  # no flag
    assert engine.repository.get_case("prg", case_id).subject_name == "Linda J. Cook"
