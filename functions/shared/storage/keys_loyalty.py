"""Key layout of the loyalty items (SPEC 3.4, 8). Every partition starts with `P#<program>#`.

A customer's partition holds its profile (status, balance, lifetime totals), one item per period it
was active in (`AGG#D2026-11-02`, `AGG#W2026-11-02`, `AGG#M2026-11`, `AGG#Y2026`) and its history.
Period items and profiles also carry `agg_pk`, the audience index partition of their period, spread
over shards so that no index partition takes every earn of a program.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from functions.shared.storage.keys import from_timestamp, timestamp

LOYALTY_SHARDS = 8  # 3,000 earns/s per program over 8 shards stays under ~400 writes/s each
PROFILE_SK = "PROFILE"
ACTION_SK = "ACTION"
CAMPAIGN_SK = "CAMPAIGN"  # a campaign kept in one item, before its total was split (read to migrate)
CAMPAIGN_SHARD_SK = "SHARD"
WORKFLOWS_SK = "WORKFLOWS"
PERIOD_PREFIX = "AGG#"
HISTORY_PREFIX = "HIST#"


def customer_pk(program_id: str, customer_id: str) -> str:
    return f"P#{program_id}#LCUST#{customer_id}"


def period_sk(period: str) -> str:
    return f"{PERIOD_PREFIX}{period}"


def history_sk(version: int, position: int) -> str:
    """Ordered by the customer's version: every history write bumps it, so this is commit order."""
    return f"{HISTORY_PREFIX}{version:012d}#{position:03d}"


def action_pk(program_id: str, action_id: str) -> str:
    return f"P#{program_id}#LACT#{action_id}"


def campaign_pk(program_id: str, campaign_id: str) -> str:
    return f"P#{program_id}#CAMPAIGN#{campaign_id}"


def campaign_shard_pk(program_id: str, campaign_id: str, shard: int) -> str:
    """One counter shard of a campaign's total (ids have no `#`: no campaign's key is another's)."""
    return f"P#{program_id}#CAMPAIGN#{campaign_id}#{shard}"


def campaign_counter_sk(campaign_id: str) -> str:
    """A customer's bonus total in one campaign, in the customer's own partition: the campaign's
    partition then takes only its total (one write per capped bonus), not a counter per customer."""
    return f"CAMPAIGN#{campaign_id}"


def campaigns_pk(program_id: str) -> str:
    """The program's list of campaigns, one entry each by id (`GET /v1/loyalty/campaigns`)."""
    return f"P#{program_id}#CAMPAIGNS"


def campaign_entry_sk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def workflows_pk(program_id: str) -> str:
    return f"P#{program_id}#WORKFLOWS"


def shard_of(customer_id: str) -> int:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:8], 16) % LOYALTY_SHARDS


def audience_pk(program_id: str, period: str, shard: int) -> str:
    """Index partition of one period's aggregates (the lifetime one for profiles)."""
    return f"P#{program_id}#AGG#{period}#{shard}"


def workflow_run_pk(program_id: str, shard: int) -> str:
    """Outbox index partition of earns whose workflows are due, over `LOYALTY_SHARDS` of their own."""
    return f"P#{program_id}#LWFRUN#{shard}"


def workflow_run_sk(at: datetime, action_id: str) -> str:
    return f"{timestamp(at)}#{action_id}"


def workflow_run_at(sort_key: str) -> datetime:
    """The time a `workflow_run_sk` was made with."""
    return from_timestamp(sort_key.split("#", 1)[0])
