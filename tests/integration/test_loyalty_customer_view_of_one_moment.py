"""Loyalty: `GET /v1/loyalty/customers/{id}` reads the profile (balance, lifetime), the week/month/
year items, the last 30 days and the history in separate reads, none of one instant. An earn that
commits between the first two shows an analyst impossible figures: today's earned above the
lifetime's, the balance not what the periods add up to. Both stores."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter

from functions.loyalty import service
from functions.loyalty.models import EarnRequest
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Program
from functions.shared.errors import StorageUnavailable
from functions.shared.messaging import InMemoryPublisher
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository

NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


class EarnDuringView:
    """The store, with one earn committed right after the view has read the profile."""

    def __init__(self, repository: Any, earn) -> None:
        self.repository, self.earn, self.armed = repository, earn, False

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.repository, name)
        if name != "get_loyalty_customer" or not self.armed:
            return method

        def then_earn(*args: Any, **kwargs: Any) -> Any:
            found = method(*args, **kwargs)
            self.armed = False
            self.earn()  # another Lambda's earn commits now
            return found

        return then_earn


@pytest.fixture(params=["memory", "dynamodb"])
def store(request):
    if request.param == "memory":
        return InMemoryRepository()
    return request.getfixturevalue("aws").repository


def earning(store) -> tuple[Program, Any]:
    """A program, and an earn of customer `c` in it (committed as another Lambda's would be)."""
    program = Program(f"prg-{uuid.uuid4().hex[:8]}", "Probe", NOW, "UTC")
    plain = Dependencies(store, InMemoryPublisher(), FixedClock(NOW))

    def earn(points: int) -> None:
        body = {"id": uuid.uuid4().hex, "customer_id": "c", "points": points, "kind": "purchase"}
        service.earn(plain, program, TypeAdapter(EarnRequest).validate_python(body), body)

    return program, earn


def test_the_customer_view_is_one_instant(store):
    program, earn = earning(store)
    earn(100)
    wrapped = EarnDuringView(store, lambda: earn(50))
    deps = Dependencies(wrapped, InMemoryPublisher(), FixedClock(NOW))  # type: ignore[arg-type]
    wrapped.armed = True
    view = service.customer_view(deps, program, "c")

    earned = view["aggregates"]["earned"]
    # whatever instant it shows, today's points are part of the lifetime's, and the balance is them
    assert earned["today"] <= earned["lifetime"], earned
    assert view["balance"] == earned["lifetime"] - view["aggregates"]["spent"]["lifetime"], view
    assert earned["today"] == earned["lifetime"], earned  # one customer, every point earned today


class EarnBeforeEveryProfileRead:
    """The store, with an earn committed just before every read of the profile: a customer whose
    every moment brings an earn (a checkout crediting every second, a mule being looked at)."""

    def __init__(self, repository, earn) -> None:
        self.repository, self.earn, self.reads = repository, earn, 0

    def __getattr__(self, name):
        method = getattr(self.repository, name)
        if name != "get_loyalty_customer":
            return method

        def earn_then_read(*args, **kwargs):
            self.reads += 1
            self.earn()
            return method(*args, **kwargs)

        return earn_then_read


def test_a_view_that_never_reads_one_moment_is_refused_not_shown():
    # it gave up after four passes and showed the last profile with the pass before's periods
    store = InMemoryRepository()
    program, earn = earning(store)
    earn(100)
    wrapped = EarnBeforeEveryProfileRead(store, lambda: earn(50))
    deps = Dependencies(wrapped, InMemoryPublisher(), FixedClock(NOW))  # type: ignore[arg-type]

    with pytest.raises(StorageUnavailable):  # a 503 to retry
        service.customer_view(deps, program, "c")
