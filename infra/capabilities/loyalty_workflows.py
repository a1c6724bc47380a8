"""The loyalty workflow runner, fed by the workflow queue in batches with partial batch responses:
a failed run is retried alone, and after `constants.MAX_RECEIVES` deliveries moves to the
dead-letter queue. Its relay is a schedule (`constants.SCHEDULES`)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.capabilities.lambda_factory import LambdaFactory


class LoyaltyWorkflows(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, factory: LambdaFactory, queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = factory.function(self, spec=constants.LOYALTY_WORKFLOWS)
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=constants.WORKFLOW_BATCH_SIZE,
                max_batching_window=Duration.seconds(constants.WORKFLOW_BATCH_WINDOW_SECONDS),
                max_concurrency=constants.WORKFLOW_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
