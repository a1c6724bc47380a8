"""The local DynamoDB engine's tables (`local_system.dynamodb.tables`) walk a partition's keys as a
sorted list filtered by hand would: every key condition, both directions, starting after any key,
in the table and in an index, through puts, replacements and deletes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from local_system.dynamodb.tables import Index, Table
from local_system.dynamodb.values import key_of

SORTS = st.sampled_from(["", "a", "ab", "abc", "b", "ba", "b\u00e9", "c", "\U0001f600", "zz"])
NUMBERS = st.sampled_from(["-10", "-1.5", "0", "1", "1.5", "2", "10", "100"])
OPS = ("=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")


def _table() -> Table:
    index = Index("by_n", "g", "n", False, {})
    return Table("t", "pk", "sk", {"pk": "S", "sk": "S", "g": "S", "n": "N"}, {"by_n": index}, {})


def _meets(value: Any, condition: tuple[Any, ...] | None) -> bool:
    if condition is None:
        return True
    op, operand = condition[0], condition[1]
    if op == "=":
        return bool(value == operand)
    if op == "<":
        return bool(value < operand)
    if op == "<=":
        return bool(value <= operand)
    if op == ">":
        return bool(value > operand)
    if op == ">=":
        return bool(value >= operand)
    if op == "BETWEEN":
        return bool(operand <= value <= condition[2])
    return bool(value.startswith(operand))


writes = st.lists(
    st.tuples(st.sampled_from(["p", "q"]), SORTS, st.one_of(st.none(), NUMBERS), st.booleans()),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(writes, SORTS, SORTS, st.data())
def test_a_partition_walk_is_the_sorted_keys_that_meet_the_condition(
    history: list[tuple[str, str, str | None, bool]], low: str, high: str, data: st.DataObject
) -> None:
    table = _table()
    model: dict[tuple[str, str], dict[str, Any]] = {}
    for partition, sort, number, delete in history:
        item: dict[str, Any] = {"pk": {"S": partition}, "sk": {"S": sort}}
        if number is not None:
            item |= {"g": {"S": "G"}, "n": {"N": number}}
        key = table.table_key(item)
        if delete:
            table.delete(key)
            model.pop((partition, sort), None)
        else:
            table.put(key, item, 10)
            model[(partition, sort)] = item
        table.all_keys(), table.indexes["by_n"].all_entries()  # kept orders: each write must renew them
    low_key, high_key = sorted([key_of({"S": low}), key_of({"S": high})])
    partition = key_of({"S": "p"})
    for condition in [
        None,
        *((op, low_key) for op in OPS if op != "BETWEEN"),
        ("BETWEEN", low_key, high_key),
    ]:
        for forward in (True, False):
            expected = sorted((key_of({"S": sort}) for (p, sort) in model if p == "p"), reverse=not forward)
            expected = [sort for sort in expected if _meets(sort, condition)]
            walked = [key[1] for key in table.partition_keys(partition, condition, None, forward)]
            assert walked == expected, (condition, forward)
            if expected:  # start after any of them: the rest, in order
                at = data.draw(st.integers(0, len(expected) - 1))
                rest = [k[1] for k in table.partition_keys(partition, condition, expected[at], forward)]
                assert rest == expected[at + 1 :], (condition, forward, at)
    # the index: items with both index keys, by number then table key
    entries = sorted((key_of(item["n"]), table.table_key(item)) for item in model.values() if "n" in item)
    index = table.indexes["by_n"]
    bound = key_of({"N": data.draw(NUMBERS)})
    for forward in (True, False):
        by_number = list(table.index_keys(index, key_of({"S": "G"}), (">=", bound), None, forward))
        assert by_number == [k for n, k in (entries if forward else entries[::-1]) if n >= bound]
    assert table.all_keys() == sorted(table.stored)
    assert index.all_entries() == sorted(
        (key_of(item["g"]), (key_of(item["n"]), table.table_key(item)))
        for item in model.values()
        if "n" in item
    )
    assert len(table.stored) == len(model)


def test_an_item_is_held_in_about_its_own_size_and_read_back_as_written() -> None:
    # Given a table of 2,000 items, When 3,000 more items of 20 attributes are written, Then
    # each costs at most twice its JSON's length (as dicts, a dict per value: seven times), and each
    # reads back as written (its attributes' order and types too)
    import json
    import tracemalloc

    table = _table()

    def item(number: int) -> dict[str, Any]:
        fields = {f"field_{n}": {"S": f"value {n} of item {number:06d}"} for n in range(16)}
        return {
            "pk": {"S": f"P#program#PARTNER#{number:06d}"},
            "sk": {"S": "PROFILE"},
            **fields,
            "flagged": {"BOOL": True},
            "tags": {"L": [{"S": "a"}, {"N": "1.5"}, {"NULL": True}]},
        }

    def write(numbers: range) -> int:
        for number in numbers:
            written = item(number)
            table.put(table.table_key(written), written, 0)
        return sum(len(json.dumps(item(number), separators=(",", ":"))) for number in numbers)

    tracemalloc.start()  # before the first items, whose dicts the recent ones then replace
    try:
        write(range(2000))  # more than the table keeps as dicts (`RECENT_ITEMS`): a fixed cost
        before = tracemalloc.get_traced_memory()[0]
        json_length = write(range(2000, 5000))
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held < 2 * json_length, (held, json_length)
    for number in (0, 1999, 2000, 3000):  # read back from their stored form: none is recent
        expected = item(number)
        read = table.get(table.table_key(expected))
        assert read == expected and list(read) == list(expected)
        assert read["flagged"]["BOOL"] is True
