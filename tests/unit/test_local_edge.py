"""The local edge's rate limit, counted as the WAF rule counts (pure: a set clock, no network)."""

from __future__ import annotations

import pytest

from local_system.edge import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 600.0

    def __call__(self) -> float:
        return self.now


def test_spellings_of_one_key_share_one_budget():
    clock = Clock()
    limiter = RateLimiter(per_second=2 / 60, window_seconds=60, clock=clock)  # 2 a minute

    assert limiter.retry_after("Bearer fmk_abc") is None
    assert limiter.retry_after("bearer   FMK_ABC") is None  # lowercased, spaces compressed: the same key
    assert limiter.retry_after("BEARER fmk_abc") == 60
    assert limiter.retry_after("Bearer fmk_other") is None  # another key has its own


def test_retry_after_is_the_rest_of_the_window_and_the_count_starts_again():
    clock = Clock()
    limiter = RateLimiter(per_second=1 / 60, window_seconds=60, clock=clock)
    assert limiter.retry_after("Bearer k") is None

    clock.now += 45.5
    assert limiter.retry_after("Bearer k") == 15
    clock.now += 15
    assert limiter.retry_after("Bearer k") is None


def test_requests_without_a_key_are_not_counted():
    limiter = RateLimiter(per_second=1 / 60, window_seconds=60, clock=Clock())
    assert all(limiter.retry_after(header) is None for header in [None, "", "  "] * 5)


@pytest.mark.parametrize("per_second", [0, -1])
def test_a_limit_must_be_positive(per_second):
    with pytest.raises(ValueError):
        RateLimiter(per_second=per_second)
