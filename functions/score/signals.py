"""The signals of SPEC 5.1: pure functions from an event and what storage knows to reasons.

Each reason carries its fixed code, a readable detail naming the evidence, and the weight variant
(`weights.WEIGHTS`) that decides how much it counts."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from functions.score import weights
from functions.score.reference import ReferenceData, distance_km
from functions.shared.domain.identity import (
    SIMILAR_EMAIL_DISTANCE,
    EmailKeys,
    NearProbe,
    email_domain,
    email_keys,
    ip_key,
    name_key,
    names_someone,
    names_the_same,
    namesake,
    namesake_of,
    near_probes,
    same_payout_account,
    span_of,
    untagged,
)
from functions.shared.domain.links import as_it_stood, given_since, merged, without_later
from functions.shared.domain.marks import BLOCK_COVERS, customers_mark, mark_program
from functions.shared.domain.model import (
    CUSTOMER_KEY,
    NO_LINK,
    PARTNER_KEY,
    LinkState,
    NetworkState,
    ReasonCode,
    Reward,
    Subject,
    as_utc,
    evolve,
)
from functions.shared.domain.profiles import payout_change_before, payout_change_times
from functions.shared.domain.territories import same_country
from functions.shared.domain.velocity import SATURATED
from functions.shared.money import amount_text, to_micros

# how a connection's velocity count is labelled (`Engine._counts`), as its reason says it
VELOCITY_CONNECTION = "IP "
# the networks on which accounts are a group by their connection alone (`suspect_connection`)
SUSPECT_NETWORKS = ("hosting", "bot")

NEAR_DUPLICATE_KEYS = ("email_skeleton",)  # similar addresses, not shared ones
ONE_EDIT_ROLE = "email_near#"  # roles of the near-duplicate keys: email_near#<n>, n the probe's place
# the roles an event reads an address under in its other role (`identity.address_in_other_role`),
# by the kind of the event's own link: a login address in its payout link, a PayPal account in its
# login link (a review's `<role>#<n>`, as its links are)
IN_OTHER_ROLE = {"email": "email_as_payout", "payout": "payout_as_email"}
_OTHER_ROLE_WORDS = {
    "email_as_payout": ("e-mail address", "as a payout account"),
    "payout_as_email": ("payout account", "as a login e-mail"),
}
# the roles of links whose members typed the identifier, unverified (a payout account; an address
# given as one, read in its other role), by the role of the link the event's own subject gave it on:
# a payout account its own, a login address its login link (a review's `<role>#<n>` too). Not a
# login: one who logs in at an address receives its mail, whenever it came.
_GIVEN_ON = {"payout": "payout", "email_as_payout": "email"}
# privacy relays ordinary people use every day (Safari with iCloud+): weak, unlike a VPN or a datacenter
CONSUMER_RELAYS = frozenset({"Apple Private Relay"})


@dataclass(frozen=True)
class Reason:
    code: ReasonCode
    detail: str
    variant: str  # key of weights.WEIGHTS

    def public(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


def describe(member: str) -> str:
    kind, _, identifier = member.partition(":")
    return f"{kind} {identifier}"


def _others(state: LinkState, me: str) -> set[str]:
    return set(state.members) - {me}


def _bad(state: LinkState, me: str) -> tuple[set[str], set[str]]:
    return set(state.flagged) - {me}, set(state.removed) - {me}


def _status_words(member: str, flagged: set[str], removed: set[str]) -> str:
    if member in removed:
        return f"{describe(member)} (removed)"
    if member in flagged:
        return f"{describe(member)} (flagged)"
    return describe(member)


def _listing(members: set[str], flagged: set[str] = frozenset(), removed: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    ordered = sorted(members, key=lambda m: (m not in removed, m not in flagged, m))
    shown = ", ".join(_status_words(m, flagged, removed) for m in ordered[:3])
    return shown + (f" and {len(ordered) - 3} more" if len(ordered) > 3 else "")


def as_a_partner_sees(
    links: dict[str, LinkState], network: dict[str, NetworkState]
) -> tuple[dict[str, LinkState], dict[str, NetworkState]]:
    """A partner's identifiers without what customers typed: an address given at checkout is
    verified by no one, so anyone can type a partner's, or one like it (framing the partner: the
    purchase is a self-referral or another account's address, flagged, and the flagged customer
    would stand beside the partner for good, here and across the network). So customers on the
    partner's address, or on one similar to it, are no evidence about the partner, in its program
    or on the network (customers' marks end in `marks.CUSTOMER_MARK`). A device or an IP is not
    typed: whoever used it counts, customers too."""
    state = network.get("email")
    if state is not None and (state.flagged or state.removed):
        network = {
            **network,
            "email": NetworkState(
                frozenset(m for m in state.flagged if not customers_mark(m)),
                frozenset(m for m in state.removed if not customers_mark(m)),
            ),
        }
    typed = {
        role: _without_customers(link)
        for role, link in links.items()
        if role in ("email", IN_OTHER_ROLE["payout"])
        or role in NEAR_DUPLICATE_KEYS
        or role.startswith(ONE_EDIT_ROLE)
    }
    return {**links, **typed}, network


def a_partners_group(links: dict[str, LinkState]) -> dict[str, LinkState]:
    """The accounts a partner's `cluster` counts: not the customers known only by its connection.
    A household, an office or a carrier's NAT shares one, and anyone there can buy through the
    partner's link: two such purchases, each a self-referral by IP, made the partner a group with
    flagged members (80). A flagged one there is still named by `ip_suspicious` (weak, SPEC 5.2).
    Nor the partners on its address in the other role (`IN_OTHER_ROLE`): a family's PayPal account
    on one parent's login pays the children, an everyday household, no group; a flagged, removed
    or blocked partner there is evidence of its own (`in_other_role`, `blocked_reapply`)."""
    group = in_own_roles(links)
    return {**group, "ip": _without_customers(group["ip"])} if "ip" in group else group


def in_own_roles(links: dict[str, LinkState]) -> dict[str, LinkState]:
    """The links an event's identifiers are members of, without the addresses read in their other
    role (`IN_OTHER_ROLE`): who is paid into an address is in no group with whoever logs in with
    it, or buys with it (a partner paid into a parent's PayPal, a customer buying at its own
    address that a partner gives as its PayPal account); a flagged, removed or blocked partner
    there is evidence of its own (`in_other_role`)."""
    return {role: state for role, state in links.items() if role.partition("#")[0] not in _OTHER_ROLE_WORDS}


def as_one_shopper(me: str, links: dict[str, LinkState]) -> dict[str, LinkState]:
    """A customer's links without the other customers at its own e-mail address, none of them
    flagged or removed: one shopper under the ids a shop gives its orders (a guest checkout's id is
    new for each), not another account. The same person buying again a week later was an
    `email_duplicate` on its own device (85, the partner's commission held) and at a third order
    a device of several accounts. Flagged or removed there, it is the person flagged (SPEC 5.2)."""
    email = links.get("email")
    if email is None:
        return links
    same = frozenset(m for m in email.members if m != me and m.startswith(CUSTOMER_KEY))
    same -= email.flagged | email.removed
    if not same:
        return links
    return {role: _without(state, same) for role, state in links.items()}


def _without_customers(link: LinkState) -> LinkState:
    return _without(link, frozenset(m for m in link.members if m.startswith(CUSTOMER_KEY)))


def _without(link: LinkState, members: frozenset[str]) -> LinkState:
    gone = members & link.members
    if not gone:
        return link
    return evolve(
        link,
        members=link.members - gone,
        flagged=link.flagged - gone,
        removed=link.removed - gone,
        blocked=link.blocked - gone,
        spans=frozenset(e for e in link.spans if span_of(e)[0] not in gone),
    )


def blocked_reapply(me: str, links: dict[str, LinkState], subject: Subject | None = None) -> list[Reason]:
    """A sign-up of someone removed and blocked from re-applying: by the same e-mail address or
    device (SPEC 3.2), or under the very partner id that was removed (`subject`, as stored): the
    program's own name for them, whatever address or device they come back with."""
    if subject is not None and subject.status == "removed" and subject.block_reapply:
        case = f" (case {subject.flag_case_id})" if subject.flag_case_id else ""
        return [
            Reason(
                "blocked_reapply",
                f"partner {subject.id} was removed{case} and blocked from reapplying",
                "blocked_reapply",
            )
        ]
    # the blocked person's login address given as this sign-up's payout account (a PayPal account
    # on it) is the same normalized e-mail address, in another field: the block covers it
    for role in (*BLOCK_COVERS, IN_OTHER_ROLE["payout"]):
        state = links.get(role)
        blocked = set(state.blocked) if state else set()  # the blocked person themselves included
        if blocked:
            what = "device" if role == "device" else "e-mail address"
            given = " (given here as the payout account)" if role == IN_OTHER_ROLE["payout"] else ""
            return [
                Reason(
                    "blocked_reapply",
                    f"same {what} as {_listing(blocked)}, removed and blocked from reapplying{given}",
                    "blocked_reapply",
                )
            ]
    return []


def email_duplicate(me: str, exact: LinkState) -> list[Reason]:
    """The same e-mail address (normalized) as other subjects: strong when one is flagged or removed."""
    others = _others(exact, me)
    if not others:
        return []
    flagged, removed = _bad(exact, me)
    variant = "email_duplicate_of_flagged" if others & (flagged | removed) else "email_duplicate"
    detail = f"e-mail address also used by {_listing(others, flagged, removed)}"
    return [Reason("email_duplicate", detail, variant)]


def as_they_stood(me: str, links: dict[str, LinkState], at: datetime) -> dict[str, LinkState]:
    """The event's payout-account links (its own payout account's, and its login address's as a
    payout account: `_GIVEN_ON`) as each stood when `me` gave the identifier (`links.as_it_stood`,
    `links.given_since`: at the time its own link keeps for it, or the event's time, `at`). A
    payout account is typed, unverified: those paid into it after `me` gave it are no evidence
    against `me`. A throwaway account flagged on purpose, then paid into an honest partner's IBAN or
    PayPal address, or into the address the partner logs in with (or a shopper buys at), flagged
    the partner (a security tester's finding). Evidence against the later one stands: a partner
    paid into a removed partner's account or at its login address gave it after, and a partner
    paid at an address a removed partner logs in with, whenever that came, pays into its mailbox.

    Its address, and a partner's device, as they stood at the event's time, `at`: without those
    that gave them up to a day after it and whose events came first (`links.without_later`)."""
    stood = dict(links)
    for role, state in links.items():
        base, sign, n = role.partition("#")
        if base == "email" or (base == "device" and me.startswith(PARTNER_KEY)):
            # an address, or a partner's device: not judged on those that gave it after this event's
            # time, whose events arrived first (`links.without_later`; `linked_earlier` reviews them
            # as of their own time). A customer's device is read whole: a partner there after its
            # purchase is its `self_referral` (no review judges a customer again)
            stood[role] = without_later(state, at)
            continue
        if (given_on := _GIVEN_ON.get(base)) is None or (own := links.get(given_on + sign + n)) is None:
            continue
        stood[role] = as_it_stood(state, given_since(own, me, at))
    return stood


def network_as_it_stood(
    me: str, network: dict[str, NetworkState], links: dict[str, LinkState]
) -> dict[str, NetworkState]:
    """The event's network items, without its payout account's when the subject gave that account
    before this event (its link in the program names it): a network mark keeps no time, and a
    payout account is typed, unverified. A partner of one program that flags itself and then types
    an honest partner's IBAN of another program flagged that partner `network_flagged` at its next
    event carrying the account. A subject giving an account flagged or removed elsewhere, at its
    sign-up or as a change, is still `network_flagged`."""
    if "payout" not in network or me not in links.get("payout", NO_LINK).members:
        return network
    return {role: state for role, state in network.items() if role != "payout"}


def in_other_role(me: str, links: dict[str, LinkState]) -> list[Reason]:
    """The address of the event's login e-mail or PayPal payout account used by a flagged or removed
    partner in the other role (`IN_OTHER_ROLE`: read in its other link,
    `identity.address_in_other_role`): an e-mail address shared with a flagged or removed subject,
    strong (SPEC 5.2), `email_duplicate` as the same address in the same role is. A partner paid
    into another's address otherwise is a household's everyday (a spouse's PayPal, a parent's
    paying the children): no reason, nor counted in `cluster` (`in_own_roles`). Customers are
    not there (`as_a_partner_sees`). A purchase reads its customer's address as a payout account
    too: a customer buying at a removed partner's PayPal address is that person, as one at its
    login address is (`email_duplicate`)."""
    reasons: list[Reason] = []
    for role, (what, how) in _OTHER_ROLE_WORDS.items():
        state = links.get(role)
        if state is None:
            continue
        flagged, removed = _bad(state, me)
        if flagged or removed:
            listed = _listing(_others(state, me), flagged, removed)
            reasons.append(
                Reason("email_duplicate", f"{what} used {how} by {listed}", "email_duplicate_of_flagged")
            )
    return reasons


def shared_with_removed(me: str, links: dict[str, LinkState]) -> list[Reason]:
    """A partner reviewed because a partner it shares an e-mail address, a device or a payout account
    with was removed (`linked_removal`; `links` by role `<kind>#<n>`, a crowded one empty unless a
    farm's): each identifier shared with a removed partner, by the reason an event on it gives
    (`email_duplicate`, `device_shared`, `cluster` for a payout account), and only those (a review
    is no event of the partner's: nothing else of it is new). One reason per code, as every event's
    decision gives each code once: the identifiers of a kind are read as one (two devices, or a
    British IBAN's two payout keys), and each partner on them is named once; an address in its own
    role and in the other (`in_other_role`: a login on the removed partner's PayPal address, paid
    at its login address) is one `email_duplicate`, its detail naming each role it covers."""
    by_kind: dict[str, LinkState] = {}
    for role, state in links.items():
        if not any(m != me and not m.startswith(CUSTOMER_KEY) for m in state.removed):
            continue
        kind = role.partition("#")[0]
        by_kind[kind] = merged(by_kind[kind], state) if kind in by_kind else state
    reasons: list[Reason] = []
    address: list[Reason] = []  # what customers typed is no evidence about a partner (`as_a_partner_sees`)
    for kind, state in by_kind.items():
        if kind == "email":
            address += email_duplicate(me, _without_customers(state))
        elif kind in _OTHER_ROLE_WORDS:  # its address in the other role
            address += in_other_role(me, {kind: _without_customers(state)})
        elif kind == "device":
            reasons += device_signals(me, "", state)
        elif kind == "payout":
            reasons += cluster_signal(me, {"payout": state}, set())
    if address:
        heaviest = max(address, key=lambda reason: weights.WEIGHTS[reason.variant])
        reasons.insert(0, Reason("email_duplicate", "; ".join(r.detail for r in address), heaviest.variant))
    return reasons


def shared_with_earlier(
    me: str, links: dict[str, LinkState], at: datetime, earlier: str, earlier_flagged_at: datetime | None
) -> list[Reason]:
    """A partner reviewed because a partner that gave one of its e-mail addresses, devices or payout
    accounts before it was scored after it (`linked_earlier`; `links` by role `<kind>#<n>`): each
    link as it stood when this partner gave the identifier (`links.given_since`), read as its own
    event would have read it, had the earlier one arrived first (customers left out but for a
    device's; no member's flag but the earlier partner's, `earlier`, from `earlier_flagged_at` on):
    `email_duplicate`, `device_shared`, and `cluster` for a payout account. One reason per code
    (`shared_with_removed`)."""
    by_kind: dict[str, LinkState] = {}
    for role, state in links.items():
        kind = role.partition("#")[0]
        stood = as_it_stood(state, given_since(state, me, at))
        # a link's flags keep no time: one may have come after this partner gave it. Only the earlier
        # partner's is known, and read from when it began; the team's removals and blocks are read,
        # whenever they came
        known = {earlier} if earlier_flagged_at is not None and earlier_flagged_at <= at else set()
        stood = evolve(stood, flagged=stood.flagged & ({me} | known))
        if kind != "device":  # a device's customers count (`as_a_partner_sees`)
            stood = _without_customers(stood)
        by_kind[kind] = merged(by_kind[kind], stood) if kind in by_kind else stood
    reasons: list[Reason] = []
    if "email" in by_kind:
        reasons += email_duplicate(me, by_kind["email"])
    if "device" in by_kind:
        reasons += device_signals(me, "", by_kind["device"])
    if "payout" in by_kind:
        reasons += cluster_signal(me, {"payout": by_kind["payout"]}, set())
    return reasons


def email_signals(
    me: str,
    email: str,
    keys: EmailKeys,
    links: dict[str, LinkState],
    reference: ReferenceData,
    name: tuple[str, bytes] | None = None,
) -> list[Reason]:
    """`name`: a partner's name and the pepper its digest is keyed with: an address near a removed
    partner's, under that partner's name (`marks.removed_marks` keeps it on the near keys), is the
    removed partner back with a look-alike address (an evasion tester's `ring.boss@` as
    `ring.boss2@`, `ringboss@`, `ring-boss@`: a new device and IP, scored 35, allowed)."""
    exact = links.get("email", NO_LINK)
    others = _others(exact, me)
    reasons = email_duplicate(me, exact)
    similar: set[str] = set()
    similar_flagged: set[str] = set()
    similar_removed: set[str] = set()
    namesakes: set[str] = set()  # removed partners near it, under the same name
    one_edit: set[str] = set()  # found only through the near-duplicate keys: a typo or two away
    probes = None
    for role, state in links.items():
        if role not in NEAR_DUPLICATE_KEYS and not role.startswith(ONE_EDIT_ROLE):
            continue
        if not state.members:
            continue  # no one else (most near-duplicate keys of an address)
        near = _others(state, me)
        if role.startswith(ONE_EDIT_ROLE):
            probes = probes or near_probes(email)
            near = _within_reach(near, state.spans, probes[int(role[len(ONE_EDIT_ROLE) :])])
        if len(near) > weights.SIMILAR_EMAIL_CROWD:
            continue  # a common first name or a role address (emily123@…, info@…): many people, not one
        found = near - others
        removed = found & set(state.removed)
        similar |= found
        similar_flagged |= found & set(state.flagged)
        similar_removed |= removed
        if name is not None and state.names and removed:
            namesakes |= {
                member
                for member, remembered in map(namesake_of, state.names)
                if member in removed and names_the_same(remembered, *name)
            }
        if role.startswith(ONE_EDIT_ROLE):
            one_edit |= found
    for kind in NEAR_DUPLICATE_KEYS:
        one_edit -= _others(links.get(kind, NO_LINK), me)  # the same bare name: digits, dots
    if similar:
        if namesakes:
            variant = "email_similar_to_removed_namesake"
        elif similar_flagged or similar_removed:
            variant = "email_similar_to_flagged"
        elif one_edit:
            variant = "email_one_edit"
        else:
            variant = "email_similar"
        how = "a letter or two from" if one_edit and not similar - one_edit else "close to"
        reasons.append(
            Reason(
                "email_similar",
                f"e-mail address {how} that of {_listing(similar, similar_flagged, similar_removed)}"
                + (", under the same name" if namesakes else ""),
                variant,
            )
        )
    domain = email_domain(email)
    if reference.disposable(domain):
        reasons.append(
            Reason(
                "email_disposable_domain",
                f"{domain} is a disposable e-mail domain",
                "email_disposable_domain",
            )
        )
    elif reference.suspicious_domain(domain):
        reasons.append(
            Reason(
                "email_suspicious_domain",
                f"{domain} is a suspicious e-mail domain",
                "email_suspicious_domain",
            )
        )
    return reasons


def ip_signals(
    me: str, ip: str, country: str | None, ip_link: LinkState, reference: ReferenceData
) -> list[Reason]:
    reasons: list[Reason] = []
    facts = reference.ip(ip)
    flagged, removed = _bad(ip_link, me)
    evidence = []
    variant = None
    if flagged | removed:
        line = "" if ip_key(ip) == ip else f" (its network {ip_key(ip)})"  # IPv6: the /64 is linked
        evidence.append(f"used{line} by {_listing(flagged | removed, flagged, removed)}")
        variant = "ip_suspicious_linked"
    if facts.listed:
        evidence.append("in a listed suspicious range")
        variant = variant or "ip_suspicious_network"
    if facts.provider in CONSUMER_RELAYS:
        evidence.append(f"a privacy relay ({facts.provider})")
        variant = variant or "ip_suspicious_relay"
    elif facts.anonymizing or facts.hosting:
        owner = f" ({facts.provider})" if facts.provider else ""
        evidence.append(f"a {facts.network_kind} network{owner}")
        variant = variant or "ip_suspicious_network"
    if variant:
        reasons.append(Reason("ip_suspicious", f"IP {ip} is " + "; ".join(evidence), variant))
    # a code that names no country (`ZZ`, an integration's placeholder) is no country to differ from
    if (
        country
        and facts.country
        and not same_country(facts.country, country)
        and reference.country_known(country)
    ):
        reasons.append(
            Reason(
                "ip_country_mismatch",
                f"IP {ip} is in {facts.country}, the reported country is {country}",
                "ip_country_mismatch",
            )
        )
    return reasons


def removed_namesake(me: str, ip: str, name: str, ip_link: LinkState, pepper: bytes) -> list[Reason]:
    """A sign-up from the connection of a partner the program removed, under that partner's name
    (`marks.removed_marks` keeps `<partner> <name digest>` on the IP): the removed partner back
    with a new address and a new computer. A name alone is common, and so is an IP (a household, an
    office): together, and the partner removed, they name the person. A name too common to tell
    anyone by (`identity.namesake`) names no one; initials and titles are no part of it."""
    if not ip_link.names or namesake(name, pepper) is None:
        return []
    found = {
        member
        for member, remembered in map(namesake_of, ip_link.names)
        if member in ip_link.removed and member != me and names_the_same(remembered, name, pepper)
    }
    if not found:
        return []
    line = "" if ip_key(ip) == ip else f" (its network {ip_key(ip)})"
    detail = f"IP {ip}{line} is that of {_listing(found, set(), found)}, under the same name"
    return [Reason("ip_suspicious", detail, "ip_suspicious_removed_namesake")]


def device_signals(me: str, device: str, device_link: LinkState) -> list[Reason]:
    others = _others(device_link, me)
    if not others:
        return []
    flagged, removed = _bad(device_link, me)
    if others & (flagged | removed):
        variant = "device_shared_with_flagged"
    elif len(others) >= 2:
        variant = "device_shared_with_several"
    else:
        variant = "device_shared"
    return [
        Reason(
            "device_shared",
            f"device fingerprint also used by {_listing(others, flagged, removed)}",
            variant,
        )
    ]


Point = tuple[float, float]


def location_signal(
    session: Point | None,
    address: Point | None,
    session_from: str = "",
    address_from: str = "",
    within_km: float = 0.0,
) -> list[Reason]:
    """The session's location (the event's `ip_location`, else the IP's city from a city database)
    far from the reported address (its coordinates, else its city's from the gazetteer). The detail
    says where an estimate came from. `within_km`: how far from its place the session may be (a
    city database's accuracy radius): far only when it is far even then (a mobile network's IP
    placed within 500 km of Lyon is not far from a London address, 750 km away; one placed within
    500 km of Lagos is)."""
    if session is None or address is None:
        return []
    km = distance_km(session[0], session[1], address[0], address[1])
    if km - within_km <= weights.FAR_FROM_ADDRESS_KM:
        return []
    sources = "; ".join(f for f in (session_from, address_from) if f)
    return [
        Reason(
            "location_far_from_address",
            f"session located {km:,.0f} km from the reported address" + (f" ({sources})" if sources else ""),
            "location_far_from_address",
        )
    ]


def velocity_signal(
    what: str,
    counts: dict[str, int],
    limit: int,
    later: Callable[[str], int] | None = None,
    variant: Callable[[str], str] = lambda label: "velocity",
) -> list[Reason]:
    """`counts`: the other events of the identifier's hours (`velocity`), by label (`IP <ip>`, `this
    device`); `later`: how many of a count's are in the hour after this event's (received before
    it: late arrivals, SPEC 4); `variant`: a label's weight (`weights.WEIGHTS`). Of the counts at
    `limit`, the one that weighs most (the first, of equal weights) is the reason. It says "within
    three hours", never "in the last three": counts are kept by the hour, and the others of the
    event's own hour may be dated after it (a burst sent newest first, received within its hour or
    days later)."""
    found = [(label, count) for label, count in counts.items() if count >= limit]
    if not found:
        return []
    label, count = max(found, key=lambda item: weights.WEIGHTS[variant(item[0])])
    after = later(label) if later else 0
    when = f"within three hours, {_counted(after)} dated after this one" if after else "within three hours"
    return [Reason("velocity", f"{_counted(count)} {what} from {label} {when}", variant(label))]


def signups_variant(crowded: Collection[str]) -> Callable[[str], str]:
    """A fourth partner signing up from one connection or device within three hours: a script's
    burst, which flags alone (`weights.STRONG`); a family signing up together is three. On a
    crowd's identifier (`crowded`: roles; a carrier's address, an integration proxy's, an SDK's
    one fingerprint) it needs company, as any burst does (`weights.MEDIUM`)."""

    def variant(label: str) -> str:
        role = "ip" if label.startswith(VELOCITY_CONNECTION) else "device"
        return "velocity" if role in crowded else "velocity_signups"

    return variant


def suspect_connection(ip: str | None, reference: ReferenceData) -> bool:
    """A connection no household is on, whose users are no crowd of strangers either: a
    datacenter's (a farm on a cloud server) or a listed range. Not an exit many people share by
    design: a VPN's or Tor's (an honest user always on a commercial VPN met the strangers on its
    exit there as a group, and flagged with the VPN counted twice, then across the network), a
    CDN's edge (a shop sending it as every customer's address), a consumer relay's (`cluster_signal`)."""
    if not ip:
        return False
    facts = reference.ip(ip)
    return facts.listed or facts.network_kind in SUSPECT_NETWORKS


def purchases_variant(label: str) -> str:
    """Purchases on one connection at a busy hour are a carrier's address, an office's or a
    campus's (`weights.WEAK`); on one device, someone placing orders (`weights.MEDIUM`)."""
    return "velocity_purchases_connection" if label.startswith(VELOCITY_CONNECTION) else "velocity"


def _counted(count: int) -> str:
    """A velocity count in words: an hour at `SATURATED` is counted no further, so a count that
    reaches it is said as that or more, whatever its three hours add up to (a score function that
    knows an hour is there reads it no more: `velocity.saturated_hours`)."""
    return f"{SATURATED} or more" if count >= SATURATED else str(count)


def _within_reach(near: set[str], spans: frozenset[str], probe: NearProbe) -> set[str]:
    """The members of an `email_near` key whose address is at most SIMILAR_EMAIL_DISTANCE edits
    from the probing one: the key says the two are equal outside one block, their spans what
    stands in it."""
    found = set()
    for entry in spans:
        member, span = span_of(entry)
        if member in near and probe.distance(span) <= SIMILAR_EMAIL_DISTANCE:
            found.add(member)
    return found


# the identifiers whose other partners a partner's profile keeps (`partners_linked`): what one
# person holds, not a connection (a household's or an office's IP, or one a line is given again),
# in the role the partner gave it (an address in its other role is a family's PayPal account as
# often: `a_partners_group`)
KEPT_LINK_ROLES = ("email", "device", "payout")


def partners_met(me: str, links: dict[str, LinkState]) -> frozenset[str]:
    """The other partners an event of a partner shares a device, an e-mail address or a payout
    account with: customers left out (one at the partner's device is a self-referral already), and
    a crowded link, evidence about no one (`links` has it empty)."""
    return frozenset(
        m
        for role in KEPT_LINK_ROLES
        if (state := links.get(role)) is not None and len(state.members) <= weights.MAX_LINK_MEMBERS
        for m in state.members
        if m != me and not m.startswith(CUSTOMER_KEY)
    )


def partners_linked(before: tuple[str, ...], met: frozenset[str], at: datetime) -> tuple[str, ...]:
    """A partner's `Subject.linked` after an event of time `at` that met `met` (`partners_met`):
    `<when> <partner>` of the partners its events met, each at the latest time met, the
    LINKED_KEPT met most recently. A partner logging in from a new device each time, each another
    account's, shares each with one account (weak, SPEC 5.2) and was never a group; with what its
    earlier devices linked it to, it is (SPEC 5.3: its identifiers are all of them)."""
    if not met:
        return before
    when = as_utc(at)
    latest = dict(_met(before))
    for member in met:
        latest[member] = max(latest.get(member, when), when)
    kept = sorted(latest.items(), key=lambda item: (item[1], item[0]))[-weights.LINKED_KEPT :]
    return tuple(f"{time.isoformat()} {member}" for member, time in kept)


def group_met(linked: tuple[str, ...], met: frozenset[str], at: datetime) -> frozenset[str]:
    """The partners met one event at a time who are a group at the time of an event that met
    `met`: those it met and those met in the LINKED_DAYS before it, once they are LINKED_GROUP.
    Empty for an event that meets none of them (a partner's events on its own devices are not the
    group's for good) and for the partners met after its time (an event sent late does not move a
    flag back to before the group was met)."""
    if not met:
        return frozenset()
    until = as_utc(at)
    since = until - timedelta(days=weights.LINKED_DAYS)
    group = met | {member for member, time in _met(linked) if since <= time <= until}
    return group if len(group) >= weights.LINKED_GROUP else frozenset()


def _met(linked: Iterable[str]) -> Iterable[tuple[str, datetime]]:
    """`(partner, when)` of each entry of `Subject.linked` that has both, its time read once (one
    of another shape is skipped: what it says is not known)."""
    for entry in linked:
        text, _, member = entry.partition(" ")
        try:
            time = datetime.fromisoformat(text)
        except ValueError:
            continue
        if member and time.tzinfo is not None:
            yield member, as_utc(time)


def cluster_signal(
    me: str,
    links: dict[str, LinkState],
    already: set[str],
    before: Iterable[str] = (),
    suspect_connection: bool = False,
) -> list[Reason]:
    """Accounts linked to this one through identifiers they share (the exact e-mail address,
    device, IP, payout account; a similar e-mail is not a shared identifier), beyond what other
    reasons named, and the partners its events met one at a time who are a group (`before`:
    `group_met`). A payout account that pays two other accounts is a ring's signature.

    Those on its connection (IP) are of the group once something a person holds links it to
    someone (a ring shares computers and connections), or when the connection is itself suspect
    (`suspect_connection`: a datacenter's or a listed range, where no household lives).
    Otherwise a connection alone is no group: a household, an office, a campus, a carrier's NAT
    share one among people who are none. As a group it made an office's fourth colleague, a
    shop's sixth customer on one carrier address, each a group of three and, counted again as the
    IP's `velocity`, flagged at 80; and one flagged there made every newcomer a group with flagged
    members. Nor is it a weak group: with a weak burst on it and a similar address, a launch's
    customers on one carrier address were flagged, and each made the next `ip_suspicious`. The
    IP's own evidence is `ip_suspicious` (a flagged or removed subject on it) and `velocity`."""
    linked: set[str] = set(before)
    bad: set[str] = set()
    for role, state in links.items():
        near = role in NEAR_DUPLICATE_KEYS or role.startswith(ONE_EDIT_ROLE)
        if near or role == "ip" or len(state.members) > weights.MAX_LINK_MEMBERS:
            continue
        linked |= state.members
        bad |= state.flagged
        bad |= state.removed
    linked.discard(me)  # others only (taken out once, not from each identifier's sets)
    bad.discard(me)
    connection = links.get("ip", NO_LINK)
    if (linked or suspect_connection) and len(connection.members) <= weights.MAX_LINK_MEMBERS:
        linked |= connection.members - {me}
        bad |= (connection.flagged | connection.removed) - {me}
    linked_bad = linked & bad
    payout = links.get("payout")
    payees = _others(payout, me) if payout is not None else set()
    flagged_payees, removed_payees = _bad(payout, me) if payees and payout is not None else (set(), set())
    if len(payees) >= weights.CLUSTER_SIZE or flagged_payees or removed_payees:
        # a ring paid into one account, or an account that paid a flagged or removed subject: the
        # money would go where theirs went (a removed partner re-applying under new details but its
        # own bank account is never paid again, SPEC 3.2)
        detail = f"payout account also used by {_listing(payees, flagged_payees, removed_payees)}"
        if len(linked) > len(payees):
            detail += f"; linked through shared identifiers to {_accounts(len(linked))}"
        variant = "cluster_payout_of_flagged" if flagged_payees or removed_payees else "cluster_shared_payout"
        return [Reason("cluster", detail, variant)]
    if len(linked) >= weights.CLUSTER_SIZE or (linked_bad - already):
        variant = "cluster_with_flagged" if linked_bad else "cluster"
        detail = f"linked through shared identifiers to {_accounts(len(linked))}"
        if linked_bad:
            detail += f", {len(linked_bad)} of them flagged or removed"
        return [Reason("cluster", detail, variant)]
    return []


def _accounts(count: int) -> str:
    return f"{count} account{'s' if count != 1 else ''}"


_NETWORK_IDENTIFIERS = {"email": "e-mail address", "device": "device", "payout": "payout account"}


def network_signal(mine: str, states: dict[str, NetworkState]) -> list[Reason]:
    """`network_flagged` (SPEC 5.3): an identifier of the event flagged or removed in another
    program (`mine`: this program's token), strong. A payout account flagged or removed there only
    on subjects that gave it after another did (`NetworkState.later`, `links.first_givers_marks`,
    read so by the first giver's own events alone) is weak: one of them may have typed it to frame
    its owner."""
    for kind, state in states.items():
        if not state.flagged and not state.removed:
            continue
        if elsewhere := {mark_program(m) for m in state.flagged | state.removed} - {mine}:
            return [_network_reason(kind, len(elsewhere), "", "network_flagged")]
    for kind, state in states.items():
        if elsewhere := {mark_program(m) for m in state.later} - {mine}:
            later = ", on accounts that gave it after someone else did"
            return [_network_reason(kind, len(elsewhere), later, "network_flagged_later_giver")]
    return []


def _network_reason(kind: str, count: int, more: str, variant: str) -> Reason:
    what = _NETWORK_IDENTIFIERS[kind]
    programs = f"{count} other program{'s' if count > 1 else ''}"
    return Reason(
        "network_flagged",
        f"the same {what} is flagged or removed in {programs} of the network{more}",
        variant,
    )


def self_referral(
    customer: Any,
    partner: Subject | None,
    customer_email: str | None,
    by_ip: str | None = None,
    links: dict[str, LinkState] | None = None,
    crowded: Collection[str] = (),
) -> list[Reason]:
    """`by_ip`: the customer's IP as profiles keep it (`Engine.linked_ip`), None when it names no one;
    `links`: the customer's e-mail, device and IP links as read, which name the partner when it used them
    (the partner's profile keeps only `profiles.PROFILE_KEEPS` of each kind); `crowded`: the roles
    of those that are crowds (a carrier's address, an SDK's one fingerprint), evidence about no one
    whichever way they are compared. A name is evidence only when it can tell a person by
    (`identity.names_someone`: not `Lena`)."""
    if partner is None:
        return []
    links = links or {}
    evidence = []
    # the partner's address keyed as today (a profile written before keeps the key of then), with a
    # tag or without at any domain, and the addresses it is paid at (a PayPal account)
    partner_email = email_keys(partner.email).normalized if partner.email else partner.email_normalized
    partner_addresses = {
        untagged(a) for a in (partner_email, partner.payout, *partner.payouts) if a and "@" in a
    }
    if (customer_email and untagged(customer_email) in partner_addresses) or (
        customer_email and partner.key in links.get("email", NO_LINK).members  # an address it used before
    ):
        evidence.append("e-mail address")
    used = partner.key in links.get("device", NO_LINK).members
    if "device" not in crowded and (
        used
        or (customer.device_fingerprint and customer.device_fingerprint.strip().lower() in partner.devices)
    ):
        evidence.append("device")
    if (
        by_ip
        and "ip" not in crowded
        and (by_ip in partner.ips or partner.key in links.get("ip", NO_LINK).members)
    ):
        evidence.append("IP address")
    # the same name, that tells someone (`Lena` names no one); an initial or a title more on one
    # side is another person as often as not (the evaluation's `Andre I. Howard` buying through
    # partner `Andre Howard`): a name alone flags, so it is compared whole
    name = name_key(customer.name) if customer.name and names_someone(customer.name) else ""
    if name and partner.name and name == name_key(partner.name):
        evidence.append("name")
    if not evidence:
        return []
    return [
        Reason(
            "self_referral",
            f"customer {customer.id} shares the {', '.join(evidence)} of partner {partner.id}",
            "self_referral",
        )
    ]


def bought_on_by_own_customers(
    partner_id: str, me: str, links: dict[str, LinkState], crowded: Collection[str]
) -> list[Reason]:
    """`self_referral` the other way round: the partner, at its first event on a device, meets its
    own customers' purchases there (the device link's `via`: each partner purchases there were
    made through, with the first one's time: `links.customers_of`). The partner there first, then
    the customer, flags the customer (`self_referral`); the customer scored first made the
    partner's login on that phone nothing. Whichever is dated first: a login received after the
    purchase but dated before it is the partner there first, whose purchase was judged without it,
    and the event received second carries what both together show. A partner there before (a
    member of the device's link: a shop's own phone its walk-in customer paid on) is that other
    order, and its later logins are not flagged again: an approval holds. `crowded`: the roles that
    are crowds (an SDK's one fingerprint) counted with their customers, evidence about no one."""
    device = links.get("device", NO_LINK)
    if "device" in crowded or me in device.members:
        return []
    if not any(member == me for member, _ in _met(device.via)):
        return []
    return [
        Reason(
            "self_referral",
            f"partner {partner_id} is on the device its own customers bought on",
            "self_referral",
        )
    ]


def account_burst(activity: str, changes: int) -> list[Reason]:
    if changes < weights.ACCOUNT_CHANGES_BURST:
        return []
    return [
        Reason(
            "unusual_activity",
            f"{changes + 1} sensitive account changes (latest: {activity.replace('_', ' ')}) "
            "within three hours",
            "unusual_activity",
        )
    ]


PAYOUT_SOON = timedelta(hours=1)
_PAYOUT_SOON_AFTER_SIGNUP = Reason(
    "unusual_activity",
    "payout details changed within an hour of sign-up",
    "payout_soon_after_signup",  # weak: onboarding asks for them too
)


def payout_before_rewards(changed: bool, subject: Subject | None, at: datetime) -> list[Reason]:
    """Payout details changed (`changed`: `profiles.payout_changed`) within an hour of sign-up: the
    pattern of accounts opened to cash out."""
    if not changed or subject is None or subject.signup_at is None:
        return []
    if timedelta(0) <= at - subject.signup_at <= PAYOUT_SOON:
        return [_PAYOUT_SOON_AFTER_SIGNUP]
    return []


def payout_changed_after_signup(
    subject: Subject | None, signed_up: datetime, payout: str | None = None
) -> list[Reason]:
    """The same pattern seen from a sign-up received after the payout change that followed it
    within the hour (SPEC 4: events arrive out of order; parallel senders reorder two events minutes
    apart): the change, judged with no sign-up on file, could not tell it. A sign-up after another
    one leaves it to the change, which was judged against the first. A sign-up giving the very
    account the changes set (`payout`, in either of its forms: `identity.same_payout_account`), the
    only one the profile saw, was changed by nothing: a settings form resending it, received first,
    looked like first details (`profiles.payout_changed`)."""
    if subject is None or subject.signup_at is not None:
        return []
    if payout is not None and all(same_payout_account(payout, p) for p in (subject.payout, *subject.payouts)):
        return []
    if any(timedelta(0) <= changed - signed_up <= PAYOUT_SOON for changed in payout_change_times(subject)):
        return [_PAYOUT_SOON_AFTER_SIGNUP]
    return []


def payout_from_a_new_session(since: datetime | None, where: str | None, at: datetime) -> list[Reason]:
    """New payout details set in a session where the partner never was, somewhere it never
    connected from (`since`, `where`: when it was first seen there and `elsewhere`'s word for the
    place, `Engine.unfamiliar`; None for a familiar session): the pattern of an account taken over
    to be paid, whose every reward then goes to the new details, however small. Flags alone. A
    partner that moved abroad and bought a computer there looks the same, and is reviewed (its
    rewards held)."""
    if since is None or where is None:
        return []
    if since >= at:
        how = "on a device and a connection the partner had not used before"
    else:
        minutes = (at - since).total_seconds() / 60
        ago = f"{minutes / 60:.0f} hours" if minutes >= 90 else f"{minutes:.0f} minutes"
        how = f"on a device first seen {ago} before, on a connection new to the partner"
    place = (
        f"from {where}, where none of the partner's connections was"
        if where.isupper()
        else "from a listed suspicious range"
        if where == "listed"
        else f"through {NETWORK_WORDS.get(where, f'a {where} network')}"
    )
    return [
        Reason(
            "unusual_activity", f"payout details changed {how}, {place}", "payout_changed_from_new_session"
        )
    ]


def elsewhere(subject: Subject, ip: str, reference: ReferenceData, noted: frozenset[str]) -> str | None:
    """Where a session is, in a word, when it is somewhere the partner never connected from (judged
    by the IPs on its profile, but for those of unfamiliar sessions noted lately (`noted`: a taker's
    first sign-in must not make the next place familiar), and by the country it gave before this
    event, which the event cannot change): a hosting or anonymizing network's kind (`hosting`,
    `vpn`, `tor`, ...; `listed`), for a partner never seen on one (for a partner on its VPN before,
    where an exit is says nothing); or a country none of its connections was in (its code). None
    when it is somewhere the partner has been."""
    facts = reference.ip(ip)
    seen = [reference.ip(key.partition("/")[0]) for key in subject.ips if key not in noted]  # IPv6: /64
    if facts.provider not in CONSUMER_RELAYS and (facts.hosting or facts.anonymizing or facts.listed):
        if any(f.hosting or f.anonymizing or f.listed for f in seen):
            return None  # a partner on its VPN before: where its exit is says nothing of where it is
        return "listed" if facts.listed else facts.network_kind
    countries = {f.country for f in seen if f.country} | ({subject.country} if subject.country else set())
    if facts.country and countries and not any(same_country(facts.country, c) for c in countries):
        return facts.country
    return None


# what the reason's detail calls a network kind (`reference.IpFacts.network_kind`)
NETWORK_WORDS = {
    "hosting": "a hosting network",
    "vpn": "a VPN",
    "tor": "Tor",
    "cdn": "a CDN",
    "bot": "a bot network",
}


def payout_before_large_reward(partner: Subject | None, reward: Any, at: datetime) -> list[Reason]:
    """A large reward within PAYOUT_CHANGE_WINDOW_HOURS of the partner changing its payout details
    (the change before it, `profiles.payout_change_before`): the money is about to go to details
    set moments ago, the pattern of an account taken over or opened to cash out."""
    changed = payout_change_before(partner, at)
    if changed is None:
        return []
    return _payout_then_reward(changed, reward.amount, str(reward.currency), at)


def payout_before_listed_rewards(rewards: Iterable[Reward], at: datetime) -> list[Reason]:
    """The same pattern seen from a payout change at `at`, when the large reward arrived first
    (SPEC 4: events arrive late or out of order): of the partner's holdable rewards, one created
    within the window after the change. Received in time order the reward's own event judged it;
    received the other way round, neither did, and the reward stayed payable."""
    for reward in rewards:
        if reasons := _payout_then_reward(at, reward.amount, reward.currency, reward.created_at):
            return reasons
    return []


def large_reward(amount: Decimal, currency: str) -> bool:
    """A reward large enough to be judged against a payout change just before it
    (`weights.LARGE_REWARD`; a currency not listed is not judged by size)."""
    large = weights.LARGE_REWARD.get(currency.upper())
    return large is not None and amount >= large


def _payout_then_reward(changed: datetime, amount: Decimal, currency: str, at: datetime) -> list[Reason]:
    """Payout details changed at `changed`, then a reward of `amount` at `at`: a reason when the
    reward is large (`weights.LARGE_REWARD`) and came within the window."""
    if not large_reward(amount, currency):
        return []
    since = at - changed
    if not timedelta(0) <= since <= timedelta(hours=weights.PAYOUT_CHANGE_WINDOW_HOURS):
        return []
    hours = since.total_seconds() / 3600
    when = f"{hours:.0f} hours" if hours >= 1.5 else f"{since.total_seconds() / 60:.0f} minutes"
    written = amount_text(to_micros(amount), currency)  # 900.00 USD, however it was sent or kept
    return [
        Reason(
            "unusual_activity",
            f"payout details changed {when} before a reward of {written} {currency}",
            "payout_changed_before_large_reward",
        )
    ]
