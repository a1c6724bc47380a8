"""Key layout of webhooks and their deliveries (SPEC 6), under the program's `P#<program>#` prefix.

A program's webhooks share one partition (a program has a few; listing is one query), with the
count of webhooks it ever made (`MADE`, outside the `WH#` range), which each creation moves on, and
its slow try (`SLOW`: until when a try to a slow receiver holds it, `domain.webhooks.paced`). Each
webhook's deliveries share another: the delivery (`D#<id>`, read by id) and its listing entry
(`T#<created>#<id>`, newest first), written together. One webhook's partition takes its deliveries'
writes (about three per try): hundreds of notifications a second per webhook, far above the rate
at which flags and disputes happen."""

from __future__ import annotations

from datetime import datetime

from functions.shared.storage.keys import timestamp

WEBHOOK_SK_PREFIX = "WH#"
WEBHOOKS_MADE_SK = "MADE"
WEBHOOKS_SLOW_TRY_SK = "SLOW"  # the program's one try at a time to its slow receivers
DELIVERY_SK_PREFIX = "D#"
DELIVERY_LIST_SK_PREFIX = "T#"


def webhooks_pk(program_id: str) -> str:
    return f"P#{program_id}#WEBHOOKS"


def webhook_sk(webhook_id: str) -> str:
    return f"{WEBHOOK_SK_PREFIX}{webhook_id}"


def deliveries_pk(program_id: str, webhook_id: str) -> str:
    return f"P#{program_id}#WEBHOOK#{webhook_id}"


def delivery_sk(delivery_id: str) -> str:
    return f"{DELIVERY_SK_PREFIX}{delivery_id}"


def delivery_list_sk(created_at: datetime, delivery_id: str) -> str:
    return f"{DELIVERY_LIST_SK_PREFIX}{timestamp(created_at)}#{delivery_id}"
