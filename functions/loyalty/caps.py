"""Campaign point caps (SPEC 8): how much of a bonus a campaign grants, and under which condition
that grant stays true when it is written.

Both caps apply at once: the campaign's total and the customer's own. `soft` grants the whole bonus
to an action that starts below both caps, `dynamic` grants what is left under both, `hard` grants
nothing that would pass either. The grant is only valid while the counters have not moved past its
ceilings; the store checks that in the same transaction that moves them, so concurrent earns can
never grant more than the behaviour allows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    points: int
    limited_by: str | None  # "campaign" | "customer" | None (the whole bonus)
    total_ceiling: int  # the most the campaign's total may hold before this grant (0 if none)
    customer_ceiling: int  # the same for the customer's total


def decide(
    behavior: str,
    bonus: int,
    *,
    total_cap: int,
    total_granted: int,
    customer_cap: int,
    customer_granted: int,
) -> Decision:
    total_left = total_cap - total_granted
    customer_left = customer_cap - customer_granted
    cut_by = "campaign" if bonus > total_left else "customer" if bonus > customer_left else None
    if behavior == "soft":
        if total_left > 0 and customer_left > 0:  # starts below both: the whole bonus
            return Decision(bonus, None, total_cap - 1, customer_cap - 1)
        return Decision(0, "campaign" if total_left <= 0 else "customer", 0, 0)
    if behavior == "dynamic":
        points = max(0, min(bonus, total_left, customer_left))
        if points == 0:
            return Decision(0, cut_by, 0, 0)
        return Decision(points, cut_by, total_cap - points, customer_cap - points)
    if behavior == "hard":
        if cut_by is not None:
            return Decision(0, cut_by, 0, 0)
        return Decision(bonus, None, total_cap - bonus, customer_cap - bonus)
    raise ValueError(f"unknown limit behaviour {behavior!r}")
