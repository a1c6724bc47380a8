"""The partner-program part of the in-memory fake: the same contract as `PartnersDynamo`."""

from __future__ import annotations

import copy
import threading
from dataclasses import replace
from datetime import datetime

from functions.shared.errors import Conflict, NotFound
from functions.shared.money import amount_text, to_micros
from functions.shared.storage.port import StoredEvent
from functions.shared.storage.port_partners import (
    HOLDABLE,
    AuditEntry,
    Case,
    LinkKey,
    LinkState,
    NetworkState,
    Reward,
    ScoringOutcome,
    ScoringWrite,
    Snapshot,
    Subject,
)


class _RewardChanges:
    """Overrides and the sweep's reads, for `PartnersMemory`."""

    _lock: threading.RLock
    _rewards: dict[tuple[str, str], Reward]
    _cases: dict[tuple[str, str], Case]
    _audit: dict[tuple[str, str], list[AuditEntry]]
    _subjects: dict[tuple[str, str, str], Subject]
    _links: dict[tuple[str, str, str], LinkState]
    _network: dict[tuple[str, str], NetworkState]

    def override_reward(self, program_id: str, reward_id: str, actor: str, at: datetime) -> Reward:
        with self._lock:
            reward = self._rewards.get((program_id, reward_id))
            if reward is None:
                raise NotFound(f"reward {reward_id} not found")
            if reward.status != "on_hold":
                raise Conflict(
                    f"reward {reward_id} is {reward.status}; only a reward on hold can be overridden"
                )
            reward.status, reward.overridden = "approved", True
            case = self._cases.get((program_id, reward.case_id or ""))
            if case:
                case.held_count -= 1
                case.hold_micros[reward.currency] = case.hold_micros.get(reward.currency, 0) - to_micros(
                    reward.amount
                )
                self._audit.setdefault((program_id, case.case_id), []).append(
                    AuditEntry(
                        at,
                        "reward_overridden",
                        actor,
                        {
                            "reward_id": reward_id,
                            "amount": amount_text(to_micros(reward.amount)),
                            "currency": reward.currency,
                        },
                    )
                )
            return copy.deepcopy(reward)

    def flagged_shards(self) -> int:
        return 1

    # --- disputes and removals -------------------------------------------------------------
    def open_dispute(self, program_id: str, case_id: str, reason: str, actor: str, at: datetime) -> Case:
        with self._lock:
            case = self._case(program_id, case_id)
            if case.status != "open":
                raise Conflict(f"case {case_id} is {case.status}; only an open case can be disputed")
            case.status, case.disputed_at, case.dispute_reason = "disputed", at, reason
            self._log(program_id, case_id, at, "disputed", actor, {"reason": reason})
            return copy.deepcopy(case)

    def disputes(self) -> list[Case]:
        with self._lock:
            found = [copy.deepcopy(c) for c in self._cases.values() if c.status == "disputed"]
            return sorted(found, key=lambda c: (c.disputed_at or c.flagged_at, c.case_id))

    def record_verdict(self, case_id: str, verdict: str, note: str, actor: str, at: datetime) -> Case:
        with self._lock:
            case = next(
                (c for c in self._cases.values() if c.case_id == case_id and c.status == "disputed"), None
            )
            if case is None:
                raise NotFound(f"no disputed case {case_id}")
            case.verdict, case.verdict_note = verdict, note
            self._log(case.program_id, case_id, at, f"verdict_{verdict}", actor, {"note": note})
            return copy.deepcopy(case)

    def resolve_dispute(self, case: Case, at: datetime, network: list[LinkKey], token: str) -> list[Reward]:
        with self._lock:
            stored = self._case(case.program_id, case.case_id)
            if stored.status != "disputed" or stored.verdict not in ("approve", "decline"):
                raise Conflict(f"case {case.case_id} is not a disputed case with a verdict")
            approve = stored.verdict == "approve"
            moved = []
            for reward in self._rewards.values():
                if (reward.program_id, reward.case_id, reward.status) == (
                    case.program_id,
                    case.case_id,
                    "on_hold",
                ) and not reward.overridden:
                    reward.status = "pending" if approve else "declined"
                    moved.append(copy.deepcopy(reward))
            stored.held_count, stored.hold_micros = 0, {}
            stored.status, stored.resolved_at = ("approved" if approve else "declined"), at
            subject = self._subjects[(case.program_id, case.subject_type, case.subject_id)]
            if subject.active_case_id == case.case_id:
                subject.active_case_id = None
                if approve:
                    subject.status, subject.flag_case_id = "active", None
            if approve:
                for link_key, link in list(self._links.items()):
                    if link_key[0] == case.program_id and subject.key in link.flagged:
                        self._links[link_key] = replace(link, flagged=link.flagged - {subject.key})
                for key in network:
                    state = self._network.get(key, NetworkState())
                    self._network[key] = replace(state, flagged=state.flagged - {token})
            self._log(
                case.program_id,
                case.case_id,
                at,
                "dispute_approved" if approve else "dispute_declined",
                "dispute-cycle",
                {"rewards": len(moved), "note": stored.verdict_note},
            )
            return moved

    def remove_partner(
        self,
        program_id: str,
        case_id: str,
        block_reapply: bool,
        actor: str,
        at: datetime,
        network: list[LinkKey],
        token: str,
    ) -> Case:
        with self._lock:
            case = self._case(program_id, case_id)
            if case.subject_type != "partner":
                raise Conflict(f"case {case_id} is about a customer; only partners can be removed")
            if case.status not in ("open", "disputed"):
                raise Conflict(
                    f"case {case_id} is {case.status}; only an active case's partner can be removed"
                )
            subject = self._subjects[(program_id, "partner", case.subject_id)]
            archived = 0
            for reward in self._rewards.values():
                if (
                    reward.program_id == program_id
                    and reward.partner_id == subject.id
                    and reward.status in ("new", "pending", "approved", "on_hold")
                ):
                    holder = self._cases.get((program_id, reward.case_id or ""))
                    if reward.status == "on_hold" and holder and holder is not case:
                        # held by another case (a referred customer's): it leaves that case's holds
                        holder.held_count -= 1
                        holder.hold_micros[reward.currency] = holder.hold_micros.get(
                            reward.currency, 0
                        ) - to_micros(reward.amount)
                    reward.status = "archived"
                    archived += 1
                    case.archived_micros[reward.currency] = case.archived_micros.get(
                        reward.currency, 0
                    ) + to_micros(reward.amount)
            case.archived_count += archived
            case.held_count, case.hold_micros = 0, {}
            case.status, case.removed_at, case.removed_by = "removed", at, actor
            case.block_reapply, case.subject_team = block_reapply, subject.team
            subject.status, subject.active_case_id, subject.flag_case_id = "removed", None, None
            for link_key, link in list(self._links.items()):
                if link_key[0] == program_id and subject.key in link.members:
                    blocked = {subject.key} if block_reapply and link_key[1] in ("email", "device") else set()
                    self._links[link_key] = replace(
                        link, removed=link.removed | {subject.key}, blocked=link.blocked | blocked
                    )
            for key in network:
                state = self._network.get(key, NetworkState())
                self._network[key] = replace(state, removed=state.removed | {token})
            self._log(
                program_id,
                case_id,
                at,
                "partner_removed",
                actor,
                {"block_reapply": block_reapply, "archived_rewards": archived},
            )
            return copy.deepcopy(case)

    def _case(self, program_id: str, case_id: str) -> Case:
        if (program_id, case_id) not in self._cases:
            raise NotFound(f"case {case_id} not found")
        return self._cases[(program_id, case_id)]

    def _log(
        self, program_id: str, case_id: str, at: datetime, action: str, actor: str, detail: dict
    ) -> None:
        self._audit.setdefault((program_id, case_id), []).append(AuditEntry(at, action, actor, detail))

    def flagged_subjects(self, shard: int) -> list[Subject]:
        with self._lock:
            return [copy.deepcopy(s) for s in self._subjects.values() if s.status == "flagged"]


class PartnersMemory(_RewardChanges):
    """Partner-program storage in memory; the fake's `_lock` makes each method atomic."""

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
        self._audit: dict[tuple[str, str], list[AuditEntry]] = {}

    def scoring_snapshot(
        self,
        program_id: str,
        subject: tuple[str, str],
        partner_id: str | None,
        links: list[LinkKey],
        network: list[LinkKey],
        counters: list[str],
    ) -> Snapshot:
        with self._lock:
            found = self._subjects.get((program_id, *subject))
            partner = self._subjects.get((program_id, "partner", partner_id)) if partner_id else None
            return Snapshot(
                subject=copy.deepcopy(found),
                partner=copy.deepcopy(partner),
                links={k: self._links.get((program_id, *k), LinkState()) for k in links},
                network={k: self._network.get(k, NetworkState()) for k in network},
                counters={name: self._counters.get((program_id, name), 0) for name in counters},
            )

    def record_scoring(self, write: ScoringWrite, network_token: str) -> ScoringOutcome:
        with self._lock:
            program_id, s = write.program_id, write.subject
            event = self._events.get((program_id, write.event_id))
            if event is None:
                raise NotFound(f"event {write.event_id} not found")
            if event.status == "scored":
                return ScoringOutcome(None, False, [], already_scored=True)
            current = self._subjects.get((program_id, s.type, s.id))
            if (current.active_case_id if current else None) != write.expected_case_id:
                raise Conflict(f"state changed while scoring {write.event_id}; read again")
            if write.reward and (program_id, write.reward.reward_id) in self._rewards:
                raise Conflict(f"reward {write.reward.reward_id} already exists")
            case_id = write.expected_case_id
            opened = False
            to_hold: list[Reward] = []
            if write.flag:
                opened = write.expected_case_id is None
                case_id = write.flag.case_id if opened else write.expected_case_id
                since = write.flag.at if s.type == "partner" else None
                to_hold = [r for r in self._subject_rewards(program_id, s.type, s.id, since) if _holdable(r)]
                if (
                    write.reward
                    and _holdable(write.reward)
                    and (s.type == "customer" or write.reward.created_at >= write.flag.at)
                ):
                    write.reward.status, write.reward.case_id = "on_hold", case_id
            # the profile
            profile = replace(s)
            if current:
                profile.devices = current.devices | s.devices
                profile.ips = current.ips | s.ips
                profile.revenue_micros = dict(current.revenue_micros)
                profile.flagged_at, profile.active_case_id = current.flagged_at, current.active_case_id
                profile.flag_case_id = current.flag_case_id
            if write.flag:
                profile.status = "flagged"
                profile.active_case_id = profile.flag_case_id = case_id
                if opened:
                    profile.flagged_at = write.flag.at
            self._subjects[(program_id, s.type, s.id)] = profile
            for kind, value in write.links:
                link = self._links.get((program_id, kind, value), LinkState())
                self._links[(program_id, kind, value)] = replace(
                    link,
                    members=link.members | {s.key},
                    flagged=link.flagged | ({s.key} if write.flag else set()),
                )
            for key in write.network:
                state = self._network.get(key, NetworkState())
                self._network[key] = replace(
                    state,
                    programs=state.programs | {network_token},
                    flagged=state.flagged | ({network_token} if write.flag else set()),
                )
            for name, _expires in write.counters:
                self._counters[(program_id, name)] = self._counters.get((program_id, name), 0) + 1
            if write.reward:
                self._rewards[(program_id, write.reward.reward_id)] = copy.deepcopy(write.reward)
            if write.revenue:
                partner_id, currency, micros = write.revenue
                partner = self._subjects.get((program_id, "partner", partner_id))
                if partner:
                    partner.revenue_micros[currency] = partner.revenue_micros.get(currency, 0) + micros
            held: list[Reward] = []
            if write.flag:
                assert case_id is not None
                extra = [write.reward] if write.reward and write.reward.status == "on_hold" else []
                if opened:
                    self._cases[(program_id, case_id)] = Case(
                        program_id=program_id,
                        case_id=case_id,
                        subject_type=s.type,
                        subject_id=s.id,
                        subject_name=s.name or s.id,
                        reasons=list(write.flag.reasons),
                        status="open",
                        flagged_at=write.flag.at,
                        flag_event_id=write.flag.event_id,
                    )
                else:
                    case = self._cases[(program_id, case_id)]
                    if case.status not in ("open", "disputed"):
                        raise Conflict(f"case {case_id} is {case.status}")
                    case.reasons.extend(write.flag.reasons)
                for reward in to_hold:
                    self._hold(program_id, case_id, reward)
                for reward in extra:
                    self._add_hold_figures(program_id, case_id, reward)
                held = to_hold + extra
                self._audit.setdefault((program_id, case_id), []).append(
                    AuditEntry(
                        write.flag.at,
                        "flagged" if opened else "reasons_added",
                        "system",
                        {"reasons": write.flag.reasons, "event_id": write.event_id, "held": len(held)},
                    )
                )
            self._events[(program_id, write.event_id)] = replace(
                event, status="scored", decision=copy.deepcopy(write.decision), case_id=case_id
            )
            self._outbox.discard((program_id, write.event_id))
            return ScoringOutcome(
                case_id if write.flag else (current.active_case_id if current else None), opened, held
            )

    def _hold(self, program_id: str, case_id: str, reward: Reward) -> None:
        stored = self._rewards[(program_id, reward.reward_id)]
        stored.status, stored.case_id = "on_hold", case_id
        reward.status, reward.case_id = "on_hold", case_id
        self._add_hold_figures(program_id, case_id, reward)

    def _add_hold_figures(self, program_id: str, case_id: str, reward: Reward) -> None:
        case = self._cases[(program_id, case_id)]
        case.held_count += 1
        case.hold_micros[reward.currency] = case.hold_micros.get(reward.currency, 0) + to_micros(
            reward.amount
        )

    def mark_event_failed(self, program_id: str, event_id: str, reason: str) -> None:
        with self._lock:
            event = self._events.get((program_id, event_id))
            if event and event.status != "scored":
                self._events[(program_id, event_id)] = replace(event, status="failed", failure=reason[:1000])

    def get_subject(self, program_id: str, subject_type: str, subject_id: str) -> Subject:
        with self._lock:
            found = self._subjects.get((program_id, subject_type, subject_id))
            if found is None:
                raise NotFound(f"{subject_type} {subject_id} not found")
            return copy.deepcopy(found)

    def get_case(self, program_id: str, case_id: str) -> Case:
        with self._lock:
            if (program_id, case_id) not in self._cases:
                raise NotFound(f"case {case_id} not found")
            return copy.deepcopy(self._cases[(program_id, case_id)])

    def case_audit(self, program_id: str, case_id: str) -> list[AuditEntry]:
        with self._lock:
            return sorted(self._audit.get((program_id, case_id), []), key=lambda e: e.at)

    def list_cases(self, program_id: str, view: str) -> list[Case]:
        views = {
            "active": ("open", "disputed"),
            "resolved": ("approved", "declined"),
            "removed": ("removed",),
        }
        order = "removed_at" if view == "removed" else "flagged_at"  # as the index's sort key
        with self._lock:
            found = [
                copy.deepcopy(c)
                for (p, _), c in self._cases.items()
                if p == program_id and c.status in views.get(view, ())
            ]
            return sorted(found, key=lambda c: (getattr(c, order), c.case_id), reverse=True)

    def get_reward(self, program_id: str, reward_id: str) -> Reward:
        with self._lock:
            if (program_id, reward_id) not in self._rewards:
                raise NotFound(f"reward {reward_id} not found")
            return copy.deepcopy(self._rewards[(program_id, reward_id)])

    def subject_rewards(
        self, program_id: str, subject_type: str, subject_id: str, since: datetime | None = None
    ) -> list[Reward]:
        with self._lock:
            return [
                copy.deepcopy(r) for r in self._subject_rewards(program_id, subject_type, subject_id, since)
            ]

    def _subject_rewards(
        self, program_id: str, subject_type: str, subject_id: str, since: datetime | None
    ) -> list[Reward]:
        attribute = "partner_id" if subject_type == "partner" else "customer_id"
        found = [
            r
            for (p, _), r in self._rewards.items()
            if p == program_id
            and getattr(r, attribute) == subject_id
            and (since is None or r.created_at >= since)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.reward_id))

    def hold_rewards(
        self, program_id: str, case_id: str, rewards: list[Reward], actor: str, at: datetime
    ) -> list[Reward]:
        with self._lock:
            if (program_id, case_id) not in self._cases:
                raise Conflict(f"case {case_id} cannot take holds now")
            held = []
            for reward in rewards:
                stored = self._rewards.get((program_id, reward.reward_id))
                if stored and _holdable(stored):
                    self._hold(program_id, case_id, stored)
                    held.append(copy.deepcopy(stored))
            if held:
                self._audit.setdefault((program_id, case_id), []).append(
                    AuditEntry(at, "rewards_held", actor, {"rewards": [r.reward_id for r in held]})
                )
            return held


def _holdable(reward: Reward) -> bool:
    return reward.status in HOLDABLE and not reward.overridden
