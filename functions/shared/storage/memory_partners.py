"""The partner-program part of the in-memory fake."""

from __future__ import annotations


class PartnersMemory:
    """Partner-program storage in memory; uses the fake's `_lock` for atomicity."""
