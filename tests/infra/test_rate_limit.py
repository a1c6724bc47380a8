"""The per-key rate limit at the edge (SPEC 3): a WAF rate-based rule on the API's stage, counted per
`Authorization` header, answering 429 with a problem document and Retry-After."""

from __future__ import annotations

import json
from typing import Any

from functions.shared import problems
from infra import constants
from tests.infra import cfn


def _web_acl(template: cfn.Template) -> tuple[str, dict[str, Any]]:
    acl_id, acl = template.only("AWS::WAFv2::WebACL")
    return acl_id, acl["Properties"]


def per_key_rule(template: cfn.Template) -> dict[str, Any]:
    """The web ACL's rate-based rules: there is one, and it counts per API key."""
    _, acl = _web_acl(template)
    rules = [rule for rule in acl["Rules"] if "RateBasedStatement" in rule["Statement"]]
    assert len(rules) == 1, rules
    return rules[0]


def test_the_web_acl_guards_the_api_stage_every_v1_request_reaches(template: cfn.Template) -> None:
    acl_id, acl = _web_acl(template)
    _, association = template.only("AWS::WAFv2::WebACLAssociation")
    api, _ = template.only("AWS::ApiGateway::RestApi")
    stage, _ = template.only("AWS::ApiGateway::Stage")
    target = cfn.render(association["Properties"]["ResourceArn"])

    assert acl["Scope"] == "REGIONAL"
    assert cfn.referenced_id(association["Properties"]["WebACLArn"]) == acl_id
    assert f":apigateway:<AWS::Region>::/restapis/<{api}>/stages/<{stage}>" in target
    assert acl["DefaultAction"] == {"Allow": {}}  # only the rule refuses anything


def test_the_rule_counts_each_api_key_alone(template: cfn.Template) -> None:
    statement = per_key_rule(template)["Statement"]["RateBasedStatement"]

    assert statement["AggregateKeyType"] == "CUSTOM_KEYS"
    (key,) = statement["CustomKeys"]  # the header alone: not the address, not the path
    assert key["Header"]["Name"].lower() == "authorization"
    # `Bearer`, `bearer` and extra spaces are one key (the edge accepts them all), not extra budgets
    transformations = {t["Type"] for t in key["Header"]["TextTransformations"]}
    assert {"LOWERCASE", "COMPRESS_WHITE_SPACE"} <= transformations
    # every route, every method, but the API's document (served without credentials: a client
    # sending its key with every request can read it while throttled; a contract tester's)
    # (its path exactly: a path that only ends so is another route's, counted)
    either = statement["ScopeDownStatement"]["NotStatement"]["Statement"]["OrStatement"]["Statements"]
    matches = [s["ByteMatchStatement"] for s in either]
    assert {(m["PositionalConstraint"], str(m["FieldToMatch"])) for m in matches} == {
        ("EXACTLY", str({"UriPath": {}}))
    }
    assert sorted(m["SearchString"] for m in matches) == [
        f"/{constants.STAGE_NAME}/v1/openapi.json",
        "/v1/openapi.json",
    ]


def test_the_default_limit_is_the_constant_per_second_over_the_window(template: cfn.Template) -> None:
    statement = per_key_rule(template)["Statement"]["RateBasedStatement"]

    assert statement["EvaluationWindowSec"] == constants.RATE_LIMIT_WINDOW_SECONDS
    assert statement["Limit"] == constants.RATE_LIMIT_PER_KEY * constants.RATE_LIMIT_WINDOW_SECONDS
    # one program's integration at SPEC 1's scale (3,000 events/s) is not refused by default
    assert constants.RATE_LIMIT_PER_KEY > 3000


def test_over_the_limit_the_answer_is_429_with_a_problem_document_and_retry_after(
    template: cfn.Template,
) -> None:
    _, acl = _web_acl(template)
    response = per_key_rule(template)["Action"]["Block"]["CustomResponse"]
    body = acl["CustomResponseBodies"][response["CustomResponseBodyKey"]]
    document = json.loads(body["Content"])
    headers = {h["Name"]: h["Value"] for h in response["ResponseHeaders"]}

    assert response["ResponseCode"] == 429
    assert document == problems.problem(429, document["detail"])  # the functions' own 429 document
    assert body["ContentType"] == "APPLICATION_JSON"  # WAF allows no application/problem+json
    assert int(headers["Retry-After"]) == constants.RATE_LIMIT_WINDOW_SECONDS


def test_waf_keeps_no_sample_of_requests_which_carry_api_keys(template: cfn.Template) -> None:
    _, acl = _web_acl(template)
    configs = [acl["VisibilityConfig"], *(rule["VisibilityConfig"] for rule in acl["Rules"])]

    assert all(config["SampledRequestsEnabled"] is False for config in configs)
    assert all(config["CloudWatchMetricsEnabled"] is True for config in configs)  # blocks are counted
    assert not template.of_type("AWS::WAFv2::LoggingConfiguration")  # would log the header


def test_the_local_system_enforces_the_deployed_default_limit() -> None:
    from local_system import edge

    assert edge.RATE_LIMIT_PER_KEY == constants.RATE_LIMIT_PER_KEY
    assert edge.RATE_LIMIT_WINDOW_SECONDS == constants.RATE_LIMIT_WINDOW_SECONDS
    limiter = edge.RateLimiter()
    assert limiter.limit == constants.RATE_LIMIT_PER_KEY * constants.RATE_LIMIT_WINDOW_SECONDS
