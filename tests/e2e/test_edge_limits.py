"""The edge over real HTTP (issue 18): a local system started with a low per-key rate limit, as
`-c rateLimitPerKey` sets it when deployed, answers 429 with Retry-After in a problem document;
an unknown key never reaches a function."""

from __future__ import annotations

import time
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

    # The windows are whole minutes, as WAF's are: the requests may straddle two (a loaded machine
    # took over a second for one), so the refusal comes after the key's rate, and at the latest
    # after twice it.
    started = time.monotonic()  # the clock the local edge keeps its windows on (one per machine)
    answers = [fraud.get(f"{limited.api_url}/v1/me", timeout=10) for _ in range(2 * PER_MINUTE + 1)]
    ended = time.monotonic()

    codes = [a.status_code for a in answers]
    assert 429 in codes, codes
    first = codes.index(429)
    assert PER_MINUTE <= first <= 2 * PER_MINUTE and set(codes[:first]) == {200}, codes
    if started // 60 == ended // 60:  # all in one window: exactly the request past the rate
        assert first == PER_MINUTE, codes
    refused = answers[first]
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # the limit is per key: another key of the same program goes on
    assert admin.get(f"{limited.api_url}/v1/me", timeout=10).status_code == 200
    # and the API's document, served without credentials, is read with the throttled key too (as
    # the WAF's rule leaves it out; a contract tester's: a client sending its key with every
    # request could not read the documentation while throttled)
    document = fraud.get(f"{limited.api_url}/v1/openapi.json", timeout=10)
    assert document.status_code == 200 and document.json()["openapi"].startswith("3.")


def test_an_unknown_key_is_refused_at_the_edge_over_http(limited: LocalSystem):
    real = limited.keys["viewer"]
    unknown = real.replace(real.split("_")[1], "0" * 16)

    answer = requests.get(
        f"{limited.api_url}/v1/cases", headers={"Authorization": f"Bearer {unknown}"}, timeout=10
    )

    assert answer.status_code == 401
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert answer.json()["detail"].startswith("malformed, unknown or revoked API key")
