"""Fixtures of the integration tests shared across their files."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from functions.shared import runtime
from functions.shared.clock import FixedClock
from functions.shared.messaging import InMemoryPublisher

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def env(aws, tenant, security_key, monkeypatch):
    """A program through the real handlers on moto, its bus kept in memory, its clock fixed at `NOW`."""
    deps = runtime.dependencies()
    publisher = InMemoryPublisher()
    monkeypatch.setattr(deps, "publisher", publisher)
    clock = FixedClock(NOW)
    monkeypatch.setattr(deps, "clock", clock)
    return SimpleNamespace(
        aws=aws, tenant=tenant, security=security_key, deps=deps, bus=publisher, clock=clock
    )
