"""The scoring queue with its dead-letter queue, and the bus domain events are published to."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.capabilities.nag import acknowledge


def encrypted_queue(
    scope: Construct,
    construct_id: str,
    *,
    retention: Duration,
    visibility_timeout: Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """SQS-managed encryption at rest, TLS required in transit."""
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )
    acknowledge(
        queue,
        "CKV_AWS_27",
        "Encrypted at rest with SQS-managed keys (SqsManagedSseEnabled), which this check, reading "
        "KmsMasterKeyId only, does not see. A KMS key would add a request to KMS per batch of messages, "
        "and EventBridge, which sends to the schedules' dead-letter queue, cannot use the AWS managed "
        "aws/sqs key. Only references (program, event id) travel on these queues.",
    )
    return queue


class Messaging(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Only references (program, event id) travel on these queues: no personal data.
        self.scoring_dead_letter_queue = encrypted_queue(
            self, "ScoringDeadLetterQueue", retention=Duration.days(constants.DEAD_LETTER_RETENTION_DAYS)
        )
        self.scoring_queue = encrypted_queue(
            self,
            "ScoringQueue",
            visibility_timeout=Duration.seconds(constants.SCORING_VISIBILITY_TIMEOUT_SECONDS),
            retention=Duration.days(constants.QUEUE_RETENTION_DAYS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.scoring_dead_letter_queue, max_receive_count=constants.MAX_RECEIVES
            ),
        )
        # Loyalty workflow runs (references: program, earn id, customer id, kind, times)
        self.workflow_dead_letter_queue = encrypted_queue(
            self, "WorkflowDeadLetterQueue", retention=Duration.days(constants.DEAD_LETTER_RETENTION_DAYS)
        )
        self.workflow_queue = encrypted_queue(
            self,
            "WorkflowQueue",
            visibility_timeout=Duration.seconds(constants.WORKFLOW_VISIBILITY_TIMEOUT_SECONDS),
            retention=Duration.days(constants.QUEUE_RETENTION_DAYS),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.workflow_dead_letter_queue, max_receive_count=constants.MAX_RECEIVES
            ),
        )
        self.bus = events.EventBus(self, "Bus", description="Domain events of fraud management")
