"""A removal's reviews across the network (`linked_removal.network_review_bodies`; SPEC 5.3), on the
plain in-memory store: the same rule as on DynamoDB
(`tests/integration/test_a_removal_reviews_across_the_network.py`), the removal through the cases
service and the review through the score function's service; and who is reviewed, as pure rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from functions.cases import service as cases_service
from functions.score import service as score_service
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import LOCAL_PEPPER
from functions.shared.domain.linked_removal import (
    REVIEW_ID_PREFIX,
    across_the_network,
    network_review_bodies,
    network_review_id,
    partners_to_review,
    review_id,
    reviews_due,
)
from functions.shared.domain.model import LinkState, Program, Subject
from functions.shared.messaging import InMemoryPublisher, InMemoryQueue, scoring_message
from functions.shared.runtime import Dependencies
from tests.unit.test_detection import make_engine, score
from tests.unit.test_partners_linked_to_a_removed_partner_memory import IBAN, signup

A, B = "prg-network-a", "prg-network-b"
PEPPER = LOCAL_PEPPER.encode()
AT = datetime(2026, 11, 21, tzinfo=UTC)


def purchase(customer_id: str, partner_id: str, at: str) -> dict:
    return {
        "id": f"txn-{customer_id}",
        "type": "transaction.created",
        "occurred_at": at,
        "transaction": {"id": f"t-{customer_id}", "amount": "100.00", "currency": "USD"},
        "partner_id": partner_id,
        "customer": {"id": customer_id, "email": f"{customer_id}@example.net"},
        "reward": {"id": f"r-{customer_id}", "amount": "10.00", "currency": "USD"},
    }


def test_a_partner_of_another_program_on_a_removed_partners_iban_is_flagged_there_on_the_memory_store():
    engine = make_engine()
    repository = engine.repository
    for program in (A, B):
        repository.create_program(Program(program, program, AT))
    # B2 of program B, allowed, with a pending reward; A of program A on its IBAN, flagged (Z's address)
    b2 = score(engine, signup("p-b2", "2026-11-02T09:00:00+00:00", "bee2@example.com", "fp-b2", IBAN), B)
    assert b2["action"] == "allow"
    score(engine, purchase("c-1", "p-b2", "2026-11-04T12:00:00+00:00"), B)
    score(engine, signup("p-z", "2026-11-02T10:00:00+00:00", "aye@example.com", "fp-z"), A)
    a = score(engine, signup("p-a", "2026-11-03T09:00:00+00:00", "aye@example.com", "fp-a", IBAN), A)
    assert a["action"] == "flag"
    queue = InMemoryQueue()
    deps = Dependencies(repository, InMemoryPublisher(), FixedClock(AT), queue)
    a_case = repository.get_subject(A, "partner", "p-a").flag_case_id or ""

    cases_service.remove_partner(deps, A, a_case, True, "Ann")
    cases_service.remove_partner(deps, A, a_case, True, "Ann")  # asked again: nothing new
    in_b = network_review_id(A, a_case, B, "p-b2", PEPPER)
    assert sorted(queue.sent) == sorted([(A, review_id(a_case, "p-z")), (B, in_b)])
    for program_id, event_id in [*queue.sent, *queue.sent]:  # each delivered twice
        score_service.take_message(deps, scoring_message(program_id, event_id))

    b = repository.get_subject(B, "partner", "p-b2")
    assert b.status == "flagged"
    case = repository.get_case(B, b.active_case_id or "")
    assert [(r.code, r.detail) for r in case.reasons] == [
        ("network_flagged", "the same payout account is flagged or removed in 1 other program of the network")
    ]
    assert case.flags == 1 and case.held_count == 1
    review = repository.get_event(B, in_b)
    assert (review.status, review.case_id) == ("scored", case.case_id)
    assert not [s for s in (A, a_case, "p-a") if s in json.dumps(review.body)], review.body
    published = deps.publisher.published
    flagged = [d for kind, d in published if kind == "PartnerFlagged" and d["subject"]["id"] == "p-b2"]
    assert len(flagged) == 1 and not [s for s in (A, a_case, "p-a") if s in json.dumps(flagged)]


def test_who_a_removal_reviews_in_another_program():
    devices, emails = frozenset({"fp-a", "fp-sdk"}), frozenset({"a@x.io"})
    removed = Subject(A, "partner", "p-a", devices=devices, emails=emails)
    me = "partner:p-a"
    crowd = frozenset(f"partner:p-{n}" for n in range(250))
    mine = {
        ("device", "fp-a"): LinkState(members=frozenset({me}), removed=frozenset({me})),
        ("device", "fp-sdk"): LinkState(members=crowd | {me}, removed=frozenset({me})),
        ("email", "a@x.io"): LinkState(members=frozenset({me}), removed=frozenset({me})),
    }
    # a crowd in its own program is no evidence anywhere: not looked up in the others
    assert sorted(across_the_network(removed, mine)) == [("device", "fp-a"), ("email", "a@x.io")]
    # in program B: a partner there with A's own id is reviewed all the same; no customer, none
    # removed, no crowd there
    theirs = {
        ("device", "fp-a"): LinkState(members=frozenset({me, "partner:p-b2", "customer:c-1"})),
        ("email", "a@x.io"): LinkState(
            members=frozenset({"partner:p-gone", "partner:p-b3"}), removed=frozenset({"partner:p-gone"})
        ),
    }
    assert partners_to_review(removed, theirs, elsewhere=True) == {
        "p-a": [("device", "fp-a")],
        "p-b2": [("device", "fp-a")],
        "p-b3": [("email", "a@x.io")],
    }
    crowded = {("device", "fp-a"): LinkState(members=crowd | {"partner:p-b2"})}
    assert partners_to_review(removed, crowded, elsewhere=True) == {}
    # the reviews name B's links only, nothing of the removal; their ids are keyed digests
    bodies = network_review_bodies("case_a", removed, B, theirs, AT, PEPPER)
    assert [b["partner_id"] for b in bodies] == ["p-a", "p-b2", "p-b3"]
    assert not [b for b in bodies if "removed" in b or "case_a" in json.dumps(b) or A in json.dumps(b)]
    assert bodies[1]["id"] == network_review_id(A, "case_a", B, "p-b2", PEPPER) != review_id("case_a", "p-b2")
    assert bodies[1]["id"].startswith(REVIEW_ID_PREFIX)
    assert network_review_id(A, "case_a", B, "p-b2", b"another pepper") != bodies[1]["id"]


def test_the_bound_on_new_reviews_counts_every_program():
    reviews = [(p, {"id": f"r-{p}-{n}"}) for p in (A, B) for n in range(150)]
    due, left = reviews_due(reviews, {(A, "r-prg-network-a-0"), (B, "r-prg-network-a-1")})
    assert len(due) == 200 and left == 99  # one recorded already; (B, A's id) is not A's review
    assert {p for p, _ in due} == {A, B}
