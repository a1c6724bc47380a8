"""The local system's DynamoDB: a small engine that speaks DynamoDB's JSON API in memory.

`Engine` (engine.py) answers requests as DynamoDB's endpoint does; tables.py keeps each table's items
and their key order; expressions.py compiles condition, update, projection and key condition
expressions once per text; values.py holds DynamoDB's rules for attribute values (canonical numbers,
sizes, key order). The local system (`aws_process`) sends every DynamoDB call here and everything
else to moto. See docs/design.md, "A DynamoDB engine of our own".
"""

from typing import Any

__all__ = ["DynamoError", "Engine"]


def __getattr__(name: str) -> Any:  # the engine when asked for, not when a part of it is imported
    if name in __all__:
        from local_system.dynamodb import engine

        return getattr(engine, name)
    raise AttributeError(name)
