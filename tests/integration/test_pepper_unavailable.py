"""The network pepper read on a cold start (Secrets Manager, once per process) meeting a throttle: a
dependency unavailable for a moment, as a throttled table is. A cloud-faults tester found it a
configuration error: an accepted event on its last delivery was given up as failed for good, and a
removal answered 500. The real handlers on moto; the throttle is injected at botocore's
`_make_api_call`, under the code."""

from __future__ import annotations

import boto3
import pytest

from functions.shared.config import MAX_RECEIVES
from functions.shared.domain import identity
from local_system.lambda_runtime import invoke
from local_system.poller import sqs_event
from tests.integration import test_disputes
from tests.integration.scoring_support import send, signup, status
from tests.integration.test_disputes import api, case_of, flag_partner
from tests.integration.test_faults import faults_fixture  # noqa: F401 (fixture)

env = test_disputes.env  # the disputes' program: its bus kept in memory, its clock fixed


@pytest.fixture
def pepper_secret(aws, monkeypatch):
    """The pepper as deployed: a secret in Secrets Manager, read once per process."""
    arn = boto3.client("secretsmanager", region_name="us-east-1").create_secret(
        Name="network-pepper", SecretString="a-pepper-of-the-platform"
    )["ARN"]
    monkeypatch.delenv("NETWORK_PEPPER", raising=False)
    monkeypatch.setenv("NETWORK_PEPPER_SECRET_ARN", arn)
    identity._pepper_from_secret.cache_clear()
    yield arn
    identity._pepper_from_secret.cache_clear()


def test_a_removal_whose_cold_start_meets_a_throttled_pepper_answers_503_and_is_made_when_retried(
    env, pepper_secret, faults
):
    case_id = flag_partner(env, "cold1")
    identity._pepper_from_secret.cache_clear()  # a new copy of the cases function: its first request
    faults.fail("secretsmanager", {"GetSecretValue"}, 1.0, "ThrottlingException")
    path, fraud = f"/v1/cases/{case_id}/remove", env.tenant.keys["fraud"]

    answer = api("cases", "POST", path, fraud, {"block_reapply": True})
    faults.clear()  # throttled for a moment

    assert faults.injected == {"secretsmanager:GetSecretValue": 1}
    assert answer.status == 503, answer  # a dependency unavailable, safe to retry (SPEC 3)
    assert "retry-after" in answer.headers
    assert case_of(env.tenant, case_id)["status"] == "open"  # nothing changed
    again = api("cases", "POST", path, fraud, {"block_reapply": True})
    assert again.status == 200, again
    assert case_of(env.tenant, case_id)["status"] == "removed"


def test_an_event_whose_last_delivery_meets_a_throttled_pepper_stays_due(env, pepper_secret, faults):
    event = send(env.tenant, signup("cold2"))
    sqs, url = env.aws.sqs, env.aws.resources.queue_url
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    [message] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    message["Attributes"]["ApproximateReceiveCount"] = str(MAX_RECEIVES)  # its last delivery
    identity._pepper_from_secret.cache_clear()  # a new copy of the score function
    faults.fail("secretsmanager", {"GetSecretValue"}, 1.0, "ThrottlingException")

    with pytest.raises(Exception, match="All records failed"):  # SQS: to the dead-letter queue
        invoke("functions.score.handler.lambda_handler", sqs_event([message], arn))

    assert faults.injected == {"secretsmanager:GetSecretValue": 1}
    # left due for the outbox relay, as under a throttled table (`errors.retried_later`): not given
    # up as failed for good, an internal error
    assert status(env.tenant, event["id"])["status"] == "queued"
