"""Paging (cursors): a cursor given by one listing (or one filter, one case, one program) offered to
every other. Held on current code: every swap is a 422 naming `cursor` (kept as evidence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.disputes import dispute_step
from functions.shared.domain.model import Reward
from functions.shared.domain.plans import audit
from functions.shared.domain.writes import PutCase, PutReward, Step, UpdateCase
from tests.integration.test_loyalty_support import Loyalty, clock_fixture, loyalty_sample  # noqa: F401
from tests.integration.test_removed_pages import a_case
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def seed(store, p):
    store.apply(Step([PutCase(a_case(p, n)) for n in range(6)]))
    store.apply(
        Step(
            [
                PutReward(
                    Reward(
                        p,
                        f"r{n}",
                        "p1",
                        Decimal("1"),
                        "USD",
                        "pending",
                        T0 + timedelta(minutes=n),
                        "api",
                        customer_id="k1",
                    )
                )
                for n in range(3)
            ]
        )
    )
    store.apply(
        Step([audit((p, "c0000"), f"note{n}", "me", T0 + timedelta(minutes=n), {}) for n in range(3)])
    )
    store.apply(
        Step([audit((p, "c0001"), f"note{n}", "me", T0 + timedelta(minutes=n), {}) for n in range(3)])
    )
    for n in (2, 3):
        store.apply(
            Step(
                [
                    UpdateCase(
                        p,
                        f"c{n:04}",
                        expect=("open",),
                        changes={
                            "status": "removed",
                            "removed_at": T0,
                            "removed_by": "x",
                            "block_reapply": False,
                        },
                    )
                ]
            )
        )
    for n in (4, 5):
        store.apply(dispute_step(store.get_case(p, f"c{n:04}"), "r", "me", T0 + timedelta(hours=n)))


def test_every_cursor_is_refused_by_every_other_listing(aws, tenant, other_tenant, clock):
    store = aws.repository
    seed(store, tenant.program_id)
    seed(store, other_tenant.program_id)
    sec = tenancy.create_key(store, FixedClock(T0), None, "security", "S")[1]
    for t in (tenant, other_tenant):
        lo = Loyalty(t.keys)
        for n in range(3):
            assert lo.campaign(f"camp{n}", loyalty_sample("campaign")).status == 200
        lo.earn("m1", 10)
        for change in ("suspend", "unsuspend", "suspend"):
            call(
                "loyalty",
                proxy_event("POST", f"/v1/loyalty/customers/m1/{change}", {"note": change}, t.keys["fraud"]),
            )

    def listings(t):
        k = t.keys["fraud"]
        return {
            "active": ("cases", "/v1/cases", {}, k),
            "active q": ("cases", "/v1/cases", {"q": "partner"}, k),
            "active asc": ("cases", "/v1/cases", {"order": "asc"}, k),
            "active open": ("cases", "/v1/cases", {"status": "open"}, k),
            "active hold": ("cases", "/v1/cases", {"sort": "hold_amount"}, k),
            "rewards": ("cases", "/v1/rewards", {}, k),
            "rewards p1": ("cases", "/v1/rewards", {"partner_id": "p1"}, k),
            "rewards k1": ("cases", "/v1/rewards", {"customer_id": "k1"}, k),
            "rewards pending": ("cases", "/v1/rewards", {"status": "pending"}, k),
            "removed": ("cases", "/v1/removed-partners", {}, k),
            "audit c0": ("cases", "/v1/cases/c0000/audit", {}, k),
            "audit c1": ("cases", "/v1/cases/c0001/audit", {}, k),
            "campaigns": ("loyalty", "/v1/loyalty/campaigns", {}, k),
            "history": ("loyalty", "/v1/loyalty/customers/m1/history", {}, k),
            "disputes": ("disputes", "/v1/disputes", {}, sec),
        }

    ours, theirs = listings(tenant), listings(other_tenant)
    cursors = {}
    for name, (fn, path, q, key) in {
        **{f"A {n}": v for n, v in ours.items()},
        **{f"B {n}": v for n, v in theirs.items()},
    }.items():
        answer = call(fn, proxy_event("GET", path, None, key, query={**q, "limit": "1"}))
        assert answer.status == 200 and answer.body["next_cursor"], (name, answer)
        cursors[name] = answer.body["next_cursor"]

    wrong = []
    for name, (fn, path, q, key) in ours.items():
        for given, cursor in cursors.items():
            if given == f"A {name}" or (name == "disputes" and given == "B disputes"):
                continue
            answer = call(
                fn, proxy_event("GET", path, None, key, query={**q, "limit": "1", "cursor": cursor})
            )
            if answer.status != 422:
                wrong.append((name, given, answer.status))
    assert wrong == []
