"""How much each signal counts, and when an event is flagged. Platform-wide: programs cannot change
these (the seed: "you cannot configure rules or logic for your individual program").

Rationale. A score is the sum of the weights of the reasons that fired, capped at 100; an event is
flagged at FLAG_THRESHOLD. The labelled evaluation (`python -m evaluation`, docs/design.md
"Evaluation") measures what these choices catch and what they cost on ordinary traffic.
- Strong evidence (SPEC 5.2) weighs at least the threshold, so it flags alone: a blocked person
  reapplying, a self-referral, a person flagged or removed elsewhere in the network, a device or
  e-mail shared with a flagged or removed subject, a payout account shared with one (the money would
  go where theirs went), the same e-mail address as another account, and
  three accounts on one device or paid into one payout account (one person's accounts or a ring;
  a household is two), a fourth partner signing up from one connection within three hours (a
  script's burst; a family signing up together is three).
- A single weak signal stays well below it: travellers (IP country, distance from the address),
  households (one shared device, a similar e-mail), an iPhone on Apple Private Relay, payout details
  entered during onboarding, strangers buying on one carrier address at a busy hour are not fraud.
- Medium signals need company. At 40 (a disposable inbox, a burst of purchases on one device, a
  group of three accounts linked through something a person holds: a connection alone makes no
  group, `signals.cluster_signal`) one more signal of any kind flags: a throwaway
  inbox or a burst rarely comes alone, and never innocently with a second oddity. At 25-35 (a
  datacenter, VPN or Tor exit, a suspicious domain, a burst of account changes) another medium one or
  two weak ones are needed. Three weak ones flag too (the seed's "clustering of lower threat
  behaviours").
"""

from __future__ import annotations

from decimal import Decimal

from functions.shared.domain import identity

FLAG_THRESHOLD = 60
MAX_SCORE = 100

STRONG = {
    "blocked_reapply": 100,
    "self_referral": 90,
    "network_flagged": 80,
    "email_duplicate_of_flagged": 90,
    "device_shared_with_flagged": 85,
    "email_duplicate": 65,
    "device_shared_with_several": 60,
    "cluster_shared_payout": 60,
    "cluster_payout_of_flagged": 85,  # paid into the account of a flagged or removed subject
    "payout_changed_before_large_reward": 60,
    # payout details set in a session where the partner never was, from somewhere it never connected
    # from (`signals.payout_from_a_new_session`): an account taken over to be paid
    "payout_changed_from_new_session": 60,
    # a sign-up from a removed partner's connection under its name (`signals.removed_namesake`)
    "ip_suspicious_removed_namesake": 70,
    # a sign-up with an address near a removed partner's, under that partner's name
    # (`signals.email_signals`): the removed partner back with a look-alike address
    "email_similar_to_removed_namesake": 70,
    # a fourth partner signing up from one connection or device within three hours: a script's
    # burst (a family signing up together is three; `signals.signups_variant`)
    "velocity_signups": 60,
}
MEDIUM = {
    "velocity": 40,
    "email_disposable_domain": 40,
    "cluster": 40,
    "cluster_with_flagged": 45,
    "unusual_activity": 35,
    "ip_suspicious_network": 30,
    "ip_suspicious_linked": 35,
    "email_similar_to_flagged": 35,
    "email_one_edit": 30,  # one typo from another account's address: deliberate more often than not
    "email_suspicious_domain": 25,
}
WEAK = {
    "ip_country_mismatch": 20,
    "location_far_from_address": 20,
    "email_similar": 20,
    "device_shared": 20,
    "ip_suspicious_relay": 20,
    "payout_soon_after_signup": 20,
    # to the account's first giver, a payout account flagged or removed in another program only on
    # accounts that gave it after it did (`links.first_givers_marks`): typed, perhaps to frame it. In
    # one program such a later member is no evidence at all (`as_it_stood`); here it is said, weak
    "network_flagged_later_giver": 20,
    # a sixth purchase on one connection within three hours (`signals.purchases_variant`)
    "velocity_purchases_connection": 20,
}
# unusual_activity: payout details changed shortly before a large reward (an account taken over, or
# opened to cash out, points the money at new details just before it is paid). Within the window,
# a reward at least this large (major units of its currency, about 200 US dollars) flags alone: the
# reward is held for review, which costs an honest partner a review, not the money. The amounts are
# rounded and err low (a currency that loses value makes its line stricter, never laxer); currencies
# not listed (those whose value moves too fast to keep a line: ARS, VES, ...) are not judged by size.
PAYOUT_CHANGE_WINDOW_HOURS = 48
_LINES = {
    "USD": 200, "EUR": 200, "GBP": 160, "CHF": 180, "CAD": 270, "AUD": 300, "NZD": 330,
    "JPY": 30000, "CNY": 1400, "HKD": 1550, "SGD": 270, "INR": 16000, "KRW": 270000,
    "BRL": 1000, "MXN": 3500, "ZAR": 3600, "SEK": 2100, "NOK": 2100, "DKK": 1400, "PLN": 800,
    "CZK": 4500, "HUF": 70000, "RON": 900, "BGN": 350, "ISK": 25000, "UAH": 8000, "RSD": 20000,
    "TRY": 6000, "ILS": 700, "AED": 700, "SAR": 700, "QAR": 700, "KWD": 60, "BHD": 75, "OMR": 75,
    "EGP": 9000, "MAD": 1800, "NGN": 280000, "KES": 25000, "GHS": 2000,
    "THB": 6500, "IDR": 3000000, "MYR": 850, "PHP": 11000, "VND": 5000000, "TWD": 6000,
    "PKR": 55000, "BDT": 24000, "LKR": 58000,
    "CLP": 180000, "COP": 780000, "PEN": 720, "RUB": 15000, "KZT": 90000,
}  # fmt: skip
# Currencies held at a fixed rate to a listed one (their units to one of the anchor's, as their
# central banks hold them; an evasion tester's: a reward of 5,000 PAB, of 3,000,000 XOF, after new
# payout details, was never judged; the session's reviewer's: nor 5,000 GIP or 50,000 NAD): each
# takes its anchor's line at the peg, down to two figures
PEGGED = {
    "PAB": ("USD", "1"), "BMD": ("USD", "1"), "BSD": ("USD", "1"), "BZD": ("USD", "2"),
    "BBD": ("USD", "2"), "XCD": ("USD", "2.7"), "AWG": ("USD", "1.79"), "ANG": ("USD", "1.79"),
    "XCG": ("USD", "1.79"), "KYD": ("USD", "0.82"), "JOD": ("USD", "0.709"), "DJF": ("USD", "177.721"),
    "ERN": ("USD", "15"), "TMT": ("USD", "3.5"), "AZN": ("USD", "1.7"),
    "BAM": ("EUR", "1.95583"), "XOF": ("EUR", "655.957"), "XAF": ("EUR", "655.957"),
    "KMF": ("EUR", "491.96775"), "CVE": ("EUR", "110.265"), "XPF": ("EUR", "119.332"),
    "STN": ("EUR", "24.5"), "MKD": ("EUR", "61.5"),
    "GIP": ("GBP", "1"), "FKP": ("GBP", "1"), "SHP": ("GBP", "1"), "BND": ("SGD", "1"),
    "NAD": ("ZAR", "1"), "LSL": ("ZAR", "1"), "SZL": ("ZAR", "1"), "BTN": ("INR", "1"),
    "NPR": ("INR", "1.6"),
}  # fmt: skip


def _two_figures_down(value: Decimal) -> int:
    """`value` rounded down to its first two significant figures (358.0 is 350, 131191.4 is 130000)."""
    figures = len(str(int(value)))
    step = 10 ** max(figures - 2, 0)
    return int(value) // step * step


LARGE_REWARD = {
    **_LINES,
    **{code: _two_figures_down(_LINES[anchor] * Decimal(rate)) for code, (anchor, rate) in PEGGED.items()},
}
WEIGHTS = {**STRONG, **MEDIUM, **WEAK}

# thresholds of the signals themselves
FAR_FROM_ADDRESS_KM = 500
VELOCITY_SIGNUPS_PER_IP = 3  # other sign-ups from one IP or device within three hours
VELOCITY_TRANSACTIONS = 5  # other transactions from one IP or device within three hours
ACCOUNT_CHANGES_BURST = 3  # other sensitive account changes within three hours
CLUSTER_SIZE = 2  # other accounts linked through shared identifiers: a group of three
# other partners a partner met one event at a time (`signals.partners_linked`): one more, since a
# partner's household (the family laptop) and its office (a colleague's desk) are two already
LINKED_GROUP = CLUSTER_SIZE + 1
# ... met within this many days before the event: a farm's phones are met in a burst, a person's
# family laptop, a colleague's desk and a friend's tablet over months
LINKED_DAYS = 7
LINKED_KEPT = 6  # partners met a profile keeps, the most recently met (`Subject.linked`)
# the crowd limits and the edit distance are identity rules: functions/shared/domain/identity.py
SIMILAR_EMAIL_DISTANCE = identity.SIMILAR_EMAIL_DISTANCE  # edit distance between bare local parts
SIMILAR_EMAIL_CROWD = identity.SIMILAR_EMAIL_CROWD  # more others on one near-duplicate key: a common name
MAX_LINK_MEMBERS = identity.MAX_LINK_MEMBERS  # a link this crowded (a carrier NAT) is no longer evidence


def score(variants: list[str]) -> int:
    return min(MAX_SCORE, sum(WEIGHTS[v] for v in variants))
