"""Powertools Logger, Tracer and Metrics, configured once for every function.

Secrets and e-mail addresses never reach the logs in clear: `RedactingFilter` masks them in every
record, whatever the call site passes."""

from __future__ import annotations

import logging
import re

from aws_lambda_powertools import Logger, Metrics, Tracer

SERVICE = "fraud-management"
NAMESPACE = "FraudManagement"

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


logger = Logger(service=SERVICE)
logger.addFilter(RedactingFilter())
tracer = Tracer(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
