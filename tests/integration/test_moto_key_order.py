"""moto's queries in key order (`local_system.moto_key_order`) answer exactly what moto's own walk of
the table answers, after any mix of writes: puts, updates that set, change or remove index keys,
deletes, batch writes, and transactions committed or rolled back; and they read the page, not the
table."""

from __future__ import annotations

from typing import Any

import boto3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_system import moto_key_order
from local_system.moto_key_order import moto_own_queries
from tests.integration.moto_histories import (
    G1_PKS,
    G1_SKS,
    G2_PKS,
    INDEXES,
    NUMBERS,
    PKS,
    SKS,
    TABLE,
    answer_of,
    create_table,
    value_of,
    writes,
)


@st.composite
def queries(draw: Any) -> dict[str, Any]:
    index = draw(st.sampled_from(tuple(INDEXES)))
    hash_name, range_name, kind = INDEXES[index]
    partition = draw(st.sampled_from({None: PKS, "gs1": G1_PKS, "gs2": G2_PKS}[index] + ("none",)))
    values = SKS if index is None else (G1_SKS + ("m", "z") if index == "gs1" else NUMBERS)
    condition = "#h = :h"
    names = {"#h": hash_name}
    expression_values: dict[str, Any] = {":h": {"S": partition}}
    operator = draw(st.sampled_from((None, "=", "<", "<=", ">", ">=", "BETWEEN", "begins_with")))
    if operator == "begins_with" and kind != "S":
        operator = None
    if operator is not None:
        names["#r"] = range_name
        low, high = sorted(draw(st.lists(st.sampled_from(values), min_size=2, max_size=2)), key=str)
        if operator == "BETWEEN":
            condition += " AND #r BETWEEN :low AND :high"
            expression_values.update({":low": value_of(low), ":high": value_of(high)})
        elif operator == "begins_with":
            prefix = draw(st.sampled_from(("", "a", "ab", "1", "m", "b", "n")))
            condition += " AND begins_with(#r, :low)"
            expression_values[":low"] = {"S": prefix} if prefix else {"S": "a"}
        else:
            condition += f" AND #r {operator} :low"
            expression_values[":low"] = value_of(low)
    query: dict[str, Any] = {
        "TableName": TABLE,
        "KeyConditionExpression": condition,
        "ScanIndexForward": draw(st.booleans()),
    }
    if index is not None:
        query["IndexName"] = index
    limit = draw(st.none() | st.integers(1, 4))
    if limit:
        query["Limit"] = limit
    filtered = draw(st.sampled_from((None, "v > :zero", "attribute_not_exists(v)")))
    if filtered:
        query["FilterExpression"] = filtered
        if ":zero" in filtered:
            expression_values[":zero"] = {"N": "0"}
    if draw(st.booleans()):
        query["ProjectionExpression"] = "#h, sk, v"
    query["ExpressionAttributeNames"] = names
    query["ExpressionAttributeValues"] = expression_values
    return query


def _pages(client: Any, query: dict[str, Any], max_pages: int = 12) -> list[Any]:
    pages = []
    request = dict(query)
    for _ in range(max_pages):
        page = answer_of(lambda: client.query(**request))  # noqa: B023 (called at once)
        pages.append(page)
        if not isinstance(page, dict) or "LastEvaluatedKey" not in page:
            break
        request = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}
    return pages


def _table() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].get_table(TABLE)


steps = st.lists(st.one_of(writes, queries().map(lambda q: ("query", q))), min_size=1, max_size=30)


@settings(
    max_examples=40,  # hypothesis explores anew on every run; the suite stays under its time
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(history=steps)
def test_queries_in_key_order_answer_what_moto_answers_after_any_writes(fake_credentials, history):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        for operation, request in history:
            if operation == "query":
                # Given the same table, When it is queried in key order and by moto's own walk,
                # Then every page is the same: items, counts, and where the next page starts
                in_key_order = _pages(client, request)
                with moto_own_queries():
                    by_moto = _pages(client, request)
                assert in_key_order == by_moto, request
            else:
                answer_of(lambda: getattr(client, operation)(**request))  # noqa: B023 (called at once)
                moto_key_order.check(_table())


def test_a_query_reads_its_page_not_the_table(fake_credentials, monkeypatch):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        for n in range(300):
            client.put_item(
                TableName=TABLE,
                Item={
                    "pk": {"S": f"p{n % 30}"},
                    "sk": {"S": f"{n:05d}"},
                    "g1pk": {"S": f"x{n % 3}"},
                    "g1sk": {"S": f"{n:05d}"},
                },
            )
        from moto.dynamodb.models.dynamo_type import Item

        # moto's own walk looks at every item of the table; the key order only at the page's
        visited = []
        size = Item.size
        monkeypatch.setattr(Item, "size", lambda item: visited.append(item) or size(item))
        page = client.query(
            TableName=TABLE,
            IndexName="gs1",
            KeyConditionExpression="g1pk = :p AND g1sk BETWEEN :a AND :b",
            ExpressionAttributeValues={":p": {"S": "x1"}, ":a": {"S": "00100"}, ":b": {"S": "00200"}},
            Limit=5,
        )
        assert [i["g1sk"]["S"] for i in page["Items"]] == ["00100", "00103", "00106", "00109", "00112"]
        assert len(visited) <= 6  # the page and the one item that says another page follows

        visited.clear()
        base = client.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p7"}},
            ScanIndexForward=False,
            Limit=2,
            ExclusiveStartKey={"pk": {"S": "p7"}, "sk": {"S": "00247"}},
        )
        assert [i["sk"]["S"] for i in base["Items"]] == ["00217", "00187"]
        assert len(visited) <= 3


def _every_query() -> list[dict[str, Any]]:
    """Every key condition over a few values, both directions, several page sizes."""
    grid = []
    for index, (hash_name, range_name, kind) in INDEXES.items():
        partitions = {None: ("a", "b"), "gs1": G1_PKS, "gs2": G2_PKS}[index]
        values = ("1", "ab", "b") if index is None else (("m", "mb", "n") if index == "gs1" else (0, 1, 10))
        conditions: list[tuple[str, dict[str, Any]]] = [("", {})]
        for operator in ("=", "<", "<=", ">", ">="):
            conditions += [(f" AND #r {operator} :v", {":v": value_of(v)}) for v in values]
        conditions += [
            (" AND #r BETWEEN :v AND :w", {":v": value_of(low), ":w": value_of(high)})
            for low, high in zip(values, values[1:] + values[:1], strict=True)
        ]
        if kind == "S":
            conditions += [(" AND begins_with(#r, :v)", {":v": value_of(v[0])}) for v in values]
        for partition in partitions:
            for condition, bound in conditions:
                for forward in (True, False):
                    for limit in (None, 1, 2, 3):
                        query: dict[str, Any] = {
                            "TableName": TABLE,
                            "KeyConditionExpression": "#h = :h" + condition,
                            "ExpressionAttributeNames": {
                                "#h": hash_name,
                                **({"#r": range_name} if bound else {}),
                            },
                            "ExpressionAttributeValues": {":h": {"S": partition}, **bound},
                            "ScanIndexForward": forward,
                        }
                        if index:
                            query["IndexName"] = index
                        if limit:
                            query["Limit"] = limit
                        grid.append(query)
    return grid


def test_every_key_condition_and_page_size_answers_what_moto_answers(fake_credentials):
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        # Given partitions where key conditions end mid-partition (the page may end exactly there)
        for n, (pk, sk) in enumerate((pk, sk) for pk in PKS for sk in SKS):
            item = {"pk": {"S": pk}, "sk": {"S": sk}, "v": {"N": str(n % 4)}}
            if n % 3:
                item.update(g1pk={"S": G1_PKS[n % 2]}, g1sk={"S": G1_SKS[n % len(G1_SKS)]})
            if n % 4:
                item.update(g2pk={"S": G2_PKS[n % 2]}, g2sk=value_of(NUMBERS[n % len(NUMBERS)]))
            client.put_item(TableName=TABLE, Item=item)
        # When every query is paged through in key order and by moto's own walk, Then the pages match
        for query in _every_query():
            in_key_order = _pages(client, query)
            with moto_own_queries():
                by_moto = _pages(client, query)
            assert in_key_order == by_moto, query


def test_an_item_moved_within_its_index_partition_or_left_where_it_was_stays_in_order(fake_credentials):
    # Given items in one partition of an index (the order is live once a query has read it)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client)
        for sk, g1sk in (("1", "m"), ("2", "ma"), ("3", "n")):
            item = {"pk": {"S": "a"}, "sk": {"S": sk}, "g1pk": {"S": "x"}, "g1sk": {"S": g1sk}}
            client.put_item(TableName=TABLE, Item=item)
        query = {
            "TableName": TABLE,
            "IndexName": "gs1",
            "KeyConditionExpression": "g1pk = :x",
            "ExpressionAttributeValues": {":x": {"S": "x"}},
        }
        assert [i["sk"]["S"] for i in client.query(**query)["Items"]] == ["1", "2", "3"]
        # When one moves within the partition (its index sort key changes) and another is written
        # with its keys as they were
        for sk, g1sk in (("1", "na"), ("2", "ma")):
            client.update_item(
                TableName=TABLE,
                Key={"pk": {"S": "a"}, "sk": {"S": sk}},
                UpdateExpression="SET g1sk = :s, v = :v",
                ExpressionAttributeValues={":s": {"S": g1sk}, ":v": {"N": "1"}},
            )
            moto_key_order.check(_table())
        # Then the index answers in the new order, as moto's own walk does
        in_key_order = _pages(client, query)
        with moto_own_queries():
            assert in_key_order == _pages(client, query)
        assert [i["sk"]["S"] for i in in_key_order[0]["Items"]] == ["2", "3", "1"]
