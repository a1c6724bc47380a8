"""Makes moto's DynamoDB queries follow key order, as DynamoDB's do.

moto answers every query, on the table or on an index, by walking and sorting the whole table: a
query costs O(table), so the local system slows as its table fills, where DynamoDB reads one
partition from the sort key's position on. This keeps, beside each moto table, the key order
DynamoDB has: per partition of the table and of each index (one hash and one range attribute), a
sorted list of sort keys. A query finds its partition, bisects to the key condition and the
`ExclusiveStartKey`, and reads only the page it returns (plus the one item that tells whether
another page follows).

moto stays the store: the items are moto's, and the answer is moto's to the letter (the same items
in the same order, `Count`, `ScannedCount`, `LastEvaluatedKey`, filters and projections applied by
moto's own code). Anything outside the common path (multi-attribute keys, the legacy
`QueryFilter`, a start key of another partition, mixed key types, a partition too large for one
page...) is handed to moto's own walk. The order is rebuilt from the items at a table's first query
and kept up to date by every write path of moto's backend: put, delete, update (which changes an
item in place), batch writes and PartiQL (through put and delete), and transactions, whose keys are
indexed again after they commit or roll back."""

from __future__ import annotations

import contextlib
import copy
import functools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from typing import Any

_ATTRIBUTE = "_local_key_order"
_KEY_TYPES = frozenset({"S", "N", "B"})
# moto ends a page when the next item would take it past 1,000,000 bytes; an item is at most ~405,000
_RESULT_SIZE_LIMIT = 1_000_000
_LARGEST_ITEM = 410_000
_RANGE_OPERATORS = frozenset(
    {"=", "EQ", "<", "LT", "<=", "LE", ">", "GT", ">=", "GE", "BETWEEN", "BEGINS_WITH"}
)

_use_key_order = True


@contextlib.contextmanager
def moto_own_queries() -> Iterator[None]:
    """Answers queries with moto's own walk of the table meanwhile (what the tests compare with)."""
    global _use_key_order
    saved, _use_key_order = _use_key_order, False
    try:
        yield
    finally:
        _use_key_order = saved


def _first(entry: tuple[Any, ...]) -> Any:
    return entry[0]


class _Partition:
    """One partition of the table or of an index: its sort keys in order, and the item of each."""

    __slots__ = ("entries", "primary", "types")

    def __init__(self, types: tuple[str, ...]) -> None:
        self.entries: list[tuple[Any, ...]] = []
        self.primary: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self.types = types


class KeyOrder:
    """The key order of one moto table: its base partitions and those of each index.

    A base partition is sorted by the range key; an index partition by the index's range key, then
    the table's hash and range keys, as moto sorts (the primary key makes each entry unique)."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.signature = _signature(table)
        self.layouts: dict[str | None, tuple[str, str]] = {None: (table.hash_key_attr, table.range_key_attr)}
        for index in table.all_indexes():
            hashes = [k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH"]
            ranges = [k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"]
            if len(hashes) == 1 and len(ranges) == 1:
                self.layouts[index.name] = (hashes[0], ranges[0])
        self.partitions: dict[tuple[str | None, Any], _Partition] = {}
        self.entries: dict[tuple[Any, Any], tuple[tuple[str | None, Any, tuple[Any, ...]], ...]] = {}
        # each item's index key attributes as written (type and text), to tell a write that left
        # them alone (most writes) without working out its positions again
        index_layouts = [layout for name, layout in self.layouts.items() if name is not None]
        self.index_attributes = tuple(sorted({attribute for layout in index_layouts for attribute in layout}))
        self.index_keys: dict[tuple[Any, Any], tuple[Any, ...]] = {}
        self.usable = True  # False: a key type moto would not sort either; queries go to moto's walk
        self.stale = False  # True: a write this order could not follow; rebuilt at the next query
        for hash_value, items in list(table.items.items()):
            for range_value, item in list(items.items()):
                self._add(hash_value, range_value, item, keep_sorted=False)
        for partition in self.partitions.values():
            try:
                partition.entries.sort()
            except TypeError:
                self.usable = False

    # --- keeping it up to date ----------------------------------------------------------------
    def reindex(self, hash_value: Any, range_value: Any) -> None:
        """Puts the item under this primary key (or its absence) back in order."""
        if not self.usable or self.stale:
            return
        items = self.table.items.get(hash_value)
        item = items.get(range_value) if items else None
        key = (hash_value, range_value)
        if item is not None and self.index_keys.get(key) == self._index_keys(item):
            return  # its keys did not change (most writes): it is where it was
        self.index_keys.pop(key, None)
        for name, partition_value, entry in self.entries.pop(key, ()):
            partition = self.partitions[(name, partition_value)]
            del partition.entries[bisect_left(partition.entries, entry)]
            del partition.primary[entry]
            if not partition.entries:
                del self.partitions[(name, partition_value)]
        if item is not None:
            try:
                self._add(hash_value, range_value, item, keep_sorted=True)
            except TypeError:  # key values moto could not sort either
                self.usable = False

    def _index_keys(self, item: Any) -> tuple[Any, ...]:
        """The item's index key attributes as written (absent: None), kept from the item's last add."""
        attributes = item.attrs
        return tuple(
            None if value is None else (value.type, value.value)
            for value in map(attributes.get, self.index_attributes)
        )

    def _add(self, hash_value: Any, range_value: Any, item: Any, keep_sorted: bool) -> None:
        placed = []
        for name, (hash_attribute, range_attribute) in self.layouts.items():
            if name is None:
                partition_value, sort_values = hash_value, (range_value,)
            else:
                partition_value = item.attrs.get(hash_attribute)
                index_range = item.attrs.get(range_attribute)
                if partition_value is None or index_range is None:
                    continue  # sparse: an item without the index's keys is not in the index
                sort_values = (index_range, hash_value, range_value)
            types = tuple(value.type for value in sort_values)
            if partition_value.type not in _KEY_TYPES or not _KEY_TYPES.issuperset(types):
                self.usable = False
                return
            entry = tuple(value.cast_value for value in sort_values)
            partition = self.partitions.get((name, partition_value))
            if partition is None:
                partition = self.partitions[(name, partition_value)] = _Partition(types)
            elif partition.types != types:
                self.usable = False  # moto would fail to sort this partition: leave it to moto
                return
            if keep_sorted:
                partition.entries.insert(bisect_left(partition.entries, entry), entry)
            else:
                partition.entries.append(entry)
            partition.primary[entry] = (hash_value, range_value)
            placed.append((name, partition_value, entry))
        self.entries[(hash_value, range_value)] = tuple(placed)
        self.index_keys[(hash_value, range_value)] = self._index_keys(item)

    # --- answering a query --------------------------------------------------------------------
    def query(
        self,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int | None,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: Any,
        index_name: str | None,
        consistent_read: bool,
        filter_expression: Any,
        hash_key_conditions: list[tuple[str, Any]] | None,
        range_key_conditions: list[tuple[str, str, list[Any]]] | None,
    ) -> tuple[list[Any], int, dict[str, Any] | None] | None:
        """moto's answer read in key order, or None when moto's own walk must answer."""
        table = self.table
        if index_name not in self.layouts or (limit is not None and (type(limit) is not int or limit < 1)):
            return None
        hash_attribute, range_attribute = self.layouts[index_name]
        if index_name is None:
            partition_value = hash_key
        else:
            if consistent_read and any(i.name == index_name for i in table.global_indexes):
                return None  # moto refuses it
            if not hash_key_conditions or len(hash_key_conditions) != 1:
                return None
            name, partition_value = hash_key_conditions[0]
            if name != hash_attribute:
                return None
        if partition_value is None or len(range_key_conditions or ()) > 1:
            return None
        if range_key_conditions and range_key_conditions[0][0] != range_attribute:
            return None
        partition = self.partitions.get((index_name, partition_value))
        if partition is None:  # no item has this partition key (in this index)
            return ([], 0, None) if _valid_range(range_comparison, range_objs) else None
        types = partition.types
        bounds = _bounds(partition.entries, types[0], range_comparison, range_objs)
        if bounds is None:
            return None
        low, high = bounds
        size = len(partition.entries)
        after_start = before_start = None
        if exclusive_start_key is not None:
            start = _start_entry(
                exclusive_start_key, index_name, hash_attribute, partition_value, types, self
            )
            if start is None:
                return None
            after_start = bisect_right(partition.entries, start)
            before_start = bisect_left(partition.entries, start)
        if scan_index_forward:
            first = low if after_start is None else max(low, after_start)
            page = range(first, high)
            rest = range(high if after_start is None else max(high, after_start), size)
        else:
            last = high if before_start is None else min(high, before_start)
            page = range(last - 1, low - 1, -1)
            rest = range((low if before_start is None else min(low, before_start)) - 1, -1, -1)

        items = table.items
        entries, primary = partition.entries, partition.primary

        def item_at(position: int) -> Any:
            hash_value, range_value = primary[entries[position]]
            return items[hash_value][range_value]

        results: list[Any] = []
        result_size = 0
        last_evaluated_key = None
        stopped = False
        for position in page:
            item = item_at(position)
            item_size = item.size()
            if len(results) == limit or result_size + item_size > _RESULT_SIZE_LIMIT:
                last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
                stopped = True
                break
            results.append(item)
            result_size += item_size
        if not stopped and rest:
            # moto looks at the items past the key condition too: one ends the page when the limit
            # is reached, or when it would not fit (only possible on a page close to 1 MB)
            if len(results) == limit:
                last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            elif result_size + _LARGEST_ITEM > _RESULT_SIZE_LIMIT:
                for position in rest:
                    if result_size + item_at(position).size() > _RESULT_SIZE_LIMIT:
                        last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
                        break
        scanned_count = len(results)

        # from here on, moto's own steps
        results = copy.deepcopy(results)
        if index_name:
            index = table.get_index(index_name)
            results = [index.project(r) for r in results]
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [r.project(projection_expressions) for r in results]
        return results, scanned_count, last_evaluated_key


def _signature(table: Any) -> tuple[Any, ...]:
    return (
        table.hash_key_attr,
        table.range_key_attr,
        tuple(
            (index.name, tuple((k["AttributeName"], k["KeyType"]) for k in index.schema))
            for index in table.all_indexes()
        ),
    )


def _valid_range(range_comparison: str | None, range_objs: list[Any]) -> bool:
    if range_comparison is None:
        return True
    return range_comparison in _RANGE_OPERATORS and len(range_objs) == (
        2 if range_comparison == "BETWEEN" else 1
    )


def _bounds(
    entries: list[tuple[Any, ...]], key_type: str, range_comparison: str | None, range_objs: list[Any]
) -> tuple[int, int] | None:
    """The positions [low, high) whose range key meets the key condition; None: moto decides."""
    if range_comparison is None:
        return 0, len(entries)
    if not _valid_range(range_comparison, range_objs) or any(o.type != key_type for o in range_objs):
        return None
    values = [o.cast_value for o in range_objs]
    value = values[0]
    if range_comparison in ("=", "EQ"):
        return bisect_left(entries, value, key=_first), bisect_right(entries, value, key=_first)
    if range_comparison in ("<", "LT"):
        return 0, bisect_left(entries, value, key=_first)
    if range_comparison in ("<=", "LE"):
        return 0, bisect_right(entries, value, key=_first)
    if range_comparison in (">", "GT"):
        return bisect_right(entries, value, key=_first), len(entries)
    if range_comparison in (">=", "GE"):
        return bisect_left(entries, value, key=_first), len(entries)
    if range_comparison == "BETWEEN":
        low = bisect_left(entries, value, key=_first)
        return low, max(low, bisect_right(entries, values[1], key=_first))
    # BEGINS_WITH: the keys with a prefix are contiguous in string order
    if key_type != "S":
        return None
    width = len(value)

    def prefix(entry: tuple[Any, ...]) -> Any:
        return entry[0][:width]

    return bisect_left(entries, value, key=prefix), bisect_right(entries, value, key=prefix)


def _start_entry(
    start_key: dict[str, Any],
    index_name: str | None,
    hash_attribute: str,
    partition_value: Any,
    types: tuple[str, ...],
    order: KeyOrder,
) -> tuple[Any, ...] | None:
    """The sort entry of an `ExclusiveStartKey` of this partition, or None (moto decides)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = order.table
    names = [table.range_key_attr] if index_name is None else [order.layouts[index_name][1]]
    if index_name is not None:
        names += [table.hash_key_attr, table.range_key_attr]
    try:
        if DynamoType(start_key[hash_attribute]) != partition_value:
            return None
        values = [DynamoType(start_key[name]) for name in names]
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    if tuple(v.type for v in values) != types:
        return None
    return tuple(v.cast_value for v in values)


def key_order(table: Any) -> KeyOrder | None:
    """The table's key order, built at its first use or after a change of its key schema."""
    if not table.range_key_attr:
        return None
    order = table.__dict__.get(_ATTRIBUTE)
    if order is None or order.stale or order.signature != _signature(table):
        order = table.__dict__[_ATTRIBUTE] = KeyOrder(table)
    return order if order.usable else None


def _existing_order(table: Any) -> KeyOrder | None:
    order = table.__dict__.get(_ATTRIBUTE) if table is not None else None
    return order if order is not None and order.usable and not order.stale else None


def _table_of(backend: Any, name: Any) -> Any:
    try:
        return backend.get_table(name)  # a name or an ARN
    except Exception:  # an unknown table: moto has answered so, nothing was written
        return None


def _reindex_key(table: Any, key: dict[str, Any] | None) -> None:
    """Indexes again the item of a request's key (raw attribute values), whatever happened to it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    order = _existing_order(table)
    if order is None:
        return
    try:
        hash_value = DynamoType(key[table.hash_key_attr])  # type: ignore[index]
        range_value = DynamoType(key[table.range_key_attr])  # type: ignore[index]
    except (KeyError, TypeError, AttributeError, IndexError):
        order.stale = True  # a key it cannot read: rebuild rather than guess
        return
    order.reindex(hash_value, range_value)


# --- the patches ------------------------------------------------------------------------------
def _query(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def query(
        table: Any,
        hash_key: Any,
        range_comparison: Any,
        range_objs: Any,
        limit: Any,
        exclusive_start_key: Any,
        scan_index_forward: Any,
        projection_expressions: Any,
        index_name: Any = None,
        consistent_read: Any = False,
        filter_expression: Any = None,
        hash_key_conditions: Any = None,
        range_key_conditions: Any = None,
        **filter_kwargs: Any,
    ) -> Any:
        order = key_order(table) if _use_key_order and not filter_kwargs else None
        answer = None
        if order is not None:
            with contextlib.suppress(TypeError):  # values moto cannot compare: its own walk says so
                answer = order.query(
                    hash_key,
                    range_comparison,
                    range_objs,
                    limit,
                    exclusive_start_key,
                    scan_index_forward,
                    projection_expressions,
                    index_name,
                    consistent_read,
                    filter_expression,
                    hash_key_conditions,
                    range_key_conditions,
                )
        if answer is not None:
            return answer
        return method(
            table,
            hash_key,
            range_comparison,
            range_objs,
            limit,
            exclusive_start_key,
            scan_index_forward,
            projection_expressions,
            index_name,
            consistent_read,
            filter_expression,
            hash_key_conditions=hash_key_conditions,
            range_key_conditions=range_key_conditions,
            **filter_kwargs,
        )

    return query


def _table_put(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def put_item(table: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(table, item_attrs, *args, **kwargs)
        finally:
            if _existing_order(table) is not None:
                _reindex_key(table, item_attrs)

    return put_item


def _table_delete(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def delete_item(table: Any, hash_key: Any, range_key: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(table, hash_key, range_key, *args, **kwargs)
        finally:
            order = _existing_order(table)
            if order is not None:
                if range_key is None:
                    order.stale = True
                else:
                    order.reindex(hash_key, range_key)

    return delete_item


def _backend_update(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto's update changes the stored item in place: its index keys may change or go."""

    @functools.wraps(method)
    def update_item(backend: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(backend, table_name, key, *args, **kwargs)
        finally:
            _reindex_key(_table_of(backend, table_name), key)

    return update_item


def _backend_transaction(method: Callable[..., Any]) -> Callable[..., Any]:
    """After a transaction, committed or rolled back, every item it named is indexed again."""

    @functools.wraps(method)
    def transact_write_items(
        backend: Any, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return method(backend, transact_items, *args, **kwargs)
        finally:
            for entry in transact_items:
                try:
                    _, operation = next(iter(entry.items()))
                    table = _table_of(backend, operation.get("TableName"))
                    key = operation.get("Key") or operation.get("Item")
                except (StopIteration, AttributeError, TypeError):
                    continue
                _reindex_key(table, key)

    return transact_write_items


def make_moto_queries_use_key_order() -> None:
    """Patches moto's DynamoDB (once per process): queries in key order, writes keep the order."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    from local_system.moto_atomic import make_moto_transactions_cheap

    if getattr(Table.query, "__moto_key_order__", False):
        return
    # first: a transaction's keys are indexed again after its journal has put back what it undid
    make_moto_transactions_cheap()
    for owner, name, patch in (
        (Table, "query", _query),
        (Table, "put_item", _table_put),
        (Table, "delete_item", _table_delete),
        (DynamoDBBackend, "update_item", _backend_update),
        (DynamoDBBackend, "transact_write_items", _backend_transaction),
    ):
        wrapper = patch(getattr(owner, name))
        wrapper.__moto_key_order__ = True  # type: ignore[attr-defined]
        setattr(owner, name, wrapper)


def check(table: Any) -> None:
    """Raises AssertionError when the table's live key order differs from one built afresh from its
    items (the tests' check that no write path was missed)."""
    live = table.__dict__.get(_ATTRIBUTE)
    if live is None or live.stale or not live.usable:
        return
    fresh = KeyOrder(table)
    assert {k: v.entries for k, v in live.partitions.items()} == {
        k: v.entries for k, v in fresh.partitions.items()
    }, "key order drifted from the table's items"
    assert live.entries == fresh.entries, "key order drifted from the table's items"
