"""The local DynamoDB engine's operations: DynamoDB's JSON API over `tables.Table`.

`Engine.answer(target, body)` takes a request as DynamoDB's endpoint does (the `X-Amz-Target`
header's operation and the JSON body) and gives its answer (status, headers, JSON body), errors
included, in DynamoDB's shapes, so botocore (and pynamodb over it) parses them as AWS's. Only the
operations and parameters this project's code, fraudctl and the AWS CLI's table commands use;
anything else is refused with a clear error, never answered wrongly.

The rules are DynamoDB's (its API reference), not moto's where the two differ:
- a `Query` or `Scan` stopped by its `Limit` (or by 1 MB read) returns a `LastEvaluatedKey` even
  when nothing follows;
- numbers are stored and returned canonical (`"1.50"` is `"1.5"`);
- a key attribute (the table's or an index's) must have its defined type, and a string or binary
  key must not be empty;
- a request's expression attribute names and values must all be used, and every one used defined.

One lock serializes operations: each request is atomic, a transaction's conditions and writes
included, as DynamoDB's are. JSON is parsed and written outside it. Stored items are never changed
in place (a write replaces the item), so an answer serialized after the lock is released is the
state the operation saw.

Consumed capacity, when asked, is DynamoDB's rule on the item sizes (reads in 4 KB units, halved
when eventually consistent; writes in 1 KB units of the larger of the old and new item; doubled in
transactions); index writes are not counted.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import math
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any

from local_system.dynamodb import expressions
from local_system.dynamodb.tables import Index, Item, Table, TableKey
from local_system.dynamodb.values import InvalidValue, SerializationError, canonical, check_item, key_of
from local_system.dynamodb.values import item_size as size_of

_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
_HEADERS = {"Content-Type": "application/x-amz-json-1.0"}
_ITEM_LIMIT = 400 * 1024
_PAGE_LIMIT = 1024 * 1024
_TRANSACTION_LIMIT = 100
_BATCH_GET_LIMIT = 100
_BATCH_WRITE_LIMIT = 25
_KEY_TYPES = {"S", "N", "B"}


class DynamoError(Exception):
    """An error answer: DynamoDB's error code, its message, and any other fields of the answer."""

    def __init__(self, code: str, message: str, status: int = 400, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"__type": _ERROR_PREFIX + self.code, "message": self.message, **self.fields}


def validation(message: str) -> DynamoError:
    return DynamoError("ValidationException", message)


class Engine:
    """Tables in memory, DynamoDB's API over them. Thread-safe; empty when made."""

    def __init__(self, region: str = "us-east-1", account: str = "123456789012") -> None:
        self.tables: dict[str, Table] = {}
        self.region = region
        self.account = account
        self.lock = threading.Lock()
        # TransactWriteItems' ClientRequestToken: a token -> the request it came with and when
        # (`_already_written`); `clock` the seconds it counts the idempotency window in
        self.tokens: dict[str, tuple[bytes, float]] = {}
        self.clock: Callable[[], float] = time.monotonic
        self.operations: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "CreateTable": self.create_table,
            "DeleteTable": self.delete_table,
            "DescribeTable": self.describe_table,
            "ListTables": self.list_tables,
            "UpdateTimeToLive": self.update_time_to_live,
            "DescribeTimeToLive": self.describe_time_to_live,
            "PutItem": self.put_item,
            "GetItem": self.get_item,
            "UpdateItem": self.update_item,
            "DeleteItem": self.delete_item,
            "Query": self.query,
            "Scan": self.scan,
            "BatchGetItem": self.batch_get_item,
            "BatchWriteItem": self.batch_write_item,
            "TransactWriteItems": self.transact_write_items,
            "TransactGetItems": self.transact_get_items,
        }

    # --- the wire ---------------------------------------------------------------------------------
    def answer(self, target: str, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """DynamoDB's answer to one request: (status, headers, JSON body)."""
        operation = self.operations.get(target.rpartition(".")[2])
        try:
            if operation is None:
                raise DynamoError("UnknownOperationException", f"Unknown operation: {target}")
            try:
                request = json.loads(body or b"{}")
            except (ValueError, RecursionError) as error:  # RecursionError: nested past the parser
                raise DynamoError("SerializationException", f"Invalid JSON: {error}") from error
            if not isinstance(request, dict):
                raise DynamoError("SerializationException", "The request body is not a JSON object")
            with self.lock:
                result = operation(request)
            return 200, dict(_HEADERS), json.dumps(result, separators=(",", ":")).encode()
        except DynamoError as error:
            return error.status, dict(_HEADERS), json.dumps(error.body()).encode()
        except SerializationError as error:
            refused = DynamoError("SerializationException", str(error)).body()
            return 400, dict(_HEADERS), json.dumps(refused).encode()
        except (InvalidValue, expressions.ExpressionError) as error:
            return 400, dict(_HEADERS), json.dumps(validation(str(error)).body()).encode()

    # --- tables -----------------------------------------------------------------------------------
    def _table(self, name: Any) -> Table:
        if not isinstance(name, str) or not name:
            raise validation(
                "1 validation error detected: Value null at 'tableName' failed to satisfy "
                "constraint: Member must not be null"
            )
        table = self.tables.get(name)
        if table is None:
            raise DynamoError("ResourceNotFoundException", "Requested resource not found")
        return table

    def create_table(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("TableName")
        if not isinstance(name, str) or not 3 <= len(name) <= 255:
            raise validation("TableName must be at least 3 characters long and at most 255 characters long")
        if name in self.tables:
            raise DynamoError("ResourceInUseException", f"Table already exists: {name}")
        types = {a["AttributeName"]: a["AttributeType"] for a in request.get("AttributeDefinitions") or []}
        if any(kind not in _KEY_TYPES for kind in types.values()):
            raise validation("Member must satisfy enum value set: [B, N, S]")
        partition, sort = _key_schema(request.get("KeySchema"), types, "table")
        indexes: dict[str, Index] = {}
        described: dict[str, list[dict[str, Any]]] = {}
        for kind, local in (("GlobalSecondaryIndexes", False), ("LocalSecondaryIndexes", True)):
            for definition in request.get(kind) or []:
                index_name = definition.get("IndexName")
                if not isinstance(index_name, str) or index_name in indexes:
                    raise validation(f"Duplicate or missing index name: {index_name}")
                index_partition, index_sort = _key_schema(definition.get("KeySchema"), types, index_name)
                if local and index_partition != partition:
                    raise validation("Local secondary indexes must have the table's partition key")
                projection = definition.get("Projection") or {}
                kind_of_projection = projection.get("ProjectionType")
                kept: frozenset[str] | None = None
                if kind_of_projection == "KEYS_ONLY":
                    kept = frozenset()
                elif kind_of_projection == "INCLUDE":
                    kept = frozenset(projection.get("NonKeyAttributes") or ())
                    if not kept:
                        raise validation("NonKeyAttributes must be given for an INCLUDE projection")
                elif kind_of_projection != "ALL":
                    raise validation(f"Unknown ProjectionType: {kind_of_projection}")
                indexes[index_name] = Index(index_name, index_partition, index_sort, local, definition, kept)
                described.setdefault(kind, []).append(
                    {
                        "IndexName": index_name,
                        "KeySchema": definition["KeySchema"],
                        "Projection": projection,
                        **({} if local else {"IndexStatus": "ACTIVE"}),
                        "IndexArn": f"{self._arn(name)}/index/{index_name}",
                    }
                )
        used = {partition, sort} | {n for i in indexes.values() for n in (i.partition, i.sort)}
        if set(types) - used:
            raise validation(
                "One or more parameter values were invalid: Some AttributeDefinitions are not used. "
                f"AttributeDefinitions: {sorted(types)}, keys used: {sorted(n for n in used if n)}"
            )
        billing = request.get("BillingMode") or "PROVISIONED"
        description: dict[str, Any] = {
            "TableName": name,
            "TableArn": self._arn(name),
            "TableId": f"{zlib.crc32(name.encode()):08x}-local",
            "TableStatus": "ACTIVE",
            "CreationDateTime": time.time(),
            "AttributeDefinitions": request["AttributeDefinitions"],
            "KeySchema": request["KeySchema"],
            "BillingModeSummary": {"BillingMode": billing},
            "ProvisionedThroughput": {
                "ReadCapacityUnits": (request.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0),
                "WriteCapacityUnits": (request.get("ProvisionedThroughput") or {}).get(
                    "WriteCapacityUnits", 0
                ),
                "NumberOfDecreasesToday": 0,
            },
            **described,
        }
        self.tables[name] = Table(name, partition, sort, types, indexes, description)
        return {"TableDescription": self._described(self.tables[name])}

    def _arn(self, name: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{self.account}:table/{name}"

    def _described(self, table: Table) -> dict[str, Any]:
        description = dict(table.description)
        description["ItemCount"] = len(table.stored)
        description["TableSizeBytes"] = table.bytes
        for kind in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if kind in description:
                description[kind] = [
                    {**entry, "ItemCount": table.index_count(table.indexes[entry["IndexName"]])}
                    for entry in description[kind]
                ]
        return description

    def delete_table(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        del self.tables[table.name]
        return {"TableDescription": {**self._described(table), "TableStatus": "DELETING"}}

    def describe_table(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"Table": self._described(self._table(request.get("TableName")))}

    def list_tables(self, request: dict[str, Any]) -> dict[str, Any]:
        names = sorted(self.tables)
        start = request.get("ExclusiveStartTableName")
        if start:
            names = [name for name in names if name > start]
        limit = int(request.get("Limit") or 100)
        answer: dict[str, Any] = {"TableNames": names[:limit]}
        if len(names) > limit:
            answer["LastEvaluatedTableName"] = names[limit - 1]
        return answer

    def update_time_to_live(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        specification = request.get("TimeToLiveSpecification") or {}
        if not isinstance(specification.get("AttributeName"), str) or "Enabled" not in specification:
            raise validation("TimeToLiveSpecification needs AttributeName and Enabled")
        enabled = bool(specification["Enabled"])
        if enabled == (table.ttl["TimeToLiveStatus"] == "ENABLED"):
            raise validation(f"TimeToLive is already {'enabled' if enabled else 'disabled'}")
        table.ttl = (
            {"TimeToLiveStatus": "ENABLED", "AttributeName": specification["AttributeName"]}
            if enabled
            else {"TimeToLiveStatus": "DISABLED"}
        )
        return {"TimeToLiveSpecification": specification}

    def describe_time_to_live(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"TimeToLiveDescription": self._table(request.get("TableName")).ttl}

    # --- keys and items ---------------------------------------------------------------------------
    def _key(self, table: Table, key: Any) -> tuple[TableKey, Item]:
        """A request's `Key`: exactly the table's key attributes, of their types, not empty."""
        if not isinstance(key, dict):
            raise validation("The provided key element does not match the schema")
        names = table.key_names()
        if len(key) != len(names) or any(name not in key for name in names):
            raise validation("The provided key element does not match the schema")
        for name in names:
            _check_key_value(key[name], table.attribute_types[name], name, None)
        key = canonical(key)
        return table.table_key(key), key

    def _item(self, table: Table, item: Any) -> tuple[TableKey, Item, int]:
        """A whole item to store: valid values, the table's key, index keys of their types, at most
        400 KB. Canonical, with its size."""
        if not isinstance(item, dict):
            raise validation("One or more parameter values were invalid: Item is not a map")
        check_item(item)
        for name in table.key_names():
            if name not in item:
                raise validation(
                    f"One or more parameter values were invalid: Missing the key {name} in the item"
                )
            _check_key_value(item[name], table.attribute_types[name], name, None)
        item = canonical(item)
        size = self._check_stored(table, item)
        return table.table_key(item), item, size

    def _check_stored(self, table: Table, item: Item) -> int:
        """What any item written (put or updated) must be: index keys of their types, ≤ 400 KB.
        Its size."""
        _check_key_sizes(table, item)
        for index in table.indexes.values():
            for name in (index.partition, index.sort):
                if name is not None and name in item:
                    _check_key_value(item[name], table.attribute_types[name], name, index.name)
        size = size_of(item)
        if size > _ITEM_LIMIT:
            raise validation("Item size has exceeded the maximum allowed size")
        return size

    # --- single-item writes and reads -------------------------------------------------------------
    def put_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        _no_legacy(request, "Expected")
        key, item, size = self._item(table, request.get("Item"))
        names, values = _placeholders(request, condition=request.get("ConditionExpression"))
        old = table.get(key)
        returns = _returns(request, {"NONE", "ALL_OLD"})
        self._check(request.get("ConditionExpression"), old, names, values, request)
        units = _write_units(table.size(key), size)
        table.put(key, item, size)
        answer: dict[str, Any] = {}
        if returns == "ALL_OLD" and old is not None:
            answer["Attributes"] = old
        return self._with_capacity(answer, request, table, units)

    def delete_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        _no_legacy(request, "Expected")
        key, _ = self._key(table, request.get("Key"))
        names, values = _placeholders(request, condition=request.get("ConditionExpression"))
        returns = _returns(request, {"NONE", "ALL_OLD"})
        old = table.get(key)
        self._check(request.get("ConditionExpression"), old, names, values, request)
        units = _write_units(table.size(key), 0)
        table.delete(key)
        answer: dict[str, Any] = {}
        if returns == "ALL_OLD" and old is not None:
            answer["Attributes"] = old
        return self._with_capacity(answer, request, table, units)

    def update_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        _no_legacy(request, "Expected", "AttributeUpdates")
        key, key_item = self._key(table, request.get("Key"))
        text = request.get("UpdateExpression")
        names, values = _placeholders(request, condition=request.get("ConditionExpression"), update=text)
        returns = _returns(request, {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"})
        old = table.get(key)
        self._check(request.get("ConditionExpression"), old, names, values, request)
        new, size = self._updated(table, old, key_item, text, names, values)
        units = _write_units(table.size(key), size)
        table.put(key, new, size)
        answer: dict[str, Any] = {}
        if returns in ("ALL_OLD", "UPDATED_OLD") and old is not None:
            answer["Attributes"] = old if returns == "ALL_OLD" else _fragment(text, old, names)
        elif returns == "ALL_NEW":
            answer["Attributes"] = new
        elif returns == "UPDATED_NEW":
            answer["Attributes"] = _fragment(text, new, names)
        if "Attributes" in answer and not answer["Attributes"]:
            del answer["Attributes"]
        return self._with_capacity(answer, request, table, units)

    def _updated(
        self,
        table: Table,
        old: Item | None,
        key_item: Item,
        text: Any,
        names: dict[str, str],
        values: dict[str, Any],
    ) -> tuple[Item, int]:
        """The item an update expression makes of the old one (or of the key alone), checked, and
        its size."""
        base = old if old is not None else key_item
        if not text:
            return dict(base), self._check_stored(table, base)
        if not isinstance(text, str):
            raise validation("UpdateExpression must be a string")
        update = expressions.update(text)
        changed = update.attributes(names)
        for name in table.key_names():
            if name in changed:
                raise validation(
                    f"One or more parameter values were invalid: Cannot update attribute {name}. "
                    "This attribute is part of the key"
                )
        # a missing item is updated as its key alone (a REMOVE below a missing attribute is refused,
        # as moto refuses it; DynamoDB's documentation does not say otherwise)
        new = update.apply(base, names, values)
        return new, self._check_stored(table, new)

    def get_item(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        _no_legacy(request, "AttributesToGet")
        key, _ = self._key(table, request.get("Key"))
        names, _ = _placeholders(request, projection=request.get("ProjectionExpression"))
        item = table.get(key)
        answer: dict[str, Any] = {}
        if item is not None:
            answer["Item"] = _projected(item, request.get("ProjectionExpression"), names)
        units = _read_units(table.size(key), bool(request.get("ConsistentRead")))
        return self._with_capacity(answer, request, table, units)

    def _check(
        self,
        text: Any,
        old: Item | None,
        names: dict[str, str],
        values: dict[str, Any],
        request: dict[str, Any],
    ) -> None:
        """Raise ConditionalCheckFailedException unless the condition holds on the old item."""
        if not _holds(text, old, names, values):
            fields: dict[str, Any] = {}
            if request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
                fields["Item"] = old
            raise DynamoError("ConditionalCheckFailedException", "The conditional request failed", **fields)

    def _with_capacity(
        self, answer: dict[str, Any], request: dict[str, Any], table: Table, units: float
    ) -> dict[str, Any]:
        if request.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            answer["ConsumedCapacity"] = _capacity(table.name, units, request)
        return answer

    # --- queries and scans ------------------------------------------------------------------------
    def query(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        _no_legacy(request, "KeyConditions", "QueryFilter", "AttributesToGet")
        text = request.get("KeyConditionExpression")
        if not isinstance(text, str) or not text:
            raise validation(
                "Either the KeyConditions or KeyConditionExpression parameter must be "
                "specified in the request."
            )
        names, values = _placeholders(
            request,
            key=text,
            filter=request.get("FilterExpression"),
            projection=request.get("ProjectionExpression"),
        )
        index = _index(table, request.get("IndexName"))
        partition_name, sort_name = (
            (table.partition, table.sort) if index is None else (index.partition, index.sort)
        )
        name, value, sort_condition = expressions.key_condition(text).resolve(
            names, values, partition=partition_name
        )
        if name != partition_name:
            raise validation("Query condition missed key schema element: " + partition_name)
        _check_key_value(value, table.attribute_types[name], name, None)
        condition = None
        if sort_condition is not None:
            if sort_condition[0] != sort_name:
                raise validation("Query condition missed key schema element: " + str(sort_name))
            kind = table.attribute_types[sort_name]
            op = sort_condition[1]
            operands = [v for v in sort_condition[2:] if v is not None]
            for operand in operands:
                if set(operand) != {kind}:
                    raise validation(
                        "One or more parameter values were invalid: "
                        "Condition parameter type does not match schema type"
                    )
            if op == "begins_with" and kind == "N":
                raise validation(
                    "Invalid KeyConditionExpression: Incorrect operand type for operator or function; "
                    "operator or function: begins_with, operand type: N"
                )
            condition = (op, *[key_of(operand) for operand in operands])
            if op == "BETWEEN" and condition[1] > condition[2]:
                raise validation(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be "
                    "greater than or equal to lower bound"
                )
        forward = request.get("ScanIndexForward", True) is not False
        start = request.get("ExclusiveStartKey")
        partition = key_of(value)
        keys: Iterator[TableKey]
        if index is None and table.sort is None and start is not None:
            keys = iter(())  # one item a partition: nothing follows it
        elif index is None:
            after = None if start is None else self._start(table, None, start, partition)[1]
            keys = table.partition_keys(partition, condition, after, forward)
        else:
            after = None if start is None else self._start(table, index, start, partition)
            keys = table.index_keys(index, partition, condition, after, forward)
        return self._page(table, index, keys, request, names, values)

    def scan(self, request: dict[str, Any]) -> dict[str, Any]:
        table = self._table(request.get("TableName"))
        _no_legacy(request, "ScanFilter", "AttributesToGet")
        names, values = _placeholders(
            request, filter=request.get("FilterExpression"), projection=request.get("ProjectionExpression")
        )
        index = _index(table, request.get("IndexName"))
        segments = request.get("TotalSegments")
        segment = request.get("Segment")
        if (segments is None) != (segment is None):
            raise validation("Segment and TotalSegments must be given together")
        if segments is not None and not (
            isinstance(segments, int) and isinstance(segment, int) and 0 <= segment < segments <= 1000000
        ):
            raise validation("Segment must be at least 0 and less than TotalSegments")
        start = request.get("ExclusiveStartKey")
        after: Any = None
        if start is not None:
            after = self._start(table, index, start, None)
        keys: Iterator[TableKey]
        if index is None:
            ordered = table.all_keys()
            at = 0 if after is None else bisect.bisect_right(ordered, after)
            keys = (ordered[i] for i in range(at, len(ordered)))
        else:
            entries = index.all_entries()
            at = 0 if after is None else bisect.bisect_right(entries, after)
            keys = (entries[i][1][1] for i in range(at, len(entries)))
        if segments is not None:
            keys = (k for k in keys if _segment(k[0], segments) == segment)
        return self._page(table, index, keys, request, names, values)

    def _start(self, table: Table, index: Index | None, start: Any, partition: Any) -> Any:
        """Where a page starts after `ExclusiveStartKey`: for the table its table key, for an index
        its entry `(sort order value, table key)` (in a `Scan`, with the index partition before it)."""
        if not isinstance(start, dict):
            raise validation("The provided starting key is invalid")
        try:
            key = table.table_key(start)
            if index is None:
                if partition is not None and key[0] != partition:
                    raise validation(
                        "The provided starting key is invalid: partition key does not match the query"
                    )
                return key
            sort = None if index.sort is None else key_of(start[index.sort])
            entry = (sort, key)
            if partition is None:  # a scan: the index partition leads
                return key_of(start[index.partition]), entry
            return entry
        except (KeyError, TypeError, InvalidValue) as error:
            raise validation("The provided starting key is invalid") from error

    def _page(
        self,
        table: Table,
        index: Index | None,
        keys: Iterator[TableKey],
        request: dict[str, Any],
        names: dict[str, str],
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """One page of a query or scan: up to `Limit` items read (or 1 MB), the filter applied
        after reading, the projection, the count, the key to go on from."""
        limit = request.get("Limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise validation("Limit must be at least 1")
        select = request.get("Select") or (
            "SPECIFIC_ATTRIBUTES"
            if request.get("ProjectionExpression")
            else "ALL_ATTRIBUTES"
            if index is None
            else "ALL_PROJECTED_ATTRIBUTES"
        )
        if select not in ("ALL_ATTRIBUTES", "COUNT", "SPECIFIC_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES"):
            raise validation(f"Invalid Select: {select}")
        if select == "COUNT" and request.get("ProjectionExpression"):
            raise validation("Cannot specify the ProjectionExpression when choosing to get only the Count")
        if index is not None and not index.local and request.get("ConsistentRead"):
            raise validation("Consistent reads are not supported on global secondary indexes")
        if select == "ALL_PROJECTED_ATTRIBUTES" and index is None:
            raise validation("ALL_PROJECTED_ATTRIBUTES can be used only when querying an index")
        if select == "ALL_ATTRIBUTES" and index is not None and index.kept is not None and not index.local:
            raise validation(
                "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not "
                f"supported for global secondary index {index.name} because its projection type is not ALL"
            )
        table_keys = table.key_names()
        projects = (
            index is not None and index.kept is not None and not (index.local and select == "ALL_ATTRIBUTES")
        )
        filter_text = request.get("FilterExpression")
        matches = None if not filter_text else expressions.condition(filter_text, "FilterExpression")
        projection = request.get("ProjectionExpression")
        items: list[Item] = []
        scanned = 0
        matched = 0
        read = 0
        last: Item | None = None
        stopped = False
        for key in keys:
            if (limit is not None and scanned >= limit) or read >= _PAGE_LIMIT:
                stopped = True
                break
            item = table.get(key)
            assert item is not None  # a key of the table's order
            if projects:  # a local index fetches the rest from the table when asked for all
                item = index.projected(item, table_keys)  # type: ignore[union-attr]
            scanned += 1
            read += table.sizes[key]
            last = item
            if matches is not None and not matches.holds(item, names, values):  # checked by _placeholders
                continue
            matched += 1  # counted whether or not returned: Select=COUNT returns none
            if select != "COUNT":
                items.append(item if not projection else _projected(item, projection, names))
        if limit is not None and scanned >= limit:
            # a page that reached its Limit names its last key even when nothing follows (DynamoDB's
            # Query and Scan documentation: it "stops the operation and returns ... a key in
            # LastEvaluatedKey"); the next page is then empty
            stopped = True
        answer: dict[str, Any] = {"Count": matched, "ScannedCount": scanned}
        if select != "COUNT":
            answer["Items"] = items
        if stopped and last is not None:
            answer["LastEvaluatedKey"] = _last_key(table, index, last)
        units = _read_units(read, bool(request.get("ConsistentRead")))
        return self._with_capacity(answer, request, table, units)

    # --- batches ----------------------------------------------------------------------------------
    def batch_get_item(self, request: dict[str, Any]) -> dict[str, Any]:
        requested = request.get("RequestItems")
        if not isinstance(requested, dict) or not requested:
            raise validation("The requestItems parameter is required for BatchGetItem")
        reads = []
        count = 0
        for name, wanted in requested.items():
            table = self._table(name)
            _no_legacy(wanted, "AttributesToGet")
            names, _ = _placeholders(wanted, projection=wanted.get("ProjectionExpression"))
            keys = wanted.get("Keys")
            if not isinstance(keys, list) or not keys:
                raise validation(
                    "1 validation error detected: Keys must have length greater than or equal to 1"
                )
            parsed = [self._key(table, key)[0] for key in keys]
            if len(set(parsed)) != len(parsed):
                raise validation("Provided list of item keys contains duplicates")
            count += len(parsed)
            reads.append((table, parsed, wanted, names))
        if count > _BATCH_GET_LIMIT:
            raise validation("Too many items requested for the BatchGetItem call")
        responses: dict[str, list[Item]] = {}
        capacity = []
        for table, keys, wanted, names in reads:
            found = responses.setdefault(table.name, [])
            units = 0.0
            for key in keys:
                item = table.get(key)
                units += _read_units(table.size(key), bool(wanted.get("ConsistentRead")))
                if item is not None:
                    found.append(_projected(item, wanted.get("ProjectionExpression"), names))
            capacity.append(_capacity(table.name, units, request))
        answer: dict[str, Any] = {"Responses": responses, "UnprocessedKeys": {}}
        if request.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            answer["ConsumedCapacity"] = capacity
        return answer

    def batch_write_item(self, request: dict[str, Any]) -> dict[str, Any]:
        requested = request.get("RequestItems")
        if not isinstance(requested, dict) or not requested:
            raise validation("The requestItems parameter is required for BatchWriteItem")
        writes: list[tuple[Table, TableKey, Item | None, int]] = []
        for name, entries in requested.items():
            table = self._table(name)
            if not isinstance(entries, list) or not entries:
                raise validation(
                    "1 validation error detected: the request list must have length greater than "
                    "or equal to 1"
                )
            seen: set[TableKey] = set()
            for entry in entries:
                if not isinstance(entry, dict) or len(entry) != 1:
                    raise validation("Each write request must be exactly one PutRequest or DeleteRequest")
                if "PutRequest" in entry:
                    key, item, size = self._item(table, (entry["PutRequest"] or {}).get("Item"))
                    writes.append((table, key, item, size))
                elif "DeleteRequest" in entry:
                    key, _ = self._key(table, (entry["DeleteRequest"] or {}).get("Key"))
                    writes.append((table, key, None, 0))
                else:
                    raise validation("Each write request must be exactly one PutRequest or DeleteRequest")
                if key in seen:
                    raise validation("Provided list of item keys contains duplicates")
                seen.add(key)
        if len(writes) > _BATCH_WRITE_LIMIT:
            raise validation(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: "
                "Map value must satisfy constraint: [Member must have length less than or equal to 25, "
                "Member must have length greater than or equal to 1]"
            )
        units: dict[str, float] = {}
        for table, key, written, size in writes:
            units[table.name] = units.get(table.name, 0.0) + _write_units(table.size(key), size)
            if written is None:
                table.delete(key)
            else:
                table.put(key, written, size)
        answer: dict[str, Any] = {"UnprocessedItems": {}}
        if request.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            answer["ConsumedCapacity"] = [_capacity(name, n, request) for name, n in units.items()]
        return answer

    # --- transactions -----------------------------------------------------------------------------
    def _already_written(self, request: dict[str, Any]) -> bool:
        """A transaction whose `ClientRequestToken` a transaction that succeeded came with, within
        the last 10 minutes: the same request again (a retry whose first answer was lost) is answered
        as done and written no second time; another request under that token is refused."""
        token = request.get("ClientRequestToken")
        if token is None:
            return False
        if not isinstance(token, str) or not 1 <= len(token) <= _TOKEN_MOST:
            raise validation(
                "1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: "
                f"Member must have length less than or equal to {_TOKEN_MOST}"
            )
        now = self.clock()
        # those past the window go, oldest first (kept in the order written); past `_TOKENS_KEPT`
        # the oldest go anyway: a local system's memory, not DynamoDB's promise, bounds them
        while self.tokens and (
            len(self.tokens) > _TOKENS_KEPT or now - next(iter(self.tokens.values()))[1] >= _TOKEN_SECONDS
        ):
            del self.tokens[next(iter(self.tokens))]
        kept = self.tokens.get(token)
        if kept is None or now - kept[1] >= _TOKEN_SECONDS:
            return False
        if kept[0] != _request_digest(request):
            raise DynamoError(
                "IdempotentParameterMismatchException",
                "The request uses the same client token as a previous, but non-identical request.",
            )
        return True

    def transact_write_items(self, request: dict[str, Any]) -> dict[str, Any]:
        if self._already_written(request):
            return {}
        actions = request.get("TransactItems")
        if not isinstance(actions, list) or not 1 <= len(actions) <= _TRANSACTION_LIMIT:
            raise validation(
                "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
                f"Member must have length less than or equal to {_TRANSACTION_LIMIT}"
                if isinstance(actions, list) and actions
                else "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        planned: list[tuple[Table, TableKey, str, dict[str, Any], Item | None, int, dict, dict]] = []
        seen: set[tuple[str, TableKey]] = set()
        for action in actions:
            if not isinstance(action, dict) or len(action) != 1:
                raise validation(
                    "Each transaction item must be exactly one of ConditionCheck, Put, Delete, Update"
                )
            kind, detail = next(iter(action.items()))
            if kind not in ("ConditionCheck", "Put", "Delete", "Update") or not isinstance(detail, dict):
                raise validation(f"Unknown transaction item: {kind}")
            table = self._table(detail.get("TableName"))
            item: Item | None = None
            if kind == "Put":
                key, item, size = self._item(table, detail.get("Item"))
                names, values = _placeholders(detail, condition=detail.get("ConditionExpression"))
            else:
                (key, item), size = self._key(table, detail.get("Key")), 0
                if kind == "ConditionCheck" and not detail.get("ConditionExpression"):
                    raise validation("A ConditionCheck needs a ConditionExpression")
                names, values = _placeholders(
                    detail,
                    condition=detail.get("ConditionExpression"),
                    update=detail.get("UpdateExpression") if kind == "Update" else None,
                )
                if kind == "Update" and not detail.get("UpdateExpression"):
                    raise validation("An Update needs an UpdateExpression")
            if (table.name, key) in seen:
                raise validation("Transaction request cannot include multiple operations on one item")
            seen.add((table.name, key))
            planned.append((table, key, kind, detail, item, size, names, values))
        reasons: list[dict[str, Any]] = []
        units: dict[str, float] = {}
        results: list[tuple[Table, TableKey, Item | None, int]] = []
        failed = False
        for table, key, kind, detail, item, size, names, values in planned:
            old = table.get(key)
            if not _holds(detail.get("ConditionExpression"), old, names, values):
                reason: dict[str, Any] = {
                    "Code": "ConditionalCheckFailed",
                    "Message": "The conditional request failed",
                }
                if detail.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and old is not None:
                    reason["Item"] = old
                reasons.append(reason)
                failed = True
                continue
            reasons.append({"Code": "None"})
            if kind == "Put":
                results.append((table, key, item, size))
            elif kind == "Delete":
                results.append((table, key, None, 0))
            elif kind == "Update":
                assert item is not None  # the key item
                new, size = self._updated(table, old, item, detail["UpdateExpression"], names, values)
                results.append((table, key, new, size))
            else:  # a condition check: capacity as a write of the item it reads
                units[table.name] = units.get(table.name, 0.0) + 2 * _write_units(table.size(key), 0)
        if failed:
            codes = ", ".join(reason["Code"] for reason in reasons)
            raise DynamoError(
                "TransactionCanceledException",
                f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
                CancellationReasons=reasons,
            )
        for table, key, result, size in results:
            units[table.name] = units.get(table.name, 0.0) + 2 * _write_units(table.size(key), size)
            if result is None:
                table.delete(key)
            else:
                table.put(key, result, size)
        if isinstance(request.get("ClientRequestToken"), str):
            self.tokens.pop(request["ClientRequestToken"], None)  # kept in the order written
            self.tokens[request["ClientRequestToken"]] = (_request_digest(request), self.clock())
        answer: dict[str, Any] = {}
        if request.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            answer["ConsumedCapacity"] = [_capacity(name, n, request) for name, n in units.items()]
        return answer

    def transact_get_items(self, request: dict[str, Any]) -> dict[str, Any]:
        actions = request.get("TransactItems")
        if not isinstance(actions, list) or not 1 <= len(actions) <= _TRANSACTION_LIMIT:
            raise validation("TransactItems must have between 1 and 100 items")
        responses = []
        units: dict[str, float] = {}
        seen: set[tuple[str, TableKey]] = set()
        reads = []
        for action in actions:
            detail = action.get("Get") if isinstance(action, dict) else None
            if not isinstance(detail, dict):
                raise validation("Each transaction item must be a Get")
            table = self._table(detail.get("TableName"))
            key, _ = self._key(table, detail.get("Key"))
            names, _ = _placeholders(detail, projection=detail.get("ProjectionExpression"))
            if (table.name, key) in seen:
                raise validation("Transaction request cannot include multiple operations on one item")
            seen.add((table.name, key))
            reads.append((table, key, detail, names))
        for table, key, detail, names in reads:
            item = table.get(key)
            units[table.name] = units.get(table.name, 0.0) + 2 * _read_units(table.size(key), True)
            responses.append(
                {} if item is None else {"Item": _projected(item, detail.get("ProjectionExpression"), names)}
            )
        answer: dict[str, Any] = {"Responses": responses}
        if request.get("ReturnConsumedCapacity") in ("TOTAL", "INDEXES"):
            answer["ConsumedCapacity"] = [_capacity(name, n, request) for name, n in units.items()]
        return answer


# --- helpers --------------------------------------------------------------------------------------
def _key_schema(schema: Any, types: dict[str, str], owner: str) -> tuple[str, str | None]:
    """(partition attribute, sort attribute or None) of a key schema, each defined."""
    if not isinstance(schema, list) or not 1 <= len(schema) <= 2:
        raise validation(f"Invalid KeySchema for {owner}: one HASH key and at most one RANGE key")
    kinds = [element.get("KeyType") for element in schema]
    if kinds not in (["HASH"], ["HASH", "RANGE"]):
        raise validation(f"Invalid KeySchema for {owner}: the first key must be HASH, the second RANGE")
    names = [element.get("AttributeName") for element in schema]
    for name in names:
        if name not in types:
            raise validation(
                "One or more parameter values were invalid: Some index key attributes are not defined in "
                f"AttributeDefinitions. Keys: [{name}]"
            )
    return names[0], (names[1] if len(names) == 2 else None)


def _check_key_value(value: Any, kind: str, name: str, index: str | None) -> None:
    """A key attribute's value: of the defined type; a string or binary not empty."""
    if not isinstance(value, dict) or len(value) != 1 or kind not in value:
        actual = next(iter(value), "?") if isinstance(value, dict) and value else "?"
        if index is None:
            raise validation(
                "One or more parameter values were invalid: Type mismatch for key "
                f"{name} expected: {kind} actual: {actual}"
            )
        raise validation(
            "One or more parameter values were invalid: Type mismatch for Index Key "
            f"{name} Expected: {kind} Actual: {actual} IndexName: {index}"
        )
    if kind != "N" and value[kind] == "":
        if index is None:
            raise validation(
                "One or more parameter values are not valid. The AttributeValue for a key attribute "
                f"cannot contain an empty string value. Key: {name}"
            )
        raise validation(
            "One or more parameter values are not valid. A value specified for a secondary index key "
            f"is not supported. The AttributeValue for a key attribute cannot contain an empty string "
            f"value. IndexName: {index}, IndexKey: {name}"
        )
    if kind == "N":
        check_item({name: value})


def _check_key_sizes(table: Table, item: Item) -> None:
    """A table key's values: the partition key's at most 2048 bytes, the sort key's at most 1024
    (DynamoDB's limits on key values; a string counts its UTF-8 bytes, a binary its bytes)."""
    for name, limit, message in (
        (table.partition, 2048, "Size of hashkey has exceeded the maximum size limit of 2048 bytes"),
        (table.sort, 1024, "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"),
    ):
        value = item.get(name) if name is not None else None
        if value is not None and "N" not in value and len(key_of(value)) > limit:
            raise validation(f"One or more parameter values were invalid: {message}")


def _no_legacy(request: dict[str, Any], *parameters: str) -> None:
    for parameter in parameters:
        if request.get(parameter):
            raise validation(
                f"The local DynamoDB engine takes expressions only, not the legacy parameter {parameter}"
            )


def _placeholders(
    request: dict[str, Any],
    *,
    condition: Any = None,
    filter: Any = None,
    update: Any = None,
    projection: Any = None,
    key: Any = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """The request's expression attribute names and values, each used by one of its expressions and
    every one used defined, and what its expressions refuse whatever the items hold (a value of a
    type an operator refuses, overlapping update paths): DynamoDB's checks, before anything is read,
    so also when a query reads no item."""
    for parameter in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        if request.get(parameter) == {}:
            raise validation(f"{parameter} must not be empty")
    names = request.get("ExpressionAttributeNames") or {}
    values = request.get("ExpressionAttributeValues") or {}
    if not isinstance(names, dict) or not isinstance(values, dict):
        raise validation("ExpressionAttributeNames and ExpressionAttributeValues must be maps")
    used_names: set[str] = set()
    used_values: set[str] = set()
    checked: list[Any] = []
    for text, compile_, checks in (
        (condition, expressions.condition, True),
        (filter, _filter, True),
        (update, expressions.update, True),
        (key, expressions.key_condition, False),  # its `resolve` checks it
    ):
        if text:
            if not isinstance(text, str):
                raise validation("An expression must be a string")
            compiled = compile_(text)
            used_names |= compiled.names
            used_values |= compiled.values
            if checks:
                checked.append(compiled)
    if projection:
        if not isinstance(projection, str):
            raise validation("ProjectionExpression must be a string")
        compiled_projection = expressions.projection(projection)
        used_names |= compiled_projection.names
    for name in sorted(used_names):
        if name not in names:
            raise validation(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {name}"
            )
    for value in sorted(used_values):
        if value not in values:
            raise validation(
                f"An expression attribute value used in expression is not defined; attribute value: {value}"
            )
    unused_names = set(names) - used_names
    if unused_names:
        raise validation(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {"
            + ", ".join(sorted(unused_names))
            + "}"
        )
    unused_values = set(values) - used_values
    if unused_values:
        raise validation(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {"
            + ", ".join(sorted(unused_values))
            + "}"
        )
    if values:
        check_item(values)
    for compiled in checked:
        compiled.check(names, values)
    if projection:
        compiled_projection.check(names)
    return names, values


def _filter(text: str) -> Any:
    return expressions.condition(text, "FilterExpression")


def _holds(text: Any, old: Item | None, names: dict[str, str], values: dict[str, Any]) -> bool:
    """Whether a write's condition (none: it holds) holds on the item it would replace (the request's
    placeholders already checked by `_placeholders`)."""
    return not text or expressions.condition(text).holds(old, names, values)


def _returns(request: dict[str, Any], allowed: set[str]) -> str:
    returns = request.get("ReturnValues") or "NONE"
    if returns not in allowed:
        raise validation(f"Return values set to invalid value: {returns}")
    return str(returns)


def _fragment(text: Any, item: Item, names: dict[str, str]) -> Item:
    """What of the item lies at the paths an update names (nothing when it has no expression)."""
    return expressions.update(text).updated(item, names) if text else {}


def _projected(item: Item, text: Any, names: dict[str, str]) -> Item:
    return item if not text else expressions.projection(text).apply(item, names)


def _index(table: Table, name: Any) -> Index | None:
    if name is None:
        return None
    index = table.indexes.get(name)
    if index is None:
        raise validation(f"The table does not have the specified index: {name}")
    return index


def _last_key(table: Table, index: Index | None, item: Item) -> Item:
    key = table.key_item(item)
    if index is not None:
        key[index.partition] = item[index.partition]
        if index.sort is not None:
            key[index.sort] = item[index.sort]
    return key


def _segment(partition: Any, segments: int) -> int:
    raw = partition if isinstance(partition, bytes) else str(partition).encode()
    return zlib.crc32(raw) % segments


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


def _write_units(old_size: int, new_size: int) -> float:
    return float(max(1, math.ceil(max(old_size, new_size) / 1024)))


def _capacity(table: str, units: float, request: dict[str, Any]) -> dict[str, Any]:
    capacity: dict[str, Any] = {"TableName": table, "CapacityUnits": units}
    if request.get("ReturnConsumedCapacity") == "INDEXES":
        capacity["Table"] = {"CapacityUnits": units}
    return capacity


# TransactWriteItems' idempotency: a token answers for its request for 10 minutes after it succeeded
_TOKEN_SECONDS = 600.0
_TOKEN_MOST = 36
_TOKENS_KEPT = 100_000  # about 10 MB: a minute of transactions at well over 1,000 a second


def _request_digest(request: dict[str, Any]) -> bytes:
    """A transaction's parameters (their digest), to tell the same request from another under one token."""
    text = json.dumps(
        {name: value for name, value in request.items() if name != "ClientRequestToken"},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).digest()
