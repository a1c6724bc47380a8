"""How long a function waits on an AWS service, in one place: every client the functions build
(`runtime.boto3_client`, the DynamoDB models of `storage.dynamodb_base`) takes its connect and read
timeouts and its attempts from here. botocore's defaults (60 s to read, 3 to 5 attempts) let a
service that accepts connections and never answers hold one call for minutes, past every function's
timeout (infra/constants.py: 10 s for an API function, 30 s to score a batch).

Two kinds of call, chosen against those timeouts (tests/infra/test_functions.py holds them there):

- `HANDED_ON`: what a function hands on after its commit, to the bus or a queue. A failure loses
  nothing (the notification or the event stays in the outbox and the outbox relay sends it later),
  so it fails within a few seconds, well inside an API answer, and the answer stands.
- `STORE`: DynamoDB and the other services a function's answer needs (KMS, Lambda, API Gateway):
  a store that does not answer fails the call (503, the batch item retried) within an API
  function's timeout rather than at it. Attempts enough for a throttle's retries, which are
  answered at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class CallLimits:
    connect_seconds: float
    read_seconds: float
    attempts: int  # the first included

    def longest_seconds(self) -> float:
        """The longest one call waits on a service that never answers: each attempt's connect and
        read (botocore's pause before retrying a timeout is a fraction of a second)."""
        return self.attempts * (self.connect_seconds + self.read_seconds)

    def botocore_config(self) -> Any:
        from botocore.config import Config

        return Config(
            connect_timeout=self.connect_seconds,
            read_timeout=self.read_seconds,
            retries={"total_max_attempts": self.attempts, "mode": "standard"},
        )

    def pynamodb_meta(self) -> dict[str, Any]:
        """The same limits as pynamodb's model settings (its retries count the first attempt out)."""
        return {
            "connect_timeout_seconds": self.connect_seconds,
            "read_timeout_seconds": self.read_seconds,
            "max_retry_attempts": self.attempts - 1,
        }


HANDED_ON = CallLimits(connect_seconds=1.0, read_seconds=1.0, attempts=2)
STORE = CallLimits(connect_seconds=1.0, read_seconds=2.0, attempts=3)

# the services whose calls hand on what a commit made; any other is a store call
_HANDED_ON_SERVICES = frozenset({"events", "sqs"})


def limits_of(service: str) -> CallLimits:
    return HANDED_ON if service in _HANDED_ON_SERVICES else STORE
