"""The loyalty part of the in-memory fake."""

from __future__ import annotations


class LoyaltyMemory:
    """Loyalty storage in memory; uses the fake's `_lock` for atomicity."""
