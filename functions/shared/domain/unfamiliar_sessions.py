"""Sessions where a partner never was (`unusual_activity`, variant `payout_changed_from_new_session`):
what makes a session unfamiliar, and the profile's note of such sessions, kept 72 hours either
side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.shared.domain.model import LinkState, Subject

# how long before or after a session where a partner never was a change made on its device or its
# connection is still one made there (a login there first makes them known): an account taken over
# is paid out within hours, before its owner notices
UNFAMILIAR_FOR = timedelta(hours=72)
UNFAMILIAR_KEPT = 8  # such sessions a profile notes: the newest (a decoy or two does not push one out)


def familiar(subject: Subject, kind: str, value: str, link: LinkState) -> bool:
    """Whether a partner used this device or IP (`kind`) before: on its profile, or a member of the
    identifier's link (one spilled out of a full profile stays on its link)."""
    kept = subject.devices if kind == "device" else subject.ips
    return value in kept or subject.key in link.members


def unfamiliar_session(
    subject: Subject | None, device: str | None, ip: str | None, device_link: LinkState, ip_link: LinkState
) -> bool:
    """A session where the partner, as far as anyone knows, never was: a connection new to a partner
    that has used a device before, on a device new to it too, or on none (a fingerprint hidden where
    the partner always sent one). `ip` None, a connection that names no one (a privacy relay, a
    proxy's own address, a crowded link), is not judged; nor is a partner whose integration never
    sent a device."""
    if subject is None or ip is None or not subject.devices or familiar(subject, "ip", ip, ip_link):
        return False
    return device is None or not familiar(subject, "device", device, device_link)


@dataclass(frozen=True)
class Unfamiliar:
    """One noted session where the partner never was: first seen `seen`, `where` (`signals.elsewhere`'s
    word for the place), on connection `ip` (its link key) and device `device` ("" for none sent)."""

    seen: datetime
    where: str
    ip: str
    device: str

    def entry(self) -> str:
        where = "-".join(self.where.split()) or "-"  # one word: the entry is read back by blanks
        return f"{self.seen.isoformat()} {where} {self.ip} {self.device}"


def unfamiliar_entries(subject: Subject) -> list[Unfamiliar]:
    """A profile's note of unfamiliar sessions, read (`<seen> <where> <ip> <device>`; an entry that
    does not read is skipped)."""
    found = []
    for entry in subject.unfamiliar:
        seen, _, rest = entry.partition(" ")
        where, _, rest = rest.partition(" ")
        ip, _, device = rest.partition(" ")  # a device may hold blanks: the rest
        try:
            found.append(Unfamiliar(datetime.fromisoformat(seen), where, ip, device))
        except ValueError:
            continue
    return found


def unfamiliar_noted(
    subject: Subject, device: str | None, ip: str, where: str, at: datetime
) -> tuple[str, ...]:
    """A partner's note of unfamiliar sessions with this one added: the newest `UNFAMILIAR_KEPT`, none
    older than `UNFAMILIAR_FOR` before the newest; one connection and device noted already keeps its
    first time. Events arrive out of order: the note merges whatever order they come in."""
    first: dict[tuple[str, str], Unfamiliar] = {}
    for noted in [Unfamiliar(at, where, ip, device or ""), *unfamiliar_entries(subject)]:
        kept = first.get((noted.ip, noted.device))
        if kept is None or noted.seen < kept.seen:
            first[(noted.ip, noted.device)] = noted
    newest = max(noted.seen for noted in first.values())
    recent = sorted(
        (noted for noted in first.values() if newest - noted.seen <= UNFAMILIAR_FOR),
        key=lambda noted: noted.seen,
        reverse=True,
    )
    return tuple(noted.entry() for noted in recent[:UNFAMILIAR_KEPT])


def _near(at: datetime, noted: Unfamiliar) -> bool:
    """Within `UNFAMILIAR_FOR` of `at`, before or after it (events arrive out of order)."""
    return abs(at - noted.seen) <= UNFAMILIAR_FOR


def noted_ips(subject: Subject | None, at: datetime) -> frozenset[str]:
    """The connections of the unfamiliar sessions noted near `at`: on the profile since, but no
    evidence of where the partner has been (`signals.elsewhere` leaves them out)."""
    if subject is None or not subject.unfamiliar:
        return frozenset()
    return frozenset(noted.ip for noted in unfamiliar_entries(subject) if _near(at, noted))


def unfamiliar_seen(
    subject: Subject | None, device: str | None, ip: str | None, at: datetime
) -> tuple[datetime, str] | None:
    """When and where a noted unfamiliar session first showed this event's device or connection, near
    `at` (a login there minutes before made them known), while the event is not on a connection the
    partner used before it (a computer bought abroad, then used at home, is the partner's own). None
    for none."""
    if subject is None or not subject.unfamiliar:
        return None
    near = [noted for noted in unfamiliar_entries(subject) if _near(at, noted)]
    if ip is not None and ip in subject.ips and ip not in {noted.ip for noted in near}:
        return None
    same = [noted for noted in near if (device and noted.device == device) or (ip and noted.ip == ip)]
    if not same:
        return None
    earliest = min(same, key=lambda noted: noted.seen)
    return earliest.seen, earliest.where
