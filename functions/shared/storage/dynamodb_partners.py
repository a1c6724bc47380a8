"""The partner-program part of the DynamoDB adapter: reads, and `apply`, which writes a decided
`Step` as one transaction, each write with its condition. No rule lives here: the rules are in
`functions.shared.domain`; this module only knows the items, their keys and their indexes.
"""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
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
from pynamodb.expressions.operand import Path
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.shared.documents import json_default
from functions.shared.domain.cases import dispute_position, in_hold_order, view_of, view_time
from functions.shared.domain.hold_order import ORDERED_VIEW, order_place
from functions.shared.domain.holdables import ListChange, listed_id
from functions.shared.domain.model import (
    NO_HOLDABLES,
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
    Subject,
    evolve,
)
from functions.shared.domain.profiles import adds_identifiers, swept
from functions.shared.domain.summary import FlagDay, SummaryFigures, add_figures
from functions.shared.domain.writes import (
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
    Write,
    WriteProfile,
)
from functions.shared.errors import NotFound
from functions.shared.money import from_micros, to_micros
from functions.shared.storage import keys
from functions.shared.storage.dynamodb_base import (
    DynamoBase,
    batch_read,
    condition_failed,
    domain_error,
    event_item,
    pack_json,
    side_by_side,
)
from functions.shared.storage.item_update import ItemUpdate, StepTransaction

PAGE_READ = 26  # items per query page of a lazy listing: a default page (25) and the one after
SHARD_READ = 8  # per shard of a merged listing: 16 shards give a page of 50 and some to spare
REKEY_BUDGET = 100  # stale cases a page by hold amount re-keys before it is served (the rest: next read)
REKEY_TRIES = 3  # writes of one case's key while its holds keep changing; then it waits for the next read


def partner_items(base: type[Model]) -> dict[str, type[Model]]:
    """The partner-program item classes on the table's base model."""

    class SubjectItem(base, discriminator="subject"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        subject_type = UnicodeAttribute()
        subject_id = UnicodeAttribute()
        name = UnicodeAttribute(default="")
        email = UnicodeAttribute(null=True)
        email_normalized = UnicodeAttribute(null=True)
        emails = UnicodeSetAttribute(null=True)
        devices = UnicodeSetAttribute(null=True)
        ips = UnicodeSetAttribute(null=True)
        payout = UnicodeAttribute(null=True)
        payouts = UnicodeSetAttribute(null=True)
        country = UnicodeAttribute(null=True)
        group = UnicodeAttribute(null=True)
        team = UnicodeAttribute(null=True)
        tags = ListAttribute(of=UnicodeAttribute, null=True)
        segments = ListAttribute(of=UnicodeAttribute, null=True)
        referral_keys = ListAttribute(of=UnicodeAttribute, null=True)
        signup_at = UTCDateTimeAttribute(null=True)
        changed_at = UTCDateTimeAttribute(null=True)
        status = UnicodeAttribute(default="active")
        flagged_at = UTCDateTimeAttribute(null=True)
        active_case_id = UnicodeAttribute(null=True)
        case_flagged_at = UTCDateTimeAttribute(null=True, attr_name="cfa")  # from 12-07
        case_flag_codes = ListAttribute(of=UnicodeAttribute, null=True, attr_name="cfc")  # from 12-07
        flag_case_id = UnicodeAttribute(null=True)
        declined_case_id = UnicodeAttribute(null=True)
        approved_at = UTCDateTimeAttribute(null=True)
        marks_pending = BooleanAttribute(null=True)
        customer_marks = BooleanAttribute(null=True, attr_name="cmk")  # kept short: on every such profile
        block_reapply = BooleanAttribute(null=True)
        removal_pending = BooleanAttribute(null=True)
        last_payout_change_at = UTCDateTimeAttribute(null=True)
        payout_changes = ListAttribute(of=UnicodeAttribute, null=True, attr_name="pcs")
        home = UnicodeAttribute(null=True)
        unfamiliar = ListAttribute(of=UnicodeAttribute, null=True, attr_name="ufs")  # short: on many profiles
        linked = ListAttribute(of=UnicodeAttribute, null=True, attr_name="lnk")  # short, as `unfamiliar`
        revenue: MapAttribute[str, Any] = MapAttribute(null=True)
        reward_seq = NumberAttribute(null=True)
        identifier_seq = NumberAttribute(null=True)
        version = NumberAttribute(null=True)
        spill_count = NumberAttribute(null=True)

    class SpillItem(base, discriminator="spill"):  # type: ignore[valid-type,misc,call-arg]
        field = UnicodeAttribute()  # emails | devices | ips | payouts
        value = UnicodeAttribute()

    class LinkItem(base, discriminator="link"):  # type: ignore[valid-type,misc,call-arg]
        members = UnicodeSetAttribute(null=True)
        flagged = UnicodeSetAttribute(null=True)
        removed = UnicodeSetAttribute(null=True)
        blocked = UnicodeSetAttribute(null=True)
        spans = UnicodeSetAttribute(null=True)
        names = UnicodeSetAttribute(null=True)  # removed partners' names' digests (`removed_marks`)
        via = UnicodeSetAttribute(null=True)  # a device's `<time> <partner>` purchases were made through
        since = UnicodeSetAttribute(null=True)  # an address's or payout account's `<time> <member>` joins

    class NetworkLinkItem(base, discriminator="network_link"):  # type: ignore[valid-type,misc,call-arg]
        flagged = UnicodeSetAttribute(null=True)
        removed = UnicodeSetAttribute(null=True)
        first = UnicodeAttribute(null=True)  # a payout account's first giver's mark (`network_first`)
        first_by = UnicodeSetAttribute(null=True)  # and its tokens (`links.giver_tokens`)

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
        released = BooleanAttribute(null=True)  # `Reward.released`: absent until an approval sets it

    class CaseItem(base, discriminator="case"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        case_id = UnicodeAttribute()
        subject_type = UnicodeAttribute()
        subject_id = UnicodeAttribute()
        subject_name = UnicodeAttribute()
        reasons: MapAttribute[str, Any] = MapAttribute(default=dict)  # code -> most recent detail
        reason_counts: MapAttribute[str, Any] = MapAttribute(default=dict)  # code -> how often it fired
        reason_first: MapAttribute[str, Any] = MapAttribute(
            default=dict
        )  # code -> when it first fired (the order shown)
        status = UnicodeAttribute()
        flagged_at = UTCDateTimeAttribute()
        flag_event_id = UnicodeAttribute()
        hold_micros: MapAttribute[str, Any] = MapAttribute(default=dict)
        held_count = NumberAttribute(default=0)
        flags = NumberAttribute(null=True)  # events that flagged the subject under it (from 12-05)
        disputed_at = UTCDateTimeAttribute(null=True)
        dispute_reason = UnicodeAttribute(null=True)
        disputed_by = UnicodeAttribute(null=True)  # from 12-06
        resolved_at = UTCDateTimeAttribute(null=True)
        verdict = UnicodeAttribute(null=True)
        verdict_note = UnicodeAttribute(null=True)
        verdict_evidence: MapAttribute[str, Any] = MapAttribute(null=True)  # code -> count at the verdict
        verdict_flags = NumberAttribute(null=True)  # `flags` at the verdict
        removed_at = UTCDateTimeAttribute(null=True)
        removed_by = UnicodeAttribute(null=True)
        block_reapply = BooleanAttribute(default=False)
        archived_count = NumberAttribute(default=0)
        archived_micros: MapAttribute[str, Any] = MapAttribute(default=dict)
        subject_team = UnicodeAttribute(null=True)
        hold_seq = NumberAttribute(null=True)  # counts hold changes: the hold order is set on it

    class AuditItem(base, discriminator="audit"):  # type: ignore[valid-type,misc,call-arg]
        at = UTCDateTimeAttribute()
        action = UnicodeAttribute()
        actor = UnicodeAttribute()
        detail = UnicodeAttribute(default="{}")

    class CaseLocatorItem(base, discriminator="case_locator"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()

    class TransactionItem(base, discriminator="transaction"):  # type: ignore[valid-type,misc,call-arg]
        # the event that recorded the transaction (`ClaimTransaction`); absent while only rewards wait
        event_id = UnicodeAttribute(null=True)
        customer_id = UnicodeAttribute(null=True)  # its customer (absent from claims before 12-05)
        waiting = UnicodeSetAttribute(null=True)  # API rewards waiting for it (`AwaitTransaction`)

    class NotificationItem(base, discriminator="notification"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        notification_id = UnicodeAttribute()
        name = UnicodeAttribute()
        detail = UnicodeAttribute()
        created_at = UTCDateTimeAttribute()

    class SummaryItem(base, discriminator="summary"):  # type: ignore[valid-type,misc,call-arg]
        # the figures are top-level numbers named per status, currency or reason code
        # (`cases_open`, `held_USD`, `reason_email_duplicate`): an update that creates the item can
        # add to them, which it could not to a map's entries (read raw: `_figures`)
        count = NumberAttribute(null=True)

    return {
        "subject": SubjectItem,
        "spill": SpillItem,
        "link": LinkItem,
        "network_link": NetworkLinkItem,
        "counter": CounterItem,
        "reward": RewardItem,
        "case": CaseItem,
        "audit": AuditItem,
        "case_locator": CaseLocatorItem,
        "transaction": TransactionItem,
        "notification": NotificationItem,
        "summary": SummaryItem,
    }


def flagged_shard(program_id: str, subject_type: str, subject_id: str) -> int:
    digest = hashlib.sha256(f"{program_id}/{subject_type}/{subject_id}".encode()).hexdigest()
    return int(digest[:8], 16) % keys.FLAGGED_SHARDS


# the profile fields a whole-profile write sets (revenue and reward_seq are added by others)
_PROFILE_FIELDS = {
    "name": "name",
    "email": "email",
    "email_normalized": "email_normalized",
    "payout": "payout",
    "country": "country",
    "group": "group",
    "team": "team",
    "signup_at": "signup_at",
    "changed_at": "changed_at",
    "status": "status",
    "flagged_at": "flagged_at",
    "active_case_id": "active_case_id",
    "case_flagged_at": "case_flagged_at",
    "flag_case_id": "flag_case_id",
    "declined_case_id": "declined_case_id",
    "approved_at": "approved_at",
    "marks_pending": "marks_pending",
    "customer_marks": "customer_marks",
    "block_reapply": "block_reapply",
    "removal_pending": "removal_pending",
    "last_payout_change_at": "last_payout_change_at",
    "home": "home",
    "spill_count": "spill_count",
}
_PROFILE_SETS = ("emails", "devices", "ips", "payouts")
_COUNTERS = ("reward_seq", "identifier_seq", "version")  # what a step may expect besides the fields
_PROFILE_LISTS = {
    "tags": "tags",
    "segments": "segments",
    "keys": "referral_keys",
    "unfamiliar": "unfamiliar",
    "linked": "linked",
    "payout_changes": "payout_changes",
    "case_flag_codes": "case_flag_codes",
}


class PartnersDynamo(DynamoBase):
    """Partner-program storage on DynamoDB."""

    _rekey_turn = 0  # the hold order's stale cases are re-keyed from either end by turns

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
        m = self._m
        wanted: list[tuple[str, str]] = [(keys.subject_pk(program_id, *subject), keys.PROFILE_SK)]
        if partner_id:
            wanted.append((keys.subject_pk(program_id, "partner", partner_id), keys.PROFILE_SK))
        wanted += [(keys.link_pk(program_id, kind, value), keys.LINK_SK) for kind, value in links]
        wanted += [(keys.network_pk(kind, value), keys.LINK_SK) for kind, value in network]
        wanted += [(keys.counter_pk(program_id, name), keys.COUNTER_SK) for name in counters]
        if reward_id:
            wanted.append((keys.reward_pk(program_id, reward_id), keys.REWARD_SK))
        transaction_pk = keys.transaction_pk(program_id, transaction_id) if transaction_id else ""
        if transaction_id:
            wanted.append((transaction_pk, keys.TRANSACTION_SK))
        customer_pk = keys.subject_pk(program_id, "customer", customer_id) if customer_id else ""
        if customer_id:
            wanted.append((customer_pk, keys.PROFILE_SK))
        found: dict[str, Any] = {}
        raw: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(wanted))
        try:
            # raw items: a subject's list of holdable rewards is one attribute per entry
            for data in batch_read(m.base, unique, what="reading the scoring snapshot"):
                item = m.base.from_raw_data(data)
                found[item.pk] = item
                raw[item.pk] = data
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the scoring snapshot failed") from exc
        subject_pk = keys.subject_pk(program_id, *subject)
        partner_pk = keys.subject_pk(program_id, "partner", partner_id) if partner_id else ""
        subject_item, partner_item = found.get(subject_pk), found.get(partner_pk)
        customer_item = found.get(customer_pk) if customer_id else None
        return Snapshot(
            subject=_subject(subject_item) if _stored(subject_item) else None,
            partner=_subject(partner_item) if _stored(partner_item) else None,
            links={
                (kind, value): _link(found.get(pk := keys.link_pk(program_id, kind, value)), raw.get(pk))
                for kind, value in links
            },
            network={
                (kind, value): _network(found.get(keys.network_pk(kind, value))) for kind, value in network
            },
            counters={
                name: int(getattr(found.get(keys.counter_pk(program_id, name)), "count", 0) or 0)
                for name in counters
            },
            reward_taken=bool(reward_id) and keys.reward_pk(program_id, reward_id or "") in found,
            transaction_event=getattr(found.get(transaction_pk), "event_id", None),  # "": none asked
            transaction_customer=getattr(found.get(transaction_pk), "customer_id", None),
            transaction_waiting=frozenset(getattr(found.get(transaction_pk), "waiting", None) or ()),
            holdables=_holdables(raw.get(subject_pk)),
            partner_holdables=_holdables(raw.get(partner_pk)),
            customer_holdables=_holdables(raw.get(customer_pk)),
            customer=_subject(customer_item) if _stored(customer_item) else None,
            partner_revenue_kept=partner_item is not None
            and not _stored(partner_item)
            and m.subject.revenue.attr_name in raw.get(partner_pk, {}),
        )

    def read_links(self, program_id: str, link_keys: list[LinkKey]) -> dict[LinkKey, LinkState]:
        m = self._m
        wanted = [(keys.link_pk(program_id, kind, value), keys.LINK_SK) for kind, value in link_keys]
        found: dict[str, tuple[Any, dict[str, Any]]] = {}
        try:
            for data in batch_read(m.base, wanted, what="reading links"):
                item = m.base.from_raw_data(data)
                found[item.pk] = (item, data)
        except PynamoDBException as exc:
            raise domain_error(exc, "reading links failed") from exc
        return {
            (kind, value): _link(*found.get(keys.link_pk(program_id, kind, value), (None, None)))
            for kind, value in link_keys
        }

    def get_subject(self, program_id: str, subject_type: str, subject_id: str) -> Subject:
        item = self._get(
            self._m.subject, keys.subject_pk(program_id, subject_type, subject_id), keys.PROFILE_SK
        )
        if not _stored(item):  # none, or only the list of a subject not stored yet
            raise NotFound(f"{subject_type} {subject_id} not found")
        subject = _subject(item)
        if subject.spill_count:
            return evolve(subject, spilled=self.spilled_identifiers(program_id, subject_type, subject_id))
        return subject

    def spilled_identifiers(
        self, program_id: str, subject_type: str, subject_id: str
    ) -> frozenset[tuple[str, str]]:
        m = self._m
        pk = keys.subject_pk(program_id, subject_type, subject_id)
        try:
            items = m.spill.query(pk, m.base.sk.startswith(keys.SPILL_SK_PREFIX), consistent_read=True)
            return frozenset((i.field, i.value) for i in items)
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading the identifiers of {subject_type} {subject_id} failed") from exc

    def get_case(self, program_id: str, case_id: str) -> Case:
        item = self._get(self._m.case, keys.case_pk(program_id, case_id), keys.CASE_SK)
        if item is None:
            raise NotFound(f"case {case_id} not found")
        return _case(item)

    def case_audit(
        self, program_id: str, case_id: str, before: tuple[datetime, str] | None = None
    ) -> Iterator[tuple[tuple[datetime, str], AuditEntry]]:
        m = self._m
        # one condition on the sort key: up to the position inclusive, the position itself skipped
        bound = keys.audit_sk(*before) if before else None
        condition = m.base.sk.between("AUDIT#", bound) if bound else m.base.sk.startswith("AUDIT#")
        try:
            for i in m.audit.query(
                keys.case_pk(program_id, case_id), condition, scan_index_forward=False, page_size=PAGE_READ
            ):
                if i.sk != bound:
                    position = (i.at, i.sk.split("#", 2)[2])
                    yield position, AuditEntry(i.at, i.action, i.actor, json.loads(i.detail))
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading the audit trail of {case_id} failed") from exc

    def get_reward(self, program_id: str, reward_id: str) -> Reward:
        item = self._get(self._m.reward, keys.reward_pk(program_id, reward_id), keys.REWARD_SK)
        if item is None:
            raise NotFound(f"reward {reward_id} not found")
        return _reward(item)

    def subject_rewards(
        self,
        program_id: str,
        subject_type: str,
        subject_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Reward]:
        if since and until and until < since:  # DynamoDB refuses a BETWEEN whose bounds are reversed
            return []
        m = self._m
        index = m.indexes["partner_rewards" if subject_type == "partner" else "customer_rewards"]
        # a reward's key is its creation time then `#<id>`: `~` sorts after every one of `until`
        first, last = keys.timestamp(since) if since else None, keys.timestamp(until) + "~" if until else None
        condition = None
        if first and last:
            condition = m.base.created_sk.between(first, last)
        elif first:
            condition = m.base.created_sk >= first
        elif last:
            condition = m.base.created_sk <= last
        try:
            items = index.query(keys.subject_pk(program_id, subject_type, subject_id), condition)
            return [_reward(i) for i in items]
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing the rewards of {subject_type} {subject_id} failed") from exc

    def subject_rewards_newest_first(
        self, program_id: str, subject_type: str, subject_id: str, before: tuple[datetime, str] | None = None
    ) -> Iterator[Reward]:
        m = self._m
        index = m.indexes["partner_rewards" if subject_type == "partner" else "customer_rewards"]
        condition = m.base.created_sk < keys.created_sk(*before) if before else None
        try:
            for item in index.query(
                keys.subject_pk(program_id, subject_type, subject_id),
                condition,
                scan_index_forward=False,
                page_size=PAGE_READ,
            ):
                yield _reward(item)
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing the rewards of {subject_type} {subject_id} failed") from exc

    def case_held_rewards(self, program_id: str, case_id: str) -> Iterator[Reward]:
        index = self._m.indexes["case_held"]
        try:
            for item in index.query(
                keys.case_held_pk(program_id, case_id), scan_index_forward=False, page_size=PAGE_READ
            ):
                yield _reward(item)
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing the rewards case {case_id} holds failed") from exc

    def cases_in_view(
        self,
        program_id: str,
        view: str,
        newest_first: bool,
        after: tuple[Any, str] | None = None,
        by: str = "flagged_at",
    ) -> Iterator[Case]:
        m = self._m
        by_resolution = by == "resolved_at" and view == "resolved"
        by_hold = by == "hold_amount" and view == ORDERED_VIEW
        index, partition = (
            ("disputes", keys.resolved_cases_pk(program_id))
            if by_resolution
            else ("cases_by_hold" if by_hold else "cases_by_view", keys.case_view_pk(program_id, view))
        )
        sort_key = (
            m.base.dispute_sk if by_resolution else m.base.case_hold_sk if by_hold else m.base.case_view_sk
        )
        condition = None
        position = None
        if after is not None:
            position = keys.case_hold_sk(*after) if by_hold else keys.created_sk(after[0], after[1])
            condition = sort_key < position if newest_first else sort_key > position
        placed: list[Any] = []
        if by_hold:
            placed = self._rekey_stale_holds(program_id, _same_side(position, newest_first))
        try:
            read: Iterable[Any] = m.indexes[index].query(
                partition,
                condition,
                scan_index_forward=not newest_first,
                page_size=PAGE_READ,
            )
            if placed:
                read = _with_placed(read, placed, position, newest_first)
            for item in read:
                case = _case(item)
                if by_hold:
                    case.hold_place = keys.hold_place(item.case_hold_sk)
                yield case
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing {view} cases failed") from exc

    def _rekey_stale_holds(
        self, program_id: str, moves: Callable[[str | None, str], bool] = lambda old, new: True
    ) -> list[Any]:
        """Sets the hold-order key of the program's cases whose holds changed since it was set (the
        sparse `cases_hold_stale` index: usually empty, one cheap query), so the page about to be
        read from `cases_by_hold` places each by its holds. At most `REKEY_BUDGET` cases per read,
        from the oldest flag and the newest by turns: oldest first alone, a newer case whose holds
        changed waited for ever while the hundred oldest kept taking holds. A case whose new key
        `moves` refuses (one that would cross a walk's cursor: `_same_side`) keeps its key and its
        mark, for a later read. Returns the cases re-keyed, each with its new key."""
        rekeyed: list[Any] = []
        self._rekey_turn += 1
        try:
            stale = self._m.indexes["cases_hold_stale"].query(
                keys.hold_stale_pk(program_id),
                scan_index_forward=self._rekey_turn % 2 == 1,
                page_size=REKEY_BUDGET,
            )
            for tried, item in enumerate(stale, start=1):
                if (placed := self._rekey(item, moves)) is not None:
                    rekeyed.append(placed)
                if tried >= REKEY_BUDGET:
                    break
        except PynamoDBException as exc:
            raise domain_error(exc, "re-keying the hold order failed") from exc
        return rekeyed

    def place_in_hold_order(self, program_id: str) -> tuple[int, int]:
        """Marks every active case whose hold-order key is not the one its holds give it now as
        stale (no key: stored before the index; another: keyed at face value, or at the reference
        rates of before), on condition it still has the key read and is still active, then re-keys
        the program's stale cases a budget at a time until a round places none."""
        m = self._m
        active = keys.case_view_pk(program_id, ORDERED_VIEW)
        found = 0
        try:
            for item in m.indexes["cases_by_view"].query(active, page_size=PAGE_READ):
                if item.hold_stale_pk is not None or item.case_hold_sk == _hold_sk(item):
                    continue
                found += 1
                kept = (
                    m.base.case_hold_sk.does_not_exist()
                    if item.case_hold_sk is None
                    else m.base.case_hold_sk == item.case_hold_sk
                )
                condition = kept & (m.base.case_view_pk == active)
                try:
                    m.case(item.pk, item.sk).update(
                        actions=[m.base.hold_stale_pk.set(keys.hold_stale_pk(program_id))],
                        condition=condition,
                    )
                except PynamoDBException as exc:
                    if not condition_failed(exc):
                        raise
        except PynamoDBException as exc:
            raise domain_error(exc, f"marking the hold order of {program_id} failed") from exc
        placed = 0
        for _ in range(found // REKEY_BUDGET + 3):  # bounded: a live program keeps marking cases too
            placed_now = len(self._rekey_stale_holds(program_id))
            placed += placed_now
            if not placed_now:
                break
        return found, placed

    def _rekey(self, item: Any, moves: Callable[[str | None, str], bool] = lambda old, new: True) -> Any:
        """One case's key from its holds (`hold_order.order_place`, `keys.case_hold_sk`), its stale
        mark removed, on condition that its status and `hold_seq` (every hold change adds 1) are the
        ones read: the holds the key was computed from are still the case's. A case out of the order
        only loses the mark. The first try uses the index's copy of the case (the condition catches
        a copy that lags); a refused try reads the case (consistently) and tries again, up to
        `REKEY_TRIES`. The case as written (with its new key, in the order); None when its holds
        kept changing, or when `moves` refuses its new key (the key it had, and the condition, are
        the ones read): it stays marked, placed by its last key."""
        m = self._m
        for attempt in range(REKEY_TRIES):
            if attempt:
                item = self._get(m.case, item.pk, item.sk)
                if item is None or item.hold_stale_pk is None:
                    return None  # re-keyed by another reader meanwhile, or out of the order
            seq = int(item.hold_seq or 0)
            condition = (m.case.status == item.status) & (
                (m.case.hold_seq == seq) if seq else m.case.hold_seq.does_not_exist()
            )
            actions: list[Any] = [m.base.hold_stale_pk.remove()]
            if in_hold_order(item.status):
                key = _hold_sk(item)
                if not moves(item.case_hold_sk, key):
                    return None
                actions.append(m.base.case_hold_sk.set(key))
                condition &= (
                    m.base.case_hold_sk.does_not_exist()
                    if item.case_hold_sk is None
                    else m.base.case_hold_sk == item.case_hold_sk
                )
            try:
                m.case(item.pk, item.sk).update(actions=actions, condition=condition)
            except PynamoDBException as exc:
                if not condition_failed(exc):
                    raise
                continue
            item.hold_stale_pk = None
            if in_hold_order(item.status):
                item.case_hold_sk = key
            return item
        return None

    def program_rewards(
        self, program_id: str, status: str | None = None, before: tuple[datetime, str] | None = None
    ) -> Iterator[Reward]:
        """Each shard's partition newest first, merged: every shard is read a small page at a time,
        so a page of the listing reads about itself plus one small page per shard."""
        m = self._m
        index = m.indexes["reward_status" if status else "program_rewards"]
        condition = m.base.created_sk < keys.created_sk(*before) if before else None

        def shard(n: int) -> Iterator[tuple[str, Any]]:
            pk = (
                keys.reward_status_pk(program_id, status, n)
                if status
                else keys.program_rewards_pk(program_id, n)
            )
            for item in index.query(pk, condition, scan_index_forward=False, page_size=SHARD_READ):
                yield item.created_sk, item

        try:
            for _, item in heapq.merge(
                *(shard(n) for n in range(keys.REWARD_SHARDS)), key=lambda pair: pair[0], reverse=True
            ):
                yield _reward(item)
        except PynamoDBException as exc:
            raise domain_error(exc, "listing the program's rewards failed") from exc

    def summary_figures(self, program_id: str, since: date) -> SummaryFigures:
        m = self._m
        connection = m.summary._get_connection()

        def shard_items(shard: int) -> list[dict[str, Any]]:  # a query of 31 small items at most
            # the low-level query answers raw items: the figures' names are data (`_figures`)
            return list(
                connection.query(
                    keys.summary_pk(program_id, shard),
                    range_key_condition=m.base.sk.between(
                        keys.flag_day_sk(since.isoformat()), keys.SUMMARY_SK
                    ),
                    consistent_read=True,  # the box right after an action shows it
                )["Items"]
            )

        try:
            items = side_by_side(shard_items, keys.SUMMARY_SHARDS)
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the summary failed") from exc
        cases: dict[str, int] = {}
        held_micros: dict[str, int] = {}
        held = 0
        days: dict[str, tuple[int, dict[str, int]]] = {}
        for raw in items:  # the shards' figures, added up
            sk = raw["sk"]["S"]
            if sk == keys.SUMMARY_SK:
                add_figures(cases, _figures(raw, "cases_"))
                add_figures(held_micros, _figures(raw, "held_"))
                held += int(raw.get("rewards_held", {}).get("N", 0))
            else:
                day = sk.removeprefix(keys.flag_day_sk(""))
                count, by_reason = days.get(day, (0, {}))
                add_figures(by_reason, _figures(raw, "reason_"))
                days[day] = (count + int(raw.get("count", {}).get("N", 0)), by_reason)
        return SummaryFigures(
            {k: n for k, n in cases.items() if n},
            held,
            {k: n for k, n in held_micros.items() if n},
            tuple(
                FlagDay(date.fromisoformat(day), count, {k: n for k, n in by_reason.items() if n})
                for day, (count, by_reason) in sorted(days.items())
            ),
        )

    def flagged_shards(self) -> int:
        return keys.FLAGGED_SHARDS

    def flagged_subjects(self, shard: int) -> list[Subject]:
        try:
            return [_subject(i) for i in self._m.indexes["flagged"].query(keys.flagged_pk(shard))]
        except PynamoDBException as exc:
            raise domain_error(exc, f"listing flagged subjects of shard {shard} failed") from exc

    def case_program(self, case_id: str) -> str | None:
        found = self._get(self._m.case_locator, keys.case_locator_pk(case_id), keys.CASE_LOCATOR_SK)
        return found.program_id if found is not None else None

    def disputes(self, after: tuple[datetime, str, str] | None = None) -> Iterator[Case]:
        """The two partitions of the `disputes` index (awaiting a verdict, with one), each read
        lazily past `after` in its sort key's order, merged: the order of `cases.dispute_position`."""
        index, sort_key = self._m.indexes["disputes"], self._m.base.dispute_sk
        condition = sort_key > keys.dispute_sk(*after) if after is not None else None
        partitions = (
            (_case(i) for i in index.query(pk, condition, page_size=PAGE_READ))
            for pk in (keys.DISPUTES_OPEN, keys.DISPUTES_VERDICT)
        )
        try:
            yield from heapq.merge(*partitions, key=dispute_position)
        except PynamoDBException as exc:
            raise domain_error(exc, "listing disputes failed") from exc

    def pending_notifications(self, program_id: str, limit: int) -> list[Notification]:
        index = self._m.indexes["outbox"]
        found: list[Notification] = []
        try:
            for shard in range(keys.OUTBOX_SHARDS):
                for item in index.query(
                    keys.outbox_pk(program_id, shard),
                    range_key_condition=self._m.base.outbox_sk.startswith(keys.NOTIFICATION_SK_PREFIX),
                    limit=limit,
                ):
                    found.append(_notification(item))
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the notification outbox failed") from exc
        found.sort(key=lambda n: (n.created_at, n.notification_id))
        return found[:limit]

    def notifications_delivered(self, notifications: list[Notification]) -> None:
        try:
            with self._m.notification.batch_write() as batch:
                for n in notifications:
                    batch.delete(
                        self._m.notification(
                            keys.notification_pk(n.program_id, n.notification_id), keys.NOTIFICATION_SK
                        )
                    )
        except PynamoDBException as exc:
            raise domain_error(exc, "clearing delivered notifications failed") from exc

    # --- writes -------------------------------------------------------------------------------
    def apply(self, step: Step) -> None:
        """Writes the step as one transaction. Raises StepRefused naming the write whose condition
        failed (nothing written), StorageUnavailable when DynamoDB throttles or is down, StorageRefused
        when it refuses the call itself (permissions, credentials: `domain_error`)."""
        if not step.writes:
            return
        tx = StepTransaction(connection=self._m.connection())
        order: dict[str, list[Write]] = {"check": [], "put": [], "update": []}
        for write in step.writes:
            if isinstance(write, CountSummary):
                order["update"] += [write] * self._count_summary(tx, write, _summary_shard(step))
                continue
            order[self._add(tx, write)].append(write)
        written = order["check"] + order["put"] + order["update"]  # the order pynamodb sends them in
        try:
            tx._commit()
        except TransactWriteError as exc:
            codes = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
            if "ConditionalCheckFailed" in codes:
                write = written[codes.index("ConditionalCheckFailed")]
                raise StepRefused(f"{type(write).__name__} no longer holds", write) from exc
            if "TransactionConflict" in codes:
                raise StepRefused("a concurrent transaction touched the same items") from exc
            raise domain_error(exc, "writing a step failed") from exc
        except PynamoDBException as exc:
            raise domain_error(exc, "writing a step failed") from exc

    def _add(self, tx: StepTransaction, write: Write) -> str:
        m = self._m
        if isinstance(write, ScoreEvent):
            event = m.event
            scored = ItemUpdate(event, keys.event_pk(write.program_id, write.event_id), keys.EVENT_SK)
            scored.set(event.status, "scored").set(event.packed_decision, pack_json(write.decision))
            scored.set(event.case_id, write.case_id).set(event.notes, list(write.notes) or None)
            scored.set(event.failure, None)  # a delivery that failed before (redriven): scored now
            scored.remove(m.base.outbox_pk.attr_name).remove(m.base.outbox_sk.attr_name)
            tx.update_item(scored.requires_item().requires_not(event.status, "scored"))
            return "update"
        if isinstance(write, WriteProfile):
            return self._write_profile(tx, write)
        if isinstance(write, UpdateProfile):
            return self._update_profile(tx, write)
        if isinstance(write, PartnerArrival):
            subject, pk = m.subject, keys.subject_pk(write.program_id, "partner", write.partner_id)
            arrival = ItemUpdate(subject, pk, keys.PROFILE_SK)
            if write.expect_status is None:  # not stored: its list and its revenue are kept on its item
                arrival.requires_absent(subject.version.attr_name)
                if write.currency and write.micros:  # the map is made by the first, as read
                    if write.revenue_kept:
                        arrival.requires_present(subject.revenue.attr_name)
                        arrival.add_to_entry(subject.revenue, write.currency, write.micros)
                    else:
                        arrival.requires_absent(subject.revenue.attr_name)
                        arrival.set(subject.revenue, {write.currency: write.micros})
                if write.listed:
                    _list_changed(arrival, write.listed)
                if arrival.clauses_given():
                    tx.update_item(arrival.typed(subject))
                    return "update"
                tx.condition_check(subject, pk, keys.PROFILE_SK, condition=subject.version.does_not_exist())
                return "check"
            if write.reward:
                arrival.add_number(subject.reward_seq.attr_name, 1)
            if write.expect_version is not None:  # a large commission: a version of its own
                arrival.requires(subject.version, write.expect_version).set(
                    subject.version, write.expect_version + 1
                )
            _list_changed(arrival, write.listed)
            if write.currency and write.micros:  # the map exists: every profile write makes it
                arrival.add_to_entry(subject.revenue, write.currency, write.micros)
            if arrival.clauses_given():
                arrival.requires(subject.status, write.expect_status)
                tx.update_item(arrival.requires(subject.flag_case_id, write.expect_flag_case))
                return "update"
            condition = (subject.status == write.expect_status) & _equals(
                subject.flag_case_id, write.expect_flag_case
            )
            tx.condition_check(subject, pk, keys.PROFILE_SK, condition=condition)
            return "check"
        if isinstance(write, MarkLink | MarkNetwork):
            model = m.link if isinstance(write, MarkLink) else m.network_link
            pk = (
                keys.link_pk(write.program_id, *write.key)
                if isinstance(write, MarkLink)
                else keys.network_pk(*write.key)
            )
            link = ItemUpdate(model, pk, keys.LINK_SK).typed(model)
            for name, values in write.add.items():
                link.add_members(getattr(model, name), values)
            for name, values in write.remove.items():
                link.delete_members(getattr(model, name), values)
            if isinstance(write, MarkNetwork) and write.first:  # the first giver's, kept once
                link.set_if_absent(m.network_link.first, write.first)
                if write.first_by:
                    link.set_if_absent(m.network_link.first_by, set(write.first_by))
            if isinstance(write, MarkLink):  # velocity slots: one attribute each (`velocity`)
                for slot in sorted(write.count_up):
                    link.add_number(COUNT_PREFIX + slot, 1)
                for slot in sorted(write.stale):
                    link.remove(COUNT_PREFIX + slot)
                if write.expect_members == 0:  # no one joined since it was read
                    link.requires_absent(model.members.attr_name)
                elif write.expect_members is not None:
                    link.requires_size(model.members.attr_name, write.expect_members)
            tx.update_item(link)
            return "update"
        if isinstance(write, SpillIdentifier):  # the same item whatever the retries: no condition
            pk = keys.subject_pk(write.program_id, write.subject_type, write.subject_id)
            sk = keys.spill_sk(write.field, write.value)
            tx.save(m.spill(pk, sk, field=write.field, value=write.value))
            return "put"
        if isinstance(write, ListRewards):
            pk = keys.subject_pk(write.program_id, write.subject_type, write.subject_id)
            tx.update_item(
                _list_changed(ItemUpdate(m.subject, pk, keys.PROFILE_SK).typed(m.subject), write.change)
            )
            return "update"
        if isinstance(write, CountUp):
            counter = ItemUpdate(m.counter, keys.counter_pk(write.program_id, write.name), keys.COUNTER_SK)
            counter.typed(m.counter).add_number(m.counter.count.attr_name, 1)
            tx.update_item(counter.set(m.base.expires_at, write.expires_at))
            return "update"
        if isinstance(write, PutReward):
            tx.save(self._reward_item(write.reward), condition=m.base.pk.does_not_exist())
            return "put"
        if isinstance(write, ClaimTransaction):
            # an update, not a put: the item may hold the rewards waiting for the transaction, which
            # this step ties and so releases (only those read: none came meanwhile)
            t = m.transaction
            pk = keys.transaction_pk(write.program_id, write.transaction_id)
            claim = ItemUpdate(t, pk, keys.TRANSACTION_SK).typed(t)
            claim.set(t.event_id, write.event_id).set(t.customer_id, write.customer_id)
            claim.remove(t.waiting.attr_name).requires_absent_or(t.event_id, write.event_id)
            if write.waiting:
                claim.requires_size(t.waiting.attr_name, write.waiting)
            else:
                claim.requires_absent(t.waiting.attr_name)
            tx.update_item(claim)
            return "update"
        if isinstance(write, AwaitTransaction):
            pk = keys.transaction_pk(write.program_id, write.transaction_id)
            waits = ItemUpdate(m.transaction, pk, keys.TRANSACTION_SK).typed(m.transaction)
            waits.add_members(m.transaction.waiting, [write.entry])
            waits.requires_absent(m.transaction.event_id.attr_name)
            waits.requires_fewer(m.transaction.waiting.attr_name, write.most)
            tx.update_item(waits)
            return "update"
        if isinstance(write, TieReward):  # its customer, and the customer's index of rewards
            tie = ItemUpdate(m.reward, keys.reward_pk(write.program_id, write.reward_id), keys.REWARD_SK)
            tie.set(m.reward.customer_id, write.customer_id).set(
                m.base.customer_rewards_pk, keys.subject_pk(write.program_id, "customer", write.customer_id)
            )
            tx.update_item(tie.requires_item())
            return "update"
        if isinstance(write, MoveReward):
            actions = [m.reward.status.set(write.status)]
            shard = keys.reward_shard(write.reward_id)  # the status index follows the status
            actions.append(
                m.base.reward_status_pk.set(keys.reward_status_pk(write.program_id, write.status, shard))
            )
            if write.case_id is not None:
                actions.append(m.reward.case_id.set(write.case_id))
            if write.status != "on_hold":  # the case's held rewards (`case_held`) follow the status
                actions.append(m.base.case_held_pk.remove())
            elif write.case_id is not None:
                actions.append(m.base.case_held_pk.set(keys.case_held_pk(write.program_id, write.case_id)))
            if write.overridden is not None:
                actions.append(m.reward.overridden.set(write.overridden))
            if write.released:
                actions.append(m.reward.released.set(True))
            condition = m.reward.status == write.expect
            if write.never_overridden:
                condition &= m.reward.overridden == False  # noqa: E712
            if write.expect_case is not None:
                condition &= m.reward.case_id == write.expect_case
            tx.update(
                m.reward(keys.reward_pk(write.program_id, write.reward_id), keys.REWARD_SK),
                actions=actions,
                condition=condition,
            )
            return "update"
        if isinstance(write, PutCase):
            tx.save(self._case_item(write.case), condition=m.base.pk.does_not_exist())
            return "put"
        if isinstance(write, UpdateCase):
            return self._update_case(tx, write)
        if isinstance(write, Audit):
            tx.save(
                m.audit(
                    keys.case_pk(write.program_id, write.case_id),
                    keys.audit_sk(write.entry.at, write.entry_id),
                    at=write.entry.at,
                    action=write.entry.action,
                    actor=write.entry.actor,
                    detail=json.dumps(write.entry.detail, default=json_default),
                )
            )
            return "put"
        if isinstance(write, LocateCase):
            pk, sk = keys.case_locator_pk(write.case_id), keys.CASE_LOCATOR_SK
            tx.save(m.case_locator(pk, sk, program_id=write.program_id))
            return "put"
        if isinstance(write, Notify):
            self._record_notification(tx, write.notification)
            return "put"
        if isinstance(write, RecordEvent):
            tx.save(event_item(m.event, write.event))
            return "put"
        raise TypeError(f"unknown write {write!r}")

    def _count_summary(self, tx: TransactWrite, write: CountSummary, shard: int) -> int:
        """Adds the figures to the totals item of one of the program's summary shards and, for each
        day whose flags change, to that shard's item of the day (which expires after the days
        shown): unconditional ADDs, items made as needed."""
        m = self._m
        actions: list[Any] = [_typed(m.summary)]
        actions += [Path(f"cases_{status}").add(n) for status, n in write.cases.items() if n]
        if write.held:
            actions.append(Path("rewards_held").add(write.held))
        actions += [Path(f"held_{currency}").add(n) for currency, n in write.held_micros.items() if n]
        partition = keys.summary_pk(write.program_id, shard)
        tx.update(m.summary(partition, keys.SUMMARY_SK), actions=actions)
        for flagged in write.days:
            day = [_typed(m.summary), m.summary.count.add(flagged.flags)]
            if flagged.expires_at:
                day.append(m.base.expires_at.set(flagged.expires_at))
            day += [Path(f"reason_{code}").add(n) for code, n in flagged.reasons.items() if n]
            tx.update(m.summary(partition, keys.flag_day_sk(flagged.day)), actions=day)
        return write.items

    def _write_profile(self, tx: StepTransaction, write: WriteProfile) -> str:
        """The profile whole when it was never stored; else only what differs from the profile as
        read (`WriteProfile.before`), which the version condition makes the stored one."""
        subject = self._m.subject
        s, before = write.subject, write.before
        stored = before is not None and write.expect_version > 0

        def changed(field_name: str) -> bool:
            return (
                not stored
                or field_name == "marks_pending"
                or getattr(before, field_name) != getattr(s, field_name)
            )

        profile = ItemUpdate(subject, keys.subject_pk(s.program_id, s.type, s.id), keys.PROFILE_SK)
        if not stored:
            profile.typed(subject).set(subject.program_id, s.program_id).set(subject.subject_type, s.type)
            profile.set(subject.subject_id, s.id).set_if_absent(subject.revenue, {})
        profile.set(subject.version, write.expect_version + 1)
        for field_name, attribute in _PROFILE_FIELDS.items():
            if changed(field_name):
                profile.set(getattr(subject, attribute), getattr(s, field_name))
        for name in _PROFILE_SETS:
            if changed(name):
                profile.set(getattr(subject, name), set(getattr(s, name)) or None)
        for field_name, attribute in _PROFILE_LISTS.items():
            if changed(field_name):
                profile.set(getattr(subject, attribute), list(getattr(s, field_name)) or None)
        if write.arrivals:
            profile.add_number(subject.reward_seq.attr_name, write.arrivals)
        if adds_identifiers(before, s):
            profile.add_number(subject.identifier_seq.attr_name, 1)
        _list_changed(profile, write.listed)
        if changed("status") or changed("removal_pending"):
            listed = swept(s.status, s.removal_pending)
            for attribute, value in self._flagged_index(s.program_id, s.type, s.id, listed):
                profile.set(attribute, value)
        # never stored (its list may wait on the item), or the version read
        tx.update_item(profile.requires(subject.version, write.expect_version or None))
        return "update"

    def _update_profile(self, tx: TransactWrite, write: UpdateProfile) -> str:
        m = self._m
        actions: list[Any] = []
        for name, value in write.changes.items():
            if name in _PROFILE_LISTS:
                actions.append(_set_or_remove(getattr(m.subject, _PROFILE_LISTS[name]), list(value) or None))
            else:
                actions.append(_set_or_remove(getattr(m.subject, _PROFILE_FIELDS[name]), value))
        if "status" in write.changes or "removal_pending" in write.changes:
            # a removal's last step clears `removal_pending` expecting the status it leaves
            status = write.changes.get("status", write.expect.get("status", ""))
            listed = swept(status, bool(write.changes.get("removal_pending")))
            flagged = self._flagged_index(write.program_id, write.subject_type, write.subject_id, listed)
            actions += [_set_or_remove(attribute, value) for attribute, value in flagged]
        if write.bump:
            actions.append(m.subject.version.add(1))
        condition = m.base.pk.exists()
        for name, value in write.expect.items():
            # the counters a step may expect (`bump` counts versions), or a profile field
            attribute = getattr(m.subject, name if name in _COUNTERS else _PROFILE_FIELDS[name])
            if name in ("reward_seq", "identifier_seq"):  # counted from 0: absent until counted
                condition &= _counted(attribute, value)
            else:
                condition &= _equals(attribute, value)
        item_keys = (keys.subject_pk(write.program_id, write.subject_type, write.subject_id), keys.PROFILE_SK)
        if not actions:  # a condition on the profile, nothing written (`UpdateProfile.guard`)
            tx.condition_check(m.subject, *item_keys, condition=condition)
            return "check"
        tx.update(m.subject(*item_keys), actions=actions, condition=condition)
        return "update"

    def _flagged_index(
        self, program_id: str, subject_type: str, subject_id: str, listed: bool
    ) -> list[tuple[Any, str | None]]:
        """The `flagged` index's keys of a subject on the sweep's list or not (`profiles.swept`;
        None: out of the index)."""
        m = self._m
        if listed:
            return [
                (m.base.flagged_pk, keys.flagged_pk(flagged_shard(program_id, subject_type, subject_id))),
                (m.base.flagged_sk, keys.flagged_sk(program_id, subject_type, subject_id)),
            ]
        return [(m.base.flagged_pk, None), (m.base.flagged_sk, None)]

    def _update_case(self, tx: TransactWrite, write: UpdateCase) -> str:
        m = self._m
        item_keys = (keys.case_pk(write.program_id, write.case_id), keys.CASE_SK)
        condition = m.case.status.is_in(*write.expect) if write.expect else m.base.pk.exists()
        if write.expect_flags is not None:  # no event flagged its subject under it since it was read
            condition &= _counted(m.case.flags, write.expect_flags)  # none on a case stored before 12-05
        if write.expect_verdict is not None:  # the verdict the plan applies, not one recorded since
            condition &= _equals(m.case.verdict, write.expect_verdict or None)  # NO_VERDICT: none
        if write.expect_held is not None:  # a case that never held one has no count at all
            condition &= _counted(m.case.held_count, write.expect_held)
        actions: list[Any] = []
        status = write.changes.get("status")
        if any(write.hold_micros.values()):
            actions.append(m.case.hold_seq.add(1))
            if not status or in_hold_order(status):
                # its key is a text DynamoDB cannot compute from the sums it adds: the case is marked
                # for the next read by hold amount to set it (`_rekey_stale_holds`), unread here
                actions.append(m.base.hold_stale_pk.set(keys.hold_stale_pk(write.program_id)))
        for name, value in write.changes.items():
            actions.append(_set_or_remove(getattr(m.case, name), value))
        if "flagged_at" in write.changes:  # a flag moved back: the case's place in its view with it
            if status or not write.expect or any(view_time(view_of(s)) != "flagged_at" for s in write.expect):
                raise ValueError("a case's flag moves only in a view kept in order of flags")
            actions.append(
                m.base.case_view_sk.set(keys.created_sk(write.changes["flagged_at"], write.case_id))
            )
        if status:
            view = view_of(status)
            actions.append(m.base.case_view_pk.set(keys.case_view_pk(write.program_id, view)))
            if not in_hold_order(status):  # out of the hold-amount order, for good
                actions += [m.base.case_hold_sk.remove(), m.base.hold_stale_pk.remove()]
            if status == "removed":
                actions.append(
                    m.base.case_view_sk.set(keys.created_sk(write.changes["removed_at"], write.case_id))
                )
            if status == "disputed":
                actions += [
                    m.base.dispute_pk.set(keys.DISPUTES_OPEN),
                    m.base.dispute_sk.set(
                        keys.dispute_sk(write.changes["disputed_at"], write.program_id, write.case_id)
                    ),
                ]
            elif view == "resolved" and write.changes.get("resolved_at"):
                actions += [
                    m.base.dispute_pk.set(keys.resolved_cases_pk(write.program_id)),
                    m.base.dispute_sk.set(keys.created_sk(write.changes["resolved_at"], write.case_id)),
                ]
            else:
                actions += [m.base.dispute_pk.remove(), m.base.dispute_sk.remove()]
        elif "verdict" in write.changes:  # recorded, or taken back (`disputes.verdict_withdrawal_step`)
            verdict_pk = keys.DISPUTES_VERDICT if write.changes["verdict"] else keys.DISPUTES_OPEN
            actions.append(m.base.dispute_pk.set(verdict_pk))
        if write.held:
            actions.append(m.case.held_count.add(write.held))
        if write.flags:
            actions.append(m.case.flags.add(write.flags))
        actions += _added(m.case.hold_micros, write.hold_micros)
        if write.archived:
            actions.append(m.case.archived_count.add(write.archived))
        actions += _added(m.case.archived_micros, write.archived_micros)
        for reason in write.reasons:
            counted = m.case.reason_counts[reason.code]
            first = m.case.reason_first[reason.code]
            actions += [
                m.case.reasons[reason.code].set(reason.detail),
                counted.set((counted | 0) + reason.count),
                first.set(first | reason.first),
            ]
        if not actions:
            tx.condition_check(m.case, *item_keys, condition=condition)
            return "check"
        tx.update(m.case(*item_keys), actions=actions, condition=condition)
        return "update"

    def _case_item(self, case: Case) -> Model:
        m = self._m
        view = view_of(case.status)
        return m.case(
            keys.case_pk(case.program_id, case.case_id),
            keys.CASE_SK,
            program_id=case.program_id,
            case_id=case.case_id,
            subject_type=case.subject_type,
            subject_id=case.subject_id,
            subject_name=case.subject_name,
            reasons={r.code: r.detail for r in case.reasons},
            reason_counts={r.code: r.count for r in case.reasons},
            reason_first={r.code: r.first for r in case.reasons},
            status=case.status,
            flagged_at=case.flagged_at,
            flag_event_id=case.flag_event_id,
            hold_micros=dict(case.hold_micros),
            held_count=case.held_count,
            flags=case.flags or None,
            case_view_pk=keys.case_view_pk(case.program_id, view),
            case_view_sk=keys.created_sk(case.flagged_at, case.case_id),
            case_hold_sk=keys.case_hold_sk(order_place(case.hold_micros), case.case_id)
            if in_hold_order(case.status)
            else None,
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
        shard = keys.reward_shard(reward.reward_id)
        item.program_rewards_pk = keys.program_rewards_pk(reward.program_id, shard)
        item.reward_status_pk = keys.reward_status_pk(reward.program_id, reward.status, shard)
        if reward.status == "on_hold" and reward.case_id:
            item.case_held_pk = keys.case_held_pk(reward.program_id, reward.case_id)
        return item

    def mark_event_failed(self, program_id: str, event_id: str, reason: str) -> None:
        m = self._m
        try:
            m.event(keys.event_pk(program_id, event_id), keys.EVENT_SK).update(
                actions=[
                    m.event.status.set("failed"),
                    m.event.failure.set(reason[:1000]),
                    m.base.outbox_pk.remove(),
                    m.base.outbox_sk.remove(),
                ],
                condition=m.base.pk.exists() & (m.event.status != "scored"),
            )
        except PynamoDBException as exc:
            if not condition_failed(exc):
                raise domain_error(exc, f"marking {event_id} failed") from exc


def _stored(item: Any) -> bool:
    """A stored profile, not only the list of holdable rewards of a subject not stored yet."""
    return item is not None and getattr(item, "version", None) is not None


def _entry_name(reward_id: str) -> str:
    return "h_" + hashlib.sha256(reward_id.encode()).hexdigest()[:16]


def _list_changed(update: ItemUpdate, change: ListChange | None) -> ItemUpdate:
    """A list change as one attribute per entry and per mark: concurrent changes never overlap."""
    if change:
        for text in sorted(change.add):
            update.set_value(_entry_name(listed_id(text)), {"S": text})
        for reward_id in sorted(change.remove):
            update.remove(_entry_name(reward_id))
        for mark in sorted(change.unlisted_add):
            update.set_value(f"u_{mark}", {"N": "1"})
        for mark in sorted(change.unlisted_remove):
            update.remove(f"u_{mark}")
    return update


def _holdables(raw: dict[str, Any] | None) -> Holdables:
    if not raw:
        return NO_HOLDABLES
    return Holdables(
        frozenset(value["S"] for name, value in raw.items() if name.startswith("h_") and "S" in value),
        frozenset(int(name[2:]) for name in raw if name.startswith("u_") and name[2:].isdigit()),
    )


def _added(figures: Any, deltas: dict[str, int]) -> list[Any]:
    """Update actions adding each currency's micro-units to a figures map (created at 0)."""
    actions = []
    for currency, micros in deltas.items():
        if micros:
            path = figures[currency]
            actions.append(path.set((path | 0) + micros))
    return actions


def _typed(model: type[Model]) -> Any:
    """An update that may create its item must write the item's type, as a save would."""
    return model.item_type.set(model)  # type: ignore[attr-defined]


def _set_or_remove(attribute: Any, value: Any) -> Any:
    return attribute.remove() if value is None else attribute.set(value)


def _counted(attribute: Any, count: int) -> Any:
    """A count is `count`, an item that never counted (no attribute) counting 0."""
    return (attribute == count) if count else (attribute.does_not_exist() | (attribute == 0))


def _equals(attribute: Any, value: Any) -> Any:
    return attribute.does_not_exist() if value is None else attribute == value


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
        emails=_set(item.emails),
        devices=_set(item.devices),
        ips=_set(item.ips),
        payout=item.payout,
        payouts=_set(item.payouts),
        country=item.country,
        group=item.group,
        team=item.team,
        tags=tuple(item.tags or ()),
        segments=tuple(item.segments or ()),
        keys=tuple(item.referral_keys or ()),
        signup_at=item.signup_at,
        changed_at=item.changed_at,
        status=item.status,
        flagged_at=item.flagged_at,
        active_case_id=item.active_case_id,
        case_flagged_at=item.case_flagged_at,
        case_flag_codes=tuple(item.case_flag_codes or ()),
        flag_case_id=item.flag_case_id,
        declined_case_id=item.declined_case_id,
        approved_at=item.approved_at,
        marks_pending=bool(item.marks_pending),
        customer_marks=bool(item.customer_marks),
        block_reapply=bool(item.block_reapply),
        removal_pending=bool(item.removal_pending),
        last_payout_change_at=item.last_payout_change_at,
        payout_changes=tuple(item.payout_changes or ()),
        home=item.home,
        unfamiliar=tuple(item.unfamiliar or ()),
        linked=tuple(item.linked or ()),
        revenue_micros={k: int(v) for k, v in (item.revenue.as_dict() if item.revenue else {}).items()},
        reward_seq=int(item.reward_seq or 0),
        identifier_seq=int(item.identifier_seq or 0),
        version=int(item.version or 0),
        spill_count=int(item.spill_count or 0),
    )


def _link(item: Any, raw: dict[str, Any] | None) -> LinkState:
    if item is None:
        return LinkState()
    counts = {
        name[len(COUNT_PREFIX) :]: int(value["N"])
        for name, value in (raw or {}).items()
        if name.startswith(COUNT_PREFIX) and "N" in value
    }
    return LinkState(
        _set(item.members),
        _set(item.flagged),
        _set(item.removed),
        _set(item.blocked),
        _set(item.spans),
        _set(item.names),
        counts,
        _set(item.via),
        _set(item.since),
    )


COUNT_PREFIX = "c_"  # a link item's velocity slot: `c_<kind>:<hour>`, a number


def _network(item: Any) -> NetworkState:
    if item is None:
        return NetworkState()
    return NetworkState(_set(item.flagged), _set(item.removed), item.first, _set(item.first_by))


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
        released=bool(item.released),
    )


def _summary_shard(step: Step) -> int:
    """The summary shard a step adds to: its first case's (a wave's flags, each a case of its own,
    spread over the shards; a step that writes no case has figures only when a test makes one)."""
    for write in step.writes:
        case_id = write.case.case_id if isinstance(write, PutCase) else getattr(write, "case_id", None)
        if isinstance(case_id, str):
            return keys.summary_shard(case_id)
    return 0


def _figures(raw: dict[str, Any], prefix: str) -> dict[str, int]:
    """The raw item's numbers named `<prefix><key>`, by key, zeros left out."""
    found = {
        name.removeprefix(prefix): int(value["N"])
        for name, value in raw.items()
        if name.startswith(prefix) and "N" in value
    }
    return {k: n for k, n in found.items() if n}


def _map(attribute: Any) -> dict[str, Any]:
    return attribute.as_dict() if attribute else {}


def _hold_micros(item: Any) -> dict[str, int]:
    """A case item's holds, per currency, in micro-units."""
    return {k: int(v) for k, v in _map(item.hold_micros).items()}


def _hold_sk(item: Any) -> str:
    """The hold-order key a case item's holds give it now (`hold_order.order_place`)."""
    return keys.case_hold_sk(order_place(_hold_micros(item)), item.case_id)


def _with_placed(
    read: Iterable[Any], placed: list[Any], position: str | None, newest_first: bool
) -> Iterator[Any]:
    """The index's cases in the order's walk, with the ones this read just re-keyed at their new
    keys whatever the index shows yet: an index lags its table (DynamoDB's, by up to about a
    second), and a case read at its old key on this page and at its new one on the next was listed
    twice, or never when its new key was on the side the walk had read. Past the cursor only."""
    mine = {item.pk: item for item in placed if item.case_hold_sk is not None and in_hold_order(item.status)}

    def ahead(item: Any) -> bool:
        if position is None:
            return True
        return item.case_hold_sk < position if newest_first else item.case_hold_sk > position

    def key(item: Any) -> str:
        return str(item.case_hold_sk)

    from_index = (item for item in read if item.pk not in mine)
    rekeyed = sorted((item for item in mine.values() if ahead(item)), key=key, reverse=newest_first)
    return heapq.merge(from_index, rekeyed, key=key, reverse=newest_first)


def _same_side(position: str | None, newest_first: bool) -> Callable[[str | None, str], bool]:
    """Whether a case may move from its hold-order key to another while a walk by hold amount stands
    at `position` (None: a first page, anywhere): only on the side of it that the walk has read, or
    only on the side it has yet to read. Moved across, a case not yet listed would be passed over
    (a larger hold, past a walk from the largest) and one listed would come again. A case with no
    key yet is in no walk: it moves anywhere."""

    def moves(old: str | None, new: str) -> bool:
        if position is None or old is None:
            return True
        if newest_first:
            return (old < position) == (new < position)
        return (old > position) == (new > position)

    return moves


def _case(item: Any) -> Case:
    details, counts, firsts = _map(item.reasons), _map(item.reason_counts), _map(item.reason_first)
    reasons = [
        Reason(code, str(detail), int(counts.get(code, 1)), str(firsts.get(code, "")))
        for code, detail in details.items()
    ]
    reasons.sort(key=lambda r: (r.first, r.code))
    return Case(
        program_id=item.program_id,
        case_id=item.case_id,
        subject_type=item.subject_type,
        subject_id=item.subject_id,
        subject_name=item.subject_name,
        reasons=reasons,
        status=item.status,
        flagged_at=item.flagged_at,
        flag_event_id=item.flag_event_id,
        hold_micros=_hold_micros(item),
        held_count=int(item.held_count or 0),
        flags=int(item.flags or 0),
        disputed_at=item.disputed_at,
        dispute_reason=item.dispute_reason,
        disputed_by=item.disputed_by,
        resolved_at=item.resolved_at,
        verdict=item.verdict,
        verdict_note=item.verdict_note,
        verdict_evidence=(
            {k: int(v) for k, v in _map(item.verdict_evidence).items()}
            if item.verdict_evidence is not None
            else None
        ),
        verdict_flags=int(item.verdict_flags) if item.verdict_flags is not None else None,
        removed_at=item.removed_at,
        removed_by=item.removed_by,
        block_reapply=bool(item.block_reapply),
        archived_count=int(item.archived_count or 0),
        archived_micros={k: int(v) for k, v in _map(item.archived_micros).items()},
        subject_team=item.subject_team,
    )


def _notification(item: Any) -> Notification:
    return Notification(
        item.notification_id, item.program_id, item.name, json.loads(item.detail), item.created_at
    )
