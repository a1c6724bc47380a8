"""The partner-program part of the DynamoDB adapter."""

from __future__ import annotations

from pynamodb.models import Model

from functions.shared.storage.dynamodb_base import DynamoBase


def partner_items(base: type[Model]) -> dict[str, type[Model]]:
    """The partner-program item classes on the table's base model."""
    return {}


class PartnersDynamo(DynamoBase):
    """Partner-program storage on DynamoDB."""
