"""The partner-program part of the storage port (SPEC 3.2, 4, 5, 7): subjects, identity links,
rewards, cases, holds and disputes."""

from __future__ import annotations

import abc


class PartnersPort(abc.ABC):  # noqa: B024 (filled in by the scoring and case capabilities)
    """Partner-program storage, in domain terms."""
