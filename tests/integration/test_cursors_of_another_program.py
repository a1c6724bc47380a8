"""A cursor names its program (`paging`): the Active tab's and the rewards listing's cursor of one
program is refused by another's (it used to page the other program from the first one's position:
nothing leaked, but the cursor was not one that listing gave), through the real cases handler."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from functions.shared.domain.model import Reward
from functions.shared.domain.writes import PutCase, PutReward, Step
from tests.conftest import Aws, Tenant
from tests.integration.test_removed_pages import a_case
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def a_reward(program_id: str, n: int) -> Reward:
    return Reward(
        program_id, f"r{n}", "p1", Decimal("10"), "USD", "pending", T0 + timedelta(minutes=n), "api"
    )


def listing(key: str, path: str, **query: str):
    return call("cases", proxy_event("GET", path, None, key, query=query))


def test_a_cursor_of_the_same_listing_in_another_program_is_422(
    aws: Aws, tenant: Tenant, other_tenant: Tenant
):
    for program in (tenant, other_tenant):  # the same ids in both
        aws.repository.apply(Step([PutCase(a_case(program.program_id, n)) for n in range(3)]))
        aws.repository.apply(Step([PutReward(a_reward(program.program_id, n)) for n in range(3)]))

    for path, query in (
        ("/v1/cases", {}),
        ("/v1/cases", {"sort": "hold_amount"}),
        ("/v1/rewards", {}),
        ("/v1/rewards", {"partner_id": "p1"}),
    ):
        theirs = listing(other_tenant.keys["fraud"], path, limit="1", **query).body["next_cursor"]
        ours = listing(tenant.keys["fraud"], path, limit="1", **query)
        assert theirs and ours.body["next_cursor"], (path, query)

        answer = listing(tenant.keys["fraud"], path, limit="1", cursor=theirs, **query)

        assert answer.status == 422, (path, query, answer)
        assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]
        # and the program's own cursor still pages it
        assert (
            listing(tenant.keys["fraud"], path, limit="1", cursor=ours.body["next_cursor"], **query).status
            == 200
        )
