"""Webhooks (SPEC 6): the key sealing webhook secrets, the webhooks queue with its dead-letter queue,
the rule that sends every notification on the bus to the queue, and the delivery function that
consumes it (partial batch responses; a try that waits is a delayed message, never a sleeping
Lambda).

Two constructs, because the factory needs the queue and the key before it builds any function (the
webhooks API function is built with the API) and the delivery function needs the factory:
`WebhookResources` first, `WebhookDelivery` after."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from functions.shared.domain.webhooks import NOTIFICATION_NAMES
from functions.shared.messaging import EventBridgePublisher
from infra import constants
from infra.capabilities.lambda_factory import LambdaFactory
from infra.capabilities.messaging import encrypted_queue
from infra.capabilities.nag import acknowledge
from infra.capabilities.sealing import sealing_key


class WebhookResources(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, bus: events.IEventBus) -> None:
        super().__init__(scope, construct_id)
        self.key = sealing_key(self, "SecretsKey", "Seals webhook signing secrets (SPEC 6)")
        # Only references travel on the tries; a notification carries what the bus carries (ids,
        # reasons, amounts), as the receivers will.
        self.dead_letter_queue = encrypted_queue(
            self, "DeadLetterQueue", retention=Duration.days(constants.DEAD_LETTER_RETENTION_DAYS)
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the webhooks queue and of the rule that "
            "feeds it; an alarm fires on its first message.",
        )
        self.queue = encrypted_queue(
            self,
            "Queue",
            visibility_timeout=Duration.seconds(constants.WEBHOOKS_VISIBILITY_TIMEOUT_SECONDS),
            retention=Duration.days(constants.QUEUE_RETENTION_DAYS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=constants.WEBHOOKS_MAX_RECEIVES
            ),
        )
        self.rule = events.Rule(
            self,
            "Notifications",
            event_bus=bus,
            description="Every notification (SPEC 6) to the webhooks queue",
            event_pattern=events.EventPattern(
                source=[EventBridgePublisher.SOURCE], detail_type=list(NOTIFICATION_NAMES)
            ),
        )
        self.rule.add_target(
            targets.SqsQueue(
                self.queue,
                retry_attempts=constants.WEBHOOKS_RULE_RETRIES,
                max_event_age=Duration.hours(constants.WEBHOOKS_RULE_MAX_EVENT_AGE_HOURS),
                dead_letter_queue=self.dead_letter_queue,
            )
        )


class WebhookDelivery(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, factory: LambdaFactory, queue: sqs.IQueue
    ) -> None:
        super().__init__(scope, construct_id)
        self.function: lambda_.Function = factory.function(self, spec=constants.WEBHOOK_DELIVERY)
        self.function.add_event_source(
            event_sources.SqsEventSource(
                queue,
                batch_size=constants.WEBHOOKS_BATCH_SIZE,
                max_concurrency=constants.WEBHOOKS_MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
