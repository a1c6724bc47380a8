"""API Gateway's execution log group, `API-Gateway-Execution-Logs_<restApiId>/<stage>`, expires as the
stack's other logs do (`constants.LOG_RETENTION`) and goes with the stack.

API Gateway makes that group itself, with no expiry, the first time the stage logs (errors, here). A
`logs.LogGroup` of that name would fail the deploy of an existing stack whose group exists, so the
CDK's `LogRetention` custom resource sets the retention instead: it creates the group when missing and
sets the retention either way. Its function runs with a role of its own, granted on the two log groups
it touches and nothing else (the CDK's default grants its retention actions on every log group).
The CDK makes that function once per stack: a second `LogRetention` (a function's `log_retention=`)
would share it and this role, which grants nothing for its group, and fail at deploy with
AccessDenied (`tests/infra/test_console.py` holds the stack to one).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, CfnResource, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from infra import constants
from infra.capabilities.nag import acknowledge

# The construct id of the CDK's LogRetention function, one per stack, at the stack's root
PROVIDER_ID_PREFIX = "LogRetention"


def execution_log_group_name(rest_api_id: str, stage_name: str) -> str:
    return f"API-Gateway-Execution-Logs_{rest_api_id}/{stage_name}"


# Where the finding of a log group's ARN names it (`AwsSolutions-IAM5[Resource::...]`), a reference to a
# resource written as `<LogicalId>`
LOG_GROUP_FINDING = "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:{name}:*"
DESCRIPTION = "Sets the retention of API Gateway's execution log group (the CDK's LogRetention)"


class ExecutionLogRetention(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, rest_api: apigw.RestApi) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        group_name = execution_log_group_name(rest_api.rest_api_id, constants.STAGE_NAME)
        # Named, as the app's functions are, so that its role can name its log group (a reference to
        # a generated name would make the role and the function depend on each other).
        function_name = f"{stack.stack_name}-log-retention"
        function_log_group_name = f"/aws/lambda/{function_name}"

        def log_group_arn(name: str) -> str:  # CloudWatch Logs' form in IAM: the group and its streams
            return stack.format_arn(
                service="logs",
                resource="log-group",
                resource_name=f"{name}:*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )

        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=DESCRIPTION,
            inline_policies={
                "LogRetention": iam.PolicyDocument(
                    statements=[
                        # the execution log group: created when missing, expired, deleted with the stack
                        iam.PolicyStatement(
                            actions=["logs:CreateLogGroup", "logs:PutRetentionPolicy", "logs:DeleteLogGroup"],
                            resources=[log_group_arn(group_name)],
                        ),
                        # its own log group: it writes there, and gives it a retention of one day itself
                        iam.PolicyStatement(
                            actions=[
                                "logs:CreateLogGroup",
                                "logs:PutRetentionPolicy",
                                "logs:CreateLogStream",
                                "logs:PutLogEvents",
                            ],
                            resources=[log_group_arn(function_log_group_name)],
                        ),
                    ]
                )
            },
        )
        self.retention = logs.LogRetention(
            self,
            "Retention",
            log_group_name=group_name,
            retention=logs.RetentionDays[constants.LOG_RETENTION],
            removal_policy=RemovalPolicy.DESTROY,  # as the access log group
            # The CDK would add its retention actions on "*" to a role it may change: the grants
            # above are the whole of it.
            role=self.role.without_policy_updates(),
        )
        # The stage after the retention: on creation API Gateway finds the group already expiring; on
        # removal the stage (and its logging) is gone before the group is deleted.
        rest_api.deployment_stage.node.add_dependency(self.retention)
        self.provider = _provider(stack)
        function = self.provider.node.default_child
        assert isinstance(function, CfnResource)
        function.add_property_override("FunctionName", function_name)
        function.add_property_override("Description", DESCRIPTION)

        api_id = stack.get_logical_id(rest_api.node.default_child)
        self._acknowledge_findings(
            execution_log_group_name(f"<{api_id}>", constants.STAGE_NAME), function_log_group_name
        )

    def _acknowledge_findings(self, *log_group_names: str) -> None:
        for name in log_group_names:
            acknowledge(
                self.role,
                f"AwsSolutions-IAM5[{LOG_GROUP_FINDING.format(name=name)}]",
                "One log group, by its name: CloudWatch Logs' ARN of a log group ends in ':*' in IAM (the "
                "group and its streams). The CDK's log retention function touches two, each named: API "
                "Gateway's execution log group and its own.",
            )
        for rule, reason in _LOG_RETENTION_FUNCTION_FINDINGS.items():
            acknowledge(self.provider, rule, reason)


def _provider(stack: Stack) -> IConstruct:
    """The CDK's log retention function: one per stack, at its root."""
    (provider,) = [c for c in stack.node.children if c.node.id.startswith(PROVIDER_ID_PREFIX)]
    return provider


# The CDK's own log retention function (LogRetention): CloudFormation invokes it while deploying, to set
# the execution log group's retention, and while removing the stack, to delete the group.
_LOG_RETENTION_FUNCTION_FINDINGS = {
    "CKV_AWS_115": "The CDK's log retention function runs only when CloudFormation creates, changes or "
    "removes the execution log group's retention, once each time: there is no concurrency to bound.",
    "CKV_AWS_116": "The CDK's log retention function answers CloudFormation's custom resource request, "
    "which fails the deployment when it fails: no event to keep in a dead-letter queue.",
    "CKV_AWS_117": "The CDK's log retention function calls CloudWatch Logs only, over TLS with its own "
    "role; a VPC would add an endpoint or a NAT gateway to reach it and protect nothing more.",
}
