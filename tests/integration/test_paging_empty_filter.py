"""Paging (filters): `GET /v1/rewards?partner_id=` (the filter given, with an empty value: an
integration whose template had no id to put in) answers every reward of the program, newest first,
as if no filter had been asked for; `customer_id=` the same. `status=` (empty) is a 422 on the same
route, and a misspelt filter name is a 422 too (test_query_parameters.py: "a misspelt filter read
as an empty one" was the defect fixed there). Cause: `cases/service.py:list_rewards` reads
`partner_id or customer_id` as truthiness, so "" is "no filter", and `cases/routes.py:get_rewards`
takes `Query(max_length=128)` with no min_length. The console never sends an empty value
(`web/src/js/api.js:query` drops them), so only integrations meet it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from functions.shared.domain.model import Reward
from functions.shared.domain.writes import PutReward, Step
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize("name", ["partner_id", "customer_id"])
def test_an_empty_subject_filter_does_not_list_every_partners_rewards(aws, tenant, name):
    p = tenant.program_id
    aws.repository.apply(
        Step(
            [
                PutReward(
                    Reward(
                        p,
                        f"r{n}",
                        f"partner-{n}",
                        Decimal("10"),
                        "USD",
                        "pending",
                        T0 + timedelta(minutes=n),
                        "api",
                        customer_id=f"cust-{n}",
                    )
                )
                for n in range(3)
            ]
        )
    )
    key = tenant.keys["fraud"]
    assert call("cases", proxy_event("GET", "/v1/rewards", None, key, query={"status": ""})).status == 422

    answer = call("cases", proxy_event("GET", "/v1/rewards", None, key, query={name: ""}))

    # a 422 naming the field, or no reward (no partner has the empty id): never all of them
    assert answer.status == 422 or answer.body["items"] == [], [i["partner_id"] for i in answer.body["items"]]
