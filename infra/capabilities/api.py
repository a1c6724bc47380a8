"""The REST API, built from the route table (`functions.shared.routes.ROUTES`) that the local system
serves too: one Lambda per function folder named in it, one method per route.

API keys are checked at the gateway by the edge authorizer (`functions/authorizer/`, a Lambda REQUEST
authorizer on every credentialed method, its answers cached `AUTHORIZER_CACHE_SECONDS` per
Authorization header); roles, signatures, media types and the 64 KiB body limit by the shared edge in
every function (`functions/shared/api.py`), in a fixed order and with problem documents. API Gateway
adds stage throttling, access logs, execution logs at ERROR (their group, which API Gateway makes,
given the stack's retention: `execution_logs.py`), tracing, and problem documents for the answers it
gives itself (unknown route, refused key, throttled, too large, timed out, any other). See
docs/design.md, "Infrastructure" and "Edge authentication".
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.shared import problems
from functions.shared.routes import ROUTES, Route
from infra import constants, permissions
from infra.capabilities.execution_logs import ExecutionLogRetention
from infra.capabilities.lambda_factory import LambdaFactory
from infra.capabilities.nag import acknowledge

# The answers API Gateway gives without calling a function, as the same problem documents (their
# titles and types from `problems.TITLES`, as the functions' own), with the seconds of `Retry-After`
# where the client should come back (SPEC 3: a 429 says when).
GATEWAY_PROBLEMS: tuple[tuple[apigw.ResponseType, int, str, int | None], ...] = (
    # a path or method outside the route table (API Gateway's own answer would be a 403)
    (apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 404, "no such route", None),
    (
        apigw.ResponseType.THROTTLED,
        429,
        "request rate over the limit; retry later",
        constants.THROTTLED_RETRY_AFTER_SECONDS,
    ),
    (apigw.ResponseType.REQUEST_TOO_LARGE, 413, "the body is over the limit", None),
    (apigw.ResponseType.INTEGRATION_TIMEOUT, 504, "the request took too long", None),
)


def gateway_problem(status: int, detail: str) -> str:
    if status not in problems.TITLES:
        raise ValueError(f"no title for {status} in functions/shared/problems.py TITLES")
    return json.dumps(problems.problem(status, detail))


def default_problem(title: str) -> str:
    """A problem document for API Gateway's other answers: their status is theirs, their detail
    API Gateway's message (a JSON string as `$context.error.messageString` gives it)."""
    document = json.dumps({"type": f"/problems/{title.lower().replace(' ', '-')}", "title": title})
    return document[:-1] + ', "detail": $context.error.messageString}'


def authorizer_cache_arn(rest_api_id: str) -> str:
    """The IAM resource of FlushStageAuthorizersCache (DELETE) on the API's one stage."""
    return (
        f"arn:{Aws.PARTITION}:apigateway:{Aws.REGION}::/restapis/{rest_api_id}"
        f"/stages/{constants.STAGE_NAME}/cache/authorizers"
    )


def pascal(response_type: str) -> str:
    return "".join(part.capitalize() for part in response_type.split("_"))


def access_log_format() -> apigw.AccessLogFormat:
    """One JSON line per request. No headers, no body: keys and personal data never reach it."""
    field = apigw.AccessLogField
    line = {
        "requestId": field.context_request_id(),
        "requestTime": field.context_request_time(),
        "sourceIp": field.context_identity_source_ip(),
        "userAgent": field.context_identity_user_agent(),
        "httpMethod": field.context_http_method(),
        "resourcePath": field.context_resource_path(),
        "status": field.context_status(),
        "responseLength": field.context_response_length(),
        "responseLatency": field.context_response_latency(),
        "integrationLatency": field.context_integration_latency(),
        "errorType": field.context_error_response_type(),
        "xrayTraceId": field.context_xray_trace_id(),
    }
    return apigw.AccessLogFormat.custom(json.dumps(line))


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: LambdaFactory,
        routes: Sequence[Route] = ROUTES,
        authorizer_concurrency: int | None = None,
    ) -> None:
        """`authorizer_concurrency`: executions kept for the authorizer alone (`-c authorizerConcurrency`):
        every request needs it, and when the account's concurrency runs out (ingest stretched out by a
        slow table, say) it would be throttled with the rest, every program refused."""
        super().__init__(scope, construct_id)
        names = dict.fromkeys(route.function for route in routes)
        specs = {spec.name: spec for spec in constants.API_FUNCTIONS}
        self.functions: dict[str, lambda_.Function] = {
            name: factory.function(self, spec=specs[name]) for name in names
        }
        access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            retention=logs.RetentionDays[constants.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        public = {
            f"{route.path}/{route.method}": apigw.MethodDeploymentOptions(
                throttling_rate_limit=constants.PUBLIC_THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=constants.PUBLIC_THROTTLE_BURST,
                logging_level=apigw.MethodLoggingLevel.ERROR,
            )
            for route in routes
            if route.public
        }
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            # its stack's: API Gateway's metrics (the 5xx alarm's) are per API name in the account and
            # region, so two stacks' APIs of one name would raise each other's alarms
            rest_api_name=f"{Stack.of(self).stack_name}-api",
            description="Fraud management HTTP API (routes from functions/shared/routes.py)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway writes logs through an account-wide role; a fresh account has none.
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name=constants.STAGE_NAME,
                throttling_rate_limit=constants.THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=constants.THROTTLE_BURST,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=access_log_format(),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # full request logging would write keys and personal data
                tracing_enabled=True,
                method_options=public,
            ),
        )

        # API Gateway makes the execution log group itself, with no expiry: the stack's retention
        ExecutionLogRetention(self, "ExecutionLogs", rest_api=self.rest_api)

        def static(headers: dict[str, str]) -> dict[str, str]:  # API Gateway's quoting of a fixed value
            return {name: f"'{value}'" for name, value in headers.items()}

        for response_type, status, detail, retry_after in GATEWAY_PROBLEMS:
            headers = static(
                {"Content-Type": problems.PROBLEM_JSON, **problems.answer_headers(status, retry_after)}
            )
            self.rest_api.add_gateway_response(
                f"Problem{status}",
                type=response_type,
                status_code=str(status),
                response_headers=headers,
                templates={"application/json": gateway_problem(status, detail)},
            )
        for response_type, (status, detail, retry_after) in problems.EDGE_ANSWERS.items():
            headers = static(
                {"Content-Type": problems.PROBLEM_JSON, **problems.answer_headers(status, retry_after)}
            )
            self.rest_api.add_gateway_response(
                f"Edge{pascal(response_type)}",
                type=apigw.ResponseType.of(response_type),
                status_code=str(status),
                response_headers=headers,
                templates={"application/json": gateway_problem(status, detail)},
            )
        # Any other answer API Gateway gives itself keeps its status, as a problem document too
        for default, construct_id, title in (
            (apigw.ResponseType.DEFAULT_4_XX, "Default4xx", "Request refused at the edge"),
            (apigw.ResponseType.DEFAULT_5_XX, "Default5xx", "Edge error"),
        ):
            self.rest_api.add_gateway_response(
                construct_id,
                type=default,
                response_headers={"Content-Type": f"'{problems.PROBLEM_JSON}'"},
                templates={"application/json": default_problem(title)},
            )
        # The edge authorizer: every credentialed method, its answers cached per Authorization header
        self.authorizer_function = factory.function(
            self, spec=constants.AUTHORIZER, reserved_concurrency=authorizer_concurrency
        )
        self.authorizer = apigw.RequestAuthorizer(
            self,
            "EdgeAuthorizer",
            authorizer_name="api-key",
            handler=self.authorizer_function,
            identity_sources=[apigw.IdentitySource.header("Authorization")],
            results_cache_ttl=Duration.seconds(constants.AUTHORIZER_CACHE_SECONDS),
        )
        integrations = {
            name: apigw.LambdaIntegration(function, allow_test_invoke=False)
            for name, function in self.functions.items()
        }
        for route in routes:
            resource = self.rest_api.root.resource_for_path(route.path)
            if route.public:
                method = resource.add_method(route.method, integrations[route.function])
            else:
                method = resource.add_method(
                    route.method, integrations[route.function], authorizer=self.authorizer
                )
            self._acknowledge_edge_authentication(method, route)
        for name, function in self.functions.items():
            if permissions.access_of(name).flush_authorizer_cache:
                self._may_flush_the_authorizer_cache(function)
        self._acknowledge_api_findings(access_logs)

    def _may_flush_the_authorizer_cache(self, function: lambda_.Function) -> None:
        """FlushStageAuthorizersCache on this API's stage alone (a revocation stops the key at once)."""
        function.add_environment("REST_API_ID", self.rest_api.rest_api_id)
        function.add_environment("API_STAGE_NAME", constants.STAGE_NAME)
        function.add_to_role_policy(
            iam.PolicyStatement(
                actions=["apigateway:DELETE"],
                resources=[authorizer_cache_arn(self.rest_api.rest_api_id)],
            )
        )

    @staticmethod
    def _acknowledge_edge_authentication(method: apigw.Method, route: Route) -> None:
        if route.public:
            reason = f"{route.method} {route.path} is public by contract (SPEC 3): no credentials."
            rules: tuple[str, ...] = ("AwsSolutions-APIG4", "AwsSolutions-COG4")
        else:
            reason = (
                "Callers authenticate with program API keys (Authorization: Bearer, SPEC 2), checked "
                "by the edge's Lambda REQUEST authorizer against hashed keys in the table; a Cognito "
                "user pool authorizer would not fit the contract."
            )
            rules = ("AwsSolutions-COG4",)
        for rule in rules:
            acknowledge(method, rule, reason)
        # Checkov asks for any authorizer at all: acknowledged only on a method that has none.
        cfn_method = method.node.default_child
        assert isinstance(cfn_method, apigw.CfnMethod)
        if cfn_method.authorization_type in (None, apigw.AuthorizationType.NONE.value):
            acknowledge(method, "CKV_AWS_59", reason)

    def _acknowledge_api_findings(self, access_logs: logs.LogGroup) -> None:
        acknowledge(
            self.rest_api.node.find_child("CloudWatchRole"),
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonAPIGatewayPushToCloudWatchLogs]",
            "The account-wide role API Gateway writes access and execution logs with; AWS maintains this "
            "service-role policy for exactly that, and API Gateway alone assumes it.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG2",
            "Requests are validated by each function's edge, after authentication, with RFC 9457 problem "
            "documents naming each bad field (SPEC 3). API Gateway validation would answer before "
            "authentication, in another format, from a second copy of the models.",
        )
        acknowledge(
            self.rest_api.deployment_stage,
            "CKV_AWS_120",
            "No API Gateway cache: every answer depends on the caller's key and on state that changes "
            "with each event (cases, holds, balances); a cache keyed on the path would serve one "
            "caller's data to another, or stale decisions.",
        )
        acknowledge(
            access_logs,
            "CKV_AWS_158",
            "Encrypted at rest by CloudWatch Logs' own keys. The access log holds no headers and no "
            "bodies (no keys, no personal data beyond the caller's address) and expires in 30 days; a "
            "customer managed key would add a key policy to keep in step with the readers for nothing more.",
        )
