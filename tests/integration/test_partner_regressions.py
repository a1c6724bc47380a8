"""Issue 12's regressions, each against moto through the real handlers: what a fraudster, an ordinary
integration or unlucky timing did to the partner-program rules before they lived in one place."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import botocore.client
import pytest
from botocore.exceptions import ClientError

from functions.disputes.service import run_cycle
from functions.hold_sweep.service import sweep
from functions.shared.changes import carry_out
from functions.shared.domain.identity import email_keys, network_key, network_pepper
from functions.shared.domain.marks import (
    CUSTOMER_MARK,
    customer_marks_rewritten,
    network_identifiers,
    network_mark,
)
from functions.shared.domain.model import Reward, Subject, evolve
from functions.shared.domain.profiles import identifiers_of
from functions.shared.domain.rewards import hold_steps
from functions.shared.domain.writes import (
    MarkNetwork,
    PutReward,
    Step,
    StepRefused,
    UpdateProfile,
    WriteProfile,
)
from local_system.scheduler import scheduled_event
from tests.integration.scoring_support import drain, purchase, send, signup, status
from tests.support import call, invoke_raw, proxy_event, sample

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_n = itertools.count(1)


def api(env, function: str, method: str, path: str, body: Any = None, key: str | None = None, **query: str):
    return call(
        function, proxy_event(method, path, body, key or env.tenant.keys["fraud"], query=query or None)
    )


def seed_partner(env, partner_id: str, *, devices: int, ips: int, emails: list[str]) -> Subject:
    """A partner who rotated through many devices, IPs and addresses (as if scored many times)."""
    profile = Subject(
        program_id=env.tenant.program_id,
        type="partner",
        id=partner_id,
        name=f"Partner {partner_id}",
        email=emails[-1],
        email_normalized=email_keys(emails[-1]).normalized,
        emails=frozenset(emails),
        devices=frozenset(f"fp-{partner_id}-{n}" for n in range(devices)),
        ips=frozenset(f"10.{n // 250}.{n % 250}.7" for n in range(ips)),
        signup_at=datetime(2026, 11, 1, tzinfo=UTC),
        changed_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    env.deps.repository.apply(Step([WriteProfile(profile, expect_version=0)]))
    return profile


def flag_by_email(env, partner_id: str, twin: str, at: str = "2026-11-10T12:00:00Z") -> str:
    """Another partner already uses `twin` (since a day before `at`); `partner_id` changes its
    address to it: flagged."""
    before = (datetime.fromisoformat(at) - timedelta(days=1)).isoformat()
    send(env.tenant, signup(f"{partner_id}-twin", email=twin, ip=f"81.2.70.{next(_n)}", at=before))
    update = sample(
        "account.updated", id=f"upd-{partner_id}-{next(_n)}", occurred_at=at, activity="email_change"
    )
    update["partner"] = {"id": partner_id, "email": twin}
    send(env.tenant, update)
    drain(env.aws)
    answer = status(env.tenant, update["id"])
    assert answer["status"] == "scored" and answer["decision"]["action"] == "flag", answer
    return answer["case_id"]


def links(env, keys: list[tuple[str, str]]):
    snapshot = env.deps.repository.scoring_snapshot(
        env.tenant.program_id, ("partner", "x"), None, keys, [], []
    )
    return snapshot.links


def network(env, keys: list[tuple[str, str]]):
    snapshot = env.deps.repository.scoring_snapshot(
        env.tenant.program_id, ("partner", "x"), None, [], keys, []
    )
    return snapshot.network


def dispute_and_decide(env, case_id: str, verdict: str) -> dict[str, Any]:
    assert api(env, "disputes", "POST", f"/v1/cases/{case_id}/dispute", {"reason": "checked"}).status == 200
    answer = api(
        env, "disputes", "POST", f"/v1/disputes/{case_id}/verdict", {"verdict": verdict}, env.security
    )
    assert answer.status == 200, answer
    return run_cycle(env.deps)


def reward_event(partner_id: str, reward_id: str, at: str, amount: str = "20.00") -> dict[str, Any]:
    event = sample("reward.created", id=f"api-{reward_id}", occurred_at=at)
    event["reward"].update(id=reward_id, partner_id=partner_id, amount=amount, currency="USD")
    event["reward"].pop("customer_id", None)
    return event


# --- no transaction limit decides an outcome ---------------------------------------------------
def test_a_partner_with_hundreds_of_devices_is_flagged_marked_everywhere_and_removed(env):
    profile = seed_partner(
        env, "p-many", devices=150, ips=40, emails=["old.one@example.com", "old.two@example.com"]
    )
    case_id = flag_by_email(env, "p-many", "twin.many@example.com")

    identifiers = identifiers_of(env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-many"))
    assert len(identifiers) > 190  # every device, IP and address, not the first 20
    assert all("partner:p-many" in state.flagged for state in links(env, identifiers).values())
    assert env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-many").marks_pending is False

    answer = api(env, "cases", "POST", f"/v1/cases/{case_id}/remove", {"block_reapply": True})

    assert answer.status == 200, answer
    states = links(env, identifiers)
    assert all("partner:p-many" in s.removed for s in states.values())
    assert all(
        "partner:p-many" in s.blocked for (kind, _), s in states.items() if kind in ("email", "device")
    )
    pepper = network_pepper()
    net = network(env, [("device", network_key("device", d, pepper)) for d in sorted(profile.devices)])
    assert all(s.removed for s in net.values())


def test_approval_withdraws_the_flag_on_every_identifier_the_subject_ever_used(env):
    seed_partner(env, "p-old", devices=120, ips=30, emails=["first.address@example.com"])
    case_id = flag_by_email(env, "p-old", "twin.old@example.com")
    identifiers = identifiers_of(env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-old"))
    assert ("email", "first.address@example.com") in identifiers  # an address it no longer uses

    report = dispute_and_decide(env, case_id, "approve")

    assert report["totals"]["approved"] == 1
    assert not any("partner:p-old" in s.flagged for s in links(env, identifiers).values())
    subject = env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-old")
    assert (subject.status, subject.flag_case_id) == ("active", None)


def test_approval_keeps_the_network_mark_of_another_flagged_subject_sharing_the_identifier(env):
    # two partners of one program share a device; both are flagged
    for pid in ("p-a", "p-b"):
        send(
            env.tenant,
            signup(pid, device="fp-shared-pair", email=f"{pid}@example.com", ip=f"81.2.71.{next(_n)}"),
        )
    drain(env.aws)
    case_a = flag_by_email(env, "p-a", "twin.a@example.com")
    flag_by_email(env, "p-b", "twin.b@example.com")
    device = ("device", network_key("device", "fp-shared-pair", network_pepper()))
    assert len(network(env, [device])[device].flagged) == 2

    dispute_and_decide(env, case_a, "approve")

    assert len(network(env, [device])[device].flagged) == 1  # p-b's mark stays


# --- removed partners are never paid again ----------------------------------------------------
def test_every_later_reward_of_a_removed_partner_is_archived_as_it_arrives(env):
    send(env.tenant, signup("p-gone", ip="81.2.72.1"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-gone", "twin.gone@example.com")
    assert api(env, "cases", "POST", f"/v1/cases/{case_id}/remove", {"block_reapply": False}).status == 200

    send(env.tenant, purchase("c-late", "p-gone", reward="30.00", at="2026-11-15T10:00:00Z"))
    send(env.tenant, reward_event("p-gone", "r-bonus", "2026-11-15T11:00:00Z"))
    drain(env.aws)

    rewards = api(env, "cases", "GET", "/v1/rewards", partner_id="p-gone").body["items"]
    assert {r["status"] for r in rewards} == {"archived"}
    assert len(rewards) == 2
    [removed] = api(env, "cases", "GET", "/v1/removed-partners").body["items"]
    assert removed["archived_rewards"] == {"count": 2, "amounts": [{"currency": "USD", "amount": "50.00"}]}


def test_a_removal_archives_what_is_not_yet_approved_and_leaves_an_approved_reward(env):
    """SPEC 3.2: a removal archives "every reward of theirs not yet paid or approved": a held reward
    the team approved by hand (to pay the partner while the case was open) stays approved."""
    send(env.tenant, signup("p-kept", ip="81.2.72.5"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-kept", "twin.kept@example.com")
    for reward_id, at, amount in (
        ("r-kept-a", "2026-11-11T09:00:00Z", "20.00"),
        ("r-kept-b", "2026-11-11T10:00:00Z", "7.50"),
    ):
        send(env.tenant, reward_event("p-kept", reward_id, at, amount))
    drain(env.aws)
    overridden = api(env, "cases", "POST", "/v1/rewards/r-kept-a/override", {"status": "approved"})
    assert overridden.status == 200, overridden

    removed = api(env, "cases", "POST", f"/v1/cases/{case_id}/remove", {"block_reapply": False})

    assert removed.status == 200, removed
    rewards = api(env, "cases", "GET", "/v1/rewards", partner_id="p-kept").body["items"]
    assert {r["id"]: r["status"] for r in rewards} == {"r-kept-a": "approved", "r-kept-b": "archived"}
    [listed] = [
        r for r in api(env, "cases", "GET", "/v1/removed-partners").body["items"] if r["case_id"] == case_id
    ]
    assert listed["archived_rewards"] == {"count": 1, "amounts": [{"currency": "USD", "amount": "7.50"}]}


def test_a_removed_partner_flagged_again_stays_removed_and_its_later_rewards_are_archived(env):
    send(env.tenant, signup("p-again", ip="81.2.72.3"))
    drain(env.aws)
    removal_case = flag_by_email(env, "p-again", "twin.again@example.com")
    assert (
        api(env, "cases", "POST", f"/v1/cases/{removal_case}/remove", {"block_reapply": False}).status == 200
    )

    # its next event would flag it on its own: its address changed to another partner's
    send(env.tenant, signup("p-again-other", email="other.again@example.com", ip="81.2.72.4"))
    drain(env.aws)
    update = sample(
        "account.updated", id="upd-again-late", occurred_at="2026-11-16T09:00:00Z", activity="email_change"
    )
    update["partner"] = {"id": "p-again", "email": "other.again@example.com"}
    send(env.tenant, update)
    send(env.tenant, reward_event("p-again", "r-again-late", "2026-11-16T10:00:00Z"))
    drain(env.aws)

    answer = status(env.tenant, "upd-again-late")
    assert (answer["decision"]["action"], answer["case_id"]) == ("flag", removal_case)
    assert answer["notes"] == [f"partner removed (case {removal_case}): no case opened, its rewards archived"]
    active = api(env, "cases", "GET", "/v1/cases", view="active").body["items"]
    assert "p-again" not in {c["subject"]["id"] for c in active}
    rewards = api(env, "cases", "GET", "/v1/rewards", partner_id="p-again").body["items"]
    assert [r["status"] for r in rewards] == ["archived"]
    removed = api(env, "cases", "GET", "/v1/removed-partners").body["items"]
    assert [r["case_id"] for r in removed if r["case_id"] == removal_case] == [removal_case]


# --- declined cases ---------------------------------------------------------------------------
def test_after_a_declined_dispute_later_rewards_are_held_and_the_partner_can_still_be_removed(env):
    send(env.tenant, signup("p-dec", ip="81.2.72.2"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-dec", "twin.dec@example.com")
    assert dispute_and_decide(env, case_id, "decline")["totals"]["declined"] == 1

    send(env.tenant, reward_event("p-dec", "r-after-decline", "2026-11-16T09:00:00Z"))
    drain(env.aws)

    drawer = api(env, "cases", "GET", f"/v1/cases/{case_id}").body
    assert drawer["status"] == "declined"
    assert [r["id"] for r in drawer["held_reward_list"]] == ["r-after-decline"]
    assert drawer["hold_amount"] == {"amount": "20.00", "currency": "USD"}

    removed = api(env, "cases", "POST", f"/v1/cases/{case_id}/remove", {"block_reapply": True})

    assert removed.status == 200, removed
    assert removed.body["archived_rewards"]["count"] == 1
    assert api(env, "cases", "GET", f"/v1/cases/{case_id}").body["held_rewards"] == 0


# --- holds never attach to an approved or removed case ----------------------------------------
def test_a_sweep_holding_from_a_stale_read_cannot_attach_holds_to_an_approved_case(env):
    send(env.tenant, signup("p-ok", ip="81.2.72.3"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-ok", "twin.ok@example.com")
    stale_subject = env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-ok")
    dispute_and_decide(env, case_id, "approve")
    send(env.tenant, reward_event("p-ok", "r-fresh", "2026-11-16T09:00:00Z"))
    drain(env.aws)
    fresh = env.deps.repository.subject_rewards(env.tenant.program_id, "partner", "p-ok")
    assert [r.status for r in fresh] == ["new"]

    steps = hold_steps(
        (env.tenant.program_id, stale_subject.flag_case_id), ("partner", "p-ok"), fresh, "sweep", NOW, "stale"
    )
    with pytest.raises(StepRefused):
        carry_out(env.deps.repository, steps, env.bus)

    assert sweep(env.deps).held == 0
    assert env.deps.repository.get_reward(env.tenant.program_id, "r-fresh").status == "new"


# --- no lost updates --------------------------------------------------------------------------
def test_concurrent_account_updates_both_land_and_an_older_one_does_not_undo_a_newer(env):
    send(env.tenant, signup("p-upd", ip="81.2.72.4"))
    drain(env.aws)
    team = sample(
        "account.updated", id="upd-team", occurred_at="2026-11-12T10:00:00Z", activity="profile_update"
    )
    team["partner"] = {"id": "p-upd", "team": "Growth"}
    group = sample(
        "account.updated", id="upd-group", occurred_at="2026-11-12T10:00:01Z", activity="profile_update"
    )
    group["partner"] = {"id": "p-upd", "group": "Affiliates"}
    send(env.tenant, team)
    send(env.tenant, group)
    stale = sample(
        "account.updated", id="upd-stale", occurred_at="2026-11-11T08:00:00Z", activity="profile_update"
    )
    stale["partner"] = {"id": "p-upd", "team": "Old team"}
    send(env.tenant, stale)

    from functions.score.service import take_message

    bodies = [
        f'{{"program_id": "{env.tenant.program_id}", "event_id": "{e}"}}' for e in ("upd-team", "upd-group")
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda b: take_message(env.deps, b), bodies))
    drain(env.aws)

    subject = env.deps.repository.get_subject(env.tenant.program_id, "partner", "p-upd")
    assert (subject.team, subject.group) == ("Growth", "Affiliates")
    assert status(env.tenant, "upd-stale")["status"] == "scored"


# --- a case's size does not grow with its subject's events ------------------------------------
def test_a_case_lists_each_reason_once_however_many_events_flag_its_subject(env):
    send(env.tenant, signup("p-noisy", ip="81.2.72.5"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-noisy", "twin.noisy@example.com", at="2026-11-10T12:00:00Z")
    for n in range(25):
        update = sample(
            "account.updated", id=f"noisy-{n}", occurred_at=f"2026-11-10T13:{n:02d}:00Z", activity="login"
        )
        update["partner"] = {"id": "p-noisy", "email": "twin.noisy@example.com"}
        send(env.tenant, update)
    drain(env.aws)

    case = env.deps.repository.get_case(env.tenant.program_id, case_id)
    assert len({r.code for r in case.reasons}) == len(case.reasons) <= 15
    assert next(r for r in case.reasons if r.code == "email_duplicate").count == 26


# --- a reward id used twice -------------------------------------------------------------------
def test_a_reused_reward_id_is_refused_and_the_event_still_scored(env):
    send(env.tenant, signup("p-rr", ip="81.2.72.6"))
    first = purchase("c-rr1", "p-rr", reward="10.00")
    second = purchase("c-rr2", "p-rr", reward="99.00")
    second["reward"]["id"] = first["reward"]["id"]
    second["customer"]["email"] = "n/a"  # and a value it ignores: both said
    send(env.tenant, first)
    drain(env.aws)
    send(env.tenant, second)
    drain(env.aws)

    answer = status(env.tenant, second["id"])
    assert answer["status"] == "scored"
    assert answer["notes"] == [
        "customer.email ignored: not an e-mail address",
        f"reward {first['reward']['id']} refused: that reward id is already used",
    ]
    assert status(env.tenant, first["id"])["notes"] == []
    reward = env.deps.repository.get_reward(env.tenant.program_id, first["reward"]["id"])
    assert (reward.customer_id, reward.amount) == ("c-rr1", Decimal("10.00"))
    stored = env.deps.repository.get_event(env.tenant.program_id, second["id"])
    assert stored.notes and "already used" in stored.notes[-1]


# --- a transaction sent twice -----------------------------------------------------------------
def _revenue(env, partner_id: str) -> dict[str, int]:
    return env.deps.repository.get_subject(env.tenant.program_id, "partner", partner_id).revenue_micros


def test_a_transaction_sent_again_under_another_event_id_counts_once_and_pays_once(env):
    # a sloppy retry made a new event id for the same purchase: revenue doubled, commission twice
    send(env.tenant, signup("p-tx", ip="81.2.72.7"))
    send(env.tenant, signup("p-tx-other", ip="81.2.72.8"))
    first = purchase("c-tx1", "p-tx", reward="10.00")
    again = purchase("c-tx1", "p-tx", reward="10.00")
    again["transaction"]["id"] = first["transaction"]["id"]
    elsewhere = purchase("c-tx9", "p-tx-other", reward="5.00")  # and credited to another partner
    elsewhere["transaction"]["id"] = first["transaction"]["id"]
    for event in (first, again, elsewhere):
        send(env.tenant, event)
        drain(env.aws)

    transaction_id = first["transaction"]["id"]
    assert status(env.tenant, first["id"])["notes"] == []
    for event in (again, elsewhere):
        answer = status(env.tenant, event["id"])
        assert answer["status"] == "scored"
        assert answer["notes"] == [
            f"transaction {transaction_id} already recorded by event {first['id']}: "
            f"its revenue not counted again, reward {event['reward']['id']} refused"
        ], answer
    repository = env.deps.repository
    assert [r.reward_id for r in repository.subject_rewards(env.tenant.program_id, "partner", "p-tx")] == [
        first["reward"]["id"]
    ]
    assert repository.subject_rewards(env.tenant.program_id, "partner", "p-tx-other") == []
    amount = Decimal(str(first["transaction"]["amount"]))
    assert _revenue(env, "p-tx") == {first["transaction"]["currency"]: int(amount * 1_000_000)}
    assert not any(_revenue(env, "p-tx-other").values())


def test_two_events_of_one_transaction_scored_at_once_record_it_once(env, monkeypatch):
    from functions.score.service import engine_for
    from functions.shared.storage.dynamodb import DynamoRepository
    from tests.integration.test_sync_decision import both_read

    send(env.tenant, signup("p-txr", ip="81.2.72.9"))
    drain(env.aws)
    one, two = purchase("c-txr1", "p-txr", reward="10.00"), purchase("c-txr2", "p-txr", reward="10.00")
    two["transaction"]["id"] = one["transaction"]["id"]
    for event in (one, two):
        send(env.tenant, event)
    stored = [env.deps.repository.get_event(env.tenant.program_id, e["id"]) for e in (one, two)]
    monkeypatch.setattr(DynamoRepository, "scoring_snapshot", both_read(DynamoRepository.scoring_snapshot))

    with ThreadPoolExecutor(2) as pool:  # both read the transaction free, both try to record it
        list(pool.map(lambda event: engine_for(env.deps).score(event), stored))

    notes = [status(env.tenant, e["id"])["notes"] for e in (one, two)]
    assert sorted(len(n) for n in notes) == [0, 1], notes
    rewards = env.deps.repository.subject_rewards(env.tenant.program_id, "partner", "p-txr")
    assert len(rewards) == 1


# --- errors mean what they say ----------------------------------------------------------------
@pytest.fixture
def throttle(monkeypatch):
    """A switch that makes DynamoDB throttle every TransactWriteItems call, at the boto3 client."""
    real = botocore.client.BaseClient._make_api_call
    state = SimpleNamespace(on=False)

    def fault(self, operation, params):
        if state.on and operation == "TransactWriteItems":
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate of requests exceeds"}}, operation
            )
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", fault)
    return state


def test_throttling_during_an_action_is_a_retryable_503_never_a_409_and_changes_nothing(env, throttle):
    send(env.tenant, signup("p-thr", ip="81.2.72.7"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-thr", "twin.thr@example.com")
    throttle.on = True

    answer = api(env, "disputes", "POST", f"/v1/cases/{case_id}/dispute", {"reason": "checked"})

    assert answer.status == 503, answer
    assert answer.headers.get("retry-after")
    assert "Throttling" not in answer.body["detail"]  # no AWS error codes in the answer
    throttle.on = False
    assert api(env, "cases", "GET", f"/v1/cases/{case_id}").body["status"] == "open"
    assert api(env, "disputes", "POST", f"/v1/cases/{case_id}/dispute", {"reason": "checked"}).status == 200


# --- a bus outage stops nothing and loses nothing ---------------------------------------------
class DownBus:
    def __init__(self) -> None:
        self.down = True
        self.published: list[tuple[str, dict[str, Any]]] = []

    def publish(self, detail_type: str, detail: dict[str, Any]) -> None:
        from functions.shared.errors import StorageUnavailable

        if self.down:
            raise StorageUnavailable("event bus unavailable (test)")
        self.published.append((detail_type, detail))


def test_a_bus_outage_never_stops_a_sweep_and_its_notifications_are_relayed_later(env, monkeypatch):
    from functions.outbox_relay.service import relay_all_notifications

    send(env.tenant, signup("p-bus", ip="81.2.72.8"))
    drain(env.aws)
    case_id = flag_by_email(env, "p-bus", "twin.bus@example.com", at="2026-11-02T12:00:00Z")
    from tests.integration.test_rewards_and_sweep import stray_rewards

    stray_rewards(env.aws, env.tenant, "p-bus", 3)
    bus = DownBus()
    monkeypatch.setattr(env.deps, "publisher", bus)

    report = sweep(env.deps)
    answer = api(env, "disputes", "POST", f"/v1/cases/{case_id}/dispute", {"reason": "checked"})

    assert report.held == 3 and not report.failed
    assert answer.status == 200  # committed: never a 503 for the bus
    assert bus.published == []
    bus.down = False
    assert relay_all_notifications(env.deps) == 2  # RewardsHeld and DisputeOpened, from the outbox
    assert sorted(name for name, _ in bus.published) == ["DisputeOpened", "RewardsHeld"]
    assert relay_all_notifications(env.deps) == 0  # delivered once


# --- framing through a typed address: customers' marks written before they said so -------------
def test_a_customer_flagged_before_its_marks_said_so_has_them_rewritten_by_the_sweep_once(
    env, other_tenant, monkeypatch
):
    """Customers' network marks end in `CUSTOMER_MARK`, so that a partner whose address a
    customer typed is not flagged across the network by it. A customer flagged before they did
    (simulated: its marks put back in the old form, its profile without the note) would keep such a
    partner framed: the next sweep rewrites its marks, once."""
    repo, program = env.deps.repository, env.tenant.program_id
    address = "mara.quist@example.com"
    send(env.tenant, signup("p-victim", email=address, ip="81.2.73.1"))
    send(env.tenant, purchase("c-framer", "p-victim", email=address, ip="81.2.73.9"))
    drain(env.aws)
    customer = repo.get_subject(program, "customer", "c-framer")
    assert (customer.status, customer.customer_marks) == ("flagged", True)  # a new flag: the new form
    pepper = network_pepper()
    mark = network_mark(program, customer, pepper)
    old = mark.removesuffix(CUSTOMER_MARK)
    identifiers = network_identifiers(customer, pepper)
    repo.apply(Step([MarkNetwork(key, add={"flagged": frozenset({old})}) for key in identifiers]))
    repo.apply(Step([MarkNetwork(key, remove={"flagged": frozenset({mark})}) for key in identifiers]))
    repo.apply(Step([UpdateProfile(program, "customer", "c-framer", {"customer_marks": False}, bump=False)]))
    address_key = ("email", network_key("email", email_keys(address).normalized, pepper))
    assert network(env, [address_key])[address_key].flagged == {old}  # an account's, as read

    report = invoke_raw("hold_sweep", scheduled_event("hold-sweep"))  # its handler: its role's actions

    assert not report["failed"], report
    assert {k: s.flagged for k, s in network(env, identifiers).items()} == {k: {mark} for k in identifiers}
    assert repo.get_subject(program, "customer", "c-framer").customer_marks
    joined = send(other_tenant, signup("p-victim-b", email=address, ip="81.2.73.1"))
    drain(env.aws)
    assert status(other_tenant, joined["id"])["decision"]["reasons"] == []
    written: list[Step] = []
    applying = type(repo).apply
    monkeypatch.setattr(
        type(repo), "apply", lambda self, step: (written.append(step), applying(self, step))[1]
    )
    sweep(env.deps)
    assert not [w for step in written for w in step.writes if isinstance(w, MarkNetwork)]  # once


def test_a_rewrite_planned_before_an_approval_is_not_written_after_it(env):
    """The rewrite holds only while the customer is flagged under the case it read: an approval
    withdrew both forms, and a step after it would put a mark back."""
    repo, program = env.deps.repository, env.tenant.program_id
    send(env.tenant, signup("p-two", email="ida.berg@example.com", ip="81.2.73.20"))
    send(env.tenant, purchase("c-two", "p-two", email="ida.berg@example.com", ip="81.2.73.21"))
    drain(env.aws)
    read = evolve(repo.get_subject(program, "customer", "c-two"), customer_marks=False)  # as if before
    steps = customer_marks_rewritten(read, network_pepper())
    case_id = read.flag_case_id
    assert steps and case_id

    dispute_and_decide(env, case_id, "approve")

    with pytest.raises(StepRefused):
        repo.apply(steps[0])


def test_a_rewrite_refused_again_and_again_never_holds_back_a_hold(env, monkeypatch):
    """The rewrite is housekeeping after the holds: network items other writers keep touching
    refuse it (reported, tried again next run), and the customer's late reward is held all the same."""
    monkeypatch.setattr("functions.shared.changes.backoff", lambda n: None)
    repo, program = env.deps.repository, env.tenant.program_id
    send(env.tenant, signup("p-held", email="oda.lind@example.com", ip="81.2.73.30"))
    send(env.tenant, purchase("c-held", "p-held", email="oda.lind@example.com", ip="81.2.73.31"))
    drain(env.aws)
    repo.apply(Step([UpdateProfile(program, "customer", "c-held", {"customer_marks": False}, bump=False)]))
    late = Reward(
        program, "r-late", "p-held", Decimal("5"), "USD", "pending", datetime(2026, 11, 19, tzinfo=UTC),
        "api", customer_id="c-held",
    )  # fmt: skip
    repo.apply(Step([PutReward(late)]))
    applying = type(repo).apply

    def contended(self, step):
        if any(isinstance(w, MarkNetwork) for w in step.writes):
            raise StepRefused("a concurrent transaction touched the same items")
        return applying(self, step)

    monkeypatch.setattr(type(repo), "apply", contended)
    report = sweep(env.deps)

    assert repo.get_reward(program, "r-late").status == "on_hold"
    assert report.held == 1
    assert [f["subject"] for f in report.failed] == ["customer:c-held"]
    assert not repo.get_subject(program, "customer", "c-held").customer_marks  # the next run tries again


def test_an_api_reward_naming_only_a_flagged_customers_transaction_is_held(env):
    """SPEC 4: when a customer is flagged, the transactions' rewards tied to that customer go on
    hold. An API reward naming the customer's transaction and not the customer was tied to no one:
    before the flag or after it, and after the sweep, it stayed payable (an auditor's find). The
    transaction's claim now keeps its customer, and such a reward is that customer's."""
    from tests.integration.test_disputes import rewards_of, set_clock

    def bonus(reward_id: str, at: str, transaction_id: str, customer_id: str | None = None) -> dict:
        event = sample("reward.created", id=f"evt-{reward_id}", occurred_at=at)
        event["reward"].update(
            id=reward_id,
            partner_id="p-h",
            customer_id=customer_id,
            transaction_id=transaction_id,
            amount="2.00",
        )
        return event

    send(env.tenant, signup("p-h", email="host.h@example.com", ip="81.2.69.220", at="2026-11-01T09:00:00Z"))
    first = purchase("cz", "p-h", at="2026-11-02T10:00:00Z", reward="5.00", ip="81.2.69.222")
    send(env.tenant, first)
    drain(env.aws)
    send(env.tenant, bonus("r-before", "2026-11-03T08:00:00Z", first["transaction"]["id"]))
    drain(env.aws)
    # the customer buys again with the partner's own address: a self-referral flags the customer
    flagging = purchase(
        "cz", "p-h", email="host.h@example.com", at="2026-11-04T10:00:00Z", reward="5.00", ip="81.2.69.221"
    )
    send(env.tenant, flagging)
    drain(env.aws)
    assert status(env.tenant, flagging["id"])["decision"]["action"] == "flag"
    send(env.tenant, bonus("r-after", "2026-11-05T08:00:00Z", flagging["transaction"]["id"]))
    send(env.tenant, bonus("r-control", "2026-11-05T08:00:00Z", flagging["transaction"]["id"], "cz"))
    drain(env.aws)

    set_clock(env.clock, datetime(2026, 11, 20, 10, 30, tzinfo=UTC))
    sweep(env.deps)

    got = rewards_of(env.tenant, partner_id="p-h")
    assert got[first["reward"]["id"]] == got["r-control"] == "on_hold"
    assert got["r-before"] == "on_hold", got  # tied by its transaction, held by the customer's flag
    assert got["r-after"] == "on_hold", got  # arrived after it: held by the sweep
