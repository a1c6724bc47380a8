"""Kept figures: a program driven through the real services and engine, on any store, and its
kept figures recounted from the items after every operation."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.cases import service as cases
from functions.disputes import service as disputes
from functions.hold_sweep.service import sweep
from functions.score.service import engine_for
from functions.shared.clock import FixedClock
from functions.shared.domain.cases import TAKES_HOLDS
from functions.shared.domain.model import StoredEvent
from functions.shared.domain.rewards import totals
from functions.shared.domain.summary import first_day_shown
from functions.shared.errors import Conflict, NotFound
from tests.support import sample

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PARTNERS = ("p", "q")
CUSTOMERS = ("c1", "c2", "c3")
INNER = ("sweep", "reward", "purchase", "override", "cycle", "flag_partner", "dispute", "verdict")
CURRENCIES = (("USD", "7.50"), ("EUR", "3.25"), ("JPY", "120"))


class World:
    def __init__(self, deps: Any, program_id: str) -> None:
        self.deps = deps
        self.P = program_id
        self.n = itertools.count(1)
        self.at = START
        self.events: list[dict] = []
        self.case_seen: list[str] = []
        self._hook: tuple[int, tuple] | None = None  # (after how many applies, the operation to run)
        self._inner = False
        repo = deps.repository
        real_apply = repo.apply

        def apply(step):  # noqa: ANN001
            real_apply(step)
            if self._hook is not None and not self._inner:
                left, op = self._hook
                if left <= 1:
                    self._hook = None
                    self._inner = True
                    try:
                        self.do(op)
                    finally:
                        self._inner = False
                else:
                    self._hook = (left - 1, op)

        repo.apply = apply
        for partner in PARTNERS:
            self.score(self.signup(f"{partner}-twin", f"twin-{partner}@example.com"))
            self.score(self.signup(partner, f"{partner}@example.com"))

    # --- plumbing -----------------------------------------------------------------------------
    def tick(self, minutes: int = 1) -> str:
        self.at += timedelta(minutes=minutes)
        self.deps.clock = FixedClock(self.at)
        return self.at.isoformat().replace("+00:00", "Z")

    def iso(self, at: datetime) -> str:
        return at.isoformat().replace("+00:00", "Z")

    def signup(self, partner_id: str, email: str) -> dict:
        event = sample("partnership.created", id=f"s-{partner_id}", occurred_at=self.tick())
        event["partner"].update(id=partner_id, email=email, name=partner_id)
        event["session"] = {"ip": f"81.2.69.{next(self.n)}", "device_fingerprint": f"fp-{partner_id}"}
        return event

    def score(self, body: dict) -> Any:
        at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
        stored = StoredEvent(self.P, body["id"], body["type"], body, f"h-{body['id']}", at, at)
        with contextlib.suppress(Exception):  # recorded already: a redelivery
            self.deps.repository.record_event(stored)
        self.events.append(body)
        result = engine_for(self.deps).score(stored)
        if getattr(result, "case_id", None) and result.case_id not in self.case_seen:
            self.case_seen.append(result.case_id)
        return result

    def rescore(self, body: dict) -> None:
        """The queue delivers the same event again (at least once)."""
        at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
        stored = StoredEvent(self.P, body["id"], body["type"], body, f"h-{body['id']}", at, at)
        engine_for(self.deps).score(stored)

    def case_ids(self) -> list[str]:
        found = []
        for view in ("active", "resolved", "removed"):
            found += [c.case_id for c in self.deps.repository.cases_in_view(self.P, view, True)]
        return found

    def pick_case(self, i: int) -> str | None:
        ids = sorted(self.case_ids())
        return ids[i % len(ids)] if ids else None

    def all_rewards(self) -> list:
        return list(self.deps.repository.program_rewards(self.P))

    # --- operations ---------------------------------------------------------------------------
    def do(self, op: tuple) -> None:
        name, a, b = op
        deps, P = self.deps, self.P
        if name == "between":  # during the next operation, after its a-th step, another one
            inner = INNER[b % len(INNER)]
            self._hook = (a % 4 + 1, (inner, a, b))
            return
        try:
            if name == "flag_partner":
                partner = PARTNERS[a % 2]
                now = self.tick()
                when = now if b < 6 else self.iso(self.at - timedelta(days=b - 5, hours=1))  # late
                event = sample(
                    "account.updated", id=f"u-{next(self.n)}", occurred_at=when, activity="email_change"
                )
                event["partner"] = {"id": partner, "email": f"twin-{partner}@example.com"}
                if b % 2:  # and the twin's device: a second reason
                    event["session"] = {
                        "ip": f"81.2.71.{next(self.n) % 250}",
                        "device_fingerprint": f"fp-{partner}-twin",
                    }
                self.score(event)
            elif name == "days":
                self.tick(60 * 24 * (a % 4 + 1))
            elif name == "reward":  # reward.created through the API, maybe late, maybe with a customer
                partner = PARTNERS[a % 2]
                currency, amount = CURRENCIES[b % 3]
                when = self.tick() if (b // 3) % 2 == 0 else self.iso(self.at - timedelta(hours=3))
                event = sample("reward.created", id=f"r-{next(self.n)}", occurred_at=when)
                event["reward"].update(
                    id=f"rw-{next(self.n)}", partner_id=partner, amount=amount, currency=currency
                )
                if (b // 6) % 2:
                    event["reward"]["customer_id"] = CUSTOMERS[a % 3]
                else:
                    event["reward"].pop("customer_id", None)
                event["reward"].pop("transaction_id", None)
                self.score(event)
            elif name == "purchase":  # a transaction with a commission; self-referral flags the customer
                partner = PARTNERS[a % 2]
                customer = CUSTOMERS[b % 3]
                currency, amount = CURRENCIES[(a + b) % 3]
                n = next(self.n)
                event = sample("transaction.created", id=f"t-{n}", occurred_at=self.tick())
                event["partner_id"] = partner
                event["transaction"]["id"] = f"tx-{n}"
                event["transaction"]["currency"] = currency
                event["transaction"]["amount"] = "1000" if currency == "JPY" else "100.00"
                email = f"{partner}@example.com" if customer == "c2" else f"{customer}-{partner}@example.net"
                event["customer"] = {
                    "id": customer,
                    "email": email,
                    "name": f"Customer {customer}",
                    "country": "GB",
                    "ip": f"81.2.70.{(n % 200) + 1}",
                    "device_fingerprint": f"fp-{customer}",
                }
                event["reward"] = {"id": f"rt-{n}", "amount": amount, "currency": currency}
                self.score(event)
            elif name == "redeliver" and self.events:
                self.rescore(self.events[a % len(self.events)])
            elif name == "sweep":
                self.tick()
                sweep(deps)
            elif name == "override":
                held = sorted(
                    (r for r in self.all_rewards() if r.status == "on_hold"), key=lambda r: r.reward_id
                )
                if held:
                    self.tick()
                    cases.override_reward(deps, P, held[a % len(held)].reward_id, "teammate")
            elif name == "dispute":
                case_id = self.pick_case(a)
                if case_id:
                    self.tick()
                    disputes.dispute(deps, P, case_id, "checked", "teammate")
            elif name == "verdict":
                case_id = self.pick_case(a)
                if case_id:
                    self.tick()
                    disputes.record_verdict(deps, case_id, ("approve", "decline")[b % 2], "", "security")
            elif name == "cycle":
                self.tick()
                disputes.run_cycle(deps)
            elif name == "remove":
                case_id = self.pick_case(a)
                if case_id:
                    self.tick()
                    cases.remove_partner(deps, P, case_id, bool(b % 2), "teammate")
                    if b % 3 == 0:  # the client retries the same removal
                        cases.remove_partner(deps, P, case_id, bool(b % 2), "teammate")
        except (Conflict, NotFound):
            pass
        if not self._inner:
            self._hook = None  # one operation's window only

    # --- the truth ----------------------------------------------------------------------------
    def figures(self) -> dict:
        """What the store keeps, as plain data."""
        repo = self.deps.repository
        today = self.at.date()
        kept = repo.summary_figures(self.P, first_day_shown(today))
        out: dict[str, Any] = {
            "summary.cases": dict(kept.cases),
            "summary.held": kept.held,
            "summary.held_micros": {k: v for k, v in kept.held_micros.items() if v},
            "summary.days": {
                d.day.isoformat(): (d.count, {k: v for k, v in d.by_reason.items() if v})
                for d in kept.flag_days
                if d.count
            },
        }
        for case_id in sorted(self.case_ids()):
            c = repo.get_case(self.P, case_id)
            out[f"case {case_id}"] = (
                c.status,
                c.held_count,
                {k: v for k, v in c.hold_micros.items() if v},
                c.archived_count,
                {k: v for k, v in c.archived_micros.items() if v},
            )
        return out

    def problems(self) -> list[str]:
        repo = self.deps.repository
        rewards = self.all_rewards()
        all_cases = {cid: repo.get_case(self.P, cid) for cid in self.case_ids()}
        found: list[str] = []
        held = [r for r in rewards if r.status == "on_hold"]
        for r in held:
            c = all_cases.get(r.case_id or "")
            if c is None:
                found.append(f"reward {r.reward_id} on hold under no case ({r.case_id})")
            elif c.status not in TAKES_HOLDS:
                found.append(f"reward {r.reward_id} on hold under a {c.status} case {r.case_id}")
        for cid, c in all_cases.items():
            mine = [r for r in held if r.case_id == cid]
            micros = totals(mine)
            if c.held_count != len(mine):
                found.append(
                    f"case {cid} ({c.subject_type} {c.subject_id}, {c.status}) held_count "
                    f"{c.held_count} != {len(mine)} on_hold rewards under it"
                )
            if {k: v for k, v in c.hold_micros.items() if v} != micros:
                found.append(f"case {cid} ({c.status}) hold_micros {c.hold_micros} != {micros}")
            if c.status == "removed":
                archived = [r for r in rewards if r.status == "archived" and r.partner_id == c.subject_id]
                amicros = totals(archived)
                if c.archived_count != len(archived):
                    found.append(
                        f"removed case {cid} archived_count {c.archived_count} != "
                        f"{len(archived)} archived rewards of {c.subject_id}"
                    )
                if {k: v for k, v in c.archived_micros.items() if v} != amicros:
                    found.append(f"removed case {cid} archived_micros {c.archived_micros} != {amicros}")
        # the removed partner is never paid again
        for partner in PARTNERS:
            try:
                s = repo.get_subject(self.P, "partner", partner)
            except NotFound:
                continue
            if s.status == "removed":
                payable = [
                    r.reward_id
                    for r in rewards
                    if r.partner_id == partner and r.status in ("new", "pending", "on_hold")
                ]
                if payable:
                    found.append(f"removed partner {partner} has payable rewards {payable}")
        # the summary against a recount
        today = self.at.date()
        kept = repo.summary_figures(self.P, first_day_shown(today))
        statuses = [c.status for c in all_cases.values()]
        counts = {s: statuses.count(s) for s in ("open", "disputed") if statuses.count(s)}
        if kept.cases != counts:
            found.append(f"summary cases {kept.cases} != recount {counts}")
        if kept.held != len(held):
            found.append(f"summary held {kept.held} != {len(held)} on_hold rewards")
        micros = totals(held)
        if {k: v for k, v in kept.held_micros.items() if v} != micros:
            found.append(f"summary held_micros {kept.held_micros} != {micros}")
        days: dict[str, int] = {}
        for c in all_cases.values():
            d = c.flagged_at.astimezone(UTC).date()
            if d >= first_day_shown(today):
                days[d.isoformat()] = days.get(d.isoformat(), 0) + 1
        kept_days = {d.day.isoformat(): d.count for d in kept.flag_days if d.count}
        if kept_days != days:
            found.append(f"summary flags per day {kept_days} != recount {days}")
        return found
