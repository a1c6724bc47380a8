"""The loyalty part of the DynamoDB adapter.

An earn or spend is one `TransactGetItems` (the snapshot it decides on) and one
`TransactWriteItems` (action, profile, period totals, campaign counters), each item guarded by a
condition: the action id unused, the profile at the version read, the campaign counters at most
their ceilings. Period items carry the audience index keys (`agg_pk`, `agg_earned`, `agg_bonus`,
`agg_spent`), so "customers above a threshold in a period" is a query on the index.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from pynamodb.attributes import MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist, PynamoDBException
from pynamodb.models import Model
from pynamodb.transactions import TransactGet, TransactWrite

from functions.loyalty import caps
from functions.loyalty.retry import backoff
from functions.shared.errors import NotFound, StorageUnavailable
from functions.shared.storage import keys_loyalty as keys
from functions.shared.storage.dynamodb_base import (
    DynamoBase,
    batch_items,
    condition_failed,
    domain_error,
    side_by_side,
)
from functions.shared.storage.keys import from_timestamp, timestamp
from functions.shared.storage.port_loyalty import (
    LIFETIME,
    BalanceChange,
    Campaign,
    CustomerChange,
    HistoryEntry,
    LoyaltyAction,
    LoyaltyCustomer,
    LoyaltyState,
    PeriodTotals,
    Totals,
    Workflow,
    WorkflowAction,
    WorkflowRun,
    day_period,
)

ACTION_RETENTION = timedelta(days=400)  # how long an action id answers retries
DAY_RETENTION = timedelta(days=400)  # day totals outlive every rolling window by far
_STALE_REASONS = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_SNAPSHOT_ATTEMPTS = 5
_DONE_ATTEMPTS = 4  # a run's note taken off its customer, against transactions in flight on it


def loyalty_items(base: type[Model]) -> dict[str, type[Model]]:
    """The loyalty item classes on the table's base model."""

    class LoyaltyCustomerItem(base, discriminator="loyalty_customer"):  # type: ignore[valid-type,misc,call-arg]
        # lifetime totals are the index attributes agg_earned / agg_bonus / agg_spent
        program_id = UnicodeAttribute()
        customer_id = UnicodeAttribute()
        status = UnicodeAttribute()
        balance = NumberAttribute()
        version = NumberAttribute()
        created_at = UTCDateTimeAttribute()
        markers: MapAttribute[str, Any] = MapAttribute(null=True)
        runs_due: MapAttribute[str, Any] = MapAttribute(null=True)  # action id -> the earn's time
        blocked_from = UnicodeAttribute(null=True)  # while blocked: the status it was blocked from

    class LoyaltyPeriodItem(base, discriminator="loyalty_period"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        customer_id = UnicodeAttribute()
        period = UnicodeAttribute()
        markers: MapAttribute[str, Any] = MapAttribute(null=True)
        # JSON: {arrival day: [earned, bonus, spent]} (`PeriodTotals.late`)
        late = UnicodeAttribute(null=True)

    class LoyaltyHistoryItem(base, discriminator="loyalty_history"):  # type: ignore[valid-type,misc,call-arg]
        at = UTCDateTimeAttribute()
        action = UnicodeAttribute()
        by = UnicodeAttribute()
        note = UnicodeAttribute(null=True)
        event = UnicodeAttribute(null=True)
        payload = UnicodeAttribute(null=True)  # JSON

    class LoyaltyActionItem(base, discriminator="loyalty_action"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        action_id = UnicodeAttribute()
        kind = UnicodeAttribute()
        customer_id = UnicodeAttribute()
        body_hash = UnicodeAttribute()
        answer = UnicodeAttribute()  # JSON
        at = UTCDateTimeAttribute()
        workflow_kind = UnicodeAttribute(null=True)  # the earn's kind, while its workflows are due
        workflow_occurred = UTCDateTimeAttribute(null=True)  # and its own time (`WorkflowRun.occurred_at`)

    class CampaignItem(base, discriminator="loyalty_campaign"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        campaign_id = UnicodeAttribute()
        total_cap = NumberAttribute()
        per_customer_cap = NumberAttribute()
        limit_behavior = UnicodeAttribute()
        starts_at = UTCDateTimeAttribute(null=True)
        ends_at = UTCDateTimeAttribute(null=True)
        updated_at = UTCDateTimeAttribute()
        granted_total = NumberAttribute(null=True)
        customers = NumberAttribute(null=True)
        revision = NumberAttribute()

    class CampaignShardItem(base, discriminator="loyalty_campaign_shard"):  # type: ignore[valid-type,misc,call-arg]
        # one counter shard of the campaign's total, with the settings (every shard has them)
        program_id = UnicodeAttribute()
        campaign_id = UnicodeAttribute()
        shard = NumberAttribute()
        total_cap = NumberAttribute()
        per_customer_cap = NumberAttribute()
        limit_behavior = UnicodeAttribute()
        starts_at = UTCDateTimeAttribute(null=True)
        ends_at = UTCDateTimeAttribute(null=True)
        updated_at = UTCDateTimeAttribute()
        revision = NumberAttribute()
        used = NumberAttribute()
        quota = NumberAttribute()
        customers = NumberAttribute()
        # at revision `left_revision`, at most `left_points` were left under the cap (`caps.left_marks`)
        left_revision = NumberAttribute(null=True)
        left_points = NumberAttribute(null=True)

    class CampaignEntryItem(base, discriminator="loyalty_campaign_entry"):  # type: ignore[valid-type,misc,call-arg]
        # the campaign in its program's list, its settings as last saved (no counters)
        program_id = UnicodeAttribute()
        campaign_id = UnicodeAttribute()
        total_cap = NumberAttribute()
        per_customer_cap = NumberAttribute()
        limit_behavior = UnicodeAttribute()
        starts_at = UTCDateTimeAttribute(null=True)
        ends_at = UTCDateTimeAttribute(null=True)
        updated_at = UTCDateTimeAttribute()
        revision = NumberAttribute()

    class CampaignCustomerItem(base, discriminator="loyalty_campaign_customer"):  # type: ignore[valid-type,misc,call-arg]
        program_id = UnicodeAttribute()
        campaign_id = UnicodeAttribute()
        customer_id = UnicodeAttribute()
        granted = NumberAttribute()

    class WorkflowsItem(base, discriminator="loyalty_workflows"):  # type: ignore[valid-type,misc,call-arg]
        # a program has few workflows: one item, read with the earn's snapshot
        program_id = UnicodeAttribute()
        workflows = UnicodeAttribute()  # JSON: id -> definition
        version = NumberAttribute()

    return {
        "loyalty_customer": LoyaltyCustomerItem,
        "loyalty_period": LoyaltyPeriodItem,
        "loyalty_history": LoyaltyHistoryItem,
        "loyalty_action": LoyaltyActionItem,
        "loyalty_campaign": CampaignItem,
        "loyalty_campaign_shard": CampaignShardItem,
        "loyalty_campaign_entry": CampaignEntryItem,
        "loyalty_campaign_customer": CampaignCustomerItem,
        "loyalty_workflows": WorkflowsItem,
    }


def _index_of(aggregation: str) -> str:
    return f"loyalty_{aggregation}"


def _stale(exc: PynamoDBException) -> bool:
    """A transaction cancelled because a condition no longer held (or a concurrent transaction
    touched an item): the caller reads again."""
    if getattr(exc, "cause_response_code", None) != "TransactionCanceledException":
        return False
    reasons = [r.code for r in getattr(exc, "cancellation_reasons", []) if r is not None]
    return not reasons or any(code in _STALE_REASONS for code in reasons)


class LoyaltyDynamo(DynamoBase):
    """Loyalty storage on DynamoDB."""

    # --- earn and spend ----------------------------------------------------------------
    def read_loyalty_state(
        self,
        program_id: str,
        customer_id: str,
        *,
        action_id: str | None = None,
        periods: tuple[str, ...] = (),
        campaign_id: str | None = None,
        campaign_shards: tuple[int, ...] | None = None,
        with_workflows: bool = False,
    ) -> LoyaltyState:
        # a legacy campaign item is moved to its shards once; a read that lost that race reads again
        for _ in range(_SNAPSHOT_ATTEMPTS):
            state = self._snapshot(
                program_id, customer_id, action_id, periods, campaign_id, campaign_shards, with_workflows
            )
            if state.campaign is not None or not campaign_id or not self._migrated(program_id, campaign_id):
                return state
        raise StorageUnavailable(f"campaign {campaign_id} kept changing while it was moved to its shards")

    def _snapshot(
        self,
        program_id: str,
        customer_id: str,
        action_id: str | None,
        periods: tuple[str, ...],
        campaign_id: str | None,
        campaign_shards: tuple[int, ...] | None,
        with_workflows: bool,
    ) -> LoyaltyState:
        m = self._m.items
        pk = keys.customer_pk(program_id, customer_id)
        for attempt in range(_SNAPSHOT_ATTEMPTS):
            try:
                with TransactGet(connection=self._m.connection()) as read:
                    customer = read.get(m["loyalty_customer"], pk, keys.PROFILE_SK)
                    action = (
                        read.get(m["loyalty_action"], keys.action_pk(program_id, action_id), keys.ACTION_SK)
                        if action_id
                        else None
                    )
                    found_periods = [read.get(m["loyalty_period"], pk, keys.period_sk(p)) for p in periods]
                    shards, counter = [], None
                    if campaign_id:
                        shards = [
                            read.get(
                                m["loyalty_campaign_shard"],
                                keys.campaign_shard_pk(program_id, campaign_id, j),
                                keys.CAMPAIGN_SHARD_SK,
                            )
                            for j in (
                                range(caps.CAMPAIGN_SHARDS) if campaign_shards is None else campaign_shards
                            )
                        ]
                        counter = read.get(
                            m["loyalty_campaign_customer"], pk, keys.campaign_counter_sk(campaign_id)
                        )
                    workflows = (
                        read.get(m["loyalty_workflows"], keys.workflows_pk(program_id), keys.WORKFLOWS_SK)
                        if with_workflows
                        else None
                    )
                break
            except PynamoDBException as exc:
                if _stale(exc) and attempt + 1 < _SNAPSHOT_ATTEMPTS:
                    continue  # a concurrent transaction held an item: read again
                raise domain_error(exc, f"reading customer {customer_id} failed") from exc
        counter_item = _resolved(counter)
        return LoyaltyState(
            customer=_customer(_resolved(customer)),
            action=_action(_resolved(action)),
            periods={
                p: _period(item)
                for p, item in zip(periods, map(_resolved, found_periods), strict=True)
                if item
            },
            campaign=_campaign([_resolved(shard) for shard in shards]),
            campaign_granted=int(counter_item.granted) if counter_item else None,
            workflows=tuple(_workflows(_resolved(workflows), program_id)),
        )

    def record_loyalty_action(self, change: BalanceChange) -> bool:
        m = self._m.items
        action = change.action
        p, c = action.program_id, action.customer_id
        due = change.workflows_due
        # workflows due: the action item enters the outbox index until they ran (storage first)
        run_keys = (
            {
                "outbox_pk": keys.workflow_run_pk(p, keys.shard_of(action.action_id)),
                "outbox_sk": keys.workflow_run_sk(due.at, action.action_id),
                "workflow_kind": due.kind,
                "workflow_occurred": due.occurred_at,
            }
            if due is not None
            else {}
        )
        try:
            with TransactWrite(connection=self._m.connection()) as write:
                write.save(
                    m["loyalty_action"](
                        keys.action_pk(p, action.action_id),
                        keys.ACTION_SK,
                        program_id=p,
                        action_id=action.action_id,
                        kind=action.kind,
                        customer_id=c,
                        body_hash=action.body_hash,
                        answer=json.dumps(action.answer, sort_keys=True),
                        at=action.at,
                        expires_at=int((action.at + ACTION_RETENTION).timestamp()),
                        **run_keys,
                    ),
                    condition=self._m.base.pk.does_not_exist(),
                )
                self._write_customer(write, change.expected_version, change.customer, change.periods)
                if change.grant is not None:
                    self._grant(write, p, c, change.grant)
            return True
        except PynamoDBException as exc:
            if _stale(exc):
                return False
            raise domain_error(exc, f"recording {action.kind} {action.action_id} failed") from exc

    def _write_customer(
        self,
        write: TransactWrite,
        expected_version: int,
        customer: LoyaltyCustomer,
        periods: tuple[PeriodTotals, ...],
    ) -> None:
        """The customer's new state, on condition that nobody moved it since `expected_version`."""
        m, base = self._m.items, self._m.base
        p, c = customer.program_id, customer.customer_id
        pk, shard = keys.customer_pk(p, c), keys.shard_of(c)
        condition = (
            base.pk.does_not_exist()
            if expected_version == 0
            else m["loyalty_customer"].version == expected_version
        )
        write.save(
            m["loyalty_customer"](
                pk,
                keys.PROFILE_SK,
                program_id=p,
                customer_id=c,
                status=customer.status,
                balance=customer.balance,
                version=expected_version + 1,
                created_at=customer.created_at,
                markers=customer.markers,
                runs_due={_note_key(a): timestamp(t) for a, t in customer.runs_due.items()} or None,
                blocked_from=customer.blocked_from,
                agg_pk=keys.audience_pk(p, LIFETIME, shard),
                agg_earned=customer.lifetime.earned,
                agg_bonus=customer.lifetime.bonus,
                agg_spent=customer.lifetime.spent,
            ),
            condition=condition,
        )
        for period in periods:
            expires = None
            if period.period.startswith("D"):
                day = date.fromisoformat(period.period[1:])
                expires = int((datetime(day.year, day.month, day.day) + DAY_RETENTION).timestamp())
            write.save(
                m["loyalty_period"](
                    pk,
                    keys.period_sk(period.period),
                    program_id=p,
                    customer_id=c,
                    period=period.period,
                    markers=period.markers,
                    late=_late_json(period.late),
                    agg_pk=keys.audience_pk(p, period.period, shard),
                    agg_earned=period.totals.earned,
                    agg_bonus=period.totals.bonus,
                    agg_spent=period.totals.spent,
                    expires_at=expires,
                )
            )

    def _grant(self, write: TransactWrite, program_id: str, customer_id: str, grant: Any) -> None:
        shard, counter = self._m.items["loyalty_campaign_shard"], self._m.items["loyalty_campaign_customer"]
        for part in grant.shards:
            actions = [shard.used.add(part.points)]
            if part.new_customer:
                actions.append(shard.customers.add(1))
            write.update(
                shard(
                    keys.campaign_shard_pk(program_id, grant.campaign_id, part.index), keys.CAMPAIGN_SHARD_SK
                ),
                actions=actions,
                condition=(shard.revision == grant.revision) & (shard.used <= part.ceiling),
            )
        write.update(
            counter(keys.customer_pk(program_id, customer_id), keys.campaign_counter_sk(grant.campaign_id)),
            actions=[
                self._m.base.item_type.set(counter),
                counter.program_id.set(program_id),
                counter.campaign_id.set(grant.campaign_id),
                counter.customer_id.set(customer_id),
                counter.granted.add(grant.points),
            ],
            condition=(
                self._m.base.pk.does_not_exist()
                if grant.first_for_customer
                else counter.granted <= grant.customer_ceiling
            ),
        )

    # --- customers -----------------------------------------------------------------------
    def get_loyalty_customer(self, program_id: str, customer_id: str) -> LoyaltyCustomer:
        item = self._get(
            self._m.items["loyalty_customer"], keys.customer_pk(program_id, customer_id), keys.PROFILE_SK
        )
        if item is None:
            raise NotFound(f"customer {customer_id} not found")
        return _customer(item)  # type: ignore[return-value]

    def loyalty_customers(self, program_id: str, customer_ids: Sequence[str]) -> list[LoyaltyCustomer]:
        keys_read = [(keys.customer_pk(program_id, c), keys.PROFILE_SK) for c in customer_ids]
        try:
            what = f"reading {len(keys_read)} customers"
            found = batch_items(self._m.items["loyalty_customer"], keys_read, what=what)
            return [_customer(item) for item in found]  # type: ignore[misc]
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading {len(keys_read)} customers failed") from exc

    def loyalty_periods(
        self, program_id: str, customer_id: str, periods: tuple[str, ...]
    ) -> dict[str, PeriodTotals]:
        if not periods:
            return {}
        pk = keys.customer_pk(program_id, customer_id)
        try:
            wanted = [(pk, keys.period_sk(p)) for p in periods]
            found = batch_items(self._m.items["loyalty_period"], wanted, what="reading periods")
            return {period.period: _period(period) for period in found}
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading totals of customer {customer_id} failed") from exc

    def loyalty_day_items(
        self, program_id: str, customer_id: str, first: date, last: date
    ) -> dict[date, PeriodTotals]:
        item = self._m.items["loyalty_period"]
        try:
            query = item.query(
                keys.customer_pk(program_id, customer_id),
                range_key_condition=self._m.base.sk.between(
                    keys.period_sk(day_period(first)), keys.period_sk(day_period(last))
                ),
                consistent_read=True,
            )
            return {date.fromisoformat(found.period[1:]): _period(found) for found in query}
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading days of customer {customer_id} failed") from exc

    def loyalty_history_page(
        self, program_id: str, customer_id: str, before: tuple[int, int] | None, limit: int
    ) -> list[tuple[tuple[int, int], HistoryEntry]]:
        item = self._m.items["loyalty_history"]
        sk = self._m.base.sk
        # newest first from just below the position (between is inclusive: the position's own
        # entry, already shown, is dropped)
        upper = keys.history_sk(*before) if before else keys.HISTORY_PREFIX + "~"
        try:
            query = item.query(
                keys.customer_pk(program_id, customer_id),
                range_key_condition=sk.between(keys.HISTORY_PREFIX, upper),
                scan_index_forward=False,
                consistent_read=True,
                limit=limit + 1,
            )
            found = [(_history_position(i.sk), _history(i)) for i in query if i.sk != upper]
        except PynamoDBException as exc:
            raise domain_error(exc, f"reading history of customer {customer_id} failed") from exc
        return found[:limit]

    def change_loyalty_customer(self, change: CustomerChange) -> bool:
        customer = change.customer
        pk = keys.customer_pk(customer.program_id, customer.customer_id)
        try:
            with TransactWrite(connection=self._m.connection()) as write:
                self._write_customer(write, change.expected_version, customer, change.periods)
                for position, entry in enumerate(change.history):
                    write.save(
                        self._history_item(pk, change.expected_version + 1, position, entry),
                        condition=self._m.base.pk.does_not_exist(),
                    )
                for notification in change.notifications:  # into the outbox, with the change
                    self._record_notification(write, notification)
            return True
        except PynamoDBException as exc:
            if _stale(exc):
                return False
            raise domain_error(exc, f"changing customer {customer.customer_id} failed") from exc

    def _history_item(self, pk: str, version: int, position: int, entry: HistoryEntry) -> Model:
        return self._m.items["loyalty_history"](
            pk,
            keys.history_sk(version, position),
            at=entry.at,
            action=entry.action,
            by=entry.by,
            note=entry.note,
            event=entry.event,
            payload=json.dumps(entry.payload, sort_keys=True) if entry.payload is not None else None,
        )

    def customers_above(
        self,
        program_id: str,
        aggregation: str,
        period: str,
        threshold: int,
        *,
        without_marker: str | None = None,
    ) -> list[str]:
        index = self._m.indexes[_index_of(aggregation)]
        sort_key = getattr(self._m.base, f"agg_{aggregation}")

        def shard_above(shard: int) -> list[str]:
            query = index.query(
                keys.audience_pk(program_id, period, shard), range_key_condition=sort_key > threshold
            )
            # the marker is left out here, not by a filter expression: a workflow id may hold
            # `[`, `]` or `.`, which a document path cannot name (every run of such a workflow,
            # and of the workflows run with it, failed); a filter reads as much capacity anyway
            return [
                item.customer_id
                for item in query
                if without_marker is None or without_marker not in _markers(item)
            ]

        try:
            return sorted(set(side_by_side(shard_above, keys.LOYALTY_SHARDS)))
        except PynamoDBException as exc:
            raise domain_error(exc, f"finding customers above {threshold} failed") from exc

    # --- campaigns -----------------------------------------------------------------------
    def put_campaign(
        self, campaign: Campaign, expected_revision: int, quotas: tuple[caps.QuotaChange, ...] = ()
    ) -> bool:
        item = self._m.items["loyalty_campaign_shard"]
        p, k = campaign.program_id, campaign.campaign_id
        try:
            with TransactWrite(connection=self._m.connection()) as write:
                write.save(self._entry(campaign))  # the shards' conditions hold the whole write
                if expected_revision == 0:
                    for shard in campaign.shards:
                        write.save(
                            self._shard_item(campaign, shard.index, shard.used, shard.quota, shard.customers),
                            condition=self._m.base.pk.does_not_exist(),
                        )
                for change in quotas:
                    condition = item.revision == expected_revision
                    if change.ceiling is not None:
                        condition &= item.used <= change.ceiling
                    if change.within_quota:
                        condition &= item.used <= item.quota
                    write.update(
                        item(keys.campaign_shard_pk(p, k, change.index), keys.CAMPAIGN_SHARD_SK),
                        actions=[
                            item.total_cap.set(campaign.total_cap),
                            item.per_customer_cap.set(campaign.per_customer_cap),
                            item.limit_behavior.set(campaign.limit_behavior),
                            item.starts_at.set(campaign.starts_at)
                            if campaign.starts_at
                            else item.starts_at.remove(),
                            item.ends_at.set(campaign.ends_at) if campaign.ends_at else item.ends_at.remove(),
                            item.updated_at.set(campaign.updated_at),
                            item.revision.set(campaign.revision),
                            item.quota.set(item.used if change.quota is None else change.quota),
                            item.left_revision.remove(),  # stale at the new revision anyway
                            item.left_points.remove(),
                        ],
                        condition=condition,
                    )
            return True
        except PynamoDBException as exc:
            if _stale(exc):
                return False
            raise domain_error(exc, f"saving campaign {k} failed") from exc

    def mark_campaign_left(
        self, program_id: str, campaign_id: str, revision: int, left: int, shards: tuple[int, ...]
    ) -> None:
        # one conditional UpdateItem a shard (1 WCU each), only ever to a smaller figure at the
        # revision: a shard changed since, marked lower meanwhile, or in a cap change's transaction
        # right now is left as it is (a shard not marked: its bonuses read every shard, as before)
        item = self._m.items["loyalty_campaign_shard"]
        looser = (
            item.left_revision.does_not_exist() | (item.left_revision != revision) | (item.left_points > left)
        )
        for j in shards:
            try:
                item(keys.campaign_shard_pk(program_id, campaign_id, j), keys.CAMPAIGN_SHARD_SK).update(
                    actions=[item.left_revision.set(revision), item.left_points.set(left)],
                    condition=(item.revision == revision) & looser,
                )
            except PynamoDBException as exc:
                conflict = getattr(exc, "cause_response_code", None) == "TransactionConflictException"
                if not (condition_failed(exc) or conflict):
                    raise domain_error(exc, f"marking what campaign {campaign_id} has left failed") from exc

    def _entry(self, campaign: Campaign) -> Model:
        """The campaign in its program's list (`campaigns_page`): its settings, no counters."""
        return self._m.items["loyalty_campaign_entry"](
            keys.campaigns_pk(campaign.program_id),
            keys.campaign_entry_sk(campaign.campaign_id),
            program_id=campaign.program_id,
            campaign_id=campaign.campaign_id,
            total_cap=campaign.total_cap,
            per_customer_cap=campaign.per_customer_cap,
            limit_behavior=campaign.limit_behavior,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            updated_at=campaign.updated_at,
            revision=campaign.revision,
        )

    def _shard_item(self, campaign: Campaign, index: int, used: int, quota: int, customers: int) -> Model:
        return self._m.items["loyalty_campaign_shard"](
            keys.campaign_shard_pk(campaign.program_id, campaign.campaign_id, index),
            keys.CAMPAIGN_SHARD_SK,
            program_id=campaign.program_id,
            campaign_id=campaign.campaign_id,
            shard=index,
            total_cap=campaign.total_cap,
            per_customer_cap=campaign.per_customer_cap,
            limit_behavior=campaign.limit_behavior,
            starts_at=campaign.starts_at,
            ends_at=campaign.ends_at,
            updated_at=campaign.updated_at,
            revision=campaign.revision,
            used=used,
            quota=quota,
            customers=customers,
        )

    def get_campaign(self, program_id: str, campaign_id: str) -> Campaign:
        # Strongly consistent, shard by shard (not a transaction: a transactional read of 8 shards
        # would be refused while any of them is in a bonus's transaction). Enough for the PUT:
        # a shard's room and used move together, and its write's conditions catch the rest.
        item = self._m.items["loyalty_campaign_shard"]
        keys_of = [
            (keys.campaign_shard_pk(program_id, campaign_id, j), keys.CAMPAIGN_SHARD_SK)
            for j in range(caps.CAMPAIGN_SHARDS)
        ]
        for _ in range(3):  # again after moving a campaign kept in one item to its shards
            try:
                read = batch_items(item, keys_of, what=f"reading campaign {campaign_id}")
                found = sorted(read, key=lambda shard: int(shard.shard))
            except PynamoDBException as exc:
                raise domain_error(exc, f"reading campaign {campaign_id} failed") from exc
            campaign = _campaign(found)
            if campaign is not None:
                return campaign
            if not self._migrated(program_id, campaign_id):
                break
        raise NotFound(f"campaign {campaign_id} not found")

    def campaigns_page(self, program_id: str, after: str | None, limit: int) -> list[Campaign]:
        try:
            return [_campaign_settings(entry) for entry in self._entries(program_id, after, limit)]
        except PynamoDBException as exc:
            raise domain_error(exc, "listing the campaigns failed") from exc

    def list_every_campaign(self, program_id: str) -> tuple[int, int]:
        """Reads the whole table twice, once per kind of campaign item (nothing but the list finds a
        program's campaigns; a one-off): each campaign's first shard, or its one item from before
        shards, whose entry is missing is listed on condition there is still none (a save meanwhile
        writes the newer settings)."""
        shard, legacy = self._m.items["loyalty_campaign_shard"], self._m.items["loyalty_campaign"]
        prefix = keys.campaign_pk(program_id, "")
        try:
            listed = {item.campaign_id for item in self._entries(program_id)}
            found = [
                item
                for model in (shard, legacy)
                for item in model.scan(self._m.base.pk.startswith(prefix))
                if item.program_id == program_id
                and item.campaign_id not in listed
                and (model is legacy or int(item.shard) == 0)
            ]
        except PynamoDBException as exc:
            raise domain_error(exc, f"finding the campaigns of {program_id} failed") from exc
        placed = 0
        for item in found:
            if isinstance(item, legacy):  # moved to its shards, and listed, as a read of it does
                placed += self._migrated(program_id, item.campaign_id)
                continue
            try:
                self._entry(_campaign_settings(item)).save(condition=self._m.base.pk.does_not_exist())
                placed += 1
            except PynamoDBException as exc:
                if not condition_failed(exc):
                    raise domain_error(exc, f"listing campaign {item.campaign_id} failed") from exc
        return len(found), placed

    def _entries(self, program_id: str, after: str | None = None, limit: int | None = None) -> Iterator[Any]:
        """The program's list of campaigns by id, strictly after `after`, read strongly."""
        sk = self._m.base.sk
        condition = (
            sk > keys.campaign_entry_sk(after)
            if after is not None
            else sk.startswith(keys.campaign_entry_sk(""))
        )
        return self._m.items["loyalty_campaign_entry"].query(
            keys.campaigns_pk(program_id), range_key_condition=condition, limit=limit, consistent_read=True
        )

    def _migrated(self, program_id: str, campaign_id: str) -> bool:
        """A campaign kept in one item (before its total was split) becomes its shards, shard 0
        taking what it granted; False when there is none. True also when a concurrent migration or
        grant won the race: the caller reads again."""
        legacy = self._get(
            self._m.items["loyalty_campaign"], keys.campaign_pk(program_id, campaign_id), keys.CAMPAIGN_SK
        )
        if legacy is None:
            return False
        old = _legacy_campaign(legacy)
        granted, customers = int(legacy.granted_total or 0), int(legacy.customers or 0)
        item = self._m.items["loyalty_campaign"]
        try:
            with TransactWrite(connection=self._m.connection()) as write:
                write.save(self._entry(old))  # listed from now on, as a campaign saved since is
                for shard in caps.initial_shards(old.total_cap, granted, customers):
                    write.save(
                        self._shard_item(old, shard.index, shard.used, shard.quota, shard.customers),
                        condition=self._m.base.pk.does_not_exist(),
                    )
                write.delete(
                    item(keys.campaign_pk(program_id, campaign_id), keys.CAMPAIGN_SK),
                    condition=(item.revision == legacy.revision)
                    & (
                        item.granted_total.does_not_exist()
                        if legacy.granted_total is None
                        else item.granted_total == legacy.granted_total
                    ),
                )
        except PynamoDBException as exc:
            if not _stale(exc):
                raise domain_error(exc, f"moving campaign {campaign_id} to shards failed") from exc
        return True

    # --- workflows -----------------------------------------------------------------------
    def _workflows_item(self, program_id: str) -> Any:
        return self._get(self._m.items["loyalty_workflows"], keys.workflows_pk(program_id), keys.WORKFLOWS_SK)

    def _save_workflows(self, program_id: str, current: Any, definitions: dict[str, Any]) -> bool:
        """Replaces the program's workflows if nobody else did since `current` was read."""
        item = self._m.items["loyalty_workflows"]
        version = int(current.version) if current is not None else 0
        record = item(
            keys.workflows_pk(program_id),
            keys.WORKFLOWS_SK,
            program_id=program_id,
            workflows=json.dumps(definitions, sort_keys=True, ensure_ascii=False),  # UTF-8, as counted
            version=version + 1,
        )
        condition = self._m.base.pk.does_not_exist() if current is None else item.version == version
        try:
            record.save(condition=condition)
            return True
        except PynamoDBException as exc:
            if condition_failed(exc):
                return False
            raise domain_error(exc, f"saving the workflows of {program_id} failed") from exc

    def put_workflow(
        self, workflow: Workflow, admit: Callable[[Mapping[str, Workflow], Workflow], None]
    ) -> Workflow:
        written = json.loads(json.dumps(_workflow_json(workflow), sort_keys=True))  # as read back
        saved = False
        while True:  # admitted against the item it replaces, on condition of its version
            current = self._workflows_item(workflow.program_id)
            definitions = json.loads(current.workflows) if current is not None else {}
            if saved and definitions.get(workflow.workflow_id) == written:
                return workflow  # this call's save made: its answer lost, botocore's retry refused
            admit({w.workflow_id: w for w in _workflows(current, workflow.program_id)}, workflow)
            definitions[workflow.workflow_id] = written
            saved = True
            if self._save_workflows(workflow.program_id, current, definitions):
                return workflow

    def get_workflow(self, program_id: str, workflow_id: str) -> Workflow:
        for workflow in self.list_workflows(program_id):
            if workflow.workflow_id == workflow_id:
                return workflow
        raise NotFound(f"workflow {workflow_id} not found")

    def list_workflows(self, program_id: str) -> list[Workflow]:
        return _workflows(self._workflows_item(program_id), program_id)

    # --- workflow runs behind the queue --------------------------------------------------
    def workflow_runs_due(self, program_id: str, before: datetime, limit: int) -> list[WorkflowRun]:
        index, base = self._m.indexes["outbox"], self._m.base
        runs: list[WorkflowRun] = []
        try:
            for shard in range(keys.LOYALTY_SHARDS):
                query = index.query(
                    keys.workflow_run_pk(program_id, shard),
                    range_key_condition=base.outbox_sk < timestamp(before),
                    limit=limit - len(runs),
                )
                runs.extend(_run(item) for item in query)
                if len(runs) >= limit:
                    break
        except PynamoDBException as exc:
            raise domain_error(exc, "reading the due workflow runs failed") from exc
        return runs

    def workflow_run_done(self, run: WorkflowRun) -> None:
        items, base = self._m.items, self._m.base
        item, customer = items["loyalty_action"], items["loyalty_customer"]
        noted = customer.runs_due[_note_key(run.action_id)]
        # the customer's note first: a run stopped between the two is done again (both idempotent)
        for attempt in range(_DONE_ATTEMPTS):
            try:
                customer(keys.customer_pk(run.program_id, run.customer_id), keys.PROFILE_SK).update(
                    actions=[noted.remove(), customer.version.add(1)], condition=noted.exists()
                )
                break
            except PynamoDBException as exc:
                if condition_failed(exc):  # not noted there (its earn matched no suspending workflow)
                    break
                # an earn's or a spend's transaction on the customer in flight: that refusal passes
                conflict = getattr(exc, "cause_response_code", None) == "TransactionConflictException"
                if not conflict or attempt == _DONE_ATTEMPTS - 1:
                    raise domain_error(exc, f"marking the workflows of {run.action_id} done failed") from exc
                backoff(attempt)
        try:
            item(keys.action_pk(run.program_id, run.action_id), keys.ACTION_SK).update(
                actions=[
                    base.outbox_pk.remove(),
                    base.outbox_sk.remove(),
                    item.workflow_kind.remove(),
                    item.workflow_occurred.remove(),
                ],
                condition=base.pk.exists(),
            )
        except PynamoDBException as exc:
            if condition_failed(exc):
                return  # the action expired: nothing left to mark
            raise domain_error(exc, f"marking the workflows of {run.action_id} done failed") from exc

    def delete_workflow(self, program_id: str, workflow_id: str) -> None:
        saved = False
        while True:
            current = self._workflows_item(program_id)
            definitions = json.loads(current.workflows) if current is not None else {}
            if workflow_id not in definitions:
                if saved:  # gone since this call's save: the save made (its answer lost, botocore's
                    return  # retry refused on the version it had moved) or a teammate's, deleted either way
                raise NotFound(f"workflow {workflow_id} not found")
            del definitions[workflow_id]
            saved = True
            if self._save_workflows(program_id, current, definitions):
                return


def _run(item: Any) -> WorkflowRun:
    at = keys.workflow_run_at(item.outbox_sk)
    return WorkflowRun(
        item.program_id, item.action_id, item.customer_id, item.workflow_kind, at, (), item.workflow_occurred
    )


def _resolved(future: Any) -> Any:
    if future is None:
        return None
    try:
        return future.get()
    except DoesNotExist:
        return None


def _totals(item: Any) -> Totals:
    return Totals(int(item.agg_earned or 0), int(item.agg_bonus or 0), int(item.agg_spent or 0))


def _markers(item: Any) -> dict[str, str]:
    return _map(item.markers)


def _map(attribute: Any) -> dict[str, Any]:
    return dict(attribute.as_dict()) if attribute is not None else {}


def _customer(item: Any) -> LoyaltyCustomer | None:
    if item is None:
        return None
    return LoyaltyCustomer(
        program_id=item.program_id,
        customer_id=item.customer_id,
        status=item.status,
        balance=int(item.balance),
        version=int(item.version),
        lifetime=_totals(item),
        created_at=item.created_at,
        markers=_markers(item),
        runs_due={_action_of_note(a): from_timestamp(t) for a, t in _map(item.runs_due).items()},
        blocked_from=item.blocked_from,
    )


# An earn's id keys its note in `runs_due`, and a document path names the note to take it off; a
# path reads `[` and `]` as a list's index (`order[1]`: element 1 of `order`), and identifiers may
# hold them (SPEC 3.1). So they are written escaped, as `%` is not an identifier's (nor is it
# ever decoded from one written before: a key without `%` reads as it is).
_NOTE_ESCAPES = str.maketrans({"%": "%25", "[": "%5B", "]": "%5D"})


def _note_key(action_id: str) -> str:
    return action_id.translate(_NOTE_ESCAPES)


def _action_of_note(key: str) -> str:
    return key.replace("%5B", "[").replace("%5D", "]").replace("%25", "%") if "%" in key else key


def _period(item: Any) -> PeriodTotals:
    late = json.loads(item.late) if item.late else {}
    arrived = {date.fromisoformat(day): Totals(*(int(n) for n in figures)) for day, figures in late.items()}
    return PeriodTotals(item.period, _totals(item), _markers(item), arrived)


def _late_json(late: dict[date, Totals]) -> str | None:
    figures = {day.isoformat(): [t.earned, t.bonus, t.spent] for day, t in sorted(late.items())}
    return json.dumps(figures) if figures else None


def _action(item: Any) -> LoyaltyAction | None:
    if item is None:
        return None
    return LoyaltyAction(
        program_id=item.program_id,
        action_id=item.action_id,
        kind=item.kind,
        customer_id=item.customer_id,
        body_hash=item.body_hash,
        answer=json.loads(item.answer),
        at=item.at,
    )


def _history_position(sk: str) -> tuple[int, int]:
    version, place = sk.removeprefix(keys.HISTORY_PREFIX).split("#")
    return int(version), int(place)


def _history(item: Any) -> HistoryEntry:
    return HistoryEntry(
        at=item.at,
        action=item.action,
        by=item.by,
        note=item.note,
        event=item.event,
        payload=json.loads(item.payload) if item.payload is not None else None,
    )


def _campaign(shards: list[Any]) -> Campaign | None:
    """The campaign from the shard items read (None when there is none)."""
    found = [item for item in shards if item is not None]
    if not found:
        return None
    return _campaign_settings(
        found[0],
        tuple(
            caps.Shard(
                int(item.shard),
                int(item.used),
                int(item.quota),
                int(item.customers),
                None if item.left_revision is None else (int(item.left_revision), int(item.left_points)),
            )
            for item in found
        ),
    )


def _legacy_campaign(item: Any) -> Campaign:
    """The settings of a campaign kept in one item; its shards start at the next revision."""
    settings = _campaign_settings(item)
    return replace(settings, revision=settings.revision + 1)


def _campaign_settings(item: Any, shards: tuple[caps.Shard, ...] = ()) -> Campaign:
    """A campaign's settings as an item keeps them: a shard, its entry in the program's list, or
    the one item of a campaign from before shards."""
    return Campaign(
        program_id=item.program_id,
        campaign_id=item.campaign_id,
        total_cap=int(item.total_cap),
        per_customer_cap=int(item.per_customer_cap),
        limit_behavior=item.limit_behavior,
        starts_at=item.starts_at,
        ends_at=item.ends_at,
        updated_at=item.updated_at,
        revision=int(item.revision),
        shards=shards,
    )


def _workflow_json(workflow: Workflow) -> dict[str, Any]:
    return {
        "trigger_kind": workflow.trigger_kind,
        "aggregation": workflow.aggregation,
        "date_range": workflow.date_range,
        "audience": workflow.audience,
        "threshold": workflow.threshold,
        "actions": [{"type": a.type, "event": a.event, "payload": a.payload} for a in workflow.actions],
        "enabled": workflow.enabled,
        "updated_at": workflow.updated_at.isoformat(),
        **({"revision": workflow.revision} if workflow.revision else {}),
    }


def _workflows(item: Any, program_id: str) -> list[Workflow]:
    if item is None:
        return []
    definitions = json.loads(item.workflows)
    return [
        Workflow(
            program_id=program_id,
            workflow_id=workflow_id,
            trigger_kind=d["trigger_kind"],
            aggregation=d["aggregation"],
            date_range=d["date_range"],
            audience=d["audience"],
            threshold=int(d["threshold"]),
            actions=tuple(WorkflowAction(a["type"], a.get("event"), a.get("payload")) for a in d["actions"]),
            enabled=bool(d["enabled"]),
            updated_at=datetime.fromisoformat(d["updated_at"]),
            revision=d.get("revision"),  # none before revisions: markers under the id, as written
        )
        for workflow_id, d in sorted(definitions.items())
    ]
