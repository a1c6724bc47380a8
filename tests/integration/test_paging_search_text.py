"""Paging (paging, search): what an analyst types in the Active tab's `Search partners` box.

1. A search of 200 characters (the documented maximum, `q` max_length=200) that is mostly emoji (or
   any character beyond the BMP) gets a first page whose `next_cursor` is longer than the 2,000
   characters the same route accepts as `cursor` (`cases/routes.py:get_cases`, Query(max_length=2000)):
   page 2 answers 422 "String should have at most 2000 characters" for the cursor the API just gave.
   `paging.encode_cursor` copies the query, `q` included, into the cursor as ASCII-escaped JSON
   (`json.dumps` default ensure_ascii: one emoji is 12 characters, `\\ud83d\\ude00`) and base64 (x4/3).
2. A partner whose shown name carries an emoji (a brand, a handle: "🦄 Unicorn Deals") is not found by
   searching that emoji: `identity.searchable_name` folds the name through `normalize_name`, which
   turns every symbol into a blank, while the query, being symbols alone, falls back to its casefold
   ("punctuation alone is kept as typed"): the two never meet.
Both run on DynamoDB (moto) through the real cases handler; the plain store behaves the same
(the cause is in the service and the domain, not the adapter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.shared.domain.model import Case, Reason
from functions.shared.domain.writes import PutCase, Step
from tests.support import call, proxy_event

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def a_case(program_id: str, n: int, name: str) -> Case:
    return Case(
        program_id,
        f"c{n:04}",
        "partner",
        f"p{n}",
        name,
        [Reason("velocity", "x", 1, "a")],
        "open",
        T0 + timedelta(minutes=n),
        f"e{n}",
    )


def cases(key: str, **query: str):
    return call("cases", proxy_event("GET", "/v1/cases", None, key, query=query))


def test_the_next_page_of_a_long_search_is_reachable_with_the_cursor_the_api_gave(aws, tenant):
    aws.repository.apply(Step([PutCase(a_case(tenant.program_id, n, f"Anna {n}")) for n in range(3)]))
    q = "Anna " + "\U0001f600" * 195  # 200 characters; matches every "Anna" (the emoji fold away)
    key = tenant.keys["fraud"]

    first = cases(key, q=q, limit="1")
    assert first.status == 200 and len(first.body["items"]) == 1, first
    assert first.body["next_cursor"], first.body

    second = cases(key, q=q, limit="1", cursor=first.body["next_cursor"])

    assert second.status == 200, (len(first.body["next_cursor"]), second)
    assert len(second.body["items"]) == 1


@pytest.mark.parametrize("q", ["🦄", "🦄 Unicorn", "★"])
def test_a_partner_is_found_by_the_symbol_in_its_shown_name(aws, tenant, q):
    aws.repository.apply(
        Step(
            [
                PutCase(a_case(tenant.program_id, 0, "🦄 Unicorn Deals")),
                PutCase(a_case(tenant.program_id, 1, "★ Star Shop")),
                PutCase(a_case(tenant.program_id, 2, "Plain Partner")),
            ]
        )
    )

    answer = cases(tenant.keys["fraud"], q=q)

    assert answer.status == 200, answer
    names = [item["subject"]["name"] for item in answer.body["items"]]
    assert names and all(q.split()[0] in name for name in names), names
