"""Marks on identifiers: a flagged or removed subject's mark on every identifier it used, in its
program and across the network (`network_flagged`), what a block covers, and the steps that write
and withdraw them (SPEC 5.3, 7)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Set
from functools import lru_cache
from typing import Any

from functions.shared.domain.identity import namesake_entries, network_key
from functions.shared.domain.model import CUSTOMER_KEY, LinkKey, Subject
from functions.shared.domain.plans import chunked
from functions.shared.domain.profiles import adds_identifiers, identifiers_of
from functions.shared.domain.writes import MarkLink, MarkNetwork, Step, UpdateProfile, Write

MARKED = ("flagged", "removed")  # subject statuses whose identifiers carry their mark (network marks too)
BLOCK_COVERS = ("email", "device")  # a blocked person reapplying is known by these
# the links a removed partner's name is kept on (`removed_marks`): its connection, and the keys of
# addresses near its own (`identity.NEAR_DUPLICATE_KINDS`)
NAMES_KEPT_ON = frozenset({"ip", "email_skeleton", "email_near"})
NOTHING: dict[str, frozenset[str]] = {}  # a mark's `remove` when it takes nothing away (never changed)


def network_identifiers(
    subject: Subject, pepper: bytes, identifiers: list[LinkKey] | None = None
) -> list[LinkKey]:
    """The subject's identifiers across the network: each e-mail, device and payout account, as
    keyed hashes (`identifiers`: the subject's `identifiers_of`, when known already)."""
    found = identifiers_of(subject) if identifiers is None else identifiers
    emails = sorted(k for kind, k in found if kind == "email")
    payouts = sorted(k for kind, k in found if kind == "payout")
    return (
        [("email", network_key("email", e, pepper)) for e in emails]
        + [("device", network_key("device", d, pepper)) for kind, d in found if kind == "device"]
        + [("payout", network_key("payout", p, pepper)) for p in payouts]
    )


@lru_cache(maxsize=1024)  # a few programs per process; every scored event asks several times
def program_token(program_id: str, pepper: bytes) -> str:
    return hmac.new(pepper, f"program:{program_id}".encode(), hashlib.sha256).hexdigest()[:16]


def network_marks(subject: Subject, status: str, pepper: bytes) -> dict[str, str]:
    """The marks a subject's network items carry while it has `status`: its mark in `flagged` or in
    `removed` (`MARKED`), none otherwise."""
    return {status: network_mark(subject.program_id, subject, pepper)} if status in MARKED else {}


def network_mark(program_id: str, subject: Subject, pepper: bytes) -> str:
    """One subject's mark on a network item: its program's token and an opaque subject token."""
    return _network_mark(program_id, subject.key, pepper)


# ends a customer's mark: what a customer identifies itself by is typed at checkout, verified by
# no one, so partners do not read it as theirs (`signals.as_a_partner_sees`). Customers' marks made
# before the suffix have none: read as an account's, and withdrawn in both forms.
CUSTOMER_MARK = ".c"


@lru_cache(maxsize=65536)  # a flagged subject's every event asks
def _network_mark(program_id: str, subject_key: str, pepper: bytes) -> str:
    person = hmac.new(pepper, f"subject:{program_id}/{subject_key}".encode(), hashlib.sha256).hexdigest()[:16]
    mark = f"{program_token(program_id, pepper)}.{person}"
    return mark + CUSTOMER_MARK if subject_key.startswith(CUSTOMER_KEY) else mark


def mark_program(mark: str) -> str:
    return mark.partition(".")[0]


def customers_mark(mark: str) -> bool:
    return mark.endswith(CUSTOMER_MARK)


def flag_marks(subject: Subject, pepper: bytes, skip: Set[LinkKey] = frozenset()) -> list[Write]:
    """Marks a flagged subject on its identifiers, so later look-ups see the flag; none on the
    identifiers in `skip` (marked already, or by another write of the same step)."""
    mark = network_mark(subject.program_id, subject, pepper)
    identifiers = identifiers_of(subject)
    flagged = {"flagged": frozenset({subject.key})}
    writes: list[Write] = [
        MarkLink(subject.program_id, key, add=flagged) for key in identifiers if key not in skip
    ]
    writes += [
        MarkNetwork(key, add={"flagged": frozenset({mark})})
        for key in network_identifiers(subject, pepper, identifiers)
        if key not in skip
    ]
    return writes


def marks_not_named(
    before: Subject | None, profile: Subject, named: Set[LinkKey], pepper: bytes
) -> list[Write]:
    """The marks of a flagged (or removed) subject on its identifiers that a scored event's own
    writes (`named`) do not carry: all of them, but those a `before` with the same status carries
    for certain. A flag marks every identifier the subject used and a removal too (before it writes
    the status), and while the status stays every event marks those it adds: so once the marks are
    all written (`marks_pending` false), only the identifiers this event adds are left, and none
    when it adds none."""
    skip = set(named)
    if before is not None and before.status == profile.status and not before.marks_pending:
        if not adds_identifiers(before, profile):
            return []
        identifiers = identifiers_of(before)
        skip.update(identifiers, network_identifiers(before, pepper, identifiers))
    if profile.status == "removed":
        return removal_marks(profile, pepper, profile.block_reapply, skip)
    return flag_marks(profile, pepper, skip)


def marks_every_identifier(before: Subject | None, status: str) -> bool:
    """Whether marking a subject that will have `status` reaches every identifier it ever used
    (`marks_not_named`), so those spilled out of its profile must be read first: a new flag or
    removal, or marks still pending; not while a status stays and its marks are all written."""
    if status not in MARKED:
        return False
    return before is None or before.status != status or before.marks_pending


def unflag_marks(subject: Subject, pepper: bytes) -> list[Write]:
    """Withdraws this subject's flag marks only (SPEC 5.3): others sharing them keep theirs."""
    mark = network_mark(subject.program_id, subject, pepper)
    marks = frozenset({mark, mark.removesuffix(CUSTOMER_MARK)})  # a customer's older marks too
    writes: list[Write] = [
        MarkLink(subject.program_id, key, remove={"flagged": frozenset({subject.key})})
        for key in identifiers_of(subject, keyed_before=True)  # a flag written before the upgrade too
    ]
    writes += [MarkNetwork(key, remove={"flagged": marks}) for key in network_identifiers(subject, pepper)]
    return writes


def marks_to_rewrite(subject: Subject) -> bool:
    """Whether a subject is a flagged customer whose network marks may be of the form before
    `CUSTOMER_MARK` (`customer_marks_rewritten`)."""
    return subject.type == "customer" and subject.status == "flagged" and not subject.customer_marks


def customer_marks_rewritten(subject: Subject, pepper: bytes) -> list[Step]:
    """A flagged customer's network marks as written before `CUSTOMER_MARK`, in its form: the
    suffixed mark added on each of its network identifiers, then the old one withdrawn (added first,
    so the customer is never unmarked meanwhile; one attribute cannot be added to and taken from in
    one DynamoDB update). Each step holds only while the customer is still flagged under the same
    case: an approval meanwhile withdrew both forms, and a step after it would put one back. Set
    additions and removals: running it again changes nothing."""
    if not marks_to_rewrite(subject):
        return []
    mark = network_mark(subject.program_id, subject, pepper)
    old = mark.removesuffix(CUSTOMER_MARK)
    identifiers = network_identifiers(subject, pepper)
    added: list[Write] = [MarkNetwork(key, add={"flagged": frozenset({mark})}) for key in identifiers]
    withdrawn: list[Write] = [MarkNetwork(key, remove={"flagged": frozenset({old})}) for key in identifiers]
    return _marks_then_noted(subject, [added, withdrawn], {"customer_marks": True})


def removal_marks(
    subject: Subject, pepper: bytes, block_reapply: bool, skip: Set[LinkKey] = frozenset()
) -> list[Write]:
    """Marks a removed subject on its identifiers (and blocks re-applying with its e-mail
    addresses and devices); none on those in `skip`."""
    mark = network_mark(subject.program_id, subject, pepper)
    identifiers = identifiers_of(subject)
    writes: list[Write] = [
        MarkLink(subject.program_id, key, add=removed_marks(subject, key, block_reapply, pepper))
        for key in identifiers
        if key not in skip
    ]
    writes += [
        MarkNetwork(key, add={"removed": frozenset({mark})})
        for key in network_identifiers(subject, pepper, identifiers)
        if key not in skip
    ]
    return writes


def removed_marks(
    subject: Subject, key: LinkKey, block_reapply: bool, pepper: bytes
) -> dict[str, frozenset[str]]:
    """What a removed subject's mark on one link is: removed, and blocked where it covers re-applying;
    on an IP and on the keys of addresses near its own, `<subject key> <its name's digest>` too
    (`identity.namesake`): a removed partner back under its own name, with a new computer, from its
    connection or with an address a letter or two from its own, is named by them
    (`signals.removed_namesake`, `signals.email_signals`)."""
    me = frozenset({subject.key})
    marks = {"removed": me, "blocked": me} if block_reapply and key[0] in BLOCK_COVERS else {"removed": me}
    if key[0] in NAMES_KEPT_ON and (names := namesake_entries(subject.key, subject.name, pepper)):
        marks["names"] = names
    return marks


def marks_plan(subject: Subject, marks: list[Write]) -> list[Step]:
    """Flag marks in as many steps as they take, then the profile noted as fully marked."""
    return _marks_then_noted(subject, [marks], {"marks_pending": False})


def _marks_then_noted(subject: Subject, groups: list[list[Write]], note: dict[str, Any]) -> list[Step]:
    """Marks in as many steps as they take (each group in steps of its own: a group may write an
    item another group writes too), the profile noted (`note`, no new version) with the last. Each
    step is conditional on the subject being still what these marks mark (an approval that
    unflagged it meanwhile has withdrawn its marks: a step after that would put them back)."""
    still = {"flag_case_id": subject.flag_case_id, "status": subject.status}
    program_id, kind, subject_id = subject.program_id, subject.type, subject.id
    done = UpdateProfile(program_id, kind, subject_id, note, expect=still, bump=False)
    guard = UpdateProfile.guard(program_id, kind, subject_id, **still)
    steps = [step for group in groups for step in chunked(group, guard)]
    if steps:  # the last marks and the note that they are all written, together
        steps[-1] = Step([*steps[-1].writes[:-1], done])
    return steps or [Step([done])]


def pending_marks_plan(subject: Subject, pepper: bytes) -> list[Step]:
    """For a flagged subject whose flag stopped before every identifier was marked (the sweep
    finishes it): all its marks again (set additions: nothing is marked twice)."""
    if subject.status != "flagged" or not subject.marks_pending:
        return []
    return marks_plan(subject, flag_marks(subject, pepper))
