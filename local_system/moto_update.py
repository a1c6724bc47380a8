"""A fast path for moto's `UpdateItem` over the few shapes of update expression the functions send.

moto runs every update through `UpdateExpressionValidator` (a copy of the parsed tree and about ten
walks of it; twice for an item that does not exist yet) and then `UpdateExpressionExecutor`: about a
quarter of the local system's CPU, a scoring transaction holding some sixteen updates. The updates
pynamodb sends are few and regular: top-level names (placeholders) set to a value or to
`if_not_exists` of themselves, a number or a set added, names removed. For those, what the walks
find depends on the expression's text, the names and the table alone, so it is worked out once per
(text, names) as a plan: the actions in the order moto's executor takes them (moto's own
`normalize()` orders them), each with its attribute name and value placeholder.

A call then does what moto's `DynamoDBBackend.update_item` does, line for line (the table, the key,
the `Expected` and condition checks, `ReturnValuesOnConditionCheckFailure`, creating a missing item
by putting its keys, the stream), with the plan in place of the validator and the executor, using
moto's own primitives for the values (`DynamoType`, its `+`, sets grown in place in moto's order,
attributes set through the item's size-checked dict, in the same order, so the same size check
refuses at the same point).

Whatever moto would refuse or treat otherwise goes to moto's own method, whole and before anything
changed: an expression outside the subset (nested paths, functions other than `if_not_exists`,
arithmetic, DELETE, plain names, a clause twice, a name twice, a key attribute, a name placeholder
that is not defined), or, for the call's own values and item, a value placeholder not defined, a
value moto cannot read, an ADD of anything but a number or a non-empty set, an ADD onto an
attribute of another type, a sum moto cannot compute. `moto_own_work()` (moto_overhead) turns the
fast path off.

It replaces moto's method body, so it is installed first (`make_moto_dynamodb_atomic`): the key
order, the streamless copy, the lock and every other wrapper still run around it."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from local_system import moto_overhead

_PLANS_KEPT = 4096
_SET, _ADD, _REMOVE = "set", "add", "remove"
_INSTALLED = "__moto_update_fast__"


class _MotoSOwn(Exception):
    """Not a shape the fast path takes: moto's own path answers."""


class _Plan:
    """An update expression's actions, in moto's order of execution: (kind, attribute name, value
    placeholder, whether the value is `if_not_exists` of the attribute itself)."""

    __slots__ = ("actions", "names", "placeholders")

    def __init__(self, actions: tuple[tuple[str, str, str | None, bool], ...], placeholders: frozenset[str]):
        self.actions = actions
        self.names = frozenset(name for _, name, _, _ in actions)
        self.placeholders = placeholders  # the targets' name placeholders, as moto's key checks read them


_plans: dict[tuple[Any, ...], _Plan | None] = {}
_plans_lock = threading.Lock()


def _compile(expression: str, names: dict[str, Any]) -> _Plan | None:
    """The plan of an expression under these names, or None: moto's own path. The tree is moto's
    parse (which raises for a syntax error, as moto's update does)."""
    from moto.dynamodb.parsing import ast_nodes, expressions

    ast: Any = ast_nodes  # moto's parser modules are untyped
    parser: Any = expressions.UpdateExpressionParser  # type: ignore[attr-defined]

    tree = parser.make(expression)
    if not isinstance(tree, ast.UpdateExpression):
        return None
    for clause in (
        ast.UpdateExpressionAddClause,
        ast.UpdateExpressionRemoveClause,
        ast.UpdateExpressionSetClause,
    ):
        if len(tree.find_clauses([clause])) > 1:
            return None  # moto's ActionCountValidator refuses it
    # The kept tree is shared. normalize() reads the tree and assigns its root's children (a new list):
    # a shallow copy of the root takes that assignment, and nothing else is copied.
    ordered = copy.copy(tree)
    ordered.normalize()
    if tree.children is ordered.children:
        return None  # never so in moto 5.2.5: it assigns a new list

    def name_of(path: Any) -> tuple[str, str] | None:
        if type(path) is not ast.UpdateExpressionPath or len(path.children) != 1:
            return None
        node = path.children[0]
        if type(node) is not ast.ExpressionAttributeName:
            return None
        placeholder = node.get_attribute_name_placeholder()
        name = names.get(placeholder)
        return (placeholder, name) if type(placeholder) is str and type(name) is str else None

    def value_of(node: Any) -> str | None:
        if type(node) is not ast.ExpressionAttributeValue:
            return None
        placeholder = node.get_value_name()
        return placeholder if type(placeholder) is str else None

    actions: list[tuple[str, str, str | None, bool]] = []
    placeholders: set[str] = set()
    for action in ordered.children or ():
        kind = type(action)
        children = action.children or []
        target = name_of(children[0]) if children else None
        if target is None:
            return None
        placeholder, name = target
        placeholders.add(placeholder)
        if kind is ast.UpdateExpressionRemoveAction and len(children) == 1:
            actions.append((_REMOVE, name, None, False))
        elif kind is ast.UpdateExpressionAddAction and len(children) == 2:
            value = value_of(children[1])
            if value is None:
                return None
            actions.append((_ADD, name, value, False))
        elif kind is ast.UpdateExpressionSetAction and len(children) == 2:
            operand = children[1]
            if type(operand) is not ast.UpdateExpressionValue or len(operand.children or []) != 1:
                return None
            inner = operand.children[0]
            value = value_of(inner)
            if value is not None:
                actions.append((_SET, name, value, False))
                continue
            if type(inner) is not ast.UpdateExpressionFunction or len(inner.children or []) != 3:
                return None
            function, path, default = inner.children
            own = name_of(path)
            value = value_of(default)
            if function != "if_not_exists" or own is None or own[1] != name or value is None:
                return None
            actions.append((_SET, name, value, True))
        else:
            return None
    targets = [name for _, name, _, _ in actions]
    if not targets or len(set(targets)) != len(targets):
        return None  # moto's OverlappingPathsValidator refuses a name twice
    return _Plan(tuple(actions), frozenset(placeholders))


def _plan_for(expression: str, names: dict[str, Any]) -> _Plan | None:
    key = (expression, tuple(names.items()))
    try:
        return _plans[key]
    except KeyError:
        pass
    plan = _compile(expression, names)  # a syntax error raises here, every time
    with _plans_lock:
        if len(_plans) >= _PLANS_KEPT:
            _plans.clear()
        _plans[key] = plan
    return plan


def _table_allows(plan: _Plan, table: Any) -> bool:
    """moto's checks that read the table: no key attribute updated (UpdateHashRangeKeyValidator);
    its type and empty-value checks compare a SET's name placeholder itself with the table's
    attribute names: never equal for our names, but if one is, moto's path decides."""
    if not plan.names.isdisjoint(table.table_key_attrs):
        return False
    if any(definition.get("AttributeName") in plan.placeholders for definition in table.attr):
        return False
    return plan.placeholders.isdisjoint(table.attribute_keys)


def _prepare(plan: _Plan, attrs: Any, values: dict[str, Any]) -> list[tuple[str, str, Any, Any]] | None:
    """Each action's operands, from the item's attributes as they are and the call's values, with no
    change to anything; None where moto would refuse the call or treat it otherwise. No action
    reads an attribute another one writes (no name twice), so reading them all first is reading
    each where moto's executor does."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    prepared: list[tuple[str, str, Any, Any]] = []
    for kind, name, placeholder, if_not_exists in plan.actions:
        if kind is _REMOVE:
            prepared.append((_REMOVE, name, None, None))
            continue
        if placeholder not in values:
            return None  # moto: ExpressionAttributeValueNotDefined
        value = DynamoType(values[placeholder])  # as moto's value processor reads it, once per use
        current = attrs.get(name)
        if kind is _SET:
            prepared.append((_SET, name, current if if_not_exists and current is not None else value, None))
        elif value.is_set():
            if not value.value or (current is not None and current.type != value.type):
                return None  # an empty set, or a set added to another type: moto refuses
            prepared.append((_ADD, name, value, current))
        elif value.type == "N":
            if current is not None and current.type != "N":
                return None  # a number added to another type: moto refuses
            total = (current if current is not None else DynamoType({"N": "0"})) + value
            prepared.append((_SET, name, total, None))
        else:
            return None  # an ADD of another type: moto refuses
    return prepared


def _execute(prepared: list[tuple[str, str, Any, Any]], attrs: Any) -> None:
    """moto's executors' changes, in their order, through the item's own (size-checked) dict."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    for kind, name, value, current in prepared:
        if kind is _SET:
            attrs[name] = value
        elif kind is _REMOVE:
            attrs.pop(name, None)
        else:  # a set added: created empty when absent, then grown in place, in moto's order
            if current is None:
                current = DynamoType({value.type: []})
                attrs[name] = current
            members = current.value
            for member in value.value:
                if member not in members:
                    members.append(member)


def _fast_update_item(original: Callable[..., Any]) -> Callable[..., Any]:
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.exceptions import ConditionalCheckFailed, ItemSizeTooLarge, ItemSizeToUpdateTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType

    def update_item(
        self: Any,
        table_name: str,
        key: dict[str, dict[str, Any]],
        update_expression: str,
        expression_attribute_names: dict[str, Any],
        expression_attribute_values: dict[str, Any],
        attribute_updates: dict[str, Any] | None = None,
        expected: dict[str, Any] | None = None,
        condition_expression: str | None = None,
        return_values_on_condition_check_failure: str | None = None,
    ) -> Any:
        def moto_s_own() -> Any:
            return original(
                self,
                table_name,
                key,
                update_expression,
                expression_attribute_names,
                expression_attribute_values,
                attribute_updates,
                expected,
                condition_expression,
                return_values_on_condition_check_failure,
            )

        if (
            not moto_overhead._shortcuts
            or not update_expression
            or attribute_updates
            or type(update_expression) is not str
            or type(expression_attribute_names) is not dict
            or type(expression_attribute_values) is not dict
        ):
            return moto_s_own()
        prepared = None
        try:
            # Nothing here changes anything: whatever raises is raised again by moto's own path, below.
            table = self.get_table(table_name)
            plan = _plan_for(update_expression, expression_attribute_names)
            if plan is None or not _table_allows(plan, table):
                raise _MotoSOwn
            # the key, as moto's update_item reads it
            if all([table.hash_key_attr in key, table.range_key_attr in key]):
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = DynamoType(key[table.range_key_attr])  # type: ignore[index]
            elif table.hash_key_attr in key:
                hash_value = DynamoType(key[table.hash_key_attr])
                range_value = None
            else:
                hash_value = DynamoType(key)
                range_value = None
            item = table.get_item(hash_value, range_value)
            prepared = _prepare(plan, item.attrs if item is not None else {}, expression_attribute_values)
        except Exception:  # noqa: BLE001 (moto's own path raises it, or answers)
            prepared = None
        if prepared is None:
            return moto_s_own()  # outside the try: what it raises is its answer

        # From here on, moto's update_item line for line, the plan in place of its validator and executor.
        orig_item = backend_module.copy.deepcopy(item) if table.stream_shard is not None else None  # type: ignore[attr-defined]
        if not expected:
            expected = {}
        if not backend_module.get_expected(expected).expr(item):
            raise ConditionalCheckFailed
        condition_op = backend_module.create_condition_expression_parser(
            condition_expression, expression_attribute_names, expression_attribute_values
        ).parse()
        if not condition_op.expr(item):
            if return_values_on_condition_check_failure == "ALL_OLD" and item is not None:
                raise ConditionalCheckFailed(item=item.to_json()["Attributes"])
            raise ConditionalCheckFailed
        if item is None:  # an update does not fail on a new item: moto puts its keys first
            data: dict[str, Any] = {table.hash_key_attr: {hash_value.type: hash_value.value}}
            if range_value:
                data.update({table.range_key_attr: {range_value.type: range_value.value}})
            table.put_item(data)
            item = table.get_item(hash_value, range_value)
        try:
            _execute(prepared, item.attrs)
        except ItemSizeTooLarge:
            raise ItemSizeToUpdateTooLarge() from None
        if table.stream_shard is not None:
            table.stream_shard.add(orig_item, item)
        return item

    update_item.__name__ = original.__name__
    update_item.__qualname__ = original.__qualname__
    update_item.__doc__ = original.__doc__
    update_item.__wrapped__ = original  # type: ignore[attr-defined]
    return update_item


def make_moto_updates_fast() -> None:
    """Puts the fast path in place of moto's `update_item` (once per process). Call it before any
    other patch wraps `update_item`: it must sit innermost."""
    from moto.dynamodb.models import DynamoDBBackend

    method = DynamoDBBackend.update_item
    if getattr(method, _INSTALLED, False):
        return
    if hasattr(method, "__wrapped__"):
        raise RuntimeError("make_moto_updates_fast() must run before any other patch of update_item")
    fast = _fast_update_item(method)
    setattr(fast, _INSTALLED, True)
    DynamoDBBackend.update_item = fast  # type: ignore[method-assign]
