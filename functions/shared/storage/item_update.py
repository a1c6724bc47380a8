"""An item's update written as DynamoDB takes it, for the writes every scored event makes (issue 15).

pynamodb builds an update from expression objects (an operand, a path and a placeholder object per
action, each serialized again into text): for the decision, the links and the counters a scored
event writes, that was most of what the adapter spent on a step (docs/design.md, "Speed, eleventh
round"). `ItemUpdate` writes the same clauses directly. Names, types and values still come from the
item classes' own attributes (`attr_name`, `attr_type`, `serialize`), so an item written here reads
back through its model as one pynamodb wrote; `tests/integration/test_item_update.py` holds each
such write to pynamodb's own for the same actions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pynamodb.attributes import Attribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from functions.shared.storage import schema


class ItemUpdate:
    """SET, ADD, DELETE and REMOVE clauses on one item, with the conditions all of which must hold."""

    __slots__ = ("table", "key", "names", "values", "clauses", "conditions")

    def __init__(self, model: type[Model], pk: str, sk: str) -> None:
        self.table: str = model.Meta.table_name
        self.key = {schema.PARTITION_KEY: {"S": pk}, schema.SORT_KEY: {"S": sk}}
        self.names: dict[str, str] = {}  # attribute name -> its placeholder
        self.values: dict[str, dict[str, Any]] = {}
        self.clauses: dict[str, list[str]] = {"SET": [], "ADD": [], "DELETE": [], "REMOVE": []}
        self.conditions: list[str] = []

    def _name(self, name: str) -> str:
        placeholder = self.names.get(name)
        if placeholder is None:
            placeholder = self.names[name] = f"#{len(self.names)}"
        return placeholder

    def _value(self, wire: dict[str, Any]) -> str:
        placeholder = f":{len(self.values)}"
        self.values[placeholder] = wire
        return placeholder

    def _wire(self, attribute: Attribute[Any], value: Any) -> dict[str, Any]:
        return {attribute.attr_type: attribute.serialize(value)}

    # --- actions ------------------------------------------------------------------------------
    def typed(self, model: type[Model]) -> ItemUpdate:
        """The item's type, as a save would write it: an update that may create its item needs it."""
        discriminator = model.item_type  # type: ignore[attr-defined]
        return self.set(discriminator, model)

    def set(self, attribute: Attribute[Any], value: Any) -> ItemUpdate:
        """The attribute set to the value; None takes it out."""
        if value is None:
            return self.remove(attribute.attr_name)
        name, placeholder = self._name(attribute.attr_name), self._value(self._wire(attribute, value))
        self.clauses["SET"].append(f"{name} = {placeholder}")
        return self

    def set_value(self, name: str, wire: dict[str, Any]) -> ItemUpdate:
        """An attribute of no declared type (a list entry, a mark) set to a value in DynamoDB's form."""
        self.clauses["SET"].append(f"{self._name(name)} = {self._value(wire)}")
        return self

    def set_if_absent(self, attribute: Attribute[Any], value: Any) -> ItemUpdate:
        """The attribute set to the value unless the item has it already."""
        name, placeholder = self._name(attribute.attr_name), self._value(self._wire(attribute, value))
        self.clauses["SET"].append(f"{name} = if_not_exists ({name}, {placeholder})")
        return self

    def add_to_entry(self, attribute: Attribute[Any], key: str, amount: int) -> ItemUpdate:
        """A number in a map attribute (which must exist) increased, made at 0 when absent."""
        path = f"{self._name(attribute.attr_name)}.{self._name(key)}"
        zero, added = self._value({"N": "0"}), self._value({"N": str(amount)})
        self.clauses["SET"].append(f"{path} = if_not_exists ({path}, {zero}) + {added}")
        return self

    def add_number(self, name: str, amount: int) -> ItemUpdate:
        """A number attribute (made at 0 when absent) increased: concurrent additions never conflict."""
        self.clauses["ADD"].append(f"{self._name(name)} {self._value({'N': str(amount)})}")
        return self

    def add_members(self, attribute: Attribute[Any], members: Iterable[str]) -> ItemUpdate:
        """Members added to a set attribute (made when absent); none given, nothing written."""
        if members := set(members):
            self.clauses["ADD"].append(
                f"{self._name(attribute.attr_name)} {self._value(self._wire(attribute, members))}"
            )
        return self

    def delete_members(self, attribute: Attribute[Any], members: Iterable[str]) -> ItemUpdate:
        """Members taken out of a set attribute; none given, nothing written."""
        if members := set(members):
            self.clauses["DELETE"].append(
                f"{self._name(attribute.attr_name)} {self._value(self._wire(attribute, members))}"
            )
        return self

    def remove(self, name: str) -> ItemUpdate:
        self.clauses["REMOVE"].append(self._name(name))
        return self

    def clauses_given(self) -> bool:
        return any(self.clauses.values())

    # --- conditions ---------------------------------------------------------------------------
    def requires_item(self) -> ItemUpdate:
        return self.requires_present(schema.PARTITION_KEY)

    def requires_present(self, name: str) -> ItemUpdate:
        self.conditions.append(f"attribute_exists ({self._name(name)})")
        return self

    def requires_absent(self, name: str) -> ItemUpdate:
        self.conditions.append(f"attribute_not_exists ({self._name(name)})")
        return self

    def requires_absent_or(self, attribute: Attribute[Any], value: Any) -> ItemUpdate:
        """The item lacks the attribute, or it equals the value."""
        name, placeholder = self._name(attribute.attr_name), self._value(self._wire(attribute, value))
        self.conditions.append(f"attribute_not_exists ({name}) OR {name} = {placeholder}")
        return self

    def requires_not(self, attribute: Attribute[Any], value: Any) -> ItemUpdate:
        """The attribute differs from the value (an absent attribute differs from every value)."""
        name, placeholder = self._name(attribute.attr_name), self._value(self._wire(attribute, value))
        self.conditions.append(f"{name} <> {placeholder}")
        return self

    def requires(self, attribute: Attribute[Any], value: Any) -> ItemUpdate:
        """The attribute equals the value; None: the item lacks the attribute."""
        if value is None:
            return self.requires_absent(attribute.attr_name)
        name, placeholder = self._name(attribute.attr_name), self._value(self._wire(attribute, value))
        self.conditions.append(f"{name} = {placeholder}")
        return self

    def requires_size(self, name: str, size: int) -> ItemUpdate:
        self.conditions.append(f"size ({self._name(name)}) = {self._value({'N': str(size)})}")
        return self

    def requires_fewer(self, name: str, most: int) -> ItemUpdate:
        """The item lacks the attribute, or it holds fewer than `most` (a set's members)."""
        name, placeholder = self._name(name), self._value({"N": str(most)})
        self.conditions.append(f"attribute_not_exists ({name}) OR size ({name}) < {placeholder}")
        return self

    # --- the request --------------------------------------------------------------------------
    def request(self) -> dict[str, Any]:
        """The item's entry of `TransactWriteItems` (an `Update`), as pynamodb's connection takes it."""
        expression = " ".join(f"{verb} {', '.join(parts)}" for verb, parts in self.clauses.items() if parts)
        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": self.key,
            "UpdateExpression": expression,
            "ExpressionAttributeNames": {placeholder: name for name, placeholder in self.names.items()},
        }
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        if self.conditions:
            request["ConditionExpression"] = " AND ".join(f"({c})" for c in self.conditions)
        return request


class StepTransaction(TransactWrite):
    """pynamodb's transaction, which also takes an `ItemUpdate`: it goes with the other updates, in
    the order they were given (a refused item is named by its place: `apply`)."""

    def update_item(self, update: ItemUpdate) -> None:
        self._update_items.append(update.request())  # pynamodb's own list of updates (pinned 6.1.0)
