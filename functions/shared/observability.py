"""Powertools Logger, Tracer and Metrics, configured once for every function.

Secrets and e-mail addresses never reach the logs in clear: `RedactingFilter` masks them in every
record, whatever the call site passes.

The Tracer is lazy (`LazyTracer`): Lambda's active tracing records every invocation without any SDK
in the function, so the X-Ray SDK (0.2 to 1 s of import) is loaded only when `TRACE_SUBSEGMENTS`
asks for subsegments, and then at the first invocation, not at import."""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.logging.logger import Logger
from aws_lambda_powertools.metrics import Metrics
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

SERVICE = "fraud-management"  # the default stack's; a stack of another name sets its own (below)
NAMESPACE = "FraudManagement"
# The service the logs' `service` key and the metrics' `service` dimension name: the stack's name, so
# two stacks of one account (`-c stackName`) keep apart in CloudWatch (Powertools' own variable)
_SERVICE_NAME = os.environ.get("POWERTOOLS_SERVICE_NAME") or SERVICE

_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})")
_KEY = re.compile(r"fmk_[a-f0-9]{16}_[A-Za-z0-9_-]{43}")
_SIGNATURE = re.compile(r"v1=[a-f0-9]{64}")


def redact(text: str) -> str:
    text = _KEY.sub("fmk_***", text)
    text = _SIGNATURE.sub("v1=***", text)
    return _EMAIL.sub(r"\1***@\2", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


logger = Logger(service=_SERVICE_NAME)
logger.addFilter(RedactingFilter())


class LazyTracer:
    """`capture_lambda_handler` as Powertools' Tracer offers it, without its cost by default.

    With `TRACE_SUBSEGMENTS=true` (and tracing not disabled by `POWERTOOLS_TRACE_DISABLED`), the
    first invocation builds Powertools' Tracer (which imports the X-Ray SDK and patches botocore, so
    every AWS call gets its subsegment) and every invocation runs through its handler subsegment.
    Otherwise the handler runs as it is: the invocation's segment is Lambda's own."""

    def __init__(self, service: str) -> None:
        self.service = service
        self._tracer: Any = None

    @staticmethod
    def wanted() -> bool:
        enabled = os.environ.get("TRACE_SUBSEGMENTS", "").lower() == "true"
        disabled = os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() == "true"
        return enabled and not disabled

    def powertools(self) -> Any:
        """The Powertools Tracer, built once, on first use."""
        if self._tracer is None:
            from aws_lambda_powertools.tracing.tracer import Tracer

            self._tracer = Tracer(service=self.service)
        return self._tracer

    def capture_lambda_handler(self, handler: Callable[..., Any]) -> Callable[..., Any]:
        traced: list[Callable[..., Any]] = []  # the Powertools-wrapped handler, once built

        @functools.wraps(handler)
        def run(event: Any, context: Any) -> Any:
            if not self.wanted():
                return handler(event, context)
            if not traced:
                traced.append(self.powertools().capture_lambda_handler(handler))
            return traced[0](event, context)

        return run


tracer = LazyTracer(service=_SERVICE_NAME)


class _Metrics(Metrics):
    """Powertools' metrics, with its off switch honoured at every value: switched off (the local
    system: `POWERTOOLS_METRICS_DISABLED`), Powertools still kept each value and printed the set
    at each metric's 100th (its limit per EMF line), so `make run` printed a line of metrics every
    hundred events. Off, a value is not kept at all."""

    def add_metric(self, *args: Any, **kwargs: Any) -> None:
        if not is_metrics_disabled():
            super().add_metric(*args, **kwargs)


metrics = _Metrics(namespace=NAMESPACE, service=_SERVICE_NAME)
