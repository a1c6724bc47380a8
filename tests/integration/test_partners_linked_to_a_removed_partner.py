"""A partner linked to a removed partner (a fraud tester's F4; SPEC 3.2, 5.2, 5.3): partner B signed
up first and was allowed; partner A, on one of B's e-mail address, device or payout account, was
flagged and removed. B, very likely the same fraudster's second account, used to stay active and
paid until one of its own events carried the shared identifier. Through the real handlers on moto:
the removal reviews every other partner on A's strong links, and scoring flags B."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import botocore.client
import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain import linked_removal
from functions.shared.domain.identity import usable_device
from functions.shared.domain.linked_removal import REVIEW_ID_PREFIX, REVIEW_TYPE, review_id
from functions.shared.domain.writes import MarkLink, Step
from functions.shared.errors import NotFound
from functions.shared.messaging import InMemoryPublisher
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.integration.test_removal_interrupted import _failing
from tests.support import call, proxy_event

REMOVED_AT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
SWEEP = "functions.hold_sweep.handler.lambda_handler"
IBAN = "GB29NWBK60161331926819"
_ips = itertools.count(20)


@pytest.fixture
def env(aws, tenant, other_tenant, monkeypatch):
    deps = runtime.dependencies()
    publisher = InMemoryPublisher()
    monkeypatch.setattr(deps, "publisher", publisher)
    clock = FixedClock(REMOVED_AT)
    monkeypatch.setattr(deps, "clock", clock)
    return SimpleNamespace(aws=aws, tenant=tenant, other=other_tenant, deps=deps, bus=publisher, clock=clock)


def api(method: str, path: str, key: str, body: Any = None, **query: str):
    return call("cases", proxy_event(method, path, body, key, query=query or None))


def ip() -> str:
    return f"81.2.69.{next(_ips)}"


def scored(env, event: dict[str, Any], tenant=None) -> dict[str, Any]:
    send(tenant or env.tenant, event)
    drain(env.aws)
    return status(tenant or env.tenant, event["id"])


def rewards_of(env, partner_id: str) -> dict[str, str]:
    items = api("GET", "/v1/rewards", env.tenant.keys["fraud"], partner_id=partner_id).body["items"]
    return {r["id"]: r["status"] for r in items}


def partner_cases(env, partner_id: str) -> list[dict[str, Any]]:
    fraud = env.tenant.keys["fraud"]
    found = []
    for view in ("active", "resolved"):
        found += [
            c
            for c in api("GET", "/v1/cases", fraud, view=view).body["items"]
            if c["subject"] == {"type": "partner", "id": partner_id, "name": c["subject"]["name"]}
        ]
    return found


def remove(env, case_id: str, block: bool = False):
    return api("POST", f"/v1/cases/{case_id}/remove", env.tenant.keys["fraud"], {"block_reapply": block})


def b_and_a(env, shared: str) -> str:
    """Partner B signs up first and is allowed, with a pending reward; partner A signs up later on
    B's `shared` identifier, and is flagged (by the sharing itself for an e-mail address; for a
    device or a payout account, by an address it shares with partner C). A's case."""
    mine = {"email": "bee@example.com", "device": "fp-shared-phone", "payout": IBAN}
    b = signup("p-b", email=mine["email"], device=mine["device"], payout=mine["payout"], ip=ip())
    b["occurred_at"] = "2026-11-02T09:00:00Z"
    assert scored(env, b)["decision"]["action"] == "allow"
    if shared != "email":
        c = signup("p-c", email="sea@example.com", ip=ip(), at="2026-11-02T10:00:00Z")
        assert scored(env, c)["decision"]["action"] == "allow"
    a = signup(
        "p-a",
        email=mine["email"] if shared == "email" else "sea@example.com",
        device=mine["device"] if shared == "device" else "fp-a-own",
        payout=mine["payout"] if shared == "payout" else None,
        ip=ip(),
        at="2026-11-03T09:00:00Z",
    )
    flagged = scored(env, a)
    assert flagged["decision"]["action"] == "flag", flagged
    return flagged["case_id"]


WORDS = {"email": "e-mail address", "device": "device fingerprint", "payout": "payout account"}
CODES = {"email": "email_duplicate", "device": "device_shared", "payout": "cluster"}


def a_then_b_on_one_account(env) -> str:
    """Partner A is paid into an IBAN; partner B signs up later paid into it too (two partners on one
    account: allowed); A then changes its login to partner C's address, and is flagged. A's case."""
    c = signup("p-c", email="sea@example.com", ip=ip(), at="2026-11-02T08:00:00Z")
    assert scored(env, c)["decision"]["action"] == "allow"
    a = signup(
        "p-a", email="aye@example.com", device="fp-a-own", payout=IBAN, ip=ip(), at="2026-11-02T09:00:00Z"
    )
    assert scored(env, a)["decision"]["action"] == "allow"
    b = signup(
        "p-b", email="bee@example.com", device="fp-b-own", payout=IBAN, ip=ip(), at="2026-11-02T10:00:00Z"
    )
    assert scored(env, b)["decision"]["action"] == "allow"
    change = signup("p-a", email="sea@example.com", device="fp-a-own", ip=ip(), at="2026-11-03T09:00:00Z")
    change.update(type="account.updated", activity="email_change")
    change["partner"] = {"id": "p-a", "email": "sea@example.com"}
    flagged = scored(env, change)
    assert flagged["decision"]["action"] == "flag", flagged
    return flagged["case_id"]


@pytest.mark.parametrize("shared", ["payout", "device", "email"])
def test_a_partner_sharing_an_identifier_with_a_removed_partner_is_flagged_and_its_rewards_held(env, shared):
    # a payout account is typed: B is paid into the account A was paid into before it (for a device
    # or an address, B is there first: A signs up on it)
    a_case = a_then_b_on_one_account(env) if shared == "payout" else b_and_a(env, shared)
    pending = purchase("c-1", "p-b", at="2026-11-04T12:00:00Z", ip=ip())  # B's, before A's removal
    assert scored(env, pending)["decision"]["action"] == "allow"
    assert rewards_of(env, "p-b") == {pending["reward"]["id"]: "pending"}

    assert remove(env, a_case).status == 200
    drain(env.aws)

    (case,) = partner_cases(env, "p-b")
    assert case["status"] == "open"
    reasons = {r["code"]: r["detail"] for r in case["reasons"]}
    assert set(reasons) == {CODES[shared]}, reasons
    assert reasons[CODES[shared]] == f"{WORDS[shared]} also used by partner p-a (removed)"
    # its reward from before the removal is held under it, not left to be paid
    assert rewards_of(env, "p-b") == {pending["reward"]["id"]: "on_hold"}
    assert (case["held_rewards"], case["hold_amount"]["amount"]) == (1, "10.00")
    flagged = [d for kind, d in env.bus.published if kind == "PartnerFlagged" and d["subject"]["id"] == "p-b"]
    assert [d["case_id"] for d in flagged] == [case["id"]]
    # a reward arriving later through B is held at arrival
    env.clock.advance(days=1)
    later = purchase("c-2", "p-b", at="2026-11-22T12:00:00Z", ip=ip())
    assert scored(env, later)["case_id"] == case["id"]
    assert rewards_of(env, "p-b")[later["reward"]["id"]] == "on_hold"
    # the review is an event of its own, with its decision and its case
    review = status(env.tenant, review_id(a_case, "p-b"))
    assert (review["type"], review["status"], review["case_id"]) == (REVIEW_TYPE, "scored", case["id"])


def test_a_partner_whose_iban_a_flagged_partner_typed_after_it_is_not_flagged_by_the_removal(env):
    # B is paid into its IBAN; A, flagged, gives it as its own payout account after B, and is
    # removed: typing an account is anyone's (a frame), no evidence against B, who had it first
    a_case = b_and_a(env, "payout")
    pending = purchase("c-1", "p-b", at="2026-11-04T12:00:00Z", ip=ip())
    assert scored(env, pending)["decision"]["action"] == "allow"
    assert remove(env, a_case).status == 200
    drain(env.aws)
    assert partner_cases(env, "p-b") == []
    assert rewards_of(env, "p-b") == {pending["reward"]["id"]: "pending"}


def test_the_removal_asked_again_the_sweep_and_a_redelivery_give_one_case(env, monkeypatch):
    a_case = b_and_a(env, "device")
    pending = purchase("c-1", "p-b", at="2026-11-04T12:00:00Z", ip=ip())
    scored(env, pending)
    # the removal stops after its first step (its second transaction throttled): a 503, left to the
    # sweep (`test_removal_interrupted`)
    fault = _failing(monkeypatch, 2, lost=False)
    answer = remove(env, a_case)
    fault.armed = False
    assert fault.fired and answer.status == 503, answer
    drain(env.aws)
    assert partner_cases(env, "p-b") == []  # nothing reviewed yet

    # the sweep finishes the removal and reviews; the same removal asked again and a redelivery of
    # the review's message find it done
    invoke(SWEEP, scheduled_event("hold-sweep"))
    assert remove(env, a_case).status == 200
    drain(env.aws)
    env.deps.queue.send(env.tenant.program_id, review_id(a_case, "p-b"))
    env.deps.queue.send(env.tenant.program_id, review_id(a_case, "p-b"))
    invoke(SWEEP, scheduled_event("hold-sweep"))
    drain(env.aws)

    (case,) = partner_cases(env, "p-b")
    assert (case["held_rewards"], case["hold_amount"]["amount"]) == (1, "10.00")
    assert rewards_of(env, "p-b") == {pending["reward"]["id"]: "on_hold"}
    flagged = [d for kind, d in env.bus.published if kind == "PartnerFlagged" and d["subject"]["id"] == "p-b"]
    assert len(flagged) == 1
    drawer = api("GET", f"/v1/cases/{case['id']}", env.tenant.keys["fraud"]).body
    assert [e["action"] for e in drawer["audit"]].count("flagged") == 1


def test_a_partner_flagged_already_gets_the_reason_on_its_case(env):
    a_case = b_and_a(env, "email")  # A flagged: B shares the address
    # B's own login carrying the address flags B while A is flagged (SPEC 5.2)
    login = signup("p-b", email="bee@example.com", ip=ip(), at="2026-11-05T09:00:00Z")
    login["type"], login["activity"] = "account.updated", "login"
    del login["partner"]["address"]
    first = scored(env, login)
    assert first["decision"]["action"] == "flag", first

    assert remove(env, a_case).status == 200
    drain(env.aws)

    (case,) = partner_cases(env, "p-b")
    assert case["id"] == first["case_id"]  # its case, no second one
    detail = {r["code"]: r["detail"] for r in case["reasons"]}["email_duplicate"]
    assert detail == "e-mail address also used by partner p-a (removed)"


def test_a_crowded_device_flags_none_of_its_partners_and_a_customer_on_it_is_not_reviewed(env):
    program = env.tenant.program_id
    device = usable_device("fp-sdk-default")
    assert device is not None
    # 150 partners on the SDK's one fingerprint, then A signs up there, then 99 more: 250
    crowd = frozenset(f"partner:p-crowd-{n}" for n in range(150))
    env.deps.repository.apply(Step([MarkLink(program, ("device", device), {"members": crowd})]))
    a = signup("p-a", email="aye@example.com", device="fp-sdk-default", ip=ip(), at="2026-11-03T09:00:00Z")
    scored(env, a)  # flagged: a device of several (SPEC 5.2), the link not crowded yet
    more = frozenset(f"partner:p-crowd-{n}" for n in range(150, 249))
    env.deps.repository.apply(Step([MarkLink(program, ("device", device), {"members": more})]))
    # a customer of another partner bought on A's own phone before A was flagged: device shared, weak
    shop = purchase("c-phone", "p-shop", device="fp-a-phone", ip=ip(), at="2026-11-03T08:00:00Z")
    phone = signup("p-a", email="aye@example.com", device="fp-a-phone", ip=ip(), at="2026-11-03T09:30:00Z")
    scored(env, shop)
    phone["type"], phone["activity"] = "account.updated", "login"
    del phone["partner"]["address"]
    scored(env, phone)
    # A flagged: an account change to partner E's address
    e = signup("p-e", email="ee@example.com", ip=ip(), at="2026-11-02T09:00:00Z")
    scored(env, e)
    change = signup("p-a", email="ee@example.com", ip=ip(), at="2026-11-04T09:00:00Z")
    change["type"], change["activity"] = "account.updated", "email_change"
    del change["partner"]["address"], change["session"]["device_fingerprint"]
    flagged = scored(env, change)
    assert flagged["decision"]["action"] == "flag", flagged
    customer_before = env.deps.repository.get_subject(program, "customer", "c-phone")

    assert remove(env, flagged["case_id"]).status == 200
    drain(env.aws)

    # E (the address) is reviewed and flagged; no partner of the crowded device, nor the customer
    assert [c["subject"]["id"] for c in partner_cases(env, "p-e")] == ["p-e"]
    for n in (0, 100, 200, 248):
        with pytest.raises(NotFound):
            env.deps.repository.get_event(program, review_id(flagged["case_id"], f"p-crowd-{n}"))
    customer = env.deps.repository.get_subject(program, "customer", "c-phone")
    assert (customer.status, customer.active_case_id) == (customer_before.status, None)
    fraud = env.tenant.keys["fraud"]
    subjects = {c["subject"]["id"] for c in api("GET", "/v1/cases", fraud).body["items"]}
    assert subjects == {"p-e"}  # A's case is removed; nothing else opened


# --- what a review of the feature found -------------------------------------------------------
CYCLE = "functions.disputes.cycle.lambda_handler"


def _set_clock(env, at: datetime) -> None:
    env.clock.advance(seconds=(at - env.clock.now()).total_seconds())


def _login(partner_id: str, email: str, at: str, device: str | None = None) -> dict[str, Any]:
    event = signup(partner_id, email=email, device=device, ip=ip(), at=at)
    event["type"], event["activity"] = "account.updated", "login"
    del event["partner"]["address"]
    return event


def test_a_partner_whose_dispute_was_approved_is_flagged_again_without_its_released_rewards(
    env, security_key
):
    # Given B (signed up 11-02, a reward 11-04) flagged on 11-05 by its own login on the address A
    # shares, a reward 11-06 held under that case, the dispute approved and the cycle run on 12-01:
    # the held reward released to pending
    scored(env, signup("p-b", email="bee@example.com", device="fp-b", ip=ip(), at="2026-11-02T09:00:00Z"))
    a = scored(env, signup("p-a", email="bee@example.com", device="fp-a", ip=ip(), at="2026-11-03T09:00:00Z"))
    assert a["decision"]["action"] == "flag"
    early = purchase("c-1", "p-b", at="2026-11-04T12:00:00Z", ip=ip())
    scored(env, early)
    b_flag = scored(env, _login("p-b", "bee@example.com", "2026-11-05T09:00:00Z"))
    assert b_flag["decision"]["action"] == "flag", b_flag
    late = purchase("c-2", "p-b", at="2026-11-06T12:00:00Z", ip=ip())
    scored(env, late)
    released = late["reward"]["id"]
    assert rewards_of(env, "p-b") == {early["reward"]["id"]: "pending", released: "on_hold"}
    fraud = env.tenant.keys["fraud"]
    dispute = {"reason": "honest, checked by phone"}
    disputed = call("disputes", proxy_event("POST", f"/v1/cases/{b_flag['case_id']}/dispute", dispute, fraud))
    assert disputed.status == 200
    verdict = {"verdict": "approve", "note": "B is the real owner of bee@"}
    path = f"/v1/disputes/{b_flag['case_id']}/verdict"
    assert call("disputes", proxy_event("POST", path, verdict, security_key)).status == 200
    _set_clock(env, datetime(2026, 12, 1, tzinfo=UTC))
    invoke(CYCLE, scheduled_event("dispute-cycle"))
    assert rewards_of(env, "p-b")[released] == "pending"  # the verdict released it
    # and a reward of B's after the approval
    _set_clock(env, datetime(2026, 12, 2, 13, tzinfo=UTC))
    after = purchase("c-3", "p-b", at="2026-12-02T12:00:00Z", ip=ip())
    scored(env, after)

    # When A is removed
    _set_clock(env, datetime(2026, 12, 3, 10, tzinfo=UTC))
    assert remove(env, a["case_id"]).status == 200
    drain(env.aws)

    # Then B is flagged again (SPEC 5.3: another removed subject on its address keeps raising it),
    # but the holds reach back to the approval, not through it: what the verdict released stays
    # released, the reward after the approval is held
    (case,) = [c for c in partner_cases(env, "p-b") if c["status"] == "open"]
    assert [r["code"] for r in case["reasons"]] == ["email_duplicate"]
    assert rewards_of(env, "p-b") == {
        early["reward"]["id"]: "pending",
        released: "pending",
        after["reward"]["id"]: "on_hold",
    }
    assert (case["held_rewards"], case["hold_amount"]["amount"]) == (1, "10.00")


def test_a_reward_dated_minutes_ahead_that_the_approval_released_stays_released(env, security_key):
    # Given B flagged on its own login on A's address, and B's purchase received at 23:58 from an
    # integration whose clock runs 4 minutes ahead (SPEC 3.1 takes up to 5): dated 00:02, held; the
    # cycle at 00:00 approves B and releases it
    scored(env, signup("p-b", email="bee@example.com", device="fp-b", ip=ip(), at="2026-11-02T09:00:00Z"))
    a = scored(env, signup("p-a", email="bee@example.com", device="fp-a", ip=ip(), at="2026-11-03T09:00:00Z"))
    b_flag = scored(env, _login("p-b", "bee@example.com", "2026-11-05T09:00:00Z"))
    assert b_flag["decision"]["action"] == "flag", b_flag
    _set_clock(env, datetime(2026, 11, 30, 23, 58, tzinfo=UTC))
    ahead = purchase("c-9", "p-b", at="2026-12-01T00:02:00Z", ip=ip())
    scored(env, ahead)
    fraud = env.tenant.keys["fraud"]
    case_id = b_flag["case_id"]
    disputed = call("disputes", proxy_event("POST", f"/v1/cases/{case_id}/dispute", {"reason": "ok"}, fraud))
    assert disputed.status == 200
    verdict = {"verdict": "approve", "note": "checked"}
    judged = call("disputes", proxy_event("POST", f"/v1/disputes/{case_id}/verdict", verdict, security_key))
    assert judged.status == 200
    _set_clock(env, datetime(2026, 12, 1, tzinfo=UTC))
    invoke(CYCLE, scheduled_event("dispute-cycle"))
    assert rewards_of(env, "p-b")[ahead["reward"]["id"]] == "pending"

    # When A is removed two days later
    _set_clock(env, datetime(2026, 12, 3, 10, tzinfo=UTC))
    assert remove(env, a["case_id"]).status == 200
    drain(env.aws)

    # Then B is flagged again, and what the verdict released stays released (a re-review's find)
    assert [c["status"] for c in partner_cases(env, "p-b")].count("open") == 1
    assert rewards_of(env, "p-b")[ahead["reward"]["id"]] == "pending"


def _b_on_two_of_as(env, shared: str) -> tuple[str, str]:
    """B on two of A's identifiers of one kind: two devices, or a British IBAN (its account and
    its sort code and number: two payout keys; A paid into it first, a payout account being typed).
    A's case and B's review's id."""
    if shared == "payout":
        a_case = a_then_b_on_one_account(env)
        return a_case, review_id(a_case, "p-b")
    else:
        scored(env, signup("p-b", email="bee@example.com", device="fp-1", ip=ip(), at="2026-11-02T09:00:00Z"))
        scored(env, _login("p-b", "bee@example.com", "2026-11-02T09:30:00Z", device="fp-2"))
    scored(env, signup("p-c", email="sea@example.com", ip=ip(), at="2026-11-02T10:00:00Z"))
    a = signup(
        "p-a",
        email="sea@example.com",
        device=None if shared == "payout" else "fp-1",
        payout=IBAN if shared == "payout" else None,
        ip=ip(),
        at="2026-11-03T09:00:00Z",
    )
    flagged = scored(env, a)
    if shared == "device":
        scored(env, _login("p-a", "sea@example.com", "2026-11-03T09:30:00Z", device="fp-2"))
    return flagged["case_id"], review_id(flagged["case_id"], "p-b")


@pytest.mark.parametrize("shared", ["payout", "device"])
def test_a_review_gives_each_reason_once_naming_the_removed_partner_once(env, shared):
    a_case, review = _b_on_two_of_as(env, shared)
    assert remove(env, a_case).status == 200
    drain(env.aws)

    links = env.deps.repository.get_event(env.tenant.program_id, review).body["links"]
    # several identifiers of one kind: two devices, or one IBAN under its key and its two domestic
    # forms' (`identity.other_payout_keys`)
    assert [link["kind"] for link in links] == [shared] * (3 if shared == "payout" else 2)

    reasons = [(CODES[shared], f"{WORDS[shared]} also used by partner p-a (removed)")]
    decision = status(env.tenant, review)["decision"]
    assert [(r["code"], r["detail"]) for r in decision["reasons"]] == reasons
    (flagged,) = [d for k, d in env.bus.published if k == "PartnerFlagged" and d["subject"]["id"] == "p-b"]
    assert [(r["code"], r["detail"]) for r in flagged["reasons"]] == reasons
    (case,) = partner_cases(env, "p-b")
    assert [(r["code"], r["count"]) for r in case["reasons"]] == [(CODES[shared], 1)]


class _ReviewPuts:
    """The review puts (`PutItem` of an event `linked_removal_...`) botocore makes, each given
    `pause` seconds: how many, and how many were in flight at once at most."""

    def __init__(self, monkeypatch, pause: float = 0.0) -> None:
        real = botocore.client.BaseClient._make_api_call
        self.count = self.in_flight = self.most = 0
        lock = threading.Lock()

        def call_counting(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if operation != "PutItem" or REVIEW_ID_PREFIX not in str(params.get("Item", "")):
                return real(client, operation, params)
            with lock:
                self.count += 1
                self.in_flight += 1
                self.most = max(self.most, self.in_flight)
            try:
                time.sleep(pause)
                return real(client, operation, params)
            finally:
                with lock:
                    self.in_flight -= 1

        monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", call_counting)


def _many_on_as_device(env, partners: int) -> str:
    """`partners` partners on A's device, signed up before A; A flagged by partner C's address
    (C is reviewed too). A's case."""
    for n in range(partners):
        at = f"2026-11-02T{n // 60:02}:{n % 60:02}:00Z"
        send(env.tenant, signup(f"p-b{n}", email=f"b{n}@example.com", device="fp-farm", ip=ip(), at=at))
    scored(env, signup("p-c", email="sea@example.com", ip=ip(), at="2026-11-02T10:00:00Z"))
    flagged = scored(
        env, signup("p-a", email="sea@example.com", device="fp-farm", ip=ip(), at="2026-11-03T09:00:00Z")
    )
    assert flagged["decision"]["action"] == "flag", flagged
    return flagged["case_id"]


def test_a_removal_records_a_bounded_number_of_reviews_and_is_finished_by_its_retry_or_the_sweep(
    env, monkeypatch
):
    # Given A with 6 partners on its links (5 on its device, C on its address), and a removal that
    # records at most 2 new reviews at a time (200 deployed: the cases function's 10 s timeout)
    a_case = _many_on_as_device(env, 5)
    reviewed = [f"p-b{n}" for n in range(5)] + ["p-c"]
    monkeypatch.setattr(linked_removal, "REVIEWS_PER_CALL", 2, raising=False)
    program = env.tenant.program_id

    def recorded() -> list[str]:
        found = env.deps.repository.get_events([(program, review_id(a_case, p)) for p in reviewed])
        return sorted(event.body["partner_id"] for event in found.values())

    # When it is removed: answered as done (what the team asked: the partner removed), 2 reviews
    # recorded, its removal under way (not noted done: on the sweep's list)
    puts = _ReviewPuts(monkeypatch)
    first = remove(env, a_case)
    assert first.status == 200 and first.body["removed_at"], first
    assert len(recorded()) == 2 and puts.count == 2
    a = env.deps.repository.get_subject(program, "partner", "p-a")
    assert (a.status, a.removal_pending) == ("removed", True)
    # asked with another choice of blocking: refused, said as removed, not as work to finish
    other = remove(env, a_case, block=True)
    assert other.status == 409 and "its partner was removed by" in other.body["detail"], other
    assert len(recorded()) == 2
    # asked again as asked: 2 more, the 2 recorded before read, not written again
    assert remove(env, a_case).status == 200
    assert len(recorded()) == 4 and puts.count == 4
    # the hold sweep goes on with the rest, and notes the removal done
    invoke(SWEEP, scheduled_event("hold-sweep"))
    assert recorded() == sorted(reviewed) and puts.count == 6
    assert not env.deps.repository.get_subject(program, "partner", "p-a").removal_pending
    assert remove(env, a_case).status == 200  # done: answered as done
    drain(env.aws)
    assert all(partner_cases(env, p) for p in reviewed)


def test_a_removal_records_its_reviews_side_by_side(env, monkeypatch):
    a_case = _many_on_as_device(env, 11)
    puts = _ReviewPuts(monkeypatch, pause=0.05)  # a round trip of 50 ms

    assert remove(env, a_case).status == 200

    assert puts.count == 12 and puts.most > 1, (puts.count, puts.most)


def test_an_integration_cannot_take_a_reviews_id_and_one_taken_before_is_an_error(env, caplog):
    a_case = b_and_a(env, "device")  # B on A's device, C on A's address
    # Given an integration sending an event under B's review's id (the id is the case's and the
    # partner's: it reads A's case id from GET /v1/events)
    taken = review_id(a_case, "p-b")
    squat = _login("p-z", "zed@example.com", "2026-11-20T09:00:00Z")
    squat["id"] = taken
    answer = call("ingest", proxy_event("POST", "/v1/events", squat, env.tenant.keys["integration"]))
    # Then it is refused, naming the id and that its prefix is the system's
    assert answer.status == 422, answer
    (error,) = answer.body["errors"]
    assert error["field"] == "id" and REVIEW_ID_PREFIX in error["message"], error
    assert "system" in error["message"]
    with pytest.raises(NotFound):
        env.deps.repository.get_event(env.tenant.program_id, taken)

    # Given one an older version accepted (recorded straight into the store)
    squat["id"] = "zed-login"
    stored = env.deps.repository.get_event(env.tenant.program_id, scored(env, squat)["event_id"])
    env.deps.repository.record_event(replace(stored, event_id=taken, body={**stored.body, "id": taken}))
    # When A is removed: the taken id is an error in the log, not a review recorded; C is reviewed
    assert remove(env, a_case).status == 200
    drain(env.aws)
    assert "a removal's review id is taken by another event" in caplog.text
    assert env.deps.repository.get_event(env.tenant.program_id, taken).type == "account.updated"
    assert partner_cases(env, "p-c")
