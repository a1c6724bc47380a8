"""A property of the partner-program rules (issue 12): whatever order flags, arriving rewards,
sweeps, overrides, disputes, verdicts, cycles and removals come in, no reward is held under a closed
case, and every case's hold figures are exactly the sum of the rewards it holds.

Runs the real services and the scoring engine on the plain in-memory store (no network)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from functions.cases import service as cases
from functions.disputes import service as disputes
from functions.hold_sweep.service import sweep
from functions.score.service import engine_for
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Reward, StoredEvent
from functions.shared.domain.writes import PutReward, Step
from functions.shared.errors import Conflict, NotFound
from functions.shared.messaging import InMemoryPublisher
from functions.shared.money import to_micros
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository
from tests.support import sample

P = "prg-prop"
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
OPERATIONS = (
    "flag",
    "reward",
    "stray",
    "sweep",
    "override",
    "dispute",
    "approve",
    "decline",
    "cycle",
    "remove",
)


class World:
    def __init__(self) -> None:
        self.deps = Dependencies(InMemoryRepository(), InMemoryPublisher(), FixedClock(START))
        self.n = itertools.count(1)
        self.late_strays: set[str] = set()  # put in the store after the removal, past its conditions
        self.at = START
        self.score(self.signup("p-twin", "twin@example.com"))
        self.score(self.signup("p", "p@example.com"))
        self.do("reward")  # a reward before the flag: never held by it
        self.do("flag")
        self.do("reward")  # held as it arrives

    def tick(self) -> str:
        self.at += timedelta(minutes=1)
        self.deps.clock = FixedClock(self.at)  # type: ignore[misc]
        return self.at.isoformat().replace("+00:00", "Z")

    def signup(self, partner_id: str, email: str) -> dict:
        event = sample("partnership.created", id=f"s-{partner_id}", occurred_at=self.tick())
        event["partner"].update(id=partner_id, email=email, name=partner_id)
        event["session"] = {"ip": f"81.2.69.{next(self.n)}", "device_fingerprint": f"fp-{partner_id}"}
        return event

    def score(self, body: dict) -> None:
        at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
        stored = StoredEvent(P, body["id"], body["type"], body, f"h-{body['id']}", at, at)
        self.deps.repository.record_event(stored)
        engine_for(self.deps).score(stored)

    def case_ids(self) -> list[str]:
        found = []
        for view in ("active", "resolved", "removed"):
            found += [c.case_id for c in self.deps.repository.cases_in_view(P, view, True)]
        return found

    def do(self, operation: str) -> None:
        repo, deps = self.deps.repository, self.deps
        subject = repo.get_subject(P, "partner", "p")
        case_id = subject.active_case_id or subject.flag_case_id
        try:
            if operation == "flag":
                event = sample(
                    "account.updated",
                    id=f"u-{next(self.n)}",
                    occurred_at=self.tick(),
                    activity="email_change",
                )
                event["partner"] = {"id": "p", "email": "twin@example.com"}
                self.score(event)
            elif operation == "reward":
                event = sample("reward.created", id=f"r-{next(self.n)}", occurred_at=self.tick())
                event["reward"].update(id=f"rw-{next(self.n)}", partner_id="p", amount="7.50", currency="USD")
                event["reward"].pop("customer_id", None)
                self.score(event)
            elif operation == "stray":  # a reward that raced a flag and escaped the hold at arrival
                reward = Reward(P, f"st-{next(self.n)}", "p", Decimal("3.25"), "EUR", "new", self.at, "api")
                repo.apply(Step([PutReward(reward)]))
                if subject.status == "removed":
                    self.late_strays.add(reward.reward_id)
            elif operation == "sweep":
                sweep(deps)
            elif operation == "override":
                held = [r for r in repo.subject_rewards(P, "partner", "p") if r.status == "on_hold"]
                if held:
                    cases.override_reward(deps, P, held[0].reward_id, "teammate")
            elif operation == "dispute" and case_id:
                disputes.dispute(deps, P, case_id, "checked", "teammate")
            elif operation in ("approve", "decline") and case_id:
                disputes.record_verdict(deps, case_id, operation, "", "security")
            elif operation == "cycle":
                disputes.run_cycle(deps)
            elif operation == "remove" and case_id:
                cases.remove_partner(deps, P, case_id, False, "teammate")
        except (Conflict, NotFound):
            pass  # a transition the current state does not allow: refused, nothing changed

    def check(self) -> None:
        repo = self.deps.repository
        rewards = repo.subject_rewards(P, "partner", "p")
        for case_id in self.case_ids():
            case = repo.get_case(P, case_id)
            held = [r for r in rewards if r.status == "on_hold" and r.case_id == case_id]
            if case.status in ("approved", "removed"):
                assert not held, f"{len(held)} rewards held under a {case.status} case"
            assert case.held_count == len(held)
            figures: dict[str, int] = {}
            for r in held:
                figures[r.currency] = figures.get(r.currency, 0) + to_micros(r.amount)
            assert {c: m for c, m in case.hold_micros.items() if m} == figures
        if repo.get_subject(P, "partner", "p").status == "removed":  # never paid again (SPEC 3.2)
            payable = [r for r in rewards if r.status in ("new", "pending", "on_hold")]
            assert {r.reward_id for r in payable} <= self.late_strays, payable
        self.check_summary()

    def check_summary(self) -> None:
        """The summary kept by the steps is what counting every case at read time would give."""
        repo = self.deps.repository
        all_cases = [repo.get_case(P, case_id) for case_id in self.case_ids()]
        kept = repo.summary_figures(P, START.date())
        statuses = [c.status for c in all_cases]
        counts = {s: statuses.count(s) for s in ("open", "disputed") if statuses.count(s)}
        micros: dict[str, int] = {}
        for c in all_cases:
            for currency, m in c.hold_micros.items():
                micros[currency] = micros.get(currency, 0) + m
        assert kept.cases == counts
        assert kept.held == sum(c.held_count for c in all_cases)
        assert kept.held_micros == {c: m for c, m in micros.items() if m}
        assert sum(day.count for day in kept.flag_days) == len(all_cases)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(OPERATIONS), min_size=1, max_size=24))
def test_no_interleaving_holds_under_a_closed_case_or_breaks_the_hold_figures(operations):
    world = World()
    for operation in operations:
        world.do(operation)
        world.check()
