"""The one DynamoDB table: key names, indexes and TTL, declared once.

The pynamodb models (`dynamodb.py`), the local table setup (`local_system`) and the CDK stack
(`infra/`) all read these definitions, so the deployed table and the code cannot drift.
See docs/design.md for the item types and the access pattern behind every index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"

AttributeType = Literal["S", "N"]


@dataclass(frozen=True)
class IndexDefinition:
    name: str
    partition_key: str
    sort_key: str
    sort_key_type: AttributeType
    purpose: str


INDEXES: tuple[IndexDefinition, ...] = (
    IndexDefinition(
        "outbox",
        "outbox_pk",
        "outbox_sk",
        "S",
        "events recorded but not yet confirmed taken by scoring; sparse, sharded per program",
    ),
    IndexDefinition(
        "partner_rewards",
        "partner_rewards_pk",
        "created_sk",
        "S",
        "a partner's rewards in creation order (hold at flag time, hold sweep, reward listing)",
    ),
    IndexDefinition(
        "customer_rewards",
        "customer_rewards_pk",
        "created_sk",
        "S",
        "a referred customer's rewards in creation order",
    ),
    IndexDefinition(
        "flagged",
        "flagged_pk",
        "flagged_sk",
        "S",
        "flagged subjects of every program, sharded; sparse (the hold sweep's work list)",
    ),
    IndexDefinition(
        "cases_by_view",
        "case_view_pk",
        "case_view_sk",
        "S",
        "a program's cases per view (active, resolved, removed) by flagged time; sparse",
    ),
    IndexDefinition(
        "disputes",
        "dispute_pk",
        "dispute_sk",
        "S",
        "disputed cases across programs (open; verdict recorded), and a program's resolved cases by "
        "resolution time; sparse",
    ),
    IndexDefinition(
        "program_keys",
        "program_keys_pk",
        "created_sk",
        "S",
        "a program's active API keys by creation time (GET /v1/keys); sparse: keys only, and a "
        "revoked key leaves it",
    ),
    IndexDefinition(
        "program_rewards",
        "program_rewards_pk",
        "created_sk",
        "S",
        "a program's rewards newest first (GET /v1/rewards without a filter); 16 shards per program",
    ),
    IndexDefinition(
        "reward_status",
        "reward_status_pk",
        "created_sk",
        "S",
        "a program's rewards in one status newest first (held rewards, the status filter); 16 shards "
        "per program and status",
    ),
    IndexDefinition(
        "case_held",
        "case_held_pk",
        "created_sk",
        "S",
        "a case's rewards on hold newest first (the drawer's held rewards); sparse: a reward is in it "
        "while it is on hold",
    ),
    IndexDefinition(
        "loyalty_earned",
        "agg_pk",
        "agg_earned",
        "N",
        "loyalty customers of one period ranked by points earned (audience workflows)",
    ),
    IndexDefinition(
        "loyalty_bonus",
        "agg_pk",
        "agg_bonus",
        "N",
        "loyalty customers of one period ranked by campaign bonus points",
    ),
    IndexDefinition(
        "loyalty_spent",
        "agg_pk",
        "agg_spent",
        "N",
        "loyalty customers of one period ranked by points spent",
    ),
    IndexDefinition(
        "programs",
        "programs_pk",
        "created_sk",
        "S",
        "every program (the outbox relay, the security team's list); sparse: program items only, "
        "written when a program is created",
    ),
    IndexDefinition(
        "cases_by_hold",
        "case_view_pk",
        "case_hold_sk",
        "S",
        "a program's active cases by hold amount, then case id (sort=hold_amount); sparse: a case "
        "leaves it when it leaves the active view",
    ),
    IndexDefinition(
        "cases_hold_stale",
        "hold_stale_pk",
        "case_view_sk",
        "S",
        "a program's cases whose holds changed since their hold-order key was set, re-keyed before "
        "a page by hold amount is served; sparse: usually empty",
    ),
)


def index(name: str) -> IndexDefinition:
    for definition in INDEXES:
        if definition.name == name:
            return definition
    raise KeyError(name)


def key_attributes() -> dict[str, AttributeType]:
    """Every attribute used in a key of the table or an index, with its DynamoDB type."""
    attributes: dict[str, AttributeType] = {PARTITION_KEY: "S", SORT_KEY: "S"}
    for definition in INDEXES:
        attributes[definition.partition_key] = "S"
        attributes[definition.sort_key] = definition.sort_key_type
    return attributes
