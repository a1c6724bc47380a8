"""The partner-program domain's things (SPEC 3, 4, 5): programs, keys, events, subjects (partners
and referred customers), identity links, rewards, cases and their audit trail.

Plain data: no storage, no AWS. The rules over them are in the modules beside it; what storage must write to
carry out a decision is in `writes.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar, get_args

ROLES = ("integration", "viewer", "fraud", "admin", "security")
SUBJECT_TYPES = ("partner", "customer")  # what a case is about (SPEC 4)

# The reason codes of SPEC 5.1, fixed: every signal names one (`signals.Reason.code`, checked by mypy)
ReasonCode = Literal[
    "email_duplicate",
    "email_similar",
    "email_disposable_domain",
    "email_suspicious_domain",
    "ip_suspicious",
    "ip_country_mismatch",
    "device_shared",
    "location_far_from_address",
    "unusual_activity",
    "velocity",
    "cluster",
    "network_flagged",
    "blocked_reapply",
    "self_referral",
]
REASON_CODES: tuple[str, ...] = get_args(ReasonCode)

LinkKey = tuple[str, str]  # (kind, value): ("device", "fp-1"), ("email", "ada@example.com"), ...

REWARD_STATUSES = ("new", "pending", "approved", "on_hold", "declined", "paid", "archived")


_Opened = TypeVar("_Opened")


@dataclass(frozen=True, eq=False)
class OpenedOnUse(Generic[_Opened]):
    """Secrets as a store hands them over, opened on first use: opening costs the store a call to
    its key service, so whoever reads them without using them never pays it, and whoever uses them
    pays it once per read. `sealed`: the store's own sealed form, which it may write back as it is
    while the secrets stay unchanged (no key service call either)."""

    opener: Callable[[], _Opened]
    sealed: object = None

    @cached_property
    def opened(self) -> _Opened:
        return self.opener()


class SigningSecrets(OpenedOnUse[tuple[str, str | None]]):
    """A program's request-signing secrets: the current one, and the one a rotation replaced (still
    accepted until `Program.previous_signing_secret_until`). The DynamoDB store keeps them sealed,
    so a program read for anything but checking a signature (every request reads its program)
    never opens them."""

    @staticmethod
    def clear(current: str, previous: str | None = None) -> SigningSecrets:
        opened = (current, previous)
        return SigningSecrets(lambda: opened)


@dataclass(frozen=True)
class Program:
    program_id: str
    name: str
    created_at: datetime
    timezone: str = "UTC"
    signing: SigningSecrets | None = None  # None: the program signs nothing
    # until then the secret a rotation replaced is still accepted (senders move over meanwhile)
    previous_signing_secret_until: datetime | None = None
    # until then a request without X-Signature still passes: a program given its first secret with
    # a window for its senders to start signing (`fraudctl set-signing-secret --accept-unsigned-hours`)
    unsigned_accepted_until: datetime | None = None

    @property
    def signing_secret(self) -> str | None:
        return self.signing.opened[0] if self.signing else None

    @property
    def previous_signing_secret(self) -> str | None:
        return self.signing.opened[1] if self.signing else None

    def accepted_secrets(self, now: datetime) -> tuple[str, ...]:
        """The secrets an `X-Signature` may be made with now: none when the program signs nothing."""
        if self.signing is None:
            return ()
        current, previous = self.signing.opened
        until = self.previous_signing_secret_until
        if previous and until is not None and now < until:
            return (current, previous)
        return (current,)

    def in_overlap(self, now: datetime) -> bool:
        """Whether the secret the last rotation replaced is still accepted."""
        return len(self.accepted_secrets(now)) > 1

    def accepts_unsigned(self, now: datetime) -> bool:
        until = self.unsigned_accepted_until
        return self.signing is not None and until is not None and now < until

    def secrets_to_check(self, now: datetime, signed: bool) -> tuple[str, ...]:
        """What a request's `X-Signature` is checked against (SPEC 2): none for a program that signs
        nothing, nor for an unsigned request in a first secret's window (`accepts_unsigned`); else
        the secrets accepted now, against which a missing header fails."""
        if not signed and self.accepts_unsigned(now):
            return ()
        return self.accepted_secrets(now)


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    program_id: str | None
    role: str
    actor: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    # the id of the admin key that made it through the API (`POST /v1/keys`); None: an operator's
    # (fraudctl). After a leak, the keys the leaked one made are found by it
    created_by: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class StoredEvent:
    program_id: str
    event_id: str
    type: str
    body: dict[str, Any]
    body_hash: str
    occurred_at: datetime
    received_at: datetime
    status: str = "queued"  # queued | scored | failed
    decision: dict[str, Any] | None = None
    case_id: str | None = None
    failure: str | None = None
    notes: tuple[str, ...] = ()  # what scoring refused of the event (a reward id already taken)

    @property
    def arrival(self) -> tuple[datetime, str]:
        """The outbox's order (`keys.outbox_sk`): received, then id."""
        return self.received_at, self.event_id


@dataclass(frozen=True)
class RecordOutcome:
    """What `record_event` did: stored the event now, or found one already under that id."""

    event: StoredEvent
    created: bool


def subject_key(subject_type: str, subject_id: str) -> str:
    return f"{subject_type}:{subject_id}"


CUSTOMER_KEY = subject_key("customer", "")  # how every customer's subject key begins
PARTNER_KEY = subject_key("partner", "")  # how every partner's subject key begins


@dataclass
class Subject:
    """A partner or a referred customer of one program, as scoring knows it.

    `version` counts the profile's writes: every write is conditional on the version it read, so
    two events on one subject never overwrite each other's changes."""

    program_id: str
    type: str  # partner | customer
    id: str
    name: str = ""
    email: str | None = None  # as sent
    email_normalized: str | None = None
    emails: frozenset[str] = frozenset()  # every address it ever used, as sent
    devices: frozenset[str] = frozenset()
    ips: frozenset[str] = frozenset()
    payout: str | None = None
    payouts: frozenset[str] = frozenset()  # every payout account it ever used
    country: str | None = None
    group: str | None = None
    team: str | None = None
    tags: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    keys: tuple[str, ...] = ()  # a partner's referral keys
    signup_at: datetime | None = None
    changed_at: datetime | None = None  # the `occurred_at` of the last profile change applied
    status: str = "active"  # active | flagged | removed
    flagged_at: datetime | None = None
    active_case_id: str | None = None  # the open or disputed case; none once it is resolved
    # when the case it last opened was flagged (the case's `flagged_at`) and the reason codes its
    # day was counted with: an earlier-dated flag arriving later moves both (SPEC 4); none on a
    # profile whose case was opened before 12-07, whose case then keeps its first flag's time
    case_flagged_at: datetime | None = None
    case_flag_codes: tuple[str, ...] = ()
    flag_case_id: str | None = None  # the case a flagged (or removed) subject's new rewards go under
    # the last case whose dispute was declined: it keeps the subject flagged whatever a later case
    # decides (SPEC 4: an approval of a later case puts the subject back under it, still flagged)
    declined_case_id: str | None = None
    # when a dispute of its last approved it (the cycle's time): a review of it after another
    # partner's removal holds nothing dated before it (`linked_removal.reaches_back`)
    approved_at: datetime | None = None
    marks_pending: bool = False  # a flag whose marks on old identifiers are not all written yet
    # a flagged customer whose network marks all end in `marks.CUSTOMER_MARK`: one flagged before
    # they did has them rewritten by the hold sweep (`marks.customer_marks_rewritten`)
    customer_marks: bool = False
    block_reapply: bool = False  # removed, and barred from signing up again (its removal's choice)
    # removed, its removal under way: its rewards not all archived, its identifiers not all marked
    # yet (`removal.removal_plan`); a retry of it, or the hold sweep, finishes it
    removal_pending: bool = False
    last_payout_change_at: datetime | None = None
    # the newest few payout changes' times (UTC ISO texts), whatever order they arrived in: a reward
    # is judged against the change before it, not only the last (`profiles.payout_change_before`)
    payout_changes: tuple[str, ...] = ()
    home: str | None = None  # a partner's address as it was last given, to be placed (`profiles.home_text`)
    # sessions where the partner never was, somewhere it never connected from, as `<first seen>
    # <where> <ip> <device>`, the newest few (`unfamiliar_sessions.unfamiliar_noted`): a payout
    # change on such a device or connection soon after is one made there
    # (`signals.payout_from_a_new_session`)
    unfamiliar: tuple[str, ...] = ()
    # other partners a partner shared a device, an e-mail address or a payout account with, as
    # `<when last met> <partner>`, those met most recently (`signals.partners_linked`): a partner who
    # meets other accounts one identifier at a time, days apart, is their group all the same, on
    # the events that meet it (SPEC 5.1 `cluster`, 5.3: `signals.group_met`); an approved dispute
    # clears it
    linked: tuple[str, ...] = ()
    revenue_micros: dict[str, int] = field(default_factory=dict)
    reward_seq: int = 0  # rewards that arrived for this partner (a removal's mop-up checks whether any did)
    identifier_seq: int = 0  # writes that added identifiers (a removal's mop-up checks whether any did)
    version: int = 0  # 0: never stored
    # identifiers kept outside the profile, past `profiles.PROFILE_KEEPS` of a kind: how many were
    # spilled (stored), and those this object knows, as (field, value): read for marking, or this
    # event's own (`profiles.with_identifiers`); never written through the profile
    spill_count: int = 0
    spilled: frozenset[tuple[str, str]] = frozenset()

    @property
    def key(self) -> str:
        return subject_key(self.type, self.id)


@dataclass(frozen=True, slots=True)  # many are kept (one per identifier): one object each, no dict
class LinkState:
    """Who used one identifier in a program, and which of them are flagged, removed, blocked."""

    members: frozenset[str] = frozenset()
    flagged: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    spans: frozenset[str] = frozenset()  # `email_near` only: `<member> <its masked block>` (identity)
    names: frozenset[str] = frozenset()  # `ip` only: `<partner> <name digest>` of partners removed there
    counts: Mapping[str, int] = field(default_factory=dict)  # velocity slots `<kind>:<hour>` (`velocity`)
    # a device's: `<time> <partner>` of the partners purchases on it were made through, each at its
    # first such purchase, `VIA_KEPT` at most (`links.customers_of`)
    via: frozenset[str] = frozenset()
    # an address's or a payout account's: `<time> <member>`, when each member first gave it (the
    # event's time; `links.join_entries`), to tell who gave it after whom (`links.as_it_stood`)
    since: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class NetworkState:
    """One identifier across the network: opaque tokens only. `flagged` and `removed` hold marks
    `<program token>.<subject token>`, one per subject, so that withdrawing one subject's mark
    leaves another's of the same program in place. (Items written before issue 15's seventh round
    also hold `programs`, the program tokens that used it: no signal read them.)"""

    flagged: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    # a payout account's: the mark of the subject that first gave it in the network (its token,
    # flagged or not: `network_first`), None on an item that never learnt it (written before)
    first: str | None = None
    # with it, opaque tokens of that subject's login address and device (`links.giver_tokens`): an
    # event whose own meet one is that subject's, wherever it is
    first_by: frozenset[str] = frozenset()
    # read side only, never stored: the marks of subjects that gave a payout account after its first
    # giver, set apart from `flagged` and `removed` as weaker evidence (`first_givers_marks`)
    later: frozenset[str] = frozenset()


# frozen: one empty state serves every identifier no one used yet (scoring and the in-memory store)
NO_LINK = LinkState()
NO_NETWORK = NetworkState()


@dataclass
class Reward:
    program_id: str
    reward_id: str
    partner_id: str
    amount: Decimal
    currency: str
    status: str
    created_at: datetime
    source: str  # transaction | api
    customer_id: str | None = None
    transaction_id: str | None = None
    overridden: bool = False
    case_id: str | None = None
    # an approved dispute of its partner's case put it back to `pending` (SPEC 7): no later flag of
    # that partner holds it again (`rewards.released`)
    released: bool = False


@dataclass
class Reason:
    """One reason code on a case: its most recent detail and how often it fired."""

    code: str
    detail: str
    count: int = 1
    first: str = ""  # sortable: when the code first fired on the case (keeps the case's order)

    def public(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "count": self.count}


@dataclass
class Case:
    program_id: str
    case_id: str
    subject_type: str
    subject_id: str
    subject_name: str
    reasons: list[Reason]
    status: str  # open | disputed | approved | declined | removed
    flagged_at: datetime
    flag_event_id: str
    hold_micros: dict[str, int] = field(default_factory=dict)
    held_count: int = 0
    # how many events flagged the subject under this case: the one that opened it and each flagging
    # event merged since (counted from 12-05: 0 on a case stored before). Its `reasons` also count
    # the signals of events that did not flag on their own (SPEC 4); a verdict is outdated only by
    # another flag
    flags: int = 0
    disputed_at: datetime | None = None
    dispute_reason: str | None = None
    disputed_by: str | None = None  # who disputed it (None for disputes recorded before 12-06)
    resolved_at: datetime | None = None
    verdict: str | None = None
    verdict_note: str | None = None
    # how often each reason had fired when the verdict was recorded (None: no verdict, or one
    # recorded before verdicts kept it): what the verdict was decided on
    verdict_evidence: dict[str, int] | None = None
    # how many events had flagged the subject under the case then (`flags`; None: no verdict, or
    # one recorded before 12-05): an approval stands until another one does (SPEC 7)
    verdict_flags: int | None = None
    removed_at: datetime | None = None
    removed_by: str | None = None
    block_reapply: bool = False
    archived_count: int = 0
    archived_micros: dict[str, int] = field(default_factory=dict)
    subject_team: str | None = None
    # where the hold-amount order placed the case as it was read from it (micro-units: its key there,
    # which lags its holds until a read re-keys it); None when read otherwise. A page's cursor goes
    # on from where its last case was placed, not from where its holds would place it now
    hold_place: int | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    action: str
    actor: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Notification:
    """A domain event for the bus (SPEC 6), written with the change that causes it."""

    notification_id: str
    program_id: str
    name: str  # PartnerFlagged, RewardsHeld, ...
    detail: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True)
class Holdables:
    """A subject's holdable rewards as listed on its item (`holdables.py`): entry texts, and the
    unlisted marks (creation times in µs at or before which holdable rewards may be missing)."""

    entries: frozenset[str] = frozenset()
    unlisted: frozenset[int] = frozenset()


NO_HOLDABLES = Holdables()  # frozen: one empty list serves every subject without one


@dataclass
class Snapshot:
    """Everything scoring reads for one event, in one round trip."""

    subject: Subject | None
    partner: Subject | None
    links: dict[LinkKey, LinkState]
    network: dict[LinkKey, NetworkState]
    counters: dict[str, int]
    reward_taken: bool = False  # the event's reward id already names a stored reward
    transaction_event: str | None = None  # the event that recorded the event's transaction id
    transaction_customer: str | None = None  # and that transaction's customer (claims since 12-05)
    transaction_waiting: frozenset[str] = frozenset()  # API rewards waiting on it (`AwaitTransaction`)
    holdables: Holdables = NO_HOLDABLES  # the subject's, stored or not
    partner_holdables: Holdables = NO_HOLDABLES  # the referring partner's
    customer_holdables: Holdables = NO_HOLDABLES  # an API reward's customer's
    customer: Subject | None = None  # an API reward's customer (named, or its transaction's), stored
    # the referring partner is not stored yet, and purchases through it before it was are kept on its
    # item: their revenue, which its profile takes when it is first written (`PartnerArrival`)
    partner_revenue_kept: bool = False


def as_utc(at: datetime) -> datetime:
    """An event's time in UTC: `occurred_at` keeps the offset it was sent with, so whatever is
    counted or ordered by its wall-clock fields or its text (an hour's count, a reason's first
    time) is so in UTC, one instant being one hour and one text whatever the offset."""
    return at.astimezone(UTC) if at.utcoffset() else at


_T = TypeVar("_T")


def evolve(item: _T, **changes: Any) -> _T:
    """A shallow copy of one of these dataclasses with `changes`: what `dataclasses.replace` gives
    (none of them has `__post_init__` or fields left out of `__init__`) for a fraction of its cost,
    as it does not run `__init__` again; the rules and the in-memory store copy many per event."""
    copied = object.__new__(type(item))
    fields = item.__dataclass_fields__  # type: ignore[attr-defined]
    if changes and not changes.keys() <= fields.keys():
        raise TypeError(f"{type(item).__name__} has no field {sorted(changes.keys() - fields.keys())}")
    if not hasattr(item, "__dict__"):  # a slots dataclass: each field set (frozen ones too)
        for name in fields:
            object.__setattr__(copied, name, changes[name] if name in changes else getattr(item, name))
        return copied
    values = item.__dict__.copy()  # a dict's copy is one block copy; filling an empty one rehashes
    values.update(changes)
    object.__setattr__(copied, "__dict__", values)  # frozen ones too: their __setattr__ is not used
    return copied
