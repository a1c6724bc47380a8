"""The local engine's expressions against moto's DynamoDB: random items (every type, nested), random
conditions and random updates from a small grammar, and the same answer from both. A condition is
asked of moto as a conditional PutItem (succeeded, ConditionalCheckFailed or a ValidationException),
an update as an UpdateItem returning ALL_NEW (the new item, or the error).

Where moto and DynamoDB's documentation disagree the engine follows DynamoDB, and the property
leaves that case out, naming the difference (see `MOTO_DIFFERS`)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_system.dynamodb import values
from local_system.dynamodb.expressions import ExpressionError, condition, update

TABLE = "expressions"
KEY = {"pk": {"S": "item"}}
ATTRIBUTES = ["a", "b", "c", "d"]
MEMBERS = ["x", "y"]
PROPERTY = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


# ------------------------------------------------------------------------------------- strategies
# Small alphabets, so that equal values, prefixes and members turn up often.

strings = st.text(alphabet="abc", max_size=3)
numbers = st.sampled_from(["0", "1", "-1", "2", "2.5", "10", "-0.5", "1.50", "100", "1e2"])
binaries = st.binary(max_size=3).map(lambda raw: base64.b64encode(raw).decode())
scalars = st.one_of(
    strings.map(lambda text: {"S": text}),
    numbers.map(lambda text: {"N": text}),
    binaries.map(lambda text: {"B": text}),
    st.booleans().map(lambda flag: {"BOOL": flag}),
    st.just({"NULL": True}),
)


def _set_of(kind: str, elements: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    unique = st.lists(elements, min_size=1, max_size=3, unique_by=lambda e: values.key_of({kind[0]: e}))
    return unique.map(lambda items: {kind: items})


sets = st.one_of(_set_of("SS", strings), _set_of("NS", numbers), _set_of("BS", binaries))
documents = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda items: {"L": items}),
        st.dictionaries(st.sampled_from(MEMBERS), inner, max_size=2).map(lambda members: {"M": members}),
    ),
    max_leaves=6,
)
items = st.dictionaries(st.sampled_from(ATTRIBUTES), documents, max_size=4)


class Request:
    """An expression being drawn, with the placeholders it uses."""

    def __init__(self, draw: Any) -> None:
        self.draw = draw
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.comparisons: list[tuple[str, list[str]]] = []  # each comparison's operator and operands

    def path(self) -> str:
        top = self.draw(st.sampled_from(ATTRIBUTES))
        if self.draw(st.booleans()):
            placeholder = f"#n{len(self.names)}"
            self.names[placeholder] = top
            top = placeholder
        for _ in range(self.draw(st.integers(0, 2))):
            top += self.draw(st.sampled_from([".x", ".y", "[0]", "[1]"]))
        return top

    def value(self, strategy: st.SearchStrategy[dict[str, Any]] | None = None) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = self.draw(strategy or documents)
        return placeholder

    def operand(self) -> str:
        kind = self.draw(st.sampled_from(["path", "path", "value", "size"]))
        if kind == "path":
            return self.path()
        if kind == "size":
            return f"size({self.path()})"
        return self.value(st.one_of(scalars, scalars, sets, documents))

    def compared(self, operator: str, count: int) -> list[str]:
        operands = [self.operand() for _ in range(count)]
        self.comparisons.append((operator, operands))
        return operands

    def condition(self, depth: int = 0) -> str:
        choices = ["compare", "compare", "function", "between", "in"] + (
            ["and", "or", "not", "paren"] if depth < 2 else []
        )
        kind = self.draw(st.sampled_from(choices))
        if kind == "compare":
            operator = self.draw(st.sampled_from(["=", "<>", "<", "<=", ">", ">="]))
            left, right = self.compared(operator, 2)
            return f"{left} {operator} {right}"
        if kind == "between":
            subject, low, high = self.compared("BETWEEN", 3)
            return f"{subject} BETWEEN {low} AND {high}"
        if kind == "in":
            subject, *choices = self.compared("IN", 1 + self.draw(st.integers(1, 3)))
            return f"{subject} IN ({', '.join(choices)})"
        if kind == "function":
            name = self.draw(
                st.sampled_from(
                    ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"]
                )
            )
            if name in ("attribute_exists", "attribute_not_exists"):
                return f"{name} ({self.path()})"
            if name == "attribute_type":
                code = st.sampled_from(["S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M"])
                return f"attribute_type ({self.path()}, {self.value(code.map(lambda c: {'S': c}))})"
            return f"{name} ({self.path()}, {self.operand()})"
        if kind == "not":
            return f"NOT {self.condition(depth + 1)}"
        if kind == "paren":
            return f"({self.condition(depth + 1)})"
        joiner = " AND " if kind == "and" else " OR "
        return self.condition(depth + 1) + joiner + self.condition(depth + 1)

    def update(self) -> str:
        clauses = []
        for clause in self.draw(
            st.lists(st.sampled_from(["SET", "REMOVE", "ADD", "DELETE"]), min_size=1, max_size=3, unique=True)
        ):
            actions = [self.action(clause) for _ in range(self.draw(st.integers(1, 2)))]
            clauses.append(f"{clause} " + ", ".join(actions))
        return " ".join(clauses)

    def action(self, clause: str) -> str:
        target = self.path()
        if clause == "REMOVE":
            return target
        if clause == "ADD":
            return f"{target} {self.value(st.one_of(numbers.map(lambda n: {'N': n}), sets))}"
        if clause == "DELETE":
            return f"{target} {self.value(sets)}"
        kind = self.draw(
            st.sampled_from(["value", "value", "path", "plus", "minus", "if_not_exists", "list_append"])
        )
        if kind == "value":
            source = self.value()
        elif kind == "path":
            source = self.path()
        elif kind in ("plus", "minus"):
            number_or_path = st.sampled_from(["path", "value"])
            left = (
                self.path()
                if self.draw(number_or_path) == "path"
                else self.value(numbers.map(lambda n: {"N": n}))
            )
            right = (
                self.path()
                if self.draw(number_or_path) == "path"
                else self.value(numbers.map(lambda n: {"N": n}))
            )
            source = f"{left} {'+' if kind == 'plus' else '-'} {right}"
        elif kind == "if_not_exists":
            source = f"if_not_exists ({self.path()}, {self.value()})"
        else:
            lists = documents.filter(lambda v: "L" in v) | st.just({"L": [{"N": "1"}]})
            source = f"list_append ({self.path()}, {self.value(lists)})"
        return f"{target} = {source}"


@st.composite
def condition_requests(draw: Any) -> tuple[dict[str, Any], str, Request]:
    request = Request(draw)
    text = request.condition()
    return draw(items), text, request


@st.composite
def update_requests(draw: Any) -> tuple[dict[str, Any], str, dict[str, str], dict[str, Any]]:
    request = Request(draw)
    text = request.update()
    return draw(items), text, request.names, request.values


# ---------------------------------------------------------------------------------------- helpers


def _placeholders(names: dict[str, str], given: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if names:
        extra["ExpressionAttributeNames"] = names
    if given:
        extra["ExpressionAttributeValues"] = given
    return extra


def _error(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])


MOTO_CRASHED = "moto raised an internal error"


def _moto(call: Any) -> Any:
    """moto's answer: the call's result, its error code, or MOTO_CRASHED where moto's own code fails
    (a TypeError or AttributeError inside moto on inputs DynamoDB answers): no comparison there."""
    try:
        return call()
    except ClientError as error:
        return _error(error)
    except Exception:  # noqa: BLE001 - moto's internal failures, whatever they are
        return MOTO_CRASHED


def _comparable(item: dict[str, Any]) -> dict[str, Any]:
    """An item with canonical numbers and sets in a fixed order: two stores' answers side by side."""

    def normal(value: dict[str, Any]) -> dict[str, Any]:
        ((kind, payload),) = value.items()
        if kind == "B" and isinstance(payload, bytes):  # boto3 decodes binaries in answers
            return {"B": base64.b64encode(payload).decode()}
        if kind == "BS" and payload and isinstance(payload[0], bytes):
            return normal({"BS": [base64.b64encode(element).decode() for element in payload]})
        if kind == "N":
            return {"N": values.canonical_number(payload)}
        if kind in ("SS", "NS", "BS"):
            return {kind: sorted(normal({kind[0]: e})[kind[0]] for e in payload)}
        if kind == "L":
            return {"L": [normal(e) for e in payload]}
        if kind == "M":
            return {"M": {name: normal(e) for name, e in payload.items()}}
        return value

    return {name: normal(value) for name, value in item.items()}


def _missing(operand: str, item: dict[str, Any], names: dict[str, str]) -> bool:
    """Whether a path or size(path) operand has no value in the item (a `:value` always has one)."""
    if operand.startswith(":"):
        return False
    if operand.startswith("size("):
        sized = condition(f"size ({operand[5:-1]}) >= :zero")
        return not sized.evaluate(item, names, {":zero": {"N": "0"}})
    return not condition(f"attribute_exists ({operand})").evaluate(item, names, {})


ORDERING = frozenset({"<", "<=", ">", ">=", "BETWEEN"})


TYPES = ("S", "N", "B", "BOOL", "NULL", "SS", "NS", "BS", "L", "M")


def _kind(operand: str, item: dict[str, Any], request: Request) -> str | None:
    """The type of an operand's value (None: missing)."""
    if operand.startswith(":"):
        return values.type_of(request.values[operand])
    if operand.startswith("size("):
        return None if _missing(operand, item, request.names) else "N"
    typed = condition(f"attribute_type ({operand}, :type)")
    return next((kind for kind in TYPES if typed.evaluate(item, request.names, {":type": {"S": kind}})), None)


def moto_differs(ours: str, theirs: object, item: dict[str, Any], request: Request) -> str | None:
    """Why moto's answer is not DynamoDB's, for the cases where moto is known to differ from
    DynamoDB's documentation (the engine keeps DynamoDB's answer); None for a fair comparison."""
    if "Incorrect operand type for operator or function" in ours and theirs != "ValidationException":
        # DynamoDB refuses a `:value` whose type has no order (BOOL, NULL, sets, L, M) given to <, <=,
        # >, >=, BETWEEN or begins_with, whatever the item holds; moto only compares and finds false.
        return "moto does not refuse a :value of an unordered type"
    if "The BETWEEN operator requires upper bound" in ours and theirs != "ValidationException":
        # DynamoDB refuses BETWEEN bounds given as values of two types or in reverse order; moto
        # only compares and finds false.
        return "moto does not refuse BETWEEN bounds out of order"
    for operator, operands in request.comparisons:
        kinds = {_kind(operand, item, request) for operand in operands}
        if operator in ORDERING and kinds - {"S", "N", "B", None}:
            # DynamoDB: only S, N and B have an order; `a < b` with a list, map, set, BOOL or NULL read
            # from the item is false. moto compares some of them (two lists, as Python does).
            return "moto orders values of types that have no order"
        if {"BOOL", "N"} <= kinds:
            # DynamoDB: a BOOL equals only a BOOL; moto compares the payloads as Python does, where
            # False == 0 and True == 1.
            return "moto finds BOOL false equal to the number 0"
        missing = sum(_missing(operand, item, request.names) for operand in operands)
        nulls = sum(request.values.get(operand) == {"NULL": True} for operand in operands)
        if missing and missing + nulls >= 2:
            # DynamoDB: a missing attribute is not equal to anything, not even another missing one or
            # NULL (`a = b` is false, `a <> b` true, when neither exists); moto finds them equal.
            return "moto compares a missing operand as equal to another missing one or to NULL"
    return None


# ------------------------------------------------------------------------------------- properties


@PROPERTY
@given(condition_requests())
def test_conditions_agree_with_moto(dynamodb: Any, drawn: tuple[dict[str, Any], str, Request]) -> None:
    item, text, request = drawn
    names, given_values = request.names, request.values
    stored = {**item, **KEY}
    dynamodb.put_item(TableName=TABLE, Item=stored)
    message = ""
    try:
        ours: object = condition(text).evaluate(stored, names, given_values)
    except ExpressionError as error:
        ours, message = "ValidationException", error.message
    theirs = _moto(
        lambda: dynamodb.put_item(
            TableName=TABLE, Item=KEY, ConditionExpression=text, **_placeholders(names, given_values)
        )
    )
    if theirs is MOTO_CRASHED:
        return
    answer = True if theirs is None else False if theirs == "ConditionalCheckFailedException" else theirs
    if answer != ours and moto_differs(message, answer, stored, request):
        return
    assert ours == answer, (text, names, given_values, stored, message)


@PROPERTY
@given(update_requests())
def test_updates_agree_with_moto(
    dynamodb: Any, request: tuple[dict[str, Any], str, dict[str, str], dict[str, Any]]
) -> None:
    item, text, names, given_values = request
    stored = {**item, **KEY}
    dynamodb.put_item(TableName=TABLE, Item=stored)
    try:
        ours: object = _comparable(update(text).apply(stored, names, given_values))
    except ExpressionError:
        ours = "ValidationException"
    try:
        answer = dynamodb.update_item(
            TableName=TABLE,
            Key=KEY,
            UpdateExpression=text,
            ReturnValues="ALL_NEW",
            **_placeholders(names, given_values),
        )
        theirs: object = _comparable(answer.get("Attributes", {}))
    except ClientError as error:
        theirs = _error(error)
    if ours != theirs and moto_differs(text, stored, names, given_values):
        return
    assert ours == theirs, (text, names, given_values, stored)
