"""The loyalty part of the storage port (SPEC 3.4 and 8): customers, balances, aggregates,
idempotent earn/spend actions, campaigns and workflows."""

from __future__ import annotations

import abc


class LoyaltyPort(abc.ABC):  # noqa: B024 (filled in by the loyalty capability)
    """Loyalty storage, in domain terms."""
