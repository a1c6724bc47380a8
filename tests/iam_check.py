"""Every AWS call a function's handler makes in the tests is one its IAM role allows
(`infra/permissions.py`). moto enforces no IAM, and the infra tests compare the synthesized
policies with that map, never the map with the code: an action the code calls and the map forgot
passed every test and failed only in AWS (a verdict's condition check, the drawer's index).

While a handler runs (`local_system.lambda_runtime.invoke`, which the tests and the local system
call), each botocore call is turned into the IAM actions it needs, on what (the table, one of its
indexes, API-key items only, a queue, the bus, the pepper, the webhook key, the program secrets'
key), and checked against the function's `Access`; what is not allowed is kept and fails the test at
its end; so is each call of work the handler hands to its threads. Calls the test itself makes
(setting up, reading back) are not a function's and are not checked."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from functions.shared.sealing import PROGRAM_SECRET_PURPOSE, WEBHOOK_SECRET_CONTEXT
from infra import constants, permissions
from infra.permissions import Access

_HANDLERS = {spec.handler: spec.name for spec in constants.ALL_FUNCTIONS}
_running = threading.local()
violations: list[str] = []

_TRANSACTION_ACTIONS = {
    "Put": permissions.PUT_ITEM,
    "Update": permissions.UPDATE_ITEM,
    "Delete": permissions.DELETE_ITEM,
    "ConditionCheck": permissions.CONDITION_CHECK_ITEM,
}
_SINGLE_ITEM = {
    "GetItem": permissions.GET_ITEM,
    "PutItem": permissions.PUT_ITEM,
    "UpdateItem": permissions.UPDATE_ITEM,
    "DeleteItem": permissions.DELETE_ITEM,
}


def _partition(key: dict[str, Any] | None) -> str:
    value = (key or {}).get("pk") or {}
    return str(value.get("S", "")) if isinstance(value, dict) else ""


def dynamodb_needs(operation: str, params: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(action, resource, partition) for each item or index the call names: `resource` is `table`
    or `index/<name>`; `partition` tells API-key items (which `Access.api_keys` may reach)."""
    if operation in _SINGLE_ITEM:
        yield _SINGLE_ITEM[operation], "table", _partition(params.get("Key") or params.get("Item"))
    elif operation == "Query":
        index = params.get("IndexName")
        yield permissions.QUERY, f"index/{index}" if index else "table", ""
    elif operation == "BatchGetItem":
        for request in params.get("RequestItems", {}).values():
            for key in request.get("Keys", []):
                yield permissions.BATCH_GET_ITEM, "table", _partition(key)
    elif operation == "BatchWriteItem":
        for requests in params.get("RequestItems", {}).values():
            for request in requests:
                body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get(
                    "Key"
                )
                yield permissions.BATCH_WRITE_ITEM, "table", _partition(body)
    elif operation == "TransactWriteItems":
        for entry in params.get("TransactItems", []):
            kind, body = next(iter(entry.items()))
            yield _TRANSACTION_ACTIONS[kind], "table", _partition(body.get("Key") or body.get("Item"))
    elif operation == "TransactGetItems":
        for entry in params.get("TransactItems", []):
            yield permissions.GET_ITEM, "table", _partition(entry["Get"].get("Key"))
    else:  # Scan, DescribeTable, ...: granted to no function
        yield f"dynamodb:{operation}", "table", ""


def _is(partition: str, pattern: str) -> bool:
    """IAM's StringLike: `*` is any run of characters."""
    return fnmatch.fnmatchcase(partition, pattern)


def _queue_allowed(access: Access, url: str) -> bool:
    sends = {
        os.environ.get("SCORING_QUEUE_URL"): access.send_to_scoring,
        os.environ.get("WEBHOOKS_QUEUE_URL"): access.send_to_webhooks,
        os.environ.get("LOYALTY_WORKFLOW_QUEUE_URL"): access.send_to_workflows,
    }
    return bool(sends.get(url))


def _kms_refused(access: Access, operation: str, params: dict[str, Any]) -> list[str]:
    """A KMS call by the key it needs: one whose encryption context names a purpose is on the program
    secrets' key, whose grant holds for programs' signing secrets alone (`StringEquals` on
    `kms:EncryptionContext:purpose`); any other on the webhook secrets' key."""
    action = f"kms:{operation}"
    context = params.get("EncryptionContext") or {}
    purpose = context.get("purpose")
    if purpose is None:  # the webhook secrets' key: its grant holds where the context names both
        if not all(context.get(name) for name in WEBHOOK_SECRET_CONTEXT):
            return [f"{action} without {' and '.join(WEBHOOK_SECRET_CONTEXT)} in its encryption context"]
        return [] if action in access.webhook_secrets else [action]
    if purpose != PROGRAM_SECRET_PURPOSE:
        return [f"{action} for purpose {purpose!r}: the grant names {PROGRAM_SECRET_PURPOSE!r} alone"]
    return [] if action in access.program_secrets else [f"{action} on a program's signing secrets"]


def refused(access: Access, service: str, operation: str, params: dict[str, Any]) -> list[str]:
    """What of one call the function's access does not allow, in words (empty: all of it)."""
    if service == "dynamodb":
        found = []
        if operation.startswith("Batch"):  # one request: its every key under one statement's condition
            kinds = {p.startswith("APIKEY#") for _, _, p in dynamodb_needs(operation, params)}
            if len(kinds) > 1:
                found.append(f"dynamodb:{operation} naming API-key items with others")
        for action, resource, partition in dynamodb_needs(operation, params):
            if resource.startswith("index/"):
                allowed = resource.removeprefix("index/") in access.indexes
            elif action == permissions.BATCH_WRITE_ITEM:  # notification items alone
                allowed = access.clears_outbox and _is(partition, permissions.NOTIFICATION_ITEMS)
            elif action == permissions.DELETE_ITEM:  # the kinds of items it deletes alone
                allowed = any(_is(partition, pattern) for pattern in access.deletes)
            else:  # `table` reaches every item but the API keys', `api_keys` those alone
                on_keys = partition.startswith(permissions.API_KEY_ITEMS.rstrip("*"))
                allowed = action in (access.api_keys if on_keys else access.table)
            if not allowed:
                found.append(
                    f"{action} on {resource}"
                    + (" (an API-key item)" if partition.startswith("APIKEY#") else "")
                )
        return sorted(set(found))
    if service == "sqs" and operation in ("SendMessage", "SendMessageBatch", "GetQueueAttributes"):
        gauged = operation != "GetQueueAttributes" or access.gauge_queues
        return (
            []
            if gauged and _queue_allowed(access, params.get("QueueUrl", ""))
            else [f"sqs:{operation} to {params.get('QueueUrl')}"]
        )
    if service == "kms" and operation in ("Encrypt", "Decrypt"):
        return _kms_refused(access, operation, params)
    allowed = {
        ("events", "PutEvents"): access.publish_events,
        ("secretsmanager", "GetSecretValue"): access.read_network_pepper,
        ("apigateway", "FlushStageAuthorizersCache"): access.flush_authorizer_cache,
        ("lambda", "Invoke"): access.invoke_self,  # its own function (the role names no other)
    }.get((service, operation), False)
    return [] if allowed else [f"{service}:{operation}"]


@contextlib.contextmanager
def elsewhere() -> Iterator[None]:
    """What a test does while a handler runs, as another function would (an event arriving and
    scored meanwhile): not the running function's calls."""
    outer = getattr(_running, "function", None)
    _running.function = None
    try:
        yield
    finally:
        _running.function = outer


def install() -> None:
    """Checks the calls of every handler run from now on (once per process)."""
    from botocore.client import BaseClient

    from local_system import lambda_runtime

    if getattr(lambda_runtime.load_handler, "checked", False):
        return
    loaded = lambda_runtime.load_handler
    original = BaseClient._make_api_call

    def checked_load(path: str) -> Callable[[dict[str, Any], Any], Any]:
        handler = loaded(path)
        function = _HANDLERS.get(path)
        if function is None:  # not a deployed function: nothing to check it against
            return handler

        def run(event: dict[str, Any], context: Any) -> Any:
            outer = getattr(_running, "function", None)
            _running.function = function
            try:
                return handler(event, context)
            finally:
                _running.function = outer

        return run

    def call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        function = getattr(_running, "function", None)
        if function is not None:
            service = client.meta.service_model.service_name
            for what in refused(permissions.ACCESS[function], service, operation, params):
                violations.append(f"{function} calls {what}, which infra/permissions.py does not grant it")
        return original(client, operation, params)

    submit = ThreadPoolExecutor.submit

    def carried(pool: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Work a handler hands to its threads (the hold sweep's shards) is still the handler's."""
        function = getattr(_running, "function", None)

        def run(*inner: Any, **named: Any) -> Any:
            outer = getattr(_running, "function", None)
            _running.function = function
            try:
                return fn(*inner, **named)
            finally:
                _running.function = outer

        return submit(pool, run, *args, **kwargs)

    checked_load.checked = True  # type: ignore[attr-defined]
    lambda_runtime.load_handler = checked_load  # type: ignore[assignment]
    BaseClient._make_api_call = call  # type: ignore[method-assign]
    ThreadPoolExecutor.submit = carried  # type: ignore[assignment,method-assign]
