"""How much each signal counts, and when an event is flagged. Platform-wide: programs cannot change
these (the seed: "you cannot configure rules or logic for your individual program").

Rationale. A score is the sum of the weights of the reasons that fired, capped at 100; an event is
flagged at FLAG_THRESHOLD.
- Strong evidence (SPEC 5.2) weighs at least the threshold, so it flags alone: a blocked person
  reapplying, a self-referral, a person flagged or removed elsewhere in the network, a device or
  e-mail shared with a flagged or removed subject, the same e-mail address as another account.
- A single weak signal stays well below it: travellers (IP country, distance from the address) and
  households (one shared device, a similar e-mail) are not fraud.
- Medium signals need company: two of them (disposable e-mail + hosting IP), or one and two weak
  ones, reach the threshold; three weak ones do too (the seed's "clustering of lower threat
  behaviours").
"""

from __future__ import annotations

FLAG_THRESHOLD = 60
MAX_SCORE = 100

STRONG = {
    "blocked_reapply": 100,
    "self_referral": 90,
    "network_flagged": 80,
    "email_duplicate_of_flagged": 90,
    "device_shared_with_flagged": 85,
    "email_duplicate": 65,
}
MEDIUM = {
    "velocity": 40,
    "email_disposable_domain": 35,
    "device_shared_with_several": 35,
    "cluster": 30,
    "cluster_with_flagged": 45,
    "unusual_activity": 35,
    "ip_suspicious_network": 30,
    "ip_suspicious_linked": 35,
    "email_similar_to_flagged": 35,
    "email_suspicious_domain": 25,
}
WEAK = {
    "ip_country_mismatch": 20,
    "location_far_from_address": 20,
    "email_similar": 20,
    "device_shared": 20,
}
WEIGHTS = {**STRONG, **MEDIUM, **WEAK}

# thresholds of the signals themselves
FAR_FROM_ADDRESS_KM = 500
VELOCITY_SIGNUPS_PER_IP = 3  # earlier sign-ups from one IP or device within the last two hours
VELOCITY_TRANSACTIONS = 5  # earlier transactions from one IP or device within the last two hours
ACCOUNT_CHANGES_BURST = 3  # earlier sensitive account changes within the last two hours
CLUSTER_SIZE = 3  # other accounts linked through shared identifiers
SIMILAR_EMAIL_DISTANCE = 2  # edit distance between local parts
MAX_LINK_MEMBERS = 200  # a link this crowded (a carrier NAT, say) is no longer evidence; stop adding


def score(variants: list[str]) -> int:
    return min(MAX_SCORE, sum(WEIGHTS[v] for v in variants))
