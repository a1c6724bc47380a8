"""Disputes end to end (SPEC 3.3, 7; the seed's two outcomes and its flagged-object table): cases
opened by scoring through the real ingest and score handlers, disputed and judged through the API,
resolved by the monthly dispute cycle run from its EventBridge entry point."""

from __future__ import annotations

import itertools
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from functions.disputes.service import CASES_FAILED_METRIC, record_verdict, run_cycle
from functions.hold_sweep.service import sweep
from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.errors import Conflict, StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from functions.shared.storage import keys
from local_system.lambda_runtime import invoke
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import codes, drain, purchase, send, signup, status
from tests.support import call, proxy_event, sample

CYCLE = "functions.disputes.cycle.lambda_handler"
DISPUTED_AT = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
VERDICT_AT = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
CYCLE_AT = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
# distinct addresses in 81.2.69.0/24 (British), round again past .254: each test has its own table,
# and other modules flag through these helpers too (a count past 255 was no address)
_ips = itertools.cycle(range(20, 255))


@pytest.fixture
def env(aws, tenant, security_key, monkeypatch):
    """The functions' collaborators with a settable clock and an in-memory bus."""
    deps = runtime.dependencies()
    publisher, clock = InMemoryPublisher(), FixedClock(DISPUTED_AT)
    monkeypatch.setattr(deps, "publisher", publisher)
    monkeypatch.setattr(deps, "clock", clock)
    return SimpleNamespace(
        aws=aws, tenant=tenant, security=security_key, deps=deps, bus=publisher, clock=clock
    )


# --- helpers: the API as program teams and the security team use it ---------------------------
def set_clock(clock: FixedClock, at: datetime) -> None:
    clock.advance(seconds=(at - clock.now()).total_seconds())


def api(function: str, method: str, path: str, key: str, body: Any = None, **query: str):
    return call(function, proxy_event(method, path, body, key, query=query or None))


def case_of(tenant, case_id: str) -> dict[str, Any]:
    answer = api("cases", "GET", f"/v1/cases/{case_id}", tenant.keys["fraud"])
    assert answer.status == 200, answer
    return answer.body


def rewards_of(tenant, **query: str) -> dict[str, str]:
    answer = api("cases", "GET", "/v1/rewards", tenant.keys["fraud"], **query)
    assert answer.status == 200, answer
    return {r["id"]: r["status"] for r in answer.body["items"]}


def view(tenant, name: str) -> dict[str, dict[str, Any]]:
    answer = api("cases", "GET", "/v1/cases", tenant.keys["fraud"], view=name)
    assert answer.status == 200, answer
    return {c["id"]: c for c in answer.body["items"]}


def dispute(env, case_id: str, reason: str = "a known reseller, checked by phone", key: str = "fraud"):
    return api("disputes", "POST", f"/v1/cases/{case_id}/dispute", env.tenant.keys[key], {"reason": reason})


def verdict(env, case_id: str, outcome: str, note: str = "checked"):
    return api(
        "disputes",
        "POST",
        f"/v1/disputes/{case_id}/verdict",
        env.security,
        {"verdict": outcome, "note": note},
    )


def run_scheduled_cycle(env, at: datetime = CYCLE_AT) -> dict[str, Any]:
    """The monthly cycle as EventBridge runs it."""
    set_clock(env.clock, at)
    return invoke(CYCLE, scheduled_event("dispute-cycle"))


def published(env, detail_type: str) -> list[dict[str, Any]]:
    return [detail for kind, detail in env.bus.published if kind == detail_type]


def flag_partner(env, partner_id: str, *, day: int = 3, tenant=None, joined: str | None = None) -> str:
    """Two sign-ups share an e-mail address: scoring flags the second partner on 2026-11-<day>.
    `joined`: the partner signed up then under an address of its own, and changes it to the
    other's on 2026-11-<day> (a flag after its sign-up: what is dated between them stays payable)."""
    tenant = tenant or env.tenant
    email = f"{partner_id}.owner@example.com"
    at = f"2026-11-0{day}T09:00:00Z"
    send(
        tenant,
        signup(
            f"{partner_id}-first", email=email, ip=f"81.2.69.{next(_ips)}", at=f"2026-11-0{day - 1}T09:00:00Z"
        ),
    )
    if joined is None:
        flagged = send(tenant, signup(partner_id, email=email.upper(), ip=f"81.2.69.{next(_ips)}", at=at))
    else:
        own = f"{partner_id}.own@example.com"
        send(tenant, signup(partner_id, email=own, ip=f"81.2.69.{next(_ips)}", at=joined))
        drain(env.aws)
        flagged = sample("account.updated", id=f"upd-{partner_id}", activity="email_change", occurred_at=at)
        flagged["partner"] = {"id": partner_id, "email": email.upper()}
        send(tenant, flagged)
    drain(env.aws)
    answer = status(tenant, flagged["id"])
    assert answer["decision"]["action"] == "flag", answer
    return answer["case_id"]


def buy(env, customer_id: str, partner_id: str, at: str, amount: str, **changes: Any) -> str:
    """A referred customer's purchase with the partner's commission; returns the reward id."""
    event = purchase(customer_id, partner_id, at=at, reward=amount, ip=f"81.2.69.{next(_ips)}", **changes)
    send(env.tenant, event)
    return event["reward"]["id"]


def approved_with_a_held_reward(env, partner_id: str) -> tuple[str, str]:
    """A flagged partner with a commission held under its case, disputed, the dispute approved:
    the case and the reward."""
    case_id = flag_partner(env, partner_id)
    held = buy(env, f"c-{partner_id}", partner_id, "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id=partner_id) == {held: "on_hold"}
    assert dispute(env, case_id).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, case_id, "approve").status == 200
    return case_id, held


def api_reward(env, reward_id: str, partner_id: str, at: str, amount: str = "12.50") -> str:
    event = sample("reward.created", id=f"evt-{reward_id}", occurred_at=at)
    event["reward"].update(id=reward_id, partner_id=partner_id, customer_id=None, amount=amount)
    send(env.tenant, event)
    return reward_id


# --- the seed's two outcomes -----------------------------------------------------------------
def test_an_approved_dispute_releases_the_rewards_and_a_new_flag_opens_a_new_case(env):
    # Given a partner signed up on 2026-11-01 and flagged on 2026-11-03, a reward from before the
    # flag, one after it and one created through the API after it (held by the 15-minute sweep)
    case_id = flag_partner(env, "p-ok", joined="2026-11-01T09:00:00Z")
    early = buy(env, "c-early", "p-ok", "2026-11-02T12:00:00Z", "7.00")  # arrives late
    late = buy(env, "c-late", "p-ok", "2026-11-04T09:00:00Z", "30.00")
    new = api_reward(env, "r-api", "p-ok", "2026-11-05T08:00:00Z")
    drain(env.aws)
    set_clock(env.clock, datetime(2026, 11, 5, 8, 15, tzinfo=UTC))
    sweep(env.deps)  # the sweep's run after the API reward
    set_clock(env.clock, DISPUTED_AT)
    assert rewards_of(env.tenant, partner_id="p-ok") == {early: "pending", late: "on_hold", new: "on_hold"}

    # When the program team disputes it
    answer = dispute(env, case_id)

    assert answer.status == 200, answer
    assert (answer.body["status"], answer.body["dispute_reason"]) == (
        "disputed",
        "a known reseller, checked by phone",
    )
    assert answer.body["disputed_at"] == "2026-11-20T10:00:00Z"
    assert view(env.tenant, "active")[case_id]["status"] == "disputed"
    [opened] = published(env, "DisputeOpened")
    assert opened.pop("notification_id")  # stable across redeliveries: consumers deduplicate on it
    assert opened.pop("created_at") == "2026-11-20T10:00:00Z"  # when it was made, not sent
    assert [opened] == [
        {
            "program_id": env.tenant.program_id,
            "case_id": case_id,
            "subject": {"type": "partner", "id": "p-ok"},
            "reason": "a known reseller, checked by phone",
            "by": "Program A fraud",
        }
    ]
    # the security team sees it and approves it; nothing changes before the cycle
    open_disputes = api("disputes", "GET", "/v1/disputes", env.security, status="open")
    assert [(d["id"], d["program_id"], d["program_name"]) for d in open_disputes.body["items"]] == [
        (case_id, env.tenant.program_id, "Program A")
    ]
    set_clock(env.clock, VERDICT_AT)
    recorded = verdict(env, case_id, "approve", "customer list verified")
    assert recorded.status == 200, recorded
    assert (recorded.body["status"], recorded.body["verdict"]) == ("disputed", "approve")
    assert recorded.body["program_name"] == "Program A"  # as the list names it
    assert rewards_of(env.tenant, partner_id="p-ok")[late] == "on_hold"
    assert view(env.tenant, "active")[case_id]["status"] == "disputed"

    # Then the monthly cycle applies it
    report = run_scheduled_cycle(env)

    assert report["programs"] == {
        env.tenant.program_id: {"approved": 1, "declined": 0, "withdrawn": 0, "waiting": 0, "failed": 0}
    }
    assert rewards_of(env.tenant, partner_id="p-ok") == {early: "pending", late: "pending", new: "pending"}
    assert case_id not in view(env.tenant, "active")
    resolved = view(env.tenant, "resolved")[case_id]
    assert (resolved["status"], resolved["resolved_at"], resolved["held_rewards"]) == (
        "approved",
        "2026-12-01T00:00:00Z",
        0,
    )
    assert resolved["dispute_reason"] == "a known reseller, checked by phone"
    (event,) = published(env, "DisputeResolved")
    assert {k: event[k] for k in ("program_id", "case_id", "outcome", "rewards_now")} == {
        "program_id": env.tenant.program_id,
        "case_id": case_id,
        "outcome": "approved",
        "rewards_now": "pending",
    }
    assert sorted(event["rewards"]) == sorted([late, new])
    drawer = case_of(env.tenant, case_id)
    assert drawer["partner"]["status"] == "active"
    assert [(a["action"], a["actor"]) for a in drawer["audit"]][:3] == [  # newest first
        ("dispute_approved", "dispute-cycle"),
        ("verdict_approve", "Platform security"),
        ("disputed", "Program A fraud"),
    ]
    assert api("disputes", "GET", "/v1/disputes", env.security).body["items"] == []

    # and new suspicious activity opens a new case: no whitelisting
    update = sample(
        "account.updated", id="evt-again", occurred_at="2026-12-05T10:00:00Z", activity="profile_update"
    )
    update["partner"] = {"id": "p-ok", "email": "p-ok.owner@example.com"}
    set_clock(env.clock, datetime(2026, 12, 5, 10, tzinfo=UTC))  # received when it occurs (SPEC 3.1)
    send(env.tenant, update)
    drain(env.aws)
    again = status(env.tenant, "evt-again")
    assert again["decision"]["action"] == "flag" and again["case_id"] not in (None, case_id)
    assert list(view(env.tenant, "active")) == [again["case_id"]]
    assert view(env.tenant, "resolved")[case_id]["status"] == "approved"
    assert case_of(env.tenant, again["case_id"])["flagged_at"] == "2026-12-05T10:00:00Z"


def test_a_declined_dispute_declines_the_rewards_and_the_partner_stays_flagged(env):
    case_id = flag_partner(env, "p-bad")
    held = buy(env, "c-1", "p-bad", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    assert verdict(env, case_id, "decline", "a ring of fake customers").status == 200

    report = run_scheduled_cycle(env)

    assert report["totals"] == {"approved": 0, "declined": 1, "withdrawn": 0, "waiting": 0, "failed": 0}
    assert rewards_of(env.tenant, partner_id="p-bad") == {held: "declined"}
    resolved = view(env.tenant, "resolved")[case_id]
    assert (resolved["status"], resolved["resolved_at"]) == ("declined", "2026-12-01T00:00:00Z")
    assert case_id not in view(env.tenant, "active")
    (event,) = published(env, "DisputeResolved")
    assert (event["outcome"], event["rewards_now"], event["rewards"]) == ("declined", "declined", [held])
    assert case_of(env.tenant, case_id)["partner"]["status"] == "flagged"
    # still flagged: the partner's next reward is held by the sweep
    set_clock(env.clock, datetime(2026, 12, 2, 9, tzinfo=UTC))  # received when it occurs (SPEC 3.1)
    later = buy(env, "c-2", "p-bad", "2026-12-02T09:00:00Z", "8.00")
    drain(env.aws)
    sweep(env.deps)
    assert rewards_of(env.tenant, partner_id="p-bad") == {held: "declined", later: "on_hold"}

    # SPEC 3.2: removed from the declined case, every reward not yet paid or approved is archived,
    # the declined one too (it was never paid; a removal leaves nothing of theirs payable)
    removed = api(
        "cases", "POST", f"/v1/cases/{case_id}/remove", env.tenant.keys["fraud"], {"block_reapply": False}
    )
    assert removed.status == 200, removed
    assert rewards_of(env.tenant, partner_id="p-bad") == {held: "archived", later: "archived"}
    assert removed.body["archived_rewards"]["count"] == 2, removed.body


def test_a_decided_case_whose_partner_cannot_be_read_is_reported_failed_not_skipped(env, caplog, capsys):
    # Given a declined dispute, and the partner's profile item gone from the table (deleted by hand)
    case_id = flag_partner(env, "p-gone")
    held = buy(env, "c-1", "p-gone", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    assert verdict(env, case_id, "decline", "a ring of fake customers").status == 200
    profile = {
        "pk": {"S": keys.subject_pk(env.tenant.program_id, "partner", "p-gone")},
        "sk": {"S": keys.PROFILE_SK},
    }
    boto3.client("dynamodb").delete_item(TableName=os.environ["TABLE_NAME"], Key=profile)

    # When the monthly cycle runs
    report = run_scheduled_cycle(env)

    # Then the operators read a failure (and an error in the log), not a quiet month
    assert report["totals"] == {"approved": 0, "declined": 0, "withdrawn": 0, "waiting": 0, "failed": 1}
    assert "could not read a decided case" in caplog.text
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [m[CASES_FAILED_METRIC] for m in emitted if CASES_FAILED_METRIC in m] == [[1.0]]  # alarmed
    assert rewards_of(env.tenant, partner_id="p-gone") == {held: "on_hold"}  # nothing moved


def _suspicious_again(env, partner_id: str, at: datetime, same_identifiers: bool = False) -> str:
    """The partner signs in with its twin's address again: `email_duplicate` fires on its case.
    `same_identifiers`: from its own device and IP, with its address as it signed up with it (no
    identifier new to it)."""
    event_id = f"evt-again-{partner_id}-{at:%d%H%M%S}"
    update = sample("account.updated", id=event_id, occurred_at=at.isoformat(), activity="email_change")
    update["partner"] = {"id": partner_id, "email": f"{partner_id}.owner@example.com"}
    if same_identifiers:
        known = env.deps.repository.get_subject(env.tenant.program_id, "partner", partner_id)
        update["partner"]["email"] = known.email
        update["session"] = {"ip": min(known.ips), "device_fingerprint": min(known.devices)}
    set_clock(env.clock, at)  # received when it occurs (SPEC 3.1)
    send(env.tenant, update)
    drain(env.aws)
    return event_id


def test_an_approval_that_new_fraud_outdated_is_withdrawn_by_the_cycle_not_applied(env):
    """An approval is decided on the case as it is: a partner that commits fraud once its dispute
    is approved, while the case waits for the monthly cycle, had that fraud merged into the same
    case and its rewards released with the rest."""
    case_id = flag_partner(env, "p-turn")
    held = buy(env, "c-turn-1", "p-turn", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, case_id, "approve", "looked fine").status == 200
    [listed] = api("disputes", "GET", "/v1/disputes", env.security).body["items"]
    assert (listed["verdict"], listed["evidence_since_verdict"]) == ("approve", {})

    # the partner turns after the verdict: the same duplicate address again, and a large sale
    again = _suspicious_again(env, "p-turn", datetime(2026, 11, 27, 9, tzinfo=UTC))
    assert status(env.tenant, again)["case_id"] == case_id  # merged into the disputed case
    set_clock(env.clock, datetime(2026, 11, 27, 10, tzinfo=UTC))
    late = buy(env, "c-turn-2", "p-turn", "2026-11-27T10:00:00Z", "900.00")
    drain(env.aws)
    [listed] = api("disputes", "GET", "/v1/disputes", env.security).body["items"]
    assert (listed["verdict"], listed["evidence_since_verdict"]) == ("approve", {"email_duplicate": 1})

    report = run_scheduled_cycle(env)

    assert report["totals"] == {"approved": 0, "declined": 0, "withdrawn": 1, "waiting": 0, "failed": 0}
    assert rewards_of(env.tenant, partner_id="p-turn") == {held: "on_hold", late: "on_hold"}
    assert view(env.tenant, "active")[case_id]["status"] == "disputed"
    [listed] = api("disputes", "GET", "/v1/disputes", env.security).body["items"]
    assert (listed["id"], listed["verdict"], listed["evidence_since_verdict"]) == (case_id, None, {})
    drawer = case_of(env.tenant, case_id)
    assert drawer["partner"]["status"] == "flagged"
    assert [(a["action"], a["actor"], a["detail"]) for a in drawer["audit"]][0] == (
        "verdict_withdrawn",
        "dispute-cycle",
        {"reasons": ["email_duplicate"], "verdict_note": "looked fine"},
    )
    assert published(env, "DisputeResolved") == []
    assert run_scheduled_cycle(env)["totals"]["withdrawn"] == 0  # a second run: nothing twice

    # a verdict recorded on the case as it is now is applied by the next cycle
    set_clock(env.clock, datetime(2026, 12, 10, tzinfo=UTC))
    assert verdict(env, case_id, "decline", "turned").status == 200
    report = run_scheduled_cycle(env, datetime(2027, 1, 1, tzinfo=UTC))
    assert report["totals"]["declined"] == 1
    assert rewards_of(env.tenant, partner_id="p-turn") == {held: "declined", late: "declined"}


@pytest.mark.parametrize("with_evidence", [True, False], ids=["evidence", "a-reward"])
def test_what_lands_while_the_cycle_approves_is_planned_again(env, monkeypatch, with_evidence):
    """The partner's events land while the cycle is approving (after it read the case, before its
    first step): their evidence was approved with the case, and the reward they brought, held
    under the case, stayed held under an approved case, where no sweep looks again. A reward alone
    is approved with the rest; with evidence, the approval is withdrawn before anything moved."""
    case_id, first = approved_with_a_held_reward(env, "p-race")
    store = env.deps.repository
    real_apply = store.apply
    landed: list[str] = []

    def apply(step):
        if not landed:
            landed.append("now")  # once: after the cycle read the case, before its first step
            at = env.clock.now()
            if with_evidence:  # an event of the partner that adds no identifier and no reward
                evidence = _suspicious_again(env, "p-race", at, same_identifiers=True)
                assert "email_duplicate" in {
                    r["code"] for r in status(env.tenant, evidence)["decision"]["reasons"]
                }
            else:
                landed.append(buy(env, "c-race-2", "p-race", at.isoformat(), "500.00"))
            drain(env.aws)
            set_clock(env.clock, CYCLE_AT)
        real_apply(step)

    monkeypatch.setattr(store, "apply", apply)
    set_clock(env.clock, CYCLE_AT)

    report = run_cycle(env.deps)  # in this thread: the events' scoring runs inside it

    monkeypatch.setattr(store, "apply", real_apply)
    if with_evidence:
        assert (report["totals"]["withdrawn"], report["totals"]["approved"]) == (1, 0)
        assert view(env.tenant, "active")[case_id]["status"] == "disputed"
        assert case_of(env.tenant, case_id)["partner"]["status"] == "flagged"
        assert rewards_of(env.tenant, partner_id="p-race") == {first: "on_hold"}
        assert view(env.tenant, "active")[case_id]["held_rewards"] == 1
        assert sweep(env.deps).held == 0  # nothing left for the sweep
    else:
        late = landed[1]
        assert (report["totals"]["withdrawn"], report["totals"]["approved"]) == (0, 1)
        assert view(env.tenant, "resolved")[case_id]["held_rewards"] == 0
        assert rewards_of(env.tenant, partner_id="p-race") == {first: "pending", late: "pending"}


def test_a_partner_whose_customers_buy_throughout_the_approval_is_approved_and_nothing_stays_held(
    env, monkeypatch
):
    """A partner whose customers keep buying while the cycle approves them: each purchase brings the
    partner a reward, and an approval's last step waited for a moment in which none had arrived
    since its read (one held under the case meanwhile would have stayed held under an approved
    one), so a busy partner, the one an unfounded flag costs most, was "failed" by every cycle:
    four tries, then left for the next month. A purchase lands (scored for real) at every read of
    the partner by the cycle."""
    # Given a flagged partner with a held commission, disputed, the dispute approved
    case_id, before = approved_with_a_held_reward(env, "p-busy")
    set_clock(env.clock, CYCLE_AT)
    store = env.deps.repository
    read_subject, read_rewards = store.get_subject, store.subject_rewards
    arrived: list[str] = []

    def a_purchase_lands(subject_id: str) -> None:
        if subject_id == "p-busy" and len(arrived) < 12:
            n = len(arrived) + 1
            arrived.append(buy(env, f"c-busy-{n}", "p-busy", f"2026-11-30T10:{n:02}:00Z", "40.00"))
            drain(env.aws)

    def subject_then_a_purchase(program_id, subject_type, subject_id):
        found = read_subject(program_id, subject_type, subject_id)
        a_purchase_lands(subject_id)
        return found

    def rewards_then_a_purchase(program_id, subject_type, subject_id, since=None):
        found = read_rewards(program_id, subject_type, subject_id, since)
        a_purchase_lands(subject_id)
        return found

    monkeypatch.setattr(store, "get_subject", subject_then_a_purchase)
    monkeypatch.setattr(store, "subject_rewards", rewards_then_a_purchase)

    # When the monthly cycle runs
    report = run_cycle(env.deps)

    # Then the partner is approved, and every commission, before or during, is pending, none held
    monkeypatch.setattr(store, "get_subject", read_subject)
    monkeypatch.setattr(store, "subject_rewards", read_rewards)
    assert arrived, "no purchase landed during the cycle"
    assert report["totals"]["approved"] == 1 and report["totals"]["failed"] == 0, report
    statuses = rewards_of(env.tenant, partner_id="p-busy", limit="50")
    assert statuses == dict.fromkeys([before, *arrived], "pending"), statuses
    drawer = case_of(env.tenant, case_id)
    assert drawer["status"] == "approved" and drawer["held_rewards"] == 0
    assert drawer["partner"]["status"] == "active"
    # the one that landed while the partner was still flagged was held, then released with the rest
    resolved = published(env, "DisputeResolved")
    assert [d["outcome"] for d in resolved] == ["approved"]
    assert before in resolved[0]["rewards"] and arrived[0] in resolved[0]["rewards"]
    assert sweep(env.deps).held == 0  # nothing of an approved partner's is held again


def _stopped_after_its_first_step(env, monkeypatch, steps_applied: int = 1) -> None:
    """The cycle run once, DynamoDB down after its first step (the verdict begun, nothing moved),
    or after as many as said."""
    store, real_apply, steps = env.deps.repository, env.deps.repository.apply, []

    def down_after_the_first_step(step):
        steps.append(step)
        if len(steps) > steps_applied:
            raise StorageUnavailable("injected: the table stopped answering")
        real_apply(step)

    monkeypatch.setattr(store, "apply", down_after_the_first_step)
    assert run_scheduled_cycle(env)["totals"]["failed"] == 1
    monkeypatch.setattr(store, "apply", real_apply)


def test_an_approval_the_cycle_has_begun_cannot_be_turned_into_a_decline_and_the_next_run_finishes_it(
    env, monkeypatch
):
    # Given an approval whose cycle stopped right after unflagging the partner (DynamoDB down)
    case_id, held = approved_with_a_held_reward(env, "p-begun")
    _stopped_after_its_first_step(env, monkeypatch)
    assert case_of(env.tenant, case_id)["partner"]["status"] == "active"  # unflagged, not yet approved

    # When the security team turns it into a decline: refused, saying why (the partner would stay
    # unflagged under a declined case); the approval asked again is taken (a retry), the approval
    # with another note is not (it would stand in the history after the resolution it missed)
    turned = verdict(env, case_id, "decline", "changed our mind")
    assert turned.status == 409 and "being approved" in turned.body["detail"], turned
    assert verdict(env, case_id, "approve").status == 200
    renoted = verdict(env, case_id, "approve", "still fine")
    assert renoted.status == 409 and "being approved" in renoted.body["detail"], renoted

    # Then the next run finishes the approval
    report = run_scheduled_cycle(env, CYCLE_AT.replace(hour=1))
    assert report["totals"]["approved"] == 1, report
    assert rewards_of(env.tenant, partner_id="p-begun") == {held: "pending"}


def remove(env, case_id: str, block_reapply: bool = True):
    body = {"block_reapply": block_reapply}
    return api("cases", "POST", f"/v1/cases/{case_id}/remove", env.tenant.keys["fraud"], body)


def test_a_removal_while_the_cycle_applies_an_approval_is_refused_and_archives_nothing(env, monkeypatch):
    """A removal sent while the cycle was approving archived the rewards the approval released,
    blocked the approved partner's identifiers, and answered 409 at its last step."""
    case_id, held = approved_with_a_held_reward(env, "p-won")
    _stopped_after_its_first_step(env, monkeypatch)  # the partner unflagged, its reward still held

    refused = remove(env, case_id)

    assert refused.status == 409 and "being approved" in refused.body["detail"], refused
    assert rewards_of(env.tenant, partner_id="p-won") == {held: "on_hold"}  # nothing archived
    report = run_scheduled_cycle(env, CYCLE_AT.replace(hour=1))
    assert report["totals"]["approved"] == 1, report
    assert rewards_of(env.tenant, partner_id="p-won") == {held: "pending"}
    # and no removal mark: the partner's address signs up again unflagged by blocked_reapply
    again = send(env.tenant, signup("p-won-2", email="p-won.owner@example.com", ip="81.2.69.250"))
    drain(env.aws)
    assert "blocked_reapply" not in {
        r["code"] for r in status(env.tenant, again["id"])["decision"]["reasons"]
    }


def _removal_with(env, monkeypatch, case_id: str, meanwhile: Callable[[], None]) -> Any:
    """The partner of `case_id` removed through the API, `meanwhile` run once right after the
    removal's first step is written (the store as it is then, unhooked while it runs)."""
    store, real_apply = env.deps.repository, env.deps.repository.apply
    removal_steps: list[Any] = []

    def act_after_the_first_step(step):
        removal_steps.append(step)
        if len(removal_steps) == 2:  # the removal's first step is written
            monkeypatch.setattr(store, "apply", real_apply)
            meanwhile()
            monkeypatch.setattr(store, "apply", act_after_the_first_step)
        real_apply(step)

    monkeypatch.setattr(store, "apply", act_after_the_first_step)
    try:
        return remove(env, case_id)
    finally:
        monkeypatch.setattr(store, "apply", real_apply)


def test_a_cycle_that_reads_a_case_while_its_partner_is_removed_leaves_it_to_the_removal(env, monkeypatch):
    """The cycle reading an approved dispute while a removal is half way: it approved the case the
    removal had begun archiving, and the removal stopped at 409 with the rewards split."""
    case_id, held = approved_with_a_held_reward(env, "p-gone")
    set_clock(env.clock, CYCLE_AT)
    reports: list[dict[str, Any]] = []

    removed = _removal_with(env, monkeypatch, case_id, lambda: reports.append(run_cycle(env.deps)))

    assert removed.status == 200, removed
    assert reports and reports[0]["totals"]["approved"] == 0, reports  # the removal took the dispute
    assert case_of(env.tenant, case_id)["status"] == "removed"
    assert rewards_of(env.tenant, partner_id="p-gone") == {held: "archived"}
    trail = {e["action"]: e for e in case_of(env.tenant, case_id)["audit"]}
    assert trail["dispute_withdrawn"]["detail"] == {"by": "removal", "verdict": "approve"}


def test_a_verdict_sent_while_a_removal_goes_on_is_refused_and_the_cycle_leaves_the_removal_whole(
    env, monkeypatch
):
    """A verdict recorded after a removal's first step took the dispute back, and the cycle then
    beginning to apply it, stopped the removal half way with some rewards archived: the case was
    still `disputed`. The first step now removes it (forward only): no verdict can be recorded on it."""
    case_id, held = approved_with_a_held_reward(env, "p-raced")
    set_clock(env.clock, CYCLE_AT)
    meanwhile: list[Any] = []

    def security_and_cycle_act():
        try:  # the service, not the handler: one function's invocation does not nest another's
            record_verdict(env.deps, case_id, "approve", "sent as the partner was removed", "Security")
        except Conflict as refused:
            meanwhile.append(refused)
        else:
            meanwhile.append(None)
        meanwhile.append(run_cycle(env.deps))

    removed = _removal_with(env, monkeypatch, case_id, security_and_cycle_act)

    refused, report = meanwhile
    assert isinstance(refused, Conflict) and f"case {case_id} is removed" in str(refused), (
        refused
    )  # not a dispute now
    assert report["totals"]["approved"] == 0, report
    assert removed.status == 200, removed
    assert case_of(env.tenant, case_id)["status"] == "removed"
    assert rewards_of(env.tenant, partner_id="p-raced") == {held: "archived"}


def test_a_decline_the_cycle_has_begun_cannot_be_turned_into_an_approval_and_the_next_run_finishes_it(
    env, monkeypatch
):
    """A verdict recorded while the cycle declined was accepted (200) and never applied."""
    case_id = flag_partner(env, "p-no")
    held = buy(env, "c-no", "p-no", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    assert verdict(env, case_id, "decline", "a ring of fake customers").status == 200
    _stopped_after_its_first_step(env, monkeypatch)

    turned = verdict(env, case_id, "approve", "evidence checked: legit")

    assert turned.status == 409 and "being declined" in turned.body["detail"], turned
    assert verdict(env, case_id, "decline", "a ring of fake customers").status == 200  # a retry
    assert verdict(env, case_id, "decline", "still a ring").status == 409  # another note
    report = run_scheduled_cycle(env, CYCLE_AT.replace(hour=1))
    assert report["totals"]["declined"] == 1, report
    audit = [a["action"] for a in case_of(env.tenant, case_id)["audit"]]  # newest first
    assert audit[0] == "dispute_declined" and audit.count("verdict_decline") == 1  # none after it
    assert rewards_of(env.tenant, partner_id="p-no") == {held: "declined"}
    assert case_of(env.tenant, case_id)["partner"]["status"] == "flagged"


def test_a_verdict_recorded_after_the_cycle_read_the_case_is_the_one_applied(env, monkeypatch):
    """The cycle read a decline; the security team turned it into an approval before the cycle's
    first step: the decline was applied and the approval, answered 200, lost."""
    from functions.disputes.service import record_verdict

    case_id, held = approved_with_a_held_reward(env, "p-turn")
    assert verdict(env, case_id, "decline", "first look").status == 200
    store, real_apply, turned = env.deps.repository, env.deps.repository.apply, []

    def approved_before_the_first_step(step):
        if not turned:
            turned.append("now")  # once (the verdict's own step comes through here too)
            set_clock(env.clock, CYCLE_AT + timedelta(seconds=1))  # the cycle has run a second
            record_verdict(env.deps, case_id, "approve", "evidence checked: legit", "sec")
        real_apply(step)

    monkeypatch.setattr(store, "apply", approved_before_the_first_step)
    report = run_scheduled_cycle(env)
    monkeypatch.setattr(store, "apply", real_apply)

    assert turned and report["totals"]["approved"] == 1 and report["totals"]["declined"] == 0, report
    assert rewards_of(env.tenant, partner_id="p-turn") == {held: "pending"}
    drawer = case_of(env.tenant, case_id)
    assert drawer["status"] == "approved"
    # the trail in the order things happened: the verdict, then the resolution that applied it
    latest = max(e["at"] for e in drawer["audit"] if e["action"].startswith("verdict_"))
    resolved = next(e["at"] for e in drawer["audit"] if e["action"] == "dispute_approved")
    assert latest <= resolved, drawer["audit"]


@pytest.mark.parametrize("outcome", ["decline", "approve-again"])
def test_a_decline_or_an_approval_recorded_after_the_new_evidence_is_applied_as_it_was(env, outcome):
    case_id = flag_partner(env, "p-firm")
    held = buy(env, "c-firm-1", "p-firm", "2026-11-04T09:00:00Z", "30.00")
    drain(env.aws)
    assert dispute(env, case_id).status == 200
    set_clock(env.clock, VERDICT_AT)
    first = "decline" if outcome == "decline" else "approve"
    assert verdict(env, case_id, first).status == 200
    _suspicious_again(env, "p-firm", datetime(2026, 11, 27, 9, tzinfo=UTC))
    if outcome == "approve-again":  # the security team looked again, knowing the new evidence
        assert verdict(env, case_id, "approve", "still fine").status == 200

    report = run_scheduled_cycle(env)

    expected = "declined" if outcome == "decline" else "approved"
    assert report["totals"][expected] == 1 and report["totals"]["withdrawn"] == 0
    assert rewards_of(env.tenant, partner_id="p-firm") == {
        held: "declined" if outcome == "decline" else "pending"
    }


# --- the seed's flagged-object table ----------------------------------------------------------
def test_flagged_partner_row(env):
    """Partner: no action -> rewards from the flagged event on stay held; on dispute -> held unless
    overridden; approved -> pending; rejected -> declined."""
    rows = {}
    for partner_id, day in (("p-approve", 3), ("p-reject", 5)):
        case_id = flag_partner(env, partner_id, day=day, joined=f"2026-11-0{day - 2}T09:00:00Z")
        rows[partner_id] = {
            "case": case_id,
            "before": buy(env, f"{partner_id}-c0", partner_id, f"2026-11-0{day - 1}T23:59:00Z", "1.00"),
            "held": buy(env, f"{partner_id}-c1", partner_id, f"2026-11-0{day}T09:00:00Z", "20.00"),
            "overridden": buy(env, f"{partner_id}-c2", partner_id, f"2026-11-0{day + 1}T09:00:00Z", "5.00"),
        }
    drain(env.aws)

    # no action: the holds stay, whatever runs
    sweep(env.deps)
    assert run_scheduled_cycle(env)["totals"] == {
        "approved": 0,
        "declined": 0,
        "withdrawn": 0,
        "waiting": 0,
        "failed": 0,
    }
    for partner_id, row in rows.items():
        assert rewards_of(env.tenant, partner_id=partner_id) == {
            row["before"]: "pending",
            row["held"]: "on_hold",
            row["overridden"]: "on_hold",
        }
        assert view(env.tenant, "active")[row["case"]]["status"] == "open"

    # disputed: still held, unless overridden by hand
    for partner_id, row in rows.items():
        assert dispute(env, row["case"]).status == 200
        answer = api(
            "cases",
            "POST",
            f"/v1/rewards/{row['overridden']}/override",
            env.tenant.keys["admin"],
            {"status": "approved"},
        )
        assert answer.status == 200 and answer.body["status"] == "approved", answer
    sweep(env.deps)
    for partner_id, row in rows.items():
        assert rewards_of(env.tenant, partner_id=partner_id)[row["held"]] == "on_hold"
        assert rewards_of(env.tenant, partner_id=partner_id)[row["overridden"]] == "approved"

    # approved -> pending; rejected -> declined; the override stands either way
    assert verdict(env, rows["p-approve"]["case"], "approve").status == 200
    assert verdict(env, rows["p-reject"]["case"], "decline").status == 200
    run_scheduled_cycle(env)
    sweep(env.deps)
    for partner_id, outcome in (("p-approve", "pending"), ("p-reject", "declined")):
        row = rows[partner_id]
        assert rewards_of(env.tenant, partner_id=partner_id) == {
            row["before"]: "pending",
            row["held"]: outcome,
            row["overridden"]: "approved",
        }


def test_flagged_customer_row(env):
    """Customer: no action -> the customer's transactions' rewards stay held; on dispute -> held
    unless overridden; approved -> pending; rejected -> declined. The partner is not flagged."""
    send(env.tenant, signup("p-host", email="host@example.com", ip="81.2.69.5", at="2026-11-01T09:00:00Z"))
    other = buy(env, "c-other", "p-host", "2026-11-02T09:00:00Z", "3.00")
    rows = {}
    for customer_id in ("c-approve", "c-reject"):
        first = buy(env, customer_id, "p-host", "2026-11-02T10:00:00Z", "11.00")
        second = buy(env, customer_id, "p-host", "2026-11-03T10:00:00Z", "4.00")
        # the same customer buys again with the partner's own e-mail address: a self-referral
        flagged = purchase(
            customer_id,
            "p-host",
            email="host@example.com",
            at="2026-11-04T10:00:00Z",
            reward="9.00",
            ip=f"81.2.69.{next(_ips)}",
        )
        send(env.tenant, flagged)
        drain(env.aws)
        decision = status(env.tenant, flagged["id"])
        assert "self_referral" in {r["code"] for r in decision["decision"]["reasons"]}
        rows[customer_id] = {
            "case": decision["case_id"],
            "overridden": first,
            "held": [second, flagged["reward"]["id"]],
        }

    sweep(env.deps)
    run_scheduled_cycle(env)
    for customer_id, row in rows.items():
        case = view(env.tenant, "active")[row["case"]]
        assert (case["subject"], case["status"], case["held_rewards"]) == (
            {"type": "customer", "id": customer_id, "name": f"Customer {customer_id}"},
            "open",
            3,
        )
        assert set(rewards_of(env.tenant, customer_id=customer_id).values()) == {"on_hold"}
    assert rewards_of(env.tenant, partner_id="p-host")[other] == "pending"

    for customer_id, row in rows.items():
        assert dispute(env, row["case"]).status == 200
        answer = api(
            "cases",
            "POST",
            f"/v1/rewards/{row['overridden']}/override",
            env.tenant.keys["fraud"],
            {"status": "approved"},
        )
        assert answer.status == 200, answer
    sweep(env.deps)
    assert verdict(env, rows["c-approve"]["case"], "approve").status == 200
    assert verdict(env, rows["c-reject"]["case"], "decline").status == 200
    run_scheduled_cycle(env)

    for customer_id, outcome in (("c-approve", "pending"), ("c-reject", "declined")):
        row = rows[customer_id]
        expected = {row["overridden"]: "approved", **{r: outcome for r in row["held"]}}
        assert rewards_of(env.tenant, customer_id=customer_id) == expected
        assert view(env.tenant, "resolved")[row["case"]]["status"] == (
            "approved" if outcome == "pending" else "declined"
        )
    assert rewards_of(env.tenant, partner_id="p-host")[other] == "pending"


# --- the cycle: waiting disputes, reports, interruptions, concurrency --------------------------
def disputed_cases(env, other_tenant) -> dict[str, str]:
    """Program A: one dispute approved, one declined, one without a verdict; program B: one declined."""
    cases = {
        "approve": flag_partner(env, "p-a1", day=3),
        "decline": flag_partner(env, "p-a2", day=4),
        "waiting": flag_partner(env, "p-a3", day=5),
        "other": flag_partner(env, "p-b1", day=6, tenant=other_tenant),
    }
    held = {
        name: buy(env, f"c-{name}", f"p-a{n}", "2026-11-07T09:00:00Z", "10.00")
        for n, name in enumerate(("approve", "decline", "waiting"), start=1)
    }
    drain(env.aws)
    for name, case_id in cases.items():
        tenant = other_tenant if name == "other" else env.tenant
        answer = api(
            "disputes", "POST", f"/v1/cases/{case_id}/dispute", tenant.keys["admin"], {"reason": name}
        )
        assert answer.status == 200, answer
        env.clock.advance(minutes=1)
    for name, outcome in (("approve", "approve"), ("decline", "decline"), ("other", "decline")):
        assert verdict(env, cases[name], outcome).status == 200
    env.held = held  # the one held reward of each program A case
    return cases


def test_the_cycle_reports_per_outcome_and_program_and_leaves_disputes_without_a_verdict(env, other_tenant):
    cases = disputed_cases(env, other_tenant)
    a, b = env.tenant.program_id, other_tenant.program_id

    report = run_scheduled_cycle(env)

    assert report == {
        "totals": {"approved": 1, "declined": 2, "withdrawn": 0, "waiting": 1, "failed": 0},
        "programs": {
            a: {"approved": 1, "declined": 1, "withdrawn": 0, "waiting": 1, "failed": 0},
            b: {"approved": 0, "declined": 1, "withdrawn": 0, "waiting": 0, "failed": 0},
        },
    }
    waiting = view(env.tenant, "active")[cases["waiting"]]
    assert (waiting["status"], waiting["held_rewards"]) == ("disputed", 1)
    listed = api("disputes", "GET", "/v1/disputes", env.security).body["items"]
    assert [(d["id"], d["verdict"]) for d in listed] == [(cases["waiting"], None)]
    assert {d["case_id"]: d["outcome"] for d in published(env, "DisputeResolved")} == {
        cases["approve"]: "approved",
        cases["decline"]: "declined",
        cases["other"]: "declined",
    }
    # a second run has nothing left to do
    assert run_scheduled_cycle(env, datetime(2027, 1, 1, tzinfo=UTC))["totals"] == {
        "approved": 0,
        "declined": 0,
        "withdrawn": 0,
        "waiting": 1,
        "failed": 0,
    }
    assert len(published(env, "DisputeResolved")) == 3
    assert view(env.tenant, "resolved")[cases["approve"]]["resolved_at"] == "2026-12-01T00:00:00Z"
    # the verdict recorded later is applied by the next cycle
    assert verdict(env, cases["waiting"], "approve").status == 200
    assert run_scheduled_cycle(env, datetime(2027, 2, 1, tzinfo=UTC))["programs"] == {
        a: {"approved": 1, "declined": 0, "withdrawn": 0, "waiting": 0, "failed": 0}
    }
    assert view(env.tenant, "resolved")[cases["waiting"]]["resolved_at"] == "2027-02-01T00:00:00Z"


def final_state(env, other_tenant, cases) -> dict[str, Any]:
    state = {}
    for name, case_id in cases.items():
        tenant = other_tenant if name == "other" else env.tenant
        drawer = case_of(tenant, case_id)
        state[name] = (
            drawer["status"],
            drawer["resolved_at"],
            drawer["held_rewards"],
            sorted(r["id"] for r in drawer["held_reward_list"]),
            [a["action"] for a in drawer["audit"]],
            rewards_of(tenant, partner_id=drawer["subject"]["id"]),
        )
    return state


def test_a_cycle_that_stopped_half_way_finishes_when_run_again_and_changes_nothing_twice(
    env, other_tenant, monkeypatch
):
    cases = disputed_cases(env, other_tenant)
    repository = env.deps.repository
    real = type(repository).apply
    calls = itertools.count(1)

    def failing_on_the_declined_cases_last_step(self, step):
        # the approved case is four steps (its subject unflagged, its rewards, its marks, the case),
        # a declined case three (its subject left without an active case, its rewards, the case):
        # the seventh is the declined case's own step
        if next(calls) == 7:
            raise StorageUnavailable("the store stopped answering")
        return real(self, step)

    monkeypatch.setattr(type(repository), "apply", failing_on_the_declined_cases_last_step)
    set_clock(env.clock, CYCLE_AT)
    first = run_cycle(env.deps)
    monkeypatch.setattr(type(repository), "apply", real)
    # reported, and the cycle went on with the others
    assert first["totals"] == {"approved": 1, "declined": 1, "withdrawn": 0, "waiting": 1, "failed": 1}
    assert len(published(env, "DisputeResolved")) == 2
    # half way: the second case's reward is declined, the case itself is still disputed
    assert rewards_of(env.tenant, partner_id="p-a2") == {env.held["decline"]: "declined"}
    assert view(env.tenant, "active")[cases["decline"]]["status"] == "disputed"

    report = run_scheduled_cycle(env, CYCLE_AT.replace(hour=1))
    again = run_scheduled_cycle(env, CYCLE_AT.replace(hour=2))

    assert report["totals"] == {"approved": 0, "declined": 1, "withdrawn": 0, "waiting": 1, "failed": 0}
    assert again["totals"] == {"approved": 0, "declined": 0, "withdrawn": 0, "waiting": 1, "failed": 0}
    resolved = {d["case_id"]: d for d in published(env, "DisputeResolved")}
    assert len(published(env, "DisputeResolved")) == 3
    assert {c: d["outcome"] for c, d in resolved.items()} == {
        cases["approve"]: "approved",
        cases["decline"]: "declined",
        cases["other"]: "declined",
    }
    # the reward the interrupted run declined is reported when the case is resolved
    assert resolved[cases["decline"]]["rewards"] == [env.held["decline"]]
    assert resolved[cases["approve"]]["rewards"] == [env.held["approve"]]
    state = final_state(env, other_tenant, cases)
    assert state["approve"][:4] == ("approved", "2026-12-01T00:00:00Z", 0, [])
    assert state["decline"][:4] == ("declined", "2026-12-01T01:00:00Z", 0, [])
    assert state["approve"][4].count("dispute_approved") == 1
    assert state["decline"][4].count("dispute_declined") == 1
    # and its history counts it too, as the notification does
    entry = next(
        a for a in case_of(env.tenant, cases["decline"])["audit"] if a["action"] == "dispute_declined"
    )
    assert entry["detail"]["rewards"] == 1
    assert set(state["approve"][5].values()) == {"pending"}
    assert set(state["decline"][5].values()) == {"declined"}
    assert state["waiting"][0] == "disputed" and set(state["waiting"][5].values()) == {"on_hold"}


def test_two_concurrent_cycles_apply_each_verdict_once(env, other_tenant):
    cases = disputed_cases(env, other_tenant)
    set_clock(env.clock, CYCLE_AT)
    reports: list[dict[str, Any]] = []
    start = threading.Barrier(2)

    def cycle() -> None:
        start.wait()
        reports.append(run_cycle(env.deps))

    threads = [threading.Thread(target=cycle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 2
    for outcome, expected in (("approved", 1), ("declined", 2)):
        assert sum(r["totals"][outcome] for r in reports) == expected
    resolved = published(env, "DisputeResolved")
    assert sorted(d["case_id"] for d in resolved) == sorted(
        [cases["approve"], cases["decline"], cases["other"]]
    )
    assert all(len(d["rewards"]) == (0 if d["case_id"] == cases["other"] else 1) for d in resolved)
    state = final_state(env, other_tenant, cases)
    assert state["approve"][0] == "approved" and state["approve"][4].count("dispute_approved") == 1
    assert state["decline"][0] == "declined" and state["decline"][4].count("dispute_declined") == 1
    assert set(state["approve"][5].values()) == {"pending"}
    assert set(state["decline"][5].values()) == {"declined"}


# --- state changes that are not allowed ---------------------------------------------------------
def test_state_changes_that_are_not_allowed_are_refused_and_change_nothing(env, other_tenant):
    disputed = flag_partner(env, "p-disputed", day=3)
    resolved = flag_partner(env, "p-resolved", day=4)
    removed = flag_partner(env, "p-removed", day=5)
    untouched = flag_partner(env, "p-open", day=6)
    assert dispute(env, disputed).status == 200
    assert dispute(env, resolved).status == 200
    assert verdict(env, resolved, "approve").status == 200
    run_scheduled_cycle(env)
    assert (
        api(
            "cases", "POST", f"/v1/cases/{removed}/remove", env.tenant.keys["fraud"], {"block_reapply": False}
        ).status
        == 200
    )
    before = {c: case_of(env.tenant, c) for c in (disputed, resolved, removed, untouched)}
    events_before = list(env.bus.published)

    refused = {
        "dispute twice": (dispute(env, disputed, "again"), 409, "disputed"),
        "dispute a resolved case": (dispute(env, resolved), 409, "approved"),
        "dispute a removed case": (dispute(env, removed), 409, "removed"),
        "another program's case": (
            api(
                "disputes",
                "POST",
                f"/v1/cases/{untouched}/dispute",
                other_tenant.keys["fraud"],
                {"reason": "x"},
            ),
            404,
            untouched,
        ),
        "unknown case": (dispute(env, "case_0000000000000000"), 404, "case_0000000000000000"),
        # the security team sees disputes only: a case never disputed is not one of them; one
        # disputed and resolved since is, and the verdict is told why it comes too late
        "verdict on an open case": (verdict(env, untouched, "approve"), 404, untouched),
        "verdict on a resolved case": (verdict(env, resolved, "decline"), 409, "is approved"),
        "verdict on a removed case": (verdict(env, removed, "approve"), 404, removed),
        "no reason": (dispute(env, untouched, ""), 422, "reason"),
        "a blank reason": (dispute(env, untouched, " \n\t "), 422, "reason"),
        # shown to the security team, in the audit trail and in webhooks: text a person can read
        "an invisible reason": (dispute(env, untouched, "\u200b\u200e \u2060"), 422, "reason"),
        "a reason with a NUL": (dispute(env, untouched, "ok\u0000"), 422, "reason"),
        "a reason that reorders text": (dispute(env, untouched, "refund \u202eevil"), 422, "reason"),
        "a note with an escape sequence": (verdict(env, disputed, "approve", "\u001b[2J"), 422, "note"),
        "a note that reorders text": (verdict(env, disputed, "decline", "\u2067x"), 422, "note"),
        "unknown verdict": (verdict(env, disputed, "maybe"), 422, "verdict"),
    }

    for name, (answer, expected, words) in refused.items():
        assert answer.status == expected, (name, answer)
        assert answer.headers["content-type"] == "application/problem+json", name
        assert answer.body["status"] == expected and words in answer.body["detail"], (name, answer.body)
    for name, (answer, expected, words) in refused.items():
        if expected == 422:
            assert answer.body["errors"][0]["field"] == words, (name, answer.body)
    assert {c: case_of(env.tenant, c) for c in before} == before
    assert env.bus.published == events_before
    # written text keeps its line breaks, tabs and the marks right-to-left scripts use
    written = "Checked by phone:\n\tthe reseller's contract, \u200fמאושר\u200f"
    assert dispute(env, untouched, written).body["dispute_reason"] == written


def test_a_verdict_finds_its_case_by_its_locator_not_by_reading_every_open_dispute(env):
    """The verdict names the case alone (the security team works across programs): it read the
    whole list of open disputes to learn the case's program, a read that grew with every dispute
    of the platform. The dispute step writes where the case is (stacks deployed before it are not
    upgraded: README)."""
    from tests.integration.test_loyalty_support import DynamoCalls

    cases = [flag_partner(env, f"p-loc-{n}") for n in range(4)]
    for case_id in cases:
        assert dispute(env, case_id).status == 200

    with DynamoCalls() as calls:
        assert verdict(env, cases[2], "approve").status == 200
    assert "Query" not in [name for name, *_ in calls.calls], calls.calls

    # nor does a verdict on a case that was never disputed (it read the list, to find nothing)
    never = flag_partner(env, "p-loc-never")
    with DynamoCalls() as calls:
        assert verdict(env, "case_nowhere", "approve").status == 404
        assert verdict(env, never, "approve").status == 404
    assert "Query" not in [name for name, *_ in calls.calls], calls.calls


def _declined_then_flagged_again(env, partner_id: str) -> tuple[str, str]:
    """A partner whose first case is declined by the cycle, then flagged again (its twin's address)
    on 2026-12-02: the second case opened while the declined one keeps it flagged."""
    declined = flag_partner(env, partner_id)
    assert dispute(env, declined).status == 200
    assert verdict(env, declined, "decline", "a ring of fake customers").status == 200
    assert run_scheduled_cycle(env)["totals"]["declined"] == 1
    again = status(env.tenant, _suspicious_again(env, partner_id, datetime(2026, 12, 2, 9, tzinfo=UTC)))
    assert again["decision"]["action"] == "flag" and again["case_id"] not in (None, declined), again
    return declined, again["case_id"]


def test_an_approval_of_a_later_case_leaves_the_partner_flagged_under_its_declined_case(env):
    """SPEC 4: after a declined dispute the subject stays flagged, with no whitelisting. A later
    case's approval said that case's signals were wrong, not the declined one's; it made the
    partner active, unmarked its identifiers and released what the later case held."""
    declined, later = _declined_then_flagged_again(env, "p-twice")
    set_clock(env.clock, datetime(2026, 12, 2, 10, tzinfo=UTC))
    held = buy(env, "c-held", "p-twice", "2026-12-02T10:00:00Z", "12.00")
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id="p-twice") == {held: "on_hold"}
    assert dispute(env, later).status == 200
    assert verdict(env, later, "approve", "this sign-in was the partner's own").status == 200

    report = run_scheduled_cycle(env, datetime(2027, 1, 1, tzinfo=UTC))

    assert report["totals"]["approved"] == 1
    assert view(env.tenant, "resolved")[later]["status"] == "approved"
    drawer = case_of(env.tenant, declined)
    assert drawer["partner"]["status"] == "flagged"
    # what the approved case held stays held, under the declined case
    (kept,) = api("cases", "GET", "/v1/rewards", env.tenant.keys["fraud"], partner_id="p-twice").body["items"]
    assert (kept["id"], kept["status"], kept["case_id"]) == (held, "on_hold", declined)
    assert view(env.tenant, "resolved")[declined]["held_rewards"] == 1
    assert view(env.tenant, "resolved")[later]["held_rewards"] == 0
    (event,) = [e for e in published(env, "DisputeResolved") if e["case_id"] == later]
    assert (event["outcome"], event["rewards"], event["rewards_now"], event["held_under"]) == (
        "approved",
        [held],
        "on_hold",
        declined,
    )
    # its next reward is held under the declined case as it arrives
    set_clock(env.clock, datetime(2027, 1, 2, 9, tzinfo=UTC))
    bought = purchase("c-next", "p-twice", at="2027-01-02T09:00:00Z", reward="5.00", ip="81.2.69.250")
    send(env.tenant, bought)
    drain(env.aws)
    assert rewards_of(env.tenant, partner_id="p-twice")[bought["reward"]["id"]] == "on_hold"
    assert status(env.tenant, bought["id"])["case_id"] == declined  # the event names its hold's case
    # and its identifiers keep their marks: a newcomer from its IP signs up from a flagged address
    partner = env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-twice")
    set_clock(env.clock, datetime(2027, 1, 2, 10, tzinfo=UTC))
    newcomer = send(env.tenant, signup("p-newcomer", ip=min(partner.ips), at="2027-01-02T10:00:00Z"))
    drain(env.aws)
    assert "ip_suspicious" in codes(env.tenant, newcomer["id"])


def test_a_partner_under_a_later_case_is_removed_from_that_case_and_only_once(env):
    """A removal from the declined case left the partner's later case open (in the Active tab and
    the security team's list) and let the partner be removed a second time from it."""
    declined, later = _declined_then_flagged_again(env, "p-again")

    # the declined case's drawer names the newer one (the console links it instead of offering removal)
    assert case_of(env.tenant, declined)["partner"]["active_case_id"] == later
    refused = remove(env, declined)

    assert refused.status == 409, refused
    assert later in refused.body["detail"], refused.body
    assert case_of(env.tenant, declined)["status"] == "declined"
    assert case_of(env.tenant, declined)["partner"]["status"] == "flagged"
    assert remove(env, later).status == 200
    again = remove(env, declined)
    assert again.status == 409 and "removed already" in again.body["detail"], again.body
    listed = api("cases", "GET", "/v1/removed-partners", env.tenant.keys["fraud"]).body["items"]
    assert [r["case_id"] for r in listed] == [later]
    assert list(view(env.tenant, "active")) == []


def test_an_approved_customer_case_leaves_a_flagged_partners_reward_on_hold(env):
    """A purchase that referred the partner to itself flags the customer and holds the commission
    under the customer's case. Approving that case frees the customer, not the partner: the partner
    is still flagged, and a reward of theirs from their flag on stays held (SPEC 4), now under the
    partner's case, not `pending` until the next sweep (a payout later)."""
    partner_case = flag_partner(env, "p-self")
    reward = buy(env, "c-self", "p-self", "2026-11-04T09:00:00Z", "30.00", email="p-self.owner@example.com")
    drain(env.aws)
    active = view(env.tenant, "active")
    customer_case = next(c for c, found in active.items() if found["subject"]["type"] == "customer")
    assert rewards_of(env.tenant, partner_id="p-self") == {reward: "on_hold"}
    assert dispute(env, customer_case).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, customer_case, "approve").status == 200

    run_scheduled_cycle(env)

    assert case_of(env.tenant, customer_case)["status"] == "approved"
    assert rewards_of(env.tenant, partner_id="p-self") == {reward: "on_hold"}
    assert [r["id"] for r in case_of(env.tenant, partner_case)["held_reward_list"]] == [reward]


def test_the_same_verdict_sent_again_is_recorded_once(env):
    """A retry of a verdict (same verdict, note and evidence) is answered as the first and adds no
    second entry to the case's history; another note, or the same verdict on new evidence, does."""
    case_id = flag_partner(env, "p-again")
    assert dispute(env, case_id).status == 200
    set_clock(env.clock, VERDICT_AT)
    first = verdict(env, case_id, "approve", "checked by phone")
    set_clock(env.clock, VERDICT_AT + timedelta(minutes=1))  # a retry a minute later
    again = verdict(env, case_id, "approve", "checked by phone")
    assert first.status == again.status == 200, again
    assert again.body == first.body
    entries = [a["action"] for a in case_of(env.tenant, case_id)["audit"]]
    assert entries.count("verdict_approve") == 1

    set_clock(env.clock, VERDICT_AT + timedelta(minutes=5))
    assert verdict(env, case_id, "approve", "checked twice").status == 200
    entries = [a["action"] for a in case_of(env.tenant, case_id)["audit"]]
    assert entries.count("verdict_approve") == 2


def test_a_cycle_stopped_after_releasing_a_reward_holds_it_for_the_flagged_partner_when_run_again(
    env, monkeypatch
):
    """The approval above, stopped once the reward is `pending` again (the store stopped answering
    before the other side was held): the case is still disputed, and the next run holds what the
    first released, not leaving it payable until the sweep."""
    flag_partner(env, "p-stop")
    reward = buy(env, "c-stop", "p-stop", "2026-11-04T09:00:00Z", "30.00", email="p-stop.owner@example.com")
    drain(env.aws)
    active = view(env.tenant, "active")
    customer_case = next(c for c, found in active.items() if found["subject"]["type"] == "customer")
    assert dispute(env, customer_case).status == 200
    set_clock(env.clock, VERDICT_AT)
    assert verdict(env, customer_case, "approve").status == 200
    _stopped_after_its_first_step(env, monkeypatch, steps_applied=2)  # the verdict begun, the reward released
    assert rewards_of(env.tenant, partner_id="p-stop") == {reward: "pending"}  # released, then stopped
    assert case_of(env.tenant, customer_case)["status"] == "disputed"

    run_scheduled_cycle(env, CYCLE_AT.replace(hour=1))

    assert case_of(env.tenant, customer_case)["status"] == "approved"
    assert rewards_of(env.tenant, partner_id="p-stop") == {reward: "on_hold"}


def test_a_verdict_sent_with_the_one_it_saw_does_not_replace_a_teammates_recorded_since(env):
    # Given a disputed case, and a teammate's approval recorded after this caller read no verdict
    case_id = flag_partner(env, "p-stale")
    assert dispute(env, case_id).status == 200
    assert verdict(env, case_id, "approve", "theirs").status == 200
    path = f"/v1/disputes/{case_id}/verdict"

    # When this caller declines, saying it saw none
    stale = api(
        "disputes", "POST", path, env.security, {"verdict": "decline", "note": "mine", "replaces": None}
    )

    # Then it is refused, and the approval stands; sent with the verdict it saw, it replaces it
    assert stale.status == 409 and "recorded since you read it" in stale.body["detail"], stale
    assert env.deps.repository.get_case(env.tenant.program_id, case_id).verdict == "approve"
    seen = api(
        "disputes", "POST", path, env.security, {"verdict": "decline", "note": "mine", "replaces": "approve"}
    )
    assert seen.status == 200
    assert env.deps.repository.get_case(env.tenant.program_id, case_id).verdict == "decline"
    # and one sent without saying what it saw replaces any, as before
    assert verdict(env, case_id, "approve").status == 200


def test_a_verdicts_note_is_optional_as_sent_absent_null_or_blank(env):
    """SPEC 3.1's optional, as README says of a status change's note: absent, `null` or blank is
    no note. A verdict sent with `"note": null` (an integration's or a form's "no note") was
    refused with a 422 where the same verdict without the field was recorded."""
    answers = {}
    for n, note in enumerate(({}, {"note": None}, {"note": "  "}, {"note": "\u200b"})):  # shows nothing
        case_id = flag_partner(env, f"p-note-{n}")
        assert dispute(env, case_id).status == 200
        body = {"verdict": "approve", **note}
        answers[n] = api("disputes", "POST", f"/v1/disputes/{case_id}/verdict", env.security, body)
    for n, answer in answers.items():
        assert answer.status == 200, (n, answer.body)
        assert answer.body["verdict"] == "approve"
        assert answer.body["verdict_note"] == answers[0].body["verdict_note"], n
        assert not answer.body["verdict_note"], n


def test_an_approved_partner_starts_again_with_no_group_of_partners_met(env):
    """The partners a partner met one device at a time (`Subject.linked`) were the review's to judge,
    as its unfamiliar sessions: approved, the next login meeting one of them again is one account
    met (weak), not the group again (a reviewer found the partner flagged again at once, for a
    group the security team had cleared)."""
    tenant = env.tenant
    for n in range(3):
        send(tenant, signup(f"met-{n}", device=f"fp-met-{n}", ip=f"81.2.69.{next(_ips)}"))
    send(tenant, signup("meeter", device="fp-meeter", ip="81.2.69.160"))
    drain(env.aws)
    logins = []
    for n in range(3):
        login = sample(
            "account.updated", id=f"meet-{n}", activity="login", occurred_at=f"2026-11-0{3 + n}T09:00:00Z"
        )
        login["partner"] = {"id": "meeter"}
        login["session"] = {"ip": "81.2.69.160", "device_fingerprint": f"fp-met-{n}"}
        send(tenant, login)
        drain(env.aws)
        logins.append(status(tenant, login["id"]))
    assert logins[2]["decision"]["action"] == "flag", logins[2]
    case_id = logins[2]["case_id"]
    assert dispute(env, case_id).status == 200 and verdict(env, case_id, "approve").status == 200
    run_scheduled_cycle(env)
    profile = env.deps.repository.get_subject(tenant.program_id, "partner", "meeter")
    assert (profile.status, profile.linked) == ("active", ()), profile

    again = sample("account.updated", id="meet-again", activity="login", occurred_at="2026-11-30T23:00:00Z")
    again["partner"] = {"id": "meeter"}
    again["session"] = {"ip": "81.2.69.160", "device_fingerprint": "fp-met-0"}
    send(tenant, again)
    drain(env.aws)
    decided = status(tenant, "meet-again")["decision"]
    assert decided["action"] == "allow" and "cluster" not in str(decided["reasons"]), decided
