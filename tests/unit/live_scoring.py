"""Scoring an event through the real engine on the in-memory store, received a second after it
occurred (real time), as the evaluation's traffic is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from functions.score.engine import Engine
from tests.unit.test_detection import PROGRAM, make_engine, reasons, score  # noqa: F401


def live(engine: Engine, body: dict[str, Any], program: str = PROGRAM) -> dict[str, Any]:
    at = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
    return score(engine, body, program, at + timedelta(seconds=1))
