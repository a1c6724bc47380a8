"""What each function may do, declared once: the DynamoDB actions it calls on the table, the indexes
it queries, whether it sends to or consumes the scoring queue or publishes to the bus, whether it
reads the network pepper secret (it calls `functions.shared.domain.identity.network_pepper()`), and
what it may do with the KMS keys that seal webhooks' and programs' signing secrets.

The Lambda factory turns an entry into the function's IAM policy and its environment (a function
is told the name of a resource only when it may use it); the infra tests check the synthesized
policies against this map in both directions. Read the code path before adding an action: the
adapter's pynamodb call decides it (`Model.get` is GetItem, `save` PutItem, `update` UpdateItem,
`batch_get` BatchGetItem, `query` Query, on an index Query on that index). A transaction
(`TransactWrite`) is authorised item by item: PutItem for `tx.save`, UpdateItem for `tx.update`,
DeleteItem for `tx.delete`, ConditionCheckItem for `tx.condition_check`; a `TransactGet` needs
GetItem. TransactWriteItems and TransactGetItems are no IAM actions of their own.

`api_keys` grants actions on API-key items alone: on the table's ARN, with the condition that the
item's partition key is an API key's (`dynamodb:LeadingKeys` like `APIKEY#*`); `table` grants its
actions on every item but those (`other_items_condition`). Every function that authenticates a
caller reads the caller's key when invoked without the edge authorizer, and writes its last use at
most once a minute (`functions.shared.auth.note_use`), and nothing else through it.

`program_secrets` grants its KMS actions on the key sealing programs' request-signing secrets (SPEC
2) with the condition that the call's encryption context names their purpose
(`functions.shared.sealing.program_context`); nothing in the app seals them: fraudctl does, with the
operator's own credentials.
"""

from __future__ import annotations

from dataclasses import dataclass

from functions.shared.sealing import PROGRAM_SECRET_PURPOSE, WEBHOOK_SECRET_CONTEXT
from functions.shared.storage import keys, keys_loyalty, keys_webhooks, schema

GET_ITEM = "dynamodb:GetItem"
BATCH_GET_ITEM = "dynamodb:BatchGetItem"
PUT_ITEM = "dynamodb:PutItem"
UPDATE_ITEM = "dynamodb:UpdateItem"
DELETE_ITEM = "dynamodb:DeleteItem"
BATCH_WRITE_ITEM = "dynamodb:BatchWriteItem"  # delivered notifications leave the outbox, 25 a call
CONDITION_CHECK_ITEM = "dynamodb:ConditionCheckItem"
QUERY = "dynamodb:Query"
KMS_ENCRYPT = "kms:Encrypt"  # sealing a webhook secret
KMS_DECRYPT = "kms:Decrypt"  # opening one to sign a delivery, or a program's to check a signature
KMS_ACTIONS = frozenset({KMS_ENCRYPT, KMS_DECRYPT})

ITEM_ACTIONS = frozenset(
    {
        GET_ITEM,
        BATCH_GET_ITEM,
        PUT_ITEM,
        UPDATE_ITEM,
        DELETE_ITEM,
        BATCH_WRITE_ITEM,
        CONDITION_CHECK_ITEM,
        QUERY,
    }
)
# The partition keys of API-key items, as an IAM pattern (`dynamodb:LeadingKeys`).
API_KEY_ITEMS = keys.api_key_pk("*")
# The partition keys of notification items (`P#<program>#NOTIFICATION#<id>`): no program id and no
# identifier holds a `#`, so no other item's key has that shape.
NOTIFICATION_ITEMS = keys.notification_pk("*", "*")
# The items a function deletes, each kind by the shape of its partition key (`Access.deletes`): a
# campaign kept in one item before its caps were sharded (`P#<program>#CAMPAIGN#<id>`), and a
# program's webhooks (`P#<program>#WEBHOOKS`).
CAMPAIGN_ITEMS = keys_loyalty.campaign_pk("*", "*")
WEBHOOK_ITEMS = keys_webhooks.webhooks_pk("*")


@dataclass(frozen=True)
class Access:
    """One function's reach. Everything not named here is denied."""

    table: frozenset[str] = frozenset()  # actions on the table's items (the base table's ARN)
    api_keys: frozenset[str] = frozenset()  # actions on API-key items only (APIKEY#* partitions)
    indexes: frozenset[str] = frozenset()  # indexes it queries (Query on each index's ARN)
    send_to_scoring: bool = False  # sqs:SendMessage on the scoring queue
    consume_scoring: bool = False  # the SQS event source reads the scoring queue
    publish_events: bool = False  # events:PutEvents on the bus
    read_network_pepper: bool = False  # secretsmanager:GetSecretValue on the network pepper secret
    # apigateway:DELETE on the API stage's authorizer cache (FlushStageAuthorizersCache)
    flush_authorizer_cache: bool = False
    send_to_webhooks: bool = False  # sqs:SendMessage on the webhooks queue (scheduling tries)
    consume_webhooks: bool = False  # the SQS event source reads the webhooks queue
    webhook_secrets: frozenset[str] = frozenset()  # KMS actions on the key sealing webhook secrets
    # KMS actions on the key sealing programs' signing secrets, for their purpose alone
    program_secrets: frozenset[str] = frozenset()
    send_to_workflows: bool = False  # sqs:SendMessage on the loyalty workflow queue
    # BatchWriteItem on notification items alone: delivered notifications leave the outbox, 25 a
    # call (a batch write deletes or puts any item: on the whole table it could delete anything)
    clears_outbox: bool = False
    consume_workflows: bool = False  # the SQS event source reads the loyalty workflow queue
    # lambda:InvokeFunction on the function's own ARN, nothing else: a run handing its rest on
    invoke_self: bool = False
    # sqs:GetQueueAttributes on the queues it sends to: a relay holds back while its queue is behind
    gauge_queues: bool = False
    # DeleteItem on the items whose partition key is like one of these alone (a deletion on the
    # whole table could delete any program's cases, events and rewards: a security tester's find)
    deletes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.gauge_queues and not (self.send_to_scoring or self.send_to_workflows):
            raise ValueError("gauge_queues reads the queues a function sends to: it sends to none")
        if BATCH_WRITE_ITEM in self.table | self.api_keys:
            raise ValueError("BatchWriteItem is granted on notification items alone: clears_outbox")
        if DELETE_ITEM in self.table | self.api_keys:
            raise ValueError("DeleteItem is granted on the kinds of items a function deletes alone: deletes")
        unknown_actions = (self.table | self.api_keys) - ITEM_ACTIONS
        if unknown_actions:
            raise ValueError(f"not a DynamoDB item action: {sorted(unknown_actions)}")
        known_indexes = {index.name for index in schema.INDEXES}
        if self.indexes - known_indexes:
            raise ValueError(f"no such index in schema.INDEXES: {sorted(self.indexes - known_indexes)}")
        if self.webhook_secrets - KMS_ACTIONS:
            raise ValueError(f"not a KMS action the code calls: {sorted(self.webhook_secrets)}")
        if self.program_secrets - KMS_ACTIONS:
            raise ValueError(f"not a KMS action the code calls: {sorted(self.program_secrets - KMS_ACTIONS)}")

    @property
    def uses_table(self) -> bool:
        return bool(self.table or self.api_keys or self.indexes)


def _actions(*actions: str) -> frozenset[str]:
    return frozenset(actions)


# Every API request is authenticated first. Through API Gateway, the edge authorizer reads the key
# (its own role, below) and the function reads the caller's program (GetItem, kept a minute); a direct
# invocation, without the authorizer's context, reads the key and its program (two consistent
# GetItems) and the key's last use when over a minute old (a conditional UpdateItem of the key).
_AUTHENTICATE = (GET_ITEM,)
_KEY_USE = frozenset({GET_ITEM, UPDATE_ITEM})

ACCESS: dict[str, Access] = {
    # GET /v1/openapi.json: pure code, no credentials, no storage.
    "openapi": Access(),
    # POST /v1/events: conditional PutItem of the event (idempotency), GetItem of the stored one on a
    # retry; GET /v1/events/{id}: GetItem. Then a reference to the scoring queue.
    # `?wait=decision` then scores the event on the request's path with the scoring engine: what
    # "score" is granted below for it (snapshot, transaction, holds at flag time, notifications,
    # the pepper), never the queue's consumption. Before it, the events of its partner or customer
    # still queued that arrived just before it (Query on the outbox index, `recently_queued`).
    # A signed POST (SPEC 2, `X-Signature`) opens its program's signing secrets to check the signature
    # (kms:Decrypt on their key, for their purpose alone); it never seals one (fraudctl does).
    "ingest": Access(
        table=_actions(
            *_AUTHENTICATE,
            BATCH_GET_ITEM,
            QUERY,
            PUT_ITEM,
            UPDATE_ITEM,
            CONDITION_CHECK_ITEM,
        ),
        clears_outbox=True,
        api_keys=_KEY_USE,
        indexes=frozenset({"partner_rewards", "customer_rewards", "outbox"}),
        send_to_scoring=True,
        publish_events=True,
        read_network_pepper=True,
        program_secrets=frozenset({KMS_DECRYPT}),
    ),
    # GET /v1/me, cases, the drawer, rewards, summary, removed partners: cases by view and by hold
    # amount (indexes; before a page by hold amount, the cases whose holds changed since are found
    # on their index and re-keyed: UpdateItem), a case, its subject and its rewards (GetItem; the
    # reward indexes), its audit trail (Query on the case's partition). An override or a removal is
    # one transaction (UpdateItem of rewards, case, subject and links; PutItem of the audit entry); a
    # removal publishes PartnerRemoved and records the partner's network keys (the pepper). Its
    # last step reads the removed partner's strong links and the reviews recorded already
    # (BatchGetItem) and records a review of each other partner on them (conditional PutItem, GetItem
    # of one recorded meanwhile), sent to the scoring queue (`linked_removal`).
    "cases": Access(
        # ConditionCheckItem: a removal's archive chunks hold only while the case is still active
        # BatchWriteItem: delivered notifications leave the outbox
        table=_actions(*_AUTHENTICATE, BATCH_GET_ITEM, QUERY, UPDATE_ITEM, PUT_ITEM, CONDITION_CHECK_ITEM),
        clears_outbox=True,
        api_keys=_KEY_USE,
        indexes=frozenset(
            {
                "cases_by_view",
                "cases_by_hold",
                "cases_hold_stale",
                "case_held",  # the drawer's held rewards
                "disputes",  # the resolved view by resolution time
                "partner_rewards",
                "customer_rewards",
                "program_rewards",
                "reward_status",
            }
        ),
        publish_events=True,
        read_network_pepper=True,
        send_to_scoring=True,
    ),
    # Disputing a case and recording a verdict: the case (GetItem), one transaction (UpdateItem of the
    # case, PutItem of the audit entry); the security team's list: the disputes index, and the
    # programs' names (the programs index, and the PROGRAMS partition of programs made before it).
    # Publishes DisputeOpened.
    "disputes": Access(
        # ConditionCheckItem: a verdict holds only while the subject is as the case left it
        table=_actions(*_AUTHENTICATE, QUERY, UPDATE_ITEM, PUT_ITEM, CONDITION_CHECK_ITEM),
        clears_outbox=True,
        api_keys=_KEY_USE,
        indexes=frozenset({"disputes", "programs"}),
        publish_events=True,
    ),
    # The scoring snapshot (BatchGetItem), the event (GetItem), the scoring transaction (PutItem and
    # UpdateItem items), clearing the outbox marker and marking failures (UpdateItem), holds at flag
    # time (the subject's rewards through the reward indexes), domain events to the bus. Links
    # identities across programs through network keys (the pepper). A flag or removal whose subject
    # kept identifiers outside its profile reads them (Query on the subject's partition).
    "score": Access(
        # ConditionCheckItem: a reward for a partner never seen checks it is still unknown;
        # BatchWriteItem: delivered notifications leave the outbox
        table=_actions(GET_ITEM, BATCH_GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM, CONDITION_CHECK_ITEM),
        clears_outbox=True,
        indexes=frozenset({"partner_rewards", "customer_rewards"}),
        consume_scoring=True,
        # the reviews an event scored late records (`linked_earlier`), sent on at once (the relay
        # sends them should that fail)
        send_to_scoring=True,
        publish_events=True,
        read_network_pepper=True,
    ),
    # Lists programs (the programs index, and the PROGRAMS partition of programs made before it),
    # reads each program's outbox shards.
    # Notifications the bus did not take: the same index, published, then deleted (BatchWriteItem).
    "outbox_relay": Access(
        table=_actions(QUERY),
        clears_outbox=True,
        indexes=frozenset({"outbox", "programs"}),
        send_to_scoring=True,
        gauge_queues=True,  # holds back while the scoring queue is behind
        publish_events=True,
    ),
    # The flagged subjects (sharded index), their rewards since the flag (reward indexes), the hold
    # transaction (UpdateItem of rewards and case, PutItem of the audit entry; GetItem to re-read a
    # reward that changed meanwhile), a RewardsHeld event per hold. Partners whose removal stopped
    # half way are on the same index: it finishes them with the same actions (GetItem of the case,
    # archives, marks, audit entries; `removals.finish_removal`).
    # It also finishes a flag whose marks were not all written (the subject's identifiers, network
    # keys: the pepper, and those kept outside its profile: Query on its partition); BatchWriteItem:
    # delivered notifications leave the outbox. Once per flagged customer whose network marks are of
    # the form before customers' (`marks.customer_marks_rewritten`), it rewrites them (UpdateItem of
    # network items and the profile), each step but the last guarded by a ConditionCheck on the
    # profile; a flag's marks in more than one step are guarded so too.
    # Finishing a removal reviews the partners on its strong links as the removal's request does
    # (BatchGetItem of the links, PutItem of each review, the scoring queue).
    "hold_sweep": Access(
        table=_actions(GET_ITEM, BATCH_GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM, CONDITION_CHECK_ITEM),
        clears_outbox=True,
        indexes=frozenset({"flagged", "partner_rewards", "customer_rewards"}),
        publish_events=True,
        read_network_pepper=True,
        send_to_scoring=True,
    ),
    # Earn and spend: one TransactGet snapshot (GetItem), one transaction (PutItem of the action,
    # the versioned customer and its periods and history; UpdateItem of campaign counters). Customer
    # view: profile (GetItem), periods (BatchGetItem), days and history (Query on the customer's
    # partition). Campaigns and workflows: GetItem, UpdateItem, conditional PutItem. An earn that
    # matches workflows sends its run to the workflow queue. Publishes status changes.
    "loyalty": Access(
        # BatchWriteItem: delivered notifications leave the outbox
        table=_actions(*_AUTHENTICATE, BATCH_GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM),
        clears_outbox=True,
        # a campaign stored before its caps were sharded becomes its shards (the old item deleted
        # in that transaction)
        deletes=frozenset({CAMPAIGN_ITEMS}),
        api_keys=_KEY_USE,
        publish_events=True,
        send_to_workflows=True,
    ),
    # Workflow runs from the workflow queue: the program (GetItem), the workflows item (GetItem),
    # a customer's snapshot (TransactGet: GetItem), its days (Query on its partition), the marker
    # with history and status (PutItem; UpdateItem takes the run out of the due ones); audiences
    # from the aggregate indexes, a rolling window's candidates read together (BatchGetItem).
    # Publishes workflow communications and status changes.
    "loyalty_workflows": Access(
        # BatchWriteItem: delivered notifications leave the outbox
        table=_actions(GET_ITEM, BATCH_GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM),
        clears_outbox=True,
        indexes=frozenset({"loyalty_earned", "loyalty_bonus", "loyalty_spent"}),
        consume_workflows=True,
        publish_events=True,
    ),
    # Lists programs (the programs index, and the PROGRAMS partition of programs made before it),
    # reads each program's due workflow runs (outbox index) and sends them to the workflow queue
    # again.
    "loyalty_workflow_relay": Access(
        table=_actions(QUERY),
        indexes=frozenset({"outbox", "programs"}),  # programs: the programs index lists them
        send_to_workflows=True,
        gauge_queues=True,  # holds back while the workflow queue is behind
    ),
    # GET/POST/DELETE /v1/keys (admins): the program's keys from the program_keys index; a new key is
    # a conditional PutItem of a key item, a revocation reads the key (GetItem) and updates it. Its
    # writes reach API-key items only.
    # A revocation then flushes the stage's authorizer cache, so the key stops at once.
    "keys": Access(
        table=_actions(*_AUTHENTICATE),
        api_keys=_KEY_USE | {PUT_ITEM},
        indexes=frozenset({"program_keys"}),
        flush_authorizer_cache=True,
    ),
    # Disputes with a verdict (disputes index), the subject (GetItem) and its rewards (reward
    # indexes), the resolving transaction (UpdateItem of case, rewards, links; PutItem of the audit
    # entry), a DisputeResolved event per case; an approved dispute withdraws the program's flag from
    # the subject's network links (their keys and the program's token: the pepper), those kept
    # outside its profile too (Query on the subject's partition). A run that its time does not let
    # finish invokes its own function again, asynchronously (`functions.disputes.continuation`).
    "dispute_cycle": Access(
        # ConditionCheckItem: a verdict's first step (the case as the verdict found it) and an
        # approval's checks on its subject are conditions only
        table=_actions(GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM, CONDITION_CHECK_ITEM),
        clears_outbox=True,
        indexes=frozenset({"disputes", "partner_rewards", "customer_rewards"}),
        publish_events=True,
        read_network_pepper=True,
        invoke_self=True,
    ),
    # The edge authorizer: the caller's API-key item (GetItem) and its last use (UpdateItem), on
    # API-key items alone; never a program, an event or any other item.
    "authorizer": Access(api_keys=frozenset({GET_ITEM, UPDATE_ITEM})),
    # SPEC 6, admins' webhooks: the program's webhooks (Query on its WEBHOOKS partition), a webhook
    # (GetItem), a new or changed one (conditional PutItem, with the program's count of webhooks made
    # in one transaction; a new secret sealed: kms:Encrypt; a rotation opens the secrets it keeps:
    # kms:Decrypt, a listing or a read none), a deletion (DeleteItem); deliveries: the listing (Query) and the
    # deliveries it names (BatchGetItem), a retry by hand (GetItem, conditional PutItem) scheduled
    # on the webhooks queue.
    "webhooks": Access(
        table=_actions(*_AUTHENTICATE, QUERY, PUT_ITEM, BATCH_GET_ITEM),
        deletes=frozenset({WEBHOOK_ITEMS}),
        api_keys=_KEY_USE,
        send_to_webhooks=True,
        webhook_secrets=frozenset({KMS_ENCRYPT, KMS_DECRYPT}),
    ),
    # Deliveries: the program's webhooks (Query; secrets opened to sign: kms:Decrypt, never
    # Encrypt), a new delivery with its listing entry (one transaction: PutItem twice), the delivery
    # (GetItem), each try's outcome (conditional PutItem), a webhook disabled by a 410, its receiver's
    # silence or pace, the program's slow try taken and given back (conditional UpdateItem);
    # the next try scheduled on the webhooks queue, which it consumes.
    "webhook_delivery": Access(
        table=_actions(GET_ITEM, QUERY, PUT_ITEM, UPDATE_ITEM),
        send_to_webhooks=True,
        consume_webhooks=True,
        webhook_secrets=frozenset({KMS_DECRYPT}),
    ),
}


def api_key_items_condition() -> dict[str, dict[str, list[str]]]:
    """The IAM condition of `Access.api_keys`: every item the request names is an API key's."""
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [API_KEY_ITEMS]}}


def notification_items_condition() -> dict[str, dict[str, list[str]]]:
    """The IAM condition of `Access.clears_outbox`: every item the batch names is a notification."""
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [NOTIFICATION_ITEMS]}}


def deleted_items_condition(access: Access) -> dict[str, dict[str, list[str]]]:
    """The IAM condition of `Access.deletes`: every item the request names is of a kind it deletes."""
    return {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": sorted(access.deletes)}}


def program_secrets_condition() -> dict[str, dict[str, str]]:
    """The IAM condition of `Access.program_secrets`: the call's encryption context names the purpose
    programs' signing secrets are sealed for. The key seals nothing else today; the condition keeps a
    grant on it from opening whatever it may seal tomorrow."""
    return {"StringEquals": {"kms:EncryptionContext:purpose": PROGRAM_SECRET_PURPOSE}}


def webhook_secrets_condition() -> dict[str, dict[str, str]]:
    """The IAM condition of `Access.webhook_secrets`: the call's encryption context names a program and
    a webhook, as every sealing and opening of a webhook's secret does (`dynamodb_webhooks._context`).
    The key seals nothing else today; the condition keeps a grant on it from opening whatever it may
    seal tomorrow (a reviewer's find: the program secrets' key had one, this key none)."""
    return {"Null": {f"kms:EncryptionContext:{name}": "false" for name in WEBHOOK_SECRET_CONTEXT}}


def other_items_condition() -> dict[str, dict[str, list[str]]]:
    """The IAM condition of `Access.table`: no item the request names is an API key's. A function
    that writes events, cases or loyalty items (PutItem, UpdateItem on the table) could otherwise
    write a key item too: mint a key of any role, a platform `security` one included. Key items
    are reached through `Access.api_keys` alone."""
    return {"ForAllValues:StringNotLike": {"dynamodb:LeadingKeys": [API_KEY_ITEMS]}}


def network_pepper_readers() -> tuple[str, ...]:
    """The functions granted secretsmanager:GetSecretValue on the network pepper, as the secret's
    acknowledged findings name them (infra/capabilities/network.py)."""
    return tuple(name for name, access in ACCESS.items() if access.read_network_pepper)


def access_of(function: str) -> Access:
    try:
        return ACCESS[function]
    except KeyError:
        raise KeyError(
            f"function '{function}' has no entry in infra/permissions.py ACCESS: declare what it may "
            "do (table actions, indexes, queue, bus) before it can be deployed"
        ) from None
