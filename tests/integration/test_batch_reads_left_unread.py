"""Keys a BatchGetItem leaves unread (`UnprocessedKeys`: DynamoDB's answer for a throttled
partition), on moto with the answers cut as DynamoDB cuts them: asked again after a growing pause,
never at once and for ever (a faults tester counted 30 requests 1.4-9.6 ms apart against a table
already throttled); after `BATCH_GET_TRIES` rounds that leave keys unread, storage unavailable
(retryable), never a Lambda timing out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import botocore.client
import pytest

from functions.shared.errors import StorageUnavailable
from functions.shared.storage import dynamodb_base
from functions.shared.storage.port_loyalty import LoyaltyCustomer, Totals

REAL = botocore.client.BaseClient._make_api_call
P = "prg-a"


@pytest.fixture
def customers(aws):
    """150 customers (two requests' worth) in the DynamoDB store."""
    for n in range(150):
        customer = LoyaltyCustomer(
            P, f"c{n:03d}", "active", n, 0, Totals(earned=n), datetime(2026, 12, 1, tzinfo=UTC)
        )
        with aws.repository._m.base.batch_write() as batch:
            for item in _items(aws.repository, customer):
                batch.save(item)
    return [f"c{n:03d}" for n in range(150)]


def _items(repository: Any, customer: LoyaltyCustomer) -> list[Any]:
    saved: list[Any] = []

    class Collect:
        def save(self, model: Any, condition: Any = None) -> None:
            saved.append(model)

    repository._write_customer(Collect(), 0, customer, ())
    return saved


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    waited: list[float] = []
    monkeypatch.setattr(dynamodb_base.time, "sleep", waited.append)
    return waited


def leaving_unread(monkeypatch, rounds: int) -> list[int]:
    """Each BatchGetItem of the next `rounds` returns one item and leaves the rest unread."""
    asked: list[int] = []

    def throttled(client: Any, operation: str, params: dict[str, Any]) -> Any:
        answer = REAL(client, operation, params)
        if operation == "BatchGetItem":
            (table,) = params["RequestItems"]
            asked.append(len(params["RequestItems"][table]["Keys"]))
            if len(asked) <= rounds:
                kept = answer["Responses"][table][:1]
                answer["Responses"][table] = kept
                read = [{"pk": i["pk"], "sk": i["sk"]} for i in kept]
                left = [k for k in params["RequestItems"][table]["Keys"] if k not in read]
                if left:
                    answer["UnprocessedKeys"] = {table: {**params["RequestItems"][table], "Keys": left}}
        return answer

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", throttled)
    return asked


def test_keys_left_unread_are_asked_again_after_a_growing_pause_and_all_are_read(
    aws, customers, pauses, monkeypatch
):
    asked = leaving_unread(monkeypatch, rounds=4)

    found = aws.repository.loyalty_customers(P, customers)

    assert sorted(c.customer_id for c in found) == customers
    assert asked[:5] == [100, 99, 98, 97, 96]  # the first hundred, its leftovers asked again
    assert len(pauses) == 4 and all(b >= 0 for b in pauses)
    bounds = [min(1.0, 0.025 * 2**n) for n in range(4)]
    assert all(p <= bound for p, bound in zip(pauses, bounds, strict=True))


def test_keys_left_unread_round_after_round_are_storage_unavailable_not_a_request_without_end(
    aws, customers, pauses, monkeypatch
):
    asked = leaving_unread(monkeypatch, rounds=1000)

    with pytest.raises(StorageUnavailable, match="still unread"):
        aws.repository.loyalty_customers(P, customers)

    assert len(asked) == dynamodb_base.BATCH_GET_TRIES + 1
    assert len(pauses) == dynamodb_base.BATCH_GET_TRIES


def test_the_scoring_snapshot_and_an_events_batch_read_the_same_way(aws, pauses, monkeypatch):
    asked = leaving_unread(monkeypatch, rounds=1000)

    with pytest.raises(StorageUnavailable):
        aws.repository.get_events([(P, f"e{n}") for n in range(3)])
    assert len(asked) == dynamodb_base.BATCH_GET_TRIES + 1
