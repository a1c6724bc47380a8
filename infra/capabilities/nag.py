"""Acknowledging a finding of either scanner, always on the CloudFormation resource it concerns (the L1
under an L2 construct), so that no other resource inherits the acknowledgment, and always with a
written reason.

- cdk-nag rules (`AwsSolutions-...`) through the CDK's validation acknowledgments, which cdk-nag
  writes into the resource's metadata (`cdk_nag.rules_to_suppress`).
- Checkov checks (`CKV_...`) in the resource's metadata as Checkov reads it:
  `Metadata: {checkov: {skip: [{id, comment}]}}` (`make synth` runs Checkov on the template,
  infra/checkov_scan.py)."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct

CHECKOV_PREFIX = "CKV"
CHECKOV_METADATA = "checkov"


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    resource = construct.node.default_child or construct
    if rule.startswith(CHECKOV_PREFIX):
        _skip_checkov(resource, rule, reason)
    else:
        Validations.of(resource).acknowledge(Acknowledgment(id=rule, reason=reason))


def _skip_checkov(resource: IConstruct, check: str, reason: str) -> None:
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{resource.node.path} is not a CloudFormation resource: no place for {check}")
    metadata = resource.get_metadata(CHECKOV_METADATA) or {"skip": []}
    skips = [skip for skip in metadata["skip"] if skip["id"] != check]
    resource.add_metadata(CHECKOV_METADATA, {"skip": [*skips, {"id": check, "comment": reason}]})
