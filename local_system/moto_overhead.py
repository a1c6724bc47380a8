"""Takes the repeated work out of moto's hot paths, without changing one answer.

Profiling the local system (issue 14) showed most of its time in moto itself, not in our code: each
`UpdateItem` (a scoring transaction holds about ten) tokenizes and parses its expression again,
deep-copies the parsed tree, walks it ten times (three of the walks check only the expression's
shape, the same every time), and deep-copies the item for a stream the table does not have; and
each SQS receive recomputes every attribute of the queue, walking all its messages, once per
message it returns. Here:

- a parsed update expression is kept per expression text (moto only reads it, or copies it first),
  and the validator's copy of it is made from a pickle of the tree, not by `copy.deepcopy`;
- the three checks of an expression's shape (action counts, overlapping paths, key attributes
  updated) are skipped for an expression, names and table that passed them before: they depend on
  nothing else, change nothing, and a failing one still runs (and fails) every time;
- a tree walker's table of node types is built once per walker, not once per node;
- the item is not copied for a stream when the table has no stream;
- the retention check of a received message reads the queue's retention period, and a message
  sent to a standard queue skips the queue's attributes (it only asks whether content-based
  deduplication is on, which only a FIFO queue has), instead of computing all of them, counts of
  messages included, by walking every message in the queue;
- a response's member is taken from the dict that holds it by its own name when that name is
  there and no alias moto would try first is (moto tries up to six spellings of every member of
  every answer, attribute values included: a quarter of a `GetItem`'s time); the list of a
  response class's methods is listed once per class, not once per request.

`moto_own_work()` turns the shortcuts off meanwhile: the tests compare both ways."""

from __future__ import annotations

import collections
import contextlib
import copy
import functools
import json
import pickle
import threading
from collections.abc import Callable, Iterator
from typing import Any

_shortcuts = True
_EXPRESSIONS_KEPT = 4096
_local = threading.local()


@contextlib.contextmanager
def moto_own_work() -> Iterator[None]:
    """moto does all of its own work meanwhile (what the tests compare with)."""
    global _shortcuts
    saved, _shortcuts = _shortcuts, False
    try:
        yield
    finally:
        _shortcuts = saved


# --- update expressions -------------------------------------------------------------------------
class _ParsedExpressions:
    """Parsed update expressions by text. A parsed tree is shared: moto's callers only read it
    (`find_clauses`) or give it to the validator, which works on a copy."""

    def __init__(self, make: Callable[[str], Any]) -> None:
        self.make = make
        self.trees: dict[str, Any] = {}
        self.lock = threading.Lock()

    def __call__(self, expression: str) -> Any:
        if not _shortcuts or not isinstance(expression, str):
            return self.make(expression)
        tree = self.trees.get(expression)
        if tree is None:
            tree = self.make(expression)  # a syntax error raises here, every time
            pickled = pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)
            tree.__dict__["_local_source"] = (expression, pickled)
            with self.lock:
                if len(self.trees) >= _EXPRESSIONS_KEPT:
                    self.trees.clear()
                self.trees[expression] = tree
        return tree


def _copy_tree(value: Any, memo: Any = None) -> Any:
    """The validator's copy of a tree: from the pickle taken at parse time when it is a kept tree."""
    source = getattr(value, "__dict__", {}).get("_local_source") if _shortcuts else None
    if source is not None and memo is None:
        return pickle.loads(source[1])  # noqa: S301 (our own pickle of moto's parse tree, in process)
    return copy.deepcopy(value, memo)


_STATIC_CHECKS = ("ActionCountValidator", "OverlappingPathsValidator", "UpdateHashRangeKeyValidator")
_passed: set[tuple[Any, ...]] = set()


def _validator_init(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def __init__(  # noqa: N807 (the method it stands for)
        validator: Any,
        expression: Any,
        expression_attribute_names: Any,
        expression_attribute_values: Any,
        item: Any,
        table: Any,
    ) -> None:
        method(validator, expression, expression_attribute_names, expression_attribute_values, item, table)
        source = getattr(expression, "__dict__", {}).get("_local_source")
        names = expression_attribute_names or {}
        validator.__dict__["_local_static_key"] = (
            (source[0], tuple(sorted(names.items())), tuple(table.table_key_attrs))
            if source is not None and all(isinstance(v, str) for v in names.values())
            else None
        )

    return __init__


def _validate(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def validate(validator: Any) -> Any:
        key = validator.__dict__.get("_local_static_key")
        if not _shortcuts or key is None:
            return method(validator)
        processors = validator.processors
        static = 0
        while static < len(processors) and type(processors[static]).__name__ in _STATIC_CHECKS:
            static += 1
        if key not in _passed:
            node = method(validator)  # every check, the shape's included (raises as moto does)
            _passed.add(key)
            return node
        node = validator.node_to_validate
        for processor in processors[static:]:  # the shape passed before: the others only
            node = processor.traverse(node)
        return node

    return validate


def _nodes_to_be_processed(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def nodes_to_be_processed(walker: Any) -> Any:
        if not _shortcuts:
            return method(walker)
        kinds = walker.__dict__.get("_local_kinds")
        if kinds is None:
            kinds = walker.__dict__["_local_kinds"] = tuple(walker._processing_map())
        return kinds

    return nodes_to_be_processed


def _process(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def process(walker: Any, node: Any) -> Any:
        if not _shortcuts:
            return method(walker, node)
        table = walker.__dict__.get("_local_map")
        if table is None:
            table = walker.__dict__["_local_map"] = tuple(walker._processing_map().items())
        for kind, processor in table:
            if isinstance(node, kind):
                return processor(node)
        return None

    return process


_IS_NODE: dict[type, bool] = {}
_PROCESSED: dict[tuple[type, ...], dict[type, bool]] = {}


def _traverse_node_recursively(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto's depth-first walk of an expression tree, each node's kind looked up once per class:
    moto asks `isinstance` of abstract classes (a slow check) two or three times per node per walk,
    some thirty nodes a walk, a dozen walks per update of a transaction. Same order, same hook calls,
    same replacements."""
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node

    default_hook = DepthFirstTraverser.pre_processing_of_child

    def walk(
        walker: Any, node: Any, child_id: int, kinds: Any, processed: dict[type, bool], hook: Any
    ) -> Any:
        kind = type(node)
        is_node = _IS_NODE.get(kind)
        if is_node is None:
            is_node = _IS_NODE[kind] = isinstance(node, Node)
        if not is_node:
            return node
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                if hook is not None:
                    hook(node, i)
                walk(walker, child_node, i, kinds, processed, hook)
        hit = processed.get(kind)
        if hit is None:
            hit = processed[kind] = isinstance(node, kinds)
        if hit:
            node = walker.process(node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
        return node

    @functools.wraps(method)
    def traverse_node_recursively(walker: Any, node: Any, child_id: int = -1) -> Any:
        if not _shortcuts:
            return method(walker, node, child_id)
        kinds = walker.nodes_to_be_processed()
        processed = _PROCESSED.setdefault(kinds, {})
        own_hook = type(walker).pre_processing_of_child is not default_hook
        hook = walker.pre_processing_of_child if own_hook else None
        return walk(walker, node, child_id, kinds, processed, hook)

    return traverse_node_recursively


def _resolving_hook(method: Callable[..., Any]) -> Callable[..., Any]:
    """The path resolver's hook before each child of each node (whether the child is an action's
    target or its value), with its `isinstance` of four abstract classes answered once per node
    class: the same flag set at the same children."""
    from moto.dynamodb.parsing import validators

    actions = (
        validators.UpdateExpressionSetAction,
        validators.UpdateExpressionRemoveAction,
        validators.UpdateExpressionDeleteAction,
        validators.UpdateExpressionAddAction,
    )
    is_action: dict[type, bool] = {}

    @functools.wraps(method)
    def pre_processing_of_child(processor: Any, parent_node: Any, child_id: int) -> None:
        if not _shortcuts:
            method(processor, parent_node, child_id)
            return
        kind = type(parent_node)
        hit = is_action.get(kind)
        if hit is None:
            hit = is_action[kind] = isinstance(parent_node, actions)
        if hit:
            processor.resolving = child_id != 0

    return pre_processing_of_child


_LEXED_KEPT = 4096


def _lex_condition_expression(method: Callable[..., Any]) -> Callable[..., Any]:
    """A condition expression's tokens, kept per expression text: moto lexes every condition of
    every write again (up to seven regular expressions tried per token, about sixteen conditions
    per scoring transaction, each checked twice). The tokens depend on the text alone; names and
    values are substituted after, from the call's own. Each call gets fresh token nodes (new empty
    child lists, a new deque), as lexing would give it; a text that does not lex raises every time."""
    kept: dict[str, tuple[Any, ...]] = {}
    lock = threading.Lock()

    @functools.wraps(method)
    def _lex(parser: Any) -> Any:
        text = parser.condition_expression
        if not _shortcuts or not isinstance(text, str):
            return method(parser)
        tokens = kept.get(text)
        if tokens is None:
            lexed = method(parser)  # raises for a text that does not lex, every time
            tokens = tuple((n.nonterminal, n.kind, n.text, n.value) for n in lexed)
            if any(n.children for n in lexed):  # never so today: keep nothing that lexing filled in
                return lexed
            with lock:
                if len(kept) >= _LEXED_KEPT:
                    kept.clear()
                kept[text] = tokens
            return lexed
        node = parser.Node
        return collections.deque(node(a, b, c, d, []) for a, b, c, d in tokens)

    return _lex


def _json_error_init(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto's JSON errors without the XML body they build first and replace at once: moto's
    DynamoDB raises and catches one (`ProvidedKeyDoesNotExist`) whenever `if_not_exists` meets a
    missing attribute, several per scoring transaction, and the XML rendering was most of its cost.
    The same attributes, the same JSON body."""
    from moto.core.exceptions import _RESTError

    @functools.wraps(method)
    def __init__(error: Any, error_type: str, message: str, _: str = "", **kwargs: Any) -> None:
        if not _shortcuts or kwargs:
            method(error, error_type, message, _, **kwargs)
            return
        super(_RESTError, error).__init__()  # what `_RESTError.__init__` calls first
        error.error_type = error_type
        error.message = message
        error.description = json.dumps({"__type": error_type, "message": message})
        error.content_type = "application/json"

    return __init__


class _CopyUnlessStreamless:
    """Stands in for `copy` in moto's DynamoDB backend module (over what stood there): an update
    copies the item it changes only for the table's stream; without a stream the copy is skipped."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.dynamo_type import Item

        if _shortcuts and getattr(_local, "streamless_update", False) and isinstance(value, Item):
            return value
        return self.inner.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


_ITEM_SIZE_LIMIT = 405000  # moto's (dynamo_type.LimitedSizeDict): AWS's 400 KB, as moto measured it


def _limited_size_setitem(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto checks an item's size before every attribute it sets, by measuring the whole item
    again in Python (each member of each set through a new `DynamoType`): an identifier's link item
    with a few hundred members was measured member by member at each `ADD` to it. Here the same
    size is counted at C speed where that is exact: ASCII text is one byte a character (names,
    strings, string and number sets, joined and counted at once), bytes are their length; every
    other value is measured by moto's own `size()`. Anything else (text beyond ASCII, a value of
    another kind) and any size over the limit go to moto's own check, which refuses (or fails) as
    it does."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    def size(value: Any) -> int | None:
        if type(value) is not DynamoType:
            return None
        kind, inner = value.type, value.value
        if kind in ("SS", "NS") or kind == "S":
            text = "".join(inner) if kind != "S" else inner
            return len(text) if type(text) is str and text.isascii() else None
        if kind == "BS":
            return len(b"".join(inner))
        return int(value.size())

    @functools.wraps(method)
    def __setitem__(item: Any, key: str, value: Any) -> None:  # noqa: N807 (the method it stands for)
        if _shortcuts:
            try:
                names = "".join(item) + key
                sizes = [size(v) for v in item.values()]
                sizes.append(size(value))
                exact = names.isascii() and None not in sizes
                within = exact and len(names) + sum(sizes) <= _ITEM_SIZE_LIMIT  # type: ignore[arg-type]
            except Exception:  # noqa: BLE001 (anything unexpected: moto's own check decides)
                within = False
            if within:
                dict.__setitem__(item, key, value)
                return
        method(item, key, value)

    return __setitem__


def _update_item(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def update_item(backend: Any, table_name: str, *args: Any, **kwargs: Any) -> Any:
        table = backend.tables.get(table_name)
        previous = getattr(_local, "streamless_update", False)
        _local.streamless_update = table is not None and table.stream_shard is None
        try:
            return method(backend, table_name, *args, **kwargs)
        finally:
            _local.streamless_update = previous

    return update_item


# --- SQS ----------------------------------------------------------------------------------------
def _retention_check(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def is_message_valid_based_on_retention_period(backend: Any, queue_name: str, message: Any) -> bool:
        if not _shortcuts:
            return method(backend, queue_name, message)
        from moto.core.utils import unix_time

        retention_period = getattr(backend.get_queue(queue_name), "message_retention_period", None)
        if retention_period is None:
            return method(backend, queue_name, message)
        return not retention_period + message.sent_timestamp / 1000 <= unix_time()

    return is_message_valid_based_on_retention_period


def _send_message(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def send_message(backend: Any, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        queue = backend.get_queue(queue_name)
        standard = _shortcuts and not queue.fifo_queue and not queue.lambda_event_source_mappings
        previous = getattr(_local, "standard_send", None)
        _local.standard_send = queue if standard else None
        try:
            return method(backend, queue_name, *args, **kwargs)
        finally:
            _local.standard_send = previous

    return send_message


def _queue_attributes(attributes: property) -> property:
    def get(queue: Any) -> Any:
        if getattr(_local, "standard_send", None) is queue:
            return {}  # what send_message reads of it is a FIFO attribute: absent here as there
        return attributes.fget(queue)  # type: ignore[misc]

    return property(get)


def _get_queue_attributes(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto answers a request for some attributes by computing every attribute of the queue (its
    message counts walk every message, reading the clock per message) twice per name asked for and
    once more per name to check it: six walks of all three counts for the two counts a caller that
    waits for the queue to drain asks for. Here the attributes are computed once per request; the
    same names are checked, the same ones returned."""

    @functools.wraps(method)
    def get_queue_attributes(backend: Any, queue_name: str, attribute_names: list[str]) -> Any:
        if not _shortcuts or not attribute_names or "All" in attribute_names:
            return method(backend, queue_name, attribute_names)
        queue = backend.get_queue(queue_name)
        valid_names = ["All"] + queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
        if any(name not in valid_names for name in attribute_names):
            return method(backend, queue_name, attribute_names)  # moto's own refusal
        everything = queue.attributes
        return {
            name: everything[name]
            for name in attribute_names
            if name in everything and everything[name] is not None
        }

    return get_queue_attributes


# --- EventBridge ---------------------------------------------------------------------------------
def _jsonpath_parse(parse: Callable[..., Any]) -> Callable[..., Any]:
    """JSONPath expressions kept per text: moto's EventBridge builds a new parser (a lexer and its
    grammar tables) and parses each of eight paths again for every event it sends to a target. The
    parsed expression is only read to find its matches in each event (`find`), so it is shared;
    a text that does not parse raises every time."""
    kept: dict[str, Any] = {}
    lock = threading.Lock()

    @functools.wraps(parse)
    def cached_parse(path: Any, debug: Any = None) -> Any:
        if not _shortcuts or debug is not None or not isinstance(path, str):
            return parse(path, debug)
        found = kept.get(path)
        if found is None:
            found = parse(path)
            with lock:
                if len(kept) >= _EXPRESSIONS_KEPT:
                    kept.clear()
                kept[path] = found
        return found

    return cached_parse


# --- responses -----------------------------------------------------------------------------------
def _serializer_get_value(method: Callable[..., Any]) -> Callable[..., Any]:
    from botocore import xform_name
    from moto.core.serialize import DEFAULT_ALIAS_PROVIDERS, DefaultAttributePicker, XFormedAttributePicker

    def plain(picker: Any) -> bool:
        """moto's own pickers with its own aliases and no response transformers (those need the
        member's full path: moto's way)."""
        if type(picker) is DefaultAttributePicker:
            return True
        return (
            type(picker) is XFormedAttributePicker
            and picker.alias_providers is DEFAULT_ALIAS_PROVIDERS
            and not picker.response_transformers
        )

    @functools.wraps(method)
    def get_value(serializer: Any, value: Any, key: str, shape: Any) -> Any:
        # moto's picker tries, in order: an alias the object's Meta declares (a dict has none), the
        # shape's name for a list or structure member (and its snake_case form), then the key
        # itself (a dotted key is a path). The key is the answer when it is there and those
        # before it are not.
        if (
            _shortcuts
            and type(value) is dict
            and key in value
            and "." not in key
            and plain(serializer._value_picker)
            and not (
                shape is not None
                and shape.type_name in ("list", "structure")
                and (shape.name in value or xform_name(shape.name) in value)
            )
        ):
            return value[key]
        if _shortcuts and type(value) is dict and type(serializer._value_picker) is XFormedAttributePicker:
            picker = serializer._value_picker
            if plain(picker):
                # The same spellings in the same order, kept per member and shape: for a plain dict
                # they depend on nothing else (it has no `Meta` and its class is `dict`). The first
                # one the dict holds is the answer, else None; an attribute value's nine absent
                # members each cost moto all of its spellings.
                spellings = _spellings(picker, key, shape)
                if spellings is not None:
                    for spelling in spellings:
                        if spelling in value:
                            return value[spelling]
                    return None
        return method(serializer, value, key, shape)

    kept: dict[tuple[str, int, int], tuple[Any, Any, tuple[str, ...] | None]] = {}

    def _spellings(picker: Any, key: str, shape: Any) -> tuple[str, ...] | None:
        parent = getattr(shape, "parent", None)
        found = kept.get((key, id(shape), id(parent)))
        if found is not None and found[0] is shape and found[1] is parent:
            return found[2]
        from moto.core.serialize import AttributePickerContext

        context = AttributePickerContext(obj={}, key=key, shape=shape)
        spellings: tuple[str, ...] | None = tuple(picker.get_possible_keys(context))
        if spellings is not None and any("." in s for s in spellings):
            spellings = None  # a path: moto's way
        if len(kept) >= _EXPRESSIONS_KEPT:
            kept.clear()
        kept[(key, id(shape), id(parent))] = (shape, parent, spellings)
        return spellings

    return get_value


def _method_names(method: Callable[[Any], list[str]]) -> Callable[[Any], list[str]]:
    known: dict[Any, list[str]] = {}

    @functools.wraps(method)
    def method_names_from_class(clazz: Any) -> list[str]:
        if not _shortcuts:
            return method(clazz)
        names = known.get(clazz)
        if names is None:
            names = known[clazz] = method(clazz)  # a class's methods are named once, at import
        return list(names)

    return method_names_from_class


def make_moto_cheaper() -> None:
    """Patches moto (once per process)."""
    import jsonpath_ng.ext as jsonpath_ext
    import moto.core.responses as responses_module
    import moto.dynamodb.models as backend_module
    import moto.dynamodb.parsing.validators as validators
    from moto.core.exceptions import JsonRESTError
    from moto.core.serialize import ResponseSerializer
    from moto.dynamodb.comparisons import ConditionExpressionParser
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.sqs.models import Queue, SQSBackend

    from local_system.moto_requests import make_moto_requests_cheaper

    make_moto_requests_cheaper()  # moto's request layer (`moto_requests`; once, by itself)
    if getattr(DynamoDBBackend.update_item, "__moto_cheaper__", False):
        return
    parsed = _ParsedExpressions(UpdateExpressionParser.make)
    UpdateExpressionParser.make = staticmethod(parsed)  # type: ignore[method-assign,assignment]
    validators.deepcopy = _copy_tree  # type: ignore[attr-defined]
    for owner, name, patch in (
        (validators.UpdateExpressionValidator, "__init__", _validator_init),
        (validators.UpdateExpressionValidator, "validate", _validate),
        (DepthFirstTraverser, "nodes_to_be_processed", _nodes_to_be_processed),
        (DepthFirstTraverser, "process", _process),
        (DepthFirstTraverser, "traverse_node_recursively", _traverse_node_recursively),
        (validators.ExpressionAttributeResolvingProcessor, "pre_processing_of_child", _resolving_hook),
        (JsonRESTError, "__init__", _json_error_init),
        (ConditionExpressionParser, "_lex_condition_expression", _lex_condition_expression),
        (SQSBackend, "is_message_valid_based_on_retention_period", _retention_check),
        (SQSBackend, "send_message", _send_message),
        (SQSBackend, "get_queue_attributes", _get_queue_attributes),
        (DynamoDBBackend, "update_item", _update_item),
        (LimitedSizeDict, "__setitem__", _limited_size_setitem),
    ):
        setattr(owner, name, patch(getattr(owner, name)))
    Queue.attributes = _queue_attributes(Queue.attributes)  # type: ignore[method-assign]
    ResponseSerializer.get_value = _serializer_get_value(ResponseSerializer.get_value)  # type: ignore[method-assign]
    responses_module.method_names_from_class = _method_names(responses_module.method_names_from_class)
    backend_module.copy = _CopyUnlessStreamless(backend_module.copy)  # type: ignore[attr-defined]
    jsonpath_ext.parse = _jsonpath_parse(jsonpath_ext.parse)  # moto's EventBridge imports it per call
    DynamoDBBackend.update_item.__moto_cheaper__ = True  # type: ignore[attr-defined]
