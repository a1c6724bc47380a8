"""Access logs of the web console's edge: CloudFront's standard logs and the console bucket's server
access logs, in a private log bucket whose files expire."""

from __future__ import annotations

from typing import Any

from infra import constants
from tests.infra import cfn


def _bucket_policy(template: cfn.Template, bucket: str) -> list[dict[str, Any]]:
    (statements,) = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.of_type("AWS::S3::BucketPolicy").values()
        if cfn.referenced_id(p["Properties"]["Bucket"]) == bucket
    ]
    return statements


def test_cloudfront_logs_every_viewer_request_to_the_log_bucket(template: cfn.Template) -> None:
    _, distribution = template.only("AWS::CloudFront::Distribution")
    logging = distribution["Properties"]["DistributionConfig"]["Logging"]

    assert logging["Bucket"] == {"Fn::GetAtt": [template.log_bucket(), "RegionalDomainName"]}
    assert logging["IncludeCookies"] is False
    assert logging["Prefix"]


def test_the_console_bucket_logs_its_access_to_the_log_bucket(template: cfn.Template) -> None:
    console, log_bucket = template.console_bucket(), template.log_bucket()
    logging = template.props(console)["LoggingConfiguration"]
    delivery = [
        s
        for s in _bucket_policy(template, log_bucket)
        if s["Effect"] == "Allow" and s["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    ]

    assert cfn.referenced_id(logging["DestinationBucketName"]) == log_bucket
    assert logging["LogFilePrefix"] != constants.CLOUDFRONT_LOG_PREFIX  # the two kinds apart
    # S3's log delivery may write there, for the console bucket only
    (statement,) = delivery
    assert statement["Action"] == "s3:PutObject"
    assert cfn.render(statement["Condition"]["ArnLike"]["aws:SourceArn"]) == f"<{console}.Arn>"


def test_the_log_bucket_is_private_encrypted_tls_only_and_expires_its_files(template: cfn.Template) -> None:
    log_bucket = template.log_bucket()
    props = template.props(log_bucket)
    rules = [r for r in props["LifecycleConfiguration"]["Rules"] if r["Status"] == "Enabled"]
    denies = [s for s in _bucket_policy(template, log_bucket) if s["Effect"] == "Deny"]

    assert [r["ExpirationInDays"] for r in rules if "Prefix" not in r] == [constants.ACCESS_LOG_EXPIRY_DAYS]
    assert 0 < constants.ACCESS_LOG_EXPIRY_DAYS <= 400  # viewers' addresses: not kept for ever
    assert props["PublicAccessBlockConfiguration"] == dict.fromkeys(
        ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"), True
    )
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"  # what both writers take
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denies]
    # CloudFront's standard logs arrive with an ACL grant: ACLs on, the bucket owner owns the files
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerPreferred"}]
    assert "AccessControl" not in props  # no canned ACL opens it
    assert template.resources[log_bucket]["DeletionPolicy"] == "Retain"
