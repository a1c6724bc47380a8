"""A repository talks to its table through one DynamoDB client, whatever item types a request
touches: each botocore client (and the session pynamodb makes for it) costs tens of milliseconds of
a Lambda's first requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.session import Session

from functions.score import service
from functions.shared import runtime, tenancy
from functions.shared.clock import SystemClock
from functions.shared.domain.model import StoredEvent
from functions.shared.messaging import InMemoryPublisher, scoring_message
from tests.conftest import Aws
from tests.support import sample


def test_every_item_type_and_the_transactions_share_one_client(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    create_client = Session.create_client

    def counted(self: Session, service_name: str, *args: Any, **kwargs: Any) -> Any:
        made.append(service_name)
        return create_client(self, service_name, *args, **kwargs)

    monkeypatch.setattr(Session, "create_client", counted)

    # Given a repository built as a function builds it on its first request
    repository = runtime.build_repository(aws.settings)
    deps = runtime.Dependencies(repository, InMemoryPublisher(), SystemClock(), None)

    # When it writes and reads a program, a key, events, profiles, links, a case and its audit,
    # single items, batches, queries and transactions
    program = tenancy.create_program(repository, SystemClock(), "Clients")
    tenancy.create_key(repository, SystemClock(), program.program_id, "integration", "one")
    for n, body in enumerate((sample("partnership.created", id="a"), sample("partnership.created", id="b"))):
        body["partner"] = {**body["partner"], "id": f"partner-{n}"}  # the same e-mail: the second flags
        at = datetime.fromisoformat(body["occurred_at"])
        repository.record_event(
            StoredEvent(
                program.program_id, body["id"], body["type"], body, f"hash-{n}", at, datetime.now(UTC)
            )
        )
        service.take_message(deps, scoring_message(program.program_id, body["id"]))
    assert repository.get_event(program.program_id, "b").decision["action"] == "flag"
    repository.summary_figures(program.program_id, SystemClock().now().date())

    # Then it made one DynamoDB client for all of it
    assert made.count("dynamodb") == 1, made
