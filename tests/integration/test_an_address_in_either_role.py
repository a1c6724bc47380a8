"""One e-mail address as a login and as a PayPal payout account (a fraud ring tester's finding; SPEC
3.2 "a removed partner is never paid again", 5.2 "an e-mail address shared with a removed subject
is strong evidence"). Partner A, removed with block_reapply, came back as partner B with a new
e-mail address and device, paid into a PayPal account on A's old login address, or signed up with
A's old PayPal address as its login: both were `allow 0`, B's commissions pending, because links
are kept per kind and ("payout", x) never met ("email", x). Nor did the removal's review find a
partner that had used A's address in the other role first. Through the real handlers on moto."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.domain.linked_removal import review_id
from functions.shared.messaging import InMemoryPublisher
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import call, proxy_event

NOW = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
A_LOGIN, A_PAYPAL = "ring.boss@gmail.com", "PayPal: boss.wallet@gmail.com"
_ips = itertools.count(20)


@pytest.fixture
def env(aws, tenant, monkeypatch):
    deps = runtime.dependencies()
    monkeypatch.setattr(deps, "publisher", InMemoryPublisher())
    clock = FixedClock(NOW)
    monkeypatch.setattr(deps, "clock", clock)
    return SimpleNamespace(aws=aws, tenant=tenant, clock=clock)


def ip() -> str:
    return f"81.2.69.{next(_ips)}"


def api(method: str, path: str, key: str, body: Any = None, **query: str):
    return call("cases", proxy_event(method, path, body, key, query=query or None))


def scored(env, event: dict[str, Any]) -> dict[str, Any]:
    send(env.tenant, event)
    drain(env.aws)
    return status(env.tenant, event["id"])


def rewards_of(env, partner_id: str) -> dict[str, str]:
    items = api("GET", "/v1/rewards", env.tenant.keys["fraud"], partner_id=partner_id).body["items"]
    return {r["id"]: r["status"] for r in items}


def reasons_of(decision: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["detail"] for r in decision["reasons"]}


def remove_a(env, *, login: str, payout: str | None, block: bool, then_paid_at: str | None = None) -> str:
    """Partner A signs up on throwaway partner Z's address (flagged: `email_duplicate`), paid at
    `payout` (and, flagged, then at `then_paid_at`), and is removed from its case (its id returned)."""
    z = signup("p-z", email=login, ip=ip(), at="2026-11-01T08:00:00Z")
    scored(env, z)
    a = signup("p-a", email=login, device="fp-a-own", payout=payout, ip=ip(), at="2026-11-03T09:00:00Z")
    flagged = scored(env, a)
    assert flagged["decision"]["action"] == "flag", flagged
    if then_paid_at:
        update = signup("p-a", device="fp-a-own", ip=ip(), at="2026-11-04T09:00:00Z")
        update.update(type="account.updated", activity="payout_update")
        update["partner"] = {"id": "p-a", "payout_account": then_paid_at}
        scored(env, update)
    removed = api(
        "POST", f"/v1/cases/{flagged['case_id']}/remove", env.tenant.keys["fraud"], {"block_reapply": block}
    )
    assert removed.status == 200
    drain(env.aws)
    invoke("functions.hold_sweep.handler.lambda_handler", scheduled_event("hold-sweep"))
    drain(env.aws)
    return str(flagged["case_id"])


@pytest.mark.parametrize(
    "back_with,code,detail",
    [
        (  # A's login address as B's PayPal account: the blocked address, given in another field
            {"payout": "ringboss@gmail.com"},
            "blocked_reapply",
            "same e-mail address as partner p-a, removed and blocked from reapplying "
            "(given here as the payout account)",
        ),
        (  # A's PayPal address (googlemail, a dot and a tag away) as B's login
            {"email": "boss.wallet+x@googlemail.com"},
            "email_duplicate",
            "e-mail address used as a payout account by partner p-a (removed)",
        ),
    ],
)
def test_a_removed_partners_address_back_in_the_other_role_is_flagged_unpaid(env, back_with, code, detail):
    remove_a(env, login=A_LOGIN, payout=A_PAYPAL, block=True)
    env.clock.advance(days=5)
    b = signup(
        "p-b",
        email=back_with.get("email", "fresh-identity@example.org"),
        device="fp-b-new",
        payout=back_with.get("payout"),
        ip=ip(),
        at="2026-11-26T09:00:00Z",
    )
    decision = scored(env, b)
    assert decision["decision"]["action"] == "flag", decision
    assert reasons_of(decision["decision"])[code] == detail
    # its commission is held at arrival, not left pending to be paid
    commission = purchase("c-1", "p-b", at="2026-11-26T12:00:00Z", ip=ip())
    assert scored(env, commission)["case_id"] == decision["case_id"]
    assert rewards_of(env, "p-b") == {commission["reward"]["id"]: "on_hold"}


def test_a_customer_buying_at_a_removed_partners_paypal_address_is_flagged_its_reward_held(env):
    # the removed partner, at another partner's checkout, with the address it was paid into
    remove_a(env, login=A_LOGIN, payout=A_PAYPAL, block=False)
    env.clock.advance(days=5)
    assert scored(env, signup("p-shop", ip=ip(), at="2026-11-20T09:00:00Z"))["decision"]["action"] == "allow"
    address = "Boss.Wallet+shop@googlemail.com"
    bought = purchase("c-1", "p-shop", email=address, ip=ip(), at="2026-11-26T12:00:00Z")
    decision = scored(env, bought)
    assert decision["decision"]["action"] == "flag", decision
    assert reasons_of(decision["decision"])["email_duplicate"] == (
        "e-mail address used as a payout account by partner p-a (removed)"
    )
    assert rewards_of(env, "p-shop") == {bought["reward"]["id"]: "on_hold"}


def test_a_payout_change_to_a_removed_partners_login_address_is_flagged(env):
    remove_a(env, login="ring.bee@gmail.com", payout=None, block=False)
    env.clock.advance(days=5)
    c = signup("p-c", email="other-new@example.org", device="fp-c-new", ip=ip(), at="2026-11-22T09:30:00Z")
    assert scored(env, c)["decision"]["action"] == "allow"
    update = signup("p-c", device="fp-c-new", ip="81.2.69.200", at="2026-11-25T09:00:00Z")
    update.update(type="account.updated", activity="payout_update")
    update["partner"] = {"id": "p-c", "payout_account": "PayPal: Ring.Bee@gmail.com"}
    decision = scored(env, update)
    assert decision["decision"]["action"] == "flag", decision
    assert reasons_of(decision["decision"])["email_duplicate"] == (
        "payout account used as a login e-mail by partner p-a (removed), partner p-z (flagged)"
    )


@pytest.mark.parametrize(
    "b_gives,a_gives,detail",
    [
        (  # B paid into a PayPal account on the address A later signs up with
            {"payout": "ringbee@gmail.com"},
            {"login": "ring.bee@gmail.com", "payout": None},
            "payout account used as a login e-mail by partner p-a (removed)",
        ),
    ],
)
def test_the_removal_reviews_a_partner_on_its_address_in_the_other_role(env, b_gives, a_gives, detail):
    b = signup(
        "p-b",
        email=b_gives.get("email", "bee-own@example.com"),
        device="fp-b-own",
        payout=b_gives.get("payout"),
        ip=ip(),
        at="2026-11-02T09:00:00Z",
    )
    assert scored(env, b)["decision"]["action"] == "allow"
    pending = purchase("c-1", "p-b", at="2026-11-04T12:00:00Z", ip=ip())
    assert scored(env, pending)["decision"]["action"] == "allow"

    remove_a(env, block=True, **a_gives)

    cases = api("GET", "/v1/cases", env.tenant.keys["fraud"], view="active").body["items"]
    (case,) = [c for c in cases if c["subject"]["id"] == "p-b"]
    # (partner p-z, on A's login address too, is reviewed by the same removal: flagged or not yet)
    (reason,) = case["reasons"]
    assert reason["code"] == "email_duplicate" and reason["detail"].startswith(detail), reason
    assert rewards_of(env, "p-b") == {pending["reward"]["id"]: "on_hold"}


def test_a_partner_whose_login_address_a_flagged_partner_types_as_its_paypal_is_not_framed(env):
    # a security tester's frame: Jane signs up and sells; a throwaway account flags itself (two
    # sign-ups on one address), then gives Jane's login address as its PayPal account, and is
    # removed. Typing an address into a payout field is anyone's: Jane, who had it first, is not
    # flagged, not at her next login, nor by the removal's review; her commission stays pending
    jane = signup(
        "p-jane", email="jane.doe@example.com", device="fp-jane", ip=ip(), at="2026-11-02T09:00:00Z"
    )
    assert scored(env, jane)["decision"]["action"] == "allow"
    sale = purchase("c-1", "p-jane", at="2026-11-04T12:00:00Z", ip=ip())
    assert scored(env, sale)["decision"]["action"] == "allow"
    remove_a(
        env,
        login="throwaway@example.org",
        payout=None,
        block=True,
        then_paid_at="PayPal: Jane.Doe@example.com",
    )
    login = signup(
        "p-jane", email="jane.doe@example.com", device="fp-jane", ip=ip(), at="2026-11-20T09:00:00Z"
    )
    login.update(type="account.updated", activity="login")
    assert scored(env, login)["decision"]["action"] == "allow"
    cases = api("GET", "/v1/cases", env.tenant.keys["fraud"], view="active").body["items"]
    assert [c for c in cases if c["subject"]["id"] == "p-jane"] == []
    assert rewards_of(env, "p-jane") == {sale["reward"]["id"]: "pending"}


def test_a_review_names_an_address_in_both_roles_in_one_reason(env):
    # B logs in at A's PayPal address and is paid at A's login address (the two swapped); A is
    # flagged and removed: B's review gives `email_duplicate` once (90), for the login A came to
    b = signup(
        "p-b",
        email="boss.wallet@gmail.com",
        device="fp-b-own",
        payout="PayPal: ring.boss@gmail.com",
        ip=ip(),
        at="2026-11-02T09:00:00Z",
    )
    assert scored(env, b)["decision"]["action"] == "allow"
    case_a = remove_a(env, login=A_LOGIN, payout=A_PAYPAL, block=False)
    review = status(env.tenant, review_id(case_a, "p-b"))["decision"]
    assert [r["code"] for r in review["reasons"]] == ["email_duplicate"], review
    assert review["score"] == 90, review
    detail = review["reasons"][0]["detail"]
    assert "payout account used as a login e-mail by partner p-a (removed)" in detail
    # A typed B's login address as its PayPal account after B signed up with it: no evidence
    assert "e-mail address used as a payout account" not in detail


def test_a_farm_removed_one_at_a_time_reviews_its_paypal_payees_once(env):
    # four accounts log in with one address (each after the first flagged `email_duplicate`), three
    # are paid at it as a PayPal account (flagged: the address of flagged partners); the team
    # removes the farm's accounts one at a time: the payees are reviewed at the first removal only
    farm = "farm.box@gmail.com"
    cases = {}
    for i in range(4):
        farmed = scored(
            env, signup(f"p-k{i}", email=farm, device=f"fp-k{i}", ip=ip(), at=f"2026-11-01T0{i}:00:00Z")
        )
        cases[f"p-k{i}"] = farmed["case_id"]
    payees = [f"p-m{j}" for j in range(3)]
    for j, payee in enumerate(payees):
        paid = signup(
            payee, device=f"fp-m{j}", payout=f"PayPal: {farm}", ip=ip(), at=f"2026-11-01T1{j}:00:00Z"
        )
        assert scored(env, paid)["decision"]["action"] == "flag"
    reviewed = []
    for removed in ("p-k1", "p-k2", "p-k3"):
        answer = api(
            "POST", f"/v1/cases/{cases[removed]}/remove", env.tenant.keys["fraud"], {"block_reapply": False}
        )
        assert answer.status == 200, answer
        drain(env.aws)
        reviews = {p: review_id(cases[removed], p) for p in payees}
        reviewed.append([p for p, event_id in reviews.items() if _recorded(env, event_id)])
    assert reviewed == [payees, [], []]


def _recorded(env, event_id: str) -> bool:
    answer = call(
        "ingest", proxy_event("GET", f"/v1/events/{event_id}", None, env.tenant.keys["integration"])
    )
    return answer.status == 200


@pytest.mark.parametrize(
    "payout",
    [
        "PAYPAL\uff1aring.boss@gmail.com",
        "Ring Boss <ring.boss@gmail.com>",
        "mailto:ring.boss@gmail.com?subject=payout",
    ],
)
def test_a_blocked_partners_login_back_as_a_payout_account_written_otherwise_is_blocked(env, payout):
    # a full-width colon after the label, a named address, a mailto link with a query: each the
    # address, as `PayPal: ring.boss@gmail.com` is (each was `allow 0`)
    remove_a(env, login=A_LOGIN, payout=None, block=True)
    env.clock.advance(days=5)
    b = signup(
        "p-b",
        email="fresh-identity@example.org",
        device="fp-b-new",
        payout=payout,
        ip=ip(),
        at="2026-11-26T09:00:00Z",
    )
    decision = scored(env, b)["decision"]
    assert decision["action"] == "flag", decision
    assert "blocked_reapply" in reasons_of(decision)


def test_a_family_paid_into_one_parents_paypal_is_not_flagged(env):
    # Mum, a partner paid by bank; child 1 paid into the PayPal account on Mum's login address;
    # child 2 sets it as its payout account 20 minutes after signing up: weak (20), no `cluster`
    mum = signup("p-mum", email="mum.jones@gmail.com", payout="GB29 NWBK 6016 1331 9268 19", ip=ip())
    child = signup("p-k1", email="dj.jones99@hotmail.com", payout="PayPal: mumjones@gmail.com", ip=ip())
    for partner in (mum, child):
        assert scored(env, partner)["decision"]["action"] == "allow"
    home = ip()
    assert scored(env, signup("p-k2", email="bella-j@proton.me", ip=home, at="2026-11-03T09:00:00Z"))
    change = signup("p-k2", ip=home, at="2026-11-03T09:20:00Z")
    change.update(type="account.updated", activity="payout_update")
    change["partner"] = {"id": "p-k2", "payout_account": "PayPal: mum.jones@gmail.com"}
    decision = scored(env, change)["decision"]
    assert (decision["action"], decision["score"]) == ("allow", 20), decision
    assert [r["code"] for r in decision["reasons"]] == ["unusual_activity"]
