"""`customer_view`'s reads again (loyalty/service.py, `VIEW_READS`): under a steady stream
of earns (one commits during every pass: a customer a partner's checkout credits every second, or
a mule being looked at), the loop gives up after four passes and shows the profile of its last read
with the periods, days and history of the pass before it: a view of two moments again, silently,
after 17 reads. Here a customer who earned everything today shows today's earned below its
lifetime's, the balance not what the periods add up to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

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


class EarnBeforeEveryProfileRead:
    def __init__(self, repository, earn) -> None:
        self.repository, self.earn, self.reads = repository, earn, 0

    def __getattr__(self, name):
        method = getattr(self.repository, name)
        if name != "get_loyalty_customer":
            return method

        def earn_then_read(*args, **kwargs):
            self.reads += 1
            self.earn()  # another Lambda's earn commits just before, as one does every moment
            return method(*args, **kwargs)

        return earn_then_read


def test_the_customer_view_is_one_instant_under_steady_earns():
    store = InMemoryRepository()
    program = Program(f"prg-{uuid.uuid4().hex[:8]}", "Probe", NOW, "UTC")
    plain = Dependencies(store, InMemoryPublisher(), FixedClock(NOW))

    def earn(points: int) -> None:
        body = {"id": uuid.uuid4().hex, "customer_id": "c", "points": points, "kind": "purchase"}
        service.earn(plain, program, TypeAdapter(EarnRequest).validate_python(body), body)

    earn(100)
    wrapped = EarnBeforeEveryProfileRead(store, lambda: earn(50))
    deps = Dependencies(wrapped, InMemoryPublisher(), FixedClock(NOW))  # type: ignore[arg-type]
    try:
        view = service.customer_view(deps, program, "c")
    except StorageUnavailable:  # refused (503, retry) rather than figures of two moments
        return
    earned = view["aggregates"]["earned"]
    assert earned["today"] == earned["lifetime"], (wrapped.reads, earned)  # every point earned today
