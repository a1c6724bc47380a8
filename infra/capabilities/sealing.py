"""The KMS keys that seal secrets kept in the table (webhooks' and programs' signing secrets)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct


def sealing_key(scope: Construct, construct_id: str, description: str) -> kms.Key:
    """A key sealing secrets kept in the table: rotating, and retained with the table (the sealed
    secrets in it open only with this key)."""
    return kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
