"""DynamoDB's expressions for the local engine: condition and filter, update, projection and key
condition expressions, each parsed once (cached by its text) into small closures that the engine
evaluates against wire-form items (see values.py) with a request's names and values.

The grammar and the rules are DynamoDB's Developer Guide: "Condition and filter expressions,
operators, and functions", "Update expressions", "Projection expressions", "Key condition
expressions", "Expression attribute names", "Reserved words in DynamoDB". In short:
- a condition is `operand comparator operand`, `operand BETWEEN operand AND operand`,
  `operand IN (operand, ...)` (100 operands at most), a function (attribute_exists,
  attribute_not_exists, attribute_type, begins_with, contains), `NOT`, `AND`, `OR` and parentheses;
  the precedence, highest first: comparators, IN, BETWEEN, functions, NOT, AND, OR. Keywords are
  case-insensitive, function names are not. An operand is a document path, a `:value` or `size(path)`;
- comparisons hold only between values of one type: across types `=` is false and `<>` true; an
  operand that is missing makes every comparison false but `<>`, which is true; order (`<`, BETWEEN)
  exists for S (by UTF-8 bytes, which is code point order), N (numerically) and B (unsigned bytes);
  a `:value` of a type that has no order, given to an ordering operator, is a ValidationException,
  where the same type read from the item only makes the comparison false;
- an update is SET, REMOVE, ADD and DELETE clauses, each at most once, in any order; all its
  operands are read from the item as it was before the update; two actions may not touch
  overlapping paths;
- a document path is names (plain, not a reserved word, or `#placeholders`) with `.name` and `[n]`.
Error messages are DynamoDB's words where they are known. Where moto and DynamoDB's documentation
disagree, this follows DynamoDB (tests/integration/test_dynamodb_expressions_vs_moto.py names each
difference).

How the engine uses it: validate the request's ExpressionAttributeValues with values.check_item
first (expressions assume valid values); compare the `names`/`values` sets of a request's
expressions with the request's to refuse unused ones; pass None as the item when there is none.
Every error is an ExpressionError carrying a ValidationException's message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any, NoReturn

from local_system.dynamodb.values import (
    SET_TYPES,
    TYPE_NAMES,
    InvalidValue,
    Value,
    arithmetic,
    canonical_value,
    decoded,
    equal,
    number,
    type_of,
)

Names = dict[str, str]
Values = dict[str, Value]
Step = str | int
Path = tuple[Step, ...]

MAX_IN_OPERANDS = 100
MAX_LENGTH = 4096  # "The maximum length of any expression string is 4 KB" (DynamoDB's limits page)
MAX_OPERATORS = 300  # "The maximum number of operators or functions allowed in an expression is 300"
# How deep NOT and parentheses may nest. DynamoDB documents no such bound (its 300 operators and 4 KB
# bound it); this one keeps the recursive parser well inside Python's stack on any 4 KB input.
MAX_NESTING = 100
_EMPTY: dict[str, Value] = {}

MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"
INVALID_PATH = "The document path provided in the update expression is invalid for update"
NOT_ALLOWED = "The function is not allowed to be used this way in an expression; function: {}"
UNDEFINED_NAME = "An expression attribute name used in the document path is not defined; attribute name: {}"
UNDEFINED_VALUE = "An expression attribute value used in expression is not defined; attribute value: {}"
OPERAND_TYPE = "Incorrect operand type for operator or function; operator or function: {}, operand type: {}"
BETWEEN_ORDER = (
    "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
    "lower operand: AttributeValue: {}, upper operand: AttributeValue: {}"
)
PATHS = "must remove or rewrite one of these paths; path one: {}, path two: {}"
PATHS_CONFLICT = "Two document paths conflict with each other; " + PATHS
PATHS_OVERLAP = "Two document paths overlap with each other; " + PATHS


class ExpressionError(Exception):
    """A ValidationException's message for an expression, in DynamoDB's words where known."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# ------------------------------------------------------------------------------------- tokenizer

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<name>\#[A-Za-z0-9_]+)
      | (?P<value>:[A-Za-z0-9_]+)
      | (?P<ident>[A-Za-z][A-Za-z0-9_]*)
      | (?P<int>\d+)
      | (?P<op><>|<=|>=|[=<>(),.\[\]+\-])""",
    re.VERBOSE,
)


class _Token:
    __slots__ = ("kind", "text", "start", "end")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind, self.text, self.start, self.end = kind, text, start, end


def _tokens(text: str, prefix: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            bad = _Token("bad", text[position], position, position + 1)
            near = text[found[-1].start if found else position : position + 1]
            raise ExpressionError(f'{prefix}Syntax error; token: "{bad.text}", near: "{near}"')
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(_Token(kind, match.group(), match.start(), match.end()))
        position = match.end()
    found.append(_Token("eof", "<EOF>", len(text), len(text)))
    return found


# ------------------------------------------------------------------------------------------ AST
# Operands: ("path", steps) where a step is ("#", placeholder) | ("", plain name) | index (int);
# ("value", ":placeholder"); ("call", function name, [operands]).
# Conditions: ("or", a, b), ("and", a, b), ("not", a), ("compare", op, a, b),
# ("between", a, low, high), ("in", a, [operands]), ("call", function name, [operands]),
# ("paren", condition).

_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})
_CONDITION_FUNCTIONS = frozenset(
    {"attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains"}
)
_UPDATE_FUNCTIONS = frozenset({"if_not_exists", "list_append"})
_ARITY = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
    "size": 1,
    "if_not_exists": 2,
    "list_append": 2,
}
_CLAUSES = ("SET", "REMOVE", "ADD", "DELETE")
_SIZE = frozenset({"size"})


class _Parser:
    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.prefix = f"Invalid {what}: "
        if not text.strip():
            raise ExpressionError(f"{self.prefix}The expression can not be empty;")
        if len(text) > MAX_LENGTH:
            size = len(text)
            self.fail(f"Expression size has exceeded the maximum allowed size; expression size: {size}")
        self.tokens = _tokens(text, self.prefix)
        self.at = 0
        self.operators = 0
        self.nesting = 0

    def operator(self) -> None:
        """Counts one operator or function against DynamoDB's 300."""
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            self.fail(
                f"The expression contains too many operators or functions; count: {self.operators}, "
                f"maximum: {MAX_OPERATORS}"
            )

    def deeper(self) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            self.fail(f"The expression nests too deeply; maximum depth: {MAX_NESTING}")

    # -- helpers
    @property
    def token(self) -> _Token:
        return self.tokens[self.at]

    def peek(self, offset: int = 1) -> _Token:
        return self.tokens[min(self.at + offset, len(self.tokens) - 1)]

    def keyword(self, word: str) -> bool:
        return self.token.kind == "ident" and self.token.text.upper() == word

    def op(self, symbol: str) -> bool:
        return self.token.kind == "op" and self.token.text == symbol

    def expect_op(self, symbol: str) -> None:
        if not self.op(symbol):
            self.syntax_error()
        self.at += 1

    def syntax_error(self) -> NoReturn:
        token = self.token
        before = self.tokens[self.at - 1].start if self.at > 0 else token.start
        after = self.peek().end if token.kind != "eof" else token.end
        near = self.text[before:after]
        raise ExpressionError(f'{self.prefix}Syntax error; token: "{token.text}", near: "{near}"')

    def fail(self, message: str) -> NoReturn:
        raise ExpressionError(self.prefix + message)

    def end(self) -> None:
        if self.token.kind != "eof":
            self.syntax_error()

    # -- paths and operands
    def path(self) -> tuple[str, list[Any]]:
        steps: list[Any] = [self.path_name()]
        while True:
            if self.op("."):
                self.at += 1
                steps.append(self.path_name())
            elif self.op("["):
                self.at += 1
                if self.token.kind != "int":
                    self.syntax_error()
                steps.append(int(self.token.text))
                self.at += 1
                self.expect_op("]")
            else:
                return ("path", steps)

    def path_name(self) -> tuple[str, str]:
        token = self.token
        if token.kind == "name":
            self.at += 1
            return ("#", token.text)
        if token.kind == "ident":
            if token.text.upper() in RESERVED_WORDS:
                self.fail(f"Attribute name is a reserved keyword; reserved keyword: {token.text}")
            self.at += 1
            return ("", token.text)
        self.syntax_error()

    def operand(self, functions: frozenset[str]) -> Any:
        token = self.token
        if token.kind == "value":
            self.at += 1
            return ("value", token.text)
        if token.kind == "ident" and self.peek().kind == "op" and self.peek().text == "(":
            return self.call(functions, functions)
        return self.path()

    def call(self, functions: frozenset[str], inside: frozenset[str]) -> Any:
        """A function call: `functions` are those allowed here, `inside` those allowed as arguments."""
        name = self.token.text
        known = _ARITY.get(name)
        if known is None:
            self.fail(f"Invalid function name; function: {name}")
        if name not in functions:
            self.fail(NOT_ALLOWED.format(name))
        self.at += 2  # the name and "("
        self.operator()
        arguments = [self.operand(inside)]
        while self.op(","):
            self.at += 1
            arguments.append(self.operand(inside))
        self.expect_op(")")
        if len(arguments) != known:
            self.fail(
                f"Incorrect number of operands for operator or function; operator or function: {name}, "
                f"number of operands: {len(arguments)}"
            )
        return ("call", name, arguments)

    # -- conditions
    def condition(self) -> Any:
        left = self.conjunction()
        while self.keyword("OR"):
            self.at += 1
            self.operator()
            left = ("or", left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.keyword("AND"):
            self.at += 1
            self.operator()
            left = ("and", left, self.negation())
        return left

    def negation(self) -> Any:
        if self.keyword("NOT"):
            self.at += 1
            self.operator()
            self.deeper()
            inner = self.negation()
            self.nesting -= 1
            return ("not", inner)
        return self.primary()

    def primary(self) -> Any:
        if self.op("("):
            self.at += 1
            self.deeper()
            inner = self.condition()
            self.nesting -= 1
            self.expect_op(")")
            if inner[0] == "paren":
                # DynamoDB refuses parentheses that only wrap other parentheses: "((a = :v))".
                self.fail("The expression has redundant parentheses;")
            return ("paren", inner)
        token = self.token
        if token.kind == "ident" and token.text in _CONDITION_FUNCTIONS and self.peek().text == "(":
            node = self.call(_CONDITION_FUNCTIONS, _SIZE)
            if self.token.kind == "op" and self.token.text in _COMPARATORS:
                self.fail(NOT_ALLOWED.format(token.text))
            self.check_call(node)
            return node
        left = self.operand(_SIZE)
        if self.token.kind == "op" and self.token.text in _COMPARATORS:
            operator = self.token.text
            self.at += 1
            self.operator()
            return ("compare", operator, left, self.operand(_SIZE))
        if self.keyword("BETWEEN"):
            self.at += 1
            self.operator()
            low = self.operand(_SIZE)
            if not self.keyword("AND"):
                self.syntax_error()
            self.at += 1
            return ("between", left, low, self.operand(_SIZE))
        if self.keyword("IN"):
            self.at += 1
            self.operator()
            self.expect_op("(")
            choices = [self.operand(_SIZE)]
            while self.op(","):
                self.at += 1
                choices.append(self.operand(_SIZE))
            self.expect_op(")")
            if len(choices) > MAX_IN_OPERANDS:  # the values in the list: "up to 100 values"
                self.fail(
                    "The IN operator is provided with too many operands; "
                    f"number of operands: {len(choices)}, maximum: {MAX_IN_OPERANDS}"
                )
            return ("in", left, choices)
        if left[0] == "call":
            self.fail(NOT_ALLOWED.format(left[1]))
        self.syntax_error()

    def check_call(self, node: Any) -> None:
        name, arguments = node[1], node[2]
        if name in ("attribute_exists", "attribute_not_exists") and arguments[0][0] != "path":
            self.fail(f"Operator or function requires a document path; operator or function: {name}")
        if name == "attribute_type" and arguments[1][0] != "value":
            self.fail(
                "Incorrect operand type for operator or function; operator or function: attribute_type, "
                "operand type: path"
            )


# ---------------------------------------------------------------------------------------- paths


def _undefined_name(prefix: str, placeholder: str) -> NoReturn:
    raise ExpressionError(prefix + UNDEFINED_NAME.format(placeholder))


def _undefined_value(prefix: str, placeholder: str) -> NoReturn:
    raise ExpressionError(prefix + UNDEFINED_VALUE.format(placeholder))


def _resolver(steps: list[Any], prefix: str) -> Callable[[Names], Path]:
    """The path's steps with names substituted. Callers check first that the request defines every
    placeholder (`_require`), so a missing one is a bug here, not the request's fault."""
    if all(isinstance(step, int) or step[0] == "" for step in steps):
        fixed: Path = tuple(step if isinstance(step, int) else step[1] for step in steps)
        return lambda names: fixed
    if len(steps) == 1:
        placeholder = steps[0][1]
        return lambda names: (names[placeholder],)
    parts = [
        (0, step) if isinstance(step, int) else (1, step[1]) if step[0] == "#" else (0, step[1])
        for step in steps
    ]
    return lambda names: tuple(names[part] if placeholder else part for placeholder, part in parts)  # type: ignore[index]


def get(item: dict[str, Value], path: Path) -> Value | None:
    """The value at a resolved path, or None where any step is missing or of the wrong type."""
    value = item.get(path[0])  # type: ignore[arg-type]
    for index in range(1, len(path)):
        if value is None:
            return None
        step = path[index]
        if type(step) is int:
            elements = value.get("L")
            if elements is None or step >= len(elements):
                return None
            value = elements[step]
        else:
            members = value.get("M")
            if members is None:
                return None
            value = members.get(step)
    return value


def _getter(steps: list[Any], prefix: str) -> Callable[[dict[str, Value], Names], Value | None]:
    """A path reader; the common one-name paths skip the generic walk."""
    if len(steps) == 1:
        kind, text = steps[0]
        if kind == "":
            return lambda item, names: item.get(text)

        def read_placeholder(item: dict[str, Value], names: Names) -> Value | None:
            name = names.get(text)
            if name is None:
                _undefined_name(prefix, text)
            return item.get(name)

        return read_placeholder
    resolve = _resolver(steps, prefix)
    return lambda item, names: get(item, resolve(names))


def describe(path: Path) -> str:
    return "[" + ", ".join(f"[{step}]" if isinstance(step, int) else step for step in path) + "]"


# ------------------------------------------------------------------------------------ conditions

Operand = Callable[[dict[str, Value], Names, Values], Value | None]
Test = Callable[[dict[str, Value], Names, Values], bool]
Check = Callable[[Values], None]


def _ordered(a: Value | None, b: Value | None) -> tuple[Any, Any] | None:
    """Two operands as comparable Python values when they have one ordered type (S, N, B)."""
    if a is None or b is None:
        return None
    if "N" in a:
        return (number(a["N"]), number(b["N"])) if "N" in b else None
    if "S" in a:
        # Python compares str by code points, the same order as their UTF-8 bytes.
        return (a["S"], b["S"]) if "S" in b else None
    if "B" in a:
        return (decoded(a["B"]), decoded(b["B"])) if "B" in b else None
    return None


def _equal(a: Value | None, b: Value | None) -> bool:
    return a is not None and b is not None and equal(a, b)


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "<": lambda x, y: bool(x < y),
    "<=": lambda x, y: bool(x <= y),
    ">": lambda x, y: bool(x > y),
    ">=": lambda x, y: bool(x >= y),
}


def _size(value: Value | None) -> Value | None:
    """size(): of a string its length in UTF-8 bytes (the guide's PartiQL size page: "an attribute's
    size in bytes"; its condition-expression page does not say, and moto counts characters: the two
    agree on ASCII), of a binary its bytes, of a set, list or map its number of elements. Other
    types (N, BOOL, NULL) have no size: the comparison is false, not an error."""
    if value is None:
        return None
    kind = type_of(value)
    payload = value[kind]
    if kind == "S":
        return {"N": str(len(payload.encode()))}
    if kind == "B":
        return {"N": str(len(decoded(payload)))}
    if kind in ("SS", "NS", "BS", "L", "M"):
        return {"N": str(len(payload))}
    return None


def _begins_with(a: Value | None, b: Value | None) -> bool:
    if a is None or b is None:
        return False
    if "S" in a:
        return "S" in b and bool(a["S"].startswith(b["S"]))
    if "B" in a:
        return "B" in b and decoded(a["B"]).startswith(decoded(b["B"]))
    return False


def _contains(a: Value | None, b: Value | None) -> bool:
    """contains(): a substring of S (or B), an element of a set of b's type, an element of a list."""
    if a is None or b is None:
        return False
    kind = type_of(a)
    payload = a[kind]
    if kind == "S":
        return "S" in b and b["S"] in payload
    if kind == "B":
        return "B" in b and decoded(b["B"]) in decoded(payload)
    if kind in SET_TYPES:
        element_kind = SET_TYPES[kind]
        if element_kind not in b:
            return False
        return any(equal({element_kind: element}, b) for element in payload)
    if kind == "L":
        return any(equal(element, b) for element in payload)
    return False


_TYPE_CODES = ("B", "NULL", "SS", "BOOL", "L", "BS", "N", "NS", "S", "M")


class _ConditionCompiler:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.checks: list[Check] = []

    def operand(self, node: Any) -> Operand:
        kind = node[0]
        if kind == "value":
            placeholder = node[1]
            self.values.add(placeholder)
            return lambda item, names, values: values[placeholder]
        if kind == "path":
            self.names.update(step[1] for step in node[1] if not isinstance(step, int) and step[0] == "#")
            read = _getter(node[1], self.prefix)
            return lambda item, names, values: read(item, names)
        # size(operand)
        inner = self.operand(node[2][0])
        return lambda item, names, values: _size(inner(item, names, values))

    def require_order(self, node: Any, operator: str) -> None:
        """A `:value` given to an ordering operator must be S, N or B, whatever the item holds."""
        if node[0] != "value":
            return
        placeholder, prefix = node[1], self.prefix

        def check(values: Values) -> None:
            kind = type_of(values[placeholder])
            if kind not in ("S", "N", "B"):
                raise ExpressionError(prefix + OPERAND_TYPE.format(operator, kind))

        self.checks.append(check)

    def test(self, node: Any) -> Test:
        kind = node[0]
        if kind == "paren":
            return self.test(node[1])
        if kind in ("and", "or"):
            return self.junction(node)
        if kind == "not":
            inner = self.test(node[1])
            return lambda item, names, values: not inner(item, names, values)
        if kind == "compare":
            return self.compare(node[1], node[2], node[3])
        if kind == "between":
            return self.between(node[1], node[2], node[3])
        if kind == "in":
            subject = self.operand(node[1])
            choices = tuple(self.operand(choice) for choice in node[2])

            def member(item: dict[str, Value], names: Names, values: Values) -> bool:
                value = subject(item, names, values)
                return value is not None and any(
                    _equal(value, choice(item, names, values)) for choice in choices
                )

            return member
        return self.function(node[1], node[2])

    def junction(self, node: Any) -> Test:
        """A chain of ANDs (or of ORs) as one flat test, evaluated left to right, stopping early."""
        kind, parts, pending = node[0], [], [node]
        while pending:
            part = pending.pop()
            if part[0] == kind:
                pending += [part[2], part[1]]
            else:
                parts.append(self.test(part))
        if len(parts) == 2:
            left, right = parts
            if kind == "and":
                return lambda item, names, values: left(item, names, values) and right(item, names, values)
            return lambda item, names, values: left(item, names, values) or right(item, names, values)
        tests = tuple(parts)
        if kind == "and":
            return lambda item, names, values: all(test(item, names, values) for test in tests)
        return lambda item, names, values: any(test(item, names, values) for test in tests)

    def compare(self, operator: str, left_node: Any, right_node: Any) -> Test:
        left, right = self.operand(left_node), self.operand(right_node)
        if operator == "=":
            return lambda item, names, values: _equal(left(item, names, values), right(item, names, values))
        if operator == "<>":

            def different(item: dict[str, Value], names: Names, values: Values) -> bool:
                a, b = left(item, names, values), right(item, names, values)
                return a is None or b is None or not equal(a, b)

            return different
        self.require_order(left_node, operator)
        self.require_order(right_node, operator)
        order = _ORDER[operator]

        def ordered(item: dict[str, Value], names: Names, values: Values) -> bool:
            pair = _ordered(left(item, names, values), right(item, names, values))
            return pair is not None and order(*pair)

        return ordered

    def between(self, subject_node: Any, low_node: Any, high_node: Any) -> Test:
        subject, low, high = self.operand(subject_node), self.operand(low_node), self.operand(high_node)
        for node in (subject_node, low_node, high_node):
            self.require_order(node, "BETWEEN")
        if low_node[0] == "value" and high_node[0] == "value":
            low_placeholder, high_placeholder, prefix = low_node[1], high_node[1], self.prefix

            def bounds_in_order(values: Values) -> None:
                lower, upper = values[low_placeholder], values[high_placeholder]
                pair = _ordered(lower, upper)
                if pair is None or pair[0] > pair[1]:
                    raise ExpressionError(prefix + BETWEEN_ORDER.format(_show(lower), _show(upper)))

            self.checks.append(bounds_in_order)

        def within(item: dict[str, Value], names: Names, values: Values) -> bool:
            value = subject(item, names, values)
            above = _ordered(value, low(item, names, values))
            if above is None or above[0] < above[1]:
                return False
            below = _ordered(value, high(item, names, values))
            return below is not None and below[0] <= below[1]

        return within

    def function(self, name: str, arguments: list[Any]) -> Test:
        if name in ("attribute_exists", "attribute_not_exists"):
            read = self.operand(arguments[0])
            if name == "attribute_exists":
                return lambda item, names, values: read(item, names, values) is not None
            return lambda item, names, values: read(item, names, values) is None
        first, second = self.operand(arguments[0]), self.operand(arguments[1])
        if name == "attribute_type":
            placeholder, prefix = arguments[1][1], self.prefix

            def known_type(values: Values) -> None:
                wanted = values[placeholder]
                if "S" not in wanted or wanted["S"] not in _TYPE_CODES:
                    shown = wanted.get("S", _show(wanted))
                    raise ExpressionError(
                        f"{prefix}Invalid attribute type name found; type: {shown}, valid types: "
                        "{ " + "; ".join(_TYPE_CODES) + " }"
                    )

            self.checks.append(known_type)

            def has_type(item: dict[str, Value], names: Names, values: Values) -> bool:
                value = first(item, names, values)
                return value is not None and type_of(value) == values[placeholder]["S"]

            return has_type
        if name == "begins_with":
            for node in arguments:
                self.require_operand_type(node, name, ("S", "B"))
            return lambda item, names, values: _begins_with(
                first(item, names, values), second(item, names, values)
            )
        return lambda item, names, values: _contains(first(item, names, values), second(item, names, values))

    def require_operand_type(self, node: Any, function: str, kinds: tuple[str, ...]) -> None:
        if node[0] != "value":
            return
        placeholder, prefix = node[1], self.prefix

        def check(values: Values) -> None:
            kind = type_of(values[placeholder])
            if kind not in kinds:
                raise ExpressionError(prefix + OPERAND_TYPE.format(function, kind))

        self.checks.append(check)


def _show(value: Value) -> str:
    kind = type_of(value)
    return "{" + f"{kind}:{value[kind]}" + "}"


def _require(
    prefix: str, wanted: frozenset[str], given: dict[str, Any], undefined: Callable[[str, str], NoReturn]
) -> None:
    if not given.keys() >= wanted:
        undefined(prefix, min(wanted - given.keys()))


class Condition:
    """A ConditionExpression or FilterExpression, compiled."""

    def __init__(
        self, test: Test, names: frozenset[str], values: frozenset[str], checks: list[Check], prefix: str
    ):
        self.names, self.values = names, values
        self._test, self._checks, self._prefix = test, tuple(checks), prefix

    def check(self, names: Names, values: Values) -> None:
        """What DynamoDB refuses before it reads any item (so also when a Query or Scan reads none):
        a placeholder the request does not define, a `:value` of a type the operator refuses."""
        if self.names:
            _require(self._prefix, self.names, names, _undefined_name)
        if self.values:
            _require(self._prefix, self.values, values, _undefined_value)
        for check in self._checks:
            check(values)

    def evaluate(self, item: dict[str, Value] | None, names: Names, values: Values) -> bool:
        """Whether the item (None: there is none) satisfies the condition (checking first, as
        `check` does). Raises ExpressionError."""
        self.check(names, values)
        return self.holds(item, names, values)

    def holds(self, item: dict[str, Value] | None, names: Names, values: Values) -> bool:
        """`evaluate` without the checks, for a caller that made them once for the request (`check`):
        the engine, before a filter meets each item of a page."""
        return self._test(_EMPTY if item is None else item, names, values)


@lru_cache(maxsize=4096)
def condition(text: str, what: str = "ConditionExpression") -> Condition:
    """A ConditionExpression (what="FilterExpression" for a filter: only the messages differ)."""
    parser = _Parser(text, what)
    tree = parser.condition()
    parser.end()
    compiler = _ConditionCompiler(parser.prefix)
    test = compiler.test(tree)
    return Condition(
        test, frozenset(compiler.names), frozenset(compiler.values), compiler.checks, parser.prefix
    )


# ---------------------------------------------------------------------------------------- updates

_REMOVE = object()
Compute = Callable[[dict[str, Value], Names, Values], Value]


class _Action:
    __slots__ = ("clause", "resolve", "compute", "placeholder")

    def __init__(
        self, clause: str, resolve: Callable[[Names], Path], compute: Compute | None, placeholder: str
    ):
        self.clause, self.resolve, self.compute, self.placeholder = clause, resolve, compute, placeholder


class _UpdateParser(_Parser):
    def update(self) -> list[tuple[str, Any, Any]]:
        actions: list[tuple[str, Any, Any]] = []
        seen: set[str] = set()
        if self.token.kind == "eof":
            self.syntax_error()
        while self.token.kind != "eof":
            clause = self.token.text.upper() if self.token.kind == "ident" else ""
            if clause not in _CLAUSES:
                self.syntax_error()
            if clause in seen:
                self.fail(f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            self.at += 1
            while True:
                actions.append(self.action(clause))
                if not self.op(","):
                    break
                self.at += 1
        return actions

    def action(self, clause: str) -> tuple[str, Any, Any]:
        self.operator()
        target = self.path()
        if clause == "REMOVE":
            return (clause, target, None)
        if clause == "SET":
            self.expect_op("=")
            return (clause, target, self.set_value())
        if self.token.kind != "value":
            self.syntax_error()
        placeholder = self.token.text
        self.at += 1
        return (clause, target, ("value", placeholder))

    def set_value(self) -> Any:
        left = self.operand(_UPDATE_FUNCTIONS)
        self.check_update_call(left)
        if self.op("+") or self.op("-"):
            operator = self.token.text
            self.at += 1
            self.operator()
            right = self.operand(_UPDATE_FUNCTIONS)
            self.check_update_call(right)
            return ("arithmetic", operator, left, right)
        return left

    def check_update_call(self, node: Any, inside: str = "") -> None:
        if node[0] != "call":
            return
        if node[1] == "list_append" and inside == "list_append":
            # DynamoDB refuses list_append (list_append (...), ...), though it takes if_not_exists in it.
            self.fail(NOT_ALLOWED.format("list_append"))
        if node[1] == "if_not_exists" and node[2][0][0] != "path":
            self.fail("Operator or function requires a document path; operator or function: if_not_exists")
        for argument in node[2]:
            self.check_update_call(argument, node[1])


class _UpdateCompiler:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.names: set[str] = set()
        self.values: set[str] = set()
        self.checks: list[Check] = []

    def path(self, node: Any) -> Callable[[Names], Path]:
        self.names.update(step[1] for step in node[1] if not isinstance(step, int) and step[0] == "#")
        return _resolver(node[1], self.prefix)

    def operand(self, node: Any) -> Compute:
        kind = node[0]
        if kind == "value":
            placeholder = node[1]
            self.values.add(placeholder)
            return lambda item, names, values: values[placeholder]
        if kind == "path":
            self.names.update(step[1] for step in node[1] if not isinstance(step, int) and step[0] == "#")
            read = _getter(node[1], self.prefix)

            def existing(item: dict[str, Value], names: Names, values: Values) -> Value:
                value = read(item, names)
                if value is None:
                    raise ExpressionError(MISSING_ATTRIBUTE)
                return value

            return existing
        if kind == "arithmetic":
            left, right = self.operand(node[2]), self.operand(node[3])
            operator, subtract = node[1], node[1] == "-"
            wrong_left = self.wrong_type(node[2], operator)
            wrong_right = self.wrong_type(node[3], operator)

            def calculate(item: dict[str, Value], names: Names, values: Values) -> Value:
                a, b = left(item, names, values), right(item, names, values)
                if "N" not in a:
                    wrong_left(a)
                if "N" not in b:
                    wrong_right(b)
                try:
                    return {"N": arithmetic(a["N"], b["N"], subtract)}
                except InvalidValue as error:
                    raise ExpressionError(error.message) from None

            return calculate
        name, arguments = node[1], node[2]
        if name == "if_not_exists":
            self.names.update(
                step[1] for step in arguments[0][1] if not isinstance(step, int) and step[0] == "#"
            )
            read = _getter(arguments[0][1], self.prefix)
            fallback = self.operand(arguments[1])

            def if_not_exists(item: dict[str, Value], names: Names, values: Values) -> Value:
                value = read(item, names)
                return fallback(item, names, values) if value is None else value

            return if_not_exists
        first, second = self.operand(arguments[0]), self.operand(arguments[1])
        wrong_first = self.wrong_type(arguments[0], "list_append")
        wrong_second = self.wrong_type(arguments[1], "list_append")

        def list_append(item: dict[str, Value], names: Names, values: Values) -> Value:
            a, b = first(item, names, values), second(item, names, values)
            if "L" not in a:
                wrong_first(a)
            if "L" not in b:
                wrong_second(b)
            return {"L": a["L"] + b["L"]}

        return list_append

    def wrong_type(self, node: Any, operator: str) -> Callable[[Value], NoReturn]:
        """The error for an operand of the wrong type: a `:value` is the request's mistake, named with
        its type (and refused before the item is read); a value read from the item is "an operand
        ... has an incorrect data type"."""
        prefix = self.prefix
        if node[0] == "value":
            placeholder, wanted = node[1], "L" if operator == "list_append" else "N"

            def check(values: Values) -> None:
                if wanted not in values[placeholder]:
                    raise ExpressionError(
                        prefix + OPERAND_TYPE.format(operator, type_of(values[placeholder]))
                    )

            self.checks.append(check)

        def from_request(value: Value) -> NoReturn:
            raise ExpressionError(prefix + OPERAND_TYPE.format(operator, type_of(value)))

        def from_item(value: Value) -> NoReturn:
            raise ExpressionError(WRONG_TYPE)

        return from_request if node[0] == "value" else from_item


class Update:
    """An UpdateExpression, compiled."""

    def __init__(
        self,
        actions: list[_Action],
        names: frozenset[str],
        values: frozenset[str],
        prefix: str,
        checks: list[Check] | None = None,
    ):
        self.names, self.values = names, values
        self._actions, self._prefix, self._checks = actions, prefix, tuple(checks or ())

    def paths(self, names: Names) -> list[Path]:
        if self.names:
            _require(self._prefix, self.names, names, _undefined_name)
        return [action.resolve(names) for action in self._actions]

    def attributes(self, names: Names) -> set[str]:
        """The top-level attributes the update sets or removes (the engine refuses key changes)."""
        return {str(path[0]) for path in self.paths(names)}

    def updated(self, item: dict[str, Value], names: Names) -> dict[str, Value]:
        """What of the item lies at the paths the update names (ReturnValues UPDATED_OLD of the old
        item, UPDATED_NEW of the new): a nested action's fragment, not its whole attribute."""
        tree: dict[Step, Any] = {}
        for path in self.paths(names):
            node = tree
            for step in path:
                node = node.setdefault(step, {})
        out: dict[str, Value] = {}
        for name, below in tree.items():
            value = item.get(name)  # type: ignore[arg-type]
            picked = None if value is None else _pick(value, below)
            if picked is not None:
                out[str(name)] = picked
        return out

    def check(self, names: Names, values: Values) -> None:
        """What DynamoDB refuses whatever the item holds: undefined placeholders, overlapping or
        conflicting paths, an ADD of neither a number nor a set, a DELETE of no set. `apply` checks
        the same; this lets the engine refuse a request before it looks at the item."""
        if self.values:
            _require(self._prefix, self.values, values, _undefined_value)
        self._refuse_overlaps(self.paths(names))
        for check in self._checks:
            check(values)
        for action in self._actions:
            if action.clause in ("ADD", "DELETE"):
                self._operand_type(action.clause, values[action.placeholder])

    def _operand_type(self, clause: str, given: Value) -> str:
        kind = type_of(given)
        if kind not in SET_TYPES and (clause == "DELETE" or kind != "N"):
            raise ExpressionError(
                f"{self._prefix}Incorrect operand type for operator or function; operator: {clause}, "
                f"operand type: {TYPE_NAMES.get(kind, kind)}"
            )
        return kind

    def apply(self, item: dict[str, Value] | None, names: Names, values: Values) -> dict[str, Value]:
        """The item after the update, as a new dict (the input is left untouched); numbers canonical.
        Raises ExpressionError (DynamoDB's ValidationException) and changes nothing on any error."""
        old = _EMPTY if item is None else item
        if self.names:
            _require(self._prefix, self.names, names, _undefined_name)
        if self.values:
            _require(self._prefix, self.values, values, _undefined_value)
        for check in self._checks:
            check(values)
        new = dict(old)
        nested: list[tuple[Path, Any]] = []
        removals: list[Path] = []
        seen: dict[Step, list[Path]] = {}
        # Every operand is read from the item as it was (`old`); only top-level writes go straight
        # into `new`, which no operand reads.
        for action in self._actions:
            path = action.resolve(names)
            first = path[0]
            others = seen.get(first)
            if others is None:
                seen[first] = [path]
            else:
                for other in others:
                    self._compare_paths(other, path)
                others.append(path)
            clause = action.clause
            if clause == "SET":
                assert action.compute is not None
                value: Any = canonical_value(action.compute(old, names, values))
            elif clause == "REMOVE":
                removals.append(path)
                continue
            else:
                given = values[action.placeholder]
                value = self._add(path, old, given) if clause == "ADD" else self._delete(path, old, given)
                if value is None:
                    continue
            if len(path) == 1:
                if value is _REMOVE:
                    new.pop(first, None)  # type: ignore[arg-type]
                else:
                    new[first] = value  # type: ignore[index]
            else:
                nested.append((path, value))
        fresh: set[int] = set()
        # Elements set past a list's end are appended in the order of their indexes (DynamoDB's
        # documentation: "the elements are sorted in order by element number").
        nested.sort(key=lambda write: write[0][-1] if isinstance(write[0][-1], int) else -1)
        for path, value in nested:
            _write(new, path, value, fresh)
        if item is None:
            # DynamoDB ignores REMOVE of any path, even one whose parent is missing, when there is no item.
            return new
        # A list's elements go highest index first, so each index still names the element it named.
        removals.sort(key=lambda path: -path[-1] if isinstance(path[-1], int) else 0)
        for path in removals:
            _write(new, path, _REMOVE, fresh)
        return new

    def _add(self, path: Path, item: dict[str, Value], given: Value) -> Value:
        kind = self._operand_type("ADD", given)
        current = get(item, path)
        if current is None:
            return canonical_value(given)
        if kind not in current:
            raise ExpressionError(WRONG_TYPE)
        if kind == "N":
            try:
                return {"N": arithmetic(current["N"], given["N"])}
            except InvalidValue as error:
                raise ExpressionError(error.message) from None
        added = canonical_value(given)[kind]
        elements = list(current[kind])
        for element in added:
            if not any(equal({SET_TYPES[kind]: element}, {SET_TYPES[kind]: had}) for had in elements):
                elements.append(element)
        return {kind: elements}

    def _delete(self, path: Path, item: dict[str, Value], given: Value) -> Any:
        kind = self._operand_type("DELETE", given)
        current = get(item, path)
        if current is None:
            if item and len(path) > 1 and not _parent_exists(item, path):
                raise ExpressionError(INVALID_PATH)
            return None
        if kind not in current:
            raise ExpressionError(WRONG_TYPE)
        element_kind = SET_TYPES[kind]
        removed = given[kind]
        kept = [
            element
            for element in current[kind]
            if not any(equal({element_kind: element}, {element_kind: gone}) for gone in removed)
        ]
        # A set emptied by DELETE is no attribute at all (a set may not be empty).
        return {kind: kept} if kept else _REMOVE

    def _refuse_overlaps(self, paths: list[Path]) -> None:
        by_attribute: dict[Step, list[Path]] = {}
        for path in paths:
            others = by_attribute.setdefault(path[0], [])
            for other in others:
                self._compare_paths(other, path)
            others.append(path)

    def _compare_paths(self, one: Path, two: Path) -> None:
        for a, b in zip(one, two, strict=False):
            if a == b and type(a) is type(b):
                continue
            if isinstance(a, int) != isinstance(b, int):
                raise ExpressionError(self._prefix + PATHS_CONFLICT.format(describe(one), describe(two)))
            return
        raise ExpressionError(self._prefix + PATHS_OVERLAP.format(describe(one), describe(two)))


def _parent_exists(item: dict[str, Value], path: Path) -> bool:
    parent = get(item, path[:-1])
    return parent is not None and ("L" if isinstance(path[-1], int) else "M") in parent


def _write(root: dict[str, Value], path: Path, value: Any, fresh: set[int]) -> None:
    """Sets (or, with _REMOVE, removes) the value at a path of `root`, copying each container on the
    way the first time it is written, so the item the update started from is never changed. The
    parent of a nested path must exist with the right type (a map for `.name`, a list for `[n]`)."""
    holder: Any = root
    key: Step = path[0]
    for step in path[1:]:
        child = holder.get(key) if isinstance(key, str) else (holder[key] if key < len(holder) else None)
        wanted = "L" if isinstance(step, int) else "M"
        inner = None if child is None else child.get(wanted)
        if inner is None:
            raise ExpressionError(INVALID_PATH)
        if id(inner) not in fresh:
            inner = list(inner) if wanted == "L" else dict(inner)
            fresh.add(id(inner))
            holder[key] = {wanted: inner}
        holder, key = inner, step
    if value is _REMOVE:
        if isinstance(key, int):
            if key < len(holder):
                del holder[key]
        else:
            holder.pop(key, None)
    elif isinstance(key, int) and key >= len(holder):
        holder.append(value)
    else:
        holder[key] = value


@lru_cache(maxsize=4096)
def update(text: str) -> Update:
    """An UpdateExpression."""
    parser = _UpdateParser(text, "UpdateExpression")
    parsed = parser.update()
    compiler = _UpdateCompiler(parser.prefix)
    actions: list[_Action] = []
    for clause, target, source in parsed:
        resolve = compiler.path(target)
        if clause == "SET":
            actions.append(_Action(clause, resolve, compiler.operand(source), ""))
        elif clause == "REMOVE":
            actions.append(_Action(clause, resolve, None, ""))
        else:
            compiler.values.add(source[1])
            actions.append(_Action(clause, resolve, None, source[1]))
    return Update(
        actions, frozenset(compiler.names), frozenset(compiler.values), parser.prefix, compiler.checks
    )


# ------------------------------------------------------------------------------------- projection


class Projection:
    """A ProjectionExpression, compiled: the item with only the named paths, lists compacted to the
    projected elements in their order (as DynamoDB returns them)."""

    def __init__(self, resolvers: list[Callable[[Names], Path]], names: frozenset[str], prefix: str):
        self.names = names
        self._resolvers, self._prefix = resolvers, prefix

    def check(self, names: Names) -> None:
        """What DynamoDB refuses before it reads any item: undefined names, overlapping or
        conflicting paths (`apply` checks the same, for each item)."""
        self.tree(names)

    def tree(self, names: Names) -> dict[Step, Any]:
        """The projected paths, names substituted, as a tree of steps."""
        if self.names:
            _require(self._prefix, self.names, names, _undefined_name)
        root: dict[Step, Any] = {}
        paths: list[Path] = [resolve(names) for resolve in self._resolvers]
        checker = Update([], frozenset(), frozenset(), self._prefix)
        checker._refuse_overlaps(paths)
        for path in paths:
            node = root
            for step in path:
                node = node.setdefault(step, {})
        return root

    def apply(self, item: dict[str, Value], names: Names) -> dict[str, Value]:
        out: dict[str, Value] = {}
        for name, below in self.tree(names).items():
            value = item.get(name)  # type: ignore[arg-type]
            if value is None:
                continue
            picked = _pick(value, below)
            if picked is not None:
                out[str(name)] = picked
        return out


def _pick(value: Value, tree: dict[Step, Any]) -> Value | None:
    if not tree:
        return canonical_value(value)
    steps = list(tree)
    if isinstance(steps[0], int):
        elements = value.get("L")
        if elements is None:
            return None
        chosen = []
        for index in sorted(step for step in steps if isinstance(step, int)):
            if index < len(elements):
                picked = _pick(elements[index], tree[index])
                if picked is not None:
                    chosen.append(picked)
        return {"L": chosen} if chosen else None
    members = value.get("M")
    if members is None:
        return None
    kept: dict[str, Value] = {}
    for step in steps:
        if step in members:
            picked = _pick(members[step], tree[step])  # type: ignore[index]
            if picked is not None:
                kept[str(step)] = picked
    return {"M": kept} if kept else None


@lru_cache(maxsize=4096)
def projection(text: str) -> Projection:
    """A ProjectionExpression."""
    parser = _Parser(text, "ProjectionExpression")
    resolvers: list[Callable[[Names], Path]] = []
    names: set[str] = set()
    while True:
        node = parser.path()
        names.update(step[1] for step in node[1] if not isinstance(step, int) and step[0] == "#")
        resolvers.append(_resolver(node[1], parser.prefix))
        if not parser.op(","):
            break
        parser.at += 1
    parser.end()
    return Projection(resolvers, frozenset(names), parser.prefix)


# -------------------------------------------------------------------------------- key conditions

SortCondition = tuple[str, str, Value, Value | None]
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


class KeyCondition:
    """A KeyConditionExpression: an equality on the partition key, and at most one condition on the
    sort key (=, <, <=, >, >=, BETWEEN, begins_with), joined by AND."""

    def __init__(
        self,
        parts: list[tuple[Any, str, list[str]]],
        names: frozenset[str],
        values: frozenset[str],
        prefix: str,
    ):
        self.names, self.values = names, values
        self._parts, self._prefix = parts, prefix

    def resolve(
        self, names: Names, values: Values, partition: str | None = None
    ) -> tuple[str, Value, SortCondition | None]:
        """(partition attribute, its value, None or (sort attribute, op, value, second value|None)).
        `partition` (the table's or index's partition key) says which attribute is which when both
        conditions are equalities; without it the first equality is the partition key's."""
        if self.names:
            _require(self._prefix, self.names, names, _undefined_name)
        if self.values:
            _require(self._prefix, self.values, values, _undefined_value)
        conditions = []
        for resolve, operator, placeholders in self._parts:
            attribute = str(resolve(names)[0])
            operands = [values[placeholder] for placeholder in placeholders]
            conditions.append((attribute, operator, operands))
        if len({condition[0] for condition in conditions}) != len(conditions):
            raise ExpressionError(
                f"{self._prefix}KeyConditionExpressions must only contain one condition per key"
            )
        if len(conditions) > 2:
            raise ExpressionError(
                f"{self._prefix}KeyConditionExpressions must only contain one condition per key "
                f"(a partition key and a sort key: {len(conditions)} conditions given)"
            )
        if partition is not None:
            hash_part = next((c for c in conditions if c[0] == partition), None)
            if hash_part is None:
                raise ExpressionError(f"Query condition missed key schema element: {partition}")
        else:
            hash_part = next((c for c in conditions if c[1] == "="), conditions[0])
        if hash_part[1] != "=":
            raise ExpressionError(f"{self._prefix}Query key condition not supported")
        rest = [c for c in conditions if c is not hash_part]
        sort: SortCondition | None = None
        if rest:
            attribute, operator, operands = rest[0]
            if operator == "begins_with":
                kind = type_of(operands[0])
                if kind not in ("S", "B"):
                    raise ExpressionError(self._prefix + OPERAND_TYPE.format("begins_with", kind))
            elif operator == "BETWEEN":
                pair = _ordered(operands[0], operands[1])
                if pair is not None and pair[0] > pair[1]:
                    raise ExpressionError(self._prefix + BETWEEN_ORDER.format(*map(_show, operands)))
            sort = (attribute, operator, operands[0], operands[1] if len(operands) > 1 else None)
        return hash_part[0], hash_part[2][0], sort


@lru_cache(maxsize=4096)
def key_condition(text: str) -> KeyCondition:
    """A KeyConditionExpression."""
    parser = _Parser(text, "KeyConditionExpression")
    tree = parser.condition()
    parser.end()
    parts: list[Any] = []
    names: set[str] = set()
    values: set[str] = set()

    def collect(node: Any) -> None:
        kind = node[0]
        if kind == "paren":
            collect(node[1])
            return
        if kind == "and":
            collect(node[1])
            collect(node[2])
            return
        if kind in ("or", "not"):
            parser.fail(f"Invalid operator used in KeyConditionExpression: {kind.upper()}")
        if kind == "in":
            parser.fail("Invalid operator used in KeyConditionExpression: IN")
        if kind == "compare":
            operator, subject, operands = node[1], node[2], [node[3]]
            if operator == "<>":
                parser.fail("Invalid operator used in KeyConditionExpression: <>")
            if subject[0] == "value" and operands[0][0] == "path":
                # `:v < sk` is `sk > :v`: the key may stand on either side.
                subject, operands, operator = operands[0], [subject], _FLIPPED.get(operator, operator)
        elif kind == "between":
            operator, subject, operands = "BETWEEN", node[1], [node[2], node[3]]
        else:
            if node[1] != "begins_with":
                parser.fail(f"Invalid operator used in KeyConditionExpression: {node[1]}")
            operator, subject, operands = "begins_with", node[2][0], [node[2][1]]
        if subject[0] != "path" or any(operand[0] != "value" for operand in operands):
            parser.fail("Invalid condition in KeyConditionExpression: the key is compared with a value")
        if len(subject[1]) != 1 or isinstance(subject[1][0], int):
            parser.fail("KeyConditionExpressions cannot have conditions on nested attributes")
        step = subject[1][0]
        if step[0] == "#":
            names.add(step[1])
        placeholders = [operand[1] for operand in operands]
        values.update(placeholders)
        parts.append((_resolver(subject[1], parser.prefix), operator, placeholders))

    collect(tree)
    return KeyCondition(parts, frozenset(names), frozenset(values), parser.prefix)


# ------------------------------------------------------------------------------ reserved words
# DynamoDB's reserved words (Developer Guide, "Reserved words in DynamoDB"): none of them may be
# a plain attribute name in an expression; the list is not case-sensitive.
_RESERVED_TEXT = """
ABORT ABSOLUTE ACTION ADD AFTER AGENT AGGREGATE ALL ALLOCATE ALTER ANALYZE AND ANY ARCHIVE ARE 
ARRAY AS ASC ASCII ASENSITIVE ASSERTION ASYMMETRIC AT ATOMIC ATTACH ATTRIBUTE AUTH AUTHORIZATION 
AUTHORIZE AUTO AVG BACK BACKUP BASE BATCH BEFORE BEGIN BETWEEN BIGINT BINARY BIT BLOB BLOCK BOOLEAN 
BOTH BREADTH BUCKET BULK BY BYTE CALL CALLED CALLING CAPACITY CASCADE CASCADED CASE CAST CATALOG 
CHAR CHARACTER CHECK CLASS CLOB CLOSE CLUSTER CLUSTERED CLUSTERING CLUSTERS COALESCE COLLATE 
COLLATION COLLECTION COLUMN COLUMNS COMBINE COMMENT COMMIT COMPACT COMPILE COMPRESS CONDITION 
CONFLICT CONNECT CONNECTION CONSISTENCY CONSISTENT CONSTRAINT CONSTRAINTS CONSTRUCTOR CONSUMED 
CONTINUE CONVERT COPY CORRESPONDING COUNT COUNTER CREATE CROSS CUBE CURRENT CURSOR CYCLE DATA 
DATABASE DATE DATETIME DAY DEALLOCATE DEC DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DEFINE 
DEFINED DEFINITION DELETE DELIMITED DEPTH DEREF DESC DESCRIBE DESCRIPTOR DETACH DETERMINISTIC 
DIAGNOSTICS DIRECTORIES DISABLE DISCONNECT DISTINCT DISTRIBUTE DO DOMAIN DOUBLE DROP DUMP DURATION 
DYNAMIC EACH ELEMENT ELSE ELSEIF EMPTY ENABLE END EQUAL EQUALS ERROR ESCAPE ESCAPED EVAL EVALUATE 
EXCEEDED EXCEPT EXCEPTION EXCEPTIONS EXCLUSIVE EXEC EXECUTE EXISTS EXIT EXPLAIN EXPLODE EXPORT 
EXPRESSION EXTENDED EXTERNAL EXTRACT FAIL FALSE FAMILY FETCH FIELDS FILE FILTER FILTERING FINAL 
FINISH FIRST FIXED FLATTERN FLOAT FOR FORCE FOREIGN FORMAT FORWARD FOUND FREE FROM FULL FUNCTION 
FUNCTIONS GENERAL GENERATE GET GLOB GLOBAL GO GOTO GRANT GREATER GROUP GROUPING HANDLER HASH HAVE 
HAVING HEAP HIDDEN HOLD HOUR IDENTIFIED IDENTITY IF IGNORE IMMEDIATE IMPORT IN INCLUDING INCLUSIVE 
INCREMENT INCREMENTAL INDEX INDEXED INDEXES INDICATOR INFINITE INITIALLY INLINE INNER INNTER INOUT 
INPUT INSENSITIVE INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO INVALIDATE IS ISOLATION ITEM 
ITEMS ITERATE JOIN KEY KEYS LAG LANGUAGE LARGE LAST LATERAL LEAD LEADING LEAVE LEFT LENGTH LESS 
LEVEL LIKE LIMIT LIMITED LINES LIST LOAD LOCAL LOCALTIME LOCALTIMESTAMP LOCATION LOCATOR LOCK LOCKS 
LOG LOGED LONG LOOP LOWER MAP MATCH MATERIALIZED MAX MAXLEN MEMBER MERGE METHOD METRICS MIN MINUS 
MINUTE MISSING MOD MODE MODIFIES MODIFY MODULE MONTH MULTI MULTISET NAME NAMES NATIONAL NATURAL 
NCHAR NCLOB NEW NEXT NO NONE NOT NULL NULLIF NUMBER NUMERIC OBJECT OF OFFLINE OFFSET OLD ON ONLINE 
ONLY OPAQUE OPEN OPERATOR OPTION OR ORDER ORDINALITY OTHER OTHERS OUT OUTER OUTPUT OVER OVERLAPS 
OVERRIDE OWNER PAD PARALLEL PARAMETER PARAMETERS PARTIAL PARTITION PARTITIONED PARTITIONS PATH 
PERCENT PERCENTILE PERMISSION PERMISSIONS PIPE PIPELINED PLAN POOL POSITION PRECISION PREPARE 
PRESERVE PRIMARY PRIOR PRIVATE PRIVILEGES PROCEDURE PROCESSED PROJECT PROJECTION PROPERTY 
PROVISIONING PUBLIC PUT QUERY QUIT QUORUM RAISE RANDOM RANGE RANK RAW READ READS REAL REBUILD 
RECORD RECURSIVE REDUCE REF REFERENCE REFERENCES REFERENCING REGEXP REGION REINDEX RELATIVE RELEASE 
REMAINDER RENAME REPEAT REPLACE REQUEST RESET RESIGNAL RESOURCE RESPONSE RESTORE RESTRICT RESULT 
RETURN RETURNING RETURNS REVERSE REVOKE RIGHT ROLE ROLES ROLLBACK ROLLUP ROUTINE ROW ROWS RULE 
RULES SAMPLE SATISFIES SAVE SAVEPOINT SCAN SCHEMA SCOPE SCROLL SEARCH SECOND SECTION SEGMENT 
SEGMENTS SELECT SELF SEMI SENSITIVE SEPARATE SEQUENCE SERIALIZABLE SESSION SET SETS SHARD SHARE 
SHARED SHORT SHOW SIGNAL SIMILAR SIZE SKEWED SMALLINT SNAPSHOT SOME SOURCE SPACE SPACES SPARSE 
SPECIFIC SPECIFICTYPE SPLIT SQL SQLCODE SQLERROR SQLEXCEPTION SQLSTATE SQLWARNING START STATE 
STATIC STATUS STORAGE STORE STORED STREAM STRING STRUCT STYLE SUB SUBMULTISET SUBPARTITION 
SUBSTRING SUBTYPE SUM SUPER SYMMETRIC SYNONYM SYSTEM TABLE TABLESAMPLE TEMP TEMPORARY TERMINATED 
TEXT THAN THEN THROUGHPUT TIME TIMESTAMP TIMEZONE TINYINT TO TOKEN TOTAL TOUCH TRAILING TRANSACTION 
TRANSFORM TRANSLATE TRANSLATION TREAT TRIGGER TRIM TRUE TRUNCATE TTL TUPLE TYPE UNDER UNDO UNION 
UNIQUE UNIT UNKNOWN UNLOGGED UNNEST UNPROCESSED UNSIGNED UNTIL UPDATE UPPER URL USAGE USE USER 
USERS USING UUID VACUUM VALUE VALUED VALUES VARCHAR VARIABLE VARIANCE VARINT VARYING VIEW VIEWS 
VIRTUAL VOID WAIT WHEN WHENEVER WHERE WHILE WINDOW WITH WITHIN WITHOUT WORK WRAPPED WRITE YEAR ZONE
"""
RESERVED_WORDS = frozenset(_RESERVED_TEXT.split())
