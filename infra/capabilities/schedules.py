"""The scheduled functions (outbox relay, hold sweep, dispute cycle) and their EventBridge rules.

EventBridge rules rather than EventBridge Scheduler: a rule hands the function the same "Scheduled
Event" document the local scheduler builds (`local_system/scheduler.py`), so a handler parses one
shape everywhere. Every rule target retries delivery and each function retries a failed run (see
`constants.ScheduleSpec`); what still fails lands in one dead-letter queue, which an alarm watches.
The dispute cycle's continuations, the function invoking itself when a run's time is short
(`functions/disputes/continuation.py`), are asynchronous invocations too: the same retries, the same
queue.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants
from infra.capabilities.lambda_factory import FailurePolicy, LambdaFactory, pascal_case
from infra.capabilities.messaging import encrypted_queue
from infra.capabilities.nag import acknowledge
from infra.constants import ScheduleSpec


class Schedules(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        factory: LambdaFactory,
        schedules: Sequence[ScheduleSpec] = constants.SCHEDULES,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letter_queue = encrypted_queue(
            self, "DeadLetterQueue", retention=Duration.days(constants.DEAD_LETTER_RETENTION_DAYS)
        )
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the schedule targets and of the scheduled "
            "functions' failed runs; an alarm fires on its first message.",
        )
        self.functions: dict[str, lambda_.Function] = {}
        for spec in schedules:
            max_age = Duration.seconds(spec.max_event_age_seconds)
            function = factory.function(
                self,
                spec=spec.function,
                on_failure=FailurePolicy(
                    retries=spec.run_retries, max_event_age=max_age, dead_letter_queue=self.dead_letter_queue
                ),
            )
            rule = events.Rule(
                self,
                f"{pascal_case(spec.function.name)}Schedule",
                description=spec.description,
                schedule=events.Schedule.expression(spec.expression),
            )
            rule.add_target(
                targets.LambdaFunction(
                    function,
                    retry_attempts=spec.delivery_retries,
                    max_event_age=max_age,
                    dead_letter_queue=self.dead_letter_queue,
                )
            )
            self.functions[spec.function.name] = function
