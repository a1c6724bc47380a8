"""Paging: an edited cursor whose position names an id no listing ever gives (over 1,024
bytes) reaches DynamoDB as a Query key condition, which DynamoDB refuses with a ValidationException
("Aggregated size of all range keys has exceeded the size limit of 1024 bytes"); the adapter maps
that to a bug: 500 "an unexpected error occurred". moto does not check key sizes in a Query, so
this file stands in for DynamoDB with the one rule, at the botocore call (as DynamoDB would answer).

The project knows the class: `GET /v1/loyalty/campaigns` refuses such a cursor with a 422 before
any query (`loyalty/service.py:campaigns_page`, test_loyalty_campaigns.py
`test_a_cursor_whose_position_is_no_campaign_id_is_422`: "a sort key past 1,024 bytes ... is
DynamoDB's ValidationException: a 500"), and that listing passes here. Every other listing checks
only the type of the position's id (`paging.decode_cursor`: `str`), not that it is an id."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.writes import PutCase, Step
from tests.integration.test_removed_pages import a_case
from tests.support import call, proxy_event

LONG = "x" * 1100
AT = "2026-11-02T09:00:00+00:00"


@pytest.fixture
def dynamodb_key_sizes(monkeypatch):
    """DynamoDB's rule on key values, applied to a Query's key condition as DynamoDB applies it."""
    original = BaseClient._make_api_call

    def checked(self, operation, params):
        if operation == "Query":
            names = set(re.findall(r":\w+", params.get("KeyConditionExpression", "")))
            for name in names:
                value = params.get("ExpressionAttributeValues", {}).get(name, {})
                if "S" in value and len(value["S"].encode("utf-8", "surrogatepass")) > 1024:
                    raise ClientError(
                        {
                            "Error": {
                                "Code": "ValidationException",
                                "Message": "One or more parameter values were invalid: Aggregated size of "
                                "all range keys has exceeded the size limit of 1024 bytes",
                            }
                        },
                        operation,
                    )
        return original(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", checked)


def cursor(after: list, query: dict) -> str:
    raw = json.dumps({"after": after, "query": query}, separators=(",", ":"))
    text = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert len(text) <= 2000  # within the length the routes take
    return text


def cases_query(program_id: str, **changes: str) -> dict:
    return {
        "program_id": program_id,
        "view": "active",
        "q": "",
        "status": "",
        "sort": "flagged_at",
        "order": "desc",
        **changes,
    }


def listings(program_id: str):
    rewards = {"program_id": program_id, "partner_id": "", "customer_id": "", "status": ""}
    return {
        "cases by flag": ("cases", "/v1/cases", {}, cursor([AT, LONG], cases_query(program_id))),
        "cases by hold": (
            "cases",
            "/v1/cases",
            {"sort": "hold_amount"},
            cursor([5, LONG], cases_query(program_id, sort="hold_amount")),
        ),
        "resolved by resolution": (
            "cases",
            "/v1/cases",
            {"view": "resolved", "sort": "resolved_at"},
            cursor([AT, LONG], cases_query(program_id, view="resolved", sort="resolved_at")),
        ),
        "rewards": ("cases", "/v1/rewards", {}, cursor([AT, LONG], rewards)),
        "rewards of a partner": (
            "cases",
            "/v1/rewards",
            {"partner_id": "p1"},
            cursor([AT, LONG], {**rewards, "partner_id": "p1"}),
        ),
        "removed partners": (
            "cases",
            "/v1/removed-partners",
            {},
            cursor([AT, LONG], {"view": "removed", "program_id": program_id}),
        ),
        "audit trail": (
            "cases",
            "/v1/cases/c0000/audit",
            {},
            cursor([AT, LONG], {"audit": "c0000", "program_id": program_id}),
        ),
        "disputes": (
            "disputes",
            "/v1/disputes",
            {},
            cursor([AT, LONG, "c"], {"listing": "disputes", "status": "open"}),
        ),
        "campaigns (control: passes)": (
            "loyalty",
            "/v1/loyalty/campaigns",
            {},
            cursor([LONG], {"campaigns": program_id}),
        ),
    }


@pytest.mark.parametrize(
    "name",
    [
        "cases by flag",
        "cases by hold",
        "resolved by resolution",
        "rewards",
        "rewards of a partner",
        "removed partners",
        "audit trail",
        "disputes",
        "campaigns (control: passes)",
    ],
)
def test_a_cursor_whose_position_names_no_id_is_a_422_before_any_query(aws, tenant, dynamodb_key_sizes, name):
    aws.repository.apply(Step([PutCase(a_case(tenant.program_id, 0))]))
    function, path, query, forged = listings(tenant.program_id)[name]
    key = tenant.keys["fraud"]
    if function == "disputes":
        key = tenancy.create_key(
            aws.repository, FixedClock(datetime(2026, 11, 1, tzinfo=UTC)), None, "security", "S"
        )[1]

    answer = call(function, proxy_event("GET", path, None, key, query={**query, "cursor": forged}))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


# A position's bound is in UTF-8 bytes: 256 emoji are 256 characters and 1,024 bytes, past
# DynamoDB's key limit once the key adds its instant (a character bound let them through: a 500).
WIDE = "\U0001f600" * 256  # 256 characters, 1,024 bytes


def utf8_cursor(after: list, query: dict) -> str:
    raw = json.dumps({"after": after, "query": query}, separators=(",", ":"), ensure_ascii=False)
    text = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    assert len(text) <= 2000
    return text


def test_a_cursor_position_of_256_emoji_is_a_422_not_a_500(aws, tenant, dynamodb_key_sizes):
    aws.repository.apply(Step([PutCase(a_case(tenant.program_id, 0))]))
    forged = utf8_cursor([AT, WIDE], cases_query(tenant.program_id))
    answer = call(
        "cases", proxy_event("GET", "/v1/cases", None, tenant.keys["fraud"], query={"cursor": forged})
    )
    assert answer.status == 422, answer


def test_a_rewards_cursor_position_of_256_emoji_is_a_422_not_a_500(aws, tenant, dynamodb_key_sizes):
    query = {"program_id": tenant.program_id, "partner_id": "", "customer_id": "", "status": ""}
    forged = utf8_cursor([AT, WIDE], query)
    answer = call(
        "cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"cursor": forged})
    )
    assert answer.status == 422, answer
