"""A retry reaching a copy of a function whose clock is behind the one that took the request
(SPEC 3.1, 3.4): the same id with the same body answers the same, though its `occurred_at` is now
more than 5 minutes ahead of the clock that reads it. Through the real handlers on moto; the clock
moves between two calls as it differs between two Lambda copies."""

from __future__ import annotations

from datetime import timedelta

import botocore.client
import pytest

from functions.shared.clock import FixedClock
from tests.integration.scoring_support import drain, signup
from tests.support import call, proxy_event

AHEAD = timedelta(minutes=4)  # allowed by copy A's clock: SPEC 3.1 refuses more than 5
BEHIND = timedelta(minutes=2)  # copy B's clock, behind A's: the time is 6 minutes ahead of it


def _iso(at):
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def copy_b(env, monkeypatch):
    """Turns the functions' clock into copy B's: `BEHIND` copy A's (the `env` clock)."""

    def behind():
        monkeypatch.setattr(env.deps, "clock", FixedClock(env.clock.now() - BEHIND))

    return behind


@pytest.fixture
def event_item_calls(monkeypatch):
    """The DynamoDB operations on one event's item, by name: `calls(event_id)`."""
    real = botocore.client.BaseClient._make_api_call
    seen: list[tuple[str, str]] = []

    def recording(self, operation, params):
        if self.meta.service_model.service_name == "dynamodb":
            seen.append((operation, str(params.get("Key") or params.get("Item"))))
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)

    def calls(event_id):
        found = [operation for operation, key in seen if f"#EVENT#{event_id}'" in key]
        seen.clear()
        return found

    return calls


def _post_event(env, event, query=None):
    key = env.tenant.keys["integration"]
    return call("ingest", proxy_event("POST", "/v1/events", event, key, query=query))


def _event(env, event_id):
    return call("ingest", proxy_event("GET", f"/v1/events/{event_id}", None, env.tenant.keys["integration"]))


def _loyalty(env, action, body):
    return call("loyalty", proxy_event("POST", f"/v1/loyalty/{action}", body, env.tenant.keys["integration"]))


def _balance(env, customer_id):
    """The customer's balance, and its points earned and spent today."""
    key = env.tenant.keys["fraud"]
    seen = call("loyalty", proxy_event("GET", f"/v1/loyalty/customers/{customer_id}", None, key))
    assert seen.status == 200, seen
    figures = seen.body["aggregates"]
    return seen.body["balance"], figures["earned"]["today"], figures["spent"]["today"]


# --- events ----------------------------------------------------------------------------------
def test_an_event_retried_on_a_copy_whose_clock_is_behind_is_answered_as_accepted(env, copy_b):
    # Given an event dated 4 minutes ahead, accepted by copy A
    event = signup("p-skew", at=_iso(env.clock.now() + AHEAD))
    first = _post_event(env, event)
    assert first.status == 202, first
    assert len(env.aws.queued()) == 1
    # When the client's retry of the same request reaches copy B, 2 minutes behind
    copy_b()
    again = _post_event(env, event)
    # Then it answers the same, and nothing is sent to scoring again
    assert again.status == 202, again
    assert again.body == {"event_id": event["id"], "status": "queued"}
    assert len(env.aws.queued()) == 1
    # and a retry asking for the decision gets it, scored once
    decided = _post_event(env, event, {"wait": "decision"})
    assert decided.status == 200, decided
    assert decided.body["status"] == "scored"
    drain(env.aws)
    seen = _event(env, event["id"]).body
    assert (seen["status"], seen["decision"]) == ("scored", decided.body["decision"])


def test_a_new_event_costs_one_write_and_only_a_retry_refused_for_its_time_a_read(
    env, copy_b, event_item_calls
):
    # the ordinary path: the conditional put alone, as before (the id's check is the put's)
    event = signup("p-skew-cost", at=_iso(env.clock.now() + AHEAD))
    assert _post_event(env, event).status == 202
    assert event_item_calls(event["id"]) == ["PutItem"]
    # a retry on copy B: refused by its clock, the stored event is read once, nothing written
    copy_b()
    assert _post_event(env, event).status == 202
    assert event_item_calls(event["id"]) == ["GetItem"]


def test_another_body_under_a_used_id_is_409_on_a_copy_whose_clock_is_behind(env, copy_b):
    event = signup("p-skew-2", at=_iso(env.clock.now() + AHEAD))
    assert _post_event(env, event).status == 202
    copy_b()

    other = {**event, "partner": {**event["partner"], "name": "Someone Else"}}
    answer = _post_event(env, other)

    # the id is taken by another body: that is what the client must hear, whatever the time
    assert answer.status == 409, answer
    assert "different body" in answer.body["detail"]
    assert len(env.aws.queued()) == 1


def test_a_new_event_too_far_ahead_of_the_copy_that_reads_it_is_still_422(env, copy_b):
    copy_b()
    event = signup("p-skew-3", at=_iso(env.clock.now() + AHEAD))  # 6 minutes ahead of copy B

    answer = _post_event(env, event)

    assert answer.status == 422, answer
    assert answer.body["errors"] == [
        {"field": "occurred_at", "message": "must be from 2000-01-01 to 5 minutes after now"}
    ]
    assert _event(env, event["id"]).status == 404  # nothing recorded, nothing queued
    assert env.aws.queued() == []


# --- loyalty ---------------------------------------------------------------------------------
def test_an_earn_retried_on_a_copy_whose_clock_is_behind_answers_as_the_first_time(env, copy_b):
    body = {
        "id": "earn-skew-1",
        "customer_id": "lc-1",
        "points": 50,
        "kind": "purchase",
        "occurred_at": _iso(env.clock.now() + AHEAD),
    }
    first = _loyalty(env, "earn", body)
    assert first.status == 200, first
    copy_b()

    again = _loyalty(env, "earn", body)

    assert again.status == 200, again
    assert again.body == first.body == {"granted": 50, "requested": 50, "balance": 50, "limited_by": None}
    assert _balance(env, "lc-1") == (50, 50, 0)  # earned once


def test_a_spend_retried_on_a_copy_whose_clock_is_behind_answers_as_the_first_time(env, copy_b):
    earn = {"id": "earn-skew-2", "customer_id": "lc-2", "points": 80, "kind": "purchase"}
    assert _loyalty(env, "earn", earn).status == 200
    ahead = _iso(env.clock.now() + AHEAD)
    body = {"id": "spend-skew-2", "customer_id": "lc-2", "points": 30, "occurred_at": ahead}
    first = _loyalty(env, "spend", body)
    assert first.status == 200, first
    copy_b()

    again = _loyalty(env, "spend", body)

    assert again.status == 200, again
    assert again.body == first.body == {"balance": 50}
    assert _balance(env, "lc-2") == (50, 80, 30)  # spent once


def test_loyalty_on_a_copy_whose_clock_is_behind_another_body_is_409_a_new_id_422(env, copy_b):
    ahead = _iso(env.clock.now() + AHEAD)
    body = {"id": "earn-skew-3", "customer_id": "lc-3", "points": 40, "kind": "purchase"}
    body["occurred_at"] = ahead
    assert _loyalty(env, "earn", body).status == 200
    copy_b()

    other = _loyalty(env, "earn", {**body, "points": 41})
    spend = {"id": "earn-skew-3", "customer_id": "lc-3", "points": 1, "occurred_at": ahead}
    spent_as = _loyalty(env, "spend", spend)  # the earn's id
    new = _loyalty(env, "earn", {**body, "id": "earn-skew-4"})
    new_spend = _loyalty(env, "spend", {**spend, "id": "spend-skew-4"})

    assert (other.status, spent_as.status) == (409, 409), (other, spent_as)
    assert "different body" in other.body["detail"]
    for answer in (new, new_spend):
        assert answer.status == 422, answer
        assert answer.body["errors"] == [
            {"field": "occurred_at", "message": "must be from 2000-01-01 to 5 minutes after now"}
        ]
    assert _balance(env, "lc-3") == (40, 40, 0)  # nothing else counted
