"""The loyalty part of the DynamoDB adapter."""

from __future__ import annotations

from pynamodb.models import Model

from functions.shared.storage.dynamodb_base import DynamoBase


def loyalty_items(base: type[Model]) -> dict[str, type[Model]]:
    """The loyalty item classes on the table's base model."""
    return {}


class LoyaltyDynamo(DynamoBase):
    """Loyalty storage on DynamoDB."""
