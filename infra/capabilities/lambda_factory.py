"""The one place that builds a Lambda function: runtime, architecture, code, tracing, logs, its own
role with exactly what infra/permissions.py grants it, and the environment that names those
resources (a function learns a resource's name only when it may use it)."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Duration, RemovalPolicy, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants, permissions
from infra.capabilities.nag import acknowledge
from infra.constants import FunctionSpec

_RUNTIMES = {
    "3.11": lambda_.Runtime.PYTHON_3_11,
    "3.12": lambda_.Runtime.PYTHON_3_12,
    "3.13": lambda_.Runtime.PYTHON_3_13,
}
_ARCHITECTURES = {"arm64": lambda_.Architecture.ARM_64, "x86_64": lambda_.Architecture.X86_64}


@dataclass(frozen=True)
class SharedResources:
    """What functions may be granted: the table, the scoring queue, the bus, the network pepper, the
    webhooks' queue and key, the key of programs' signing secrets, the workflow queue."""

    table: dynamodb.ITable
    scoring_queue: sqs.IQueue
    bus: events.IEventBus
    network_pepper: secretsmanager.ISecret
    webhooks_queue: sqs.IQueue | None = None  # SPEC 6: notifications in, tries scheduled
    webhook_key: kms.IKey | None = None  # seals webhook secrets
    workflow_queue: sqs.IQueue | None = None  # loyalty workflow runs
    program_secrets_key: kms.IKey | None = None  # seals programs' request-signing secrets (SPEC 2)


@dataclass(frozen=True)
class FailurePolicy:
    """For asynchronously invoked functions (schedules): Lambda's own retries, then a queue."""

    retries: int
    max_event_age: Duration
    dead_letter_queue: sqs.IQueue


def pascal_case(name: str) -> str:
    """`outbox_relay` -> `OutboxRelay`."""
    return "".join(part.capitalize() for part in name.split("_"))


def policy_statements(
    access: permissions.Access, resources: SharedResources, *, function_arn: str | None = None
) -> list[iam.PolicyStatement]:
    """`function_arn`: the function's own, built from its name (`own_arn`), never read from the
    function construct: the function depends on its role's policy, which would then depend on it."""
    table_arn = resources.table.table_arn
    statements = []
    if access.table:  # every item but the API keys' (`api_keys` below)
        statements.append(
            iam.PolicyStatement(
                actions=sorted(access.table),
                resources=[table_arn],
                conditions=permissions.other_items_condition(),
            )
        )
    if access.api_keys:
        # the same table, but only the items whose partition key is an API key's
        statements.append(
            iam.PolicyStatement(
                actions=sorted(access.api_keys),
                resources=[table_arn],
                conditions=permissions.api_key_items_condition(),
            )
        )
    if access.clears_outbox:  # a batch write on notification items alone
        statements.append(
            iam.PolicyStatement(
                actions=[permissions.BATCH_WRITE_ITEM],
                resources=[table_arn],
                conditions=permissions.notification_items_condition(),
            )
        )
    if access.deletes:  # a deletion of the kinds of items it deletes alone
        statements.append(
            iam.PolicyStatement(
                actions=[permissions.DELETE_ITEM],
                resources=[table_arn],
                conditions=permissions.deleted_items_condition(access),
            )
        )
    if access.indexes:
        statements.append(
            iam.PolicyStatement(
                actions=[permissions.QUERY],
                resources=[f"{table_arn}/index/{name}" for name in sorted(access.indexes)],
            )
        )
    # a relay also reads how many messages wait in the queues it sends to (`gauge_queues`)
    sends = ["sqs:SendMessage", "sqs:GetQueueAttributes"] if access.gauge_queues else ["sqs:SendMessage"]
    if access.send_to_scoring:
        statements.append(iam.PolicyStatement(actions=sends, resources=[resources.scoring_queue.queue_arn]))
    if access.send_to_workflows:
        assert resources.workflow_queue is not None, "a function sends to the workflow queue: create it"
        statements.append(iam.PolicyStatement(actions=sends, resources=[resources.workflow_queue.queue_arn]))
    if access.publish_events:
        statements.append(
            iam.PolicyStatement(actions=["events:PutEvents"], resources=[resources.bus.event_bus_arn])
        )
    if access.read_network_pepper:
        # GetSecretValue alone (not `grant_read`'s DescribeSecret too): the one call the code makes
        statements.append(
            iam.PolicyStatement(
                actions=["secretsmanager:GetSecretValue"], resources=[resources.network_pepper.secret_arn]
            )
        )
    if access.send_to_webhooks:
        assert resources.webhooks_queue is not None, "the webhooks queue is not in this stack"
        statements.append(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[resources.webhooks_queue.queue_arn])
        )
    if access.webhook_secrets:
        assert resources.webhook_key is not None, "the webhook secrets' key is not in this stack"
        # only calls whose encryption context names the program and the webhook a secret is for
        statements.append(
            iam.PolicyStatement(
                actions=sorted(access.webhook_secrets),
                resources=[resources.webhook_key.key_arn],
                conditions=permissions.webhook_secrets_condition(),
            )
        )
    if access.program_secrets:
        assert resources.program_secrets_key is not None, "the program secrets' key is not in this stack"
        # only calls whose encryption context names the programs' signing secrets
        statements.append(
            iam.PolicyStatement(
                actions=sorted(access.program_secrets),
                resources=[resources.program_secrets_key.key_arn],
                conditions=permissions.program_secrets_condition(),
            )
        )
    if access.invoke_self:
        assert function_arn is not None, "a function that invokes itself: name its ARN"
        statements.append(iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[function_arn]))
    return statements


def own_arn(scope: Construct, function_name: str) -> str:
    """The ARN of the function named `function_name` in the scope's stack (unqualified: the one
    invoked by its name)."""
    return Stack.of(scope).format_arn(
        service="lambda",
        resource="function",
        resource_name=function_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )


def environment(access: permissions.Access, resources: SharedResources) -> dict[str, str]:
    """The variables the code reads (`functions.shared.config.Settings`, `network_pepper()`), for what
    the function may use."""
    env = dict(constants.POWERTOOLS_ENVIRONMENT)
    if access.uses_table:
        env["TABLE_NAME"] = resources.table.table_name
    if access.send_to_scoring:
        env["SCORING_QUEUE_URL"] = resources.scoring_queue.queue_url
    if access.send_to_workflows and resources.workflow_queue is not None:
        env["LOYALTY_WORKFLOW_QUEUE_URL"] = resources.workflow_queue.queue_url
    if access.publish_events:
        env["EVENT_BUS_NAME"] = resources.bus.event_bus_name
    if access.read_network_pepper:
        env["NETWORK_PEPPER_SECRET_ARN"] = resources.network_pepper.secret_arn  # the ARN, never the value
    if access.send_to_webhooks and resources.webhooks_queue is not None:
        env["WEBHOOKS_QUEUE_URL"] = resources.webhooks_queue.queue_url
    if access.webhook_secrets and resources.webhook_key is not None:
        env["WEBHOOKS_KMS_KEY_ID"] = resources.webhook_key.key_arn
    if access.program_secrets and resources.program_secrets_key is not None:
        env["PROGRAM_SECRETS_KMS_KEY_ID"] = resources.program_secrets_key.key_arn
    return env


class LambdaFactory:
    """Builds every function of the app from one code asset, with the same defaults."""

    def __init__(self, *, code: lambda_.Code, resources: SharedResources) -> None:
        self._code = code
        self._resources = resources

    def function(
        self,
        scope: Construct,
        *,
        spec: FunctionSpec,
        on_failure: FailurePolicy | None = None,
        reserved_concurrency: int | None = None,
    ) -> lambda_.Function:
        name = pascal_case(spec.name)
        access = permissions.access_of(spec.name)
        log_group = logs.LogGroup(
            scope,
            f"{name}Logs",
            retention=logs.RetentionDays[constants.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,
        )
        role = iam.Role(
            scope,
            f"{name}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{spec.name}: only what infra/permissions.py grants it",
        )
        log_group.grant_write(role)
        function_name = spec.function_name(Stack.of(scope).stack_name)
        for statement in policy_statements(
            access, self._resources, function_arn=own_arn(scope, function_name)
        ):
            role.add_to_policy(statement)
        function = lambda_.Function(
            scope,
            name,
            function_name=function_name,
            description=spec.description,
            runtime=_RUNTIMES[constants.PYTHON_VERSION],
            architecture=_ARCHITECTURES[constants.ARCHITECTURE],
            code=self._code,
            handler=spec.handler,
            memory_size=spec.memory_mb,
            timeout=Duration.seconds(spec.timeout_seconds),
            tracing=lambda_.Tracing.ACTIVE,
            recursive_loop=lambda_.RecursiveLoop.ALLOW if spec.loops_by_design else None,
            role=role,
            log_group=log_group,
            # the stack's name as the service its logs and metrics name (`-c stackName`)
            environment={
                **environment(access, self._resources),
                "POWERTOOLS_SERVICE_NAME": Stack.of(scope).stack_name,
            },
            retry_attempts=on_failure.retries if on_failure else None,
            max_event_age=on_failure.max_event_age if on_failure else None,
            on_failure=destinations.SqsDestination(on_failure.dead_letter_queue) if on_failure else None,
            reserved_concurrent_executions=reserved_concurrency,
        )
        acknowledge(
            function,
            "AwsSolutions-L1",
            "Python 3.11 is the version pyproject.toml pins the project to and the bundle's wheels are "
            "built for; moving the runtime is a project decision, made in one constant.",
        )
        acknowledge(
            role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level "
            "permissions. The infra tests check that nothing else is granted on '*'.",
        )
        for check, reason in _CHECKOV_FINDINGS.items():
            acknowledge(function, check, reason)
        acknowledge(function, "CKV_AWS_116", _NO_DEAD_LETTER_CONFIG[on_failure is not None])
        acknowledge(
            log_group,
            "CKV_AWS_158",
            "Encrypted at rest by CloudWatch Logs' own keys. Functions never log events, bodies or keys "
            "(POWERTOOLS_LOGGER_LOG_EVENT=false) and the logs expire in 30 days; a customer managed key "
            "would add a key policy to keep in step with every reader for nothing more.",
        )
        return function


# Checkov's findings on every function of the app, and why they stand.
_CHECKOV_FINDINGS = {
    "CKV_AWS_115": "No reserved concurrency by default: it would take capacity from the account's shared "
    "pool whether used or not (a new account's limit may be too low to deploy at all), and turn a burst "
    "into throttled requests. Stage throttling and the per-key rate limit bound the API's requests a "
    "second, the event source mapping's maximum concurrency bounds scoring, one run per schedule the "
    "others; requests a second are not functions running at once (a slow dependency multiplies them), "
    "so the authorizer every request needs can be given its own (-c authorizerConcurrency=N).",
    "CKV_AWS_117": "Not in a VPC: the functions reach only AWS APIs (DynamoDB, SQS, EventBridge, Secrets "
    "Manager, X-Ray), over TLS and with their own least-privilege roles. A VPC would add NAT gateways or "
    "endpoints, their cost and cold starts, and protect nothing more.",
    "CKV_AWS_173": "The environment holds resource names and ARNs only, never a secret (the network pepper "
    "is read from Secrets Manager by its ARN); Lambda encrypts it at rest with its own key.",
}
# CKV_AWS_116 reads DeadLetterConfig, which only asynchronous invocations use.
_NO_DEAD_LETTER_CONFIG = {
    False: "Invoked synchronously (API Gateway) or by the SQS event source mapping, never asynchronously: "
    "a failed request is answered to its caller, and a failed queue message goes to the queue's own "
    "dead-letter queue by its redrive policy. A function dead-letter queue would never receive anything.",
    True: "Failed asynchronous runs go to an on-failure destination, the schedules' dead-letter queue "
    "(which an alarm watches), rather than to a DeadLetterConfig: a destination records the error with "
    "the event.",
}
