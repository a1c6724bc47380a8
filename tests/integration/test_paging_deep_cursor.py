"""Paging: a cursor that is base64 of deeply nested JSON is answered 500 ("an unexpected
error occurred") by every listing, instead of the 422 (`field: cursor`) every other cursor this API
never gave gets. `paging.decode_cursor` catches ValueError/KeyError/TypeError/binascii.Error around
`json.loads`, but the JSON parser raises RecursionError on nesting deeper than the interpreter's
limit; 1,500 `[` fit in the 2,000 characters a cursor may have."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.writes import PutCase, Step
from tests.integration.test_removed_pages import a_case
from tests.support import call, proxy_event

DEEP = base64.urlsafe_b64encode(b"[" * 1500).decode().rstrip("=")  # 2,000 characters
ALSO_DEEP = base64.urlsafe_b64encode(b'{"after":' + b"[" * 1400).decode().rstrip("=")


def test_the_deep_cursor_is_within_the_length_a_cursor_may_have():
    assert len(DEEP) <= 2000 and len(ALSO_DEEP) <= 2000


@pytest.mark.parametrize("cursor", [DEEP, ALSO_DEEP], ids=["array", "in-after"])
@pytest.mark.parametrize(
    ("function", "path", "role"),
    [
        ("cases", "/v1/cases", "fraud"),
        ("cases", "/v1/rewards", "fraud"),
        ("cases", "/v1/removed-partners", "fraud"),
        ("cases", "/v1/cases/c0000/audit", "fraud"),
        ("disputes", "/v1/disputes", "security"),
        ("loyalty", "/v1/loyalty/campaigns", "fraud"),
    ],
)
def test_a_deeply_nested_cursor_is_a_422_naming_the_cursor_not_a_500(
    aws, tenant, function, path, role, cursor
):
    aws.repository.apply(Step([PutCase(a_case(tenant.program_id, 0))]))
    if role == "security":
        key = tenancy.create_key(
            aws.repository, FixedClock(datetime(2026, 11, 1, tzinfo=UTC)), None, "security", "Sec"
        )[1]
    else:
        key = tenant.keys[role]

    answer = call(function, proxy_event("GET", path, None, key, query={"cursor": cursor}))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]
