"""Acknowledging a cdk-nag finding, always on the CloudFormation resource it concerns (the L1 under
an L2 construct), so that no other resource inherits the acknowledgment."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    resource = construct.node.default_child or construct
    Validations.of(resource).acknowledge(Acknowledgment(id=rule, reason=reason))
