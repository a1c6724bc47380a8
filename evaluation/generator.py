"""Labelled synthetic traffic for several partner programs, deterministic by seed.

Ordinary life: partners sign up from home, set payout details, log in (from home, from a phone on
a carrier network, now and then through Apple Private Relay), refer customers who buy once or a
few times; some partners run small businesses with their own domain and a role address
(`info@…`), some join two programs of the network with the same address. Look-alikes of fraud
that are not fraud: households (two people, one computer, one home connection) and travellers
(an IP abroad, far from the address).

Fraud, as the seed describes it and as fraudsters do it, without looking at the weights:
duplicate sign-ups (the same mailbox under a provider's aliases), disposable inboxes (with the
company such sign-ups keep: a datacenter or Tor exit, a claimed country that is not where the
person is, a device reused across throwaway accounts), several accounts on one device,
self-referrals (the partner buying through their own link), rings (accounts sharing devices,
addresses and one payout account), bursts of sign-ups from one IP, people removed in one
program joining another (the network), blocked partners reapplying, look-alike addresses one typo
from a real partner's sent through an anonymizing network, accounts taken over (new payout details,
then large bonuses), and borrowed identities (another partner's name and address, by city only,
claimed from a connection far away, under an address one typo from theirs).

Each step carries its label outside the event body. `Label.counted` is False for what a fraudster
does before there is evidence the SPEC allows to act on (the first account of a person who will
later sign up twice; the first two accounts on a device or of a ring, which look like a household
until a third arrives; the first three sign-ups of a burst): those are reported on their own rows,
and are neither recall misses nor false flags.
"""

from __future__ import annotations

import random
import string
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from evaluation.world import (
    BUSINESS_SUFFIXES,
    BUSINESS_TLDS,
    BUSINESS_WORDS,
    COUNTRIES,
    COUNTRY_WEIGHTS,
    DISPOSABLE,
    NAMES_BEYOND_LATIN,
    PRIVACY_RELAYS,
    ROLE_LOCALS,
    USER_AGENTS,
    City,
    IpPools,
    postal_code,
    weighted,
)

ORDINARY_PATTERNS = (
    "ordinary",
    "household",
    "traveller",
    "beyond_latin",
    "proxied",
    "framed",
    "housemate",
    "moved_abroad",
    "always_on_vpn",
    "guest_checkout",
    "launch_crowd",
    "coworking",
    "iban_framed",
)
# honest look-alikes drawn after everything else (`Generator.traffic`), each `Scale.honest` times a
# program: what a demanding program's own traffic holds that a connection or an order id mislead on
HONEST_LATER = ("guest_checkout", "launch_crowd", "coworking")
FRAUD_PATTERNS = (
    "duplicate_signup",
    "disposable_email",
    "shared_device",
    "self_referral",
    "ring",
    "burst",
    "network_removed",
    "blocked_reapply",
    "similar_email",
    "payout_takeover",
    "borrowed_identity",
    "lookalike_signup",
    "line_burst",
    "framing",
    "removed_returns",
    "quiet_takeover",
    "renamed_returns",
    "device_hub",
    "paid_back_network",
)
# generated after the others, round by round (`Generator.traffic`): what a round adds leaves the
# traffic of the rounds before it as it was
LATER_ROUNDS = (("framing", "removed_returns"), ("quiet_takeover",), ("renamed_returns",), ("device_hub",))
# the forty-seventh session's, drawn after everything else (the honest look-alikes too): a payout
# account's first giver across the network (`links.network_first`), both ways
LAST_FRAUD, LAST_HONEST = ("paid_back_network",), ("iban_framed",)
LATER_PATTERNS = (*(pattern for patterns in LATER_ROUNDS for pattern in patterns), *LAST_FRAUD)
PROGRAM_CURRENCIES = ("USD", "EUR", "GBP", "USD")
# Cyrillic letters that look like Latin ones, and the other domains of one mailbox (`lookalike`)
CYRILLIC_LOOKALIKES = {
    "a": "\u0430",
    "e": "\u0435",
    "o": "\u043e",
    "c": "\u0441",
    "p": "\u0440",
    "x": "\u0445",
}
OTHER_DOMAINS = {"icloud.com": "me.com", "gmail.com": "googlemail.com"}
START = datetime(2026, 9, 1, tzinfo=UTC)
# how names are given: a middle initial (share of people), two surnames (share of people)
MIDDLE_INITIALS = {"US": 0.3, "CA": 0.15, "GB": 0.1, "AU": 0.1}
DOUBLE_SURNAMES = {"ES": 0.9, "BR": 0.6}
DAYS = 40
# mailbox aliases: providers that deliver a.b+tag to ab (dots) or a+tag to a (plus tags)
DOT_BLIND = ("gmail.com", "googlemail.com")
PLUS_TAGS = (
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "icloud.com",
    "yahoo.com",
    "proton.me",
)


@dataclass(frozen=True)
class Label:
    pattern: str
    fraud: bool
    counted: bool = True  # False: a fraudster's step before the SPEC allows acting on it


@dataclass
class EventStep:
    at: datetime
    program: str
    body: dict[str, Any]
    label: Label


@dataclass
class RemoveStep:
    """POST /v1/cases/{case}/remove for the case the flagged event `event_id` opened."""

    at: datetime
    program: str
    event_id: str
    block_reapply: bool
    pattern: str


Step = EventStep | RemoveStep


@dataclass(frozen=True)
class Scale:
    programs: int = 3
    partners: int = 250  # ordinary partners per program
    households: int = 15  # households (pairs of partners) per program, and as many of customers
    travellers: int = 20  # per program: sign-ups abroad, logins abroad, purchases abroad
    fraud: int = 12  # instances of each fraud pattern per program
    patterns: tuple[str, ...] = FRAUD_PATTERNS  # the fraud patterns to generate
    scripts: int = 15  # per program: partners whose names, and their customers', are written beyond Latin
    proxied: int = 2  # per program: sign-up runs whose sessions carry the integration proxy's address
    honest: int = 4  # per program: each of `honest_patterns`
    honest_patterns: tuple[str, ...] = HONEST_LATER
    last_honest: tuple[str, ...] = LAST_HONEST

    @classmethod
    def named(cls, name: str) -> Scale:
        return {
            "full": cls(),
            "medium": cls(
                programs=3, partners=120, households=8, travellers=10, fraud=6, scripts=8, proxied=1, honest=2
            ),
            "small": cls(
                programs=2, partners=30, households=3, travellers=4, fraud=3, scripts=3, proxied=1, honest=1
            ),
        }[name]


@dataclass
class Traffic:
    seed: int
    programs: list[str]
    currencies: dict[str, str]
    steps: list[Step]

    @property
    def events(self) -> list[EventStep]:
        return [s for s in self.steps if isinstance(s, EventStep)]


@dataclass
class Person:
    first: str
    last: str
    country: str
    city: City
    address: dict[str, Any]
    email: str
    device: str
    home_ip: str
    phone: str  # the phone's device fingerprint
    payout: str
    middle: str = ""  # an initial some people give

    @property
    def name(self) -> str:
        return f"{self.first} {self.middle}. {self.last}" if self.middle else f"{self.first} {self.last}"


@dataclass
class Session:
    ip: str
    device: str
    location: tuple[float, float] | None
    user_agent: str

    def body(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "ip": self.ip,
            "device_fingerprint": self.device,
            "user_agent": self.user_agent,
        }
        if self.location:
            found["ip_location"] = {"lat": round(self.location[0], 4), "lon": round(self.location[1], 4)}
        return found


def fold(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in ascii_text if ch.isalnum())


def mailbox(address: str) -> str:
    """Where a message to `address` is delivered: the ground truth of "the same address"."""
    local, _, domain = address.lower().rpartition("@")
    domain = "gmail.com" if domain == "googlemail.com" else domain
    if domain in PLUS_TAGS:
        local = local.split("+", 1)[0]
    if domain in DOT_BLIND:
        local = local.replace(".", "")
    return f"{local}@{domain}"


@dataclass
class Generator:
    seed: int
    scale: Scale
    rng: random.Random = field(init=False)
    ips: IpPools = field(init=False)
    steps: list[Step] = field(default_factory=list)
    mailboxes: set[str] = field(default_factory=set)
    afterwards: list[Callable[[], None]] = field(default_factory=list)  # drawn after the rest
    ids: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        # seeded on purpose: the same seed gives the same traffic (nothing here is a secret)
        self.rng = random.Random(self.seed)  # noqa: S311
        self.ips = IpPools(random.Random(self.seed * 7919 + 1))  # noqa: S311
        self.programs = [f"program-{chr(ord('a') + n)}" for n in range(self.scale.programs)]
        self.currencies = {
            p: PROGRAM_CURRENCIES[n % len(PROGRAM_CURRENCIES)] for n, p in enumerate(self.programs)
        }

    # --- the whole traffic -----------------------------------------------------------------
    def traffic(self) -> Traffic:
        s = self.scale
        for program in self.programs:
            for _ in range(s.partners):
                self.ordinary_partner(program, self.when())
            for _ in range(s.households):
                self.household_partners(program, self.when())
                self.household_customers(program, self.when())
            for _ in range(s.travellers):
                self.traveller(program, self.when())
            for _ in range(s.scripts):
                self.beyond_latin(program, self.when())
            for _ in range(s.proxied):
                self.proxied(program, self.when())
            for _ in range(s.fraud):
                for pattern in s.patterns:
                    if pattern not in LATER_PATTERNS:
                        self.fraud(pattern, program)
        for _ in range(max(1, s.partners // 20)):  # partners of several programs, all ordinary
            self.multi_program_partner(self.when())
        # what was added after the figures were first taken is drawn after the rest, so the rest
        # stays as it was (and its figures comparable)
        for patterns in LATER_ROUNDS:
            for program in self.programs:
                for _ in range(s.fraud):
                    for pattern in patterns:
                        if pattern in s.patterns:
                            getattr(self, pattern)(program, self.when())
        for step in self.afterwards:
            step()
        for pattern in s.honest_patterns:
            for program in self.programs:
                for _ in range(s.honest):
                    getattr(self, pattern)(program, self.when())
        for program in self.programs:
            for pattern in LAST_FRAUD:
                for _ in range(s.fraud if pattern in s.patterns else 0):
                    getattr(self, pattern)(program, self.when(days=DAYS - 30))
            for pattern in LAST_HONEST:
                for _ in range(s.honest if pattern in s.last_honest else 0):
                    getattr(self, pattern)(program, self.when(days=DAYS - 30))
        order = {id(step): n for n, step in enumerate(self.steps)}
        self.steps.sort(key=lambda step: (step.at, order[id(step)]))
        return Traffic(self.seed, self.programs, self.currencies, self.steps)

    def fraud(self, pattern: str, program: str) -> None:
        if pattern == "network_removed":
            self.network_removed(program, self.other_program(program), self.when(days=DAYS - 30))
        elif pattern == "blocked_reapply":
            self.blocked_reapply(program, self.when(days=DAYS - 30))
        else:
            getattr(self, pattern)(program, self.when())

    def when(self, days: int = DAYS - 8) -> datetime:
        day = self.rng.uniform(0, days)
        at = START + timedelta(days=int(day), hours=self.rng.uniform(7, 23))
        return at.replace(microsecond=0)

    def other_program(self, program: str) -> str:
        return self.rng.choice([p for p in self.programs if p != program] or [program])

    def new_id(self, prefix: str) -> str:
        while True:
            identifier = f"{prefix}_{self.rng.getrandbits(48):012x}"
            if identifier not in self.ids:
                self.ids.add(identifier)
                return identifier

    def fingerprint(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    # --- people ----------------------------------------------------------------------------
    def person(self, country: str | None = None, last: str | None = None, email: str | None = None) -> Person:
        country = country or weighted(self.rng, COUNTRY_WEIGHTS)
        land = COUNTRIES[country]
        first = self.rng.choice(land.first_names)
        last = last or self.surname(country)
        city = self.rng.choice(land.cities)
        return Person(
            middle=self.rng.choice(string.ascii_uppercase)
            if self.rng.random() < MIDDLE_INITIALS.get(country, 0)
            else "",
            first=first,
            last=last,
            country=country,
            city=city,
            address=self.address(country, city),
            email=email or self.email(first, last, country),
            device=self.fingerprint(),
            home_ip=self.ips.residential(country),
            phone=self.fingerprint(),
            payout=self.payout(country),
        )

    def surname(self, country: str) -> str:
        """Two surnames where custom gives two (Spain, Brazil), a double-barrelled one now and then."""
        names = COUNTRIES[country].last_names
        first = self.rng.choice(names)
        if self.rng.random() < DOUBLE_SURNAMES.get(country, 0.08):
            second = self.rng.choice([n for n in names if n != first])
            return f"{first} {second}" if country in DOUBLE_SURNAMES else f"{first}-{second}"
        return first

    def address(self, country: str, city: City) -> dict[str, Any]:
        land = COUNTRIES[country]
        line1 = land.street_format.format(n=self.rng.randint(1, 240), street=self.rng.choice(city.streets))
        found: dict[str, Any] = {
            "line1": line1,
            "city": city.name,
            "region": city.region,
            "postal_code": postal_code(self.rng, city.postal),
            "country": country,
        }
        if self.rng.random() < 0.7:  # integrations geocode some addresses, not all
            found["lat"] = round(city.lat + self.rng.uniform(-0.06, 0.06), 4)
            found["lon"] = round(city.lon + self.rng.uniform(-0.06, 0.06), 4)
        return found

    def payout(self, country: str) -> str:
        digits = "".join(self.rng.choice(string.digits) for _ in range(18))
        return f"{country}{self.rng.randint(10, 99)}{digits}"

    def email(self, first: str, last: str, country: str, business: float = 0.09, relay: float = 0.03) -> str:
        roll = self.rng.random()
        if roll < relay:
            domain = self.rng.choice(PRIVACY_RELAYS)
            local = "".join(self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(10))
            return self.unique(local, domain)
        f, last_folded = fold(first), fold(last.split()[0])
        if roll < relay + business:
            domain = self.business_domain(last_folded)
            local = self.rng.choice(
                [f, f"{f}.{last_folded}", self.rng.choice(ROLE_LOCALS), f[0] + last_folded]
            )
            return self.unique(local, domain)
        domain = weighted(self.rng, COUNTRIES[country].providers)
        year = self.rng.randint(1960, 2005)
        local = self.rng.choice(
            [
                f"{f}.{last_folded}",
                f"{f}{last_folded}",
                f"{f[0]}{last_folded}",
                f"{f}_{last_folded}",
                f"{f}.{last_folded}{year % 100:02d}",
                f"{f}{last_folded}{year}",
                f"{last_folded}.{f}",
                f"{f}{self.rng.randint(1, 999)}",
                f"{f[0]}.{last_folded}{self.rng.randint(1, 99)}",
            ]
        )
        if domain in DOT_BLIND and self.rng.random() < 0.15:
            local = local.replace(".", "")  # people type their gmail address either way
        return self.unique(local, domain)

    def business_domain(self, seed_word: str) -> str:
        word = self.rng.choice(BUSINESS_WORDS)
        name = self.rng.choice(
            [
                f"{word}{self.rng.choice(BUSINESS_SUFFIXES)}",
                f"{seed_word}{self.rng.choice(BUSINESS_SUFFIXES)}",
                f"{word}-{seed_word}",
            ]
        )
        return name + weighted(self.rng, BUSINESS_TLDS)

    def unique(self, local: str, domain: str) -> str:
        """An address no one else in the traffic receives mail at (a provider hands each out once)."""
        address = f"{local}@{domain}"
        while mailbox(address) in self.mailboxes:
            address = f"{local}{self.rng.randint(2, 9999)}@{domain}"
        self.mailboxes.add(mailbox(address))
        return address

    # --- sessions ----------------------------------------------------------------------------
    def located(self, place: tuple[float, float] | None, spread: float = 0.25) -> tuple[float, float] | None:
        if place is None or self.rng.random() >= 0.6:  # not every integration sends ip_location
            return None
        return (place[0] + self.rng.uniform(-spread, spread), place[1] + self.rng.uniform(-spread, spread))

    def home(self, person: Person) -> Session:
        return Session(
            person.home_ip, person.device, self.located((person.city.lat, person.city.lon)), self.agent()
        )

    def mobile(self, person: Person) -> Session:
        """The person's phone on a carrier network: an address of its own, or one the carrier
        shares among many subscribers (carrier-grade NAT), or Apple Private Relay (Safari on iOS
        with iCloud+)."""
        roll = self.rng.random()
        ip = self.ips.private_relay(person.country) if roll < 0.15 else None
        if ip is None and roll < 0.5:
            ip = self.ips.carrier_nat(person.country)
        ip = ip or self.ips.residential(person.country)
        return Session(
            ip, person.phone, self.located((person.city.lat, person.city.lon), 0.5), USER_AGENTS[2]
        )

    def abroad(self, person: Person, device: str | None = None) -> Session:
        country = self.rng.choice([c for c in COUNTRY_WEIGHTS if c != person.country])
        city = self.rng.choice(COUNTRIES[country].cities)
        return Session(
            self.ips.residential(country),
            device or person.phone,
            self.located((city.lat, city.lon)),
            self.agent(),
        )

    def hosted(self, device: str, tor: bool = False) -> Session:
        ip = self.ips.take(self.ips.tor if tor else self.ips.hosting)
        return Session(ip, device, None, self.agent())

    def agent(self) -> str:
        return self.rng.choice(USER_AGENTS)

    # --- events ------------------------------------------------------------------------------
    def emit(self, program: str, at: datetime, body: dict[str, Any], label: Label) -> dict[str, Any]:
        body = {"id": self.new_id("evt"), "occurred_at": at.isoformat().replace("+00:00", "Z"), **body}
        self.steps.append(EventStep(at, program, body, label))
        return body

    def signup(
        self,
        program: str,
        at: datetime,
        person: Person,
        session: Session,
        label: Label,
        *,
        partner_id: str | None = None,
        email: str | None = None,
        name: str | None = None,
        country: str | None = None,
        payout: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        partner_id = partner_id or self.new_id("ptn")
        country = country or person.country
        address = (
            dict(person.address)
            if country == person.country
            else self.address(country, self.rng.choice(COUNTRIES[country].cities))
        )
        partner: dict[str, Any] = {
            "id": partner_id,
            "name": name or person.name,
            "email": email or person.email,
            "country": country,
            "address": address,
        }
        if self.rng.random() < 0.5:
            partner["group"] = self.rng.choice(["Affiliates", "Creators", "Resellers", "Agencies"])
        if payout:
            partner["payout_account"] = payout
        body = self.emit(
            program, at, {"type": "partnership.created", "partner": partner, "session": session.body()}, label
        )
        return partner_id, body

    def account(
        self,
        program: str,
        at: datetime,
        partner_id: str,
        activity: str,
        session: Session,
        label: Label,
        **changes: Any,
    ) -> dict[str, Any]:
        body = {
            "type": "account.updated",
            "partner": {"id": partner_id, **changes},
            "session": session.body(),
            "activity": activity,
        }
        return self.emit(program, at, body, label)

    def purchase(
        self,
        program: str,
        at: datetime,
        partner_id: str,
        customer_id: str,
        customer: Person,
        session: Session,
        label: Label,
        *,
        email: str | None = None,
        name: str | None = None,
    ) -> dict[str, Any]:
        currency = self.currencies[program]
        amount = Decimal(self.rng.choice([19, 29, 49, 79, 99, 149, 249, 499])) - Decimal("0.01")
        commission = (amount * Decimal(self.rng.choice([10, 15, 20, 30])) / 100).quantize(Decimal("0.01"))
        body: dict[str, Any] = {
            "type": "transaction.created",
            "transaction": {"id": self.new_id("txn"), "amount": str(amount), "currency": currency},
            "partner_id": partner_id,
            "customer": {
                "id": customer_id,
                "email": email or customer.email,
                "country": customer.country,
                "ip": session.ip,
                "device_fingerprint": session.device,
            },
        }
        if self.rng.random() < 0.85:
            body["customer"]["name"] = name or customer.name
        if self.rng.random() < 0.9:
            body["reward"] = {"id": self.new_id("rwd"), "amount": str(commission), "currency": currency}
        return self.emit(program, at, body, label)

    def api_reward(self, program: str, at: datetime, partner_id: str, label: Label) -> dict[str, Any]:
        reward = {
            "id": self.new_id("rwd"),
            "partner_id": partner_id,
            "transaction_id": self.new_id("bonus"),
            # now and then a large bonus (a campaign's top partner): large rewards alone are not fraud
            "amount": str(self.rng.choice([5, 10, 25, 50] if self.rng.random() >= 0.1 else [250, 500]))
            + ".00",
            "currency": self.currencies[program],
        }
        return self.emit(program, at, {"type": "reward.created", "reward": reward}, label)

    # --- ordinary life -----------------------------------------------------------------------
    def ordinary_partner(
        self,
        program: str,
        at: datetime,
        person: Person | None = None,
        label: Label | None = None,
        first_session: Session | None = None,
    ) -> tuple[str, Person]:
        person = person or self.person()
        label = label or Label("ordinary", False)
        partner_id, _ = self.signup(program, at, person, first_session or self.home(person), label)
        self.partner_life(program, at, partner_id, person, Label("ordinary", False))
        return partner_id, person

    def partner_life(self, program: str, at: datetime, partner_id: str, person: Person, label: Label) -> None:
        rng = self.rng
        if rng.random() < 0.55:  # payout details: often during onboarding, else days later
            later = (
                timedelta(minutes=rng.uniform(5, 55))
                if rng.random() < 0.4
                else timedelta(days=rng.uniform(1, 9))
            )
            session = self.home(person) if rng.random() < 0.8 else self.mobile(person)
            self.account(
                program, at + later, partner_id, "payout_update", session, label, payout_account=person.payout
            )
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            session = self.home(person) if rng.random() < 0.7 else self.mobile(person)
            activity = rng.choice(["login", "login", "login", "logout", "profile_update", "password_change"])
            self.account(
                program, at + timedelta(days=rng.uniform(0.2, 12)), partner_id, activity, session, label
            )
        for _ in range(rng.choice([0, 0, 1, 1, 2, 2, 3, 4, 6])):
            self.ordinary_customer(
                program, at + timedelta(days=rng.uniform(0.5, 14)), partner_id, person.country
            )
        if rng.random() < 0.2:
            self.api_reward(program, at + timedelta(days=rng.uniform(1, 14)), partner_id, label)

    def ordinary_customer(
        self, program: str, at: datetime, partner_id: str, partner_country: str, label: Label | None = None
    ) -> tuple[str, Person]:
        label = label or Label("ordinary", False)
        country = partner_country if self.rng.random() < 0.6 else None
        customer = self.person(country)
        customer_id = self.new_id("cus")
        for n in range(1 if self.rng.random() < 0.8 else self.rng.randint(2, 3)):
            session = self.home(customer) if self.rng.random() < 0.85 else self.mobile(customer)
            self.purchase(
                program,
                at + timedelta(days=n * self.rng.uniform(3, 20)),
                partner_id,
                customer_id,
                customer,
                session,
                label,
            )
        return customer_id, customer

    def household_partners(self, program: str, at: datetime) -> None:
        """Two people, one computer, one home connection, both partners."""
        label = Label("household", False)
        first = self.person()
        second = self.person(first.country, last=first.last if self.rng.random() < 0.7 else None)
        second.city, second.address, second.home_ip, second.device = (
            first.city,
            first.address,
            first.home_ip,
            first.device,
        )
        if self.rng.random() < 0.5:
            second.payout = first.payout  # a joint account
        self.ordinary_partner(program, at, first, label)
        later = at + timedelta(days=self.rng.uniform(0.01, 20))
        self.ordinary_partner(program, later, second, label)

    def household_customers(self, program: str, at: datetime) -> None:
        """Two people of one home buy through partners of the program, from the same computer."""
        label = Label("household", False)
        partner_id, partner = self.ordinary_partner(program, at)
        first = self.person(partner.country if self.rng.random() < 0.5 else None)
        second = self.person(first.country, last=first.last)
        second.home_ip, second.device = first.home_ip, first.device
        for n, customer in enumerate((first, second)):
            when = at + timedelta(days=1 + n * self.rng.uniform(0.1, 10))
            self.purchase(program, when, partner_id, self.new_id("cus"), customer, self.home(customer), label)

    def guest_checkout(self, program: str, at: datetime) -> None:
        """A shopper buying through one partner two to four times over weeks, each order under a
        customer id of its own (a shop's guest checkout gives a new one to every order): one person
        at one address, on its own computer or phone."""
        label = Label("guest_checkout", False)
        partner_id, partner = self.ordinary_partner(program, at)
        customer = self.person(partner.country if self.rng.random() < 0.6 else None)
        when = at + timedelta(days=self.rng.uniform(0.5, 3))
        for _ in range(self.rng.randint(2, 4)):
            session = self.home(customer) if self.rng.random() < 0.8 else self.mobile(customer)
            self.purchase(program, when, partner_id, self.new_id("cus"), customer, session, label)
            when += timedelta(days=self.rng.uniform(2, 15))

    def launch_crowd(self, program: str, at: datetime) -> None:
        """A partner's launch: 25 to 40 customers buy through its link within the hour, half of
        them on phones behind two of their carrier's shared addresses (carrier-grade NAT: six to ten
        strangers on one address), each with its own phone and e-mail address."""
        label = Label("launch_crowd", False)
        partner_id, partner = self.ordinary_partner(program, at)
        shared = [self.ips.carrier_nat(partner.country) for _ in range(2)]
        when = at + timedelta(days=self.rng.uniform(1, 5))
        for _ in range(self.rng.randint(25, 40)):
            customer = self.person(partner.country)
            session = self.home(customer)
            if self.rng.random() < 0.5:
                where = self.located((customer.city.lat, customer.city.lon), 0.5)
                session = Session(self.rng.choice(shared), customer.phone, where, USER_AGENTS[2])
            self.purchase(program, when, partner_id, self.new_id("cus"), customer, session, label)
            when += timedelta(minutes=self.rng.uniform(0.5, 2.5))

    def coworking(self, program: str, at: datetime) -> None:
        """A coworking space's connection: partners sign up from it over weeks, each on its own
        computer. One of them is a fraudster, flagged for a second account under its mailbox
        written otherwise (its steps: fraud, not counted); those who sign up there after it are
        newcomers to a place, not to a group."""
        label = Label("coworking", False)
        country = weighted(self.rng, COUNTRY_WEIGHTS)
        space = self.ips.residential(country)
        people = [self.person(country) for _ in range(self.rng.randint(4, 6))]
        fraudster = self.rng.randint(1, 2)
        when = at
        for n, person in enumerate(people):
            where = self.located((person.city.lat, person.city.lon))
            session = Session(space, person.device, where, self.agent())
            if n == fraudster:
                setup = Label("coworking", True, counted=False)
                self.signup(program, when, person, session, setup)
                later = when + timedelta(days=self.rng.uniform(1, 4))
                self.signup(program, later, person, session, setup, email=self.alias(person.email))
            else:
                self.signup(program, when, person, session, label)
            when += timedelta(days=self.rng.uniform(2, 9))

    def traveller(self, program: str, at: datetime) -> None:
        """Away from home: signing up, logging in or buying on a foreign connection."""
        label = Label("traveller", False)
        person = self.person()
        kind = self.rng.choice(["signup", "login", "purchase"])
        if kind == "signup":
            self.ordinary_partner(program, at, person, label, self.abroad(person, person.device))
        elif kind == "login":
            partner_id, _ = self.ordinary_partner(program, at, person)
            for n in range(self.rng.randint(1, 3)):
                when = at + timedelta(days=5 + n * self.rng.uniform(0.5, 2))
                self.account(program, when, partner_id, "login", self.abroad(person), label)
        else:
            partner_id, partner = self.ordinary_partner(program, at)
            customer = self.person()
            self.purchase(
                program,
                at + timedelta(days=2),
                partner_id,
                self.new_id("cus"),
                customer,
                self.abroad(customer),
                label,
            )

    def name_beyond_latin(self) -> str:
        script = self.rng.choice(sorted(NAMES_BEYOND_LATIN))
        given, family = NAMES_BEYOND_LATIN[script]
        first, last = self.rng.choice(given), self.rng.choice(family)
        return f"{last}{first}" if script == "chinese" else f"{first} {last}"

    def beyond_latin(self, program: str, at: datetime) -> None:
        """A partner whose name is written beyond Latin script, and customers of theirs whose names
        are too: other people, not the partner buying through its own link."""
        label = Label("beyond_latin", False)
        person = self.person()
        name = self.name_beyond_latin()
        partner_id, _ = self.signup(program, at, person, self.home(person), label, name=name)
        for n in range(self.rng.randint(2, 4)):
            customer = self.person(person.country if self.rng.random() < 0.6 else None)
            customer_name = self.name_beyond_latin()
            if customer_name == name:
                continue  # the same name is the self-referral sign by design
            when = at + timedelta(days=1 + n * self.rng.uniform(0.5, 5))
            session = self.home(customer)
            self.purchase(
                program, when, partner_id, self.new_id("cus"), customer, session, label, name=customer_name
            )

    def proxied(self, program: str, at: datetime) -> None:
        """Ordinary partners signing up within the hour through an integration behind a proxy that
        sends the proxy's own private address as each session's IP."""
        label = Label("proxied", False)
        proxy = f"10.{self.rng.randint(0, 255)}.{self.rng.randint(0, 255)}.{self.rng.randint(1, 254)}"
        when = at
        for _ in range(self.rng.randint(5, 8)):
            person = self.person()
            self.signup(program, when, person, Session(proxy, person.device, None, self.agent()), label)
            when += timedelta(minutes=self.rng.uniform(2, 12))

    def multi_program_partner(self, at: datetime) -> None:
        """A legitimate partner promoting several programs: same address and device in each."""
        person = self.person()
        for n, program in enumerate(self.rng.sample(self.programs, min(2, len(self.programs)))):
            self.ordinary_partner(program, at + timedelta(days=n * self.rng.uniform(1, 10)), person)

    # --- fraud -------------------------------------------------------------------------------
    def alias(self, address: str) -> str:
        """Another spelling of the same mailbox: what duplicate sign-ups use."""
        local, _, domain = address.rpartition("@")
        options = [local.upper() + "@" + domain.upper(), local.capitalize() + "@" + domain]
        if domain in PLUS_TAGS:
            options += [f"{local}+{self.rng.choice(['partners', 'promo', '2', 'aff', 'work'])}@{domain}"] * 2
        if domain in DOT_BLIND:
            bare = local.replace(".", "")
            cut = self.rng.randint(1, max(1, len(bare) - 1))
            options += [f"{bare[:cut]}.{bare[cut:]}@{domain}", f"{'.'.join(bare)}@{domain}"]
            options += [f"{local}@googlemail.com"] if domain == "gmail.com" else [f"{local}@gmail.com"]
        for _ in range(20):
            choice = self.rng.choice(options)
            if choice != address:
                return choice
        return address.upper()

    def fraud_person(self, country: str | None = None, provider_email: bool = True) -> Person:
        person = self.person(country)
        if provider_email:
            domain = self.rng.choice(
                ["gmail.com"] * 5 + ["outlook.com", "hotmail.com", "yahoo.com", "icloud.com"]
            )
            f, last = fold(person.first), fold(person.last)
            person.email = self.unique(
                self.rng.choice([f"{f}.{last}", f"{f}{last}{self.rng.randint(1, 99)}"]), domain
            )
        return person

    def duplicate_signup(
        self, program: str, at: datetime, pattern: str = "duplicate_signup"
    ) -> dict[str, Any]:
        """A partner signs up again under another spelling of the same mailbox (`lookalike_signup`:
        the same address written in look-alike characters). Returns the act."""
        spelling = self.lookalike if pattern == "lookalike_signup" else self.alias
        person = self.fraud_person()
        self.signup(program, at, person, self.home(person), Label(pattern, True, counted=False))
        later = at + timedelta(days=self.rng.uniform(0.05, 20))
        device = person.device if self.rng.random() < 0.5 else self.fingerprint()
        roll = self.rng.random()
        if roll < 0.4:
            session = Session(
                person.home_ip, device, self.located((person.city.lat, person.city.lon)), self.agent()
            )
        elif roll < 0.7:
            session = Session(self.ips.residential(person.country), device, None, self.agent())
        else:
            session = self.hosted(device, tor=roll > 0.9)
        name = person.name if self.rng.random() < 0.6 else f"{person.first[0]}. {person.last}"
        _, act = self.signup(
            program,
            later,
            person,
            session,
            Label(pattern, True),
            email=spelling(person.email),
            name=name,
        )
        return act

    def lookalike_signup(self, program: str, at: datetime) -> None:
        self.duplicate_signup(program, at, "lookalike_signup")

    def lookalike(self, address: str) -> str:
        """The same mailbox written to look the same and read differently: a Cyrillic letter for a
        Latin one, fullwidth letters, an invisible character, the provider's other domain, or the
        domain fully qualified (a trailing dot)."""
        local, _, domain = address.rpartition("@")
        cut = self.rng.randint(1, max(1, len(local) - 1))
        options = [
            "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in local) + "@" + domain,
            f"{local[:cut]}\u200b{local[cut:]}@{domain}",
            f"{local}@{domain}.",
        ]
        swappable = [i for i, ch in enumerate(local) if ch in CYRILLIC_LOOKALIKES]
        if swappable:
            i = self.rng.choice(swappable)
            options.append(f"{local[:i]}{CYRILLIC_LOOKALIKES[local[i]]}{local[i + 1 :]}@{domain}")
        if domain in OTHER_DOMAINS:
            options.append(f"{local}@{OTHER_DOMAINS[domain]}")
        return self.rng.choice(options)

    def disposable_email(self, program: str, at: datetime) -> None:
        label = Label("disposable_email", True)
        if self.rng.random() < 0.3:  # fake customers with throwaway inboxes, bought through one partner
            partner_id, partner = self.ordinary_partner(program, at)
            device = self.fingerprint()
            for n in range(self.rng.randint(2, 5)):
                customer = self.person(partner.country)
                customer.email = self.throwaway(customer)
                session = self.throwaway_session(customer, device)
                when = at + timedelta(days=1, minutes=n * self.rng.uniform(5, 300))
                self.purchase(program, when, partner_id, self.new_id("cus"), customer, session, label)
            return
        device = self.fingerprint()  # a fraudster opening one to three throwaway accounts
        claimed = self.rng.choice(["US", "GB", "CA", "AU", "DE"])
        for n in range(self.rng.choice([1, 1, 2, 3])):
            person = self.person(claimed)
            person.email = self.throwaway(person)
            session = self.throwaway_session(
                person, device if self.rng.random() < 0.3 else self.fingerprint()
            )
            when = at + timedelta(hours=n * self.rng.uniform(0.5, 30))
            self.signup(program, when, person, session, label)

    def throwaway(self, person: Person) -> str:
        domain = self.rng.choice(DISPOSABLE)
        if self.rng.random() < 0.5:
            local = fold(person.first) + str(self.rng.randint(10, 9999))
        else:
            local = "".join(
                self.rng.choice(string.ascii_lowercase + string.digits)
                for _ in range(self.rng.randint(6, 12))
            )
        return self.unique(local, domain)

    def throwaway_session(self, person: Person, device: str) -> Session:
        """Where throwaway sign-ups come from: a datacenter or Tor exit, or a home connection in
        another country than the one claimed."""
        roll = self.rng.random()
        if roll < 0.5:
            return self.hosted(device)
        if roll < 0.6:
            return self.hosted(device, tor=True)
        return self.abroad(person, device)

    def shared_device(self, program: str, at: datetime) -> None:
        """One person, one computer, three to six partner accounts under invented identities."""
        device = self.fingerprint()
        country = weighted(self.rng, COUNTRY_WEIGHTS)
        home = self.ips.residential(country)
        when = at
        for n in range(self.rng.randint(3, 6)):
            person = self.person(country)
            roll = self.rng.random()
            ip = (
                home
                if roll < 0.4
                else self.ips.residential(country)
                if roll < 0.8
                else self.ips.take(self.ips.hosting)
            )
            session = Session(ip, device, self.located((person.city.lat, person.city.lon)), self.agent())
            self.signup(program, when, person, session, Label("shared_device", True, counted=n >= 2))
            when += timedelta(hours=self.rng.uniform(0.2, 72))

    def self_referral(self, program: str, at: datetime) -> None:
        """A partner buys through their own link, from home or their phone, sometimes under
        another address or name."""
        person = self.fraud_person(provider_email=False)
        partner_id, _ = self.signup(
            program, at, person, self.home(person), Label("self_referral", True, counted=False)
        )
        for n in range(self.rng.randint(1, 3)):
            shared = set()
            while not shared:
                shared = {
                    k
                    for k, p in (("email", 0.3), ("device", 0.6), ("ip", 0.7), ("name", 0.5))
                    if self.rng.random() < p
                }
            email = (
                person.email if "email" in shared else self.email(person.first, person.last, person.country)
            )
            device = person.device if "device" in shared else person.phone
            ip = person.home_ip if "ip" in shared else self.ips.residential(person.country)
            name = person.name if "name" in shared else self.person(person.country).name
            session = Session(ip, device, None, self.agent())
            when = at + timedelta(days=self.rng.uniform(0.1, 10) + n)
            self.purchase(
                program,
                when,
                partner_id,
                self.new_id("cus"),
                person,
                session,
                Label("self_referral", True),
                email=email,
                name=name,
            )
        self.afterwards.append(lambda: self.self_referrer_later(program, at, partner_id, person))

    def self_referrer_later(self, program: str, at: datetime, partner_id: str, person: Person) -> None:
        """Then the partner signs in from home, its integration sending the whole partner each time:
        shown apart (not counted), since SPEC 5.1 judges the purchase, not what follows."""
        for n in range(self.rng.randint(1, 2)):
            self.account(
                program,
                at + timedelta(days=12, hours=n * self.rng.randint(24, 120)),
                partner_id,
                "login",
                self.home(person),
                Label("self_referrer_later", True, counted=False),
                email=person.email,
                name=person.name,
            )

    def framing(self, program: str, at: datetime) -> None:
        """Someone frames an honest partner: buys through the partner's link, or another partner's,
        typing the partner's e-mail address at checkout from their own computer; now and then in
        another program, before the partner joins it. The purchases are fraud (a self-referral;
        another account's address). The partner is not: its later sign-ins (its integration sends
        the whole partner each time; from home, its phone, or abroad) and its sign-up to the other
        program are ordinary traffic (`framed`), and must pass."""
        victim = self.person()
        label = Label("framed", False)
        partner_id, _ = self.signup(program, at, victim, self.home(victim), label)
        elsewhere = self.other_program(program)
        first = elsewhere if elsewhere != program and self.rng.random() < 0.3 else program
        other_id, _ = self.ordinary_partner(first, at - timedelta(days=self.rng.randint(1, 5)))
        fraudster = self.person()
        when = at + timedelta(hours=self.rng.randint(12, 72))
        for n in range(self.rng.randint(1, 2)):
            via = partner_id if first == program and n == 0 and self.rng.random() < 0.6 else other_id
            self.purchase(
                first,
                when + timedelta(hours=n * self.rng.randint(1, 30)),
                via,
                self.new_id("cus"),
                fraudster,
                self.home(fraudster),
                Label("framing", True, counted=first == program),  # elsewhere: no one's address yet
                email=victim.email,
            )
        later = when + timedelta(days=3)
        for n in range(self.rng.randint(1, 3)):
            roll = self.rng.random()
            session = (
                self.home(victim)
                if roll < 0.6
                else self.mobile(victim)
                if roll < 0.85
                else self.abroad(victim)
            )
            self.account(
                program,
                later + timedelta(hours=n * self.rng.randint(12, 96)),
                partner_id,
                self.rng.choice(["login", "login", "profile_update"]),
                session,
                label,
                email=victim.email,
                name=victim.name,
                country=victim.country,
            )
        if elsewhere != program:
            self.signup(
                elsewhere, later + timedelta(days=self.rng.randint(1, 6)), victim, self.home(victim), label
            )

    def removed_returns(self, program: str, at: datetime) -> None:
        """A partner signs up from home with a throwaway inbox, claiming another country: flagged,
        then removed (blocked or not). It comes back from home under its own name, with a real
        address and a new computer: only its connection and its name are the same."""
        self._removed_then_back(program, at, "removed_returns", None)

    def renamed_returns(self, program: str, at: datetime) -> None:
        """`removed_returns`, but the name given back is written with a middle initial or a title
        added, or one dropped: the same person, as forms and integrations write names."""
        self._removed_then_back(program, at, "renamed_returns", self._written_two_ways)

    def device_hub(self, program: str, at: datetime) -> None:
        """A partner who logs in on a phone of a farm each time, every phone also running one other
        account of the farm: each device is shared with one account (a household's weight), the
        partner is linked to them all (SPEC 5.3). The farm's own sign-ups, one a phone, are set up;
        the hub's logins count from its third phone, when the accounts it met are a group."""
        person = self.fraud_person()
        hub, _ = self.signup(program, at, person, self.home(person), Label("device_hub", True, counted=False))
        when = at + timedelta(hours=self.rng.uniform(1, 24))
        for n in range(self.rng.randint(4, 6)):
            phone = self.fingerprint()
            mule = self.fraud_person(person.country)
            session = Session(self.ips.residential(person.country), phone, None, self.agent())
            self.signup(program, when, mule, session, Label("device_hub", True, counted=False))
            when += timedelta(hours=self.rng.uniform(1, 30))
            logged = Session(person.home_ip, phone, None, self.agent())
            self.account(program, when, hub, "login", logged, Label("device_hub", True, counted=n >= 2))
            when += timedelta(hours=self.rng.uniform(1, 30))

    def _written_two_ways(self, person: Person) -> tuple[str, str]:
        """A person's name as given first and as given back: one of them with a middle initial or a
        title."""
        initial = f"{self.rng.choice(string.ascii_uppercase)}."
        plain, marked = (
            f"{person.first} {person.last}",
            self.rng.choice([f"{person.first} {initial} {person.last}", f"Dr {person.first} {person.last}"]),
        )
        return (plain, marked) if self.rng.random() < 0.5 else (marked, plain)

    def _removed_then_back(
        self, program: str, at: datetime, pattern: str, names: Callable[[Person], tuple[str, str]] | None
    ) -> None:
        person = self.fraud_person()
        claimed = self.rng.choice([c for c in ("US", "GB", "CA", "AU", "DE") if c != person.country])
        first, then = names(person) if names else (None, None)
        setup = Label(pattern, True, counted=False)
        _, act = self.signup(
            program,
            at,
            person,
            self.home(person),
            setup,
            email=self.throwaway(person),
            country=claimed,
            name=first,
        )
        removed_at = at + timedelta(days=self.rng.randint(1, 4))
        self.steps.append(RemoveStep(removed_at, program, act["id"], self.rng.random() < 0.5, pattern))
        if names is None and self.rng.random() < 0.5:  # someone else of the home joins on its own computer
            mate = self.person(person.country, last=person.last)
            mate.home_ip, mate.city, mate.address = person.home_ip, person.city, person.address
            joins = removed_at + timedelta(hours=self.rng.randint(1, 20))
            self.signup(program, joins, mate, self.home(mate), Label("housemate", False))
        back = Session(person.home_ip, self.fingerprint(), None, self.agent())
        self.signup(
            program,
            removed_at + timedelta(days=self.rng.randint(1, 6)),
            person,
            back,
            Label(pattern, True),
            email=self.email(person.first, person.last, person.country),
            name=then,
        )

    def ring(self, program: str, at: datetime) -> None:
        """Three to six accounts run together: they share one or two computers, one or two
        connections, and mostly one payout account."""
        country = weighted(self.rng, COUNTRY_WEIGHTS)
        devices = [self.fingerprint() for _ in range(self.rng.randint(1, 2))]
        ips = [
            self.ips.residential(country) if self.rng.random() < 0.7 else self.ips.take(self.ips.hosting)
            for _ in range(self.rng.randint(1, 2))
        ]
        payout = self.payout(country)
        plan: list[tuple[datetime, str, str, Person, Session, bool]] = []  # what the ring does, when
        when = at
        for _ in range(self.rng.randint(3, 6)):
            person, partner_id = self.person(country), self.new_id("ptn")
            device, ip = self.rng.choice(devices), self.rng.choice(ips)
            at_signup = self.rng.random() < 0.4
            plan.append(
                (when, "signup", partner_id, person, Session(ip, device, None, self.agent()), at_signup)
            )
            if not at_signup and self.rng.random() < 0.8:
                later = when + timedelta(hours=self.rng.uniform(0.5, 48))
                plan.append(
                    (later, "payout", partner_id, person, Session(ip, device, None, self.agent()), True)
                )
            when += timedelta(hours=self.rng.uniform(1, 60))
        holders: dict[str, set[str]] = {}  # identifier -> ring accounts that used it so far
        for when, kind, partner_id, person, session, pays in sorted(plan, key=lambda entry: entry[0]):
            held = {f"d:{session.device}"} | ({f"p:{payout}"} if pays else set())
            used = held | {f"i:{session.ip}"}
            # counted once linked to two of the ring, one of them by something a person holds (a
            # computer, a payout account) unless the connection is a datacenter's: a home connection
            # alone is an office's or a campus's too, and makes no group (`signals.cluster_signal`)
            held_or_hosted = _seen_by(holders, held, partner_id) >= 1 or session.ip in self.ips.hosting
            counted = held_or_hosted and _seen_by(holders, used, partner_id) >= 2
            label = Label("ring", True, counted=counted)
            if kind == "signup":
                self.signup(
                    program,
                    when,
                    person,
                    session,
                    label,
                    partner_id=partner_id,
                    payout=payout if pays else None,
                )
            else:
                self.account(
                    program, when, partner_id, "payout_update", session, label, payout_account=payout
                )
            _hold(holders, used, partner_id)

    def burst(self, program: str, at: datetime) -> None:
        """A script signs up five to twelve accounts from one address within the hour or so."""
        country = weighted(self.rng, COUNTRY_WEIGHTS)
        ip = self.ips.take(self.ips.hosting) if self.rng.random() < 0.4 else self.ips.residential(country)
        self.signup_run(program, at, country, "burst", lambda: ip)

    def line_burst(self, program: str, at: datetime) -> None:
        """The same from one IPv6 line, each sign-up from a new address of its /64 (what privacy
        extensions give a device, or a script at will)."""
        line = self.ips.line()
        self.signup_run(
            program, at, weighted(self.rng, COUNTRY_WEIGHTS), "line_burst", lambda: self.ips.on_line(line)
        )

    def signup_run(
        self, program: str, at: datetime, country: str, pattern: str, address: Callable[[], str]
    ) -> None:
        one_device = self.fingerprint() if self.rng.random() < 0.3 else None
        when = at
        for n in range(self.rng.randint(5, 12)):
            person = self.person(country)
            f, last = fold(person.first), fold(person.last)
            local = self.rng.choice(
                [
                    f"{f}{last}{self.rng.randint(100, 9999)}",
                    f"{f}.{last}.{self.rng.randint(1, 99)}",
                    f"{f[0]}{last}{self.rng.randint(10, 999)}",
                ]
            )
            email = self.unique(
                local, self.rng.choice(["gmail.com", "outlook.com", "yahoo.com", "hotmail.com"])
            )
            session = Session(address(), one_device or self.fingerprint(), None, self.agent())
            self.signup(program, when, person, session, Label(pattern, True, counted=n >= 3), email=email)
            when += timedelta(minutes=self.rng.uniform(1, 12))

    def flagged_elsewhere(self, program: str, at: datetime) -> tuple[dict[str, Any], Person, datetime]:
        """Gets a person flagged in `program`: a duplicate sign-up or a throwaway account from a
        datacenter. Returns the flagging sign-up, the person as that account knew them, and when."""
        if self.rng.random() < 0.7:
            act = self.duplicate_signup(program, at)
            person = self.fraud_person()
            person.email = act["partner"]["email"]
            person.device = act["session"]["device_fingerprint"]
        else:
            person = self.person(self.rng.choice(["US", "GB", "CA"]))
            person.email = self.throwaway(person)
            _, act = self.signup(
                program, at, person, self.hosted(person.device), Label("disposable_email", True)
            )
        return act, person, self.steps[-1].at

    def network_removed(self, program: str, other: str, at: datetime) -> None:
        """Removed in one program, the person joins another with the same address or computer."""
        act, person, flagged_at = self.flagged_elsewhere(program, at)
        removed_at = flagged_at + timedelta(days=self.rng.uniform(1, 4))
        self.steps.append(
            RemoveStep(removed_at, program, act["id"], self.rng.random() < 0.5, "network_removed")
        )
        self.rejoin(other, removed_at + timedelta(days=self.rng.uniform(0.5, 6)), person, "network_removed")

    def paid_back_network(self, program: str, at: datetime) -> None:
        """A throwaway of one program, paid into its own account (the first to give it anywhere),
        flagged and removed; the person joins another program under a new name, address, device and
        connection, paid into that account: the account names it (`network_flagged`)."""
        person = self.person(self.rng.choice(["US", "GB", "CA"]))
        person.email = self.throwaway(person)
        setup = Label("paid_back_network", True, counted=False)
        _, act = self.signup(program, at, person, self.hosted(person.device), setup, payout=person.payout)
        removed_at = self.steps[-1].at + timedelta(days=self.rng.uniform(1, 4))
        self.steps.append(
            RemoveStep(removed_at, program, act["id"], self.rng.random() < 0.5, "paid_back_network")
        )
        back = self.person(person.country)
        at_home = removed_at + timedelta(days=self.rng.uniform(0.5, 6))
        label = Label("paid_back_network", True)
        self.signup(self.other_program(program), at_home, back, self.home(back), label, payout=person.payout)

    def iban_framed(self, program: str, at: datetime) -> None:
        """An honest partner paid into its own account; a throwaway of another program, flagged,
        types that account as its own; the partner then joins a third program with its address,
        device and account. The partner's events are ordinary (`iban_framed`) and must pass: the
        throwaway gave the account after it (`links.first_givers_marks`). Two programs: no third."""
        label = Label("iban_framed", False)
        victim = self.person()
        partner_id, _ = self.signup(program, at, victim, self.home(victim), label, payout=victim.payout)
        self.partner_life(program, at, partner_id, victim, label)
        thirds = [p for p in self.programs if p != program]
        if len(thirds) < 2:
            return
        where, joins = self.rng.sample(thirds, 2)
        framer = self.person(self.rng.choice(["US", "GB", "CA"]))
        framer.email = self.throwaway(framer)
        setup = Label("iban_framing", True, counted=False)
        when = at + timedelta(days=self.rng.uniform(1, 5))
        framer_id, _ = self.signup(where, when, framer, self.hosted(framer.device), setup)
        typed = when + timedelta(hours=1)
        self.account(
            where,
            typed,
            framer_id,
            "payout_update",
            self.hosted(framer.device),
            setup,
            payout_account=victim.payout,
        )
        later = typed + timedelta(days=self.rng.uniform(1, 8))
        self.signup(joins, later, victim, self.home(victim), label, payout=victim.payout)

    def blocked_reapply(self, program: str, at: datetime) -> None:
        """Removed and blocked, the person applies to the same program again."""
        act, person, flagged_at = self.flagged_elsewhere(program, at)
        removed_at = flagged_at + timedelta(days=self.rng.uniform(1, 4))
        self.steps.append(RemoveStep(removed_at, program, act["id"], True, "blocked_reapply"))
        self.rejoin(program, removed_at + timedelta(days=self.rng.uniform(0.5, 6)), person, "blocked_reapply")

    def rejoin(self, program: str, at: datetime, person: Person, pattern: str) -> None:
        roll = self.rng.random()
        email = (
            self.alias(person.email) if roll < 0.7 else self.email(person.first, person.last, person.country)
        )
        device = person.device if roll >= 0.5 else self.fingerprint()
        session = Session(self.ips.residential(person.country), device, None, self.agent())
        self.signup(program, at, person, session, Label(pattern, True), email=email)

    # --- look-alike addresses, taken-over accounts, borrowed identities (issue 16) ----------------
    def similar_email(self, program: str, at: datetime) -> None:
        """Someone signs up with an address one typo from an existing partner's (to pass as them, or to
        collect what is meant for them), from a datacenter, VPN or Tor exit."""
        victim = self.fraud_person()
        self.ordinary_partner(program, at, victim)
        fraudster = self.person()
        email = self.unique_typo(victim.email)
        later = at + timedelta(days=self.rng.uniform(0.5, 20))
        session = self.hosted(fraudster.device, tor=self.rng.random() < 0.4)
        self.signup(program, later, fraudster, session, Label("similar_email", True), email=email)

    def unique_typo(self, address: str) -> str:
        for _ in range(50):
            candidate = typo(self.rng, address)
            if mailbox(candidate) not in self.mailboxes and mailbox(candidate) != mailbox(address):
                self.mailboxes.add(mailbox(candidate))
                return candidate
        raise RuntimeError(f"no unused typo of {address}")

    def payout_takeover(self, program: str, at: datetime) -> None:
        """An established partner's account taken over: a login from elsewhere, new payout details,
        then large bonuses within a day or two, before anyone notices."""
        partner_id, victim = self.ordinary_partner(program, at)
        when = at + timedelta(days=self.rng.uniform(3, 6))
        setup = Label("payout_takeover", True, counted=False)
        session = (
            self.hosted(self.fingerprint())
            if self.rng.random() < 0.5
            else self.abroad(victim, self.fingerprint())
        )
        self.account(program, when, partner_id, "login", session, setup)
        when += timedelta(minutes=self.rng.uniform(2, 40))
        payout = self.payout(self.rng.choice(list(COUNTRY_WEIGHTS)))
        self.account(program, when, partner_id, "payout_update", session, setup, payout_account=payout)
        for _ in range(self.rng.randint(1, 2)):
            when += timedelta(hours=self.rng.uniform(0.5, 30))
            self.reward(program, when, partner_id, [250, 400, 600, 900, 1500], Label("payout_takeover", True))

    def reward(self, program: str, at: datetime, partner_id: str, amounts: list[int], label: Label) -> None:
        """A bonus of one of `amounts` (whole units of the program's currency) for a partner."""
        reward = {
            "id": self.new_id("rwd"),
            "partner_id": partner_id,
            "amount": f"{self.rng.choice(amounts)}.00",
            "currency": self.currencies[program],
        }
        self.emit(program, at, {"type": "reward.created", "reward": reward}, label)

    def quiet_takeover(self, program: str, at: datetime) -> None:
        """An established partner's account taken over for its ordinary commissions: a login on a
        computer the partner never used, through a hosting network or from abroad, sometimes a
        decoy sign-in on another, new payout details minutes later (named `payout_update`, or sent
        as a `profile_update`), then the partner's usual small rewards, none large enough to be
        judged by size. The payout change is the step to act on: every reward after it is paid to
        the new details (those rewards are shown apart). Beside it, two honest partners of the same
        shape: one moved abroad changes its own payout details there on a new computer
        (`moved_abroad`: nothing the events carry tells it apart, the price of catching this one);
        one always on its VPN does so after its browser changed its fingerprint (`always_on_vpn`)."""
        partner_id, victim = self.ordinary_partner(program, at)
        when = at + timedelta(days=self.rng.uniform(3, 12))
        setup = Label("quiet_takeover", True, counted=False)

        def stranger() -> Session:
            device = self.fingerprint()
            return self.hosted(device) if self.rng.random() < 0.5 else self.abroad(victim, device)

        session = stranger()
        self.account(program, when, partner_id, "login", session, setup)
        if self.rng.random() < 0.3:
            self.account(program, when + timedelta(minutes=1), partner_id, "login", stranger(), setup)
        when += timedelta(minutes=self.rng.uniform(2, 40))
        payout = self.payout(self.rng.choice(list(COUNTRY_WEIGHTS)))
        activity = "payout_update" if self.rng.random() < 0.7 else "profile_update"
        self.account(
            program, when, partner_id, activity, session, Label("quiet_takeover", True), payout_account=payout
        )
        for _ in range(self.rng.randint(2, 5)):
            when += timedelta(hours=self.rng.uniform(2, 48))
            self.reward(program, when, partner_id, [15, 25, 40, 60, 90], setup)

        joined = self.when()
        honest, person = self.ordinary_partner(program, joined)
        moved = Label("moved_abroad", False)
        when = joined + timedelta(days=self.rng.uniform(3, 12))
        there = self.abroad(person, self.fingerprint())
        self.account(program, when, honest, "login", there, moved)
        self.account(
            program,
            when + timedelta(minutes=self.rng.uniform(2, 40)),
            honest,
            "payout_update",
            there,
            moved,
            payout_account=self.payout(self.rng.choice(list(COUNTRY_WEIGHTS))),
        )

        vpn = Label("always_on_vpn", False)
        person, joined = self.person(), self.when()
        device = self.fingerprint()
        partner_id, _ = self.signup(program, joined, person, self.hosted(device), vpn)
        for n in range(self.rng.randint(1, 3)):
            self.account(
                program, joined + timedelta(days=1 + n), partner_id, "login", self.hosted(device), vpn
            )
        self.account(
            program,
            joined + timedelta(days=self.rng.uniform(5, 12)),
            partner_id,
            "payout_update",
            self.hosted(self.fingerprint()),  # a browser update: a new fingerprint, a new exit
            vpn,
            payout_account=person.payout,
        )

    def borrowed_identity(self, program: str, at: datetime) -> None:
        """Another partner's name and address (given by city only, as integrations often do) claimed
        from the fraudster's own connection in another country, far away, under an address one typo
        from the partner's."""
        victim = self.fraud_person()
        self.ordinary_partner(program, at, victim)
        far = [
            c
            for c in COUNTRY_WEIGHTS
            if c != victim.country and _apart(COUNTRIES[c], COUNTRIES[victim.country])
        ]
        country = self.rng.choice(far)
        city = self.rng.choice(COUNTRIES[country].cities)
        where = (city.lat + self.rng.uniform(-0.2, 0.2), city.lon + self.rng.uniform(-0.2, 0.2))
        session = Session(self.ips.residential(country), self.fingerprint(), where, self.agent())
        address = {k: v for k, v in victim.address.items() if k not in ("lat", "lon")}
        claimed = Person(**{**victim.__dict__, "address": address})
        later = at + timedelta(days=self.rng.uniform(1, 20))
        label = Label("borrowed_identity", True)
        self.signup(program, later, claimed, session, label, email=self.unique_typo(victim.email))


def _seen_by(holders: dict[str, set[str]], used: set[str], me: str | None = None) -> int:
    """How many other accounts of the scheme already used one of these identifiers."""
    others: set[str] = set()
    for identifier in used:
        others |= holders.get(identifier, set())
    return len(others - {me} if me else others)


def _hold(holders: dict[str, set[str]], used: set[str], account: str) -> None:
    for identifier in used:
        holders.setdefault(identifier, set()).add(account)


def generate(seed: int = 7, scale: Scale | str = "full") -> Traffic:
    return Generator(seed, Scale.named(scale) if isinstance(scale, str) else scale).traffic()


# --- fraud patterns of the detection added for issue 16 -----------------------------------------
LETTERS = string.ascii_lowercase


def typo(rng: random.Random, address: str) -> str:
    """The address with one letter of its name changed, added, dropped or swapped with the next."""
    local, _, domain = address.rpartition("@")
    spots = [i for i, ch in enumerate(local) if ch.isalpha()]
    i = rng.choice(spots)
    letter = rng.choice([c for c in LETTERS if c != local[i]])
    kind = rng.choice(["change", "add", "drop", "swap"])
    if kind == "swap" and i + 1 < len(local) and local[i + 1].isalpha() and local[i + 1] != local[i]:
        local = local[:i] + local[i + 1] + local[i] + local[i + 2 :]
    elif kind == "add":
        local = local[:i] + letter + local[i:]
    elif kind == "drop" and len(spots) > 6:
        local = local[:i] + local[i + 1 :]
    else:
        local = local[:i] + letter + local[i + 1 :]
    return f"{local}@{domain}"


def _apart(a: Any, b: Any) -> bool:
    """Countries whose cities are all more than 1,000 km apart (the signal's threshold is 500)."""
    from functions.score.reference import distance_km

    return all(distance_km(x.lat, x.lon, y.lat, y.lon) > 1000 for x in a.cities for y in b.cities)
