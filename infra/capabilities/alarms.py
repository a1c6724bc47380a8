"""CloudWatch alarms: a message in a dead-letter queue, a function error, a throttled invocation,
a scoring backlog. With an SNS topic (context `alarmTopicArn`), each alarm notifies it."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra import constants
from infra.capabilities.lambda_factory import pascal_case


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        scoring_queue: sqs.IQueue,
        topic: sns.ITopic | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._topic = topic
        period = Duration.seconds(constants.ALARM_PERIOD_SECONDS)
        self.alarms: list[cloudwatch.Alarm] = []
        for name, function in functions.items():
            self._at_least_once(
                f"{pascal_case(name)}Errors",
                function.metric_errors(period=period, statistic="Sum"),
                f"{name}: the function failed (an error or a timeout)",
            )
            self._at_least_once(
                f"{pascal_case(name)}Throttles",
                function.metric_throttles(period=period, statistic="Sum"),
                f"{name}: invocations were throttled (concurrency exhausted)",
            )
        for name, queue in dead_letter_queues.items():
            self._at_least_once(
                f"{pascal_case(name)}DeadLetters",
                queue.metric_approximate_number_of_messages_visible(period=period, statistic="Maximum"),
                f"{name}: messages in the dead-letter queue (look, fix, then redrive)",
            )
        self._add(
            "ScoringBacklog",
            scoring_queue.metric_approximate_age_of_oldest_message(period=period, statistic="Maximum"),
            constants.SCORING_BACKLOG_AGE_SECONDS,
            "scoring falls behind: the oldest queued event has waited too long",
        )

    def _at_least_once(self, alarm_id: str, metric: cloudwatch.IMetric, description: str) -> None:
        self._add(alarm_id, metric, 1, description)

    def _add(self, alarm_id: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            alarm_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        if self._topic is not None:
            alarm.add_alarm_action(actions.SnsAction(self._topic))
        self.alarms.append(alarm)
