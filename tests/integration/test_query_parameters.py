"""A query parameter an operation does not take is refused (422, naming it), through the real
handlers: `GET /v1/rewards?partnerId=p1` answered every reward of the program, as if no filter had
been asked for, so a misspelt filter read as an empty one."""

from __future__ import annotations

import json

import pytest

from tests.support import call, proxy_event, sample


@pytest.mark.parametrize(
    ("function", "method", "path", "query", "unknown"),
    [
        ("cases", "GET", "/v1/rewards", {"partnerId": "p1"}, ["partnerId"]),
        (
            "cases",
            "GET",
            "/v1/rewards",
            {"partner_id": "p1", "state": "on_hold", "Limit": "5"},
            ["Limit", "state"],
        ),
        ("cases", "GET", "/v1/me", {"_": "1700000000"}, ["_"]),  # one that takes none
        ("ingest", "POST", "/v1/events", {"wait": "decision", "timeout": "900"}, ["timeout"]),
    ],
)
def test_a_query_parameter_the_operation_does_not_take_is_refused_by_name(
    aws, tenant, function, method, path, query, unknown
):
    key = tenant.keys["integration" if function == "ingest" else "fraud"]
    body = json.dumps(sample("reward.created")) if method == "POST" else None

    answer = call(function, proxy_event(method, path, body, key, query=query))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == [f"query.{name}" for name in unknown]
    assert all(name in answer.body["detail"] for name in unknown)
    assert aws.queued() == []  # an event refused so is not taken


def test_the_parameters_an_operation_takes_still_filter(aws, tenant):
    key = tenant.keys["fraud"]

    answer = call(
        "cases", proxy_event("GET", "/v1/rewards", None, key, query={"partner_id": "p1", "limit": "5"})
    )

    assert (answer.status, answer.body["items"]) == (200, [])


def test_a_caller_refused_is_told_so_before_anything_about_the_query(aws, tenant):
    # the query was judged before the key and its role: a 422 taught an unknown caller the route
    wrong_role = call(
        "cases", proxy_event("GET", "/v1/cases", None, tenant.keys["integration"], query={"x": "1"})
    )
    no_key = call("cases", proxy_event("GET", "/v1/cases", None, None, query={"x": "1"}))

    assert (wrong_role.status, no_key.status) == (403, 401)


@pytest.mark.parametrize(
    ("path", "query", "named"),
    [
        ("/v1/cases", {"view": "everything"}, ["query.view"]),  # refused by the route's declaration
        ("/v1/cases", {"view": "active", "status": "removed"}, ["query.status"]),  # by the view's rule
        ("/v1/cases", {"view": "resolved", "sort": "hold_amount"}, ["query.sort"]),
        ("/v1/cases", {"cursor": "not-a-cursor"}, ["query.cursor"]),
        ("/v1/rewards", {"status": "lost"}, ["query.status"]),
        ("/v1/rewards", {"limit": "0"}, ["query.limit"]),
    ],
)
def test_every_refused_query_parameter_is_named_alike(aws, tenant, path, query, named):
    # a route's own rules named `status`, `sort` and `cursor` bare; its declared ones `query.view`
    answer = call("cases", proxy_event("GET", path, None, tenant.keys["fraud"], query=query))

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == named


@pytest.mark.parametrize("view", ["active", "resolved"])
def test_a_case_status_filter_takes_what_the_document_lists_for_its_view(aws, tenant, view):
    # the document lists the union of both views' statuses; the server names its view's own
    from functions.openapi.handler import openapi_document

    parameters = json.loads(openapi_document())["paths"]["/v1/cases"]["get"]["parameters"]
    (status,) = [p for p in parameters if p["name"] == "status"]
    documented = status["schema"]["anyOf"][0]["enum"]
    answers = {
        value: call(
            "cases",
            proxy_event(
                "GET", "/v1/cases", None, tenant.keys["fraud"], query={"view": view, "status": value}
            ),
        )
        for value in [*documented, "bogus"]
    }

    taken = [value for value, answer in answers.items() if answer.status == 200]
    refused = answers["bogus"]
    assert refused.status == 422, refused
    assert refused.body["errors"] == [
        {"field": "query.status", "message": f"one of {', '.join(taken)} for the {view} view"}
    ]
    assert set(taken) < set(documented)
    assert f"{view} view: {', '.join(taken)}" in status["description"]


def test_a_reward_status_filter_takes_every_value_the_document_lists(aws, tenant):
    from functions.openapi.handler import openapi_document

    parameters = json.loads(openapi_document())["paths"]["/v1/rewards"]["get"]["parameters"]
    (status,) = [p for p in parameters if p["name"] == "status"]

    for value in status["schema"]["anyOf"][0]["enum"]:
        answer = call(
            "cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"status": value})
        )
        assert answer.status == 200, (value, answer)
