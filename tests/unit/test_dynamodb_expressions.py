"""The local DynamoDB engine's values and expressions (local_system/dynamodb/values.py,
expressions.py): each of DynamoDB's rules by hand, errors included. The property tests against moto
are in tests/integration/test_dynamodb_expressions_vs_moto.py."""

from __future__ import annotations

import base64
import copy
from decimal import Decimal
from typing import Any

import pytest

from local_system.dynamodb import expressions, values
from local_system.dynamodb.expressions import ExpressionError, condition, key_condition, projection, update
from local_system.dynamodb.values import InvalidValue, SerializationError


def S(text: str) -> dict[str, Any]:
    return {"S": text}


def N(text: str) -> dict[str, Any]:
    return {"N": text}


def B(raw: bytes) -> dict[str, Any]:
    return {"B": base64.b64encode(raw).decode()}


ITEM: dict[str, Any] = {
    "pk": S("P#1"),
    "n": N("5"),
    "s": S("hello"),
    "u": S("héllo"),
    "b": B(b"\x01\x02\x03"),
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "ss": {"SS": ["a", "b"]},
    "ns": {"NS": ["1", "2.5"]},
    "bs": {"BS": [base64.b64encode(b"x").decode()]},
    "l": {"L": [N("1"), S("two"), {"L": [N("3")]}]},
    "m": {"M": {"x": N("2"), "deeper": {"M": {"deep": S("d")}}, "lst": {"L": [S("a"), S("b"), S("c")]}}},
}


def holds(
    text: str, item: dict[str, Any] | None = ITEM, names: dict[str, str] | None = None, **given: Any
) -> bool:
    bound = {f":{key}": value for key, value in given.items()}
    return condition(text).evaluate(item, names or {}, bound)


def updated(text: str, item: dict[str, Any] | None = ITEM, names: dict[str, str] | None = None, **given: Any):
    bound = {f":{key}": value for key, value in given.items()}
    before = copy.deepcopy(item)
    after = update(text).apply(item, names or {}, bound)
    assert item == before, "apply must leave its input untouched"
    return after


# ------------------------------------------------------------------------------------------ values


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"SS": []}, "An string set  may not be empty"),
        ({"NS": []}, "An number set  may not be empty"),
        ({"BS": []}, "Binary sets should not be empty"),
        ({"SS": ["a", "a"]}, "contains duplicates"),
        ({"NS": ["1", "1.0"]}, "contains duplicates"),
        ({"N": "dog"}, "cannot be converted to a numeric value"),
        ({"N": " 1"}, "cannot be converted to a numeric value"),
        ({"N": "NaN"}, "cannot be converted to a numeric value"),
        ({"N": "Infinity"}, "cannot be converted to a numeric value"),
        ({"N": "1_000"}, "cannot be converted to a numeric value"),
        ({"N": "3.14159265358979323846264338327950288419"}, "more than 38 significant digits"),
        ({"N": "1e126"}, "Number overflow"),
        ({"N": "-11e125"}, "Number overflow"),
        ({"N": "1e-131"}, "Number underflow"),
        ({"X": "1"}, "Supplied AttributeValue is empty"),
        ({}, "Supplied AttributeValue is empty"),
        ({"S": "a", "N": "1"}, "more than one datatypes"),
        ({"NULL": False}, "Null attribute value types must have the value of true"),
        ({"L": [{"N": "x"}]}, "numeric value"),
        ({"M": {"a": {"SS": []}}}, "may not be empty"),
    ],
)
def test_check_item_refuses_what_dynamodb_refuses(value: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidValue, match=message):
        values.check_item({"a": value})


def test_a_number_sent_as_a_json_number_is_a_serialization_error() -> None:
    with pytest.raises(SerializationError, match="NUMBER_VALUE cannot be converted to String"):
        values.check_item({"a": {"N": 12}})


@pytest.mark.parametrize(
    "text",
    ["3", "-7.1234", "-17e5", "-17.4E37", "+3", ".123", "0001.23", "1e+5", "0e1000", "1e-130", "9.99e125"],
)
def test_check_item_takes_every_number_form_dynamodb_takes(text: str) -> None:
    values.check_item({"a": {"N": text}, "b": {"S": ""}, "c": {"L": []}, "d": {"M": {}}})


@pytest.mark.parametrize(
    ("given", "returned"),
    [
        ("1.50", "1.5"),
        ("01", "1"),
        ("-0", "0"),
        ("1E+2", "100"),
        ("+3", "3"),
        ("0.000100", "0.0001"),
        ("5.", "5"),
    ],
)
def test_canonical_numbers_are_what_dynamodb_returns(given: str, returned: str) -> None:
    item = {"n": N(given), "nested": {"M": {"l": {"L": [N(given)]}}}, "set": {"NS": [given, "7"]}}
    assert values.canonical(item) == {
        "n": N(returned),
        "nested": {"M": {"l": {"L": [N(returned)]}}},
        "set": {"NS": [returned, "7"]},
    }


def test_canonical_copies_containers() -> None:
    item = {"l": {"L": [S("a")]}}
    stored = values.canonical(item)
    item["l"]["L"].append(S("b"))
    assert stored == {"l": {"L": [S("a")]}}


def test_key_order_is_utf8_bytes_numbers_and_unsigned_bytes() -> None:
    assert values.key_of(S("Z")) < values.key_of(S("a")) < values.key_of(S("é"))
    assert values.key_of(N("-10")) < values.key_of(N("9")) < values.key_of(N("10.5"))
    assert values.key_of(B(b"\x7f")) < values.key_of(B(b"\x80"))


def test_equality_is_numeric_for_numbers_unordered_for_sets_deep_for_documents() -> None:
    assert values.equal(N("1.0"), N("1"))
    assert values.equal({"NS": ["1", "2"]}, {"NS": ["2.0", "1"]})
    assert values.equal({"SS": ["a", "b"]}, {"SS": ["b", "a"]})
    assert values.equal({"M": {"a": {"L": [N("1")]}}}, {"M": {"a": {"L": [N("1.00")]}}})
    assert not values.equal({"L": [N("1"), N("2")]}, {"L": [N("2"), N("1")]})
    assert not values.equal(S("1"), N("1"))
    assert not values.equal({"SS": ["a"]}, {"SS": ["a", "b"]})


def test_item_size_counts_names_and_values_as_dynamodb_does() -> None:
    # 2 + 3 ("ab": "xyz"), 1 + 4 ("n": 12345 -> 5 digits: 3 bytes + 1), 1 + 3 + 1 + 1 ("l": [true])
    assert values.item_size({"ab": S("xyz"), "n": N("12345"), "l": {"L": [{"BOOL": True}]}}) == 16
    assert values.item_size({"é": S("é")}) == 4
    assert values.item_size({"b": B(b"12345")}) == 6
    assert values.item_size({"m": {"M": {"k": N("100")}}}) == 1 + 3 + 1 + 1 + 2


def test_arithmetic_is_exact_to_38_digits_and_refuses_more() -> None:
    assert values.arithmetic("1", "10000000000000000000000") == "10000000000000000000001"
    assert values.arithmetic("0.1", "0.2") == "0.3"
    assert values.arithmetic("5", "5", subtract=True) == "0"
    with pytest.raises(InvalidValue, match="Number overflow"):
        values.arithmetic("1e50", "1")  # needs 51 digits: DynamoDB says overflow
    with pytest.raises(InvalidValue, match="Number overflow"):
        values.arithmetic("9e125", "9e125")


# -------------------------------------------------------------------------------------- conditions


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("n", N("5.0")),
        ("s", S("hello")),
        ("b", B(b"\x01\x02\x03")),
        ("yes", {"BOOL": True}),
        ("nothing", {"NULL": True}),
        ("ss", {"SS": ["b", "a"]}),
        ("ns", {"NS": ["2.50", "1"]}),
        ("l", {"L": [N("1"), S("two"), {"L": [N("3")]}]}),
        ("m", ITEM["m"]),
    ],
)
def test_equality_of_every_type(name: str, value: dict[str, Any]) -> None:
    assert holds(f"{name} = :v", v=value)
    assert not holds(f"{name} <> :v", v=value)


def test_comparisons_across_types_are_false_and_not_equal_is_true() -> None:
    assert not holds("n = :v", v=S("5"))
    assert holds("n <> :v", v=S("5"))
    for operator in ("<", "<=", ">", ">="):
        assert not holds(f"n {operator} :v", v=S("5"))


def test_a_missing_attribute_compares_false_but_not_equal() -> None:
    assert not holds("gone = :v", v=N("1"))
    assert holds("gone <> :v", v=N("1"))
    assert not holds("gone = absent")  # two missing attributes are not equal
    assert holds("gone <> absent")
    for operator in ("<", "<=", ">", ">="):
        assert not holds(f"gone {operator} :v", v=N("1"))
        assert not holds(f":v {operator} gone", v=N("1"))
    assert not holds("gone BETWEEN :a AND :b", a=N("1"), b=N("2"))


def test_no_item_at_all_is_an_item_without_attributes() -> None:
    assert holds("attribute_not_exists (pk)", item=None)
    assert not holds("attribute_exists (pk)", item=None)
    assert holds("pk <> :v", item=None, v=S("P#1"))


def test_order_is_numeric_for_numbers_bytewise_for_strings_unsigned_for_binaries() -> None:
    assert holds("n < :v", v=N("10"))  # 5 < 10, though "5" > "10" as text
    assert not holds("n < :v", v=N("5.0")) and holds("n <= :v", v=N("5.0"))
    assert not holds("n > :v", v=N("5")) and holds("n >= :v", v=N("5")) and holds("n > :v", v=N("4.99"))
    assert holds("n >= :v", v=N("5.00"))
    assert holds("s < :v", v=S("help"))
    assert holds("u > :v", v=S("hz"))  # é (U+00E9) sorts after every ASCII letter
    item = {"b": B(b"\x7f")}
    assert holds("b < :v", item=item, v=B(b"\x80"))


def test_an_ordering_operator_refuses_a_value_of_an_unordered_type_but_not_an_item_attribute() -> None:
    with pytest.raises(
        ExpressionError, match="Incorrect operand type for operator or function; operator or function: <"
    ):
        holds("n < :v", v={"L": [N("1")]})
    with pytest.raises(ExpressionError, match="operand type: BOOL"):
        holds(":v >= n", v={"BOOL": True})
    assert not holds("l < :v", v=N("1"))


def test_between_is_inclusive_and_refuses_reversed_value_bounds() -> None:
    assert holds("n BETWEEN :a AND :b", a=N("5"), b=N("5"))
    assert holds("n between :a and :b", a=N("1"), b=N("9"))
    assert not holds("n BETWEEN :a AND :b", a=N("6"), b=N("9"))
    assert not holds("n BETWEEN :a AND :b", a=S("1"), b=S("9"))
    with pytest.raises(ExpressionError, match="The BETWEEN operator requires upper bound"):
        holds("n BETWEEN :a AND :b", a=N("9"), b=N("1"))
    with pytest.raises(ExpressionError, match="The BETWEEN operator requires upper bound"):
        holds("n BETWEEN :a AND :b", a=N("1"), b=S("9"))
    # a bound read from the item only makes the condition false
    assert not holds("n BETWEEN :a AND s", a=N("1"))


def test_in_matches_any_listed_value_of_any_type() -> None:
    assert holds("n IN (:a, :b)", a=S("dog"), b=N("5"))
    assert not holds("n IN (:a)", a=N("6"))
    assert not holds("gone IN (:a)", a=N("6"))
    listed = {f"v{i}": N(str(i)) for i in range(100)}  # "The list can contain up to 100 values"
    assert holds("n IN (" + ", ".join(f":{key}" for key in listed) + ")", **listed)
    listed["v100"] = N("100")
    with pytest.raises(ExpressionError, match="too many operands"):
        holds("n IN (" + ", ".join(f":{key}" for key in listed) + ")", **listed)
    with pytest.raises(ExpressionError, match="Syntax error"):
        condition("n IN ()")


def test_attribute_exists_and_not_exists_on_nested_paths() -> None:
    assert holds("attribute_exists (m.deeper.deep)")
    assert holds("attribute_exists (l[2][0])")
    assert holds("attribute_not_exists (l[3])")
    assert holds("attribute_not_exists (m.x.y)")  # x is a number, not a map
    assert holds("attribute_not_exists (s[0])")
    with pytest.raises(ExpressionError, match="requires a document path"):
        condition("attribute_exists (:v)")


@pytest.mark.parametrize(
    ("name", "code"),
    [("s", "S"), ("n", "N"), ("b", "B"), ("yes", "BOOL"), ("nothing", "NULL"), ("ss", "SS"), ("ns", "NS")]
    + [("bs", "BS"), ("l", "L"), ("m", "M")],
)
def test_attribute_type(name: str, code: str) -> None:
    assert holds(f"attribute_type ({name}, :t)", t=S(code))
    assert not holds(f"attribute_type ({name}, :t)", t=S("S" if code != "S" else "N"))


def test_attribute_type_refuses_an_unknown_type_or_a_path() -> None:
    with pytest.raises(ExpressionError, match="Invalid attribute type name found; type: DOG"):
        holds("attribute_type (s, :t)", t=S("DOG"))
    with pytest.raises(ExpressionError, match="Incorrect operand type"):
        condition("attribute_type (s, n)")


def test_begins_with_on_strings_and_binaries() -> None:
    assert holds("begins_with (s, :p)", p=S("hel"))
    assert not holds("begins_with (s, :p)", p=S("el"))
    assert holds("begins_with (b, :p)", p=B(b"\x01\x02"))
    assert not holds("begins_with (n, :p)", p=S("5"))
    assert not holds("begins_with (gone, :p)", p=S("5"))
    with pytest.raises(ExpressionError, match="operator or function: begins_with, operand type: N"):
        holds("begins_with (s, :p)", p=N("1"))


def test_contains_substrings_set_members_and_list_elements() -> None:
    assert holds("contains (s, :v)", v=S("ell"))
    assert holds("contains (b, :v)", v=B(b"\x02\x03"))
    assert holds("contains (ss, :v)", v=S("a"))
    assert holds("contains (ns, :v)", v=N("2.50"))
    assert not holds("contains (ns, :v)", v=S("1"))
    assert holds("contains (l, :v)", v=S("two"))
    assert holds("contains (l, :v)", v={"L": [N("3")]})
    assert not holds("contains (n, :v)", v=N("5"))
    assert not holds("contains (gone, :v)", v=N("5"))


@pytest.mark.parametrize(
    ("name", "size"),
    [("s", 5), ("u", 6), ("b", 3), ("ss", 2), ("ns", 2), ("bs", 1), ("l", 3), ("m", 3)],
)
def test_size_of_each_sized_type(name: str, size: int) -> None:
    assert holds(f"size ({name}) = :v", v=N(str(size)))


def test_size_of_unsized_or_missing_attributes_compares_false() -> None:
    assert not holds("size (n) = :v", v=N("1"))
    assert not holds("size (yes) >= :v", v=N("0"))
    assert not holds("size (gone) >= :v", v=N("0"))
    assert not holds("size (s) = :v", v=S("5"))
    assert holds("size (s) = n")
    with pytest.raises(
        ExpressionError, match="not allowed to be used this way in an expression; function: size"
    ):
        condition("size (s)")
    with pytest.raises(ExpressionError, match="Incorrect number of operands.*size, number of operands: 2"):
        condition("size (s, s) = :v")


def test_precedence_and_parentheses() -> None:
    t, f = "n = :five", "n = :six"
    given = {"five": N("5"), "six": N("6")}
    assert holds(f"{t} OR {f} AND {f}", **given)  # AND before OR
    assert not holds(f"({t} OR {f}) AND {f}", **given)
    assert not holds(f"NOT {t} AND {t}", **given)  # NOT before AND
    assert holds(f"NOT NOT {t}", **given)
    assert holds(f"n BETWEEN :five AND :six AND {t}", **given)  # BETWEEN's AND binds first
    assert holds(f"nOt {f} aNd {t} Or {f}", **given)


def test_placeholders_and_plain_names() -> None:
    assert holds("#a.#b = :v", names={"#a": "m", "#b": "x"}, v=N("2"))
    assert holds("#status = :v", item={"status": S("open")}, names={"#status": "status"}, v=S("open"))
    with pytest.raises(ExpressionError, match="reserved keyword; reserved keyword: status"):
        condition("status = :v")
    with pytest.raises(
        ExpressionError, match="attribute name used in the document path is not defined; attribute name: #x"
    ):
        holds("#x = :v", v=N("1"))
    with pytest.raises(
        ExpressionError, match="attribute value used in expression is not defined; attribute value: :w"
    ):
        holds("n = :v OR n = :w", v=N("5"))  # even when evaluation would stop before :w
    compiled = condition("(attribute_exists (#0) AND #1 <> :0)")
    assert compiled.names == {"#0", "#1"} and compiled.values == {":0"}


@pytest.mark.parametrize(
    "text",
    ["", "n =", "n = :v AND", "= :v", "n == :v", "n = :v)", "(n = :v", "n", "n = $", "n.1 = :v", "n[x] = :v"],
)
def test_syntax_errors(text: str) -> None:
    with pytest.raises(
        ExpressionError, match="Invalid ConditionExpression: (Syntax error|The expression can not be empty)"
    ):
        condition(text)


def test_function_errors() -> None:
    with pytest.raises(ExpressionError, match="Invalid function name; function: dog"):
        condition("dog (n) = :v")
    with pytest.raises(ExpressionError, match="not allowed to be used this way.*if_not_exists"):
        condition("if_not_exists (n, :v) = :v")
    with pytest.raises(ExpressionError, match="not allowed to be used this way.*attribute_exists"):
        condition("attribute_exists (n) = :v")


def test_filter_expressions_say_so_in_their_messages() -> None:
    with pytest.raises(ExpressionError, match="^Invalid FilterExpression: Syntax error"):
        condition("n =", "FilterExpression")


def test_the_shapes_pynamodb_sends() -> None:
    names = {"#0": "pk", "#1": "gone", "#2": "n"}
    assert holds("attribute_not_exists (#1)", names={"#1": "gone"})
    assert holds(
        "((attribute_exists (#0) AND attribute_not_exists (#1)) AND (attribute_not_exists (#2) OR #2 < :0))",
        names=names,
        **{"0": N("6")},
    )
    assert holds("#2 IN (:2)", names={"#2": "n"}, **{"2": N("5")})


def test_expressions_are_compiled_once() -> None:
    assert condition("n = :v") is condition("n = :v")
    assert update("SET a = :v") is update("SET a = :v")


# ---------------------------------------------------------------------------------------- updates


def test_set_remove_add_delete_together() -> None:
    after = updated(
        "SET #0 = :0 ADD #1 :1, #2 :2 REMOVE s DELETE ss :3",
        names={"#0": "new", "#1": "n", "#2": "ns"},
        **{"0": S("v"), "1": N("1.5"), "2": {"NS": ["7", "1.0"]}, "3": {"SS": ["a"]}},
    )
    assert after["new"] == S("v")
    assert after["n"] == N("6.5")
    assert after["ns"] == {"NS": ["1", "2.5", "7"]}
    assert "s" not in after
    assert after["ss"] == {"SS": ["b"]}


def test_set_arithmetic_on_numbers_only() -> None:
    assert updated("SET n = n + :v", v=N("0.5"))["n"] == N("5.5")
    assert updated("SET n = :v - n", v=N("1"))["n"] == N("-4")
    assert updated("SET n = n - n")["n"] == N("0")
    with pytest.raises(ExpressionError, match="operator or function: \\+, operand type: S$"):
        updated("SET n = n + :v", v=S("1"))  # a :value of the wrong type is named
    with pytest.raises(
        ExpressionError, match="^An operand in the update expression has an incorrect data type$"
    ):
        updated("SET n = s - :v", v=N("1"))  # an item's value of the wrong type is not
    with pytest.raises(ExpressionError, match="refers to an attribute that does not exist in the item"):
        updated("SET n = gone + :v", v=N("1"))
    with pytest.raises(ExpressionError, match="Number overflow"):
        updated("SET n = n + :v", v=N("1e40"))


def test_if_not_exists_and_list_append() -> None:
    assert updated("SET n = if_not_exists (n, :v)", v=N("9"))["n"] == N("5")
    assert updated("SET c = if_not_exists (c, :v) + :one", v=N("9"), one=N("1"))["c"] == N("10")
    assert updated("SET l = list_append (l, :v)", v={"L": [S("x")]})["l"]["L"][-1] == S("x")
    assert updated("SET l = list_append (:v, l)", v={"L": [S("x")]})["l"]["L"][0] == S("x")
    assert updated("SET l = list_append (if_not_exists (gone, :e), :v)", e={"L": []}, v={"L": [S("x")]})[
        "l"
    ] == {"L": [S("x")]}
    with pytest.raises(ExpressionError, match="operator or function: list_append, operand type: S"):
        updated("SET l = list_append (l, :v)", v=S("x"))
    with pytest.raises(
        ExpressionError, match="^An operand in the update expression has an incorrect data type$"
    ):
        updated("SET l = list_append (:v, m)", v={"L": []})
    with pytest.raises(ExpressionError, match="not allowed to be used this way.*list_append"):
        update("SET l = list_append (list_append (:a, :b), :c)")
    with pytest.raises(ExpressionError, match="Syntax error"):
        update("SET n = if_not_exists (n, :a + :b)")
    with pytest.raises(ExpressionError, match="Invalid function name; function: LIST_APPEND"):
        update("SET l = LIST_APPEND (l, :v)")
    with pytest.raises(
        ExpressionError, match="requires a document path; operator or function: if_not_exists"
    ):
        update("SET n = if_not_exists (:v, :v)")
    with pytest.raises(ExpressionError, match="not allowed to be used this way.*size"):
        update("SET n = size (s)")


def test_operands_are_read_from_the_item_as_it_was() -> None:
    after = updated("SET s = n, n = s")
    assert after["s"] == N("5") and after["n"] == S("hello")


def test_nested_set_into_maps_and_lists() -> None:
    after = updated("SET m.x = :v, m.deeper.extra = :v, m.lst[1] = :v, l[10] = :v", v=N("1.50"))
    assert after["m"]["M"]["x"] == N("1.5")
    assert after["m"]["M"]["deeper"]["M"] == {"deep": S("d"), "extra": N("1.5")}
    assert after["m"]["M"]["lst"]["L"] == [S("a"), N("1.5"), S("c")]
    assert after["l"]["L"][-1] == N("1.5") and len(after["l"]["L"]) == 4  # past the end: appended


@pytest.mark.parametrize("path", ["gone.x", "s.x", "m.gone.x", "n[0]", "m[0]", "l[1].x", "l[7][0]"])
def test_a_nested_set_needs_its_parent(path: str) -> None:
    with pytest.raises(
        ExpressionError, match="^The document path provided in the update expression is invalid for update$"
    ):
        updated(f"SET {path} = :v", v=N("1"))


def test_elements_set_past_the_end_are_appended_in_index_order() -> None:
    after = updated(
        "SET l[84] = :a, l[37] = :b, l[17] = :c, l[50] = :d", a=S("a"), b=S("b"), c=S("c"), d=S("d")
    )
    assert after["l"]["L"][3:] == [S("c"), S("b"), S("d"), S("a")]


def test_list_indexes_name_the_elements_of_the_list_as_it_was() -> None:
    item = {"a": {"L": [N(str(n)) for n in (2, 3, 4, 5, 6, 7)]}}
    for text in ("REMOVE a[1] SET a[3] = :v", "SET a[3] = :v REMOVE a[1]"):
        assert updated(text, item=item, v=N("17"))["a"]["L"] == [N("2"), N("4"), N("17"), N("6"), N("7")]


@pytest.mark.parametrize(
    "text", ["REMOVE gone.x", "REMOVE s.x", "REMOVE n[0]", "DELETE gone.x :v", "DELETE s[0] :v"]
)
def test_removing_below_a_missing_parent_is_invalid(text: str) -> None:
    given = {"v": {"SS": ["a"]}} if ":v" in text else {}
    with pytest.raises(ExpressionError, match="invalid for update"):
        updated(text, **given)


def test_removing_from_no_item_at_all_is_ignored() -> None:
    assert updated("REMOVE x.y, z[0]", item=None) == {}


def test_remove_missing_attributes_and_list_elements() -> None:
    after = updated("REMOVE gone, m.gone, l[9], l[0], l[2], m.lst[1]")
    assert after["l"] == {"L": [S("two")]}  # indexes name the elements of the list as it was
    assert after["m"]["M"]["lst"] == {"L": [S("a"), S("c")]}
    assert "gone" not in after


def test_add_creates_sums_and_unites() -> None:
    assert updated("ADD c :v", v=N("3"))["c"] == N("3")
    assert updated("ADD n :v", v=N("-5"))["n"] == N("0")
    assert updated("ADD ss :v", v={"SS": ["c", "a"]})["ss"] == {"SS": ["a", "b", "c"]}
    assert updated("ADD fresh :v", v={"SS": ["c"]})["fresh"] == {"SS": ["c"]}
    assert updated("ADD m.x :v", v=N("1"))["m"]["M"]["x"] == N("3")
    with pytest.raises(ExpressionError, match="incorrect data type"):
        updated("ADD ss :v", v={"NS": ["1"]})
    with pytest.raises(ExpressionError, match="incorrect data type"):
        updated("ADD s :v", v=N("1"))
    with pytest.raises(ExpressionError, match="operator: ADD, operand type: STRING"):
        updated("ADD n :v", v=S("1"))
    with pytest.raises(ExpressionError, match="operator: ADD, operand type: LIST"):
        updated("ADD l :v", v={"L": []})
    with pytest.raises(ExpressionError, match="Syntax error"):
        update("ADD n n")


def test_delete_takes_elements_out_and_an_emptied_set_disappears() -> None:
    assert updated("DELETE ns :v", v={"NS": ["1.0"]})["ns"] == {"NS": ["2.5"]}
    assert "ss" not in updated("DELETE ss :v", v={"SS": ["a", "b", "z"]})
    assert "gone" not in updated("DELETE gone :v", v={"SS": ["a"]})
    with pytest.raises(ExpressionError, match="incorrect data type"):
        updated("DELETE ss :v", v={"NS": ["1"]})
    with pytest.raises(ExpressionError, match="operator: DELETE, operand type: NUMBER"):
        updated("DELETE n :v", v=N("1"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("SET a = :v, a = :v", "overlap.*path one: \\[a\\], path two: \\[a\\]"),
        ("SET m.x = :v REMOVE m", "overlap.*path one: \\[m, x\\], path two: \\[m\\]"),
        ("SET #a = :v REMOVE #b", "overlap"),
        ("SET l[0] = :v REMOVE l[0].x", "overlap"),
        ("SET m.lst[0] = :v REMOVE m.lst.x", "conflict.*\\[m, lst, \\[0\\]\\], path two: \\[m, lst, x\\]"),
    ],
)
def test_two_actions_on_overlapping_paths_are_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match="Two document paths " + message):
        updated(text, names={"#a": "n", "#b": "n"}, v=N("1"))


def test_different_elements_of_one_list_do_not_overlap() -> None:
    after = updated("SET l[0] = :v, l[1] = :v", v=N("0"))
    assert after["l"]["L"][:2] == [N("0"), N("0")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The expression can not be empty"),
        ("SET", "Syntax error"),
        ("SET a", "Syntax error"),
        ("SET a = :v SET b = :v", 'The "SET" section can only be used once'),
        ("UPSERT a = :v", "Syntax error"),
        ("SET a = :v + :v + :v", "Syntax error"),
        ("SET a = :v,", "Syntax error"),
        ("REMOVE :v", "Syntax error"),
        ("SET name = :v", "reserved keyword; reserved keyword: name"),
        ("SET _abc = :v", 'Syntax error; token: "_"'),
        ("SET 1a = :v", "Syntax error"),
        ("SET a[:i] = :v", "Syntax error"),
        ("SET a[#i] = :v", "Syntax error"),
        ("SET :a = :v", "Syntax error"),
    ],
)
def test_update_syntax_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match="^Invalid UpdateExpression: .*" + message):
        update(text)


def test_update_placeholders_and_attributes() -> None:
    compiled = update("SET #0 = :0, #1.#2 = if_not_exists (#1.#2, :1) + :2 REMOVE #3 ADD #4 :3")
    assert compiled.names == {"#0", "#1", "#2", "#3", "#4"}
    assert compiled.values == {":0", ":1", ":2", ":3"}
    names = {"#0": "a", "#1": "m", "#2": "x", "#3": "r", "#4": "c"}
    assert compiled.attributes(names) == {"a", "m", "r", "c"}
    with pytest.raises(
        ExpressionError, match="attribute name used in the document path is not defined; attribute name: #4"
    ):
        compiled.attributes({key: value for key, value in names.items() if key != "#4"})
    with pytest.raises(
        ExpressionError, match="attribute value used in expression is not defined; attribute value: :3"
    ):
        compiled.apply(ITEM, names, {":0": N("1"), ":1": N("1"), ":2": N("1")})


def test_an_update_of_no_item_builds_one() -> None:
    assert updated("SET a = :v ADD c :one REMOVE gone", item=None, v=S("x"), one=N("1")) == {
        "a": S("x"),
        "c": N("1"),
    }
    with pytest.raises(ExpressionError, match="invalid for update"):
        updated("SET m.x = :v", item=None, v=S("x"))


def test_the_eighteen_action_shape_the_scorer_sends() -> None:
    text = "SET #2 = :1, #3.#4 = if_not_exists (#3.#4, :2) + :3 ADD #5 :4"
    names = {"#2": "s", "#3": "m", "#4": "x", "#5": "n"}
    after = updated(text, names=names, **{"1": S("v"), "2": N("0"), "3": N("1"), "4": N("2")})
    assert after["s"] == S("v") and after["m"]["M"]["x"] == N("3") and after["n"] == N("7")


# ------------------------------------------------------------------------------ projections, keys


def test_projection_keeps_named_paths_and_compacts_lists() -> None:
    shown = projection("n, m.x, m.lst[2], m.lst[0], l[1], gone, m.gone").apply(ITEM, {})
    assert shown == {
        "n": N("5"),
        "m": {"M": {"x": N("2"), "lst": {"L": [S("a"), S("c")]}}},
        "l": {"L": [S("two")]},
    }
    assert projection("#k").apply(ITEM, {"#k": "pk"}) == {"pk": S("P#1")}
    assert projection("s[0], n.x").apply(ITEM, {}) == {}


def test_projection_errors() -> None:
    with pytest.raises(ExpressionError, match="^Invalid ProjectionExpression: Two document paths overlap"):
        projection("m, m.x").apply(ITEM, {})
    with pytest.raises(ExpressionError, match="^Invalid ProjectionExpression: Syntax error"):
        projection("n,")
    with pytest.raises(ExpressionError, match="reserved keyword: size"):
        projection("size")
    with pytest.raises(ExpressionError, match="attribute name: #k"):
        projection("#k").apply(ITEM, {})


def test_key_conditions_resolve_to_partition_and_sort_conditions() -> None:
    compiled = key_condition("(#0 = :0 AND begins_with (#1, :1))")
    assert compiled.names == {"#0", "#1"} and compiled.values == {":0", ":1"}
    assert compiled.resolve({"#0": "pk", "#1": "sk"}, {":0": S("P"), ":1": S("x")}) == (
        "pk",
        S("P"),
        ("sk", "begins_with", S("x"), None),
    )
    assert key_condition("pk = :p").resolve({}, {":p": S("P")}) == ("pk", S("P"), None)
    assert key_condition("sk BETWEEN :a AND :b AND pk = :p").resolve(
        {}, {":p": S("P"), ":a": N("1"), ":b": N("2")}, partition="pk"
    ) == ("pk", S("P"), ("sk", "BETWEEN", N("1"), N("2")))
    # both equalities: the table's partition key says which is which
    assert (
        key_condition("sk = :a AND pk = :p").resolve({}, {":p": S("P"), ":a": N("1")}, partition="pk")[0]
        == "pk"
    )
    assert key_condition("sk <= :a AND pk = :p").resolve({}, {":p": S("P"), ":a": N("1")})[2] == (
        "sk",
        "<=",
        N("1"),
        None,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pk = :p OR sk = :a", "Invalid operator used in KeyConditionExpression: OR"),
        ("NOT pk = :p", "Invalid operator used in KeyConditionExpression: NOT"),
        ("pk <> :p", "Invalid operator used in KeyConditionExpression: <>"),
        ("pk IN (:p)", "Invalid operator used in KeyConditionExpression: IN"),
        ("pk = :p AND contains (sk, :a)", "Invalid operator used in KeyConditionExpression: contains"),
        ("pk = :p AND pk = :a", "only contain one condition per key"),
        ("pk = :p AND sk = :a AND x = :a", "one condition per key \\(a partition key and a sort key"),
        ("pk = :p AND sk >= :a AND sk <= :b", "only contain one condition per key"),
        ("pk.x = :p", "nested attributes"),
        ("pk = sk", "compared with a value"),
        ("pk < :p", "Query key condition not supported"),
        ("pk = :p AND sk BETWEEN :b AND :a", "BETWEEN operator requires upper bound"),
        ("pk = :p AND begins_with (sk, :n)", "begins_with, operand type: N"),
    ],
)
def test_key_condition_errors(text: str, message: str) -> None:
    with pytest.raises(ExpressionError, match=message):
        key_condition(text).resolve({}, {":p": S("P"), ":a": S("a"), ":b": S("b"), ":n": N("1")})


def test_the_key_may_stand_on_either_side_of_the_comparison() -> None:
    assert key_condition(":p = pk AND :a < sk").resolve({}, {":p": S("P"), ":a": N("5")}) == (
        "pk",
        S("P"),
        ("sk", ">", N("5"), None),
    )
    # one pair of redundant parentheses per level is fine; a second is not (as in DynamoDB)
    assert (
        key_condition("((sk = :a) AND (pk = :p))").resolve({}, {":p": S("P"), ":a": N("5")}, "pk")[0] == "pk"
    )
    with pytest.raises(ExpressionError, match="redundant parentheses"):
        key_condition("((sk = :a) AND ((pk = :p)))")


def test_a_key_condition_without_the_partition_key_is_refused() -> None:
    with pytest.raises(ExpressionError, match="Query condition missed key schema element: pk"):
        key_condition("sk = :a").resolve({}, {":a": S("a")}, partition="pk")


def test_reserved_words_are_dynamodbs_list() -> None:
    assert len(expressions.RESERVED_WORDS) == 573
    assert {"STATUS", "NAME", "SIZE", "TTL", "DATA"} <= expressions.RESERVED_WORDS
    assert Decimal(values.canonical_number("1e2")) == 100


# ------------------------------------------------------------------------------ hostile inputs


def test_documents_nest_at_most_32_levels() -> None:
    value: dict[str, Any] = N("1")
    for _ in range(32):
        value = {"L": [value]}
    values.check_item({"a": value})
    with pytest.raises(InvalidValue, match="Nesting Levels have exceeded supported limits"):
        values.check_item({"a": {"M": {"deeper": value}}})


def test_expressions_longer_than_4_kb_are_refused() -> None:
    text = " OR ".join(["n = :v"] * 500)
    with pytest.raises(ExpressionError, match="Expression size has exceeded the maximum allowed size"):
        condition(text)


def test_more_than_300_operators_are_refused() -> None:
    with pytest.raises(ExpressionError, match="too many operators or functions; count: 301"):
        condition(" OR ".join(["n=:v"] * 151))
    with pytest.raises(ExpressionError, match="too many operators or functions"):
        update("SET " + ", ".join(f"a{i} = :v" for i in range(301)))


@pytest.mark.parametrize("text", ["(" * 2000 + "n = :v" + ")" * 2000, "NOT " * 1000 + "n = :v"])
def test_deep_nesting_is_an_error_not_a_crash(text: str) -> None:
    with pytest.raises(ExpressionError, match="nests too deeply"):
        condition(text)


def test_long_chains_of_and_or_evaluate_flat() -> None:
    chain = " AND ".join(["n = :v"] * 70) + " OR " + " OR ".join(["s = :v"] * 70)
    assert holds(chain, v=N("5"))
    assert not holds(chain, v=N("6"))


def test_each_expression_can_be_checked_before_any_item_is_read() -> None:
    # Given a request whose expressions are wrong whatever the item holds (a Query that matches no
    # item, an update of an item not read yet), then the check alone refuses it
    with pytest.raises(ExpressionError, match="operand type: L"):
        condition("n < :v").check({}, {":v": {"L": []}})
    with pytest.raises(ExpressionError, match="attribute name: #a"):
        condition("#a = :v").check({}, {":v": N("1")})
    with pytest.raises(ExpressionError, match="overlap"):
        update("SET a = :v REMOVE a.b").check({}, {":v": N("1")})
    with pytest.raises(ExpressionError, match="operator: ADD, operand type: STRING"):
        update("ADD a :v").check({}, {":v": S("x")})
    with pytest.raises(ExpressionError, match="operator: DELETE, operand type: NUMBER"):
        update("DELETE a :v").check({}, {":v": N("1")})
    with pytest.raises(ExpressionError, match="Invalid ProjectionExpression: Two document paths overlap"):
        projection("a.b, a.b[2]").check({})
    with pytest.raises(ExpressionError, match="Invalid ProjectionExpression: Two document paths conflict"):
        projection("a.b, a[1]").check({})
    # and what is right passes
    condition("n < :v").check({}, {":v": N("1")})
    update("SET a = :v REMOVE b.c").check({}, {":v": N("1")})
    projection("a.b, a.c[2], a.b2").check({})


def _pynamodb_conditions() -> list[Any]:
    from pynamodb.expressions.condition import size
    from pynamodb.expressions.operand import Path

    a, b, ss = Path("a"), Path("b"), Path("ss")
    return [
        *(a == 1, a != 1, a < 1, a <= 1, a > 1, a >= 1, a.between(1, 2), a.is_in(1, 2, 3)),
        *(a.exists(), a.does_not_exist(), a.is_type("S"), a.startswith("x"), ss.contains("x")),
        *(Path("m.x") == 1, Path("l")[0] == 1, ~(a == 1), (a == 1) | (b == 2) & ~(a < 3)),
        *(size(a) > 2, (size(a) == 3) | a.does_not_exist()),
    ]


def _pynamodb_updates() -> list[Any]:
    from pynamodb.expressions.operand import Path
    from pynamodb.expressions.update import Update

    a, lst, ss = Path("a"), Path("l"), Path("ss")
    actions = [
        [a.set(1)], [a.set(a + 1)], [a.set(a - 1)], [a.set(a | 5)], [a.set((a | 0) + 1)],
        [lst.set(lst.append([1]))], [lst.set(lst.prepend([1]))], [a.remove(), lst[0].remove()],
        [a.add(1), ss.delete({"x"})], [Path("m.x").set(2), ss.add({"x"})],
    ]  # fmt: skip
    return [Update(*each) for each in actions]


def test_every_shape_pynamodb_serializes_parses_and_checks() -> None:
    # Given each condition and update pynamodb can build, serialized as pynamodb sends it
    for built, compile_ in [(c, condition) for c in _pynamodb_conditions()] + [
        (u, update) for u in _pynamodb_updates()
    ]:
        names: dict[str, str] = {}
        given: dict[str, Any] = {}
        text = built.serialize(names, given)
        # then the engine's compiler reads it, and the placeholders it finds are pynamodb's
        compiled = compile_(text)
        placeholders = {placeholder: name for name, placeholder in names.items()}
        compiled.check(placeholders, given)
        assert compiled.names == set(placeholders) and compiled.values == set(given), text


def test_a_value_of_the_wrong_type_is_refused_before_the_item_is_read() -> None:
    # `gone` is missing, but the :value's type is wrong whatever the item holds: that error comes first
    with pytest.raises(ExpressionError, match="operator or function: \\+, operand type: S"):
        updated("SET n = gone + :v", v=S("1"))
    with pytest.raises(ExpressionError, match="operator or function: list_append, operand type: N"):
        update("SET l = list_append (gone, :v)").check({}, {":v": N("1")})
