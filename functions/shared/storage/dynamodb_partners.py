"""The partner-program part of the DynamoDB adapter: subjects, links, counters, rewards, cases."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.exceptions import PynamoDBException, TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.shared.errors import Conflict, NotFound
from functions.shared.money import amount_text, from_micros, to_micros
from functions.shared.storage import keys
from functions.shared.storage.dynamodb_base import DynamoBase, condition_failed, domain_error
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

MAX_TRANSACTION_ITEMS = 100
BATCH_GET_LIMIT = 100
CASE_VIEWS = {
    "open": "active",
    "disputed": "active",
    "approved": "resolved",
    "declined": "resolved",
    "removed": "removed",
}


def partner_items(base: type[Model]) -> dict[str, type[Model]]:
    """The partner-program item classes on the table's base model."""

    class SubjectItem(base, discriminator="subject"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        subject_type = UnicodeAttribute()
        subject_id = UnicodeAttribute()
        name = UnicodeAttribute(default="")
        email = UnicodeAttribute(null=True)
        email_normalized = UnicodeAttribute(null=True)
        devices = UnicodeSetAttribute(null=True)
        ips = UnicodeSetAttribute(null=True)
        payout = UnicodeAttribute(null=True)
        country = UnicodeAttribute(null=True)
        group = UnicodeAttribute(null=True)
        team = UnicodeAttribute(null=True)
        tags = ListAttribute(of=UnicodeAttribute, null=True)
        segments = ListAttribute(of=UnicodeAttribute, null=True)
        signup_at = UTCDateTimeAttribute(null=True)
        status = UnicodeAttribute(default="active")
        flagged_at = UTCDateTimeAttribute(null=True)
        active_case_id = UnicodeAttribute(null=True)
        flag_case_id = UnicodeAttribute(null=True)
        last_payout_change_at = UTCDateTimeAttribute(null=True)
        revenue = MapAttribute(null=True)

    class LinkItem(base, discriminator="link"):  # type: ignore[valid-type,misc,call-arg]
        members = UnicodeSetAttribute(null=True)
        flagged = UnicodeSetAttribute(null=True)
        removed = UnicodeSetAttribute(null=True)
        blocked = UnicodeSetAttribute(null=True)

    class NetworkLinkItem(base, discriminator="network_link"):  # type: ignore[valid-type,misc,call-arg]
        programs = UnicodeSetAttribute(null=True)
        flagged = UnicodeSetAttribute(null=True)
        removed = UnicodeSetAttribute(null=True)

    class CounterItem(base, discriminator="counter"):  # type: ignore[valid-type,misc,call-arg]
        count = NumberAttribute(default=0)

    class RewardItem(base, discriminator="reward"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        reward_id = UnicodeAttribute()
        partner_id = UnicodeAttribute()
        customer_id = UnicodeAttribute(null=True)
        transaction_id = UnicodeAttribute(null=True)
        amount_micros = NumberAttribute()
        currency = UnicodeAttribute()
        status = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()
        source = UnicodeAttribute()
        overridden = BooleanAttribute(default=False)
        case_id = UnicodeAttribute(null=True)

    class CaseItem(base, discriminator="case"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        case_id = UnicodeAttribute()
        subject_type = UnicodeAttribute()
        subject_id = UnicodeAttribute()
        subject_name = UnicodeAttribute()
        reasons = ListAttribute()
        status = UnicodeAttribute()
        flagged_at = UTCDateTimeAttribute()
        flag_event_id = UnicodeAttribute()
        hold_micros = MapAttribute(default=dict)
        held_count = NumberAttribute(default=0)
        disputed_at = UTCDateTimeAttribute(null=True)
        dispute_reason = UnicodeAttribute(null=True)
        resolved_at = UTCDateTimeAttribute(null=True)
        verdict = UnicodeAttribute(null=True)
        verdict_note = UnicodeAttribute(null=True)
        removed_at = UTCDateTimeAttribute(null=True)
        removed_by = UnicodeAttribute(null=True)
        block_reapply = BooleanAttribute(default=False)
        archived_count = NumberAttribute(default=0)
        archived_micros = MapAttribute(default=dict)
        subject_team = UnicodeAttribute(null=True)

    class AuditItem(base, discriminator="audit"):  # type: ignore[valid-type,misc,call-arg]
        at = UTCDateTimeAttribute()
        action = UnicodeAttribute()
        actor = UnicodeAttribute()
        detail = UnicodeAttribute(default="{}")

    return {
        "subject": SubjectItem,
        "link": LinkItem,
        "network_link": NetworkLinkItem,
        "counter": CounterItem,
        "reward": RewardItem,
        "case": CaseItem,
        "audit": AuditItem,
    }


def flagged_shard(program_id: str, subject_type: str, subject_id: str) -> int:
    digest = hashlib.sha256(f"{program_id}/{subject_type}/{subject_id}".encode()).hexdigest()
    return int(digest[:8], 16) % keys.FLAGGED_SHARDS


class PartnersDynamo(DynamoBase):
    """Partner-program storage on DynamoDB."""

    # --- scoring ---------------------------------------------------------------------------
    def scoring_snapshot(
        self,
        program_id: str,
        subject: tuple[str, str],
        partner_id: str | None,
        links: list[LinkKey],
        network: list[LinkKey],
        counters: list[str],
    ) -> Snapshot:
        m = self._m
        wanted: list[tuple[str, str]] = [(keys.subject_pk(program_id, *subject), keys.PROFILE_SK)]
        if partner_id:
            wanted.append((keys.subject_pk(program_id, "partner", partner_id), keys.PROFILE_SK))
        wanted += [(keys.link_pk(program_id, kind, value), keys.LINK_SK) for kind, value in links]
        wanted += [(keys.network_pk(kind, value), keys.LINK_SK) for kind, value in network]
        wanted += [(keys.counter_pk(program_id, name), keys.COUNTER_SK) for name in counters]
        found: dict[str, Any] = {}
        unique = list(dict.fromkeys(wanted))
        try:
            for start in range(0, len(unique), BATCH_GET_LIMIT):
                for item in m.base.batch_get(unique[start : start + BATCH_GET_LIMIT], consistent_read=True):
                    found[item.pk] = item
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the scoring snapshot failed") from exc
        subject_item = found.get(keys.subject_pk(program_id, *subject))
        partner_item = found.get(keys.subject_pk(program_id, "partner", partner_id)) if partner_id else None
        return Snapshot(
            subject=_subject(subject_item) if subject_item else None,
            partner=_subject(partner_item) if partner_item else None,
            links={
                (kind, value): _link(found.get(keys.link_pk(program_id, kind, value)))
                for kind, value in links
            },
            network={
                (kind, value): _network(found.get(keys.network_pk(kind, value))) for kind, value in network
            },
            counters={
                name: int(getattr(found.get(keys.counter_pk(program_id, name)), "count", 0) or 0)
                for name in counters
            },
        )

    def record_scoring(self, write: ScoringWrite, network_token: str) -> ScoringOutcome:
        m = self._m
        subject = write.subject
        program_id = write.program_id
        case_id = write.expected_case_id
        opened = False
        held: list[Reward] = []
        to_hold: list[Reward] = []
        if write.flag:
            opened = write.expected_case_id is None
            case_id = write.flag.case_id if opened else write.expected_case_id
            since = write.flag.at if subject.type == "partner" else None
            to_hold = [
                r
                for r in self.subject_rewards(program_id, subject.type, subject.id, since)
                if r.status in HOLDABLE and not r.overridden
            ]
            if (
                write.reward
                and write.reward.status in HOLDABLE
                and _held_by_flag(write.reward, subject, write.flag.at)
            ):
                write.reward.status = "on_hold"
                write.reward.case_id = case_id
        budget = MAX_TRANSACTION_ITEMS - (6 + len(write.links) + len(write.network) + len(write.counters))
        first_holds, later_holds = to_hold[: max(budget, 0)], to_hold[max(budget, 0) :]
        try:
            with TransactWrite(connection=m.connection()) as tx:
                self._write_event(tx, write, case_id)
                self._write_subject(tx, write, case_id)
                flagged_member = subject.key if write.flag else None
                for kind, value in write.links:
                    actions = [_typed(m.link), m.link.members.add({subject.key})]
                    if flagged_member:
                        actions.append(m.link.flagged.add({flagged_member}))
                    tx.update(m.link(keys.link_pk(program_id, kind, value), keys.LINK_SK), actions=actions)
                for kind, value in write.network:
                    actions = [_typed(m.network_link), m.network_link.programs.add({network_token})]
                    if write.flag:
                        actions.append(m.network_link.flagged.add({network_token}))
                    tx.update(m.network_link(keys.network_pk(kind, value), keys.LINK_SK), actions=actions)
                for name, expires in write.counters:
                    tx.update(
                        m.counter(keys.counter_pk(program_id, name), keys.COUNTER_SK),
                        actions=[_typed(m.counter), m.counter.count.add(1), m.base.expires_at.set(expires)],
                    )
                if write.reward:
                    tx.save(self._reward_item(write.reward), condition=m.base.pk.does_not_exist())
                if write.revenue and write.revenue[0] != (subject.id if subject.type == "partner" else None):
                    partner_id, currency, micros = write.revenue
                    path = m.subject.revenue[currency]
                    tx.update(
                        m.subject(keys.subject_pk(program_id, "partner", partner_id), keys.PROFILE_SK),
                        actions=[path.set((path | 0) + micros)],
                        condition=m.subject.revenue.exists(),
                    )
                if write.flag:
                    extra = [write.reward] if write.reward and write.reward.status == "on_hold" else []
                    self._write_case(tx, write, case_id, opened, first_holds + extra, len(extra))
                    for reward in first_holds:
                        self._hold_update(tx, reward, case_id)
        except TransactWriteError as exc:
            return self._explain_cancellation(exc, write)
        except PynamoDBException as exc:
            raise domain_error(exc, f"recording the scoring of {write.event_id} failed") from exc
        held = first_holds + ([write.reward] if write.reward and write.reward.status == "on_hold" else [])
        for reward in held:
            reward.status, reward.case_id = "on_hold", case_id
        if later_holds and case_id:
            held += self.hold_rewards(
                program_id,
                case_id,
                later_holds,
                "system",
                write.flag.at if write.flag else subject.flagged_at,
            )  # type: ignore[arg-type]
        return ScoringOutcome(case_id if write.flag else subject.active_case_id, opened, held)

    def _explain_cancellation(self, exc: TransactWriteError, write: ScoringWrite) -> ScoringOutcome:
        reasons = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":  # the event: already scored
            return ScoringOutcome(None, False, [], already_scored=True)
        if not reasons or "ConditionalCheckFailed" not in reasons and "TransactionConflict" not in reasons:
            raise domain_error(exc, f"recording the scoring of {write.event_id} failed") from exc
        raise Conflict(f"state changed while scoring {write.event_id}; read again") from exc

    def _write_event(self, tx: TransactWrite, write: ScoringWrite, case_id: str | None) -> None:
        m = self._m
        tx.update(
            m.event(keys.event_pk(write.program_id, write.event_id), keys.EVENT_SK),
            actions=[
                m.event.status.set("scored"),
                m.event.decision.set(json.dumps(write.decision)),
                m.event.case_id.set(case_id),
                m.base.outbox_pk.remove(),
                m.base.outbox_sk.remove(),
            ],
            condition=(m.event.status != "scored"),
        )

    def _write_subject(self, tx: TransactWrite, write: ScoringWrite, case_id: str | None) -> None:
        m = self._m
        s = write.subject
        item = m.subject(keys.subject_pk(write.program_id, s.type, s.id), keys.PROFILE_SK)
        actions = [
            _typed(m.subject),
            m.subject.program_id.set(write.program_id),
            m.subject.subject_type.set(s.type),
            m.subject.subject_id.set(s.id),
            m.subject.name.set(s.name),
            m.subject.email.set(s.email),
            m.subject.email_normalized.set(s.email_normalized),
            m.subject.payout.set(s.payout),
            m.subject.country.set(s.country),
            m.subject.group.set(s.group),
            m.subject.team.set(s.team),
            m.subject.tags.set(list(s.tags) or None),
            m.subject.segments.set(list(s.segments) or None),
            m.subject.signup_at.set(s.signup_at),
            m.subject.last_payout_change_at.set(s.last_payout_change_at),
            m.subject.revenue.set(m.subject.revenue | {}),
        ]
        if s.devices:
            actions.append(m.subject.devices.add(set(s.devices)))
        if s.ips:
            actions.append(m.subject.ips.add(set(s.ips)))
        if not write.flag:
            actions.append(m.subject.status.set(s.status))
        else:
            actions += [
                m.subject.status.set("flagged"),
                m.subject.active_case_id.set(case_id),
                m.subject.flag_case_id.set(case_id),
                m.base.flagged_pk.set(keys.flagged_pk(flagged_shard(write.program_id, s.type, s.id))),
                m.base.flagged_sk.set(keys.flagged_sk(write.program_id, s.type, s.id)),
            ]
            if write.expected_case_id is None:
                actions.append(m.subject.flagged_at.set(write.flag.at))
        condition = (
            m.subject.active_case_id.does_not_exist()
            if write.expected_case_id is None
            else m.subject.active_case_id == write.expected_case_id
        )
        tx.update(item, actions=[a for a in actions if a is not None], condition=condition)

    def _write_case(
        self, tx: TransactWrite, write: ScoringWrite, case_id: str, opened: bool, holds: list[Reward], _: int
    ) -> None:
        m = self._m
        flag = write.flag
        assert flag is not None
        pk = keys.case_pk(write.program_id, case_id)
        if opened:
            case = m.case(
                pk,
                keys.CASE_SK,
                program_id=write.program_id,
                case_id=case_id,
                subject_type=write.subject.type,
                subject_id=write.subject.id,
                subject_name=write.subject.name or write.subject.id,
                reasons=flag.reasons,
                status="open",
                flagged_at=flag.at,
                flag_event_id=flag.event_id,
                hold_micros=_totals(holds),
                held_count=len(holds),
                case_view_pk=keys.case_view_pk(write.program_id, "active"),
                case_view_sk=keys.created_sk(flag.at, case_id),
            )
            tx.save(case, condition=m.base.pk.does_not_exist())
        else:
            actions = [m.case.reasons.set(m.case.reasons.append(flag.reasons))]
            if holds:
                actions += self._hold_figures(holds, +1)
            tx.update(
                m.case(pk, keys.CASE_SK), actions=actions, condition=m.case.status.is_in("open", "disputed")
            )
        detail = {"reasons": flag.reasons, "event_id": write.event_id, "held": len(holds)}
        self._audit(tx, pk, flag.at, "flagged" if opened else "reasons_added", "system", detail)

    def _hold_figures(self, rewards: list[Reward], sign: int) -> list[Any]:
        """Update actions adding (+1) or taking away (-1) rewards from a case's hold figures."""
        m = self._m
        actions = [m.case.held_count.add(sign * len(rewards))]
        for currency, micros in _totals(rewards).items():
            path = m.case.hold_micros[currency]
            actions.append(path.set((path | 0) + sign * micros))
        return actions

    def _hold_update(self, tx: TransactWrite, reward: Reward, case_id: str) -> None:
        m = self._m
        tx.update(
            m.reward(keys.reward_pk(reward.program_id, reward.reward_id), keys.REWARD_SK),
            actions=[m.reward.status.set("on_hold"), m.reward.case_id.set(case_id)],
            condition=m.reward.status.is_in(*HOLDABLE) & (m.reward.overridden == False),  # noqa: E712
        )

    def _reward_item(self, reward: Reward) -> Model:
        m = self._m
        item = m.reward(
            keys.reward_pk(reward.program_id, reward.reward_id),
            keys.REWARD_SK,
            program_id=reward.program_id,
            reward_id=reward.reward_id,
            partner_id=reward.partner_id,
            customer_id=reward.customer_id,
            transaction_id=reward.transaction_id,
            amount_micros=to_micros(reward.amount),
            currency=reward.currency,
            status=reward.status,
            created_at=reward.created_at,
            source=reward.source,
            overridden=reward.overridden,
            case_id=reward.case_id,
            partner_rewards_pk=keys.subject_pk(reward.program_id, "partner", reward.partner_id),
            created_sk=keys.created_sk(reward.created_at, reward.reward_id),
        )
        if reward.customer_id:
            item.customer_rewards_pk = keys.subject_pk(reward.program_id, "customer", reward.customer_id)
        return item

    def mark_event_failed(self, program_id: str, event_id: str, reason: str) -> None:
        m = self._m
        try:
            m.event(keys.event_pk(program_id, event_id), keys.EVENT_SK).update(
                actions=[m.event.status.set("failed"), m.event.failure.set(reason[:1000])],
                condition=m.base.pk.exists() & (m.event.status != "scored"),
            )
        except PynamoDBException as exc:
            if not condition_failed(exc):
                raise domain_error(exc, f"marking {event_id} failed") from exc

    # --- reads ------------------------------------------------------------------------------
    def get_subject(self, program_id: str, subject_type: str, subject_id: str) -> Subject:
        item = self._get(
            self._m.subject, keys.subject_pk(program_id, subject_type, subject_id), keys.PROFILE_SK
        )
        if item is None:
            raise NotFound(f"{subject_type} {subject_id} not found")
        return _subject(item)

    def get_case(self, program_id: str, case_id: str) -> Case:
        item = self._get(self._m.case, keys.case_pk(program_id, case_id), keys.CASE_SK)
        if item is None:
            raise NotFound(f"case {case_id} not found")
        return _case(item)

    def case_audit(self, program_id: str, case_id: str) -> list[AuditEntry]:
        m = self._m
        try:
            items = m.audit.query(keys.case_pk(program_id, case_id), m.base.sk.startswith("AUDIT#"))
            return [AuditEntry(i.at, i.action, i.actor, json.loads(i.detail)) for i in items]
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading the audit trail of {case_id} failed") from exc

    def list_cases(self, program_id: str, view: str) -> list[Case]:
        try:
            items = self._m.indexes["cases_by_view"].query(
                keys.case_view_pk(program_id, view), scan_index_forward=False
            )
            return [_case(i) for i in items]
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing {view} cases failed") from exc

    def get_reward(self, program_id: str, reward_id: str) -> Reward:
        item = self._get(self._m.reward, keys.reward_pk(program_id, reward_id), keys.REWARD_SK)
        if item is None:
            raise NotFound(f"reward {reward_id} not found")
        return _reward(item)

    def subject_rewards(
        self, program_id: str, subject_type: str, subject_id: str, since: datetime | None = None
    ) -> list[Reward]:
        m = self._m
        index = m.indexes["partner_rewards" if subject_type == "partner" else "customer_rewards"]
        condition = m.base.created_sk >= keys.timestamp(since) if since else None
        try:
            items = index.query(keys.subject_pk(program_id, subject_type, subject_id), condition)
            return [_reward(i) for i in items]
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing the rewards of {subject_type} {subject_id} failed") from exc

    # --- reward changes by people and schedules ---------------------------------------------
    def override_reward(self, program_id: str, reward_id: str, actor: str, at: datetime) -> Reward:
        m = self._m
        reward = self.get_reward(program_id, reward_id)
        if reward.status != "on_hold":
            raise Conflict(f"reward {reward_id} is {reward.status}; only a reward on hold can be overridden")
        try:
            with TransactWrite(connection=m.connection()) as tx:
                tx.update(
                    m.reward(keys.reward_pk(program_id, reward_id), keys.REWARD_SK),
                    actions=[m.reward.status.set("approved"), m.reward.overridden.set(True)],
                    condition=m.reward.status == "on_hold",
                )
                if reward.case_id:
                    pk = keys.case_pk(program_id, reward.case_id)
                    tx.update(m.case(pk, keys.CASE_SK), actions=self._hold_figures([reward], -1))
                    detail = {
                        "reward_id": reward_id,
                        "amount": amount_text(to_micros(reward.amount)),
                        "currency": reward.currency,
                    }
                    self._audit(tx, pk, at, "reward_overridden", actor, detail)
        except TransactWriteError as exc:
            raise Conflict(f"reward {reward_id} changed meanwhile; it is no longer on hold") from exc
        except PynamoDBException as exc:
            raise domain_error(exc, f"overriding reward {reward_id} failed") from exc
        reward.status, reward.overridden = "approved", True
        return reward

    def flagged_shards(self) -> int:
        return keys.FLAGGED_SHARDS

    def flagged_subjects(self, shard: int) -> list[Subject]:
        try:
            return [_subject(i) for i in self._m.indexes["flagged"].query(keys.flagged_pk(shard))]
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing flagged subjects of shard {shard} failed") from exc

    # --- disputes and removals -------------------------------------------------------------
    def open_dispute(self, program_id: str, case_id: str, reason: str, actor: str, at: datetime) -> Case:
        m = self._m
        case = self.get_case(program_id, case_id)
        if case.status != "open":
            raise Conflict(f"case {case_id} is {case.status}; only an open case can be disputed")
        pk = keys.case_pk(program_id, case_id)
        try:
            with TransactWrite(connection=m.connection()) as tx:
                tx.update(
                    m.case(pk, keys.CASE_SK),
                    actions=[
                        m.case.status.set("disputed"),
                        m.case.disputed_at.set(at),
                        m.case.dispute_reason.set(reason),
                        m.base.dispute_pk.set(keys.DISPUTES_OPEN),
                        m.base.dispute_sk.set(keys.dispute_sk(at, program_id, case_id)),
                    ],
                    condition=m.case.status == "open",
                )
                self._audit(tx, pk, at, "disputed", actor, {"reason": reason})
        except TransactWriteError as exc:
            raise Conflict(f"case {case_id} changed meanwhile; it is no longer open") from exc
        except PynamoDBException as exc:
            raise domain_error(exc, f"disputing case {case_id} failed") from exc
        return self.get_case(program_id, case_id)

    def disputes(self) -> list[Case]:
        index = self._m.indexes["disputes"]
        try:
            found = [_case(i) for pk in (keys.DISPUTES_OPEN, keys.DISPUTES_VERDICT) for i in index.query(pk)]
        except PynamoDBException as exc:
            raise domain_error(exc, "listing disputes failed") from exc
        return sorted(found, key=lambda c: (c.disputed_at or c.flagged_at, c.case_id))

    def record_verdict(self, case_id: str, verdict: str, note: str, actor: str, at: datetime) -> Case:
        m = self._m
        case = next((c for c in self.disputes() if c.case_id == case_id), None)
        if case is None:
            raise NotFound(f"no disputed case {case_id}")
        pk = keys.case_pk(case.program_id, case_id)
        try:
            with TransactWrite(connection=m.connection()) as tx:
                tx.update(
                    m.case(pk, keys.CASE_SK),
                    actions=[
                        m.case.verdict.set(verdict),
                        m.case.verdict_note.set(note),
                        m.base.dispute_pk.set(keys.DISPUTES_VERDICT),
                    ],
                    condition=m.case.status == "disputed",
                )
                self._audit(tx, pk, at, f"verdict_{verdict}", actor, {"note": note})
        except TransactWriteError as exc:
            raise NotFound(f"no disputed case {case_id}") from exc
        except PynamoDBException as exc:
            raise domain_error(exc, f"recording the verdict on {case_id} failed") from exc
        return self.get_case(case.program_id, case_id)

    def resolve_dispute(self, case: Case, at: datetime, network: list[LinkKey], token: str) -> list[Reward]:
        m = self._m
        if case.status != "disputed" or case.verdict not in ("approve", "decline"):
            raise Conflict(f"case {case.case_id} is not a disputed case with a verdict")
        approve = case.verdict == "approve"
        held = [
            r
            for r in self.subject_rewards(case.program_id, case.subject_type, case.subject_id)
            if r.status == "on_hold" and r.case_id == case.case_id and not r.overridden
        ]
        target = "pending" if approve else "declined"
        self._move_rewards(case, held, ("on_hold",), target, release=True)
        # what the verdict moved: by this call, or by one that stopped half way or ran alongside
        moved = [
            r
            for r in self.subject_rewards(case.program_id, case.subject_type, case.subject_id)
            if r.status == target and r.case_id == case.case_id and not r.overridden
        ]
        subject = self.get_subject(case.program_id, case.subject_type, case.subject_id)
        pk = keys.case_pk(case.program_id, case.case_id)
        try:
            with TransactWrite(connection=m.connection()) as tx:
                tx.update(
                    m.case(pk, keys.CASE_SK),
                    actions=[
                        m.case.status.set("approved" if approve else "declined"),
                        m.case.resolved_at.set(at),
                        m.base.case_view_pk.set(keys.case_view_pk(case.program_id, "resolved")),
                        m.base.dispute_pk.remove(),
                        m.base.dispute_sk.remove(),
                    ],
                    condition=m.case.status == "disputed",
                )
                if subject.active_case_id == case.case_id:
                    actions = [m.subject.active_case_id.remove()]
                    if approve:
                        actions += [
                            m.subject.status.set("active"),
                            m.subject.flag_case_id.remove(),
                            m.base.flagged_pk.remove(),
                            m.base.flagged_sk.remove(),
                        ]
                    tx.update(
                        m.subject(
                            keys.subject_pk(case.program_id, subject.type, subject.id), keys.PROFILE_SK
                        ),
                        actions=actions,
                        condition=m.subject.active_case_id == case.case_id,
                    )
                if approve:
                    for kind, value in _identifiers(subject):
                        tx.update(
                            m.link(keys.link_pk(case.program_id, kind, value), keys.LINK_SK),
                            actions=[m.link.flagged.delete({subject.key})],
                        )
                    for kind, value in network:
                        tx.update(
                            m.network_link(keys.network_pk(kind, value), keys.LINK_SK),
                            actions=[m.network_link.flagged.delete({token})],
                        )
                self._audit(
                    tx,
                    pk,
                    at,
                    "dispute_approved" if approve else "dispute_declined",
                    "dispute-cycle",
                    {"rewards": len(moved), "note": case.verdict_note},
                )
        except TransactWriteError as exc:
            raise Conflict(f"case {case.case_id} changed meanwhile; it is no longer disputed") from exc
        except PynamoDBException as exc:
            raise domain_error(exc, f"resolving case {case.case_id} failed") from exc
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
        m = self._m
        case = self.get_case(program_id, case_id)
        if case.subject_type != "partner":
            raise Conflict(f"case {case_id} is about a customer; only partners can be removed")
        if case.status not in ("open", "disputed"):
            raise Conflict(f"case {case_id} is {case.status}; only an active case's partner can be removed")
        rewards = self.subject_rewards(program_id, "partner", case.subject_id)
        archivable = [r for r in rewards if r.status in ARCHIVABLE]
        archived = self._move_rewards(
            case, archivable, ARCHIVABLE, "archived", release=True, while_case_is=("open", "disputed")
        )
        subject = self.get_subject(program_id, "partner", case.subject_id)
        totals = _totals(archived)
        pk = keys.case_pk(program_id, case_id)
        marks = {subject.key}
        try:
            with TransactWrite(connection=m.connection()) as tx:
                actions = [
                    m.case.status.set("removed"),
                    m.case.removed_at.set(at),
                    m.case.removed_by.set(actor),
                    m.case.block_reapply.set(block_reapply),
                    m.case.subject_team.set(subject.team),
                    m.case.archived_count.add(len(archived)),
                    m.base.case_view_pk.set(keys.case_view_pk(program_id, "removed")),
                    m.base.case_view_sk.set(keys.created_sk(at, case_id)),
                    m.base.dispute_pk.remove(),
                    m.base.dispute_sk.remove(),
                ]
                for currency, micros in totals.items():
                    path = m.case.archived_micros[currency]
                    actions.append(path.set((path | 0) + micros))
                tx.update(
                    m.case(pk, keys.CASE_SK),
                    actions=actions,
                    condition=m.case.status.is_in("open", "disputed"),
                )
                tx.update(
                    m.subject(keys.subject_pk(program_id, "partner", subject.id), keys.PROFILE_SK),
                    actions=[
                        m.subject.status.set("removed"),
                        m.subject.active_case_id.remove(),
                        m.subject.flag_case_id.remove(),
                        m.base.flagged_pk.remove(),
                        m.base.flagged_sk.remove(),
                    ],
                )
                for kind, value in _identifiers(subject):
                    link_actions = [_typed(m.link), m.link.removed.add(marks)]
                    if block_reapply and kind in ("email", "device"):
                        link_actions.append(m.link.blocked.add(marks))
                    tx.update(
                        m.link(keys.link_pk(program_id, kind, value), keys.LINK_SK), actions=link_actions
                    )
                for kind, value in network:
                    tx.update(
                        m.network_link(keys.network_pk(kind, value), keys.LINK_SK),
                        actions=[_typed(m.network_link), m.network_link.removed.add({token})],
                    )
                self._audit(
                    tx,
                    pk,
                    at,
                    "partner_removed",
                    actor,
                    {"block_reapply": block_reapply, "archived_rewards": len(archived)},
                )
        except TransactWriteError as exc:
            raise Conflict(f"case {case_id} changed meanwhile; it is no longer active") from exc
        except PynamoDBException as exc:
            raise domain_error(exc, f"removing the partner of case {case_id} failed") from exc
        return self.get_case(program_id, case_id)

    def _move_rewards(
        self,
        case: Case,
        rewards: list[Reward],
        from_statuses: tuple[str, ...],
        to_status: str,
        release: bool,
        while_case_is: tuple[str, ...] = (),
    ) -> list[Reward]:
        """Moves rewards in chunks, each reward conditional on its status; held rewards leave the
        hold figures of the case that held them (this one or another: a removal archives rewards
        a customer's case holds). A reward that changed meanwhile is skipped. With `while_case_is`,
        every chunk is also conditional on the case's status: a case changed meanwhile (a dispute
        cycle resolving it under a removal) raises Conflict, and nothing more moves."""
        m = self._m
        moved: list[Reward] = []
        size = MAX_TRANSACTION_ITEMS // 2  # room for one case update per reward at most
        for start in range(0, len(rewards), size):
            chunk = rewards[start : start + size]
            while chunk:
                released: dict[str, list[Reward]] = {}
                for reward in chunk:
                    if release and reward.status == "on_hold" and reward.case_id:
                        released.setdefault(reward.case_id, []).append(reward)
                try:
                    with TransactWrite(connection=m.connection()) as tx:
                        for reward in chunk:
                            tx.update(
                                m.reward(keys.reward_pk(reward.program_id, reward.reward_id), keys.REWARD_SK),
                                actions=[m.reward.status.set(to_status)],
                                condition=(m.reward.status == reward.status)
                                & m.reward.status.is_in(*from_statuses),
                            )
                        guard = m.case.status.is_in(*while_case_is) if while_case_is else None
                        for holder, held in released.items():
                            holder_pk = keys.case_pk(case.program_id, holder)
                            tx.update(
                                m.case(holder_pk, keys.CASE_SK),
                                actions=self._hold_figures(held, -1),
                                condition=guard if holder == case.case_id else None,
                            )
                        if guard is not None and case.case_id not in released:
                            tx.condition_check(
                                m.case,
                                keys.case_pk(case.program_id, case.case_id),
                                keys.CASE_SK,
                                condition=guard,
                            )
                    moved += chunk
                    break
                except TransactWriteError as exc:
                    codes = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
                    if "ConditionalCheckFailed" not in codes:
                        raise domain_error(exc, f"moving the rewards of case {case.case_id} failed") from exc
                    current = self.get_case(case.program_id, case.case_id)
                    if while_case_is and current.status not in while_case_is:
                        raise Conflict(f"case {case.case_id} is {current.status} now; stopped") from exc
                    fresh = [self.get_reward(case.program_id, r.reward_id) for r in chunk]
                    chunk = [r for r in fresh if r.status in from_statuses]
        for reward in moved:
            reward.status = to_status
        return moved

    def _audit(
        self, tx: TransactWrite, pk: str, at: datetime, action: str, actor: str, detail: dict[str, Any]
    ) -> None:
        m = self._m
        tx.save(
            m.audit(
                pk,
                keys.audit_sk(at, uuid.uuid4().hex[:8]),
                at=at,
                action=action,
                actor=actor,
                detail=json.dumps(detail, default=str),
            )
        )

    # --- holds ------------------------------------------------------------------------------
    def hold_rewards(
        self, program_id: str, case_id: str, rewards: list[Reward], actor: str, at: datetime
    ) -> list[Reward]:
        held: list[Reward] = []
        pending = [r for r in rewards if _holdable(r)]
        chunk_size = MAX_TRANSACTION_ITEMS - 2  # the case and the audit entry
        while pending:
            chunk, pending = pending[:chunk_size], pending[chunk_size:]
            try:
                self._hold_chunk(program_id, case_id, chunk, actor, at)
            except TransactWriteError as exc:
                codes = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
                if "ConditionalCheckFailed" not in codes:
                    raise domain_error(exc, f"holding rewards for case {case_id} failed") from exc
                # some rewards changed meanwhile (held, overridden): retry the rest from fresh reads
                retry = [fresh for r in chunk if _holdable(fresh := self.get_reward(program_id, r.reward_id))]
                if len(retry) == len(chunk):
                    raise Conflict(f"case {case_id} cannot take holds now") from exc
                pending = retry + pending
                continue
            held += chunk
        for reward in held:
            reward.status, reward.case_id = "on_hold", case_id
        return held

    def _hold_chunk(
        self, program_id: str, case_id: str, chunk: list[Reward], actor: str, at: datetime
    ) -> None:
        m = self._m
        pk = keys.case_pk(program_id, case_id)
        with TransactWrite(connection=m.connection()) as tx:
            for reward in chunk:
                self._hold_update(tx, reward, case_id)
            tx.update(
                m.case(pk, keys.CASE_SK), actions=self._hold_figures(chunk, +1), condition=m.base.pk.exists()
            )
            self._audit(tx, pk, at, "rewards_held", actor, {"rewards": [r.reward_id for r in chunk]})


ARCHIVABLE = ("new", "pending", "approved", "on_hold")


def _totals(rewards: list[Reward]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for reward in rewards:
        totals[reward.currency] = totals.get(reward.currency, 0) + to_micros(reward.amount)
    return totals


def _identifiers(subject: Subject) -> list[LinkKey]:
    """The link items that name a subject: its e-mail (with the near-duplicate keys scoring links
    it under), devices, IPs and payout details."""
    from functions.score.identity import email_keys  # pure: the key forms scoring links under

    found: list[LinkKey] = []
    if subject.email_normalized:
        found.append(("email", subject.email_normalized))
    if subject.email:
        near = email_keys(subject.email)
        found += [("email_skeleton", near.skeleton), ("email_local", near.local)]
    found += [("device", d) for d in sorted(subject.devices)]
    found += [("ip", ip) for ip in sorted(subject.ips)][:20]
    if subject.payout:
        found.append(("payout", subject.payout))
    return found


def _typed(model: type[Model]) -> Any:
    """An update that may create its item must write the item's type, as a save would."""
    return model.item_type.set(model)


def _holdable(reward: Reward) -> bool:
    return reward.status in HOLDABLE and not reward.overridden


def _held_by_flag(reward: Reward, subject: Subject, flagged_at: datetime) -> bool:
    return subject.type == "customer" or reward.created_at >= flagged_at


def _set(value: Any) -> frozenset[str]:
    return frozenset(value or ())


def _subject(item: Any) -> Subject:
    return Subject(
        program_id=item.program_id,
        type=item.subject_type,
        id=item.subject_id,
        name=item.name or "",
        email=item.email,
        email_normalized=item.email_normalized,
        devices=_set(item.devices),
        ips=_set(item.ips),
        payout=item.payout,
        country=item.country,
        group=item.group,
        team=item.team,
        tags=tuple(item.tags or ()),
        segments=tuple(item.segments or ()),
        signup_at=item.signup_at,
        status=item.status,
        flagged_at=item.flagged_at,
        active_case_id=item.active_case_id,
        flag_case_id=item.flag_case_id,
        last_payout_change_at=item.last_payout_change_at,
        revenue_micros={k: int(v) for k, v in (item.revenue.as_dict() if item.revenue else {}).items()},
    )


def _link(item: Any) -> LinkState:
    if item is None:
        return LinkState()
    return LinkState(_set(item.members), _set(item.flagged), _set(item.removed), _set(item.blocked))


def _network(item: Any) -> NetworkState:
    if item is None:
        return NetworkState()
    return NetworkState(_set(item.programs), _set(item.flagged), _set(item.removed))


def _reward(item: Any) -> Reward:
    return Reward(
        program_id=item.program_id,
        reward_id=item.reward_id,
        partner_id=item.partner_id,
        amount=from_micros(int(item.amount_micros)),
        currency=item.currency,
        status=item.status,
        created_at=item.created_at,
        source=item.source,
        customer_id=item.customer_id,
        transaction_id=item.transaction_id,
        overridden=bool(item.overridden),
        case_id=item.case_id,
    )


def _case(item: Any) -> Case:
    return Case(
        program_id=item.program_id,
        case_id=item.case_id,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        subject_name=item.subject_name,
        reasons=[dict(r) for r in (item.reasons or [])],
        status=item.status,
        flagged_at=item.flagged_at,
        flag_event_id=item.flag_event_id,
        hold_micros={k: int(v) for k, v in (item.hold_micros.as_dict() if item.hold_micros else {}).items()},
        held_count=int(item.held_count or 0),
        disputed_at=item.disputed_at,
        dispute_reason=item.dispute_reason,
        resolved_at=item.resolved_at,
        verdict=item.verdict,
        verdict_note=item.verdict_note,
        removed_at=item.removed_at,
        removed_by=item.removed_by,
        block_reapply=bool(item.block_reapply),
        archived_count=int(item.archived_count or 0),
        archived_micros={
            k: int(v) for k, v in (item.archived_micros.as_dict() if item.archived_micros else {}).items()
        },
        subject_team=item.subject_team,
    )
