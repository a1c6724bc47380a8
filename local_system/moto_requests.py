"""Takes the repeated and unused work out of moto's per-request layer (what it does around a
service's answer: reading the request, writing the answer), without changing one answer.

Profiled in the local system (issue 14), each call the functions make costs moto, besides the
service's own work:

- a walk of the request's JSON over the operation's input model (`JSONParser`): for each node a
  method looked up by name, for each structure every member of the model tried (an attribute value
  has ten; a scoring transaction of sixteen updates tries thousands). The result depends only on
  the JSON and the model, so each shape's walk is built once (kept on the shape, which moto keeps
  for the process) and visits only what the request holds: the same members in the model's order,
  the same conversions (blobs decoded, timestamps, integers and floats; nulls and unknown members
  dropped; documents as sent);
- the same for a JSON answer of plain dicts (`JSONSerializer`): each member is found under the
  spellings moto's own picker tries, listed once per member (for a dict they depend on the member
  and its shape alone), converted as moto converts it; the body is then made by moto;
- the request object built by werkzeug's test `EnvironBuilder`: built here from moto's own build
  of the first request of the same method, URL and header names, with the request's own header
  values, length and body (the only parts of the environ that differ), and the host and root URL
  werkzeug derived for it;
- the response's request id, 52 characters each drawn by `Random.choice` (three Python calls a
  character): drawn here with the same `getrandbits` calls in the same order, so a seeded moto
  gives the same ids, and every id drawn after; checked against moto's at install time;
- a regular expression run over every answer's body to put the request id inside `<RequestId>`
  (XML answers): a body without that text is left as it is (the expression cannot match there).

Whatever a shortcut does not expect (another parser, picker or configuration, a model object, a
timestamp, a value of the wrong type, a `Host` header) goes to moto's own code, which answers or
fails as it does. `moto_overhead.moto_own_work()` turns these off too: the tests compare both ways."""

from __future__ import annotations

import base64
import enum
import functools
from collections.abc import Callable
from typing import Any

from local_system import moto_overhead

_JSON_BODY = "_local_json_body"  # a shape's compiled walk, kept on the shape


_UNRESOLVED = object()


class _Unexpected(Exception):
    """Something moto's own walk decides (it raises, or answers otherwise)."""


def _shortcuts() -> bool:
    return moto_overhead._shortcuts


# --- the request's JSON over the input model ---------------------------------------------------
def _compiled(shape: Any, handlers: dict[str, Callable[[Any], Any] | None]) -> Callable[[Any], Any] | None:
    """The walk of `shape` as moto's `JSONParser` makes it, as a function of the JSON value (None:
    the value is kept as it is). Built once per shape object; members are built when first
    reached (a recursive shape, as an attribute value's map of attribute values, is a new shape
    object at each depth in botocore's model)."""
    found = shape.__dict__.get(_JSON_BODY)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    kind = shape.type_name
    walk: Callable[[Any], Any] | None
    if kind == "structure":
        walk = _structure(shape, handlers)
    elif kind == "list":
        walk = _list(shape, handlers)
    elif kind == "map":
        walk = _map(shape, handlers)
    elif kind in handlers:
        walk = handlers[kind]
    else:
        raise _Unexpected(kind)
    shape.__dict__[_JSON_BODY] = (walk,)
    return walk


def _structure(shape: Any, handlers: dict[str, Any]) -> Callable[[Any], Any]:
    if shape.is_document_type:
        return lambda value: value
    members = [
        (name, member.serialization.get("name", name), member) for name, member in shape.members.items()
    ]
    by_json = {json_name: (name, member) for name, json_name, member in members}
    unique = len(by_json) == len(members)
    resolved: dict[str, Any] = {}  # each member's walk, once it is first needed

    def structure(value: Any) -> Any:
        if value is None:
            return None
        if type(value) is not dict:
            raise _Unexpected(type(value))
        parsed = {}
        if unique and len(value) == 1:  # an attribute value: one member of ten
            for json_name, raw in value.items():
                member = by_json.get(json_name)
                if member is not None and raw is not None:
                    walk = resolved.get(member[0], _UNRESOLVED)
                    if walk is _UNRESOLVED:
                        walk = resolved[member[0]] = _compiled(member[1], handlers)
                    parsed[member[0]] = raw if walk is None else walk(raw)
            return parsed
        for name, json_name, member_shape in members:  # the model's order, as moto's
            raw = value.get(json_name)
            if raw is not None:
                walk = resolved.get(name, _UNRESOLVED)
                if walk is _UNRESOLVED:
                    walk = resolved[name] = _compiled(member_shape, handlers)
                parsed[name] = raw if walk is None else walk(raw)
        return parsed

    return structure


def _list(shape: Any, handlers: dict[str, Any]) -> Callable[[Any], Any]:
    member_shape = shape.member

    def items(node: Any) -> Any:
        walk = _compiled(member_shape, handlers)
        if walk is None:
            return [item for item in node]  # noqa: C416 (moto's iteration: any iterable, a new list)
        return [walk(item) for item in node]

    return items


def _map(shape: Any, handlers: dict[str, Any]) -> Callable[[Any], Any]:
    key_shape, value_shape = shape.key, shape.value

    def entries(value: Any) -> Any:
        walk_key = _compiled(key_shape, handlers)
        walk_value = _compiled(value_shape, handlers)
        parsed = {}
        for key, raw in value.items():
            parsed[key if walk_key is None else walk_key(key)] = (
                raw if walk_value is None else walk_value(raw)
            )
        return parsed

    return entries


def _json_handlers() -> dict[str, Callable[[Any], Any] | None] | None:
    """How moto's `JSONParser` converts each scalar type, by the handler it looks up by name
    (`_parse_<type>`, else kept as it is); None when a handler is not one known here."""
    from moto.core import parse

    walks = (
        (parse.JSONParser._parse_structure, parse.BaseJSONParser._parse_structure),
        (parse.JSONParser._parse_list, parse.RequestParser._parse_list),
        (parse.JSONParser._parse_map, parse.RequestParser._parse_map),
        (parse.JSONParser._parse_shape, parse.RequestParser._parse_shape),
        (parse.JSONParser._default_handle, parse.RequestParser._default_handle),
    )
    if any(found is not expected for found, expected in walks):
        return None  # moto walks otherwise than read here
    known: dict[Any, Callable[[Any], Any] | None] = {
        parse.BaseJSONParser._parse_blob: lambda value: parse.default_blob_parser(value),
        parse.BaseJSONParser._parse_timestamp: lambda value: parse.default_timestamp_parser(value),
        parse.BaseJSONParser._parse_float: float,
        parse.BaseJSONParser._parse_integer: int,
    }
    handlers: dict[str, Callable[[Any], Any] | None] = {}
    for kind in (
        "string",
        "boolean",
        "blob",
        "timestamp",
        "float",
        "double",
        "integer",
        "long",
        "short",
        "byte",
    ):
        handler = getattr(parse.JSONParser, f"_parse_{kind}", None)
        if handler is None:
            handlers[kind] = None  # `_default_handle`: the value as sent
        elif handler in known:
            handlers[kind] = known[handler]
        else:
            return None
    return handlers


def _parse_json_body(method: Callable[..., Any]) -> Callable[..., Any]:
    from moto.core import parse

    handlers = _json_handlers()

    @functools.wraps(method)
    def _parse_json_body(parser: Any, raw_body: Any, shape: Any) -> Any:
        if (
            handlers is None
            or not _shortcuts()
            or type(parser) is not parse.JSONParser
            or parser.MAP_TYPE is not dict
            or parser._blob_parser is not parse.default_blob_parser
            or parser._timestamp_parser is not parse.default_timestamp_parser
        ):
            return method(parser, raw_body, shape)
        parsed_json = parser._parse_body_as_json(raw_body)
        try:
            walk = _compiled(shape, handlers)
            return parsed_json if walk is None else walk(parsed_json)
        except Exception:  # noqa: BLE001 (moto's own walk answers, or fails, as it does)
            return parser._parse_shape(shape, parsed_json)

    return _parse_json_body


# --- the answer's JSON over the output model ---------------------------------------------------
_JSON_ANSWER = "_local_json_answer"  # a shape's compiled serializer, kept on the shape
_EMPTY_VALUES = [None, {}, []]  # what moto's string serializer keeps as it is


def _named(shape: Any) -> Callable[[str], str]:
    """`get_serialized_name`: the shape's serialization name, else the key it is put under."""
    if "name" in shape.serialization:
        name = shape.serialization["name"]
        return lambda _: name  # type: ignore[no-any-return]
    return lambda key: key


def _answer_walk(shape: Any, spellings: Callable[[str, Any], tuple[str, ...] | None]) -> Callable[..., None]:
    """`put(target, key, value)`: what moto's `JSONSerializer._serialize(target, value, shape, key)`
    puts into `target` for a value made of plain dicts (a model object, a timestamp, a dotted
    spelling or a type not known here raises `_Unexpected`: moto serializes the answer itself)."""
    found = shape.__dict__.get(_JSON_ANSWER)
    if found is not None:
        return found[0]  # type: ignore[no-any-return]
    kind = shape.type_name
    name = _named(shape)
    put: Callable[..., None]
    if kind == "structure" and shape.is_document_type:

        def put(target: Any, key: str, value: Any) -> None:
            target[key] = value

    elif kind == "structure":
        members = []
        for member_key, member_shape in shape.members.items():
            member_shape.parent = shape  # what moto sets before it picks each member
            keys = spellings(member_key, member_shape)
            if keys is None:
                raise _Unexpected(member_key)  # a path: moto's way
            members.append((member_key, keys, member_shape))
        puts: dict[str, Any] = {}  # each member's walk, once it is first needed

        def put(target: Any, key: str, value: Any) -> None:
            if value is None:
                return
            if type(value) is not dict:
                raise _Unexpected(type(value))  # picked by attribute: moto's way
            wrapper = {} if key else target
            for member_key, keys, member_shape in members:
                for spelling in keys:  # the first spelling the dict holds, as moto's picker
                    if spelling in value:
                        member_value = value[spelling]
                        break
                else:
                    continue
                if member_value is not None:
                    put_member = puts.get(member_key)
                    if put_member is None:
                        put_member = puts[member_key] = _answer_walk(member_shape, spellings)
                    put_member(wrapper, member_key, member_value)
            if key:
                target[name(key)] = wrapper

    elif kind == "list":
        member_shape = shape.member
        item_key = member_shape.name

        def put(target: Any, key: str, value: Any) -> None:
            put_item = _answer_walk(member_shape, spellings)
            items = []
            for item in value:
                wrapper: dict[str, Any] = {}
                put_item(wrapper, item_key, item)
                items.append(wrapper.get(item_key, item))
            target[name(key)] = items

    elif kind == "map":
        value_shape = shape.value

        def put(target: Any, key: str, value: Any) -> None:
            put_value = _answer_walk(value_shape, spellings)
            entries: dict[str, Any] = {}
            target[name(key)] = entries
            for sub_key, sub_value in value.items():
                put_value(entries, sub_key, sub_value)

    else:
        convert = _ANSWER_SCALARS.get(kind, _Unexpected)
        if convert is _Unexpected:
            raise _Unexpected(kind)

        def put(target: Any, key: str, value: Any) -> None:
            target[name(key)] = value if convert is None else convert(value)

    shape.__dict__[_JSON_ANSWER] = (put,)
    return put


def _answer_string(value: Any) -> Any:
    if type(value) is str:
        return value  # str() of a str is itself, and no str equals None, {} or []
    if isinstance(value, enum.Enum):
        value = value.value
    return str(value) if value not in _EMPTY_VALUES else value


def _answer_blob(value: Any) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return base64.b64encode(value).strip().decode("utf-8")


_ANSWER_SCALARS: dict[str, Any] = {
    "string": _answer_string,
    "blob": _answer_blob,
    "integer": int,
    "long": int,
    "float": float,
    "double": float,
    "boolean": None,  # `_default_serialize`: as it is
}


def _serialize_result(method: Callable[..., Any]) -> Callable[..., Any]:
    """moto's JSON answers (`JSONSerializer`) of plain dicts serialized by the compiled walk above,
    with moto's own picker's spellings of each member (listed once per member: for a plain dict
    they depend on the member and its shape alone) and moto's conversions; the body is then made
    by moto (`_serialized_result_to_response`). Anything else is moto's serialization."""
    from moto.core import serialize
    from moto.core.serialize import AttributePickerContext, XFormedAttributePicker

    own = {
        "_serialize": serialize.ResponseSerializer._serialize,
        "_default_serialize": serialize.ResponseSerializer._default_serialize,
        "get_serialized_name": serialize.ResponseSerializer.get_serialized_name,
        "_serialize_type_structure": serialize.BaseJSONSerializer._serialize_type_structure,
        "_serialize_type_map": serialize.BaseJSONSerializer._serialize_type_map,
        "_serialize_type_list": serialize.BaseJSONSerializer._serialize_type_list,
        "_serialize_type_string": serialize.BaseJSONSerializer._serialize_type_string,
        "_serialize_type_blob": serialize.ResponseSerializer._serialize_type_blob,
        "_serialize_type_integer": serialize.ResponseSerializer._serialize_type_integer,
        "_serialize_type_long": serialize.ResponseSerializer._serialize_type_integer,
        "_serialize_type_float": serialize.ResponseSerializer._serialize_type_float,
        "_serialize_type_double": serialize.ResponseSerializer._serialize_type_float,
        "_serialize_type_boolean": None,
        "_base64": serialize.ResponseSerializer._base64,
    }
    walks_as_read_here = all(
        getattr(serialize.JSONSerializer, attribute, None) is expected for attribute, expected in own.items()
    )
    picker = XFormedAttributePicker()

    def spellings(key: str, shape: Any) -> tuple[str, ...] | None:
        found = tuple(picker.get_possible_keys(AttributePickerContext(obj={}, key=key, shape=shape)))
        return None if any("." in spelling for spelling in found) else found

    def plain(value_picker: Any) -> bool:
        return (
            type(value_picker) is XFormedAttributePicker
            and value_picker.alias_providers is serialize.DEFAULT_ALIAS_PROVIDERS
            and not value_picker.response_transformers
        )

    @functools.wraps(method)
    def _serialize_result(serializer: Any, resp: Any, result: Any) -> Any:
        shape = serializer.operation_model.output_shape
        if (
            not walks_as_read_here
            or not _shortcuts()
            or type(serializer) is not serialize.JSONSerializer
            or type(result) is not dict
            or shape is None
            or shape.is_document_type
            or serializer.MAP_TYPE is not dict
            or not plain(serializer._value_picker)
        ):
            return method(serializer, resp, result)
        serialized: dict[str, Any] = {}
        try:
            _answer_walk(shape, spellings)(serialized, "", result)
        except Exception:  # noqa: BLE001 (moto serializes it, or fails, as it does)
            return method(serializer, resp, result)
        return serializer._serialized_result_to_response(resp, result, shape, serialized)

    return _serialize_result


# --- the request object ------------------------------------------------------------------------
_TEMPLATES_KEPT = 256
_NO_TEMPLATE = object()


def _from_primitives(build: Callable[..., Any]) -> Callable[..., Any]:
    """moto's request built from the serialized call (as `moto_direct` hands it over) without
    werkzeug's test `EnvironBuilder` (an object, a header set, a stream probe and a dozen properties
    per request). The WSGI environ of a request depends on its method, URL and header names (all
    its keys and their order, and every value but the headers', the body's length and its stream),
    so moto's own build of the first request of each kind is kept as a template, and the next ones
    are that environ with their own header values, length and body. Headers werkzeug would join,
    a `Host` header, values it would refuse or convert, and anything but a non-empty bytes body (an
    empty one has no length in werkzeug's environ) go moto's way."""
    import io
    import sys

    from moto.core.request import PRESERVED_HEADER_NAMES_ENVIRON_KEY, environ_key_for_header

    templates: dict[tuple[Any, ...], Any] = {}

    def template(request: Any, names: tuple[str, ...]) -> Any:
        # moto drops a transfer encoding; werkzeug takes the host from the URL and the length from
        # the body (a length header is read, and refused if it must be, but not used)
        kept = [name for name in names if name.lower() != "transfer-encoding"]
        if any(name.lower() == "host" for name in kept):
            return _NO_TEMPLATE
        keys = [
            (name, None if name.lower() == "content-length" else environ_key_for_header(name))
            for name in kept
        ]
        used = [key for _, key in keys if key is not None]
        if len(set(used)) != len(used) or any(key not in request.environ for key in used):
            return _NO_TEMPLATE  # joined by werkzeug, or not where it is looked for
        environ = dict(request.environ)
        preserved = environ.pop(PRESERVED_HEADER_NAMES_ENVIRON_KEY)
        # the host and root URL werkzeug derives (once per request) from the scheme, the URL's host
        # and the script root, which every request of the template shares, and its trusted hosts
        derived = {"host": request.host, "root_url": request.root_url}
        return environ, tuple(keys), dict(preserved), type(request).trusted_hosts, derived

    @functools.wraps(build)
    def from_primitives(cls: Any, method: str, url: str, headers: Any, body: Any = None) -> Any:
        if not _shortcuts() or type(body) is not bytes or not body or type(headers) is not dict:
            return build(cls, method, url, headers, body)
        key = (cls, method, url, tuple(headers))
        found = templates.get(key)
        if found is None:
            request = build(cls, method, url, headers, body)
            if len(templates) >= _TEMPLATES_KEPT:
                templates.clear()
            try:
                templates[key] = template(request, key[3])
            except Exception:  # noqa: BLE001 (a request not shaped as read here: moto builds its kind)
                templates[key] = _NO_TEMPLATE
            return request
        if found is _NO_TEMPLATE:
            return build(cls, method, url, headers, body)
        base, keys, preserved, trusted_hosts, derived = found
        environ = dict(base)
        for name, environ_key in keys:
            value = headers[name]
            if type(value) is bytes:
                try:
                    value = value.decode("utf-8")
                except UnicodeDecodeError:
                    return build(cls, method, url, headers, body)  # which refuses it
            if type(value) is not str or "\n" in value or "\r" in value:
                return build(cls, method, url, headers, body)  # werkzeug converts or refuses it
            if environ_key is not None:
                environ[environ_key] = value
        environ["CONTENT_LENGTH"] = str(len(body))
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.errors"] = sys.stderr  # werkzeug's, as it is at this request
        request = cls(environ)
        request.environ[PRESERVED_HEADER_NAMES_ENVIRON_KEY] = dict(preserved)
        if cls.trusted_hosts is trusted_hosts:
            request.__dict__.update(derived)  # werkzeug's cached properties, as it would cache them
        return request

    return from_primitives


# --- the response's request id -------------------------------------------------------------------
def _random_string(method: Callable[..., str]) -> Callable[..., str]:
    """`get_random_string` with `choice`'s draws made inline: `Random.choice(pool)` is
    `pool[_randbelow(len(pool))]`, and `_randbelow` draws `getrandbits(n.bit_length())` until it
    is below n. Same calls, same order, same characters."""
    import string

    def get_random_string(
        rng: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False
    ) -> str:
        if not _shortcuts():
            return method(rng, length, include_digits, lower_case)
        pool = string.ascii_letters + string.digits if include_digits else string.ascii_letters
        size = len(pool)
        bits = size.bit_length()
        getrandbits = rng.getrandbits
        drawn = []
        for _ in range(length):
            r = getrandbits(bits)
            while r >= size:
                r = getrandbits(bits)
            drawn.append(pool[r])
        text = "".join(drawn)
        return text.lower() if lower_case else text

    return functools.wraps(method)(get_random_string)


def _draws_as_moto_does(method: Callable[..., str], fast: Callable[..., str]) -> bool:
    """Whether the inline draws give moto's characters here (this Python's `Random`)."""
    import random

    from moto.moto_api._internal.moto_random import MotoRandom

    if MotoRandom._randbelow is not random.Random._randbelow_with_getrandbits:  # type: ignore[attr-defined]
        return False
    ours, theirs = MotoRandom(20260), MotoRandom(20260)
    for length, digits, lower in ((52, True, False), (20, False, True), (7, True, True)):
        if [fast(ours, length, digits, lower) for _ in range(50)] != [
            method(theirs, length, digits, lower) for _ in range(50)
        ]:
            return False
    return ours.getstate() == theirs.getstate()


def _enrich_response(method: Callable[..., Any]) -> Callable[..., Any]:
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    def _enrich_response(headers: dict[str, Any], body: Any) -> tuple[dict[str, Any], Any]:
        if not _shortcuts() or type(body) is not str or "<RequestId>" in body:
            return method(headers, body)  # type: ignore[no-any-return]
        if "status" in headers:
            headers["status"] = str(headers["status"])
        gen_amzn_requestid_long(headers)  # the id, drawn as moto draws it (its header)
        return headers, body  # moto's substitution finds nothing to replace in it

    return staticmethod(functools.wraps(method)(_enrich_response))  # type: ignore[return-value]


def make_moto_requests_cheaper() -> None:
    """Patches moto's request layer (once per process); called by `moto_overhead.make_moto_cheaper`."""
    from moto.core.parse import JSONParser
    from moto.core.request import Request
    from moto.core.responses import BaseResponse
    from moto.core.serialize import ResponseSerializer
    from moto.moto_api._internal.moto_random import MotoRandom

    if getattr(JSONParser._parse_json_body, "__moto_requests__", False):
        return
    ResponseSerializer._serialize_result = _serialize_result(ResponseSerializer._serialize_result)  # type: ignore[method-assign]
    Request.from_primitives = classmethod(_from_primitives(Request.from_primitives.__func__))  # type: ignore[method-assign,assignment]
    JSONParser._parse_json_body = _parse_json_body(JSONParser._parse_json_body)  # type: ignore[method-assign]
    JSONParser._parse_json_body.__moto_requests__ = True  # type: ignore[attr-defined]
    BaseResponse._enrich_response = _enrich_response(BaseResponse.__dict__["_enrich_response"].__func__)  # type: ignore[method-assign]
    own = MotoRandom.get_random_string
    fast = _random_string(own)
    if _draws_as_moto_does(own, fast):
        MotoRandom.get_random_string = fast  # type: ignore[method-assign]
