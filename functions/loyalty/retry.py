"""Optimistic writers read again when a condition failed; a short random pause between attempts
keeps writers racing for one customer or counter from colliding in step."""

from __future__ import annotations

import random
import time

MAX_ATTEMPTS = 60  # fresh snapshots per request before answering 503 (retryable)


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))  # noqa: S311 (jitter, not secrets)
