"""A table of the local DynamoDB engine: its items, and each partition's keys in order.

Items are the wire's own JSON values (`{"S": "..."}`), canonical, never changed in place: a write
replaces the item, so a reader holding the old one (an answer being serialized) keeps a consistent
copy. Each is kept `marshal`led, one bytes object about the size of its JSON, and read back on use:
as dicts (a dict per attribute value, its name and its text apart) an item took seven times that,
and the local system held about 30 MB for every 1,000 events it scored. The items last read or
written are kept as dicts too (`RECENT_ITEMS`), so a write after its read, or a transaction's items,
are not read back again. Order is kept where DynamoDB keeps it:
- the table: per partition key, the sort keys in a sorted list (`bisect`), so a `Query` walks only
  the range it asks for, whatever else the table holds;
- each secondary index: per index partition key, `(index sort key, table key)` in a sorted list.
  Items without the index's key attributes are not in it (a sparse index). Items with the same index
  sort key come in table key order (DynamoDB leaves that order unspecified).
A key's order value is `values.key_of`: a string by its UTF-8 bytes, a number by its `Decimal`,
binary by its bytes, as DynamoDB orders them.
"""

from __future__ import annotations

import bisect
import marshal
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from local_system.dynamodb.values import key_of

Item = dict[str, Any]
TableKey = tuple[Any, Any]  # (partition order value, sort order value or None)

# How many items a table keeps as dicts besides their stored form: those of the last few requests (a
# scored event reads and writes a few dozen), a few megabytes whatever the table holds.
RECENT_ITEMS = 1024


@dataclass
class Index:
    """A global (or local) secondary index. `kept`: the attributes its projection keeps besides the
    keys (None: every attribute, `ALL`)."""

    name: str
    partition: str
    sort: str | None
    local: bool
    definition: dict[str, Any]
    kept: frozenset[str] | None = None
    entries: dict[Any, list[tuple[Any, TableKey]]] = field(default_factory=dict)
    _all_entries: list[tuple[Any, tuple[Any, TableKey]]] | None = None

    def all_entries(self) -> list[tuple[Any, tuple[Any, TableKey]]]:
        """Every entry in order, `(partition, (sort, table key))` (for a `Scan` of the index), kept
        until the index changes."""
        if self._all_entries is None:
            self._all_entries = [
                (partition, entry) for partition in sorted(self.entries) for entry in self.entries[partition]
            ]
        return self._all_entries

    def projected(self, item: Item, table_keys: tuple[str, ...]) -> Item:
        """The item as this index holds it."""
        if self.kept is None:
            return item
        return {
            name: value
            for name, value in item.items()
            if name in self.kept or name in table_keys or name == self.partition or name == self.sort
        }

    def position(self, item: Item) -> tuple[Any, Any] | None:
        """(partition order value, sort order value or None) of an item in this index, or None if
        it lacks a key of the index (a sparse index leaves it out)."""
        partition = item.get(self.partition)
        if partition is None:
            return None
        if self.sort is None:
            return key_of(partition), None
        sort = item.get(self.sort)
        if sort is None:
            return None
        return key_of(partition), key_of(sort)


@dataclass
class Table:
    name: str
    partition: str
    sort: str | None
    attribute_types: dict[str, str]
    indexes: dict[str, Index]
    description: dict[str, Any]
    ttl: dict[str, Any] = field(default_factory=lambda: {"TimeToLiveStatus": "DISABLED"})
    stored: dict[TableKey, bytes] = field(default_factory=dict)  # each item `marshal`led
    recent: OrderedDict[TableKey, Item] = field(default_factory=OrderedDict)  # least recent first
    sizes: dict[TableKey, int] = field(default_factory=dict)
    partitions: dict[Any, list[Any]] = field(default_factory=dict)
    bytes: int = 0
    _all_keys: list[TableKey] | None = None

    # --- keys ------------------------------------------------------------------------------------
    def key_names(self) -> tuple[str, ...]:
        return (self.partition,) if self.sort is None else (self.partition, self.sort)

    def table_key(self, item: Item) -> TableKey:
        """The order values of an item's (or a key's) table key; the key is already validated."""
        sort = None if self.sort is None else key_of(item[self.sort])
        return key_of(item[self.partition]), sort

    def key_item(self, item: Item) -> Item:
        """The key attributes of an item, as an item."""
        return {name: item[name] for name in self.key_names()}

    # --- reads -----------------------------------------------------------------------------------
    def get(self, key: TableKey) -> Item | None:
        item = self.recent.get(key)
        if item is not None:
            self.recent.move_to_end(key)
            return item
        stored = self.stored.get(key)
        if stored is None:
            return None
        item = marshal.loads(stored)  # noqa: S302 (our own bytes, written by `put`)
        self._remember(key, item)
        return item

    def _remember(self, key: TableKey, item: Item) -> None:
        self.recent[key] = item
        self.recent.move_to_end(key)
        if len(self.recent) > RECENT_ITEMS:
            self.recent.popitem(last=False)

    def size(self, key: TableKey) -> int:
        return self.sizes.get(key, 0)

    def partition_keys(
        self, partition: Any, condition: tuple[Any, ...] | None, after: Any, forward: bool
    ) -> Iterator[TableKey]:
        """The table keys of one partition in order, their sort key meeting `condition` (an operator
        and order values, see `_bounds`), strictly after the sort order value `after` in the walk's
        direction."""
        sorts = self.partitions.get(partition)
        if not sorts:
            return iter(())
        if self.sort is None:
            return iter([(partition, None)] if after is None else [])
        return ((partition, sort) for sort in _walk(sorts, condition, after, forward, _itself))

    def index_keys(
        self, index: Index, partition: Any, condition: tuple[Any, ...] | None, after: Any, forward: bool
    ) -> Iterator[TableKey]:
        """The table keys of one index partition in the index's order, as `partition_keys` walks a
        table partition; `after` is an index entry `(sort order value, table key)`."""
        entries = index.entries.get(partition)
        if not entries:
            return iter(())
        return (entry[1] for entry in _walk(entries, condition, after, forward, _first))

    def all_keys(self) -> list[TableKey]:
        """Every table key in order (for a `Scan`), kept until the table's keys change."""
        if self._all_keys is None:
            self._all_keys = [
                (partition, sort)
                for partition in sorted(self.partitions)
                for sort in self.partitions[partition]
            ]
        return self._all_keys

    # --- writes ----------------------------------------------------------------------------------
    def put(self, key: TableKey, item: Item, size: int) -> None:
        """Store an item (canonical, validated, of that size) under its key, replacing any other."""
        old = self.get(key)
        if old is not None:
            self.bytes -= self.sizes[key]
        else:
            sorts = self.partitions.get(key[0])
            if sorts is None:
                self.partitions[key[0]] = [key[1]]
            else:
                bisect.insort(sorts, key[1])
            self._all_keys = None
        self.stored[key] = marshal.dumps(item)
        self._remember(key, item)
        self.sizes[key] = size
        self.bytes += size
        self._reindex(key, old, item)

    def delete(self, key: TableKey) -> Item | None:
        old = self.get(key)
        if old is None:
            return None
        del self.stored[key]
        del self.recent[key]
        self._reindex(key, old, None)
        self.bytes -= self.sizes.pop(key)
        sorts = self.partitions[key[0]]
        if self.sort is None:
            del self.partitions[key[0]]
        else:
            del sorts[bisect.bisect_left(sorts, key[1])]
            if not sorts:
                del self.partitions[key[0]]
        self._all_keys = None
        return old

    def _reindex(self, key: TableKey, old: Item | None, new: Item | None) -> None:
        """Moves the item's entry in each index from where its old version had it to where its new
        version has it (None: no version, or not in that index). An index whose keys the write left
        alone, as most writes do, is not touched."""
        for index in self.indexes.values():
            before = None if old is None else index.position(old)
            after = None if new is None else index.position(new)
            if before == after:
                continue
            index._all_entries = None
            if before is not None:
                partition, sort = before
                entries = index.entries[partition]
                del entries[bisect.bisect_left(entries, (sort, key))]
                if not entries:
                    del index.entries[partition]
            if after is not None:
                partition, sort = after
                bisect.insort(index.entries.setdefault(partition, []), (sort, key))

    def index_count(self, index: Index) -> int:
        return sum(len(entries) for entries in index.entries.values())


def _itself(entry: Any) -> Any:
    return entry


def _first(entry: Any) -> Any:
    return entry[0]


def _walk(
    entries: list[Any], condition: tuple[Any, ...] | None, after: Any, forward: bool, sort_of: Any
) -> Iterator[Any]:
    """The entries of a sorted list whose sort value meets the condition, in either direction,
    starting strictly after `after` (an entry) when given. An entry of a table partition is its sort
    value, of an index partition `(sort value, table key)`."""
    start, stop = _bounds(entries, condition, sort_of)
    if after is not None:
        if forward:
            start = max(start, bisect.bisect_right(entries, after))
        else:
            stop = min(stop, bisect.bisect_left(entries, after))
    if forward:
        for at in range(start, stop):
            yield entries[at]
    else:
        for at in range(stop - 1, start - 1, -1):
            yield entries[at]


def _bounds(entries: list[Any], condition: tuple[Any, ...] | None, sort_of: Any) -> tuple[int, int]:
    """[start, stop) of the entries whose sort value meets a key condition on the sort key:
    ("=", v), ("<", v), ("<=", v), (">", v), (">=", v), ("BETWEEN", low, high), ("begins_with", prefix)."""
    if condition is None:
        return 0, len(entries)

    def first(beyond: Any) -> int:  # the first entry for which `beyond` holds (it holds from there on)
        low, high = 0, len(entries)
        while low < high:
            middle = (low + high) // 2
            if beyond(sort_of(entries[middle])):
                high = middle
            else:
                low = middle + 1
        return low

    op, value = condition[0], condition[1]
    if op == "=":
        return first(lambda s: s >= value), first(lambda s: s > value)
    if op == "<":
        return 0, first(lambda s: s >= value)
    if op == "<=":
        return 0, first(lambda s: s > value)
    if op == ">":
        return first(lambda s: s > value), len(entries)
    if op == ">=":
        return first(lambda s: s >= value), len(entries)
    if op == "BETWEEN":
        return first(lambda s: s >= value), first(lambda s: s > condition[2])
    # begins_with: the entries with the prefix are together, right at or above the prefix
    return first(lambda s: s >= value), first(lambda s: s > value and not s.startswith(value))
