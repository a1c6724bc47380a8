"""The partner-program part of the in-memory store: a plain store with the same contract as
`PartnersDynamo`. It keeps items and applies decided steps, each write with its condition; it holds
no rule of its own (the rules are in `functions.shared.domain`)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from functions.shared.documents import as_kept
from functions.shared.domain import holdables
from functions.shared.domain.cases import (
    CASE_VIEWS,
    dispute_position,
    in_hold_order,
    merge_reasons,
    view_time,
)
from functions.shared.domain.hold_order import ORDERED_VIEW, order_place
from functions.shared.domain.holdables import ListChange
from functions.shared.domain.model import (
    NO_HOLDABLES,
    NO_LINK,
    NO_NETWORK,
    AuditEntry,
    Case,
    Holdables,
    LinkKey,
    LinkState,
    NetworkState,
    Notification,
    Reason,
    Reward,
    Snapshot,
    StoredEvent,
    Subject,
    evolve,
)
from functions.shared.domain.profiles import adds_identifiers, swept
from functions.shared.domain.summary import FlagDay, SummaryFigures
from functions.shared.domain.writes import (
    TRANSACT_LIMIT,
    Audit,
    AwaitTransaction,
    ClaimTransaction,
    CountSummary,
    CountUp,
    ListRewards,
    LocateCase,
    MarkLink,
    MarkNetwork,
    MoveReward,
    Notify,
    PartnerArrival,
    PutCase,
    PutReward,
    RecordEvent,
    ScoreEvent,
    SpillIdentifier,
    Step,
    StepRefused,
    TieReward,
    UpdateCase,
    UpdateProfile,
    WriteProfile,
)
from functions.shared.errors import NotFound


class PartnersMemory:
    """Partner-program storage in memory; the store's `_lock` makes each method atomic."""

    _lock: threading.RLock
    _events: dict[tuple[str, str], StoredEvent]
    _outbox: set[tuple[str, str]]

    def __init__(self) -> None:
        super().__init__()
        self._subjects: dict[tuple[str, str, str], Subject] = {}
        self._links: dict[tuple[str, str, str], LinkState] = {}
        self._network: dict[tuple[str, str], NetworkState] = {}
        self._counters: dict[tuple[str, str], int] = {}
        self._rewards: dict[tuple[str, str], Reward] = {}
        self._cases: dict[tuple[str, str], Case] = {}
        self._audit: dict[tuple[str, str], dict[str, AuditEntry]] = {}
        self._case_programs: dict[str, str] = {}
        self._notifications: dict[tuple[str, str], Notification] = {}
        self._by_subject: dict[tuple[str, str, str], list[str]] = {}  # a subject's reward ids
        self._summaries: dict[str, SummaryFigures] = {}
        self._flag_days: dict[tuple[str, str], FlagDay] = {}  # (program, YYYY-MM-DD)
        # partners not stored yet: the revenue of purchases through them, for their first profile
        self._early_revenue: dict[tuple[str, str, str], dict[str, int]] = {}  # as `_holdables`
        # subjects' lists of holdable rewards (`holdables`), stored subjects or not
        self._holdables: dict[tuple[str, str, str], Holdables] = {}
        # identifiers kept outside profiles (`SpillIdentifier`), per subject
        self._spilled: dict[tuple[str, str, str], set[tuple[str, str]]] = {}
        # (program, transaction id): the event that recorded it (None: none yet), its customer, and
        # the API rewards waiting for it (`AwaitTransaction`)
        self._transactions: dict[tuple[str, str], tuple[str | None, str | None, frozenset[str]]] = {}

    # --- reads ------------------------------------------------------------------------------
    def scoring_snapshot(
        self,
        program_id: str,
        subject: tuple[str, str],
        partner_id: str | None,
        links: list[LinkKey],
        network: list[LinkKey],
        counters: list[str],
        reward_id: str | None = None,
        customer_id: str | None = None,
        transaction_id: str | None = None,
    ) -> Snapshot:
        with self._lock:
            found = self._subjects.get((program_id, *subject))
            partner = self._subjects.get((program_id, "partner", partner_id)) if partner_id else None
            recorded_by, its_customer, waiting = self._transactions.get(
                (program_id, transaction_id or ""), _NO_CLAIM
            )
            return Snapshot(
                subject=_subject_copy(found),
                partner=_subject_copy(partner),
                links={k: self._links.get((program_id, *k), NO_LINK) for k in links},
                network={k: self._network.get(k, NO_NETWORK) for k in network},
                counters={name: self._counters.get((program_id, name), 0) for name in counters},
                reward_taken=bool(reward_id) and (program_id, reward_id or "") in self._rewards,
                transaction_event=recorded_by,
                transaction_customer=its_customer,
                transaction_waiting=waiting,
                holdables=self._holdables.get((program_id, *subject), NO_HOLDABLES),
                partner_holdables=self._holdables.get(
                    (program_id, "partner", partner_id or ""), NO_HOLDABLES
                ),
                customer_holdables=self._holdables.get(
                    (program_id, "customer", customer_id or ""), NO_HOLDABLES
                ),
                customer=_subject_copy(self._subjects.get((program_id, "customer", customer_id)))
                if customer_id
                else None,
                partner_revenue_kept=partner is None
                and (program_id, "partner", partner_id or "") in self._early_revenue,
            )

    def read_links(self, program_id: str, link_keys: list[LinkKey]) -> dict[LinkKey, LinkState]:
        with self._lock:
            return {key: self._links.get((program_id, *key), NO_LINK) for key in link_keys}

    def get_subject(self, program_id: str, subject_type: str, subject_id: str) -> Subject:
        with self._lock:
            found = self._subjects.get((program_id, subject_type, subject_id))
            if found is None:
                raise NotFound(f"{subject_type} {subject_id} not found")
            spilled = self._spilled_of(program_id, subject_type, subject_id)
            return replace(found, revenue_micros=dict(found.revenue_micros), spilled=spilled)

    def spilled_identifiers(
        self, program_id: str, subject_type: str, subject_id: str
    ) -> frozenset[tuple[str, str]]:
        with self._lock:
            return self._spilled_of(program_id, subject_type, subject_id)

    def _spilled_of(self, program_id: str, subject_type: str, subject_id: str) -> frozenset[tuple[str, str]]:
        return frozenset(self._spilled.get((program_id, subject_type, subject_id), ()))

    def get_case(self, program_id: str, case_id: str) -> Case:
        with self._lock:
            if (program_id, case_id) not in self._cases:
                raise NotFound(f"case {case_id} not found")
            return _case_copy(self._cases[(program_id, case_id)])

    def case_audit(
        self, program_id: str, case_id: str, before: tuple[datetime, str] | None = None
    ) -> Iterator[tuple[tuple[datetime, str], AuditEntry]]:
        with self._lock:
            entries = [((e.at, k), e) for k, e in self._audit.get((program_id, case_id), {}).items()]
        newest = sorted(entries, key=lambda pair: pair[0], reverse=True)
        return iter([(at, e) for at, e in newest if before is None or at < before])

    def get_reward(self, program_id: str, reward_id: str) -> Reward:
        with self._lock:
            if (program_id, reward_id) not in self._rewards:
                raise NotFound(f"reward {reward_id} not found")
            return replace(self._rewards[(program_id, reward_id)])

    def subject_rewards(
        self,
        program_id: str,
        subject_type: str,
        subject_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Reward]:
        with self._lock:
            ids = self._by_subject.get((program_id, subject_type, subject_id), ())
            found = [
                replace(r)
                for r in (self._rewards[(program_id, i)] for i in ids)
                if (since is None or r.created_at >= since) and (until is None or r.created_at <= until)
            ]
        return sorted(found, key=lambda r: (r.created_at, r.reward_id))

    def subject_rewards_newest_first(
        self, program_id: str, subject_type: str, subject_id: str, before: tuple[datetime, str] | None = None
    ) -> Iterator[Reward]:
        newest = reversed(self.subject_rewards(program_id, subject_type, subject_id))
        return iter([r for r in newest if before is None or (r.created_at, r.reward_id) < before])

    def case_held_rewards(self, program_id: str, case_id: str) -> Iterator[Reward]:
        held = [
            replace(r)
            for (p, _), r in self._rewards.items()
            if p == program_id and r.status == "on_hold" and r.case_id == case_id
        ]
        return iter(sorted(held, key=lambda r: (r.created_at, r.reward_id), reverse=True))

    def place_in_hold_order(self, program_id: str) -> tuple[int, int]:
        return 0, 0  # ordered from each case's holds when read: nothing is ever without a place

    def cases_in_view(
        self,
        program_id: str,
        view: str,
        newest_first: bool,
        after: tuple[Any, str] | None = None,
        by: str = "flagged_at",
    ) -> Iterator[Case]:
        if by == "hold_amount" and view == ORDERED_VIEW:  # as `cases_by_hold`: (whole hold, id)

            def position(c: Case) -> Any:
                return order_place(c.hold_micros)

            def listed(c: Case) -> bool:
                return in_hold_order(c.status)

        else:
            order = "resolved_at" if by == "resolved_at" and view == "resolved" else view_time(view)

            def position(c: Case) -> Any:
                return getattr(c, order)

            def listed(c: Case) -> bool:  # as the index: only cases with the sort value
                return c.status in CASE_VIEWS.get(view, ()) and getattr(c, order) is not None

        with self._lock:
            found = [
                ((position(c), c.case_id), _case_copy(c))
                for (p, _), c in self._cases.items()
                if p == program_id and listed(c)
            ]
        found.sort(key=lambda entry: entry[0], reverse=newest_first)
        for place, case in found:
            if after is None or (place < after if newest_first else place > after):
                yield case

    def program_rewards(
        self, program_id: str, status: str | None = None, before: tuple[datetime, str] | None = None
    ) -> Iterator[Reward]:
        with self._lock:
            found = [
                replace(r)
                for (p, _), r in self._rewards.items()
                if p == program_id and (status is None or r.status == status)
            ]
        found.sort(key=lambda r: (r.created_at, r.reward_id), reverse=True)
        for reward in found:
            if before is None or (reward.created_at, reward.reward_id) < before:
                yield reward

    def summary_figures(self, program_id: str, since: date) -> SummaryFigures:
        with self._lock:
            kept = self._summaries.get(program_id, SummaryFigures())
            days = sorted(
                (d for (p, _), d in self._flag_days.items() if p == program_id and d.day >= since),
                key=lambda d: d.day,
            )
            return replace(
                kept,
                cases=dict(kept.cases),
                held_micros=dict(kept.held_micros),
                flag_days=tuple(replace(d, by_reason=dict(d.by_reason)) for d in days),
            )

    def flagged_shards(self) -> int:
        return 1

    def flagged_subjects(self, shard: int) -> list[Subject]:
        with self._lock:
            return [
                replace(s, revenue_micros=dict(s.revenue_micros))
                for s in self._subjects.values()
                if swept(s.status, s.removal_pending)
            ]

    def disputes(self, after: tuple[datetime, str, str] | None = None) -> Iterator[Case]:
        with self._lock:
            found = [
                _case_copy(c)
                for c in self._cases.values()
                if c.status == "disputed" and (after is None or dispute_position(c) > after)
            ]
        return iter(sorted(found, key=dispute_position))

    def pending_notifications(self, program_id: str, limit: int) -> list[Notification]:
        with self._lock:
            found = [n for (p, _), n in self._notifications.items() if p == program_id]
        return sorted(found, key=lambda n: (n.created_at, n.notification_id))[:limit]

    def notifications_delivered(self, notifications: list[Notification]) -> None:
        with self._lock:
            for n in notifications:
                self._notifications.pop((n.program_id, n.notification_id), None)

    def mark_event_failed(self, program_id: str, event_id: str, reason: str) -> None:
        with self._lock:
            event = self._events.get((program_id, event_id))
            if event and event.status != "scored":
                self._events[(program_id, event_id)] = replace(event, status="failed", failure=reason[:1000])
                self._outbox.discard((program_id, event_id))

    # --- writes -------------------------------------------------------------------------------
    def apply(self, step: Step) -> None:
        """Checks every condition first, then writes everything: all or nothing, as a
        DynamoDB transaction (whose limits it keeps: 100 writes, one write per item). Each kind of
        write has its condition (`_CONDITIONS`, none for marks, counters and the like) and its
        application (`_APPLIERS`), the pair below for each kind."""
        writes = step.writes
        try:
            items = {_ITEM_OF[type(w)](w) for w in writes}
        except KeyError as unknown:
            raise TypeError(f"unknown write {unknown}") from None
        size = sum(w.items if type(w) is CountSummary else 1 for w in writes)
        if size > TRANSACT_LIMIT:
            raise ValueError(f"a step of {size} items: DynamoDB takes {TRANSACT_LIMIT}")
        if len(items) != len(writes):
            raise ValueError("two writes on one item in a step: DynamoDB refuses that")
        with self._lock:
            for write in writes:
                holds = _CONDITIONS.get(type(write))
                if holds is not None and not holds(self, write):
                    raise StepRefused(f"{type(write).__name__} no longer holds", write)
            for write in writes:
                _APPLIERS[type(write)](self, write)

    def _event_unscored(self, write: ScoreEvent) -> bool:
        event = self._events.get((write.program_id, write.event_id))
        return event is not None and event.status != "scored"

    def _score_event(self, write: ScoreEvent) -> None:
        slot = (write.program_id, write.event_id)
        self._events[slot] = evolve(
            self._events[slot],
            status="scored",
            decision=_plain_copy(write.decision),
            case_id=write.case_id,
            notes=write.notes,
            failure=None,  # a delivery that failed before (redriven): scored now
        )
        self._outbox.discard(slot)

    def _profile_version_holds(self, write: WriteProfile) -> bool:
        s = write.subject
        current = self._subjects.get((s.program_id, s.type, s.id))
        return (current.version if current else 0) == write.expect_version

    def _write_profile(self, write: WriteProfile) -> None:
        s = write.subject
        current = self._subjects.get((s.program_id, s.type, s.id))
        # written only when the event changed it, as DynamoDB writes a stored profile (its difference
        # from the one read): the sweep's rewrite notes it without a new version
        noted, before = s.customer_marks, write.before
        if current is not None and before is not None and write.expect_version > 0:
            noted = current.customer_marks if s.customer_marks == before.customer_marks else noted
        self._subjects[(s.program_id, s.type, s.id)] = evolve(
            s,
            customer_marks=noted,
            spilled=frozenset(),  # kept in items of their own (`SpillIdentifier`), as DynamoDB keeps them
            version=write.expect_version + 1,
            # a partner's first: the revenue of the purchases through it before it was stored
            revenue_micros=dict(current.revenue_micros)
            if current
            else self._early_revenue.pop((s.program_id, s.type, s.id), {}),
            reward_seq=(current.reward_seq if current else 0) + write.arrivals,
            identifier_seq=(current.identifier_seq if current else 0) + adds_identifiers(write.before, s),
        )
        self._list((s.program_id, s.type, s.id), write.listed)

    def _profile_fields_hold(self, write: UpdateProfile) -> bool:
        current = self._subjects.get((write.program_id, write.subject_type, write.subject_id))
        return current is not None and all(getattr(current, k) == v for k, v in write.expect.items())

    def _update_profile(self, write: UpdateProfile) -> None:
        current = self._subjects[(write.program_id, write.subject_type, write.subject_id)]
        for name, value in write.changes.items():
            setattr(current, name, value)
        if write.bump:
            current.version += 1

    def _partner_unchanged(self, write: PartnerArrival) -> bool:
        partner = self._subjects.get((write.program_id, "partner", write.partner_id))
        if write.expect_status is None:  # not stored, and its kept revenue as read (DynamoDB's map)
            kept = (write.program_id, "partner", write.partner_id) in self._early_revenue
            return partner is None and (kept == write.revenue_kept or not (write.currency and write.micros))
        return (
            partner is not None
            and partner.status == write.expect_status
            and partner.flag_case_id == write.expect_flag_case
            and write.expect_version in (None, partner.version)
        )

    def _partner_arrival(self, write: PartnerArrival) -> None:
        self._list((write.program_id, "partner", write.partner_id), write.listed)
        partner = self._subjects.get((write.program_id, "partner", write.partner_id))
        if partner is None and write.currency and write.micros:  # kept for the profile it will have
            kept = self._early_revenue.setdefault((write.program_id, "partner", write.partner_id), {})
            kept[write.currency] = kept.get(write.currency, 0) + write.micros
        if partner is not None:
            partner.reward_seq += 1 if write.reward else 0
            partner.version += 1 if write.expect_version is not None else 0  # a large commission's
            if write.currency and write.micros:
                partner.revenue_micros[write.currency] = (
                    partner.revenue_micros.get(write.currency, 0) + write.micros
                )

    def _mark_network(self, write: MarkNetwork) -> None:
        state = _marked(self._network.get(write.key, NO_NETWORK), write.add, write.remove)
        if write.first and state.first is None:  # the first giver's, kept once (`network_first`)
            state = replace(state, first=write.first, first_by=write.first_by)
        self._network[write.key] = state

    def _spill(self, write: SpillIdentifier) -> None:
        slot = (write.program_id, write.subject_type, write.subject_id)
        self._spilled.setdefault(slot, set()).add((write.field, write.value))

    def _count_up(self, write: CountUp) -> None:
        slot = (write.program_id, write.name)
        self._counters[slot] = self._counters.get(slot, 0) + 1

    def _transaction_free(self, write: ClaimTransaction) -> bool:
        event_id, _, waiting = self._transactions.get((write.program_id, write.transaction_id), _NO_CLAIM)
        return event_id in (None, write.event_id) and len(waiting) == write.waiting

    def _claim_transaction(self, write: ClaimTransaction) -> None:
        slot = (write.program_id, write.transaction_id)
        self._transactions[slot] = (write.event_id, write.customer_id, frozenset())  # the waiting tied

    def _transaction_unrecorded(self, write: AwaitTransaction) -> bool:
        event_id, _, waiting = self._transactions.get((write.program_id, write.transaction_id), _NO_CLAIM)
        return event_id is None and len(waiting) < write.most

    def _await_transaction(self, write: AwaitTransaction) -> None:
        slot = (write.program_id, write.transaction_id)
        event_id, customer_id, waiting = self._transactions.get(slot, _NO_CLAIM)
        self._transactions[slot] = (event_id, customer_id, waiting | {write.entry})

    def _reward_exists(self, write: TieReward) -> bool:
        return (write.program_id, write.reward_id) in self._rewards

    def _tie_reward(self, write: TieReward) -> None:
        reward = self._rewards[(write.program_id, write.reward_id)]
        if reward.customer_id != write.customer_id:
            reward.customer_id = write.customer_id
            slot = (write.program_id, "customer", write.customer_id)
            self._by_subject.setdefault(slot, []).append(write.reward_id)

    def _reward_free(self, write: PutReward) -> bool:
        return (write.reward.program_id, write.reward.reward_id) not in self._rewards

    def _put_reward(self, write: PutReward) -> None:
        r = write.reward
        self._rewards[(r.program_id, r.reward_id)] = evolve(r)
        self._by_subject.setdefault((r.program_id, "partner", r.partner_id), []).append(r.reward_id)
        if r.customer_id:
            self._by_subject.setdefault((r.program_id, "customer", r.customer_id), []).append(r.reward_id)

    def _reward_status_holds(self, write: MoveReward) -> bool:
        reward = self._rewards.get((write.program_id, write.reward_id))
        return (
            reward is not None
            and reward.status == write.expect
            and not (write.never_overridden and reward.overridden)
            and write.expect_case in (None, reward.case_id)
        )

    def _move_reward(self, write: MoveReward) -> None:
        reward = self._rewards[(write.program_id, write.reward_id)]
        reward.status = write.status
        if write.case_id is not None:
            reward.case_id = write.case_id
        if write.overridden is not None:
            reward.overridden = write.overridden
        if write.released:
            reward.released = True

    def _case_free(self, write: PutCase) -> bool:
        return (write.case.program_id, write.case.case_id) not in self._cases

    def _put_case(self, write: PutCase) -> None:
        self._cases[(write.case.program_id, write.case.case_id)] = _case_copy(write.case)

    def _case_status_holds(self, write: UpdateCase) -> bool:
        case = self._cases.get((write.program_id, write.case_id))
        return (
            case is not None
            and (not write.expect or case.status in write.expect)
            and (write.expect_flags is None or case.flags == write.expect_flags)
            and (write.expect_verdict is None or case.verdict == (write.expect_verdict or None))
            and (write.expect_held is None or case.held_count == write.expect_held)
        )

    def _locate_case(self, write: LocateCase) -> None:
        self._case_programs[write.case_id] = write.program_id

    def case_program(self, case_id: str) -> str | None:
        with self._lock:
            return self._case_programs.get(case_id)

    def _audit_entry(self, write: Audit) -> None:
        self._audit.setdefault((write.program_id, write.case_id), {})[write.entry_id] = write.entry

    def _notify(self, write: Notify) -> None:
        n = write.notification
        self._notifications[(n.program_id, n.notification_id)] = n

    def _record_event(self, write: RecordEvent) -> None:
        self._keep_event(write.event)

    def _keep_event(self, event: StoredEvent) -> None:
        """An event recorded, in the outbox until scoring takes it, its body as DynamoDB gives it back."""
        slot = (event.program_id, event.event_id)
        self._events[slot] = replace(event, body=as_kept(event.body))
        self._outbox.add(slot)

    def _list_rewards(self, write: ListRewards) -> None:
        self._list((write.program_id, write.subject_type, write.subject_id), write.change)

    def _mark_link(self, write: MarkLink) -> None:
        link = (write.program_id, *write.key)
        state = self._links.get(link, NO_LINK)
        counts = None
        if write.count_up or write.stale:
            counts = {slot: n for slot, n in state.counts.items() if slot not in write.stale}
            for slot in write.count_up:
                counts[slot] = counts.get(slot, 0) + 1
        self._links[link] = _marked(state, write.add, write.remove, counts)

    def _members_unchanged(self, write: MarkLink) -> bool:
        if write.expect_members is None:
            return True
        return len(self._links.get((write.program_id, *write.key), NO_LINK).members) == write.expect_members

    def _list(self, slot: tuple[str, str, str], change: ListChange | None) -> None:
        if change:
            self._holdables[slot] = holdables.applied(self._holdables.get(slot, NO_HOLDABLES), change)

    def _update_case(self, write: UpdateCase) -> None:
        case = self._cases[(write.program_id, write.case_id)]
        for name, value in write.changes.items():
            setattr(case, name, value)
        case.held_count += write.held
        case.flags += write.flags
        case.archived_count += write.archived
        _add_figures(case.hold_micros, write.hold_micros)
        _add_figures(case.archived_micros, write.archived_micros)
        case.reasons = merge_reasons(case.reasons, write.reasons)

    def _count_summary(self, write: CountSummary) -> None:
        kept = self._summaries.get(write.program_id, SummaryFigures())
        cases, held_micros = dict(kept.cases), dict(kept.held_micros)
        _add_figures(cases, write.cases)
        _add_figures(held_micros, write.held_micros)
        self._summaries[write.program_id] = evolve(
            kept,
            cases={k: n for k, n in cases.items() if n},  # as DynamoDB's reader leaves zeros out
            held=kept.held + write.held,
            held_micros={k: n for k, n in held_micros.items() if n},
        )
        for flagged in write.days:
            slot = (write.program_id, flagged.day)
            day = self._flag_days.get(slot, FlagDay(date.fromisoformat(flagged.day)))
            by_reason = dict(day.by_reason)
            _add_figures(by_reason, flagged.reasons)
            by_reason = {code: n for code, n in by_reason.items() if n}  # as DynamoDB's reader
            self._flag_days[slot] = evolve(day, count=day.count + flagged.flags, by_reason=by_reason)


def _add_figures(figures: dict[str, int], deltas: dict[str, int]) -> None:
    for currency, micros in deltas.items():
        if micros:
            figures[currency] = figures.get(currency, 0) + micros


def _marked(
    state: Any,
    add: dict[str, frozenset[str]],
    remove: dict[str, frozenset[str]],
    counts: dict[str, int] | None = None,
) -> Any:
    """The state with the marks added and removed (and a link's velocity slots replaced by
    `counts`); the same (frozen) state when none changes it: a set union copies the whole set, and
    a crowded link's members are many."""
    changes: dict[str, Any] = {} if counts is None else {"counts": counts}
    for name, values in add.items():
        if not values <= (current := getattr(state, name)):
            changes[name] = current | values
    for name, values in remove.items():
        if not (current := changes.get(name, getattr(state, name))).isdisjoint(values):
            changes[name] = current - values
    if not changes:
        return state
    # a link or network state: every field given to __init__ (nothing else runs there)
    names = _STATE_FIELDS[type(state)]
    return type(state)(*[changes[n] if n in changes else getattr(state, n) for n in names])


_NO_CLAIM: tuple[str | None, str | None, frozenset[str]] = (None, None, frozenset())
_STATE_FIELDS = {kind: tuple(kind.__dataclass_fields__) for kind in (LinkState, NetworkState)}


def _plain_copy(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars), as `copy.deepcopy` would make it without
    its memo and dispatch: a decision is copied on every scored event."""
    kind = type(value)
    if kind is dict:
        return {k: _plain_copy(v) for k, v in value.items()}
    if kind is list:
        return [_plain_copy(v) for v in value]
    return value if kind in _SCALARS else copy.deepcopy(value)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _subject_copy(subject: Subject | None) -> Subject | None:
    return evolve(subject, revenue_micros=dict(subject.revenue_micros)) if subject else None


def _case_copy(case: Case) -> Case:
    return evolve(
        case,
        reasons=[Reason(r.code, r.detail, r.count, r.first) for r in case.reasons],
        hold_micros=dict(case.hold_micros),
        archived_micros=dict(case.archived_micros),
    )


# The item each kind of write touches, as DynamoDB would name it (one write per item in a step).
_ITEM_OF: dict[type, Callable[[Any], tuple[str, ...]]] = {
    ScoreEvent: lambda w: ("event", w.program_id, w.event_id),
    WriteProfile: lambda w: ("subject", w.subject.program_id, w.subject.type, w.subject.id),
    UpdateProfile: lambda w: ("subject", w.program_id, w.subject_type, w.subject_id),
    PartnerArrival: lambda w: ("subject", w.program_id, "partner", w.partner_id),
    MarkLink: lambda w: ("link", w.program_id, *w.key),
    MarkNetwork: lambda w: ("network", *w.key),
    SpillIdentifier: lambda w: ("spill", w.program_id, w.subject_type, w.subject_id, w.field, w.value),
    CountUp: lambda w: ("counter", w.program_id, w.name),
    PutReward: lambda w: ("reward", w.reward.program_id, w.reward.reward_id),
    MoveReward: lambda w: ("reward", w.program_id, w.reward_id),
    PutCase: lambda w: ("case", w.case.program_id, w.case.case_id),
    UpdateCase: lambda w: ("case", w.program_id, w.case_id),
    Audit: lambda w: ("audit", w.program_id, w.case_id, w.entry_id),
    LocateCase: lambda w: ("case_locator", w.case_id),
    CountSummary: lambda w: ("summary", w.program_id),
    Notify: lambda w: ("notification", w.notification.program_id, w.notification.notification_id),
    RecordEvent: lambda w: ("event", w.event.program_id, w.event.event_id),
    ListRewards: lambda w: ("subject", w.program_id, w.subject_type, w.subject_id),
    ClaimTransaction: lambda w: ("transaction", w.program_id, w.transaction_id),
    AwaitTransaction: lambda w: ("transaction", w.program_id, w.transaction_id),
    TieReward: lambda w: ("reward", w.program_id, w.reward_id),
}
# Each kind's condition (kinds without one: marks, counters, audit entries, notifications, summary
# figures, lists, written whatever the item holds) and its application.
_CONDITIONS: dict[type, Callable[[PartnersMemory, Any], bool]] = {
    ScoreEvent: PartnersMemory._event_unscored,
    WriteProfile: PartnersMemory._profile_version_holds,
    UpdateProfile: PartnersMemory._profile_fields_hold,
    PartnerArrival: PartnersMemory._partner_unchanged,
    MarkLink: PartnersMemory._members_unchanged,
    PutReward: PartnersMemory._reward_free,
    ClaimTransaction: PartnersMemory._transaction_free,
    AwaitTransaction: PartnersMemory._transaction_unrecorded,
    TieReward: PartnersMemory._reward_exists,
    MoveReward: PartnersMemory._reward_status_holds,
    PutCase: PartnersMemory._case_free,
    UpdateCase: PartnersMemory._case_status_holds,
}
_APPLIERS: dict[type, Callable[[PartnersMemory, Any], None]] = {
    ScoreEvent: PartnersMemory._score_event,
    WriteProfile: PartnersMemory._write_profile,
    UpdateProfile: PartnersMemory._update_profile,
    PartnerArrival: PartnersMemory._partner_arrival,
    MarkLink: PartnersMemory._mark_link,
    MarkNetwork: PartnersMemory._mark_network,
    SpillIdentifier: PartnersMemory._spill,
    CountUp: PartnersMemory._count_up,
    PutReward: PartnersMemory._put_reward,
    ClaimTransaction: PartnersMemory._claim_transaction,
    AwaitTransaction: PartnersMemory._await_transaction,
    TieReward: PartnersMemory._tie_reward,
    MoveReward: PartnersMemory._move_reward,
    PutCase: PartnersMemory._put_case,
    UpdateCase: PartnersMemory._update_case,
    Audit: PartnersMemory._audit_entry,
    LocateCase: PartnersMemory._locate_case,
    Notify: PartnersMemory._notify,
    RecordEvent: PartnersMemory._record_event,
    CountSummary: PartnersMemory._count_summary,
    ListRewards: PartnersMemory._list_rewards,
}
assert _CONDITIONS.keys() <= _APPLIERS.keys() == _ITEM_OF.keys()
