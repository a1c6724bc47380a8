"""moto's `UpdateItem` with the fast path for the functions' update expressions
(`local_system.moto_update`) answers exactly what moto answers doing all of its own work: random
items and random update expressions from the subset the fast path takes (and some just outside it),
applied alone and inside transactions (some cancelled by another item's condition), with and without
ReturnValues, leave the same items (attribute order included) and give the same answers and errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_system.moto_overhead import moto_own_work

TABLE = "updates"
KEY = {"pk": {"S": "p"}, "sk": {"S": "1"}}
OTHER = {"pk": {"S": "p"}, "sk": {"S": "2"}}
NAMES = ("a", "b", "c", "n", "s", "m", "g1sk")  # g1sk: an index's range key (a number)
BIG = "x" * 210_000  # two of these make an item larger than moto's limit


def _create_table(client: Any) -> None:
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "g1pk", "AttributeType": "S"},
            {"AttributeName": "g1sk", "AttributeType": "N"},
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "g1pk", "KeyType": "HASH"},
                    {"AttributeName": "g1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )


# --- values and items ---------------------------------------------------------------------------
numbers = st.one_of(
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(
        ("0", "-0", "1", "-1", "2.5", "-2.50", "0.001", "123456789012345678901234567890.5", "1E+2")
    ),
)
texts = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=4)
string_sets = st.lists(st.text(alphabet="abcé", min_size=1, max_size=3), min_size=1, max_size=4, unique=True)
number_sets = st.lists(
    st.sampled_from(("1", "2", "3.5", "-4", "10", "1.0")), min_size=1, max_size=4, unique=True
)
scalars = st.one_of(
    texts.map(lambda s: {"S": s}),
    numbers.map(lambda n: {"N": n}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.binary(max_size=3).map(lambda b: {"B": b}),
)
attribute_values = st.one_of(
    scalars,
    string_sets.map(lambda s: {"SS": s}),
    number_sets.map(lambda s: {"NS": s}),
    st.dictionaries(st.sampled_from(("x", "y")), scalars, max_size=2).map(lambda m: {"M": m}),
    st.lists(scalars, max_size=3).map(lambda v: {"L": v}),
)
operands = st.one_of(
    attribute_values,
    st.just({"SS": []}),  # an empty set: refused
    st.just({"S": BIG}),  # grows the item past the limit when it holds one already
    st.just({"NS": ["1", "2"]}),
    st.just({"N": "1"}),
)
items = st.none() | st.dictionaries(
    st.sampled_from(NAMES), attribute_values | st.just({"S": BIG}), max_size=5
).filter(lambda attrs: sum(1 for v in attrs.values() if v == {"S": BIG}) <= 1)


# --- expressions --------------------------------------------------------------------------------
OUTSIDE = (
    "nested",
    "list_append",
    "delete",
    "key",
    "twice",
    "no_name",
    "no_value",
    "plain",
    "sum",
    "two_sets",
)


@st.composite
def updates(draw: Any) -> dict[str, Any]:
    """An update in pynamodb's spelling (placeholders, clauses in any order), sometimes one step
    outside what the fast path takes."""
    targets = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=5, unique=True))
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses: dict[str, list[str]] = {"SET": [], "ADD": [], "REMOVE": [], "DELETE": []}

    def name(attribute: str) -> str:
        placeholder = f"#{len(names)}"
        names[placeholder] = attribute
        return placeholder

    def value(operand: Any) -> str:
        placeholder = f":{len(values)}"
        values[placeholder] = operand
        return placeholder

    for target in targets:
        kind = draw(st.sampled_from(("set", "if_not_exists", "add", "remove")))
        if kind == "set":
            clauses["SET"].append(f"{name(target)} = {value(draw(operands))}")
        elif kind == "if_not_exists":
            placeholder = name(target)
            clauses["SET"].append(f"{placeholder} = if_not_exists ({placeholder}, {value(draw(operands))})")
        elif kind == "add":
            clauses["ADD"].append(f"{name(target)} {value(draw(operands))}")
        else:
            clauses["REMOVE"].append(name(target))
    outside = draw(st.none() | st.sampled_from(OUTSIDE))
    two_sets = False
    if outside == "nested":
        clauses["SET"].append(f"{name('m')}.{name('x')} = {value(draw(scalars))}")
    elif outside == "list_append":
        placeholder = name("l")
        clauses["SET"].append(f"{placeholder} = list_append ({placeholder}, {value({'L': [{'N': '1'}]})})")
    elif outside == "delete":
        clauses["DELETE"].append(f"{name(draw(st.sampled_from(NAMES)))} {value(draw(operands))}")
    elif outside == "key":
        clauses["SET"].append(f"{name(draw(st.sampled_from(('pk', 'sk'))))} = {value({'S': 'k'})}")
    elif outside == "twice":
        clauses["ADD"].append(f"{name(targets[0])} {value({'N': '1'})}")
    elif outside == "no_name":
        clauses["REMOVE"].append("#missing")
    elif outside == "no_value":
        clauses["SET"].append(f"{name('z')} = :missing")
    elif outside == "plain":
        clauses["SET"].append(f"plainattr = {value({'S': 'v'})}")
    elif outside == "sum":
        clauses["SET"].append(f"{name('n2')} = {name('n3')} + {value({'N': '1'})}")
    elif outside == "two_sets":
        two_sets = True
    order = draw(st.permutations(("SET", "ADD", "REMOVE", "DELETE")))
    parts = []
    for clause in order:
        if clauses[clause]:
            if two_sets and clause == "SET":
                parts.append(f"SET {name('t1')} = {value({'N': '1'})}")
            parts.append(f"{clause} {', '.join(clauses[clause])}")
    update: dict[str, Any] = {"UpdateExpression": " ".join(parts), "ExpressionAttributeNames": names}
    if values:
        update["ExpressionAttributeValues"] = values
    return update


conditions = st.sampled_from(
    (None, "attribute_exists (#k)", "attribute_not_exists (#k)", "attribute_exists (#k) AND #k <> :k")
)


@st.composite
def calls(draw: Any) -> tuple[str, dict[str, Any]]:
    update = draw(updates())
    request: dict[str, Any] = {"TableName": TABLE, "Key": KEY, **update}
    condition = draw(conditions)
    if condition is not None:
        request["ConditionExpression"] = condition
        request["ExpressionAttributeNames"] = {**request["ExpressionAttributeNames"], "#k": "pk"}
        if ":k" in condition:
            request["ExpressionAttributeValues"] = {
                **request.get("ExpressionAttributeValues", {}),
                ":k": {"S": "q"},
            }
        if draw(st.booleans()):
            request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if draw(st.booleans()):  # alone
        returns = draw(st.sampled_from(("NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW", None)))
        if returns is not None:
            request["ReturnValues"] = returns
        return ("update_item", request)
    parts: list[dict[str, Any]] = [{"Update": request}]
    other = draw(st.sampled_from((None, "check", "put")))
    if other == "check":  # cancels the transaction when the other item is absent
        parts.append(
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": OTHER,
                    "ConditionExpression": "attribute_exists (pk)",
                }
            }
        )
    elif other == "put":
        parts.append({"Put": {"TableName": TABLE, "Item": {**OTHER, "v": {"N": "1"}}}})
    return ("transact_write_items", {"TransactItems": draw(st.permutations(parts))})


def _answer(call: Any) -> Any:
    try:
        answer = call()
    except ClientError as error:
        return (
            "error",
            error.response["Error"].get("Code"),
            error.response["Error"].get("Message"),
            error.response.get("CancellationReasons"),
            error.response.get("Item"),
        )
    except Exception as error:  # noqa: BLE001 (moto crashes on some inputs: the same crash both ways)
        return ("crash", type(error).__name__, str(error))
    answer.pop("ResponseMetadata", None)
    return [(k, v) for k, v in answer.items()]


def _ordered(item: Any) -> Any:
    """An item with its attributes' order, all the way down."""
    if isinstance(item, dict):
        return [(k, _ordered(v)) for k, v in item.items()]
    if isinstance(item, list):
        return [_ordered(v) for v in item]
    return item


@pytest.fixture
def moto_table(fake_credentials: None) -> Iterator[Any]:
    def run(item: dict[str, Any] | None, other: bool, history: list[tuple[str, dict[str, Any]]]) -> Any:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            _create_table(client)
            seen = []
            if item is not None:  # an item moto refuses (an index key of another type) is part of the history
                seen.append(_answer(lambda: client.put_item(TableName=TABLE, Item={**KEY, **item})))
            if other:
                client.put_item(TableName=TABLE, Item={**OTHER, "w": {"S": "o"}})
            for operation, request in history:
                seen.append(_ordered(_answer(lambda: getattr(client, operation)(**request))))  # noqa: B023
                got = client.get_item(TableName=TABLE, Key=KEY, ConsistentRead=True).get("Item")
                seen.append(_ordered(got))
            scanned = client.scan(TableName=TABLE, ConsistentRead=True)["Items"]
            seen.append(_ordered(sorted(scanned, key=lambda i: i["sk"]["S"])))
            return seen

    yield run


TOO_LARGE = {
    "TableName": TABLE,
    "Key": KEY,
    "UpdateExpression": "SET #0 = :0, #1 = :1",
    "ExpressionAttributeNames": {"#0": "c", "#1": "a"},
    "ExpressionAttributeValues": {":0": {"N": "1"}, ":1": {"S": BIG}},
}


@settings(
    max_examples=60,  # hypothesis explores anew on every run
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(item=items, other=st.booleans(), history=st.lists(calls(), min_size=1, max_size=4))
@example(  # moto's own path changes the item, then refuses: it must run once, not twice
    item=None,
    other=False,
    history=[
        (
            "update_item",
            {
                "TableName": TABLE,
                "Key": KEY,
                "UpdateExpression": "ADD #1 :0 REMOVE #0 DELETE #2 :1",
                "ExpressionAttributeNames": {"#0": "a", "#1": "b", "#2": "c"},
                "ExpressionAttributeValues": {":0": {"N": "1"}, ":1": {"S": ""}},
            },
        )
    ],
)
@example(  # the fast path sets one attribute, then the next makes the item too large
    item={"b": {"S": BIG}},
    other=True,
    history=[
        ("transact_write_items", {"TransactItems": [{"Update": TOO_LARGE}]}),
        ("update_item", TOO_LARGE),
    ],
)
def test_updates_answer_and_store_what_moto_does_with_all_its_work(moto_table, item, other, history):
    # Given an item (or none) and updates of the functions' shapes and some just outside them,
    # When moto runs them with the fast path and doing all of its own work, each on a fresh table,
    # Then every answer (errors in full), the item after each (attribute order included), the table: the same
    fast = moto_table(item, other, history)
    with moto_own_work():
        by_moto = moto_table(item, other, history)
    assert fast == by_moto


# The update expressions the functions send (recorded over a replay), in pynamodb's spelling.
RECORDED = (
    (
        "SET #0 = :0 ADD #1 :1",
        {"#0": "item_type", "#1": "members"},
        {":0": {"S": "link"}, ":1": {"SS": ["x", "y"]}},
    ),
    (
        "SET #0 = :0 ADD #1 :1, #2 :2",
        {"#0": "item_type", "#1": "members", "#2": "flagged"},
        {":0": {"S": "link"}, ":1": {"SS": ["y", "z"]}, ":2": {"N": "1"}},
    ),
    (
        "SET #0 = :0, #1 = :1 ADD #2 :2",
        {"#0": "item_type", "#1": "expires_at", "#2": "count"},
        {":0": {"S": "counter"}, ":1": {"N": "1700000000"}, ":2": {"N": "3"}},
    ),
    (
        "SET #1 = :1, #2 = :2, #3 = if_not_exists (#3, :3), #4 = :4 REMOVE #5, #6",
        {"#1": "state", "#2": "at", "#3": "first_at", "#4": "n", "#5": "gone", "#6": "also_gone"},
        {":1": {"S": "held"}, ":2": {"N": "2"}, ":3": {"N": "1"}, ":4": {"N": "-2.50"}},
    ),
)


def _recorded_history() -> list[tuple[str, dict[str, Any]]]:
    history = []
    for expression, names, values in RECORDED:
        request = {
            "TableName": TABLE,
            "Key": KEY,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        history.append(("update_item", {**request, "ReturnValues": "ALL_NEW"}))
        history.append(("transact_write_items", {"TransactItems": [{"Update": {**request, "Key": OTHER}}]}))
    return history


def test_the_functions_update_shapes_take_the_fast_path(moto_table, monkeypatch):
    # Given the update shapes the functions send, When they run (alone and in transactions),
    # Then moto's validator never runs for them, and the items are what moto makes of them
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    validated = []
    validate = UpdateExpressionValidator.validate

    def counted(validator: Any) -> Any:
        validated.append(validator)
        return validate(validator)

    monkeypatch.setattr(UpdateExpressionValidator, "validate", counted)
    history = _recorded_history()
    fast = moto_table(None, False, history + history)  # items absent at first, then present
    assert validated == []
    with moto_own_work():
        by_moto = moto_table(None, False, history + history)
    assert len(validated) >= 2 * len(history)
    assert fast == by_moto
    assert ("members", [("SS", ["x", "y", "z"])]) in fast[-1][0]  # the sets grew in moto's order


def test_an_expression_outside_the_subset_goes_to_moto_s_own_path(moto_table, monkeypatch):
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    validated = []
    validate = UpdateExpressionValidator.validate
    monkeypatch.setattr(UpdateExpressionValidator, "validate", lambda v: validated.append(v) or validate(v))
    request = {
        "TableName": TABLE,
        "Key": KEY,
        "UpdateExpression": "SET #0.#1 = :0",
        "ExpressionAttributeNames": {"#0": "m", "#1": "x"},
        "ExpressionAttributeValues": {":0": {"S": "v"}},
    }
    seen = moto_table({"m": {"M": {}}}, False, [("update_item", request)])
    assert validated
    assert seen[2][-1] == ("m", [("M", [("x", [("S", "v")])])])


def _request(expression: str, names: dict[str, str] | None, values: dict[str, Any] | None) -> dict[str, Any]:
    request: dict[str, Any] = {"TableName": TABLE, "Key": KEY, "UpdateExpression": expression}
    if names is not None:
        request["ExpressionAttributeNames"] = names
    if values is not None:
        request["ExpressionAttributeValues"] = values
    return request


ONE = {":0": {"N": "1"}}
# Each one step outside what the fast path takes: moto refuses it, or treats it otherwise.
OUTSIDE_CASES = {
    "hash key": ("SET #0 = :0", {"#0": "pk"}, {":0": {"S": "k"}}),
    "range key": ("SET #1 = :0, #0 = :0", {"#0": "sk", "#1": "a"}, {":0": {"S": "k"}}),
    "range key removed": ("SET #1 = :0 REMOVE #0", {"#0": "sk", "#1": "a"}, {":0": {"S": "k"}}),
    "a name twice": ("SET #0 = :0 ADD #1 :0", {"#0": "n", "#1": "n"}, ONE),
    "a placeholder twice": ("SET #0 = :0 REMOVE #0", {"#0": "n"}, ONE),
    "a name placeholder not defined": ("SET #0 = :0 REMOVE #9", {"#0": "n"}, ONE),
    "a value placeholder not defined": ("SET #0 = :0, #1 = :9", {"#0": "n", "#1": "b"}, ONE),
    "plain names": ("SET c = :0 ADD n :0", None, ONE),
    "a nested path": ("SET #0.#1 = :0", {"#0": "m", "#1": "x"}, ONE),
    "list_append": ("SET #0 = list_append (#0, :0)", {"#0": "l"}, {":0": {"L": [{"N": "2"}]}}),
    "if_not_exists of another name": ("SET #0 = if_not_exists (#1, :0)", {"#0": "c", "#1": "n"}, ONE),
    "a sum": ("SET #0 = #0 + :0", {"#0": "n"}, ONE),
    "DELETE": ("DELETE #0 :0", {"#0": "ss"}, {":0": {"SS": ["a"]}}),
    "two SET clauses": ("SET #0 = :0 SET #1 = :0", {"#0": "c", "#1": "d"}, ONE),
    "two ADD clauses": ("ADD #0 :0 ADD #1 :0", {"#0": "c", "#1": "d"}, ONE),
    "ADD a number onto a string": ("SET #1 = :0 ADD #0 :0", {"#0": "s", "#1": "c"}, ONE),
    "ADD a string set onto a number set": (
        "SET #1 = :1 ADD #0 :0",
        {"#0": "ns", "#1": "c"},
        {":0": {"SS": ["a"]}, ":1": {"N": "1"}},
    ),
    "ADD a string set onto a string": ("ADD #0 :0", {"#0": "s"}, {":0": {"SS": ["a"]}}),
    "ADD a string": ("SET #1 = :1 ADD #0 :0", {"#0": "c", "#1": "d"}, {":0": {"S": "a"}, ":1": {"N": "1"}}),
    "ADD a map": ("ADD #0 :0", {"#0": "c"}, {":0": {"M": {}}}),
    "ADD an empty set": (
        "SET #1 = :1 ADD #0 :0",
        {"#0": "ss", "#1": "c"},
        {":0": {"SS": []}, ":1": {"N": "1"}},
    ),
    "ADD a number moto cannot read": (
        "SET #1 = :1 ADD #0 :0",
        {"#0": "n", "#1": "c"},
        {":0": {"N": "1E+2"}, ":1": {"N": "1"}},
    ),
    "an index key of another type": ("SET #0 = :0", {"#0": "g1sk"}, {":0": {"S": "not a number"}}),
    "an item made too large": (
        "SET #0 = :0, #1 = :1",
        {"#0": "c", "#1": "d"},
        {":0": {"N": "1"}, ":1": {"S": BIG}},
    ),
    "IF_NOT_EXISTS in capitals": ("SET #0 = IF_NOT_EXISTS (#0, :0)", {"#0": "c"}, ONE),
}
START = {
    "n": {"N": "5"},
    "s": {"S": "text"},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2"]},
    "m": {"M": {"x": {"N": "0"}}},
    "l": {"L": [{"N": "1"}]},
    "big": {"S": BIG},
}


@pytest.mark.parametrize("case", sorted(OUTSIDE_CASES))
def test_each_shape_just_outside_the_subset_is_answered_as_moto_does(moto_table, case):
    # Given one step outside the fast path's shapes, on a full item and on none, alone and in a transaction,
    # Then the answers and the items are moto's own
    request = _request(*OUTSIDE_CASES[case])
    history = [
        ("update_item", {**request, "ReturnValues": "ALL_NEW"}),
        ("transact_write_items", {"TransactItems": [{"Update": request}]}),
    ]
    for item in (START, None):
        fast = moto_table(item, True, history)
        with moto_own_work():
            assert moto_table(item, True, history) == fast
