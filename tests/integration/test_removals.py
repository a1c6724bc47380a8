"""Removing a partner (SPEC 3.2; the seed's "Remove partner" and Removed partners tab): rewards
archived, the case out of the active view, PartnerRemoved on the bus, the removal columns, and
`block_reapply` flagging the same person at once when they apply again."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import call, proxy_event, sample

REMOVED_AT = datetime(2026, 11, 21, 15, 30, tzinfo=UTC)
_ips = itertools.count(120)


@pytest.fixture
def env(aws, tenant, other_tenant, security_key, monkeypatch):
    deps = runtime.dependencies()
    publisher = InMemoryPublisher()
    monkeypatch.setattr(deps, "publisher", publisher)
    clock = FixedClock(REMOVED_AT)
    monkeypatch.setattr(deps, "clock", clock)
    return SimpleNamespace(
        aws=aws,
        tenant=tenant,
        other=other_tenant,
        security=security_key,
        deps=deps,
        bus=publisher,
        clock=clock,
    )


def api(function: str, method: str, path: str, key: str, body: Any = None, **query: str):
    return call(function, proxy_event(method, path, body, key, query=query or None))


def flag_partner(env, partner_id: str, email: str, *, name: str, day: int = 3, tenant=None) -> str:
    """Another partner signed up with the same e-mail address first: `partner_id` is flagged."""
    tenant = tenant or env.tenant
    first = signup(
        f"{partner_id}-first", email=email, ip=f"81.2.69.{next(_ips)}", at=f"2026-11-0{day - 1}T09:00:00Z"
    )
    flagged = signup(
        partner_id, email=email, name=name, ip=f"81.2.69.{next(_ips)}", at=f"2026-11-0{day}T09:00:00Z"
    )
    send(tenant, first)
    send(tenant, flagged)
    drain(env.aws)
    answer = status(tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer["case_id"]


def buy(env, customer_id: str, partner_id: str, at: str, amount: str, currency: str = "USD") -> str:
    event = purchase(
        customer_id, partner_id, at=at, reward=amount, currency=currency, ip=f"81.2.69.{next(_ips)}"
    )
    send(env.tenant, event)
    return event["reward"]["id"]


def remove(env, case_id: str, block: bool, key: str = "fraud", tenant=None):
    tenant = tenant or env.tenant
    return api("cases", "POST", f"/v1/cases/{case_id}/remove", tenant.keys[key], {"block_reapply": block})


def reapply(env, partner_id: str, *, email: str, device: str | None = None, tenant=None) -> dict[str, Any]:
    """A sign-up on 2026-11-25; returns its decision and the codes of its reasons."""
    received = datetime(2026, 11, 25, 9, tzinfo=UTC)
    if env.clock.now() < received:  # an event is never received before it occurs (SPEC 3.1)
        env.clock.advance(seconds=(received - env.clock.now()).total_seconds())
    event = signup(
        partner_id, email=email, device=device, ip=f"81.2.69.{next(_ips)}", at="2026-11-25T09:00:00Z"
    )
    send(tenant or env.tenant, event)
    drain(env.aws)
    answer = status(tenant or env.tenant, event["id"])
    return {**answer, "codes": {r["code"] for r in answer["decision"]["reasons"]}}


def test_a_removed_partner_is_listed_with_every_column_of_the_removed_partners_tab(env):
    case_id = flag_partner(env, "p-mal", "mallory@example.com", name="Mallory Mint")
    before = buy(env, "c-1", "p-mal", "2026-11-02T12:00:00Z", "4.00")  # pending, before the flag
    held = buy(env, "c-2", "p-mal", "2026-11-04T12:00:00Z", "30.00")
    euro = buy(env, "c-3", "p-mal", "2026-11-05T12:00:00Z", "7.25", currency="EUR")
    # a customer with the partner's own address: a self-referral; the customer's case holds it
    self_referral = purchase(
        "c-4", "p-mal", email="mallory@example.com", at="2026-11-06T12:00:00Z", reward="6.00"
    )
    send(env.tenant, self_referral)
    drain(env.aws)
    customer_case = status(env.tenant, self_referral["id"])["case_id"]
    assert customer_case not in (None, case_id)
    env.clock.advance(days=-1)
    disputed = api(
        "disputes", "POST", f"/v1/cases/{case_id}/dispute", env.tenant.keys["fraud"], {"reason": "?"}
    )
    assert disputed.status == 200, disputed
    env.clock.advance(days=1)

    answer = remove(env, case_id, block=False, key="admin")

    assert answer.status == 200, answer
    listed = api("cases", "GET", "/v1/removed-partners", env.tenant.keys["fraud"])
    assert listed.status == 200
    assert listed.body["items"] == [answer.body]
    assert answer.body == {
        "case_id": case_id,
        "partner": {"id": "p-mal", "name": "Mallory Mint"},  # name of the partner
        "team": "Growth",  # partner team
        "flag_reason": {  # original flag reason
            "code": "email_duplicate",
            "detail": "e-mail address also used by partner p-mal-first",
            "count": 1,
        },
        "flagged_at": "2026-11-03T09:00:00Z",  # date of flag
        "archived_rewards": {  # archived rewards
            "count": 4,
            "amounts": [{"currency": "EUR", "amount": "7.25"}, {"currency": "USD", "amount": "40.00"}],
        },
        "removed_at": "2026-11-21T15:30:00Z",  # date of removal
        "removed_by": "Program A admin",  # user who removed the partner
        "block_reapply": False,
    }
    rewards = api("cases", "GET", "/v1/rewards", env.tenant.keys["fraud"], partner_id="p-mal").body["items"]
    assert set(r["status"] for r in rewards) == {"archived"}
    assert {r["id"] for r in rewards} == {before, held, euro, self_referral["reward"]["id"]}
    # out of the active view and of the security team's disputes; the drawer tells the story
    active = api("cases", "GET", "/v1/cases", env.tenant.keys["fraud"]).body["items"]
    assert [(c["id"], c["held_rewards"], c["hold_amount"]["amount"]) for c in active] == [
        (customer_case, 0, "0.00")
    ]
    resolved = api("cases", "GET", "/v1/cases", env.tenant.keys["fraud"], view="resolved").body["items"]
    assert case_id not in [c["id"] for c in resolved]
    assert api("disputes", "GET", "/v1/disputes", env.security).body["items"] == []
    drawer = api("cases", "GET", f"/v1/cases/{case_id}", env.tenant.keys["fraud"]).body
    assert (drawer["status"], drawer["partner"]["status"], drawer["held_rewards"]) == (
        "removed",
        "removed",
        0,
    )
    newest = {(e["action"], e["actor"]) for e in drawer["audit"] if e["at"] == drawer["audit"][0]["at"]}
    assert newest == {  # the removal, and the dispute it withdrew (one moment on this test's clock)
        ("partner_removed", "Program A admin"),
        ("dispute_withdrawn", "Program A admin"),
    }
    removed = [d for kind, d in env.bus.published if kind == "PartnerRemoved"]
    assert all(d.pop("notification_id") for d in removed)  # consumers deduplicate on it
    assert [d.pop("created_at") for d in removed] == ["2026-11-21T15:30:00Z"]  # when it was made
    assert removed == [
        {
            "program_id": env.tenant.program_id,
            "case_id": case_id,
            "partner_id": "p-mal",
            "block_reapply": False,
            "archived_rewards": 4,
            "by": "Program A admin",
            "dispute_withdrawn": True,  # an integrator's list of open disputes drops it (a tester's find)
        }
    ]
    summary = api("cases", "GET", "/v1/summary", env.tenant.keys["fraud"]).body
    assert len(summary.pop("flags_per_day")) == 30
    assert summary == {"open_cases": 1, "disputed_cases": 0, "held_rewards": {"count": 0, "amounts": []}}
    # the dispute cycle has nothing to do with it any more
    assert invoke("functions.disputes.cycle.lambda_handler", scheduled_event("dispute-cycle"))["totals"] == {
        "approved": 0,
        "declined": 0,
        "withdrawn": 0,
        "waiting": 0,
        "failed": 0,
    }


def test_with_block_reapply_the_same_person_applying_again_is_flagged_at_once(env):
    case_id = flag_partner(env, "p-jane", "jane.doe@gmail.com", name="Jane Doe")
    assert remove(env, case_id, block=True).status == 200
    assert [d["block_reapply"] for k, d in env.bus.published if k == "PartnerRemoved"] == [True]

    # the same normalized e-mail address (gmail ignores dots and +tags; googlemail is gmail)
    same_email = reapply(env, "p-jane-2", email="Jane.D.O.E+again@googlemail.com")
    # the same device, another address
    same_device = reapply(env, "p-jane-3", email="someone.else@example.org", device=" FP-P-JANE ")
    # another person, on the same program
    stranger = reapply(env, "p-stranger", email="stranger@example.org")
    # the same person in another program is not blocked there (the network signal is its business)
    elsewhere = reapply(env, "p-jane-b", email="jane.doe@gmail.com", tenant=env.other)

    assert "blocked_reapply" in same_email["codes"]
    assert "blocked_reapply" in same_device["codes"]
    assert "blocked_reapply" not in stranger["codes"]
    assert "blocked_reapply" not in elsewhere["codes"]
    for decision in (same_email, same_device):
        assert (decision["decision"]["action"], decision["decision"]["score"]) == ("flag", 100)
        case = api("cases", "GET", f"/v1/cases/{decision['case_id']}", env.tenant.keys["fraud"]).body
        assert case["status"] == "open" and "blocked_reapply" in [r["code"] for r in case["reasons"]]


@pytest.mark.parametrize(
    ("removed", "back"),
    [
        # Fastmail's first domain: a +tag and a user's subdomain are the user's, as at fastmail.com
        ("eve.fraud@fastmail.fm", "eve.fraud+deals@fastmail.fm"),
        ("evefraud@fastmail.fm", "deals@evefraud.fastmail.fm"),
        ("evefraud@sent.com", "Shop@EveFraud.sent.com"),  # one of Fastmail's other domains
    ],
)
def test_with_block_reapply_the_partner_back_under_its_fastmail_mailbox_is_flagged(env, removed, back):
    """A fraud tester's: a partner at `fastmail.fm` removed with block came back as
    `deals@evefraud.fastmail.fm` and was allowed (35, `email_similar`): its subdomain was read as a
    `fastmail.com` user's and its +tag kept."""
    case_id = flag_partner(env, "p-eve", removed, name="Eve Fraud")
    assert remove(env, case_id, block=True).status == 200

    again = reapply(env, "p-eve-2", email=back, device="fp-never-seen")

    assert "blocked_reapply" in again["codes"], again
    assert (again["decision"]["action"], again["decision"]["score"]) == ("flag", 100)


def test_with_block_reapply_a_sign_up_under_the_removed_partners_own_id_is_flagged_whatever_it_brings(env):
    # a new address, device and IP: nothing links them, but the program's own id names them
    case_id = flag_partner(env, "p-back", "back@example.com", name="Back Again")
    assert remove(env, case_id, block=True).status == 200

    again = reapply(env, "p-back", email="brand.new@example.org", device="fp-never-seen")

    assert "blocked_reapply" in again["codes"], again
    assert again["decision"]["action"] == "flag"
    assert again["case_id"] == case_id  # the case that removed them: no new case for a removed partner
    drawer = api("cases", "GET", f"/v1/cases/{case_id}", env.tenant.keys["fraud"]).body
    assert drawer["status"] == "removed" and drawer["partner"]["status"] == "removed"


def test_without_block_reapply_the_same_person_is_not_blocked(env):
    case_id = flag_partner(env, "p-kim", "kim@example.com", name="Kim Kale")
    assert remove(env, case_id, block=False).status == 200

    again = reapply(env, "p-kim-2", email="KIM@example.com", device="fp-p-kim")

    assert "blocked_reapply" not in again["codes"]
    assert (
        api("cases", "GET", "/v1/removed-partners", env.tenant.keys["fraud"]).body["items"][0][
            "block_reapply"
        ]
        is False
    )


def test_removals_and_overrides_that_are_not_allowed_are_refused_and_change_nothing(env):
    open_case = flag_partner(env, "p-open", "open@example.com", name="Open Olga", day=3)
    resolved = flag_partner(env, "p-res", "res@example.com", name="Res Rita", day=4)
    removed = flag_partner(env, "p-rm", "rm@example.com", name="Rm Rob", day=5)
    held = buy(env, "c-held", "p-open", "2026-11-04T09:00:00Z", "9.00")
    free = buy(env, "c-free", "p-open-first", "2026-11-02T09:00:00Z", "3.00")  # not flagged: pending
    # a customer case: a purchase with the partner's own e-mail address (self-referral)
    self_ref = purchase(
        "c-self", "p-open", email="open@example.com", ip="81.2.69.250", at="2026-11-06T09:00:00Z"
    )
    send(env.tenant, self_ref)
    drain(env.aws)
    customer_case = status(env.tenant, self_ref["id"])["case_id"]
    assert customer_case is not None
    fraud = env.tenant.keys["fraud"]
    assert api("disputes", "POST", f"/v1/cases/{resolved}/dispute", fraud, {"reason": "ok"}).status == 200
    verdict = {"verdict": "approve", "note": ""}
    assert api("disputes", "POST", f"/v1/disputes/{resolved}/verdict", env.security, verdict).status == 200
    invoke("functions.disputes.cycle.lambda_handler", scheduled_event("dispute-cycle"))
    assert remove(env, removed, block=False).status == 200
    overridden = api("cases", "POST", f"/v1/rewards/{held}/override", fraud, {"status": "approved"})
    assert overridden.status == 200, overridden
    cases = (open_case, resolved, removed, customer_case)
    before = {c: api("cases", "GET", f"/v1/cases/{c}", fraud).body for c in cases}
    rewards_before = api("cases", "GET", "/v1/rewards", fraud, partner_id="p-open").body
    events_before = list(env.bus.published)

    refused = {
        "remove a resolved case": (remove(env, resolved, True), 409, "approved"),
        "remove twice": (remove(env, removed, True), 409, "removed"),
        "remove a customer": (remove(env, customer_case, True), 409, "customer"),
        "another program's case": (remove(env, open_case, True, tenant=env.other), 404, open_case),
        "unknown case": (remove(env, "case_ffffffffffffffff", True), 404, "case_ffffffffffffffff"),
        "override a pending reward": (
            api("cases", "POST", f"/v1/rewards/{free}/override", fraud, {"status": "approved"}),
            409,
            "pending",
        ),
        "override twice": (
            api("cases", "POST", f"/v1/rewards/{held}/override", fraud, {"status": "approved"}),
            409,
            "approved",
        ),
        "another program's reward": (
            api(
                "cases",
                "POST",
                f"/v1/rewards/{held}/override",
                env.other.keys["fraud"],
                {"status": "approved"},
            ),
            404,
            held,
        ),
        "override to another status": (
            api("cases", "POST", f"/v1/rewards/{free}/override", fraud, {"status": "declined"}),
            422,
            "status",
        ),
        "a choice that is not a boolean": (
            api("cases", "POST", f"/v1/cases/{open_case}/remove", fraud, {"block_reapply": "yes"}),
            422,
            "block_reapply",
        ),
        "unknown field": (
            # (not "block": a loyalty action's name, which the shared edge drops from field paths
            # when the loyalty handler is loaded in the same process)
            api("cases", "POST", f"/v1/cases/{open_case}/remove", fraud, {"blocked": True}),
            422,
            "blocked",
        ),
    }

    for name, (answer, expected, words) in refused.items():
        assert answer.status == expected, (name, answer)
        assert answer.headers["content-type"] == "application/problem+json", name
        assert answer.body["title"] and words in answer.body["detail"], (name, answer.body)
    assert {c: api("cases", "GET", f"/v1/cases/{c}", fraud).body for c in cases} == before
    assert api("cases", "GET", "/v1/rewards", fraud, partner_id="p-open").body == rewards_before
    assert env.bus.published == events_before


def test_a_removal_of_a_case_as_it_was_seen_is_refused_once_a_teammate_disputed_it(env):
    """A console tester's find: from a drawer opened before a teammate disputed the case, `Remove
    partner` withdrew the teammate's dispute unseen, and a removal cannot be undone. The removal now
    says which status it saw (`replaces`); the case no longer so, it is refused and nothing changes."""
    case_id = flag_partner(env, "p-seen", "seen@example.com", name="Seen Sam", day=3)
    fraud = env.tenant.keys["fraud"]
    path = f"/v1/cases/{case_id}/remove"
    assert (
        api("disputes", "POST", f"/v1/cases/{case_id}/dispute", fraud, {"reason": "A known reseller"}).status
        == 200
    )
    before = api("cases", "GET", f"/v1/cases/{case_id}", fraud).body
    events_before = list(env.bus.published)

    refused = api("cases", "POST", path, fraud, {"block_reapply": True, "replaces": "open"})

    assert refused.status == 409, refused
    assert "disputed" in refused.body["detail"] and "not open as you read it" in refused.body["detail"]
    assert api("cases", "GET", f"/v1/cases/{case_id}", fraud).body == before  # the dispute stands
    assert env.bus.published == events_before
    # a status no case can be removed from is a choice the schema refuses
    assert api("cases", "POST", path, fraud, {"replaces": "approved"}).status == 422
    # as seen now, or left out (any removable status, as before), it is removed
    removed = api("cases", "POST", path, fraud, {"block_reapply": True, "replaces": "disputed"})
    assert removed.status == 200, removed
    trail = [e["action"] for e in api("cases", "GET", f"/v1/cases/{case_id}", fraud).body["audit"]]
    assert {"dispute_withdrawn", "partner_removed"} <= set(trail), trail
    # and the same removal asked again (its answer lost) is answered as done, whatever it saw
    again = api("cases", "POST", path, fraud, {"block_reapply": True, "replaces": "disputed"})
    assert again.status == 200, again


def test_a_partner_renamed_while_its_case_is_open_is_found_and_removed_by_its_new_name(env):
    # SPEC 3.2: active cases are searchable by partner name; the case kept the name at the flag
    case_id = flag_partner(env, "p-renamed", "renamed@example.com", name="Zebediah Old")
    update = sample(
        "account.updated", id="evt-rename", occurred_at="2026-11-04T09:00:00Z", activity="profile_update"
    )
    update["partner"] = {"id": "p-renamed", "name": "Zebediah Renamed"}
    update["session"] = {"ip": f"81.2.69.{next(_ips)}"}
    env.clock.advance(seconds=(datetime(2026, 11, 4, 9, tzinfo=UTC) - env.clock.now()).total_seconds())
    send(env.tenant, update)
    drain(env.aws)
    fraud = env.tenant.keys["fraud"]

    drawer = api("cases", "GET", f"/v1/cases/{case_id}", fraud).body
    assert drawer["subject"]["name"] == drawer["partner"]["name"] == "Zebediah Renamed"
    assert [
        c["id"] for c in api("cases", "GET", "/v1/cases", fraud, view="active", q="renamed").body["items"]
    ] == [case_id]
    assert api("cases", "GET", "/v1/cases", fraud, view="active", q="zebediah old").body["items"] == []

    assert remove(env, case_id, block=False).status == 200
    [listed] = api("cases", "GET", "/v1/removed-partners", fraud).body["items"]
    assert listed["partner"]["name"] == "Zebediah Renamed"


def test_every_later_event_of_a_removed_partner_names_the_case_that_removed_it(env):
    """A holds tester's: after the removal, a reward of the partner's, a purchase with its commission
    and the partner signing up again were each decided `allow` with no case and no note, though
    their rewards were archived under the removal: an integration gating a payout on the decision
    (SPEC 3.1) was told nothing stood in the way."""
    case_id = flag_partner(env, "p-x", "kai.brandt@brandtmedia.de", name="Kai Brandt")
    assert remove(env, case_id, block=False).status == 200
    bonus = sample("reward.created", id="bonus-after", occurred_at="2026-11-21T10:00:00Z")
    bonus["reward"] = {"id": "r-bonus", "partner_id": "p-x", "amount": "50.00", "currency": "USD"}
    bought = purchase("c-later", "p-x", at="2026-11-21T11:00:00Z", reward="20.00", ip="81.2.69.99")
    login = sample("account.updated", id="login-after", occurred_at="2026-11-21T12:00:00Z")
    login["partner"], login["activity"] = {"id": "p-x"}, "login"
    again = signup("p-x", email="kai.brandt.new@example.org", ip="81.2.69.98", at="2026-11-21T13:00:00Z")
    for event in (bonus, bought, login, again):
        send(env.tenant, event)
    drain(env.aws)

    for event in (bonus, bought, login, again):
        answer = status(env.tenant, event["id"])
        assert answer["case_id"] == case_id, (event["type"], answer)
        assert any(f"removed (case {case_id})" in note for note in answer["notes"]), (event["type"], answer)
    rewards = api("cases", "GET", "/v1/rewards", env.tenant.keys["fraud"], partner_id="p-x").body["items"]
    assert {(r["id"], r["status"], r["case_id"]) for r in rewards} >= {
        ("r-bonus", "archived", case_id),
        (bought["reward"]["id"], "archived", case_id),
    }
    assert any(
        note == f"reward {bought['reward']['id']} archived: partner p-x removed (case {case_id}), never paid"
        for note in status(env.tenant, bought["id"])["notes"]
    )
