"""Scoring one event: plan what to read, read it in one round trip, evaluate the signals, write the
outcome in one transaction (decision, profile, links, counters, reward, case, flag and holds)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter

from functions.score import signals, weights
from functions.score.reference import ReferenceData
from functions.shared.changes import backoff, carry_out
from functions.shared.clock import Clock, SystemClock
from functions.shared.documents import document_hash
from functions.shared.domain import commission_review, holdables, linked_earlier
from functions.shared.domain.identity import (
    PayoutKey,
    address_in_other_role,
    email_keys,
    ip_key,
    near_probes,
    network_key,
    other_payout_keys,
    public_ip,
    span_entry,
    usable_device,
)
from functions.shared.domain.linked_removal import REVIEW_TYPE, reaches_back
from functions.shared.domain.links import (
    CROWDS_RECALLED,
    crowd_for_good,
    crowded_links,
    customers_of,
    farmed,
    first_givers_marks,
    giver_tokens,
    guarded_joins,
    join_entries,
    known_first_giver,
    links_to_join,
    merged,
    merged_network,
    network_first,
    network_to_join,
    without_history,
)
from functions.shared.domain.marks import marks_every_identifier, network_mark, network_marks, program_token
from functions.shared.domain.model import (
    NO_LINK,
    NO_NETWORK,
    LinkKey,
    LinkState,
    Notification,
    Reward,
    Snapshot,
    StoredEvent,
    Subject,
    evolve,
    subject_key,
)
from functions.shared.domain.profiles import (
    home_of,
    home_text,
    payout_changed,
    payout_changes_noted,
    profile_changes,
    with_identifiers,
)
from functions.shared.domain.rewards import flagged_since, holds_since, judged_until
from functions.shared.domain.scoring_plan import ListsRead, ScoringInput, flags_subject, scoring_plan
from functions.shared.domain.territories import served_abroad
from functions.shared.domain.unfamiliar_sessions import (
    noted_ips,
    unfamiliar_noted,
    unfamiliar_seen,
    unfamiliar_session,
)
from functions.shared.domain.velocity import (
    SATURATED,
    Velocity,
    recorded_by_another,
    repeated,
    saturated_hours,
    tallies,
    unsaturated,
    velocity,
)
from functions.shared.domain.writes import MoveReward, ScoreEvent, StepRefused
from functions.shared.errors import StorageUnavailable
from functions.shared.inputs import STORED
from functions.shared.messaging import EventPublisher
from functions.shared.money import to_micros
from functions.shared.observability import logger
from functions.shared.partner_events import (
    AccountUpdated,
    CommissionReview,
    LinkedEarlierReview,
    LinkedRemovalReview,
    PartnerEvent,
    PartnershipCreated,
    RewardCreated,
    TransactionCreated,
)
from functions.shared.read_memory import ReadMemory
from functions.shared.storage.port import ScoringPort

_events: TypeAdapter[Any] = TypeAdapter(PartnerEvent)
# the system's own events, never an integration's: a removal's reviews, those of partners that
# gave an identifier after an earlier event's partner (`linked_earlier`), and a purchase's of its
# partner for a large commission just after new payout details (`commission_review`)
_reviews: dict[str, TypeAdapter[Any]] = {
    REVIEW_TYPE: TypeAdapter(LinkedRemovalReview),
    linked_earlier.REVIEW_TYPE: TypeAdapter(LinkedEarlierReview),
    commission_review.REVIEW_TYPE: TypeAdapter(CommissionReview),
}
# the roles of a payout account's other keys (`identity.other_payout_keys`): linked and read beside
# its own, and read as one with it
PAYOUT_ALSO = "payout_also#"
# the role of a payout account's key before (`identity.PayoutKey.before`): read, never written, and
# read as one with it as its other keys are
PAYOUT_BEFORE = PAYOUT_ALSO + "before"
SENSITIVE_ACTIVITIES = ("profile_update", "payout_update", "email_change", "password_change")
ATTEMPTS = 8  # reads and writes again when a concurrent event changed what it read
# the rewards a payout change before them makes suspect: those still to be paid, and those on hold
# (under a flagged customer's case, the partner's money all the same)
PAYOUT_EVIDENCE = (*holdables.HOLDABLE, "on_hold")


@dataclass
class Plan:
    subject: tuple[str, str]
    partner_id: str | None = None
    # a reward through the API for a customer (named, or its transaction's): its profile and list read too
    customer_id: str | None = None
    links: dict[str, LinkKey] = field(default_factory=dict)  # role -> (kind, value)
    probes: dict[str, LinkKey] = field(default_factory=dict)  # read, never written: near-duplicate keys
    spans: dict[LinkKey, str] = field(default_factory=dict)  # a written `email_near` key's masked block
    ip: str | None = None  # the key the event's IP links and counts under (`Engine.linked_ip`), once
    network: dict[str, LinkKey] = field(default_factory=dict)
    network_probes: dict[str, LinkKey] = field(default_factory=dict)  # read, never written
    counts: dict[str, Velocity] = field(default_factory=dict)  # label -> the velocity count read and added to
    # crowded links the environment knew (`Recalled`), left out of the last read: crowds all the same
    recalled: set[LinkKey] = field(default_factory=set)

    @property
    def device(self) -> str | None:
        """The key of the event's device, when it names one."""
        linked = self.links.get("device")
        return linked[1] if linked else None

    def payout_links(self) -> list[LinkKey]:
        """The event's payout account's links: under its key, and under its other keys."""
        return [key for role, key in self.links.items() if role == "payout" or role.startswith(PAYOUT_ALSO)]

    def counter_names(self) -> list[str]:
        return [name for counted in self.counts.values() for name in counted.names]


@dataclass(frozen=True)
class Recalled:
    """What an event's read leaves out, known from the environment's memory (`ReadMemory`): a
    purchase's crowded IP or device link that no purchase reads as evidence
    (`links.crowd_for_good`), stood in for by its velocity slots alone (all a purchase reads of it),
    with the device's network item (read for no crowded identifier: `Engine.evaluate`); and the
    counter items at `SATURATED`, which read as that (`_counted` says a count past it as
    "`SATURATED` or more", `unsaturated` adds nothing to its hour)."""

    links: dict[LinkKey, LinkState] = field(default_factory=dict)
    network: frozenset[LinkKey] = frozenset()
    counters: frozenset[str] = frozenset()

    def fill(self, snapshot: Snapshot) -> None:
        """The snapshot as if it had read them too."""
        snapshot.links.update(self.links)
        snapshot.network.update(dict.fromkeys(self.network, NO_NETWORK))
        snapshot.counters.update(dict.fromkeys(self.counters, SATURATED))


NOTHING_RECALLED = Recalled()


@dataclass(frozen=True)
class AccountChange:
    """What an account change's reasons and its profile both go by, worked out once per read."""

    payout_changed: bool  # `payout_changed`
    ip: str | None  # the change's connection (`Engine.unfamiliar`)
    where: str | None  # where it is, when the partner never was in that session (`Engine.unfamiliar`)


NO_ACCOUNT_CHANGE = AccountChange(False, None, None)  # any other event's


@dataclass
class Scored:
    decision: dict[str, Any]
    subject: tuple[str, str]
    case_id: str | None = None
    opened: bool = False
    held: list[Reward] = field(default_factory=list)
    already_scored: bool = False
    # the reviews it recorded (`linked_earlier`, `commission_review`), as (program, event id): for
    # the queue at once
    reviews: tuple[tuple[str, str], ...] = ()


def case_id_for(program_id: str, event_id: str) -> str:
    return "case_" + hashlib.sha256(f"{program_id}/{event_id}".encode()).hexdigest()[:16]


def _transaction_read(event: Any) -> str | None:
    """The transaction whose claim scoring reads: a purchase's own (counted once), or the one an API
    reward names without naming its customer (whose customer the claim gives)."""
    if isinstance(event, TransactionCreated):
        return str(event.transaction.id)
    if isinstance(event, RewardCreated) and event.reward.transaction_id and not event.reward.customer_id:
        return str(event.reward.transaction_id)
    return None


def _waiting(program_id: str, snapshot: Snapshot) -> tuple[Reward, ...]:
    """The API rewards waiting on the transaction read (`AwaitTransaction`), as they arrived."""
    return tuple(holdables.reward_of(program_id, text) for text in sorted(snapshot.transaction_waiting))


class Engine:
    def __init__(
        self,
        repository: ScoringPort,
        reference: ReferenceData,
        pepper: bytes,
        publisher: EventPublisher,
        delivered: list[Notification] | None = None,
        *,
        memory: ReadMemory | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.repository = repository
        self.reference = reference
        self.pepper = pepper
        self.publisher = publisher
        # with a list, the notifications the bus took gather there and whoever owns the list takes
        # them out of the outbox (the score function: once per SQS batch); without, after each step
        self.delivered = delivered
        # the environment's facts that spare reads (`Recalled`); None: every item read every time
        self.memory = memory
        self.clock = clock or SystemClock()  # when the memory's facts lapse

    def score(self, stored: StoredEvent) -> Scored:
        """Reads, decides, writes; reads and decides again when a concurrent event on the same
        subject (or partner) changed what was read. The event's first step carries its decision:
        once it is written the event is scored, and the steps after it (more holds, more marks)
        are finished by the hold sweep if this run stops."""
        ignored: list[str] = []  # the optional values detection does without (SPEC 3.1)
        if stored.type in _reviews:
            event = _reviews[stored.type].validate_python(stored.body)
        else:
            event = _events.validate_python(stored.body, context={**STORED, "ignored": ignored})
        notes = tuple(dict.fromkeys(ignored))  # a union may try a member twice
        plan = self.plan(stored.program_id, event, stored.received_at)
        reward_id = _reward_id(event)
        ask_index = False  # the subject's holdable rewards from its list; from the index once it failed
        for attempt in range(ATTEMPTS):
            snapshot = self.snapshot(stored.program_id, event, plan, reward_id)
            crowds = crowded_links(snapshot.links) | plan.recalled  # no evidence about anyone (issue 14)
            account = self.account_change(event, plan, snapshot, crowds)
            reasons, linked = self.evaluate(stored.program_id, event, plan, snapshot, crowds, account)
            variants = [r.variant for r in reasons]
            total = weights.score(variants)
            action = "flag" if total >= weights.FLAG_THRESHOLD else "allow"
            decision = {"score": total, "action": action, "reasons": [r.public() for r in reasons]}
            flags = flags_subject(snapshot.subject, action == "flag")  # a removed partner stays so
            given = self.build_input(stored, event, plan, snapshot, decision, flags, crowds, account)
            given.notes = notes
            # partners on the links it joins that gave them after it, reviewed; a review reviews no
            # one (its partner is on every link it names): a chain is the event and its reviews
            if plan.subject[0] == "partner" and given.links and stored.type not in _reviews:
                given.reviews = self.reviews_of_later_joiners(
                    stored, event, plan, snapshot, crowds, account, flags
                )
            elif isinstance(event, TransactionCreated):
                given.reviews = self.review_of_commission(stored, event, snapshot)
            if linked != given.profile.linked:
                given.profile = evolve(given.profile, linked=linked)
            before = snapshot.subject
            rewards: list[Reward] = []
            # a reward's customer's list, read with its profile (the reward named the customer, or its
            # transaction's claim did: `snapshot`)
            customer_list = snapshot.customer_holdables if plan.customer_id else None
            lists = ListsRead(snapshot.holdables, snapshot.partner_holdables, customer=customer_list)
            if given.flag:
                # a customer's rewards all; a partner's from the time the flag leaves it flagged from,
                # or all when that is not after its sign-up (`holds_since`)
                since = holds_since(
                    given.profile, flagged_since(given.profile, given.flagged_from or event.occurred_at)
                )
                # known from the subject's item (issue 15); the index only when the list cannot tell
                listed = (
                    None if ask_index else holdables.candidates(snapshot.holdables, stored.program_id, since)
                )
                if listed is None:
                    rewards = self.repository.subject_rewards(stored.program_id, *plan.subject, since)
                    lists = ListsRead(
                        snapshot.holdables,
                        snapshot.partner_holdables,
                        True,
                        since,
                        customer_list,
                    )
                else:
                    rewards = listed
            if (
                before is not None
                and before.spill_count
                and marks_every_identifier(before, "flagged" if given.flag else given.profile.status)
            ):  # its marks reach identifiers kept outside its profile: read them
                spilled = self.repository.spilled_identifiers(stored.program_id, *plan.subject)
                before = evolve(before, spilled=before.spilled | spilled)
                given.profile = evolve(given.profile, spilled=given.profile.spilled | spilled)
            scoring = scoring_plan(
                given, before, snapshot.partner, rewards, self.pepper, lists, customer=snapshot.customer
            )
            first, later = scoring.steps[0], scoring.steps[1:]
            try:
                carry_out(self.repository, [first], self.publisher, self.delivered)
            except StepRefused as refused:
                if isinstance(refused.write, ScoreEvent):
                    return Scored(decision, plan.subject, already_scored=True)
                if isinstance(refused.write, MoveReward) and not lists.found:
                    ask_index = True  # a listed reward was no longer holdable: the index, and a new list
                    continue
                backoff(attempt)  # the subject, its partner, its case or the reward id changed
                continue
            try:
                carry_out(self.repository, later, self.publisher, self.delivered)
            except StepRefused:  # a reward or the case changed meanwhile: the sweep finishes the rest
                logger.info(
                    "flag follow-up refused; the hold sweep finishes it", extra={"event_id": stored.event_id}
                )
            reviews = tuple((r.program_id, r.event_id) for r in given.reviews)
            return Scored(
                decision, plan.subject, scoring.case_id, scoring.opened, scoring.held, reviews=reviews
            )
        raise StorageUnavailable(f"scoring {stored.event_id}: concurrent events kept changing its subject")

    # --- what to read --------------------------------------------------------------------------
    def snapshot(self, program_id: str, event: Any, plan: Plan, reward_id: str | None) -> Snapshot:
        """The event's snapshot, in one read. An API reward naming only its transaction is that
        transaction's customer's, as its claim says: the customer's key is known only once the
        claim is read, so it joins a second read (that reward kind alone, and once: the plan keeps
        it for the attempts after), which a reward of a flagged customer needs to be held at once."""
        while True:
            read_at = self.clock.now()
            known = self.recalled(program_id, plan, read_at)
            snapshot = self.repository.scoring_snapshot(
                program_id,
                plan.subject,
                plan.partner_id,
                [
                    key
                    for key in dict.fromkeys([*plan.links.values(), *plan.probes.values()])
                    if key not in known.links
                ],
                [
                    key
                    for key in dict.fromkeys([*plan.network.values(), *plan.network_probes.values()])
                    if key not in known.network
                ],
                [name for name in plan.counter_names() if name not in known.counters],
                reward_id,
                plan.customer_id,
                _transaction_read(event),
            )
            known.fill(snapshot)
            self.learn(program_id, plan, snapshot, known, read_at)
            plan.recalled = set(known.links)
            claimed = snapshot.transaction_customer if isinstance(event, RewardCreated) else None
            if plan.customer_id or not claimed:
                return snapshot
            plan.customer_id = claimed

    def recalled(self, program_id: str, plan: Plan, now: datetime) -> Recalled:
        """What the environment knows of the event's items, so that its read leaves them out: a
        purchase's settled crowds, and any event's IP and device hours at `SATURATED`. A purchase's
        only: a partner's account change reads a crowded device's members (`unfamiliar`: a partner
        that joined it before its crowd used it before), which the slots that stand in for it lack."""
        if self.memory is None:
            return NOTHING_RECALLED
        memory = self.memory
        links: dict[LinkKey, LinkState] = {}
        network: list[LinkKey] = []
        if plan.subject[0] == "customer":
            for role in CROWDS_RECALLED:
                key = plan.links.get(role)
                if key and (slots := memory.crowd_slots.recall((program_id, key), now)) is not None:
                    links[key] = LinkState(counts=slots)
                    if role in plan.network:
                        network.append(plan.network[role])
        counters = frozenset(
            name
            for counted in plan.counts.values()
            if counted.link is not None
            for name in counted.names
            if memory.saturated_hours.recall((program_id, name), now)
        )
        if not links and not counters:
            return NOTHING_RECALLED
        return Recalled(links, frozenset(network), counters)

    def learn(
        self, program_id: str, plan: Plan, snapshot: Snapshot, known: Recalled, read_at: datetime
    ) -> None:
        """Keeps in the environment's memory what the read (begun at `read_at`) showed that stays
        true: a crowd no purchase reads as evidence (`links.crowd_for_good`: from any event's read,
        each a link whole), its slots once settled (`ReadMemory.learn_crowd`), and an IP's or a
        device's counter item at `SATURATED` (`velocity.saturated_hours`)."""
        if self.memory is None:
            return
        now = self.clock.now()
        for role in CROWDS_RECALLED:
            key = plan.links.get(role)
            if key and key not in known.links and crowd_for_good(key, state := snapshot.links[key]):
                self.memory.learn_crowd((program_id, key), state.counts, read_at, now)
        for counted in plan.counts.values():
            if counted.link is None:  # a partner's account changes: its own, never a crowd's
                continue
            for name, until in saturated_hours(counted, snapshot.counters).items():
                if name not in known.counters and now < until:
                    self.memory.saturated_hours.learn((program_id, name), True, until)

    def plan(self, program_id: str, event: Any, received: datetime | None = None) -> Plan:
        if isinstance(event, PartnershipCreated):
            plan = Plan(("partner", event.partner.id))
            self._identity(plan, event.partner.email, event.session.device_fingerprint, str(event.session.ip))
            self._payout(plan, event.partner.payout_account)
            self._in_other_roles(plan)
            self._counts(plan, "signup", event.occurred_at, received)
        elif isinstance(event, AccountUpdated):
            plan = Plan(("partner", event.partner.id))
            self._identity(plan, event.partner.email, event.session.device_fingerprint, str(event.session.ip))
            self._payout(plan, event.partner.payout_account)
            self._in_other_roles(plan)
            if event.activity in SENSITIVE_ACTIVITIES:
                plan.counts["account"] = velocity(
                    "account", event.partner.id, event.occurred_at, None, received
                )
        elif isinstance(event, TransactionCreated):
            customer = event.customer
            plan = Plan(("customer", customer.id), partner_id=event.partner_id)
            self._identity(plan, customer.email, customer.device_fingerprint, customer.ip)
            self._in_other_roles(plan)  # a removed partner's PayPal address typed at a checkout
            self._counts(plan, "txn", event.occurred_at, received)
        elif isinstance(event, LinkedRemovalReview):  # the links it names, as they stand
            plan = Plan(("partner", event.partner_id))
            for n, link in enumerate(event.links):
                plan.links[f"{link.kind}#{n}"] = (link.kind, link.value)
            self._in_other_roles(plan)  # each address in its other role too
        elif isinstance(event, LinkedEarlierReview):  # the links it names, each as it stood (`evaluate`)
            plan = Plan(("partner", event.partner_id))
            for n, link in enumerate(event.links):
                plan.links[f"{link.kind}#{n}"] = (link.kind, link.value)
        elif isinstance(event, CommissionReview):  # its partner, as a reward through the API
            plan = Plan(("partner", event.partner_id))
        else:
            assert isinstance(event, RewardCreated)
            plan = Plan(("partner", event.reward.partner_id), customer_id=event.reward.customer_id or None)
        return plan

    def _identity(self, plan: Plan, email: str | None, device: str | None, ip: str | None) -> None:
        if email:
            keys = email_keys(email)
            plan.links["email"] = ("email", keys.normalized)
            if keys.before:  # linked before under its key of then: read too, never written
                plan.probes["email_before"] = ("email", keys.before)
            plan.links["email_skeleton"] = ("email_skeleton", keys.skeleton)
            plan.network["email"] = ("email", network_key("email", keys.normalized, self.pepper))
            if plan.subject[0] == "partner":  # accounts; a customer's is read and written per purchase
                for n, probe in enumerate(near_probes(email)):
                    key = ("email_near", probe.key)
                    if probe.written:
                        plan.links[f"email_near#{n}"] = key
                        plan.spans[key] = probe.middle
                    else:
                        plan.probes[f"email_near#{n}"] = key
        if device := usable_device(device):  # a placeholder (`unknown`, `00000000`) names no device
            plan.links["device"] = ("device", device)
            plan.network["device"] = ("device", network_key("device", device, self.pepper))
        if linked := self.linked_ip(ip):
            plan.links["ip"] = ("ip", linked)
            plan.ip = linked

    def _payout(self, plan: Plan, account: str | None) -> None:
        """A partner's payout account: linked in its program, and a network identifier (a bank
        account names its holder across programs better than an address); under each of its other
        keys too (a British or Irish IBAN's domestic form, a wallet's form with or without `0x`:
        `identity.other_payout_keys`), so that either form finds a partner paid into the account in
        the other. One more link, written for those accounts alone."""
        if account:
            plan.links["payout"] = ("payout", account)
            plan.network["payout"] = ("payout", network_key("payout", account, self.pepper))
            for n, also in enumerate(other_payout_keys(account)):
                plan.links[f"{PAYOUT_ALSO}{n}"] = ("payout", also)
                plan.network[f"{PAYOUT_ALSO}{n}"] = ("payout", network_key("payout", also, self.pepper))
            if isinstance(account, PayoutKey) and account.before:  # linked before under its key of then
                plan.probes[PAYOUT_BEFORE] = ("payout", account.before)
                plan.network_probes[PAYOUT_BEFORE] = (
                    "payout",
                    network_key("payout", account.before, self.pepper),
                )

    @staticmethod
    def _in_other_roles(plan: Plan) -> None:
        """Each address of a partner's planned links, its login e-mail or PayPal payout account (a
        customer's e-mail at a purchase), read in its other role too
        (`identity.address_in_other_role`), under the role `signals.IN_OTHER_ROLE` gives its kind
        (a review's `<role>#<n>` as its link's): a probe, never written. A join would make each
        partner a member of both links, one more write per sign-up on every address, and its role
        unknown to whoever reads the link; read beside its own, in the same read, the other role's
        members are known as such (`signals.in_other_role` says "as a payout account"). Not one of
        the partner's own links (a partner paid at its own login address reads that link as its
        own already): planned after them all."""
        for role, (kind, key) in list(plan.links.items()):
            name, sign, n = role.partition("#")
            other = address_in_other_role(kind, key) if name == kind else None
            if other is not None and other not in plan.links.values():
                plan.probes[f"{signals.IN_OTHER_ROLE[kind]}{sign}{n}"] = other

    @staticmethod
    def _repeated(event: Any, snapshot: Snapshot) -> bool:
        """`velocity.repeated`, for this event as read."""
        signed_up = isinstance(event, PartnershipCreated) and (
            snapshot.subject is not None and snapshot.subject.signup_at is not None
        )
        if not isinstance(event, TransactionCreated):
            return repeated(event.id, signed_up)
        same_customer = snapshot.transaction_customer == event.customer.id
        return repeated(event.id, signed_up, snapshot.transaction_event, same_customer)

    @staticmethod
    def _counts(plan: Plan, kind: str, at: datetime, received: datetime | None) -> None:
        """The event's IP and device velocity counts, each on its identifier's link when the event
        joins it (`velocity`)."""
        if plan.ip:
            plan.counts[signals.VELOCITY_CONNECTION + plan.ip] = velocity(
                kind, "ip:" + plan.ip, at, plan.links["ip"], received
            )
        if device := plan.links.get("device"):
            plan.counts["this device"] = velocity(kind, "device:" + device[1], at, device, received)

    def linked_ip(self, ip: str | None) -> str | None:
        """The key an event's IP links and counts under (`identity.ip_key`), or None when it names
        no client: an exit many unrelated people share by design (a privacy relay), or an address
        that is not a client's public one (private, loopback, link-local, carrier-grade NAT: a
        proxy's own address, sent by an integration that did not read the forwarded one, would make
        every session one IP, every sign-up after the third a burst)."""
        if not ip or not public_ip(ip) or self.reference.ip(ip).provider in signals.CONSUMER_RELAYS:
            return None
        return ip_key(ip)

    # --- the signals ---------------------------------------------------------------------------
    def evaluate(
        self,
        program_id: str,
        event: Any,
        plan: Plan,
        snapshot: Snapshot,
        crowds: set[LinkKey],
        account: AccountChange,  # `account_change`
    ) -> tuple[list[signals.Reason], tuple[str, ...]]:
        """The reasons to flag, and a partner's profile's `linked` after the event; `crowds`: the
        snapshot's crowded links, evidence about no one (for a partner, counted again without
        customers: `signals.as_a_partner_sees`)."""
        me = subject_key(*plan.subject)
        key_of = {**plan.links, **plan.probes}
        read = {role: snapshot.links[key] for role, key in key_of.items()}
        if "email_before" in read:  # the address's link under its key of before, as one with today's
            read["email"] = merged(read["email"], read.pop("email_before"))
        network_of = {**plan.network, **plan.network_probes}
        network = {role: snapshot.network[key] for role, key in network_of.items()}
        marked = [
            r for r, s in network.items() if _pays(r) and s.first is not None and (s.flagged or s.removed)
        ]
        if marked:  # a payout account's later givers: weak to its first giver (`first_givers_marks`)
            giver = self.giver(plan, snapshot.subject)
            network.update({role: first_givers_marks(network[role], giver) for role in marked})
        if plan.subject[0] == "partner":
            # what customers typed is no evidence about a partner, nor does it crowd its address out
            read, network = signals.as_a_partner_sees(read, network)
        # the crowds as evidence goes (a partner's counted without customers); the unfamiliar-session
        # rules go by `crowds`, as the profile's note does
        seen_crowded = (
            crowded_links({key_of[role]: state for role, state in read.items()})
            if plan.subject[0] == "partner"
            else crowds
        )
        crowded = {
            role
            for role, state in read.items()
            if key_of[role] in seen_crowded and not farmed(key_of[role], state)
        }
        links = {role: NO_LINK if role in crowded else state for role, state in read.items()}
        network = {role: state for role, state in network.items() if key_of.get(role) not in seen_crowded}
        for role in [r for r in links if r.startswith(PAYOUT_ALSO)]:  # one account, either form
            links["payout"] = merged(links["payout"], links.pop(role))
            if (also := network.pop(role, None)) is not None:
                network["payout"] = merged_network(network.get("payout", NO_NETWORK), also)
        links = signals.as_they_stood(me, links, event.occurred_at)  # a typed identifier: who gave it first
        network = signals.network_as_it_stood(me, network, links)
        # a copy of an account or a purchase counted already (`velocity.repeated`) is no more of a
        # burst than it was: the counts it reads hold its original, so it reads none (a reviewer's:
        # the third sign-up of an office, sent again, flagged as the third where it had not)
        counted = plan.counts if not self._repeated(event, snapshot) else {}
        counts = {label: c.total(snapshot.counters, snapshot.links) for label, c in counted.items()}

        def later(label: str) -> int:  # asked of a count that fires only
            return plan.counts[label].later(snapshot.counters, snapshot.links)

        reasons: list[signals.Reason] = []
        before = snapshot.subject.linked if snapshot.subject is not None else ()
        if isinstance(event, (RewardCreated, CommissionReview)):  # joins no identifier
            large = signals.payout_before_large_reward(snapshot.subject, event.reward, event.occurred_at)
            return large, before
        if isinstance(event, LinkedRemovalReview):  # its links' removed partners, nothing else
            return _one_per_code(signals.shared_with_removed(me, links)), before
        if isinstance(event, LinkedEarlierReview):  # its links as they stood when it gave them
            earlier = subject_key(event.earlier.subject_type, event.earlier.subject_id)
            found = signals.shared_with_earlier(
                me, links, event.occurred_at, earlier, event.earlier.flagged_at
            )
            return _one_per_code(found), before
        if isinstance(event, (PartnershipCreated, AccountUpdated)):
            partner = event.partner
            reasons += signals.bought_on_by_own_customers(
                partner.id, me, read, {role for role in read if key_of[role] in crowds}
            )
            country = partner.country or (snapshot.subject.country if snapshot.subject else None)
            if isinstance(event, PartnershipCreated):
                reasons += signals.blocked_reapply(me, links, snapshot.subject)
                reasons += signals.removed_namesake(
                    me, str(event.session.ip), partner.name or "", links.get("ip", NO_LINK), self.pepper
                )
            if partner.email:
                reasons += signals.email_signals(
                    me,
                    partner.email,
                    email_keys(partner.email),
                    links,
                    self.reference,
                    (partner.name, self.pepper)
                    if isinstance(event, PartnershipCreated) and partner.name
                    else None,
                )
            reasons += signals.in_other_role(me, links)
            # the address sent, else the one given before: an account change sends what changed
            home = partner.address or home_of(snapshot.subject.home if snapshot.subject else None)
            if (
                country in ("US", None)
                and home is not None
                and served_abroad(home.country, home.region, home.city, home.postal_code)
            ):
                country = None  # an APO, FPO or DPO household connects from where it serves
            reasons += signals.ip_signals(
                me, str(event.session.ip), country, links.get("ip", NO_LINK), self.reference
            )
            if "device" in links:
                reasons += signals.device_signals(me, event.session.device_fingerprint or "", links["device"])
            reasons += self.location(str(event.session.ip), event.session.ip_location, home)
            if isinstance(event, PartnershipCreated):
                reasons += signals.velocity_signal(
                    "sign-ups",
                    counts,
                    weights.VELOCITY_SIGNUPS_PER_IP,
                    later,
                    signals.signups_variant(crowded),
                )
                reasons += signals.payout_changed_after_signup(
                    snapshot.subject, event.occurred_at, partner.payout_account
                )
            else:
                reasons += signals.account_burst(event.activity, counts.get("account", 0))
                at = event.occurred_at
                reasons += signals.payout_before_rewards(account.payout_changed, snapshot.subject, at)
                if account.payout_changed:
                    later_rewards = self.rewards_after_payout_change(program_id, plan, snapshot, at)
                    reasons += signals.payout_before_listed_rewards(later_rewards, at)
                    since, where = (
                        (at, account.where)
                        if account.where
                        else unfamiliar_seen(snapshot.subject, plan.device, account.ip, at) or (None, None)
                    )
                    reasons += signals.payout_from_a_new_session(since, where, at)
        elif isinstance(event, TransactionCreated):
            customer = event.customer
            links = signals.as_one_shopper(me, links)
            keys = email_keys(customer.email) if customer.email else None
            reasons += signals.self_referral(
                customer,
                snapshot.partner,
                keys.normalized if keys else None,
                by_ip=plan.ip,
                links=links,
                crowded=crowded,
            )
            if customer.email and keys:
                reasons += signals.email_signals(me, customer.email, keys, links, self.reference)
            reasons += signals.in_other_role(me, links)
            if customer.ip:
                reasons += signals.ip_signals(
                    me, str(customer.ip), customer.country, links.get("ip", NO_LINK), self.reference
                )
            if "device" in links:
                reasons += signals.device_signals(me, customer.device_fingerprint or "", links["device"])
            reasons += signals.velocity_signal(
                "transactions", counts, weights.VELOCITY_TRANSACTIONS, later, signals.purchases_variant
            )
        # flagged members the e-mail (in either role), device and IP reasons already name: one
        # identifier shared with one flagged subject is one signal, not two (an IP's alone is weak:
        # a household, SPEC 5.2)
        named: set[str] = set()
        for role in ("email", "device", "ip", *signals.IN_OTHER_ROLE.values()):
            if role in links:
                named |= set(links[role].flagged) | set(links[role].removed)
        suspect = bool(plan.ip) and signals.suspect_connection(_client_ip(event), self.reference)
        if plan.subject[0] == "partner":
            met = signals.partners_met(me, links)
            linked = signals.partners_linked(before, met, event.occurred_at)
            group = signals.group_met(before, met, event.occurred_at)
            reasons += signals.cluster_signal(me, signals.a_partners_group(links), named, group, suspect)
        else:
            linked = before
            reasons += signals.cluster_signal(
                me, signals.in_own_roles(links), named, suspect_connection=suspect
            )
        reasons += signals.network_signal(program_token(program_id, self.pepper), network)
        return _one_per_code(reasons), linked

    def rewards_after_payout_change(
        self, program_id: str, plan: Plan, snapshot: Snapshot, at: datetime
    ) -> list[Reward]:
        """The partner's rewards created in the window after its payout change (`at`), holdable or
        on hold: from its list, read with its profile, or from the index when the list cannot tell
        (the bounded fallback: one query, of that window alone, however long the partner's
        history). One a flagged customer's case holds is marked on the list, not listed
        (`scoring_plan.held_elsewhere`): the index shows it, and it is still the partner's money."""
        until = at + timedelta(hours=weights.PAYOUT_CHANGE_WINDOW_HOURS)
        listed = holdables.candidates(snapshot.holdables, program_id, at)
        if listed is None:
            listed = self.repository.subject_rewards(program_id, *plan.subject, at, until)
        return [r for r in listed if r.created_at <= until and r.status in PAYOUT_EVIDENCE]

    def location(self, ip: str, ip_location: Any, address: Any) -> list[signals.Reason]:
        """location_far_from_address with what is known: coordinates the event carries first, else
        the IP's city (a city database, when configured) and the address's city (the gazetteer).
        The gazetteer is consulted only once the session has a location."""
        if address is None:
            return []
        session, session_from, within = None, "", 0.0
        if ip_location is not None:
            session = (ip_location.lat, ip_location.lon)
        elif located := self.reference.ip_location(ip):
            session, session_from, within = located[:2], "IP located by a city database", located[2]
        if session is None:
            return []
        place, place_from = None, ""
        if address.lat is not None and address.lon is not None:
            place = (address.lat, address.lon)
        elif placed := self.reference.place(
            address.country, address.city, address.region, address.postal_code
        ):
            place, place_from = placed, f"address placed at {address.city} by the gazetteer"
        return signals.location_signal(session, place, session_from, place_from, within)

    # --- what to write -------------------------------------------------------------------------
    def build_input(
        self,
        stored: StoredEvent,
        event: Any,
        plan: Plan,
        snapshot: Snapshot,
        decision: dict[str, Any],
        flag: bool,
        crowds: set[LinkKey],  # the snapshot's crowded links (`crowded_links`)
        account: AccountChange,  # `account_change`
    ) -> ScoringInput:
        program_id = stored.program_id
        states = {key: snapshot.links[key] for key in dict.fromkeys(plan.links.values())}
        profile = self._profile(program_id, event, plan, snapshot, crowds, account)
        me = subject_key(*plan.subject)
        spans = {key: span_entry(me, span) for key, span in plan.spans.items()}
        via = (
            customers_of(plan.links, states, subject_key("partner", event.partner_id), event.occurred_at)
            if isinstance(event, TransactionCreated)  # a crowded device is not joined (`links_to_join`)
            else {}
        )
        links = links_to_join(me, states, crowds, flag, spans, via)
        since = join_entries(me, states, crowds, event.occurred_at, isinstance(event, PartnershipCreated))
        links += [key for key in since if key not in links]  # a time moved back (`join_entries`)
        marks = network_marks(profile, "flagged" if flag else profile.status, self.pepper)  # after it
        network = network_to_join(plan.network, plan.links, crowds, snapshot.network, marks)
        payout = [key for role, key in plan.network.items() if _pays(role) and plan.links[role] not in crowds]
        claims = network_first(payout, snapshot.network)
        first = (
            known_first_giver(snapshot.network[key] for key in payout)  # the account in another form
            or (network_mark(program_id, profile, self.pepper), self.giver(plan, profile))
            if claims
            else None
        )
        repeat = self._repeated(event, snapshot)  # an account or a purchase sent again: counted already
        given = ScoringInput(
            program_id=program_id,
            event_id=stored.event_id,
            occurred_at=event.occurred_at,
            recorded_at=stored.received_at,
            decision=decision,
            profile=profile,
            links=links,
            spans={key: spans[key] for key in links if key in spans},
            via={key: via[key] for key in links if key in via},
            since=since,  # each in `links`
            network=network,
            network_first=dict.fromkeys(claims, first) if first else {},
            counts=tallies(
                [] if repeat else unsaturated(plan.counts, snapshot.counters, snapshot.links),
                event.occurred_at,
                snapshot.links,
            ),
            seen=guarded_joins(me, states, links),
            flag=flag,
            new_case_id=case_id_for(program_id, stored.event_id) if flag else "",  # a flag's alone
            reward_taken=snapshot.reward_taken,
        )
        if isinstance(event, PartnershipCreated) and repeat:
            given.flagged_from = judged_until(snapshot.subject, event.occurred_at)
        if isinstance(event, TransactionCreated):
            if event.reward:
                given.reward = Reward(
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
            given.revenue = (event.transaction.currency, to_micros(event.transaction.amount))
            given.partner_id = event.partner_id
            given.partner_revenue_kept = snapshot.partner_revenue_kept
            if (
                event.reward
                and snapshot.partner
                and signals.large_reward(event.reward.amount, event.reward.currency)
            ):
                given.partner_version = snapshot.partner.version  # a payout change beside it decides again
            given.transaction = (event.transaction.id, snapshot.transaction_event)
            given.waiting = _waiting(program_id, snapshot)
        elif isinstance(event, LinkedRemovalReview):
            given.flagged_from = reaches_back(snapshot.subject, event.occurred_at)
        elif isinstance(event, RewardCreated):
            r = event.reward
            given.reward = Reward(
                program_id=program_id,
                reward_id=r.id,
                partner_id=r.partner_id,
                amount=r.amount,
                currency=r.currency,
                status="new",
                created_at=event.occurred_at,
                source="api",
                # naming only a transaction: that transaction's customer, as its claim says (SPEC 4: a
                # flagged customer's transactions' rewards are held; untied, it stayed payable)
                customer_id=r.customer_id or snapshot.transaction_customer or None,
                transaction_id=r.transaction_id or None,
            )
            if r.transaction_id and not r.customer_id and snapshot.transaction_event is None:
                # its transaction not recorded yet (events arrive out of order): it waits for it
                given.awaits, given.waiting = r.transaction_id, _waiting(program_id, snapshot)
        return given

    def reviews_of_later_joiners(
        self,
        stored: StoredEvent,
        event: Any,
        plan: Plan,
        snapshot: Snapshot,
        crowds: set[LinkKey],
        account: AccountChange,
        flag: bool,
    ) -> tuple[StoredEvent, ...]:
        """The reviews this event records (`linked_earlier`) of the partners on the links it joins
        that gave them after its time, received now (sent on after the commit: `hand_on_reviews`),
        with since when its partner is flagged once it is decided (`flag`): its own flag counts
        only if it stands without the members that came more than a day after it (history read
        in arrival order; a reviewer's finding: such a flag spread to an honest member)."""
        me, at = subject_key(*plan.subject), event.occurred_at
        states = {key: snapshot.links[key] for key in dict.fromkeys(plan.links.values())}
        found = linked_earlier.later_joiners(me, at, states, crowds, isinstance(event, PartnershipCreated))
        if not found:
            return ()
        if flag:
            timely = {key: without_history(state, me, at) for key, state in snapshot.links.items()}
            if any(timely[key] is not state for key, state in states.items()):  # it read history
                reasons, _ = self.evaluate(
                    stored.program_id, event, plan, evolve(snapshot, links=timely), crowds, account
                )
                flag = weights.score([r.variant for r in reasons]) >= weights.FLAG_THRESHOLD
        flagged_at = flagged_since_now(snapshot.subject, flag, at)
        flagged = {member for key in states for member in states[key].flagged}
        now = self.clock.now()
        return tuple(
            _recorded(stored.program_id, body, now)
            for body in linked_earlier.review_bodies(
                stored.event_id, plan.subject, found, flagged, flagged_at
            )
        )

    def review_of_commission(
        self, stored: StoredEvent, event: TransactionCreated, snapshot: Snapshot
    ) -> tuple[StoredEvent, ...]:
        """The review a purchase records of its partner (`commission_review`) when its commission is
        large and came within the window after the partner's payout change, as read: none for a
        commission the purchase does not record (`scoring_plan`: its id another reward's, or its
        transaction recorded by another event, the purchase sent again under a new id)."""
        reward = event.reward
        if reward is None or snapshot.reward_taken:
            return ()
        if not signals.large_reward(reward.amount, reward.currency):
            return ()  # most commissions: no payout change to read
        if recorded_by_another(snapshot.transaction_event, stored.event_id):
            return ()
        if not signals.payout_before_large_reward(snapshot.partner, reward, event.occurred_at):
            return ()
        commission = (str(reward.id), reward.amount, str(reward.currency))
        body = commission_review.review_body(stored.event_id, event.partner_id, commission, event.occurred_at)
        return (_recorded(stored.program_id, body, self.clock.now()),)

    def giver(self, plan: Plan, subject: Subject | None) -> frozenset[str]:
        """The tokens (`links.giver_tokens`) of the event's login address and device, and of the
        subject's address on file (an account change sends only what changed)."""
        keys = [key for role in ("email", "device") if (key := plan.network.get(role, (None, ""))[1])]
        email = (
            (email_keys(subject.email).normalized if subject.email else subject.email_normalized)
            if subject
            else None
        )
        if email:
            keys.append(network_key("email", email, self.pepper))
        return giver_tokens(keys)

    def account_change(
        self, event: Any, plan: Plan, snapshot: Snapshot, crowds: set[LinkKey]
    ) -> AccountChange:
        """An account change's facts, for its reasons and its profile alike."""
        if not isinstance(event, AccountUpdated):
            return NO_ACCOUNT_CHANGE
        subject, at = snapshot.subject, event.occurred_at
        me = subject_key(*plan.subject)
        used_before = any(  # the account's links: name the partner if it used it before, in either form
            link in crowds or me in snapshot.links[link].members for link in plan.payout_links()
        )
        changed = payout_changed(subject, event.activity, event.partner.payout_account, at, used_before)
        return AccountChange(changed, *self.unfamiliar(subject, event, plan, snapshot, crowds))

    def unfamiliar(
        self, subject: Subject | None, event: Any, plan: Plan, snapshot: Snapshot, crowds: set[LinkKey]
    ) -> tuple[str | None, str | None]:
        """An account change's connection (its link key; None for one that names no one: a privacy
        relay, a proxy's own address, a crowded link), and where it is (`signals.elsewhere`'s word)
        when the session is one where the partner never was (`unfamiliar_session`) somewhere it
        never connected from; else None."""
        device, ip = plan.device, plan.ip if plan.ip and ("ip", plan.ip) not in crowds else None
        device_link = snapshot.links.get(("device", device), NO_LINK) if device else NO_LINK
        ip_link = snapshot.links.get(("ip", ip), NO_LINK) if ip else NO_LINK
        if subject is None or not unfamiliar_session(subject, device, ip, device_link, ip_link):
            return ip, None
        noted = noted_ips(subject, event.occurred_at)
        return ip, signals.elsewhere(subject, str(event.session.ip), self.reference, noted)

    def _profile(
        self,
        program_id: str,
        event: Any,
        plan: Plan,
        snapshot: Snapshot,
        crowds: set[LinkKey],
        account: AccountChange,  # `account_change`
    ) -> Subject:
        """The subject's profile after the event: the fields it changes (unless a later change was
        applied already), and every identifier it used added to those before."""
        kind, identifier = plan.subject
        current = snapshot.subject or Subject(program_id, kind, identifier)
        at = event.occurred_at
        me = subject_key(kind, identifier)
        known = {key for key in plan.links.values() if me in snapshot.links[key].members}  # linked already
        if isinstance(event, PartnershipCreated):
            p = event.partner
            profile = profile_changes(
                current,
                {
                    "name": p.name,
                    "email": p.email,
                    "email_normalized": email_keys(p.email).normalized,
                    "country": p.country,
                    "group": p.group,
                    "team": p.team,
                    "tags": tuple(p.tags or ()),
                    "segments": tuple(p.segments or ()),
                    "keys": tuple(getattr(p, "keys", None) or ()),
                    "payout": p.payout_account,
                    "signup_at": current.signup_at or at,
                    # the address sent, even one that places nothing: never one given before it
                    "home": home_text(p.address) if p.address else current.home,
                },
                at,
            )
            session = event.session
            return with_identifiers(
                profile,
                email=p.email,
                device=usable_device(session.device_fingerprint),
                ip=plan.ip,
                payout=p.payout_account,
                crowds=crowds,
                known=known,
            )
        if isinstance(event, AccountUpdated):
            changes = event.partner.model_dump(
                exclude_unset=True, exclude_none=True, exclude={"id", "address"}
            )
            if changes.get("email"):
                changes["email_normalized"] = email_keys(changes["email"]).normalized
            if "payout_account" in changes:
                changes["payout"] = changes.pop("payout_account")
            for name in ("tags", "segments", "keys"):
                if name in changes:
                    changes[name] = tuple(changes[name] or ())
            if event.partner.address is not None:  # a move to where nothing places it: that address
                changes["home"] = home_text(event.partner.address)
            if account.payout_changed:
                changes["last_payout_change_at"] = at
                changes["payout_changes"] = payout_changes_noted(current, at)
            if account.ip and account.where:
                changes["unfamiliar"] = unfamiliar_noted(current, plan.device, account.ip, account.where, at)
            profile = profile_changes(current, changes, at)
            session = event.session
            return with_identifiers(
                profile,
                email=event.partner.email or None,
                device=usable_device(session.device_fingerprint),
                ip=plan.ip,
                payout=event.partner.payout_account or None,
                crowds=crowds,
                known=known,
            )
        if isinstance(event, TransactionCreated):
            c = event.customer
            profile = profile_changes(
                current,
                {
                    "name": c.name or current.name or c.id,
                    "email": c.email or current.email,
                    "email_normalized": email_keys(c.email).normalized
                    if c.email
                    else current.email_normalized,
                    "country": c.country or current.country,
                    "signup_at": current.signup_at or at,
                },
                at,
            )
            return with_identifiers(
                profile,
                email=c.email or None,
                device=usable_device(c.device_fingerprint),
                ip=plan.ip,
                payout=None,
                crowds=crowds,
                known=known,
            )
        return current  # a reward created through the API, or a review, changes no profile field


def flagged_since_now(subject: Subject | None, flag: bool, at: datetime) -> datetime | None:
    """Since when a subject is flagged once an event at `at` is decided (`flag`: it flags), as far
    as its profile tells: the event's time or the flag's before it, the earlier; None if it is not."""
    flagged = subject.flagged_at if subject is not None and subject.status == "flagged" else None
    times = [t for t in (at if flag else None, flagged) if t is not None]
    return min(times) if times else None


def _pays(role: str) -> bool:
    """Whether a planned network role is the event's payout account (in one of its forms)."""
    return role == "payout" or role.startswith(PAYOUT_ALSO)


def _recorded(program_id: str, body: dict[str, Any], now: datetime) -> StoredEvent:
    """An internal event a scored event records (its reviews), received `now`."""
    return StoredEvent(
        program_id=program_id,
        event_id=body["id"],
        type=body["type"],
        body=body,
        body_hash=document_hash(body),
        occurred_at=datetime.fromisoformat(body["occurred_at"]),
        received_at=now,
    )


def _client_ip(event: Any) -> str | None:
    """The IP an event's session or customer was sent with, as sent (`plan.ip` is its link key:
    an IPv6 client's /64)."""
    session = getattr(event, "session", None)
    customer = getattr(event, "customer", None)
    ip = session.ip if session is not None else getattr(customer, "ip", None)
    return str(ip) if ip else None


def _reward_id(event: Any) -> str | None:
    if isinstance(event, TransactionCreated) and event.reward:
        return str(event.reward.id)
    if isinstance(event, RewardCreated):
        return str(event.reward.id)
    return None


def _one_per_code(reasons: list[signals.Reason]) -> list[signals.Reason]:
    """One reason per code: the heaviest variant wins (a signal counts once)."""
    best: dict[str, signals.Reason] = {}
    for reason in reasons:
        kept = best.get(reason.code)
        if kept is None or weights.WEIGHTS[reason.variant] > weights.WEIGHTS[kept.variant]:
            best[reason.code] = reason
    return list(best.values())
