"""Key layout of the table: every partition and sort key the adapter writes is built here.

`P#<program>#...` prefixes every program-owned partition, so no key of one program can ever name an
item of another.
"""

from __future__ import annotations

import hashlib
import zlib
from datetime import UTC, datetime

from functions.shared.domain.hold_order import HOLD_DIGITS, orderable

# 3,000 events/s per program write each shard ~375 times a second: an event's entry is written at
# ingest and taken out when it is scored (8 shards took ~750, and a fraud wave's notifications on
# top went past a partition's 1,000); a shard's events stay where they are when the count grows
OUTBOX_SHARDS = 16
API_KEY_SK = "KEY"
EVENT_SK = "EVENT"


def program_pk() -> str:
    """Where programs were kept before each had its own partition (read for programs made then)."""
    return "PROGRAMS"


def program_sk(program_id: str) -> str:
    return f"PROGRAM#{program_id}"


PROGRAM_SK = "PROGRAM"
PROGRAMS_INDEX_PK = "PROGRAMS"  # every program, on the sparse `programs` index


def program_item_pk(program_id: str) -> str:
    """A program's own partition: every request reads its caller's program (kept a minute by each
    function), so no one partition serves every program's requests."""
    return f"PROGRAM#{program_id}"


def api_key_pk(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def program_keys_pk(program_id: str) -> str:
    """A program's active keys, on the `program_keys` index (platform keys have no program)."""
    return f"P#{program_id}#KEYS"


def event_pk(program_id: str, event_id: str) -> str:
    return f"P#{program_id}#EVENT#{event_id}"


def outbox_pk(program_id: str, shard: int) -> str:
    return f"P#{program_id}#OUTBOX#{shard}"


def outbox_shard(item_id: str) -> int:
    """The outbox shard of an event or a notification, by its id: spread evenly, the same in every
    store (the in-memory one reads recent events per shard as DynamoDB does)."""
    return int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) % OUTBOX_SHARDS


def outbox_sk(received_at: datetime, event_id: str) -> str:
    return f"{timestamp(received_at)}#{event_id}"


def timestamp(at: datetime) -> str:
    """Sortable UTC text form of a time, microseconds included; the year in four digits (`%Y` writes
    the year 999 as `999`, which sorts after every later year)."""
    at = at.astimezone(UTC)
    return f"{at.year:04d}" + at.strftime("-%m-%dT%H:%M:%S.%fZ")


def from_timestamp(text: str) -> datetime:
    """The time a `timestamp` was made of."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --- partner programs -------------------------------------------------------------------
PROFILE_SK = "PROFILE"
SPILL_SK_PREFIX = "SPILL#"  # a subject's identifiers kept outside its profile, one item each


# DynamoDB refuses a partition key past 2,048 UTF-8 bytes and a sort key past 1,024 (the write is
# malformed: the event could never be scored), and what senders write can be long in bytes: 510
# emoji are 2,040, and normalizing some characters multiplies them (U+FDFA is 18 letters).
PARTITION_KEY_MOST, SORT_KEY_MOST = 2048, 1024


def _fit(prefix: str, value: str, most: int) -> str:
    """`prefix` and `value` as a key: whole when DynamoDB takes it (so every key written before
    stays what it was), else with `value` as its SHA-256 (the same text always the same key, so a
    long identifier still links)."""
    key = prefix + value
    if len(key) * 4 <= most or len(key.encode()) <= most:
        return key
    return prefix + "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def spill_sk(field: str, value: str) -> str:
    return _fit(f"{SPILL_SK_PREFIX}{field}#", value, SORT_KEY_MOST)


LINK_SK = "LINK"
COUNTER_SK = "COUNTER"
REWARD_SK = "REWARD"
CASE_SK = "CASE"
FLAGGED_SHARDS = 16  # flags are rare; shards keep the sweep's reads parallel and partitions cool


def subject_pk(program_id: str, subject_type: str, subject_id: str) -> str:
    return f"P#{program_id}#{subject_type.upper()}#{subject_id}"


def link_pk(program_id: str, kind: str, value: str) -> str:
    return _fit(f"P#{program_id}#LINK#{kind}#", value, PARTITION_KEY_MOST)


def network_pk(kind: str, hashed: str) -> str:
    """Platform-level: keyed hashes only, no program id in the key."""
    return f"NET#LINK#{kind}#{hashed}"


def counter_pk(program_id: str, name: str) -> str:
    return _fit(f"P#{program_id}#COUNTER#", name, PARTITION_KEY_MOST)


def reward_pk(program_id: str, reward_id: str) -> str:
    return f"P#{program_id}#REWARD#{reward_id}"


TRANSACTION_SK = "TRANSACTION"


def transaction_pk(program_id: str, transaction_id: str) -> str:
    return f"P#{program_id}#TXN#{transaction_id}"


def created_sk(created_at: datetime, item_id: str) -> str:
    return f"{timestamp(created_at)}#{item_id}"


def case_pk(program_id: str, case_id: str) -> str:
    return f"P#{program_id}#CASE#{case_id}"


def case_view_pk(program_id: str, view: str) -> str:
    return f"P#{program_id}#CASES#{view}"


def case_hold_sk(micros: int, case_id: str) -> str:
    """The active view's hold-amount order (`cases_by_hold`): sorts as (place, case_id) sort, the
    place `hold_order.order_place` (a hold's euro worth past `RATED_FROM`, or its own amount). A
    sign digit (negatives, which no hold should reach, before the rest), then the amount in a fixed
    width (a negative one as its distance from -10^38), then the id."""
    if not orderable(micros):
        raise ValueError(f"a hold of {micros} micro-units has more than {HOLD_DIGITS} digits")
    sign, digits = ("1", micros) if micros >= 0 else ("0", 10**HOLD_DIGITS + micros)
    return f"{sign}{digits:0{HOLD_DIGITS}d}#{case_id}"


def hold_place(sk: str) -> int:
    """The place (`hold_order.order_place`) a `case_hold_sk` puts its case at."""
    sign, digits = sk[0], int(sk[1 : 1 + HOLD_DIGITS])
    return digits if sign == "1" else digits - 10**HOLD_DIGITS


def hold_stale_pk(program_id: str) -> str:
    """The program's cases whose `case_hold_sk` lags their holds (`cases_hold_stale`)."""
    return f"P#{program_id}#CASES#HOLD_STALE"


def audit_sk(at: datetime, entry_id: str) -> str:
    return f"AUDIT#{timestamp(at)}#{entry_id}"


def flagged_pk(shard: int) -> str:
    return f"FLAGGED#{shard}"


def flagged_sk(program_id: str, subject_type: str, subject_id: str) -> str:
    return f"{program_id}#{subject_type}#{subject_id}"


# --- program-wide reward listings (GET /v1/rewards without a subject) ----------------------
REWARD_SHARDS = 16  # 3,000 rewards/s of one program: under ~200 new items/s per index partition


def reward_shard(reward_id: str) -> int:
    return int(hashlib.sha256(reward_id.encode()).hexdigest()[:8], 16) % REWARD_SHARDS


def program_rewards_pk(program_id: str, shard: int) -> str:
    return f"P#{program_id}#REWARDS#{shard}"


def reward_status_pk(program_id: str, status: str, shard: int) -> str:
    return f"P#{program_id}#REWARDS#{status}#{shard}"


def case_held_pk(program_id: str, case_id: str) -> str:
    """A case's rewards on hold (`case_held`): set while a reward is `on_hold` under the case."""
    return f"P#{program_id}#CASE#{case_id}#HELD"


# --- the summary figures (SPEC 3.2 GET /v1/summary), kept as cases change ---------------------
# Each step adds its figures to one of SUMMARY_SHARDS partitions (a totals item and the day's
# flags item), chosen by the case it writes: a wave of fraud flags hundreds of cases a second, each
# adding in its own transaction, and DynamoDB cancels all but one of the transactions that touch an
# item at the same moment; with one totals item a program flagged only as fast as one transaction
# after another, and its partition took every flag's and hold's writes. A read adds the shards up.
# Shard 0 is the partition programs had before the shards: their figures need no move.
SUMMARY_SHARDS = 8
SUMMARY_SK = "TOTALS"  # sorts after every FLAGS# day: one query reads a shard's days and totals


def summary_pk(program_id: str, shard: int = 0) -> str:
    return f"P#{program_id}#SUMMARY" if shard == 0 else f"P#{program_id}#SUMMARY#{shard}"


def flag_day_sk(day: str) -> str:
    return f"FLAGS#{day}"


def summary_shard(case_id: str) -> int:
    return zlib.crc32(case_id.encode()) % SUMMARY_SHARDS


def resolved_cases_pk(program_id: str) -> str:
    """A program's resolved cases by resolution time, on the `disputes` index (a resolved case is
    no longer in a dispute partition: the index's key attributes are free for it)."""
    return f"P#{program_id}#CASES#resolved#by_resolved_at"


DISPUTES_OPEN = "DISPUTES#open"
DISPUTES_VERDICT = "DISPUTES#verdict"


def dispute_sk(disputed_at: datetime, program_id: str, case_id: str) -> str:
    return f"{timestamp(disputed_at)}#{program_id}#{case_id}"


# a disputed case's program by its id alone (`LocateCase`): the security team's verdict names the case
CASE_LOCATOR_SK = "LOCATOR"


def case_locator_pk(case_id: str) -> str:
    return f"LOCATE#CASE#{case_id}"


# --- notifications (SPEC 6): kept until the bus has them, on the outbox index ---------------
NOTIFICATION_SK = "NOTIFICATION"
NOTIFICATION_SK_PREFIX = "N#"  # sorts after every event's outbox key (a time): the two never mix


def notification_pk(program_id: str, notification_id: str) -> str:
    return f"P#{program_id}#NOTIFICATION#{notification_id}"


def notification_outbox_sk(created_at: datetime, notification_id: str) -> str:
    return f"{NOTIFICATION_SK_PREFIX}{timestamp(created_at)}#{notification_id}"
