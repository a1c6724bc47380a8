"""The edge over real HTTP (issue 18): a local system started with a low per-key rate limit, as
`-c rateLimitPerKey` sets it when deployed, answers 429 with Retry-After in a problem document;
an unknown key never reaches a function."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.e2e.conftest import LocalSystem, started_local_system

pytestmark = pytest.mark.e2e
PER_MINUTE = 3


@pytest.fixture(scope="module")
def limited() -> Iterator[LocalSystem]:
    with started_local_system(LOCAL_RATE_LIMIT_PER_KEY=str(PER_MINUTE / 60)) as system:
        yield system


def test_a_key_over_its_rate_gets_429_with_retry_after(limited: LocalSystem):
    fraud, admin = limited.session("fraud"), limited.session("admin")

    answers = [fraud.get(f"{limited.api_url}/v1/me", timeout=10) for _ in range(PER_MINUTE + 1)]

    assert [a.status_code for a in answers[:PER_MINUTE]] == [200] * PER_MINUTE
    refused = answers[-1]
    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # the limit is per key: another key of the same program goes on
    assert admin.get(f"{limited.api_url}/v1/me", timeout=10).status_code == 200


def test_an_unknown_key_is_refused_at_the_edge_over_http(limited: LocalSystem):
    real = limited.keys["viewer"]
    unknown = real.replace(real.split("_")[1], "0" * 16)

    answer = requests.get(
        f"{limited.api_url}/v1/cases", headers={"Authorization": f"Bearer {unknown}"}, timeout=10
    )

    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["detail"].startswith("malformed, unknown or revoked API key")
