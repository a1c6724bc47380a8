"""Partition heat: a mixed minute of one program at 3,000 events/s, counted per partition key.

The traffic (per second of the program, scaled down to the sample below):
  1,000 capped campaign bonuses on one campaign (a dynamic cap, never reached)
    600 purchase earns, 200 spends (loyalty customers of the program)
    900 partner events of the four types (the evaluation's generator: sign-ups, logins, purchases,
        rewards, with the fraud patterns, so flags, cases and holds happen), ingested and scored
    300 case views (the Active tab and one case's drawer, alternately)
Two workflows are set: a `current` one and an audience (`customer: all`) one, both on today's
campaign bonus over a threshold few customers pass.

Everything runs through the real handlers (API requests with their API keys, the score function and
the loyalty workflow runner on what their queues hold, in batches of up to 10) against moto in
process, each request through the edge's authorizer with API Gateway's result cache, as deployed.
Every DynamoDB request any client makes is counted at botocore, per partition key, in items and in
capacity units (what a partition's limits of 1,000 WCU and 3,000 RCU per second count):
- a read of an item is a read of its base partition key (`pk`): 1 RCU per 4 KB strongly
  consistent, half eventually consistent, twice in `TransactGetItems`; a query reads the partition it
  names (base or index), its items' sizes summed before rounding up to 4 KB;
- a written item is a write of its base partition key (1 WCU per KB of the larger of its two
  versions, twice in a transaction) and of every index partition key it carries before or after
  the write (DynamoDB writes the index entries of both; indexes project the whole item);
- a condition check in a transaction is a transactional read of its item.
The last line is in capacity units, with the item the most transactions write (per second); the line
before it gives the same hottest keys in items.

Simulated time: the sample (`BENCH_PARTITIONS_EVENTS`, default 3,000 events) is spread evenly over
one minute on the functions' clock, so time-based behaviour (caches, "at most once a minute") runs
as it would; a key's rate is its count x 3,000 / sample size, i.e. the sample stands for the
minute as if every request in it were 180,000 / sample requests from as many Lambda environments
(one environment here per 60 per second of traffic: about what 3,000/s at ~20 ms keeps busy).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from benchmarks import moto_environment, moto_system
from benchmarks.scoring import KB, _units, item_size
from infra.constants import TABLE_QUOTA  # per table, and per index, on demand, unless raised

RATE = 3_000  # events per second of one program
SAMPLE = int(os.environ.get("BENCH_PARTITIONS_EVENTS", "3000"))
MIX = (  # (kind, per second)
    ("bonus", 1_000),
    ("purchase", 600),
    ("spend", 200),
    ("partner", 900),
    ("case_view", 300),
)
LOYALTY_CUSTOMERS = 400  # in the sample
SCORE_EVERY = 10  # partner events ingested between two polls of the scoring queue
WORKFLOWS_EVERY = 25  # earns between two polls of the workflow queue (where there is one)
SHOWN = 8
EDGE_PREFIXES = ("APIKEY#", "PROGRAMS")
INDEX_ENTRY_BYTES = 100  # DynamoDB's overhead per index entry


# --- counting ------------------------------------------------------------------------------
class PartitionCounter:
    """Reads and writes per partition key of every DynamoDB request made while in use."""

    def __init__(self) -> None:
        from functions.shared.storage import schema

        self.reads: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.read_units: defaultdict[str, float] = defaultdict(float)  # what a partition's limits count
        self.write_units: defaultdict[str, float] = defaultdict(float)
        # items by the transactions that write them: DynamoDB cancels all but one of the
        # transactions that touch an item at the same moment, so an item every flag writes caps
        # how fast a program flags, whatever its partition's capacity
        self.transacted: Counter[str] = Counter()
        self._indexes = {i.name: (i.partition_key, i.sort_key) for i in schema.INDEXES}
        self._pk = schema.PARTITION_KEY

    def __enter__(self) -> PartitionCounter:
        from botocore.client import BaseClient

        self._original = original = BaseClient._make_api_call
        counter = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name != "dynamodb":
                return original(client, operation, params)
            written = counter._written_keys(operation, params)
            before = {(table, key): counter._stored(table, key) for table, key, _ in written}
            answer = None
            try:
                answer = original(client, operation, params)
            finally:
                counter.requests[operation] += 1
                for table, key, kind in written:
                    counter._count_write(
                        operation, kind, key, before[(table, key)], counter._stored(table, key)
                    )
            counter._count_reads(operation, params, answer, before)
            return answer

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *_: Any) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original  # type: ignore[method-assign]

    # the keys of the items a request writes: (table, key) pairs, hashable
    def _written_keys(self, operation: str, params: dict[str, Any]) -> list[tuple[str, Any, str]]:
        """(table, key, kind) of every item the request writes or (in a transaction) checks."""
        found: list[tuple[str, Any, str]] = []
        if operation == "PutItem":
            found.append((params["TableName"], self._key_of(params["Item"]), "Put"))
        elif operation in ("UpdateItem", "DeleteItem"):
            found.append((params["TableName"], self._key_of(params["Key"]), operation[:-4]))
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                    found.append((table, self._key_of(body), "Put" if "PutRequest" in request else "Delete"))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                kind, body = next(iter(entry.items()))
                found.append((body["TableName"], self._key_of(body.get("Item") or body["Key"]), kind))
        return found

    def _key_of(self, item: dict[str, Any]) -> Any:
        return _Key({"pk": item["pk"], "sk": item["sk"]})

    def _stored(self, table: str, key: Any) -> Stored:
        """The stored item's index entries, size and digest (moto's own copy, read without a
        request), or None when there is none."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        item = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_item(table, dict(key))
        if item is None:
            return None
        entries = {  # an index holds the items that have both its keys
            name: (str(item.attrs[partition].value), str(item.attrs[sort].value))
            for name, (partition, sort) in self._indexes.items()
            if partition in item.attrs and sort in item.attrs
        }
        return entries, item.size(), hash(json.dumps(item.to_json(), sort_keys=True, default=repr))

    def _count_write(self, operation: str, kind: str, key: Any, old: Stored, new: Stored) -> None:
        """One write of the base partition and one of every index partition the item is in before
        or after (DynamoDB deletes the old index entry and writes the new one); in units, 1 WCU per
        KB of the larger version, twice in a transaction; index entries project the whole item."""
        partition = key[self._pk]["S"]
        if kind == "ConditionCheck":  # a transactional read of the item (2 RCU per 4 KB)
            self.reads[partition] += 1
            self.read_units[partition] += 2 * _units(old[1] if old else 0, 4 * KB)
            return
        factor = 2 if operation == "TransactWriteItems" else 1
        if operation == "TransactWriteItems":
            self.transacted[f"{partition} {key['sk']['S']}"] += 1
        size = max(old[1] if old else 0, new[1] if new else 0)
        self.writes[partition] += 1  # a write refused by its condition is billed all the same
        self.write_units[partition] += factor * _units(size, KB)
        if old == new:  # refused, or written as it was: no index entry changes
            return
        entries_before, entries_after = old[0] if old else {}, new[0] if new else {}
        for name in entries_before.keys() | entries_after.keys():
            was, now = entries_before.get(name), entries_after.get(name)
            # an entry whose keys moved is deleted and put again, in the same partition or not; one
            # whose keys stayed is rewritten (every index projects the whole item)
            touched = [was, now] if was != now else [now]
            for entry in (e for e in touched if e is not None):
                index_key = f"{name}:{entry[0]}"
                self.writes[index_key] += 1
                self.write_units[index_key] += _units((new or old)[1] + INDEX_ENTRY_BYTES, KB)  # type: ignore[index]

    def _count_reads(
        self, operation: str, params: dict[str, Any], answer: dict[str, Any] | None, before: dict[Any, Stored]
    ) -> None:
        """Items read per partition, and their read units: 1 RCU per 4 KB read strongly consistent,
        half that eventually consistent, twice in a transaction; a query's items are summed before
        rounding, and index reads are eventually consistent."""
        answer = answer or {}
        if operation == "GetItem":
            self._read(params["Key"], [answer.get("Item")], _consistency(params))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = {
                    (i[self._pk]["S"], i["sk"]["S"]): i for i in answer.get("Responses", {}).get(table, [])
                }
                for key in request["Keys"]:
                    item = found.get((key[self._pk]["S"], key["sk"]["S"]))
                    self._read(key, [item], _consistency(request))
        elif operation == "TransactGetItems":
            for entry, response in zip(params["TransactItems"], answer.get("Responses", []), strict=False):
                self._read(entry["Get"]["Key"], [response.get("Item")], 2.0)
        elif operation in ("Query", "Scan"):
            partition = (
                self._queried(params) if operation == "Query" else f"SCAN {params.get('IndexName', 'table')}"
            )
            items = answer.get("Items", [])
            scanned = max(1, int(answer.get("ScannedCount", len(items))))
            size = sum(item_size(i) for i in items) + (
                INDEX_ENTRY_BYTES * len(items) if params.get("IndexName") else 0
            )
            if items and scanned > len(items):  # filtered out: read too, priced at the returned items' mean
                size = size * scanned // len(items)
            factor = 0.5 if params.get("IndexName") else _consistency(params)
            self.reads[partition] += scanned
            self.read_units[partition] += factor * _units(size, 4 * KB)

    def _read(self, key: dict[str, Any], items: list[dict[str, Any] | None], factor: float) -> None:
        partition = key[self._pk]["S"]
        self.reads[partition] += 1
        self.read_units[partition] += factor * _units(sum(item_size(i) for i in items if i), 4 * KB)

    def _queried(self, params: dict[str, Any]) -> str:
        """The partition a query names, from its key condition."""
        index = params.get("IndexName")
        attribute = self._indexes[index][0] if index else self._pk
        names = {v: k for k, v in params.get("ExpressionAttributeNames", {}).items()}
        placeholder = re.escape(names.get(attribute, attribute))
        found = re.search(rf"{placeholder}\s*=\s*(:\w+)", params["KeyConditionExpression"])
        assert found, params["KeyConditionExpression"]
        value = params["ExpressionAttributeValues"][found.group(1)]["S"]
        return f"{index}:{value}" if index else value


def _consistency(request: dict[str, Any]) -> float:
    return 1.0 if request.get("ConsistentRead") else 0.5


# an item's index entries (index name: its partition and sort key), its size, and its digest
Stored = tuple[dict[str, tuple[str, str]], int, int] | None


class _Key(dict):  # type: ignore[type-arg]
    """A DynamoDB key in wire form that can be a dictionary key."""

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((self["pk"]["S"], self["sk"]["S"]))


# --- the traffic ---------------------------------------------------------------------------
@contextlib.contextmanager
def _system() -> Iterator[dict[str, Any]]:
    import boto3

    from functions.shared import runtime, tenancy
    from functions.shared.clock import FixedClock
    from local_system.edge import LocalAuthorizer

    with moto_system() as resources:
        deps = runtime.dependencies()
        clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
        deps.clock = clock
        program = tenancy.create_program(deps.repository, clock, "Bench partitions")
        keys = {
            role: tenancy.create_key(deps.repository, clock, program.program_id, role, f"bench {role}")[1]
            for role in ("integration", "fraud")
        }
        sqs = boto3.client("sqs", region_name="us-east-1")
        edge = LocalAuthorizer(clock=lambda: clock.now().timestamp())
        system = {"program": program, "keys": keys, "clock": clock, "sqs": sqs, "resources": resources}
        yield {**system, "edge": edge}


def _call(
    system: dict[str, Any], function: str, method: str, path: str, body: Any, key: str, query: Any = None
) -> Any:
    """A request as the deployed API makes it: the edge's authorizer (its answers cached per key for
    `auth.AUTHORIZER_CACHE_SECONDS` of the simulated clock), then the function with its context."""
    from tests.support import Answer, call, proxy_event

    event = proxy_event(method, path, body, key, query=query)
    event["requestContext"].update(accountId="000000000000", apiId="bench")
    context, refused = system["edge"].authorize(event)
    if refused is not None:
        return Answer(refused)
    event["requestContext"]["authorizer"] = context
    return call(function, event)


def _partner_events(count: int) -> list[dict[str, Any]]:
    """The evaluation's traffic of one program, in its order, with ids unique to this run."""
    from evaluation.generator import generate

    traffic = generate(11, "medium")
    program = traffic.programs[0]
    bodies = [step.body for step in traffic.events if step.program == program]
    if len(bodies) < count:
        raise SystemExit(f"the generator gave {len(bodies)} events of one program; {count} needed")
    return bodies[:count]


def _plan(sample: int) -> list[str]:
    """The sample's requests, kinds interleaved as in the minute."""
    kinds = [kind for kind, per_second in MIX for _ in range(round(sample * per_second / RATE))]
    random.Random(5).shuffle(kinds)  # noqa: S311 (a fixed traffic mix, not secrets)
    return kinds


def _set_up(system: dict[str, Any]) -> None:
    fraud = system["keys"]["fraud"]
    campaign = {"total_cap": 10**9, "per_customer_cap": 10**6, "limit_behavior": "dynamic"}
    assert _call(system, "loyalty", "PUT", "/v1/loyalty/campaigns/weekend", campaign, fraud).status == 200
    for workflow_id, audience in (("warn-current", "current"), ("suspend-all", "all")):
        settings = {
            "trigger": {"event": "points.earned", "kind": "campaign_bonus"},
            "filter": {"aggregation": "bonus", "date_range": "today", "customer": audience, "threshold": 300},
            "actions": [{"type": "communication", "event": "bonus-watch", "payload": {"n": 1}}],
            "enabled": True,
        }
        path = f"/v1/loyalty/workflows/{workflow_id}"
        assert _call(system, "loyalty", "PUT", path, settings, fraud).status == 200


def _drain(system: dict[str, Any], url: str, handler: str) -> None:
    """What the queue's event source mapping does: batches of up to 10 to the real function."""
    from local_system.poller import poll_once

    attributes = system["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    arn = attributes["Attributes"]["QueueArn"]
    while poll_once(system["sqs"], url, arn, wait_seconds=0, handler=handler):
        pass


def _score_pending(system: dict[str, Any]) -> None:
    _drain(system, system["resources"].queue_url, "functions.score.handler.lambda_handler")


def _run_workflows(system: dict[str, Any]) -> None:
    """The workflow queue's consumer, where there is one (main before issue 14 ran them in the earn)."""
    url = getattr(system["resources"], "workflow_queue_url", "")
    if url:
        _drain(system, url, "functions.loyalty.workflow_runner.lambda_handler")


def replay(sample: int = SAMPLE) -> tuple[PartitionCounter, int]:
    kinds = _plan(sample)
    partner = iter(_partner_events(kinds.count("partner")))
    rng = random.Random(9)  # noqa: S311 (a fixed traffic mix, not secrets)
    with _system() as system, contextlib.redirect_stdout(open(os.devnull, "w")):  # noqa: SIM115
        _set_up(system)
        integration, fraud = system["keys"]["integration"], system["keys"]["fraud"]
        step = timedelta(seconds=60 / len(kinds))
        case_ids: list[str] = []
        since_scored = since_workflows = 0
        with PartitionCounter() as counter:
            for n, kind in enumerate(kinds):
                system["clock"].advance(seconds=step.total_seconds())
                customer = f"lc{rng.randrange(LOYALTY_CUSTOMERS):04d}"
                if kind in ("bonus", "purchase"):
                    body: dict[str, Any] = {"id": f"e-{uuid.uuid4().hex}", "customer_id": customer}
                    if kind == "bonus":
                        body.update(points=rng.randrange(5, 40), kind="campaign_bonus", campaign_id="weekend")
                    else:
                        body.update(points=rng.randrange(5, 200), kind="purchase")
                    answer = _call(system, "loyalty", "POST", "/v1/loyalty/earn", body, integration)
                    assert answer.status in (200, 409), answer  # 409: a customer a workflow blocked
                    since_workflows += 1
                    if since_workflows >= WORKFLOWS_EVERY:
                        _run_workflows(system)
                        since_workflows = 0
                elif kind == "spend":
                    body = {"id": f"s-{uuid.uuid4().hex}", "customer_id": customer, "points": 1}
                    _call(
                        system, "loyalty", "POST", "/v1/loyalty/spend", body, integration
                    )  # 404/409 count too
                elif kind == "partner":
                    event = next(partner)
                    answer = _call(system, "ingest", "POST", "/v1/events", event, integration)
                    assert answer.status in (202, 409), answer
                    since_scored += 1
                    if since_scored >= SCORE_EVERY:
                        _score_pending(system)
                        since_scored = 0
                elif n % 2 or not case_ids:
                    answer = _call(system, "cases", "GET", "/v1/cases", None, fraud, query={"view": "active"})
                    assert answer.status == 200, answer
                    case_ids = [c["id"] for c in answer.body["items"]] or case_ids
                else:
                    answer = _call(system, "cases", "GET", f"/v1/cases/{rng.choice(case_ids)}", None, fraud)
                    assert answer.status == 200, answer
            _score_pending(system)
            _run_workflows(system)
    return counter, len(kinds)


def _hottest(counts: Mapping[str, float], sample: int) -> list[tuple[str, float]]:
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:SHOWN]
    return [(key, n * RATE / sample) for key, n in ranked]


def run() -> None:
    moto_environment()
    counter, sample = replay()
    print(
        f"one program at {RATE:,} events/s for a simulated minute; sample of {sample} requests "
        f"(x{RATE * 60 / sample:.0f}); DynamoDB requests: "
        + ", ".join(f"{n} {op}" for op, n in sorted(counter.requests.items()))
    )
    for title, counts in (
        ("write units (WCU)", counter.write_units),
        ("read units (RCU)", counter.read_units),
        ("items written", counter.writes),
        ("items read", counter.reads),
    ):
        print(f"hottest keys by {title} per second (index keys as index:partition)")
        for key, per_second in _hottest(counts, sample):
            print(f"  {per_second:9,.0f}/s  {key}")
    print(
        f"a partition takes 1,000 WCU and 3,000 RCU per second; items per second: "
        f"hottest_item_writes_per_s={_top(counter.writes, sample):.0f} "
        f"hottest_item_reads_per_s={_top(counter.reads, sample):.0f}"
    )
    print("items most written by transactions per second (one at a time: more at once conflict)")
    for key, per_second in _hottest(counter.transacted, sample):
        print(f"  {per_second:9,.0f}/s  {key}")
    writes, reads = _by_table(counter.write_units, sample), _by_table(counter.read_units, sample)
    print(
        f"the table and each index in all, per second (DynamoDB's default on-demand quota: "
        f"{TABLE_QUOTA:,} WCU and {TABLE_QUOTA:,} RCU for the table, as much for each index)"
    )
    for name in sorted(writes.keys() | reads.keys(), key=lambda n: (n != "table", n)):
        print(f"  {name:<22} {writes.get(name, 0):9,.0f} WCU/s {reads.get(name, 0):9,.0f} RCU/s")
    busiest = max((n for n in writes if n != "table"), key=lambda n: writes[n], default="table")
    print(
        f"hottest_writes_per_s={_top(counter.write_units, sample):.0f} "
        f"hottest_reads_per_s={_top(counter.read_units, sample):.0f} "
        f"hottest_transacted_item_per_s={_top(counter.transacted, sample):.0f} "
        f"table_wcu_per_s={writes.get('table', 0):.0f} table_rcu_per_s={reads.get('table', 0):.0f} "
        f"busiest_index_wcu_per_s={writes.get(busiest, 0):.0f}"
    )


def _by_table(counts: Mapping[str, float], sample: int) -> dict[str, float]:
    """Per second, summed for the base table ("table") and for each index (keys `index:partition`)."""
    from functions.shared.storage import schema

    indexes = {index.name for index in schema.INDEXES}
    summed: dict[str, float] = {}
    for key, units in counts.items():
        prefix = key.split(":", 1)[0]
        name = prefix if prefix in indexes else "table"
        summed[name] = summed.get(name, 0.0) + units * RATE / sample
    return summed


def _top(counts: Mapping[str, float], sample: int) -> float:
    return max(counts.values(), default=0.0) * RATE / sample
