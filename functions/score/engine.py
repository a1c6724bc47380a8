"""Scoring one event: plan what to read, read it in one round trip, evaluate the signals, write the
outcome in one transaction (decision, profile, links, counters, reward, case, flag and holds)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from functions.ingest.models import (
    AccountUpdated,
    PartnerEvent,
    PartnershipCreated,
    RewardCreated,
    TransactionCreated,
)
from functions.score import signals, weights
from functions.score.identity import email_keys, network_key, normalize_device, program_token
from functions.score.reference import ReferenceData
from functions.shared.errors import Conflict
from functions.shared.inputs import STORED
from functions.shared.money import to_micros
from functions.shared.storage.port import Repository, StoredEvent
from functions.shared.storage.port_partners import (
    Flag,
    LinkKey,
    LinkState,
    Reward,
    ScoringOutcome,
    ScoringWrite,
    Snapshot,
    Subject,
    subject_key,
)

_events: TypeAdapter[Any] = TypeAdapter(PartnerEvent)
COUNTER_LIFETIME = timedelta(hours=3)
SENSITIVE_ACTIVITIES = ("profile_update", "payout_update", "email_change", "password_change")
ATTEMPTS = 4  # reads and writes again when a concurrent event changed the subject's case


@dataclass
class Plan:
    subject: tuple[str, str]
    partner_id: str | None = None
    links: dict[str, LinkKey] = field(default_factory=dict)  # role -> (kind, value)
    network: dict[str, LinkKey] = field(default_factory=dict)
    counters: dict[str, list[str]] = field(default_factory=dict)  # label -> [this hour's, the hour before's]

    def counter_names(self) -> list[str]:
        return [name for names in self.counters.values() for name in names]


@dataclass
class Scored:
    decision: dict[str, Any]
    subject: tuple[str, str]
    outcome: ScoringOutcome
    partner_holds: tuple[str, list[Reward]] | None = None  # (the partner's case, rewards held)


def hour_buckets(prefix: str, at: datetime) -> list[str]:
    """The counter of the event's hour and of the hour before: a two-hour sliding view."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    return [f"{prefix}:{(hour - timedelta(hours=n)).strftime('%Y%m%dT%H')}" for n in (0, 1)]


def case_id_for(program_id: str, event_id: str) -> str:
    return "case_" + hashlib.sha256(f"{program_id}/{event_id}".encode()).hexdigest()[:16]


class Engine:
    def __init__(self, repository: Repository, reference: ReferenceData, pepper: bytes) -> None:
        self.repository = repository
        self.reference = reference
        self.pepper = pepper

    def score(self, stored: StoredEvent) -> Scored:
        event = _events.validate_python(stored.body, context=STORED)
        plan = self.plan(stored.program_id, event)
        for attempt in range(ATTEMPTS):
            snapshot = self.repository.scoring_snapshot(
                stored.program_id,
                plan.subject,
                plan.partner_id,
                list(dict.fromkeys(plan.links.values())),
                list(dict.fromkeys(plan.network.values())),
                plan.counter_names(),
            )
            reasons = self.evaluate(stored.program_id, event, plan, snapshot)
            variants = [r.variant for r in reasons]
            total = weights.score(variants)
            action = "flag" if total >= weights.FLAG_THRESHOLD else "allow"
            decision = {"score": total, "action": action, "reasons": [r.public() for r in reasons]}
            write = self.build_write(stored, event, plan, snapshot, decision, action == "flag")
            try:
                outcome = self.repository.record_scoring(write, program_token(stored.program_id, self.pepper))
            except Conflict:
                if attempt == ATTEMPTS - 1:
                    raise
                continue
            partner_holds = self._hold_for_flagged_partner(write, snapshot, outcome)
            return Scored(decision, plan.subject, outcome, partner_holds)
        raise AssertionError("unreachable")

    def _hold_for_flagged_partner(
        self, write: ScoringWrite, snapshot: Snapshot, outcome: ScoringOutcome
    ) -> tuple[str, list[Reward]] | None:
        """A transaction's reward for a partner flagged before it goes on hold at once (SPEC 4)."""
        partner, reward = snapshot.partner, write.reward
        if outcome.already_scored or reward is None or reward.status != "pending" or partner is None:
            return None
        if partner.status != "flagged" or not partner.active_case_id or partner.flagged_at is None:
            return None
        if reward.created_at < partner.flagged_at:
            return None
        held = self.repository.hold_rewards(
            write.program_id, partner.active_case_id, [reward], "system", reward.created_at
        )
        return (partner.active_case_id, held) if held else None

    # --- what to read --------------------------------------------------------------------------
    def plan(self, program_id: str, event: Any) -> Plan:
        if isinstance(event, PartnershipCreated):
            plan = Plan(("partner", event.partner.id))
            self._identity(plan, event.partner.email, event.session.device_fingerprint, str(event.session.ip))
            if event.partner.payout_account:
                plan.links["payout"] = ("payout", event.partner.payout_account)
            if not self.shared_egress(str(event.session.ip)):
                plan.counters["IP " + str(event.session.ip)] = hour_buckets(
                    f"signup:ip:{event.session.ip}", event.occurred_at
                )
            if event.session.device_fingerprint:
                plan.counters["this device"] = hour_buckets(
                    f"signup:device:{normalize_device(event.session.device_fingerprint)}", event.occurred_at
                )
        elif isinstance(event, AccountUpdated):
            plan = Plan(("partner", event.partner.id))
            self._identity(plan, event.partner.email, event.session.device_fingerprint, str(event.session.ip))
            if event.partner.payout_account:
                plan.links["payout"] = ("payout", event.partner.payout_account)
            if event.activity in SENSITIVE_ACTIVITIES:
                plan.counters["account"] = hour_buckets(f"account:{event.partner.id}", event.occurred_at)
        elif isinstance(event, TransactionCreated):
            customer = event.customer
            plan = Plan(("customer", customer.id), partner_id=event.partner_id)
            self._identity(plan, customer.email, customer.device_fingerprint, customer.ip)
            if customer.ip and not self.shared_egress(str(customer.ip)):
                plan.counters["IP " + str(customer.ip)] = hour_buckets(
                    f"txn:ip:{customer.ip}", event.occurred_at
                )
            if customer.device_fingerprint:
                plan.counters["this device"] = hour_buckets(
                    f"txn:device:{normalize_device(customer.device_fingerprint)}", event.occurred_at
                )
        else:
            assert isinstance(event, RewardCreated)
            plan = Plan(("partner", event.reward.partner_id))
        return plan

    def _identity(self, plan: Plan, email: str | None, device: str | None, ip: str | None) -> None:
        if email:
            keys = email_keys(email)
            plan.links["email"] = ("email", keys.normalized)
            plan.links["email_skeleton"] = ("email_skeleton", keys.skeleton)
            plan.links["email_local"] = ("email_local", keys.local)
            plan.network["email"] = ("email", network_key("email", keys.normalized, self.pepper))
        if device:
            plan.links["device"] = ("device", normalize_device(device))
            plan.network["device"] = ("device", network_key("device", normalize_device(device), self.pepper))
        if ip and not self.shared_egress(ip):
            plan.links["ip"] = ("ip", ip)

    def shared_egress(self, ip: str) -> bool:
        """An exit many unrelated people share by design (a privacy relay): it links no one."""
        return self.reference.ip(ip).provider in signals.CONSUMER_RELAYS

    # --- the signals ---------------------------------------------------------------------------
    def evaluate(self, program_id: str, event: Any, plan: Plan, snapshot: Snapshot) -> list[signals.Reason]:
        me = subject_key(*plan.subject)
        links = {role: snapshot.links[key] for role, key in plan.links.items()}
        network = {role: snapshot.network[key] for role, key in plan.network.items()}
        counts = {label: sum(snapshot.counters[n] for n in names) for label, names in plan.counters.items()}
        reasons: list[signals.Reason] = []
        if isinstance(event, RewardCreated):
            return reasons
        if isinstance(event, (PartnershipCreated, AccountUpdated)):
            partner = event.partner
            country = partner.country or (snapshot.subject.country if snapshot.subject else None)
            reasons += signals.blocked_reapply(me, links) if isinstance(event, PartnershipCreated) else []
            if partner.email:
                reasons += signals.email_signals(
                    me, partner.email, email_keys(partner.email), links, self.reference
                )
            reasons += signals.ip_signals(
                me, str(event.session.ip), country, links.get("ip", LinkState()), self.reference
            )
            if "device" in links:
                reasons += signals.device_signals(me, event.session.device_fingerprint or "", links["device"])
            reasons += signals.location_signal(event.session.ip_location, partner.address)
            if isinstance(event, PartnershipCreated):
                reasons += signals.velocity_signal("sign-ups", counts, weights.VELOCITY_SIGNUPS_PER_IP)
            else:
                reasons += signals.account_burst(event.activity, counts.get("account", 0))
                reasons += signals.payout_before_rewards(event.activity, snapshot.subject, event.occurred_at)
        elif isinstance(event, TransactionCreated):
            customer = event.customer
            keys = email_keys(customer.email) if customer.email else None
            reasons += signals.self_referral(
                customer,
                snapshot.partner,
                keys.normalized if keys else None,
                by_ip=bool(customer.ip) and not self.shared_egress(str(customer.ip)),
            )
            if customer.email and keys:
                reasons += signals.email_signals(me, customer.email, keys, links, self.reference)
            if customer.ip:
                reasons += signals.ip_signals(
                    me, str(customer.ip), customer.country, links.get("ip", LinkState()), self.reference
                )
            if "device" in links:
                reasons += signals.device_signals(me, customer.device_fingerprint or "", links["device"])
            reasons += signals.velocity_signal("transactions", counts, weights.VELOCITY_TRANSACTIONS)
        named: set[str] = set()  # flagged members the e-mail and device reasons already name
        for role in ("email", "device"):
            if role in links:
                named |= set(links[role].flagged) | set(links[role].removed)
        reasons += signals.cluster_signal(me, links, named)
        reasons += signals.network_signal(program_token(program_id, self.pepper), network)
        return _one_per_code(reasons)

    # --- what to write -------------------------------------------------------------------------
    def build_write(
        self,
        stored: StoredEvent,
        event: Any,
        plan: Plan,
        snapshot: Snapshot,
        decision: dict[str, Any],
        flag: bool,
    ) -> ScoringWrite:
        program_id = stored.program_id
        subject = self._profile(program_id, event, plan, snapshot)
        links = [
            key
            for key in dict.fromkeys(plan.links.values())
            if len(snapshot.links[key].members) < weights.MAX_LINK_MEMBERS
        ]
        if flag:  # mark every identifier the subject ever used, so later look-ups see the flag
            links += [key for key in _known_links(snapshot.subject, subject) if key not in links]
        counters_expire = int((event.occurred_at + COUNTER_LIFETIME).timestamp())
        write = ScoringWrite(
            program_id=program_id,
            event_id=stored.event_id,
            decision=decision,
            subject=subject,
            expected_case_id=snapshot.subject.active_case_id if snapshot.subject else None,
            links=links,
            network=list(dict.fromkeys(plan.network.values())),
            counters=[(names[0], counters_expire) for names in plan.counters.values()],  # this hour's
        )
        if isinstance(event, TransactionCreated):
            if event.reward:
                write.reward = Reward(
                    program_id=program_id,
                    reward_id=event.reward.id,
                    partner_id=event.partner_id,
                    amount=event.reward.amount,
                    currency=event.reward.currency,
                    status="pending",
                    created_at=event.occurred_at,
                    source="transaction",
                    customer_id=event.customer.id,
                    transaction_id=event.transaction.id,
                )
            if snapshot.partner is not None:
                write.revenue = (
                    event.partner_id,
                    event.transaction.currency,
                    to_micros(event.transaction.amount),
                )
        elif isinstance(event, RewardCreated):
            r = event.reward
            write.reward = Reward(
                program_id=program_id,
                reward_id=r.id,
                partner_id=r.partner_id,
                amount=r.amount,
                currency=r.currency,
                status="new",
                created_at=event.occurred_at,
                source="api",
                customer_id=r.customer_id,
                transaction_id=r.transaction_id,
            )
        if flag:
            write.flag = Flag(
                reasons=decision["reasons"],
                at=event.occurred_at,
                event_id=stored.event_id,
                case_id=case_id_for(program_id, stored.event_id),
            )
        return write

    def _profile(self, program_id: str, event: Any, plan: Plan, snapshot: Snapshot) -> Subject:
        kind, identifier = plan.subject
        current = snapshot.subject or Subject(program_id, kind, identifier)
        profile = replace(current, devices=frozenset(), ips=frozenset())  # sets are added, not replaced
        if isinstance(event, PartnershipCreated):
            p = event.partner
            profile = replace(
                profile,
                name=p.name,
                email=p.email,
                email_normalized=email_keys(p.email).normalized,
                country=p.country,
                group=p.group,
                team=p.team,
                tags=tuple(p.tags or ()),
                segments=tuple(p.segments or ()),
                payout=p.payout_account,
                signup_at=current.signup_at or event.occurred_at,
            )
        elif isinstance(event, AccountUpdated):
            unchanged = {"id", "address", "keys"}  # referral keys are not on the profile (yet)
            changes = event.partner.model_dump(exclude_unset=True, exclude_none=True, exclude=unchanged)
            if "email" in changes:
                changes["email_normalized"] = email_keys(changes["email"]).normalized
            if "payout_account" in changes:
                changes["payout"] = changes.pop("payout_account")
            for name in ("tags", "segments"):
                if name in changes:
                    changes[name] = tuple(changes[name] or ())
            profile = replace(profile, **changes)
            if event.activity == "payout_update":
                profile = replace(profile, last_payout_change_at=event.occurred_at)
        elif isinstance(event, TransactionCreated):
            c = event.customer
            profile = replace(
                profile,
                name=c.name or current.name or c.id,
                email=c.email or current.email,
                email_normalized=email_keys(c.email).normalized if c.email else current.email_normalized,
                country=c.country or current.country,
                signup_at=current.signup_at or event.occurred_at,
            )
        if isinstance(event, (PartnershipCreated, AccountUpdated)):
            device = event.session.device_fingerprint
            profile = replace(
                profile,
                devices=frozenset({normalize_device(device)} if device else ()),
                ips=frozenset({str(event.session.ip)}),
            )
        elif isinstance(event, TransactionCreated):
            device, ip = event.customer.device_fingerprint, event.customer.ip
            profile = replace(
                profile,
                devices=frozenset({normalize_device(device)} if device else ()),
                ips=frozenset({str(ip)} if ip else ()),
            )
        return profile


def _known_links(before: Subject | None, after: Subject) -> list[LinkKey]:
    """Every identifier the subject has used (its profile before this event, and this event's)."""
    devices = (before.devices if before else frozenset()) | after.devices
    ips = (before.ips if before else frozenset()) | after.ips
    found: list[LinkKey] = []
    for email in dict.fromkeys(
        e for e in (after.email_normalized, before.email_normalized if before else None) if e
    ):
        found.append(("email", email))
    found += [("device", d) for d in sorted(devices)]
    found += [("ip", ip) for ip in sorted(ips)][:20]
    if after.payout:
        found.append(("payout", after.payout))
    return found


def _one_per_code(reasons: list[signals.Reason]) -> list[signals.Reason]:
    """One reason per code: the heaviest variant wins (a signal counts once)."""
    best: dict[str, signals.Reason] = {}
    for reason in reasons:
        kept = best.get(reason.code)
        if kept is None or weights.WEIGHTS[reason.variant] > weights.WEIGHTS[kept.variant]:
            best[reason.code] = reason
    return list(best.values())
