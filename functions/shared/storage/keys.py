"""Key layout of the table: every partition and sort key the adapter writes is built here.

`P#<program>#...` prefixes every program-owned partition, so no key of one program can ever name an
item of another.
"""

from __future__ import annotations

from datetime import UTC, datetime

OUTBOX_SHARDS = 8  # 3,000 events/s per program over 8 shards stays under ~400 writes/s each
API_KEY_SK = "KEY"
EVENT_SK = "EVENT"


def program_pk() -> str:
    return "PROGRAMS"


def program_sk(program_id: str) -> str:
    return f"PROGRAM#{program_id}"


def api_key_pk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def event_pk(program_id: str, event_id: str) -> str:
    return f"P#{program_id}#EVENT#{event_id}"


def outbox_pk(program_id: str, shard: int) -> str:
    return f"P#{program_id}#OUTBOX#{shard}"


def outbox_sk(received_at: datetime, event_id: str) -> str:
    return f"{timestamp(received_at)}#{event_id}"


def timestamp(at: datetime) -> str:
    """Sortable UTC text form of a time, microseconds included."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
