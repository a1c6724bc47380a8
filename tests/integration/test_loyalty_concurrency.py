"""Concurrent requests through the real loyalty handler against moto: 50 Lambda environments at once,
racing only through the table's conditional writes and transactions, as parallel Lambdas do.

Each environment is a process (forked with the handler already imported, so it starts at once)
talking to moto's server: threads in one process cannot stand for Lambdas here, because Powertools
keeps the current request on its router class, shared by every resolver of a process."""

from __future__ import annotations

import multiprocessing
import os
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from functions.shared import runtime, tenancy
from functions.shared.clock import SystemClock
from functions.shared.config import Settings
from local_system.lambda_runtime import LocalContext
from local_system.provision import EVENT_BUS_NAME, provision
from tests.conftest import Tenant
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    Loyalty,
    campaign_settings,
)
from tests.support import Answer, proxy_event

CONCURRENCY = 50


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _load_clients() -> None:
    """Creates every client the handler uses before forking (no connection is open yet): 50
    environments then share botocore's loaded models instead of each loading them again."""
    models = runtime.dependencies().repository._m  # type: ignore[attr-defined]
    models.connection().client  # noqa: B018
    for model in (models.base, *models.items.values()):
        model._get_connection().connection.client  # noqa: B018


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    from functions.loyalty.handler import lambda_handler

    return lambda_handler(event, LocalContext(function_name="loyalty"))


@pytest.fixture(scope="module")
def lambdas() -> Iterator[Any]:
    """A pool of Lambda environments (processes) and moto's server they all talk to."""
    from moto.server import ThreadedMotoServer

    import functions.loyalty.handler  # noqa: F401 (imported once, inherited by every environment)

    port = _free_port()
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "TABLE_NAME": "loyalty-concurrency",
            "EVENT_BUS_NAME": EVENT_BUS_NAME,
        }.items():
            env.setenv(name, value)
        env.delenv("SCORING_QUEUE_URL", raising=False)
        runtime.forget_dependencies()
        _load_clients()
        # fork before any server thread exists: the environments start with the handler loaded
        pool = multiprocessing.get_context("fork").Pool(CONCURRENCY)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            endpoint = os.environ["AWS_ENDPOINT_URL"]
            provision(
                lambda name: boto3.client(name, endpoint_url=endpoint, region_name="us-east-1"),
                table_name="loyalty-concurrency",
            )
            yield pool
        finally:
            pool.terminate()
            pool.join()
            server.stop()
            runtime.forget_dependencies()


@pytest.fixture
def program(lambdas) -> Tenant:
    repository = runtime.build_repository(Settings.from_env())
    clock = SystemClock()
    created = tenancy.create_program(repository, clock, f"Concurrency {uuid.uuid4().hex[:6]}")
    keys = {
        role: tenancy.create_key(repository, clock, created.program_id, role, f"{role} key")[1]
        for role in ("integration", "fraud")
    }
    return Tenant(created.program_id, keys)


@pytest.fixture
def loyalty(program) -> Loyalty:
    return Loyalty(program.keys)


def at_once(lambdas: Any, bodies: list[dict[str, Any]], key: str) -> list[Answer]:
    """Each body as an earn in its own Lambda environment, all sent together."""
    events = [proxy_event("POST", "/v1/loyalty/earn", body, key) for body in bodies]
    return [Answer(raw) for raw in lambdas.map(_invoke, events, chunksize=1)]


def bonus(customer: str, points: int, campaign: str) -> dict[str, Any]:
    return {
        "id": f"b-{uuid.uuid4().hex[:12]}",
        "customer_id": customer,
        "points": points,
        "kind": "campaign_bonus",
        "campaign_id": campaign,
    }


# 50 customers, a bonus of 30 each, a total cap of 1000
TOTAL_CAP_OUTCOMES = {"hard": 990, "dynamic": 1000, "soft": 1020}


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_fifty_concurrent_bonuses_never_pass_the_total_cap(lambdas, loyalty, program, behavior):
    loyalty.campaign("c", campaign_settings(behavior, total=1000, per_customer=10**6))

    answers = at_once(
        lambdas, [bonus(f"m{n}", 30, "c") for n in range(CONCURRENCY)], program.keys["integration"]
    )

    assert [a.status for a in answers] == [200] * CONCURRENCY, [a for a in answers if a.status != 200]
    granted = [a.body["granted"] for a in answers]
    campaign = loyalty.campaign("c").body
    assert sum(granted) == campaign["granted_total"] == TOTAL_CAP_OUTCOMES[behavior]
    assert campaign["customers"] == sum(1 for g in granted if g)
    if behavior == "soft":  # whole bonuses only, and only one started under the cap and passed it
        assert set(granted) == {0, 30}
    if behavior == "dynamic":  # one bonus was cut to what was left
        assert sorted(set(granted)) == [0, 10, 30] and granted.count(10) == 1
    assert all(a.body["limited_by"] == (None if a.body["granted"] == 30 else "campaign") for a in answers)
    for n in (0, 17, 49):
        assert loyalty.customer(f"m{n}").body["balance"] == granted[n]
    # the total's shards: their rooms are exactly what is left (a soft pass leaves every shard full)
    shards = stored_campaign(program, "c").shards
    assert sum(s.room for s in shards) == max(0, 1000 - TOTAL_CAP_OUTCOMES[behavior])
    assert sum(s.used for s in shards) == TOTAL_CAP_OUTCOMES[behavior]


def stored_campaign(program: Tenant, campaign: str) -> Any:
    return runtime.build_repository(Settings.from_env()).get_campaign(program.program_id, campaign)


def test_a_cap_lowered_while_bonuses_arrive_is_exact_after_it(lambdas, loyalty, program):
    loyalty.campaign("c", campaign_settings("dynamic", total=5000, per_customer=10**6))
    events = [
        proxy_event("POST", "/v1/loyalty/earn", bonus(f"m{n}", 30, "c"), program.keys["integration"])
        for n in range(CONCURRENCY - 1)
    ]
    lowered = campaign_settings("dynamic", total=600, per_customer=10**6)
    events.insert(
        CONCURRENCY // 3, proxy_event("PUT", "/v1/loyalty/campaigns/c", lowered, program.keys["fraud"])
    )

    answers = [Answer(raw) for raw in lambdas.map(_invoke, events, chunksize=1)]

    assert [a.status for a in answers] == [200] * CONCURRENCY, [a for a in answers if a.status != 200]
    earned = sum(a.body["granted"] for a in answers if "granted" in a.body)
    campaign = stored_campaign(program, "c")
    assert campaign.total_cap == 600 and campaign.granted_total == earned
    # whatever was granted before the new cap counts; after it, only what is left under it
    assert sum(s.room for s in campaign.shards) == max(0, 600 - earned)
    left = max(0, 600 - earned)
    key = program.keys["integration"]
    assert at_once(lambdas, [bonus("late", left + 1, "c")], key)[0].body["granted"] == left
    assert at_once(lambdas, [bonus("later", 1, "c")], key)[0].body["granted"] == 0


def test_a_campaign_used_up_at_once_stays_shut_and_a_raised_cap_reopens_it_exactly(lambdas, loyalty, program):
    # Given 50 bonuses of 30 at once on a cap of 600: 20 granted, the rest 0 (and the shards marked)
    loyalty.campaign("c", campaign_settings("hard", total=600, per_customer=10**6))
    key = program.keys["integration"]

    shut = at_once(lambdas, [bonus(f"m{n}", 30, "c") for n in range(CONCURRENCY)], key)

    assert [a.status for a in shut] == [200] * CONCURRENCY, [a for a in shut if a.status != 200]
    assert sorted(a.body["granted"] for a in shut) == [0] * 30 + [30] * 20
    assert all(a.body["limited_by"] == "campaign" for a in shut if not a.body["granted"])
    campaign = stored_campaign(program, "c")
    assert campaign.granted_total == 600
    assert all(s.left_seen == (campaign.revision, 0) for s in campaign.shards)  # every shard marked

    # When 49 more arrive at once with a raise of the cap to 2,100 among them
    events = [
        proxy_event("POST", "/v1/loyalty/earn", bonus(f"n{n}", 30, "c"), key) for n in range(CONCURRENCY - 1)
    ]
    raised = campaign_settings("dynamic", total=2100, per_customer=10**6)
    put = proxy_event("PUT", "/v1/loyalty/campaigns/c", raised, program.keys["fraud"])
    events.insert(CONCURRENCY // 3, put)
    answers = [Answer(raw) for raw in lambdas.map(_invoke, events, chunksize=1)]

    # Then what was granted is exact under the new cap, and nothing is shut that has room
    assert [a.status for a in answers] == [200] * CONCURRENCY, [a for a in answers if a.status != 200]
    earned = sum(a.body["granted"] for a in answers if "granted" in a.body)
    campaign = stored_campaign(program, "c")
    assert campaign.total_cap == 2100 and campaign.granted_total == 600 + earned <= 2100
    left = 2100 - campaign.granted_total
    assert sum(s.room for s in campaign.shards) == left > 0
    assert all(s.left_seen is None for s in campaign.shards)  # none shut: nothing was cut to 0 since
    assert at_once(lambdas, [bonus("late", left + 1, "c")], key)[0].body == {
        "granted": left,
        "requested": left + 1,
        "balance": left,
        "limited_by": "campaign",
    }
    late = at_once(lambdas, [bonus(f"later{n}", 1, "c") for n in range(CONCURRENCY)], key)
    assert {(a.body["granted"], a.body["limited_by"]) for a in late} == {(0, "campaign")}
    assert stored_campaign(program, "c").granted_total == 2100


# one customer, 25 bonuses of 7 at once, a per-customer cap of 100 (writers of one customer retry on
# its version: the work grows with the square of them, and 25 already ask for 175 points)
ONE_CUSTOMER = 25
CUSTOMER_CAP_OUTCOMES = {"hard": 98, "dynamic": 100, "soft": 105}


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_concurrent_bonuses_of_one_customer_never_pass_the_customer_cap(lambdas, loyalty, program, behavior):
    loyalty.campaign("c", campaign_settings(behavior, total=10**6, per_customer=100))

    answers = at_once(
        lambdas, [bonus("farmer", 7, "c") for _ in range(ONE_CUSTOMER)], program.keys["integration"]
    )

    assert [a.status for a in answers] == [200] * ONE_CUSTOMER, [a for a in answers if a.status != 200]
    total = sum(a.body["granted"] for a in answers)
    assert total == CUSTOMER_CAP_OUTCOMES[behavior]
    seen = loyalty.customer("farmer").body
    assert seen["balance"] == total == seen["aggregates"]["bonus"]["today"]
    assert loyalty.campaign("c").body["granted_total"] == total
    assert loyalty.campaign("c").body["customers"] == 1
    # every answer is the balance right after its own earn: each one a different step to the total
    granting = sorted(a.body["balance"] for a in answers if a.body["granted"])
    assert len(set(granting)) == len(granting) and granting[-1] == total


def test_concurrent_retries_of_one_earn_count_it_once(lambdas, loyalty, program):
    body = {"id": "retried", "customer_id": "m1", "points": 40, "kind": "purchase"}
    other = {**body, "points": 41}
    bodies = [body] * 40 + [other] * 10

    answers = at_once(lambdas, bodies, program.keys["integration"])

    balance = loyalty.customer("m1").body["balance"]
    assert balance in (40, 41)
    winner = body if balance == 40 else other
    for sent, answer in zip(bodies, answers, strict=True):
        if sent is winner:
            assert answer.status == 200, answer
            assert answer.body == {
                "granted": balance,
                "requested": balance,
                "balance": balance,
                "limited_by": None,
            }
        else:
            assert answer.status == 409, answer
