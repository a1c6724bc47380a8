"""The log bucket: CloudFront's standard logs (every viewer request, console and `/v1` alike, with the
viewer's address, which API Gateway's access log cannot see behind CloudFront) and the console
bucket's server access logs. Expired after `constants.ACCESS_LOG_EXPIRY_DAYS`: they hold addresses."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants
from infra.capabilities.nag import acknowledge


class AccessLogs(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # Retained with the stack, like the console bucket: `cdk destroy` never stops on a bucket
        # with files in it, and the last days of logs outlive the system they describe.
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            # CloudFront writes standard logs with an ACL grant (its awslogsdelivery account): ACLs
            # stay enabled, and the bucket owner owns what is written.
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
            encryption=s3.BucketEncryption.S3_MANAGED,  # the one encryption both log writers support
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-access-logs",
                    expiration=Duration.days(constants.ACCESS_LOG_EXPIRY_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self._acknowledge_findings()

    def _acknowledge_findings(self) -> None:
        no_log_of_logs = (
            "This is the log bucket itself: logging its own access would log into itself. Only "
            "CloudFront's and S3's log delivery write to it, and only the account's own principals read it."
        )
        for rule in ("AwsSolutions-S1", "CKV_AWS_18"):
            acknowledge(self.bucket, rule, no_log_of_logs)
        acknowledge(
            self.bucket,
            "CKV_AWS_21",
            "Not versioned: log files are written once and never rewritten, and they expire after "
            f"{constants.ACCESS_LOG_EXPIRY_DAYS} days by a lifecycle rule; versions would only keep "
            "personal data (viewers' addresses) past that.",
        )
