"""What the cases and disputes routes answer: typed response models (so the OpenAPI document
describes every body, and the console reads documented names), built from domain objects."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field

from functions.shared.domain import hold_order
from functions.shared.domain.cases import CASE_STATUSES
from functions.shared.domain.disputes import evidence_since_verdict
from functions.shared.domain.model import (
    REASON_CODES,
    REWARD_STATUSES,
    SUBJECT_TYPES,
    AuditEntry,
    Case,
    Reward,
    Subject,
)
from functions.shared.domain.summary import FLAG_DAYS, SummaryFigures, first_day_shown
from functions.shared.inputs import Model, one_of
from functions.shared.money import amount_text, to_micros


class Money(Model):
    amount: str
    currency: str | None


class ReasonView(Model):
    code: Annotated[str, one_of(REASON_CODES)]
    detail: str
    count: int = 1


class SubjectRef(Model):
    type: Annotated[str, one_of(SUBJECT_TYPES)]
    id: str
    name: str


class CaseView(Model):
    id: str
    subject: SubjectRef
    reasons: list[ReasonView]
    hold_amount: Money  # the currency worth the most in euros (`hold_order.primary_hold`)
    hold_amounts: list[Money]  # every currency held
    held_rewards: int
    flagged_at: datetime = Field(
        description="When the event that flagged its subject occurred: the earliest of its flags, one "
        "dated earlier and sent later moving it back (SPEC 4)"
    )
    disputed_at: datetime | None
    resolved_at: datetime | None
    status: Annotated[str, one_of(CASE_STATUSES)]
    dispute_reason: str | None


class RewardView(Model):
    id: str
    partner_id: str
    customer_id: str | None
    transaction_id: str | None
    amount: str
    currency: str
    status: Annotated[str, one_of(REWARD_STATUSES)]
    created_at: datetime
    source: str
    overridden: bool
    case_id: str | None


class PartyView(Model):
    id: str
    name: str
    email: str | None
    country: str | None
    group: str | None
    team: str | None
    keys: list[str]
    revenue: list[Money]
    segments: list[str]
    tags: list[str]
    signup_at: datetime | None
    status: str
    active_case_id: str | None = Field(
        None, description="Its open or disputed case, if it has one (a newer case than a resolved one shown)"
    )


class AuditView(Model):
    at: datetime
    action: str
    actor: str
    detail: dict[str, Any]


class AuditPage(Model):
    items: list[AuditView]
    next_cursor: str | None = None  # null on the last page


class CaseDetail(CaseView):
    partner: PartyView | None = None
    customer: PartyView | None = None
    held_reward_list: list[RewardView] = Field(
        description="The newest 50 rewards the case holds, newest first (`held_rewards` counts them all; "
        "GET /v1/rewards?partner_id=…&status=on_hold lists every one)"
    )
    audit: list[AuditView] = Field(
        description="The newest 50 entries of the case's audit trail, newest first"
    )
    audit_next_cursor: str | None = Field(
        None, description="Older entries: GET /v1/cases/{id}/audit?cursor=…; null when `audit` is all of it"
    )


class CasePage(Model):
    items: list[CaseView]
    next_cursor: str | None


class RewardPage(Model):
    items: list[RewardView]
    next_cursor: str | None


class HeldRewards(Model):
    count: int
    amounts: list[Money]


class FlagsOnDay(Model):
    date: date_type
    count: int  # cases flagged that day: each on the day of its flag (`CaseView.flagged_at`)
    by_reason: dict[str, int]  # reason code -> cases opened with it (a case may carry several)


class Summary(Model):
    open_cases: int
    disputed_cases: int
    held_rewards: HeldRewards
    flags_per_day: list[FlagsOnDay]  # the last 30 days, oldest first, days without flags included


class PartnerRef(Model):
    id: str
    name: str


class RemovedPartner(Model):
    case_id: str
    partner: PartnerRef
    team: str | None
    flag_reason: ReasonView | None
    flagged_at: datetime
    archived_rewards: HeldRewards
    removed_at: datetime | None
    removed_by: str | None
    block_reapply: bool


class RemovedPage(Model):
    items: list[RemovedPartner]
    next_cursor: str | None = None  # null on the last page


class DisputeView(CaseView):
    program_id: str
    program_name: str | None
    verdict: str | None
    verdict_note: str | None
    # an approval whose subject flagged again since: the reasons that fired since (code: how many
    # times more), the cycle withdraws that verdict rather than apply it; recording a verdict again
    # decides on the case as it is now. Empty while only signals that do not flag came (SPEC 4)
    evidence_since_verdict: dict[str, int]


class DisputePage(Model):
    items: list[DisputeView]
    next_cursor: str | None = None  # null on the last page


def money(figures: dict[str, int]) -> list[Money]:
    return [Money(amount=amount_text(m, c), currency=c) for c, m in sorted(figures.items()) if m]


def primary_hold(case: Case) -> tuple[str | None, int]:
    """The currency worth the most, for the case's one `hold_amount` (all are in `hold_amounts`)."""
    return hold_order.primary_hold(case.hold_micros)


def _case_fields(case: Case) -> dict[str, Any]:
    currency, micros = primary_hold(case)
    return {
        "id": case.case_id,
        "subject": SubjectRef(type=case.subject_type, id=case.subject_id, name=case.subject_name),
        "reasons": [ReasonView(code=r.code, detail=r.detail, count=r.count) for r in case.reasons],
        "hold_amount": Money(amount=amount_text(micros, currency), currency=currency),
        "hold_amounts": money(case.hold_micros),
        "held_rewards": case.held_count,
        "flagged_at": case.flagged_at,
        "disputed_at": case.disputed_at,
        "resolved_at": case.resolved_at,
        "status": case.status,
        "dispute_reason": case.dispute_reason,
    }


def case_view(case: Case) -> CaseView:
    return CaseView(**_case_fields(case))


def dispute_view(case: Case, program_name: str | None) -> DisputeView:
    return DisputeView(
        **_case_fields(case),
        program_id=case.program_id,
        program_name=program_name,
        verdict=case.verdict,
        verdict_note=case.verdict_note,
        evidence_since_verdict=evidence_since_verdict(case),
    )


def reward_view(reward: Reward) -> RewardView:
    return RewardView(
        id=reward.reward_id,
        partner_id=reward.partner_id,
        customer_id=reward.customer_id,
        transaction_id=reward.transaction_id,
        amount=amount_text(to_micros(reward.amount), reward.currency),
        currency=reward.currency,
        status=reward.status,
        created_at=reward.created_at,
        source=reward.source,
        overridden=reward.overridden,
        case_id=reward.case_id,
    )


def party_view(subject: Subject) -> PartyView:
    return PartyView(
        id=subject.id,
        name=subject.name,
        email=subject.email,
        country=subject.country,
        group=subject.group,
        team=subject.team,
        keys=list(subject.keys),
        revenue=money(subject.revenue_micros),
        segments=list(subject.segments),
        tags=list(subject.tags),
        signup_at=subject.signup_at,
        status=subject.status,
        active_case_id=subject.active_case_id,
    )


def case_detail(case: Case, subject: Subject, held: list[Reward], audit: AuditPage) -> CaseDetail:
    party = party_view(subject)
    return CaseDetail(
        **_case_fields(case),
        partner=party if case.subject_type == "partner" else None,
        customer=party if case.subject_type == "customer" else None,
        held_reward_list=[reward_view(r) for r in held],
        audit=audit.items,
        audit_next_cursor=audit.next_cursor,
    )


def audit_view(entry: AuditEntry) -> AuditView:
    return AuditView(at=entry.at, action=entry.action, actor=entry.actor, detail=entry.detail)


def removed_partner(case: Case) -> RemovedPartner:
    first = case.reasons[0] if case.reasons else None
    return RemovedPartner(
        case_id=case.case_id,
        partner=PartnerRef(id=case.subject_id, name=case.subject_name),
        team=case.subject_team,
        flag_reason=ReasonView(code=first.code, detail=first.detail, count=first.count) if first else None,
        flagged_at=case.flagged_at,
        archived_rewards=HeldRewards(count=case.archived_count, amounts=money(case.archived_micros)),
        removed_at=case.removed_at,
        removed_by=case.removed_by,
        block_reapply=case.block_reapply,
    )


def summary(figures: SummaryFigures, today: date_type) -> Summary:
    days = {d.day: d for d in figures.flag_days}
    shown = [first_day_shown(today) + timedelta(days=n) for n in range(FLAG_DAYS)]
    return Summary(
        open_cases=figures.cases.get("open", 0),
        disputed_cases=figures.cases.get("disputed", 0),
        held_rewards=HeldRewards(count=figures.held, amounts=money(figures.held_micros)),
        flags_per_day=[
            FlagsOnDay(
                date=day,
                count=days[day].count if day in days else 0,
                by_reason=dict(sorted(days[day].by_reason.items())) if day in days else {},
            )
            for day in shown
        ],
    )
