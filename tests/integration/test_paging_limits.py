"""Paging (limit): every paged listing takes `limit` 1..100 and refuses the rest with a 422 naming
`query.limit`, changing nothing (a blank one is absent: test_what_a_sql_export_sends). Held on
current code (kept as evidence). Lenient forms pydantic's
lax mode reads as integers (" 5", "+5", "05", "1.0", "1_0") are accepted; noted, not asserted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.writes import PutCase, Step
from tests.integration.test_removed_pages import a_case
from tests.support import call, proxy_event

LISTINGS = [
    ("cases", "/v1/cases"),
    ("cases", "/v1/rewards"),
    ("cases", "/v1/removed-partners"),
    ("cases", "/v1/cases/c0000/audit"),
    ("disputes", "/v1/disputes"),
    ("loyalty", "/v1/loyalty/campaigns"),
]


@pytest.mark.parametrize(("function", "path"), LISTINGS)
def test_limit_bounds(aws, tenant, function, path):
    aws.repository.apply(Step([PutCase(a_case(tenant.program_id, 0))]))
    key = tenant.keys["fraud"]
    if function == "disputes":
        key = tenancy.create_key(
            aws.repository, FixedClock(datetime(2026, 11, 1, tzinfo=UTC)), None, "security", "S"
        )[1]
    for good in ("1", "100"):
        assert call(function, proxy_event("GET", path, None, key, query={"limit": good})).status == 200
    for bad in ("0", "-1", "101", "1.5", "abc", "1e2", "99999999999999999999999", "true"):
        answer = call(function, proxy_event("GET", path, None, key, query={"limit": bad}))
        assert answer.status == 422 and [e["field"] for e in answer.body["errors"]] == ["query.limit"], (
            bad,
            answer,
        )
    repeated = proxy_event("GET", path, None, key, query={"limit": "1"})
    repeated["multiValueQueryStringParameters"] = {"limit": ["1", "2"]}
    repeated["queryStringParameters"] = {"limit": "2"}
    assert call(function, repeated).status == 422
