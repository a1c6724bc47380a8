"""What the Lambda service does around a handler, done locally: import it by its handler path and
call it with a context, one event at a time per function.

Lambda never gives one execution environment two events at once, and Powertools' resolvers rely on
that (the current request lives on the resolver, and on its router class). Locks keep that true
here, where one process serves every request."""

from __future__ import annotations

import importlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass
class LocalContext:
    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:000000000000:function:{self.function_name}"

    @property
    def function_version(self) -> str:
        return "$LATEST"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@cache
def load_handler(path: str) -> Callable[[dict[str, Any], Any], Any]:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


_environments: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _environment(handler_path: str) -> threading.Lock:
    # Powertools keeps the current request on its router base class, shared by every resolver in a
    # process: the API functions therefore share one environment here, or two different functions
    # serving at once could answer each other's requests.
    from functions.shared.routes import FUNCTIONS_WITH_ROUTES

    function = handler_path.split(".")[1]
    key = "api" if function in FUNCTIONS_WITH_ROUTES else handler_path
    with _registry_lock:
        return _environments.setdefault(key, threading.Lock())


# A handler's time when its caller names none: Lambda's longest. Nothing here stops a handler at its
# deadline; it tells a handler that watches its time (the hold sweep, the dispute cycle) when to stop,
# and given less than its margin such a handler would stop before doing anything.
DEFAULT_TIMEOUT_SECONDS = 900.0


def invoke(handler_path: str, event: dict[str, Any], timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS) -> Any:
    """Runs a handler as Lambda would; a function run here that invokes one asynchronously (the
    dispute cycle handing itself on) does so through `invoke_later`, as deployed through Lambda."""
    from functions.shared import runtime

    if runtime.local_invocations() is None:  # unless one is given (a test's)
        runtime.use_local_invocations(invoke_later)
    name = handler_path.split(".")[1]
    handler = load_handler(handler_path)
    with _environment(handler_path):
        context = LocalContext(function_name=name, deadline=time.monotonic() + timeout_seconds)
        return handler(event, context)


def invoke_later(
    handler_path: str, event: dict[str, Any], timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> threading.Thread:
    """Lambda's asynchronous invocation (`InvocationType='Event'`): the caller does not wait. The
    event runs in a thread of its own once the function's environment is free (a function that
    invokes itself: when its invocation has returned). The thread is not a daemon: a process that
    started one (`fraudctl run dispute-cycle` locally) ends when the work handed on is done. A
    failure is logged: no retries, no dead-letter queue here."""

    def run() -> None:
        from functions.shared.observability import logger

        try:
            invoke(handler_path, event, timeout_seconds)
        except Exception:
            logger.exception("asynchronous invocation failed", extra={"handler": handler_path})

    thread = threading.Thread(target=run, name=f"invoke-later:{handler_path}")
    thread.start()
    return thread
