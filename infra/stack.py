"""The whole system in one stack: a thin composition of one construct per capability."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions.shared.storage import schema
from infra import constants
from infra.capabilities.access_logs import AccessLogs
from infra.capabilities.alarms import Alarms
from infra.capabilities.api import Api
from infra.capabilities.console import Console, CustomDomain
from infra.capabilities.data import DataStore, TableThroughput
from infra.capabilities.lambda_factory import LambdaFactory, SharedResources, pascal_case
from infra.capabilities.loyalty_workflows import LoyaltyWorkflows
from infra.capabilities.messaging import Messaging
from infra.capabilities.network import NetworkPepper
from infra.capabilities.program_secrets import ProgramSecrets
from infra.capabilities.rate_limit import RateLimit
from infra.capabilities.schedules import Schedules
from infra.capabilities.scoring import Scoring
from infra.capabilities.webhooks import WebhookDelivery, WebhookResources


class FraudManagementStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        lambda_asset: Path,
        console_assets: Path,
        alarm_topic_arn: str | None = None,
        rate_limit_per_key: int = constants.RATE_LIMIT_PER_KEY,
        custom_domain: CustomDomain | None = None,
        throughput: TableThroughput = TableThroughput(),
        authorizer_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id, description="Fraud management for partner and loyalty programs")
        data = DataStore(self, "Data", throughput)
        messaging = Messaging(self, "Messaging")
        pepper = NetworkPepper(self, "NetworkPepper")
        webhooks = WebhookResources(self, "Webhooks", bus=messaging.bus)
        program_secrets = ProgramSecrets(self, "ProgramSecrets")
        factory = LambdaFactory(
            code=lambda_.Code.from_asset(str(lambda_asset)),
            resources=SharedResources(
                table=data.table,
                scoring_queue=messaging.scoring_queue,
                bus=messaging.bus,
                network_pepper=pepper.secret,
                webhooks_queue=webhooks.queue,
                webhook_key=webhooks.key,
                workflow_queue=messaging.workflow_queue,
                program_secrets_key=program_secrets.key,
            ),
        )
        api = Api(self, "Api", factory=factory, authorizer_concurrency=authorizer_concurrency)
        RateLimit(
            self, "RateLimit", stage=api.rest_api.deployment_stage, requests_per_second=rate_limit_per_key
        )
        access_logs = AccessLogs(self, "AccessLogs")
        console = Console(
            self,
            "Console",
            assets=console_assets,
            rest_api=api.rest_api,
            log_bucket=access_logs.bucket,
            custom_domain=custom_domain,
        )
        scoring = Scoring(self, "Scoring", factory=factory, queue=messaging.scoring_queue)
        loyalty_workflows = LoyaltyWorkflows(
            self, "LoyaltyWorkflows", factory=factory, queue=messaging.workflow_queue
        )
        schedules = Schedules(self, "Schedules", factory=factory)
        delivery = WebhookDelivery(self, "WebhookDelivery", factory=factory, queue=webhooks.queue)
        self.functions: dict[str, lambda_.Function] = {
            **api.functions,
            "score": scoring.function,
            "loyalty_workflows": loyalty_workflows.function,
            **schedules.functions,
            "authorizer": api.authorizer_function,
            "webhook_delivery": delivery.function,
        }
        topic = sns.Topic.from_topic_arn(self, "AlarmTopic", alarm_topic_arn) if alarm_topic_arn else None
        Alarms(
            self,
            "Alarms",
            functions=self.functions,
            dead_letter_queues={
                "scoring": messaging.scoring_dead_letter_queue,
                "schedules": schedules.dead_letter_queue,
                "webhooks": webhooks.dead_letter_queue,
                "loyalty_workflows": messaging.workflow_dead_letter_queue,
            },
            backlogs={
                "scoring": (messaging.scoring_queue, constants.SCORING_BACKLOG_AGE_SECONDS),
                "loyalty_workflows": (messaging.workflow_queue, constants.WORKFLOW_BACKLOG_AGE_SECONDS),
                "webhooks": (webhooks.queue, constants.WEBHOOKS_BACKLOG_AGE_SECONDS),
            },
            schedules=constants.SCHEDULES,
            api=api.rest_api,
            table=data.table,
            table_indexes=[index.name for index in schema.INDEXES],
            table_quota=throughput.quota,
            topic=topic,
        )

        CfnOutput(self, "ApiUrl", value=api.rest_api.url, description="FRAUD_API_URL")
        CfnOutput(
            self, "ConsoleUrl", value=console.url, description="The web console (the API too, under /v1)"
        )
        CfnOutput(self, "ConsoleBucketName", value=console.bucket.bucket_name)
        CfnOutput(
            self,
            "AccessLogBucketName",
            value=access_logs.bucket.bucket_name,
            description="CloudFront's and the console bucket's access logs",
        )
        CfnOutput(self, "TableName", value=data.table.table_name, description="TABLE_NAME for fraudctl")
        CfnOutput(self, "ScoringQueueUrl", value=messaging.scoring_queue.queue_url)
        CfnOutput(self, "ScoringDeadLetterQueueUrl", value=messaging.scoring_dead_letter_queue.queue_url)
        CfnOutput(self, "SchedulesDeadLetterQueueUrl", value=schedules.dead_letter_queue.queue_url)
        CfnOutput(self, "WorkflowDeadLetterQueueUrl", value=messaging.workflow_dead_letter_queue.queue_url)
        CfnOutput(self, "EventBusName", value=messaging.bus.event_bus_name)
        CfnOutput(self, "WebhooksDeadLetterQueueUrl", value=webhooks.dead_letter_queue.queue_url)
        CfnOutput(
            self,
            "NetworkPepperSecretArn",
            value=pepper.secret.secret_arn,
            description="The network pepper (never rotate it: it keys every network link)",
        )
        CfnOutput(
            self,
            "ProgramSecretsKeyArn",
            value=program_secrets.key.key_arn,
            description="PROGRAM_SECRETS_KMS_KEY_ID for fraudctl, which seals programs' signing secrets",
        )
        CfnOutput(
            self,
            "WebhooksSecretsKeyArn",
            value=webhooks.key.key_arn,
            description="The KMS key sealing webhooks' signing secrets (retained with the table)",
        )
        for name, function in self.functions.items():
            CfnOutput(self, f"{pascal_case(name)}FunctionName", value=function.function_name)
