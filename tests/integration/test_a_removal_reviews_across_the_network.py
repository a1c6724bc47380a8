"""A removal's reviews across the network (a fraud ring tester's F2; SPEC 5.3): partner B2 of program
B signed up on the phone and the IBAN partner A of program A later used; A was removed in program A.
Program A's partners on A's links were reviewed, B2 was not: its rewards went on to be paid, and
program B had no case until B2 itself logged in on that phone. Through the real handlers on moto:
the removal reviews the partners of every other program on A's strong identifiers, in their own
program, flagged there by `network_flagged`, and nothing of program A shows in program B."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.identity import network_pepper, usable_device
from functions.shared.domain.linked_removal import REVIEW_ID_PREFIX, REVIEW_TYPE, network_review_id, review_id
from functions.shared.domain.writes import MarkLink, Step
from functions.shared.errors import NotFound
from functions.shared.messaging import InMemoryPublisher
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.integration.test_removal_interrupted import _failing
from tests.support import call, proxy_event

SWEEP = "functions.hold_sweep.handler.lambda_handler"
IBAN = "GB29NWBK60161331926819"
_ips = itertools.count(20)
NETWORK = {
    "email": "the same e-mail address is flagged or removed in 1 other program of the network",
    "device": "the same device is flagged or removed in 1 other program of the network",
    "payout": "the same payout account is flagged or removed in 1 other program of the network",
}


@pytest.fixture
def env(aws, tenant, other_tenant, monkeypatch):
    """Program A (`tenant`) removes; program B (`other`) is the network's other program."""
    deps = runtime.dependencies()
    publisher = InMemoryPublisher()
    monkeypatch.setattr(deps, "publisher", publisher)
    clock = FixedClock(datetime(2026, 11, 21, 15, 30, tzinfo=UTC))
    monkeypatch.setattr(deps, "clock", clock)
    return SimpleNamespace(aws=aws, tenant=tenant, other=other_tenant, deps=deps, bus=publisher, clock=clock)


def ip() -> str:
    return f"81.2.69.{next(_ips)}"


def api(method: str, path: str, key: str, body: Any = None, **query: str):
    return call("cases", proxy_event(method, path, body, key, query=query or None))


def scored(tenant, event: dict[str, Any], aws) -> dict[str, Any]:
    send(tenant, event)
    drain(aws)
    return status(tenant, event["id"])


def rewards_of(tenant, partner_id: str) -> dict[str, str]:
    items = api("GET", "/v1/rewards", tenant.keys["fraud"], partner_id=partner_id).body["items"]
    return {r["id"]: r["status"] for r in items}


def partner_cases(tenant, partner_id: str) -> list[dict[str, Any]]:
    found = []
    for view in ("active", "resolved"):
        items = api("GET", "/v1/cases", tenant.keys["fraud"], view=view).body["items"]
        found += [c for c in items if c["subject"]["id"] == partner_id]
    return found


def remove(tenant, case_id: str, block: bool = True):
    return api("POST", f"/v1/cases/{case_id}/remove", tenant.keys["fraud"], {"block_reapply": block})


def b2_then_a(env, shared: str, b2_action: str = "allow", **b2: Any) -> str:
    """B2 signs up in program B (allowed, unless told) on its e-mail address, phone and IBAN; A signs
    up later in program A on B2's `shared` identifier, flagged by an address it shares with Z of
    program A (or, sharing B2's address, with Z too). A's case."""
    mine = {"email": "bee2@example.com", "device": "fp-ring-phone", "payout": IBAN} | b2
    first = signup("p-b2", **mine, ip=ip(), at="2026-11-02T09:00:00Z")
    assert scored(env.other, first, env.aws)["decision"]["action"] == b2_action
    address = mine["email"] if shared == "email" else "aye@example.com"
    scored(env.tenant, signup("p-z", email=address, ip=ip(), at="2026-11-01T08:00:00Z"), env.aws)
    a = signup(
        "p-a",
        email=address,
        device=mine["device"] if shared == "device" else "fp-a-own",
        payout=mine["payout"] if shared == "payout" else None,
        name="Alice Ringleader",
        ip=ip(),
        at="2026-11-03T09:00:00Z",
    )
    flagged = scored(env.tenant, a, env.aws)
    assert flagged["decision"]["action"] == "flag", flagged
    return flagged["case_id"]


def the_review(env, a_case: str, partner_id: str = "p-b2") -> str:
    pepper = network_pepper()
    return network_review_id(env.tenant.program_id, a_case, env.other.program_id, partner_id, pepper)


@pytest.mark.parametrize("shared", ["device", "payout", "email"])
def test_a_partner_of_another_program_on_a_removed_partners_identifier_is_reviewed_and_held(env, shared):
    # Given B2 of program B with a pending reward, and A of program A on one of B2's identifiers
    a_case = b2_then_a(env, shared)
    before = purchase("c-1", "p-b2", at="2026-11-04T12:00:00Z", ip=ip())
    assert scored(env.other, before, env.aws)["decision"]["action"] == "allow"

    # When program A removes A (with block)
    assert remove(env.tenant, a_case).status == 200
    drain(env.aws)

    # Then program B has a case for B2, flagged by the network alone, holding its earlier reward
    (case,) = partner_cases(env.other, "p-b2")
    assert case["status"] == "open"
    assert [(r["code"], r["detail"]) for r in case["reasons"]] == [("network_flagged", NETWORK[shared])]
    assert rewards_of(env.other, "p-b2") == {before["reward"]["id"]: "on_hold"}
    flagged = [d for k, d in env.bus.published if k == "PartnerFlagged" and d["subject"]["id"] == "p-b2"]
    assert [d["case_id"] for d in flagged] == [case["id"]]
    # the review is program B's event, with its decision and its case
    review = status(env.other, the_review(env, a_case))
    assert (review["type"], review["status"], review["case_id"]) == (REVIEW_TYPE, "scored", case["id"])
    assert review["decision"]["action"] == "flag" and review["event_id"].startswith(REVIEW_ID_PREFIX)
    # and what arrives later through B2 is held under the case: a purchase, an API bonus
    env.clock.advance(days=1)
    later = purchase("c-2", "p-b2", at="2026-11-22T12:00:00Z", ip=ip())
    assert scored(env.other, later, env.aws)["case_id"] == case["id"]
    bonus = {
        "id": "bonus-b2",
        "type": "reward.created",
        "occurred_at": "2026-11-22T13:00:00Z",
        "reward": {"id": "rw-bonus-b2", "partner_id": "p-b2", "amount": "150.00", "currency": "USD"},
    }
    scored(env.other, bonus, env.aws)
    invoke(SWEEP, scheduled_event("hold-sweep"))
    assert set(rewards_of(env.other, "p-b2").values()) == {"on_hold"}
    assert len(rewards_of(env.other, "p-b2")) == 3


def test_nothing_of_the_removing_program_shows_in_the_other(env):
    a_case = b2_then_a(env, "device")
    assert remove(env.tenant, a_case).status == 200
    drain(env.aws)
    (case,) = partner_cases(env.other, "p-b2")
    review_id_in_b = the_review(env, a_case)

    # what program B, its team and its webhooks can see of the review
    fraud = env.other.keys["fraud"]
    seen = {
        "stored body": env.deps.repository.get_event(env.other.program_id, review_id_in_b).body,
        "GET /v1/events": status(env.other, review_id_in_b),
        "the case": case,
        "the drawer and its audit": api("GET", f"/v1/cases/{case['id']}", fraud).body,
        "PartnerFlagged": [
            d for k, d in env.bus.published if k == "PartnerFlagged" and d["subject"]["id"] == "p-b2"
        ],
    }
    a_partner = env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-a")
    of_a = [env.tenant.program_id, a_case, "p-a", "Alice Ringleader", a_partner.name]
    for what, shown in seen.items():
        text = json.dumps(shown, default=str)
        assert not [secret for secret in of_a if secret in text], (what, text)
    # its id is no digest of A's case an integration of program B could work out
    assert review_id_in_b != review_id(a_case, "p-b2")
    # the flag's audit entry names the review (what it searched is there to search)
    assert review_id_in_b in json.dumps(seen["the drawer and its audit"]["audit"])


def test_a_crowded_identifier_in_the_other_program_reviews_no_one_there(env):
    # Given B2 of program B on a fingerprint an SDK gives 250 of program B's partners
    program_b = env.other.program_id
    device = usable_device("fp-sdk-default")
    assert device is not None
    a_case = b2_then_a(env, "device", device="fp-sdk-default", email="bee2@example.com", payout=None)
    crowd = frozenset(f"partner:p-crowd-{n}" for n in range(249))
    env.deps.repository.apply(Step([MarkLink(program_b, ("device", device), {"members": crowd})]))

    # When A, on that fingerprint in program A (where it is no crowd), is removed
    assert remove(env.tenant, a_case).status == 200
    drain(env.aws)

    # Then no partner of program B is reviewed
    assert partner_cases(env.other, "p-b2") == []
    for partner_id in ("p-b2", "p-crowd-0", "p-crowd-248"):
        with pytest.raises(NotFound):
            env.deps.repository.get_event(program_b, the_review(env, a_case, partner_id))


def test_a_partner_removed_already_in_the_other_program_is_not_reviewed(env):
    # Given B2 of program B flagged (an address it shares with Y) and removed by program B
    program_b = env.other.program_id
    scored(env.other, signup("p-y", email="bee2@example.com", ip=ip(), at="2026-11-01T07:00:00Z"), env.aws)
    a_case = b2_then_a(env, "payout", b2_action="flag")
    (b2_case,) = partner_cases(env.other, "p-b2")
    assert remove(env.other, b2_case["id"], block=False).status == 200
    drain(env.aws)

    # When program A removes A, on B2's IBAN
    assert remove(env.tenant, a_case).status == 200
    drain(env.aws)

    # Then B2 is not reviewed: it stays removed, with no new case
    with pytest.raises(NotFound):
        env.deps.repository.get_event(program_b, the_review(env, a_case))
    assert partner_cases(env.other, "p-b2") == []  # no case again (neither view lists a removed one)
    assert env.deps.repository.get_subject(program_b, "partner", "p-b2").status == "removed"


def test_the_removal_asked_again_the_sweep_and_a_redelivery_give_one_case_in_the_other_program(
    env, monkeypatch
):
    a_case = b2_then_a(env, "device")
    pending = purchase("c-1", "p-b2", at="2026-11-04T12:00:00Z", ip=ip())
    scored(env.other, pending, env.aws)
    # the removal stops after its first step (its second transaction throttled): a 503
    fault = _failing(monkeypatch, 2, lost=False)
    answer = remove(env.tenant, a_case)
    fault.armed = False
    assert fault.fired and answer.status == 503, answer
    drain(env.aws)
    assert partner_cases(env.other, "p-b2") == []  # nothing reviewed yet

    # the sweep finishes it and reviews; asked again, the review redelivered twice, swept again
    invoke(SWEEP, scheduled_event("hold-sweep"))
    assert remove(env.tenant, a_case).status == 200
    drain(env.aws)
    review = the_review(env, a_case)
    env.deps.queue.send(env.other.program_id, review)
    env.deps.queue.send(env.other.program_id, review)
    invoke(SWEEP, scheduled_event("hold-sweep"))
    drain(env.aws)

    (case,) = partner_cases(env.other, "p-b2")
    assert (case["held_rewards"], case["hold_amount"]["amount"]) == (1, "10.00")
    flagged = [d for k, d in env.bus.published if k == "PartnerFlagged" and d["subject"]["id"] == "p-b2"]
    assert len(flagged) == 1
    drawer = api("GET", f"/v1/cases/{case['id']}", env.other.keys["fraud"]).body
    assert [e["action"] for e in drawer["audit"]].count("flagged") == 1
