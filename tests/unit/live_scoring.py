"""Red-team helpers: score an event through the real engine on the in-memory store, received a
second after it occurred (real time), as the evaluation's traffic is."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from functions.score.engine import Engine
from functions.shared.domain.model import StoredEvent
from tests.unit.test_detection import PROGRAM, make_engine, reasons  # noqa: F401


def live(engine: Engine, body: dict[str, Any], program: str = PROGRAM) -> dict[str, Any]:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"))
    at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
    stored = StoredEvent(
        program_id=program,
        event_id=body["id"],
        type=body["type"],
        body=body,
        body_hash=hashlib.sha256(text.encode()).hexdigest(),
        occurred_at=at,
        received_at=at + timedelta(seconds=1),
    )
    engine.repository.record_event(stored)
    return engine.score(stored).decision
