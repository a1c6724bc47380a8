"""The REST API: built from the same route table as the local system, throttled, logged, and
answering in problem documents even when API Gateway answers by itself."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Match
from aws_cdk.assertions import Template as CdkTemplate

from functions.shared import api as edge
from functions.shared import problems
from functions.shared.problems import PROBLEM_JSON
from functions.shared.routes import ROUTES, Route
from infra import constants
from tests.infra import cfn


def _methods(template: cfn.Template) -> dict[tuple[str, str], str]:
    """(method, path) -> logical id of the API Gateway method."""
    found = {}
    for method_id, method in template.of_type("AWS::ApiGateway::Method").items():
        key = (method["Properties"]["HttpMethod"], template.method_path(method_id))
        assert key not in found, f"{key} twice"
        found[key] = method_id
    return found


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.path}") for r in ROUTES])
def test_every_route_is_served_by_its_function(template: cfn.Template, route: Route) -> None:
    methods = _methods(template)
    assert (route.method, route.path) in methods, f"{route.method} {route.path} is not in the API"
    method = template.props(methods[(route.method, route.path)])

    assert method["Integration"]["Type"] == "AWS_PROXY"
    function_id = template.integration_function(methods[(route.method, route.path)])
    assert function_id is not None
    assert template.props(function_id)["Handler"] == route.handler


def test_the_api_serves_no_route_outside_the_route_table(template: cfn.Template) -> None:
    assert set(_methods(template)) == {(r.method, r.path) for r in ROUTES}


def _stage(template: cfn.Template) -> dict:
    _, stage = template.only("AWS::ApiGateway::Stage")
    return stage["Properties"]


def test_stage_is_throttled_and_traced(template: cfn.Template) -> None:
    stage = _stage(template)
    (everything,) = [
        s for s in stage["MethodSettings"] if (s["ResourcePath"], s["HttpMethod"]) == ("/*", "*")
    ]

    assert everything["ThrottlingRateLimit"] > 0
    assert everything["ThrottlingBurstLimit"] > 0
    assert stage["TracingEnabled"] is True


def test_public_routes_get_a_lower_limit_than_the_stage(template: cfn.Template) -> None:
    stage = _stage(template)
    settings = {(s["ResourcePath"], s["HttpMethod"]): s for s in stage["MethodSettings"]}
    everything = settings[("/*", "*")]

    public = [r for r in ROUTES if r.public]
    assert public
    for route in public:
        escaped = "/" + route.path.replace("/", "~1")  # API Gateway's form in method settings
        own = settings[(escaped, route.method)]
        assert own["ThrottlingRateLimit"] < everything["ThrottlingRateLimit"]
        assert own["ThrottlingBurstLimit"] < everything["ThrottlingBurstLimit"]
        assert own["LoggingLevel"] == everything["LoggingLevel"]  # a method's settings replace the stage's


def test_every_request_is_logged_without_its_content(template: cfn.Template) -> None:
    stage = _stage(template)
    access_log = stage["AccessLogSetting"]
    log_group = cfn.render(access_log["DestinationArn"])
    line = json.loads(access_log["Format"])

    assert any(f"<{g}>" in log_group for g in template.of_type("AWS::Logs::LogGroup"))
    assert {"$context.requestId", "$context.status", "$context.identity.sourceIp"} <= set(line.values())
    assert not [v for v in line.values() if "$input" in v or "header" in v.lower()]  # no bodies, no keys
    # execution logs: errors only, and never the request and response data
    CdkTemplate.from_json(template.document).has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {"ResourcePath": "/*", "LoggingLevel": "ERROR", "DataTraceEnabled": False}
                    )
                ]
            )
        },
    )


def test_the_execution_log_group_of_the_api_expires_with_the_stack_s_logs(template: cfn.Template) -> None:
    """API Gateway makes `API-Gateway-Execution-Logs_<api id>/<stage>` itself, with no expiry; the CDK's
    LogRetention gives that group (made or not yet) the stack's 30 days, run by a role of its own."""
    api, _ = template.only("AWS::ApiGateway::RestApi")
    stage_id, stage = template.only("AWS::ApiGateway::Stage")
    group = f"API-Gateway-Execution-Logs_<{api}>/{stage['Properties']['StageName']}"
    (retention_id,) = [
        k
        for k, r in template.of_type("Custom::LogRetention").items()
        if cfn.render(r["Properties"]["LogGroupName"]) == group
    ]
    retention = template.props(retention_id)

    assert retention["RetentionInDays"] == 30
    assert retention["RemovalPolicy"] == "destroy"  # goes with the stack, as the access log group
    assert retention_id in cfn.as_list(template.resources[stage_id].get("DependsOn", []))  # the stage first
    # the CDK's function, with a role of the stack's: no AWS managed policy, grants on two log groups
    role = template.function_role(cfn.referenced_id(retention["ServiceToken"]))
    assert not template.props(role).get("ManagedPolicyArns")
    log_group = "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{}:*"
    own = f"/aws/lambda/{constants.STACK_NAME}-log-retention"
    assert template.grants(role) == {
        *(
            cfn.Grant(action, log_group.format(group))
            for action in ("logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteLogGroup")
        ),
        *(
            cfn.Grant(action, log_group.format(own))
            for action in (
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
            )
        ),
    }


def test_api_gateway_answers_in_problem_documents(template: cfn.Template) -> None:
    responses = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in template.of_type("AWS::ApiGateway::GatewayResponse").values()
    }
    expected = {
        "MISSING_AUTHENTICATION_TOKEN": "404",
        "THROTTLED": "429",
        "REQUEST_TOO_LARGE": "413",
        "INTEGRATION_TIMEOUT": "504",
    }

    for response_type, status in expected.items():
        response = responses[response_type]
        document = json.loads(response["ResponseTemplates"]["application/json"])
        assert response["StatusCode"] == status
        # the same title and type a function gives for that status: one table of titles
        assert document == problems.problem(int(status), document["detail"])
        assert document["title"] == problems.TITLES[int(status)]
        assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
    # the edge's own refusals (no key, a key the authorizer denied, the authorizer failing): the
    # same documents the local gateway gives, from one table
    for response_type, (status, detail, retry_after) in problems.EDGE_ANSWERS.items():
        response = responses[response_type]
        assert response["StatusCode"] == str(status)
        assert json.loads(response["ResponseTemplates"]["application/json"]) == problems.problem(
            status, detail
        )
        assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
        if retry_after is not None:
            assert response["ResponseParameters"]["gatewayresponse.header.Retry-After"] == f"'{retry_after}'"
    assert responses["UNAUTHORIZED"]["StatusCode"] == responses["ACCESS_DENIED"]["StatusCode"] == "401"
    for refused in ("UNAUTHORIZED", "ACCESS_DENIED"):  # RFC 9110: a 401 names how to authenticate
        parameters = responses[refused]["ResponseParameters"]
        assert parameters["gatewayresponse.header.WWW-Authenticate"] == "'Bearer'"
    # anything else API Gateway answers by itself keeps its status, in a problem document
    for response_type in ("DEFAULT_4XX", "DEFAULT_5XX"):
        response = responses[response_type]
        assert "StatusCode" not in response
        assert response["ResponseParameters"]["gatewayresponse.header.Content-Type"] == f"'{PROBLEM_JSON}'"
        assert '"detail": $context.error.messageString' in response["ResponseTemplates"]["application/json"]
    # over the stage's limit: when to come back (SPEC 3), after the token bucket refills
    retry_after = responses["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"]
    assert int(retry_after.strip("'")) >= 1


def test_the_body_limit_is_the_shared_edge_s() -> None:
    # A REST API cannot be given a payload limit below its own 10 MB; the 64 KiB limit of SPEC 3 is
    # the first check of the edge every API function runs, before credentials or storage.
    assert edge.MAX_BODY_BYTES == 64 * 1024


def test_the_endpoint_is_regional(template: cfn.Template) -> None:
    _, api = template.only("AWS::ApiGateway::RestApi")
    assert api["Properties"]["EndpointConfiguration"]["Types"] == ["REGIONAL"]


@pytest.mark.parametrize("route", [pytest.param(r, id=f"{r.method} {r.path}") for r in ROUTES])
def test_every_credentialed_method_has_the_edge_authorizer_and_public_ones_none(
    template: cfn.Template, route: Route
) -> None:
    authorizer_id, authorizer = template.only("AWS::ApiGateway::Authorizer")
    method = template.props(_methods(template)[(route.method, route.path)])

    if route.public:
        assert method.get("AuthorizationType", "NONE") == "NONE" and "AuthorizerId" not in method
    else:
        assert method["AuthorizationType"] == "CUSTOM"
        assert cfn.referenced_id(method["AuthorizerId"]) == authorizer_id


def test_the_authorizer_is_a_request_authorizer_on_the_key_with_the_stated_lifetime(
    template: cfn.Template,
) -> None:
    _, authorizer = template.only("AWS::ApiGateway::Authorizer")
    props = authorizer["Properties"]

    assert props["Type"] == "REQUEST"
    assert props["IdentitySource"] == "method.request.header.Authorization"
    assert props["AuthorizerResultTtlInSeconds"] == constants.AUTHORIZER_CACHE_SECONDS == 60
    uri = cfn.render(props["AuthorizerUri"])
    function_id = template.functions_by_handler()[constants.AUTHORIZER.handler]
    assert f"<{function_id}.Arn>" in uri


def test_a_synchronous_decision_can_wait_its_longest_and_still_answer(template: cfn.Template) -> None:
    """`wait=decision` may wait `timeout_ms` up to MAX_WAIT_MS (SPEC 3.1); the ingest function must
    outlive that wait with its margin to answer, and answer within API Gateway's 29 seconds."""
    from functions.ingest import routes as ingest_routes
    from functions.ingest import service as ingest

    post = next(r for r in ROUTES if (r.method, r.path) == ("POST", "/v1/events"))
    timeout = template.props(template.functions_by_handler()[post.handler])["Timeout"]
    assert timeout * 1000 >= ingest.MAX_WAIT_MS + ingest_routes._LAMBDA_MARGIN_MS
    assert timeout < 29
