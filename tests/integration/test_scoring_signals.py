"""Every reason code of SPEC 5.1: one test that makes it fire, one that shows its look-alike (the
household, the traveller) not firing. Events go through the real ingest and score handlers on moto."""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from functions.score import service
from functions.shared import runtime
from functions.shared.domain.links import VIA_KEPT
from functions.shared.domain.profiles import PROFILE_KEEPS
from functions.shared.storage import keys
from tests.integration.scoring_support import codes, drain, purchase, send, signup, status
from tests.support import call, proxy_event, sample

HOSTING_IP = "8.8.8.8"  # Google: a hosting network
TOR_IP = "185.220.101.1"
LISTED_IP = "203.0.113.7"  # a documentation range: listed as suspicious by default


def decide(aws, tenant, *events):
    """Sends and scores the events one after the other, in order."""
    for event in events:
        send(tenant, event)
        drain(aws)
    return [status(tenant, e["id"])["decision"] for e in events]


def after_another(aws, tenant, first, second):
    """The decision on a sign-up with address `second` after partner p1's with `first`, from a
    device and IP of its own (nothing shared but what the addresses share)."""
    return decide(
        aws, tenant, signup("p1", email=first), signup("p2", email=second, device="fp-other", ip="81.2.70.77")
    )[1]


def raw_item(aws, pk, sort=None):
    """An item as DynamoDB holds it (its sort key: `sort`, else the kind's one: links and counters)."""
    sort = sort or (keys.LINK_SK if "#LINK#" in pk else keys.COUNTER_SK)
    table = aws.settings.table_name
    found = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sort}})
    return found["Item"]


def reason_codes(decision):
    return {r["code"] for r in decision["reasons"]}


def payout_update(
    partner: str, n: int, hour: int, account: str = "GB99NEWBANK00000000", day: str = "2026-11-02"
):
    """New payout details of `partner`, set at `hour` o'clock of `day`."""
    change = sample(
        "account.updated", id=f"payout-{n}", occurred_at=f"{day}T{hour:02d}:00:00Z", activity="payout_update"
    )
    change["partner"] = {"id": partner, "payout_account": account}
    return change


def reward_of(partner: str, name: str, at: str, amount: str = "900.00"):
    """An API reward `r-<name>` of `partner` in US dollars (event id `name`)."""
    event = sample("reward.created", id=name, occurred_at=at)
    event["reward"] = {"id": f"r-{name}", "partner_id": partner, "amount": amount, "currency": "USD"}
    return event


def login_from_sydney(partner: str, n: int, address=None, at: str | None = None):
    """A login of `partner` from a session located in Sydney, with `address` when it sends one."""
    event = sample("account.updated", id=f"login-{n}", occurred_at=at or f"2026-11-{3 + n:02d}T09:00:00Z")
    event.update(activity="profile_update" if address else "login")
    event["partner"] = {"id": partner, **({"address": address} if address else {})}
    event["session"] = {
        "ip": "81.2.69.160",
        "device_fingerprint": f"fp-{partner}",
        "ip_location": {"lat": -33.87, "lon": 151.21},
    }
    return event


class TestEmail:
    def test_the_same_address_after_normalization_is_a_duplicate_and_flags(self, aws, tenant):
        first, second = decide(
            aws,
            tenant,
            signup("p1", email="Ada.Lovelace@gmail.com"),
            signup("p2", email="adalovelace+partners@googlemail.com", device="fp-other"),
        )
        assert first["action"] == "allow" and reason_codes(first) == set()
        assert "email_duplicate" in reason_codes(second)
        assert second["action"] == "flag"
        detail = next(r["detail"] for r in second["reasons"] if r["code"] == "email_duplicate")
        assert "partner p1" in detail

    @pytest.mark.parametrize(
        "lookalike",
        [
            "\u0430da.lovelace@example.com",  # a Cyrillic a
            "\uff21\uff24\uff21.lovelace@example.com",  # fullwidth letters
            "ada.love\u200blace@example.com",  # a zero-width space
            "ada.lovelace@\u0435x\u0430mple.com",  # Cyrillic letters in the domain
            "ada.lovelace@xn--xmple-4ve7a.com",  # the same domain as a browser's e-mail field sends it
        ],
    )
    def test_an_address_that_only_looks_like_another_is_that_address(self, aws, tenant, lookalike):
        second = after_another(aws, tenant, "ada.lovelace@example.com", lookalike)
        assert "email_duplicate" in reason_codes(second)
        assert second["action"] == "flag"

    @pytest.mark.parametrize("typed", ["ada.lovelace@example.com ", " ada.lovelace@example.com\u00a0\t"])
    def test_blanks_around_an_address_are_trimmed_not_refused(self, aws, tenant, typed):
        """A phone keyboard's autocomplete leaves a blank after the address: the sign-up was refused
        (422, "not an e-mail address") and never scored."""
        second = after_another(aws, tenant, "ada.lovelace@example.com", typed)

        assert "email_duplicate" in reason_codes(second)
        assert aws.repository.get_subject(tenant.program_id, "partner", "p2").email == typed.strip()

    def test_dots_count_where_the_provider_does_not_ignore_them(self, aws, tenant):
        _, second = decide(
            aws,
            tenant,
            signup("p1", email="ada.lovelace@example.com"),
            signup("p2", email="adalovelace@example.com"),
        )
        assert "email_duplicate" not in reason_codes(second)

    def test_a_near_duplicate_is_similar_but_does_not_flag_alone(self, aws, tenant):
        _, second = decide(
            aws,
            tenant,
            signup("p1", email="grace.hopper@example.com"),
            signup("p2", email="gracehopper42@yahoo.com"),
        )
        assert "email_similar" in reason_codes(second)
        assert second["action"] == "allow"

    @pytest.mark.parametrize(
        "typo",
        [
            "margaret.hamiltom@gmail.com",  # a letter changed
            "margaret.hamillton@gmail.com",  # one added: a longer address finds the shorter one
            "margaret.hamlton@gmail.com",  # one dropped
            "margaret.hmailton@gmail.com",  # two swapped
        ],
    )
    def test_one_edit_from_a_partner_is_found_through_the_stored_blocks(self, aws, tenant, typo):
        second = after_another(aws, tenant, "margaret.hamilton@gmail.com", typo)
        detail = next(r["detail"] for r in second["reasons"] if r["code"] == "email_similar")
        assert detail == "e-mail address a letter or two from that of partner p1"

    def test_an_address_equal_but_for_one_block_is_not_similar(self, aws, tenant):
        # margarethamilton is marga|retha|milton: the middle block replaced whole shares a key
        second = after_another(aws, tenant, "margaret.hamilton@gmail.com", "marga.xxxxxmilton@gmail.com")
        assert "email_similar" not in reason_codes(second)

    def test_different_people_are_not_similar(self, aws, tenant):
        _, second = decide(
            aws,
            tenant,
            signup("p1", email="grace.hopper@example.com"),
            signup("p2", email="alan.turing@example.com"),
        )
        assert "email_similar" not in reason_codes(second)

    def test_a_disposable_domain_fires_from_the_maintained_list(self, aws, tenant):
        (decision,) = decide(aws, tenant, signup("p1", email="someone@mailinator.com"))
        assert "email_disposable_domain" in reason_codes(decision)
        assert decision["action"] == "allow"  # one medium signal alone

    def test_a_disposable_domain_with_a_hosting_ip_flags(self, aws, tenant):
        (decision,) = decide(
            aws, tenant, signup("p1", email="someone@mailinator.com", ip=HOSTING_IP, country="US")
        )
        assert {"email_disposable_domain", "ip_suspicious"} <= reason_codes(decision)
        assert decision["action"] == "flag"

    @pytest.mark.parametrize(
        "address", ["someone@inbox.mailinator.com", "someone@a.b.mailinator.com", "someone@mailinator.com."]
    )
    def test_a_disposable_domain_written_under_a_subdomain_or_fully_qualified_is_disposable(
        self, aws, tenant, address
    ):
        (decision,) = decide(aws, tenant, signup("p1", email=address))
        assert "email_disposable_domain" in reason_codes(decision)

    def test_a_suspicious_domain_fires_and_an_ordinary_one_does_not(self, aws, tenant):
        suspicious, ordinary = decide(
            aws, tenant, signup("p1", email="deals@cheap-offers.xyz"), signup("p2", email="deals@example.com")
        )
        assert "email_suspicious_domain" in reason_codes(suspicious)
        assert "email_suspicious_domain" not in reason_codes(ordinary)


class TestNetworkAndPlace:
    def test_hosting_anonymizing_and_listed_ips_are_suspicious(self, aws, tenant):
        hosting, tor, listed, home = decide(
            aws,
            tenant,
            signup("p1", ip=HOSTING_IP, country="US"),
            signup("p2", ip=TOR_IP, country="DE"),
            signup("p3", ip=LISTED_IP),
            signup("p4", ip="81.2.69.160"),
        )
        assert "ip_suspicious" in reason_codes(hosting)
        assert "tor" in next(r["detail"] for r in tor["reasons"] if r["code"] == "ip_suspicious")
        assert "listed" in next(r["detail"] for r in listed["reasons"] if r["code"] == "ip_suspicious")
        assert "ip_suspicious" not in reason_codes(home)

    @staticmethod
    def flagged_on(aws, tenant, ip: str, email: str) -> None:
        """p2 flagged (p1's address) on `ip`, p1's too."""
        decide(aws, tenant, signup("p1", email=email, ip=ip), signup("p2", email=email, ip=ip))

    def test_an_ip_used_by_a_flagged_partner_is_suspicious(self, aws, tenant):
        self.flagged_on(aws, tenant, "81.2.69.170", "x@example.com")
        (third,) = decide(aws, tenant, signup("p3", ip="81.2.69.170"))
        assert "ip_suspicious" in reason_codes(third)
        assert "partner p2 (flagged)" in next(
            r["detail"] for r in third["reasons"] if r["code"] == "ip_suspicious"
        )

    def test_an_ipv4_client_reported_by_a_dual_stack_server_is_that_ipv4_address(self, aws, tenant):
        self.flagged_on(aws, tenant, "81.2.69.171", "y@example.com")
        tor, shared = decide(
            aws,
            tenant,
            signup("p3", ip=f"::ffff:{TOR_IP}", country="DE"),
            signup("p4", ip="::ffff:81.2.69.171"),
        )
        assert "tor" in next(r["detail"] for r in tor["reasons"] if r["code"] == "ip_suspicious")
        assert "partner p2 (flagged)" in next(
            r["detail"] for r in shared["reasons"] if r["code"] == "ip_suspicious"
        )

    def test_a_traveller_with_an_ip_abroad_and_far_from_home_is_not_flagged(self, aws, tenant):
        (traveller,) = decide(
            aws,
            tenant,
            signup(
                "p1",
                country="FR",
                ip="81.2.69.160",
                ip_location={"lat": 51.5, "lon": -0.12},
                address={
                    "line1": "1 rue de Rivoli",
                    "city": "Paris",
                    "region": "IDF",
                    "postal_code": "75001",
                    "country": "FR",
                    "lat": 43.3,
                    "lon": 5.37,
                },
            ),
        )
        assert {"ip_country_mismatch", "location_far_from_address"} <= reason_codes(traveller)
        assert traveller["action"] == "allow"

    def test_an_ipv6_session_is_checked_against_the_reported_country_as_an_ipv4_one_is(self, aws, tenant):
        abroad, home = decide(
            aws,
            tenant,
            signup("p1", country="US", ip="2a02:c7f:1234:5600::9"),  # a British line
            signup("p2", country="GB", ip="2a02:c7f:9999:1::9"),
        )
        mismatch = next(r["detail"] for r in abroad["reasons"] if r["code"] == "ip_country_mismatch")
        assert "is in GB" in mismatch and "reported country is US" in mismatch
        assert "ip_country_mismatch" not in reason_codes(home)

    def test_uk_is_the_united_kingdom_and_a_code_of_no_country_is_refused(self, aws, tenant):
        """`UK` is what many integrations send for the United Kingdom (ISO 3166 reserves it for it;
        its code is GB): taken as sent, every British partner's session was a country mismatch. A
        code of no country (`ZZ`) was compared with nothing, so a partner sending it hid its
        session's country: it is refused (422, naming the field), and nothing is stored."""
        british, lower, abroad = decide(
            aws,
            tenant,
            signup("p1", country="UK", ip="81.2.69.160"),
            signup("p2", country="uk", ip="81.2.69.161"),
            signup("p4", country="FR", ip="81.2.69.163"),
        )
        placeholder = signup("p3", country="ZZ", ip="81.2.69.162")  # an integration's placeholder
        made_up = call("ingest", proxy_event("POST", "/v1/events", placeholder, tenant.keys["integration"]))

        assert not {"ip_country_mismatch"} & (reason_codes(british) | reason_codes(lower))
        assert "ip_country_mismatch" in reason_codes(abroad)
        assert made_up.status == 422 and [e["field"] for e in made_up.body["errors"]] == ["partner.country"]
        read = call(
            "ingest", proxy_event("GET", f"/v1/events/{placeholder['id']}", None, tenant.keys["integration"])
        )
        assert read.status == 404  # nothing stored
        stored = aws.repository.get_subject(tenant.program_id, "partner", "p1")
        assert stored.country == "GB"

    def test_an_account_update_sending_a_country_of_no_country_leaves_the_partners_country(self, aws, tenant):
        """Ignored at ingest, the placeholder was kept when scored (the stored body validated again),
        and stood for the partner's country from then on: its sessions abroad compared with nothing."""
        decide(aws, tenant, signup("p1", country="GB", ip="81.2.69.160", at="2026-11-01T08:00:00Z"))
        update = sample(
            "account.updated", id="upd-zz", occurred_at="2026-11-02T09:00:00Z", activity="profile_update"
        )
        update["partner"] = {"id": "p1", "country": "ZZ"}
        update["session"]["ip"] = "81.2.69.161"
        abroad = sample(
            "account.updated", id="upd-fr", occurred_at="2026-11-02T10:00:00Z", activity="profile_update"
        )
        abroad["partner"] = {"id": "p1"}
        abroad["session"]["ip"] = "2.15.0.1"  # a French line

        ignored, later = decide(aws, tenant, update, abroad)

        assert status(tenant, "upd-zz")["notes"] == ["partner.country ignored: not an ISO 3166 alpha-2 code"]
        assert aws.repository.get_subject(tenant.program_id, "partner", "p1").country == "GB"
        assert "ip_country_mismatch" in reason_codes(later)

    def test_an_ip_of_the_reported_country_and_near_the_address_raises_nothing(self, aws, tenant):
        (local,) = decide(
            aws,
            tenant,
            signup("p1", country="GB", ip="81.2.69.160", ip_location={"lat": 51.52, "lon": -0.15}),
        )
        assert not {"ip_country_mismatch", "location_far_from_address"} & reason_codes(local)


class TestDevicesAndClusters:
    def test_a_household_sharing_one_device_is_not_flagged(self, aws, tenant):
        _, second = decide(aws, tenant, signup("p1", device="fp-family"), signup("p2", device="fp-family"))
        assert "device_shared" in reason_codes(second)
        assert second["action"] == "allow"

    def test_a_device_shared_with_a_flagged_partner_flags(self, aws, tenant):
        decide(
            aws,
            tenant,
            signup("p1", email="dup@example.com"),
            signup("p2", email="dup@example.com", device="fp-bad"),
        )
        (third,) = decide(aws, tenant, signup("p3", device="fp-bad"))
        assert "device_shared" in reason_codes(third)
        assert third["action"] == "flag"

    def test_a_padded_fingerprint_still_names_its_device(self, aws, tenant):
        """A fingerprint is what the fraudster's own browser reports: one padded past 512 characters
        was refused (the event never scored), and ignored would hide the device."""
        padded = "fp-padded-" + "x" * 4000
        decide(
            aws,
            tenant,
            signup("p1", email="dup.pad@example.com"),
            signup("p2", email="dup.pad@example.com", device=padded),
        )

        (third,) = decide(aws, tenant, signup("p3", device=padded.upper()))

        assert "device_shared" in reason_codes(third) and third["action"] == "flag"
        profile = aws.repository.get_subject(tenant.program_id, "partner", "p3")
        assert all(len(device) < 100 for device in profile.devices), profile.devices

    def test_a_device_with_no_other_user_raises_nothing(self, aws, tenant):
        (only,) = decide(aws, tenant, signup("p1", device="fp-unique"))
        assert "device_shared" not in reason_codes(only)

    def test_accounts_linked_through_several_identifiers_form_a_cluster(self, aws, tenant):
        decide(
            aws,
            tenant,
            signup("p1", device="fp-a", ip="81.2.69.171", payout="IBAN-1"),
            signup("p2", device="fp-b", ip="81.2.69.172"),
            signup("p3", device="fp-c", ip="81.2.69.173"),
        )
        (ring,) = decide(aws, tenant, signup("p4", device="fp-b", ip="81.2.69.173", payout="IBAN-1"))
        assert "cluster" in reason_codes(ring)

    def test_one_payout_account_written_three_ways_pays_a_ring(self, aws, tenant):
        decide(
            aws,
            tenant,
            signup("p1", device="fp-r1", ip="81.2.69.181", payout="GB29NWBK60161331926819"),
            signup("p2", device="fp-r2", ip="81.2.69.182", payout="gb29 nwbk 6016 1331 9268 19"),
        )
        (ring,) = decide(
            aws, tenant, signup("p3", device="fp-r3", ip="81.2.69.183", payout="GB29-NWBK-6016-1331-9268-19")
        )
        detail = next(r["detail"] for r in ring["reasons"] if r["code"] == "cluster")
        assert detail.startswith("payout account also used by") and "p1" in detail and "p2" in detail
        assert ring["action"] == "flag"

    def test_one_shared_identifier_is_no_cluster(self, aws, tenant):
        _, second = decide(aws, tenant, signup("p1", device="fp-a"), signup("p2", device="fp-a"))
        assert "cluster" not in reason_codes(second)


class TestVelocityAndActivity:
    def test_a_burst_of_sign_ups_from_one_ip_is_velocity(self, aws, tenant):
        decisions = decide(
            aws,
            tenant,
            *[signup(f"p{n}", ip="81.2.69.180", at=f"2026-11-02T09:{10 + n}:00Z") for n in range(4)],
        )
        assert "velocity" not in reason_codes(decisions[2])
        assert "velocity" in reason_codes(decisions[3])

    def test_a_burst_sent_with_a_different_offset_each_time_is_velocity_all_the_same(self, aws, tenant):
        """Times keep the offset they were sent with; the hours counted are UTC's, so a burst whose
        times are written in time zones two hours apart (each a wall-clock hour of its own) still
        fills one hour."""
        sent = ["09:10:00Z", "11:11:00+02:00", "13:12:00+04:00", "05:43:00-03:30"]
        decisions = decide(
            aws,
            tenant,
            *[signup(f"z{n}", ip="81.2.69.185", at=f"2026-11-02T{t}") for n, t in enumerate(sent)],
        )
        assert ["velocity" in reason_codes(d) for d in decisions] == [False, False, False, True]

    def test_a_burst_from_one_ipv6_line_is_velocity_whatever_address_each_sign_up_takes(self, aws, tenant):
        line, elsewhere = "2a02:c7f:1234:5600", "2a02:c7f:1234:5601"
        decisions = decide(
            aws,
            tenant,
            signup("q0", ip=f"{elsewhere}::1", at="2026-11-02T09:09:00Z"),
            *[
                signup(f"q{n}", ip=f"{line}:{n:x}:aaaa:bbbb:{n + 1:x}", at=f"2026-11-02T09:{10 + n}:00Z")
                for n in range(1, 5)
            ],
        )
        assert "velocity" not in reason_codes(decisions[3])  # the other /64 is another line
        assert "velocity" in reason_codes(decisions[4])
        assert decisions[4]["action"] == "flag"  # a fourth sign-up from the same line: a burst

    def test_purchases_count_whether_their_customer_joins_the_ip_or_used_it_before(self, aws, tenant):
        """A new customer's purchase counts on the IP's link (written anyway: it joins it), a
        returning one's on the hour's counter item: the velocity count is both together."""
        customers = ["c1", "c2", "c3", "c1", "c2", "c3"]
        decisions = decide(
            aws,
            tenant,
            *[
                purchase(c, "p9", ip="81.2.69.190", at=f"2026-11-04T14:{10 + n}:00Z")
                for n, c in enumerate(customers)
            ],
        )
        assert ["velocity" in reason_codes(d) for d in decisions] == [False] * 5 + [True]
        assert "5 transactions from IP 81.2.69.190" in next(  # the earlier ones
            r["detail"] for r in decisions[5]["reasons"] if r["code"] == "velocity"
        )
        assert [d["action"] for d in decisions] == ["allow"] * 6  # a burst alone: a carrier's address
        link = raw_item(aws, keys.link_pk(tenant.program_id, "ip", "81.2.69.190"))
        assert link["c_txn:20261104T14"] == {"N": "3"}  # the three who joined it
        counter = raw_item(aws, keys.counter_pk(tenant.program_id, "txn:ip:81.2.69.190:20261104T14"))
        assert counter["count"] == {"N": "3"}  # the three who came back and wrote nothing else

    def test_a_links_old_hours_are_taken_away_by_the_next_count_on_it(self, aws, tenant):
        decide(aws, tenant, signup("p1", ip="81.2.69.191", at="2026-11-02T09:10:00Z"))
        decide(aws, tenant, signup("p2", ip="81.2.69.191", at="2026-11-02T10:10:00Z"))
        link = raw_item(aws, keys.link_pk(tenant.program_id, "ip", "81.2.69.191"))
        assert {n for n in link if n.startswith("c_")} == {"c_signup:20261102T09", "c_signup:20261102T10"}
        decide(aws, tenant, signup("p3", ip="81.2.69.191", at="2026-11-02T12:10:00Z"))  # 09 is 3 hours before
        link = raw_item(aws, keys.link_pk(tenant.program_id, "ip", "81.2.69.191"))
        assert {n for n in link if n.startswith("c_")} == {"c_signup:20261102T10", "c_signup:20261102T12"}

    @pytest.mark.parametrize("proxy", ["10.0.0.5", "192.168.1.20", "100.64.3.7", "127.0.0.1", "fd00::5"])
    def test_an_address_that_is_no_clients_links_and_counts_no_one(self, aws, tenant, proxy):
        """An integration behind a proxy that sends the proxy's own address for every session."""
        decisions = decide(
            aws,
            tenant,
            *[signup(f"x{n}", ip=proxy, at=f"2026-11-02T09:{10 + n}:00Z") for n in range(6)],
        )
        assert [d["action"] for d in decisions] == ["allow"] * 6
        assert not {"velocity", "cluster", "ip_suspicious"} & set().union(*map(reason_codes, decisions))

    def test_sign_ups_hours_apart_are_not_a_burst(self, aws, tenant):
        decisions = decide(
            aws,
            tenant,
            *[signup(f"p{n}", ip="81.2.69.181", at=f"2026-11-02T{10 + 3 * n:02d}:00:00Z") for n in range(4)],
        )
        assert all("velocity" not in reason_codes(d) for d in decisions)

    def _update(self, n, activity, at):
        event = sample("account.updated", id=f"upd-{n}", occurred_at=at, activity=activity)
        event["partner"] = {"id": "p1"}
        return event

    def test_a_burst_of_account_changes_is_unusual_activity(self, aws, tenant):
        decide(aws, tenant, signup("p1", at="2026-11-01T08:00:00Z"))
        changes = ["email_change", "payout_update", "password_change", "profile_update"]
        decisions = decide(
            aws, tenant, *[self._update(n, a, f"2026-11-02T09:{10 + n}:00Z") for n, a in enumerate(changes)]
        )
        assert "unusual_activity" not in reason_codes(decisions[2])
        assert "unusual_activity" in reason_codes(decisions[3])

    def test_new_payout_details_set_where_the_partner_never_was_flag_and_hold_its_next_rewards(
        self, aws, tenant
    ):
        # an account taken over: a login abroad on a computer the partner never used, new payout
        # details minutes later, then a small commission (too small to be judged by its size)
        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))

        def session(event, ip, device):
            event["session"] = {"ip": ip, "device_fingerprint": device}
            return event

        login = session(self._update(0, "login", "2026-11-02T03:10:00Z"), "73.162.1.1", "fp-stranger")
        payout = session(
            self._update(1, "payout_update", "2026-11-02T03:25:00Z"), "73.162.1.1", "fp-stranger"
        )
        payout["partner"]["payout_account"] = "US64SVBKUS6S3300958879"
        reward = sample("reward.created", id="small-commission", occurred_at="2026-11-02T12:00:00Z")
        reward["reward"] = {"id": "r-small", "partner_id": "p1", "amount": "25.00", "currency": "USD"}
        allowed, flagged, _ = decide(aws, tenant, login, payout, reward)

        assert allowed["action"] == "allow"
        assert flagged["action"] == "flag"
        assert "unusual_activity" in reason_codes(flagged)
        held = aws.repository.get_subject(tenant.program_id, "partner", "p1")
        assert (held.status, held.unfamiliar) == (
            "flagged",
            ("2026-11-02T03:10:00+00:00 US 73.162.1.1 fp-stranger",),
        )
        answer = call(
            "cases",
            proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"partner_id": "p1"}),
        )
        assert [(r["id"], r["status"]) for r in answer.body["items"]] == [("r-small", "on_hold")]

    def test_logins_are_not_account_changes(self, aws, tenant):
        decide(aws, tenant, signup("p1", at="2026-11-01T08:00:00Z"))
        decisions = decide(
            aws, tenant, *[self._update(n, "login", f"2026-11-02T09:{10 + n}:00Z") for n in range(5)]
        )
        assert all("unusual_activity" not in reason_codes(d) for d in decisions)


class TestCustomers:
    def test_a_customer_who_is_the_partner_is_a_self_referral(self, aws, tenant):
        decide(aws, tenant, signup("p1", email="ada@example.com", name="Ada Lovelace"))
        (by_email,) = decide(aws, tenant, purchase("c1", "p1", email="ada@example.com"))
        (by_name,) = decide(aws, tenant, purchase("c2", "p1", name="ada  LOVELACE"))
        assert "self_referral" in reason_codes(by_email) and by_email["action"] == "flag"
        assert "self_referral" in reason_codes(by_name)

    def test_an_ordinary_referral_is_allowed(self, aws, tenant):
        decide(aws, tenant, signup("p1", email="ada@example.com", name="Ada Lovelace"))
        (sale,) = decide(aws, tenant, purchase("c1", "p1"))
        assert sale == {"score": 0, "action": "allow", "reasons": []}

    @pytest.mark.parametrize(
        ("partner", "customer"),
        [("王伟", "李娜"), ("Иван Петров", "Мария Иванова"), ("محمد علي", "فاطمة حسن"), ("---", "...")],
    )
    def test_different_names_beyond_latin_are_different_people(self, aws, tenant, partner, customer):
        decide(aws, tenant, signup("p1", email="p1@example.com", name=partner))
        (sale,) = decide(aws, tenant, purchase("c1", "p1", name=customer))
        assert sale == {"score": 0, "action": "allow", "reasons": []}

    def test_the_same_name_beyond_latin_is_a_self_referral(self, aws, tenant):
        decide(aws, tenant, signup("p1", email="p1@example.com", name="Иван Петров"))
        (sale,) = decide(aws, tenant, purchase("c1", "p1", name="иван  ПЕТРОВ"))
        assert "self_referral" in reason_codes(sale) and sale["action"] == "flag"

    def test_a_partner_on_the_phone_its_own_customers_bought_on_is_a_self_referral(self, aws, tenant):
        """The partner first, then its customer on the partner's phone, flags the customer; the
        customers first, then the partner logging in on that phone, was nothing (a fraud tester's
        escape, thirty-first session): the phone's link named the customers, not whose they were.
        Its link keeps the partners purchases there were made through, with the time (`via`), and
        the partner's first event there after that time is the other order of the same thing.
        Approved, the partner is not flagged again at its next login there: it is there now."""
        decide(aws, tenant, signup("p1", device="fp-p1", ip="81.2.70.1"))
        bought = decide(
            aws,
            tenant,
            *(purchase(f"c{n}", "p1", device="fp-burner", ip=f"81.2.75.{n}") for n in range(1, 3)),
        )
        assert all(d["action"] == "allow" for d in bought), bought
        (login, again) = decide(
            aws,
            tenant,
            login_on("p1", 2, "fp-burner", ip="81.2.70.1"),
            login_on("p1", 3, "fp-burner", ip="81.2.70.1"),
        )
        assert "self_referral" in reason_codes(login) and login["action"] == "flag", login
        assert "partner p1 is on the device its own customers bought on" in str(login["reasons"])
        assert "self_referral" not in reason_codes(again), again
        link = raw_item(aws, keys.link_pk(tenant.program_id, "device", "fp-burner"))
        assert link["via"]["SS"] == ["2026-11-04T14:30:00+00:00 partner:p1"], link  # the first purchase
        ip_link = raw_item(aws, keys.link_pk(tenant.program_id, "ip", "81.2.75.1"))
        assert "via" not in ip_link, ip_link  # a connection keeps no partners (SPEC 5.2)

    def test_a_customer_who_bought_through_another_partner_first_is_kept_for_this_one_too(self, aws, tenant):
        """The device's link named the customer already (its first purchase, through p2): its
        purchase through p1 still writes p1 there, once."""
        decide(aws, tenant, signup("p1", device="fp-p1", ip="81.2.70.1"), signup("p2", device="fp-p2"))
        decide(
            aws,
            tenant,
            purchase("c1", "p2", device="fp-c1", ip="81.2.76.9", at="2026-11-04T10:00:00Z"),
            purchase("c1", "p1", device="fp-c1", ip="81.2.76.9", at="2026-11-04T11:00:00Z"),
            purchase("c1", "p1", device="fp-c1", ip="81.2.76.9", at="2026-11-04T12:00:00Z"),
        )
        (login,) = decide(aws, tenant, login_on("p1", 2, "fp-c1", ip="81.2.70.1"))
        assert "self_referral" in reason_codes(login), login
        link = raw_item(aws, keys.link_pk(tenant.program_id, "device", "fp-c1"))
        assert sorted(link["via"]["SS"]) == [
            "2026-11-04T10:00:00+00:00 partner:p2",
            "2026-11-04T11:00:00+00:00 partner:p1",
        ], link

    def test_a_shop_there_before_its_customer_is_not_flagged_at_its_logins_but_a_late_login_is(
        self, aws, tenant
    ):
        """A shop's own phone its walk-in customer paid on: the shop was there first, the customer
        is the one flagged (the existing order), and the shop's later logins there are not. A login
        dated before the purchase but received after it (a backfill, parallel senders) was there
        first too; the purchase, judged without it, flagged no one, so the login carries what the
        two show together (a first version compared times and flagged no one at all)."""
        decide(aws, tenant, signup("shop", device="fp-shop-phone", ip="81.2.70.3"))
        (walk_in,) = decide(aws, tenant, purchase("c-walk-in", "shop", device="fp-shop-phone"))
        assert "self_referral" in reason_codes(walk_in), walk_in
        (later,) = decide(aws, tenant, login_on("shop", 2, "fp-shop-phone", ip="81.2.70.3"))
        assert "self_referral" not in reason_codes(later), later

        decide(aws, tenant, signup("p-late", device="fp-p-late", ip="81.2.70.4"))
        decide(aws, tenant, purchase("c-x", "p-late", device="fp-x", at="2026-11-04T14:30:00Z"))
        (early,) = decide(aws, tenant, login_on("p-late", 1, "fp-x", ip="81.2.70.4"))  # 11-04 09:00
        assert "self_referral" in reason_codes(early) and early["action"] == "flag", early

    def test_a_partner_on_a_device_another_partners_customers_bought_on_is_no_self_referral(
        self, aws, tenant
    ):
        """A shop's till, a family's tablet: customers of another partner there say nothing about
        this one being its own customer. Nor does the connection its own customers bought from: a
        household's, an office's, a café's (an IP alone is weak, SPEC 5.2)."""
        decide(aws, tenant, signup("p1", device="fp-p1"), signup("p2", device="fp-p2", ip="81.2.70.2"))
        decide(
            aws,
            tenant,
            purchase("c1", "p2", device="fp-family-tablet", ip="81.2.77.1"),
            purchase("c2", "p1", device="fp-c2", ip="81.2.78.1"),
        )
        (tablet, cafe) = decide(
            aws,
            tenant,
            login_on("p1", 2, "fp-family-tablet", ip="81.2.77.1"),
            login_on("p1", 3, "fp-p1", ip="81.2.78.1"),
        )
        assert "self_referral" not in reason_codes(tablet), tablet
        assert "self_referral" not in reason_codes(cafe), cafe

    def test_a_till_keeps_the_first_partners_it_met_and_no_more(self, aws, tenant):
        """A shop's till whose customers buy through many partners (coupons, influencers) would grow
        its item with each, read and written whole at every event on it, and past DynamoDB's 400 KB
        refuse every event there: it keeps the first `VIA_KEPT`."""
        partners = [f"influencer-{n:02d}" for n in range(VIA_KEPT + 3)]
        decide(
            aws, tenant, *(signup(p, device=f"fp-{p}", ip=f"81.2.79.{n + 1}") for n, p in enumerate(partners))
        )
        decide(
            aws,
            tenant,
            *(
                purchase("c-regular", p, device="fp-till", at=f"2026-11-04T{10 + n:02d}:00:00Z")
                for n, p in enumerate(partners)
            ),
        )
        link = raw_item(aws, keys.link_pk(tenant.program_id, "device", "fp-till"))
        kept = sorted(entry.split(" ")[1] for entry in link["via"]["SS"])
        assert kept == [f"partner:{p}" for p in partners[:VIA_KEPT]], link

    def test_customer_side_signals(self, aws, tenant):
        decide(aws, tenant, signup("p1"))
        disposable, hosting = decide(
            aws,
            tenant,
            purchase("c1", "p1", email="buyer@mailinator.com"),
            purchase("c2", "p1", ip=HOSTING_IP, country="US"),
        )
        assert "email_disposable_domain" in reason_codes(disposable)
        assert "ip_suspicious" in reason_codes(hosting)

    def test_a_burst_of_transactions_from_one_device_is_velocity(self, aws, tenant):
        decide(aws, tenant, signup("p1"))
        decisions = decide(
            aws,
            tenant,
            *[purchase(f"c{n}", "p1", device="fp-till", at=f"2026-11-04T14:{10 + n}:00Z") for n in range(6)],
        )
        assert "velocity" not in reason_codes(decisions[4])
        assert "velocity" in reason_codes(decisions[5])


class TestNetwork:
    def test_a_person_flagged_in_one_program_is_flagged_in_another_without_naming_it(
        self, aws, tenant, other_tenant
    ):
        decide(
            aws,
            tenant,
            signup("a1", email="mallory@example.com"),
            signup("a2", email="mallory@example.com", device="fp-m"),
        )
        event = send(other_tenant, signup("b1", email="Mallory@example.com", device="fp-new"))
        drain(aws)
        decision = status(other_tenant, event["id"])["decision"]
        assert "network_flagged" in reason_codes(decision)
        assert decision["action"] == "flag"
        detail = next(r["detail"] for r in decision["reasons"] if r["code"] == "network_flagged")
        assert tenant.program_id not in detail and "Program A" not in detail

    def test_a_payout_account_flagged_in_one_program_is_flagged_in_another(self, aws, tenant, other_tenant):
        """Everything else new in the other program: the bank account names its holder."""
        decide(
            aws,
            tenant,
            signup("a1", email="mallory@example.com"),
            signup("a2", email="mallory@example.com", device="fp-m", payout="DE89370400440532013000"),
        )
        (elsewhere,) = decide(
            aws,
            other_tenant,
            signup(
                "b1",
                email="m.other@example.org",
                device="fp-b1",
                ip="81.2.70.50",
                payout="DE89 3704 0044 0532 0130 00",
            ),
        )
        assert elsewhere["action"] == "flag"
        assert elsewhere["reasons"] == [
            {
                "code": "network_flagged",
                "detail": "the same payout account is flagged or removed in 1 other program of the network",
            }
        ]

    def test_a_person_allowed_elsewhere_raises_no_network_signal(self, aws, tenant, other_tenant):
        decide(aws, tenant, signup("a1", email="bob@example.com"))
        event = send(other_tenant, signup("b1", email="bob@example.com"))
        drain(aws)
        assert "network_flagged" not in codes(other_tenant, event["id"])


class TestRemovals:
    def _flag_and_remove(self, aws, tenant, block, payout=None):
        decide(aws, tenant, signup("p1", email="eve@example.com"))
        second = send(tenant, signup("p2", email="eve@example.com", device="fp-eve", payout=payout))
        drain(aws)
        case_id = status(tenant, second["id"])["case_id"]
        removed = call(
            "cases",
            proxy_event(
                "POST", f"/v1/cases/{case_id}/remove", {"block_reapply": block}, tenant.keys["admin"]
            ),
        )
        assert removed.status == 200, removed

    def test_a_blocked_partner_reapplying_is_flagged_blocked_reapply(self, aws, tenant):
        self._flag_and_remove(aws, tenant, block=True)
        (again,) = decide(aws, tenant, signup("p9", email="EVE@example.com", device="fp-new"))
        assert "blocked_reapply" in reason_codes(again)
        assert again["action"] == "flag"

    def test_a_blocked_partner_reapplying_under_the_same_id_is_flagged(self, aws, tenant):
        self._flag_and_remove(aws, tenant, block=True)
        (again,) = decide(aws, tenant, signup("p2", email="eve@example.com", device="fp-eve-2"))
        assert "blocked_reapply" in reason_codes(again)

    def test_a_removed_partner_back_under_new_details_but_its_own_payout_account_is_flagged(
        self, aws, tenant
    ):
        """New address, device and IP; the bank account the removed partner was paid into, written
        another way: the money would go where theirs went."""
        self._flag_and_remove(aws, tenant, block=True, payout="GB29NWBK60161331926819")
        (again,) = decide(
            aws,
            tenant,
            signup(
                "p9",
                email="zed@elsewhere.org",
                device="fp-zed",
                ip="81.2.70.99",
                payout="gb29 nwbk 6016 1331 9268 19",
            ),
        )
        assert again["action"] == "flag"
        assert again["reasons"] == [
            {"code": "cluster", "detail": "payout account also used by partner p2 (removed)"}
        ]

    def test_a_partner_that_points_its_payout_at_a_removed_partners_account_is_flagged(self, aws, tenant):
        self._flag_and_remove(aws, tenant, block=False, payout="GB29NWBK60161331926819")
        (joined,) = decide(
            aws, tenant, signup("p9", email="zed@elsewhere.org", device="fp-zed", ip="81.2.70.99")
        )
        change = sample(
            "account.updated", id="upd-payout", occurred_at="2026-11-03T09:00:00Z", activity="payout_update"
        )
        change["partner"] = {"id": "p9", "payout_account": "GB29NWBK60161331926819"}
        change["session"] = {"ip": "81.2.70.99", "device_fingerprint": "fp-zed"}
        (changed,) = decide(aws, tenant, change)
        assert joined["action"] == "allow"
        assert changed["action"] == "flag" and "partner p2 (removed)" in changed["reasons"][0]["detail"]

    def test_a_removed_partner_not_blocked_is_not_blocked_reapply(self, aws, tenant):
        self._flag_and_remove(aws, tenant, block=False)
        (again,) = decide(aws, tenant, signup("p9", email="other@example.com", device="fp-eve"))
        assert "blocked_reapply" not in reason_codes(again)
        assert "device_shared" in reason_codes(again)  # shared with a removed partner: still strong
        assert again["action"] == "flag"


def test_concurrent_flagged_events_on_one_subject_leave_one_active_case(aws, tenant):
    decide(aws, tenant, signup("victim", email="v@example.com"))
    events = [
        send(
            tenant,
            signup("p2", email="v@example.com", device=f"fp-{n}", ip="81.2.69.160") | {"id": f"dup-{n}"},
        )
        for n in range(6)
    ]
    deps = runtime.dependencies()
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(
            pool.map(
                lambda e: service.take_message(
                    deps, f'{{"program_id": "{tenant.program_id}", "event_id": "{e["id"]}"}}'
                ),
                events,
            )
        )

    active = list(aws.repository.cases_in_view(tenant.program_id, "active", True))
    assert len(active) == 1
    assert {status(tenant, e["id"])["case_id"] for e in events} == {active[0].case_id}
    reasons = active[0].reasons
    assert len({r.code for r in reasons}) == len(reasons)  # each code once (SPEC 4)
    assert max(r.count for r in reasons) >= 6  # counted, one per flagged event


class TestManyIdentifiers:
    """A partner whose devices rotate with every login (an anti-detect browser): its profile keeps
    `PROFILE_KEEPS` of a kind and the rest in items of their own, so its events cost the same
    whatever it used before, and a flag or removal still reaches every device."""

    def _logins(self, aws, tenant, count):
        for n in range(count):
            event = sample(
                "account.updated",
                id=f"login-{n}",
                occurred_at=f"2026-11-0{2 + n // 60}T0{n % 6}:{n % 60:02d}:00Z",
                activity="login",
            )
            event["partner"] = {"id": "p1"}
            event["session"] = {"ip": "81.2.69.160", "device_fingerprint": f"fp-rotating-{n:03d}"}
            send(tenant, event)
        drain(aws)

    def test_the_profile_keeps_fifty_devices_and_every_other_one_in_an_item_of_its_own(self, aws, tenant):
        decide(aws, tenant, signup("p1", email="rotor@example.com", device="fp-rotating-000"))
        self._logins(aws, tenant, 80)
        profile = raw_item(aws, keys.subject_pk(tenant.program_id, "partner", "p1"), keys.PROFILE_SK)
        assert len(profile["devices"]["SS"]) == PROFILE_KEEPS and int(profile["spill_count"]["N"]) == 30
        assert len(json.dumps(profile)) < 3000  # 80 devices or 80,000: the same profile
        spilled = aws.repository.spilled_identifiers(tenant.program_id, "partner", "p1")
        assert {value for _, value in spilled} == {f"fp-rotating-{n:03d}" for n in range(80)} - set(
            profile["devices"]["SS"]
        )

    def test_a_flag_and_a_removal_reach_the_devices_kept_outside_the_profile(self, aws, tenant):
        decide(aws, tenant, signup("p0", email="taken@example.com"), signup("p1", email="rotor@example.com"))
        self._logins(aws, tenant, 80)
        spilled = sorted(v for _, v in aws.repository.spilled_identifiers(tenant.program_id, "partner", "p1"))
        change = sample(
            "account.updated", id="takes-address", occurred_at="2026-11-04T09:00:00Z", activity="email_change"
        )
        change["partner"] = {"id": "p1", "email": "taken@example.com"}
        change["session"] = {"ip": "81.2.69.160", "device_fingerprint": "fp-rotating-000"}
        (flagging,) = decide(aws, tenant, change)
        assert flagging["action"] == "flag"
        link = raw_item(aws, keys.link_pk(tenant.program_id, "device", spilled[-1]))
        assert link["flagged"]["SS"] == ["partner:p1"]
        (elsewhere,) = decide(
            aws, tenant, signup("p8", device=spilled[-1], ip="81.2.70.8", at="2026-11-04T10:00:00Z")
        )
        assert "device_shared" in reason_codes(elsewhere) and elsewhere["action"] == "flag"

        case_id = status(tenant, change["id"])["case_id"]
        removed = call(
            "cases",
            proxy_event("POST", f"/v1/cases/{case_id}/remove", {"block_reapply": True}, tenant.keys["admin"]),
        )
        assert removed.status == 200, removed
        (back,) = decide(
            aws, tenant, signup("p9", device=spilled[0], ip="81.2.70.9", at="2026-11-05T10:00:00Z")
        )
        assert "blocked_reapply" in reason_codes(back)


class TogetherRepository:
    """The repository, each thread's first write held until every thread has read: events scored
    at the same moment, each reading before any writes."""

    def __init__(self, inner, parties):
        self.inner, self.local = inner, threading.local()
        self.barrier = threading.Barrier(parties, timeout=10)

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def apply(self, step):
        if not getattr(self.local, "waited", False):
            self.local.waited = True
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait()
        return self.inner.apply(step)


def score_at_once(tenant, events):
    """Scores the events in threads, each reading before any writes; their decisions."""
    repository = runtime.dependencies().repository
    deps = replace(runtime.dependencies(), repository=TogetherRepository(repository, len(events)))
    message = '{{"program_id": "{}", "event_id": "{}"}}'
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        list(
            pool.map(lambda e: service.take_message(deps, message.format(tenant.program_id, e["id"])), events)
        )
    return [status(tenant, e["id"])["decision"] for e in events]


@pytest.mark.parametrize(
    ("shared", "code", "before"),
    [
        ({"email": "twin@example.com"}, "email_duplicate", 0),
        ({"device": "fp-twin"}, "device_shared", 0),
        ({"payout": "GB29NWBK60161331926819"}, "cluster", 1),  # a third payee: a ring
    ],
)
def test_two_accounts_on_one_identifier_scored_at_the_same_moment_do_not_miss_each_other(
    aws, tenant, shared, code, before
):
    """Each reads the other's absence; the later write is refused (the link names a member it did
    not read), reads again and sees the first. Unguarded, both were allowed and neither named the
    other: a script opening accounts in parallel was never a duplicate."""
    decide(
        aws,
        tenant,
        *[signup(f"p0{n}", ip="81.2.70.9", **({"device": f"fp-0{n}"} | shared)) for n in range(before)],
    )
    events = [
        send(tenant, signup("p1", ip="81.2.70.1", **({"device": "fp-1"} | shared))),
        send(tenant, signup("p2", ip="81.2.70.2", **({"device": "fp-2"} | shared))),
    ]
    decisions = score_at_once(tenant, events)
    named = [d for d in decisions if code in reason_codes(d)]
    assert len(named) == 1 and {d["action"] for d in decisions} >= {"allow"}
    if code != "device_shared":  # one shared device alone is a household (SPEC 5.2): weak
        assert named[0]["action"] == "flag"


def test_six_accounts_opened_at_once_on_one_address_leave_one_unflagged(aws, tenant):
    """A script opening six accounts with one address in parallel: every event is scored (the
    refused ones read and write again), and only the one written first reads no one."""
    events = [
        send(tenant, signup(f"p{n}", email="burst@example.com", ip=f"81.2.70.{n + 1}")) for n in range(6)
    ]
    decisions = score_at_once(tenant, events)
    assert sorted(d["action"] for d in decisions) == ["allow"] + ["flag"] * 5
    assert sum("email_duplicate" in reason_codes(d) for d in decisions) == 5


class TestDetectionOnDynamoDB:
    """Issue 16's detection and issue 14's placeholders, through the handlers on moto: the link items
    the DynamoDB store writes are the ones the engine reads back."""

    def test_an_address_one_typo_from_a_partner_s_through_tor_flags(self, aws, tenant):
        _, typo, home = decide(
            aws,
            tenant,
            signup("p1", email="margaret.hamilton@gmail.com"),
            signup(
                "p2", email="margaret.hamiltom@gmail.com", ip=TOR_IP, country="US", at="2026-11-03T09:00:00Z"
            ),
            signup("p3", email="margret.hamilton@gmail.com", at="2026-11-04T09:00:00Z"),
        )
        assert {"email_similar", "ip_suspicious"} <= reason_codes(typo) and typo["action"] == "flag"
        assert "email_similar" in reason_codes(home) and home["action"] == "allow"

    def test_a_placeholder_fingerprint_links_no_one(self, aws, tenant):
        decisions = decide(
            aws,
            tenant,
            *[
                signup(f"p{n}", device="unknown", ip=f"81.2.69.{170 + n}", at=f"2026-11-02T09:0{n}:00Z")
                for n in range(4)
            ],
        )
        assert all(not {"device_shared", "velocity", "cluster"} & reason_codes(d) for d in decisions)

    def test_new_payout_details_then_a_large_reward_flags_the_partner(self, aws, tenant):
        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
        change = sample(
            "account.updated", id="payout-1", occurred_at="2026-11-02T09:00:00Z", activity="payout_update"
        )
        change["partner"] = {"id": "p1", "payout_account": "GB99NEWBANK00000000"}
        bonus = sample("reward.created", id="bonus-1", occurred_at="2026-11-02T20:00:00Z")
        bonus["reward"] = {"id": "r-big", "partner_id": "p1", "amount": "900.00", "currency": "USD"}
        _, decision = decide(aws, tenant, change, bonus)
        assert "unusual_activity" in reason_codes(decision) and decision["action"] == "flag"
        assert status(tenant, "bonus-1")["case_id"]

    @pytest.mark.parametrize("small_before", [0, 12])  # 12: more than its list keeps (the index asked)
    def test_new_payout_details_received_after_the_large_reward_they_preceded_flag_the_partner(
        self, aws, tenant, small_before
    ):
        # received in time order the reward flagged; the other way round neither event did and the
        # 900 USD stayed payable to details set three hours before it (SPEC 4: out of order)
        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
        for n in range(small_before):
            decide(aws, tenant, reward_of("p1", f"small-{n}", f"2026-11-02T10:{n:02d}:00Z", "5.00"))
        bonus, change = reward_of("p1", "bonus-1", "2026-11-02T12:00:00Z"), payout_update("p1", 1, 9)
        rewarded, changed = decide(aws, tenant, bonus, change)
        assert rewarded["action"] == "allow"
        detail = {r["code"]: r["detail"] for r in changed["reasons"]}.get("unusual_activity")
        assert detail == "payout details changed 3 hours before a reward of 900.00 USD", changed
        assert changed["action"] == "flag"
        held = call(
            "cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"partner_id": "p1"})
        )
        assert {r["id"]: r["status"] for r in held.body["items"]}["r-bonus-1"] == "on_hold"

    @pytest.mark.parametrize("held", ["at arrival", "by the customer's later flag"])
    def test_payout_details_received_after_a_large_reward_a_flagged_customers_case_holds_flag_the_partner(
        self, aws, tenant, held
    ):
        # the reward, on hold under its customer's case, was in no list of the partner's holdable
        # rewards: the change found nothing, the partner stayed payable, and the reward went back to
        # `pending` for it once the customer's dispute was approved (SPEC 4: out of order)
        decide(aws, tenant, signup("p1", email="frank.fraud@example.com", at="2026-10-01T08:00:00Z"))
        self_referral = purchase("c1", "p1", email="frank.fraud@example.com", at="2026-11-02T08:00:00Z")
        bonus = reward_of("p1", "bonus-1", "2026-11-02T12:00:00Z")
        bonus["reward"]["customer_id"] = "c1"
        events = [self_referral, bonus] if held == "at arrival" else [bonus, self_referral]
        *_, changed = decide(aws, tenant, *events, payout_update("p1", 1, 11))
        rewards = call(
            "cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"partner_id": "p1"})
        )
        assert {r["id"]: r["status"] for r in rewards.body["items"]}["r-bonus-1"] == "on_hold"
        detail = {r["code"]: r["detail"] for r in changed["reasons"]}.get("unusual_activity")
        assert detail == "payout details changed 60 minutes before a reward of 900.00 USD", changed
        assert changed["action"] == "flag"

    @pytest.mark.parametrize(
        "address",
        [
            {"country": "GB", "city": "London", "lat": 51.5, "lon": -0.12},  # placed by its coordinates
            {"country": "GB", "city": "London", "line1": "1 High St"},  # by the gazetteer
        ],
    )
    def test_a_login_far_from_the_address_given_at_sign_up_is_located_against_it(self, aws, tenant, address):
        # an account change sends only what changed (SPEC 3.1): a login from Sydney was measured
        # against no address at all, unless the event repeated it
        decide(aws, tenant, signup("p1", at="2026-11-01T09:00:00Z", address=address))
        sydney = {"country": "AU", "city": "Sydney", "lat": -33.87, "lon": 151.21}
        logins = decide(
            aws, tenant, *(login_from_sydney("p1", n, moved) for n, moved in enumerate((None, sydney, None)))
        )
        reasons = [{r["code"]: r["detail"] for r in decision["reasons"]} for decision in logins]
        assert reasons[0]["location_far_from_address"].startswith("session located 16,99"), reasons[0]
        assert "location_far_from_address" not in reasons[1]  # the address it moved to
        assert "location_far_from_address" not in reasons[2]  # and kept

    def test_a_move_to_an_address_nothing_places_is_not_located_against_the_one_before(self, aws, tenant):
        # moved to Australia, giving a street and no city: the London of before is not where it lives
        decide(
            aws, tenant, signup("p1", at="2026-11-01T09:00:00Z", address={"country": "GB", "city": "London"})
        )
        street = {"country": "AU", "line1": "1 George St", "postal_code": "2000"}
        decisions = decide(aws, tenant, login_from_sydney("p1", 0, street), login_from_sydney("p1", 1))
        assert not any("location_far_from_address" in reason_codes(d) for d in decisions), decisions
        # a profile change of before the move, repeating London, received late: the move stands
        late = login_from_sydney("p1", 9, {"country": "GB", "city": "London"}, at="2026-11-02T09:00:00Z")
        _, after = decide(aws, tenant, late, login_from_sydney("p1", 5))
        assert "location_far_from_address" not in reason_codes(after), after

    @pytest.mark.parametrize("changes_received", ["in order", "the later first"])
    def test_a_large_reward_between_two_payout_changes_received_after_both_flags(
        self, aws, tenant, changes_received
    ):
        # judged against the last change alone (11:00), the 10:00 reward came before it: nothing
        # flagged and the 900 USD stayed payable to the details set at 09:00
        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
        changes = [
            payout_update("p1", 0, 9, "GB99BANKA0000000000"),
            payout_update("p1", 1, 11, "GB99BANKB0000000000"),
        ]
        if changes_received != "in order":
            changes.reverse()
        *_, rewarded = decide(aws, tenant, *changes, reward_of("p1", "bonus-1", "2026-11-02T10:00:00Z"))
        detail = {r["code"]: r["detail"] for r in rewarded["reasons"]}.get("unusual_activity")
        assert detail == "payout details changed 60 minutes before a reward of 900.00 USD", rewarded
        assert rewarded["action"] == "flag"

    @pytest.mark.parametrize("apart_minutes", [1, 240])
    def test_a_late_large_reward_is_judged_against_the_change_before_it_whatever_toggles_follow(
        self, aws, tenant, apart_minutes
    ):
        # the profile kept the newest four change times: four toggles after a late reward's time
        # (minutes or hours apart, the reward up to two days late) pushed out the change before it
        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
        decide(aws, tenant, payout_update("p1", 0, 10, "GB99BANKB0000000000"))
        toggles = []
        for n in range(5):
            at = datetime(2026, 11, 2, 11, 1, tzinfo=UTC) + timedelta(minutes=n * apart_minutes)
            toggle = payout_update("p1", n + 1, 0, ("GB99BANKA0000000000", "GB99BANKB0000000000")[n % 2])
            toggle["occurred_at"] = at.isoformat().replace("+00:00", "Z")
            toggles.append(toggle)
        *_, rewarded = decide(aws, tenant, *toggles, reward_of("p1", "bonus-1", "2026-11-02T11:00:00Z"))
        detail = {r["code"]: r["detail"] for r in rewarded["reasons"]}.get("unusual_activity")
        assert detail == "payout details changed 60 minutes before a reward of 900.00 USD", rewarded
        assert rewarded["action"] == "flag"

    def test_a_profile_written_before_payout_changes_were_kept_keeps_its_last_change(self, aws, tenant):
        # the first change recorded as the code before kept it (no list): the next change's list
        # began without it, and a reward between the two, received after both, flagged nothing
        import boto3

        from functions.shared.storage import keys

        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
        decide(aws, tenant, payout_update("p1", 0, 9, "GB99BANKA0000000000"))
        boto3.client("dynamodb").update_item(
            TableName=aws.settings.table_name,
            Key={
                "pk": {"S": keys.subject_pk(tenant.program_id, "partner", "p1")},
                "sk": {"S": keys.PROFILE_SK},
            },
            UpdateExpression="REMOVE pcs",
        )
        second, bonus = (
            payout_update("p1", 1, 11, "GB99BANKB0000000000"),
            reward_of("p1", "bonus-1", "2026-11-02T10:00:00Z"),
        )
        *_, rewarded = decide(aws, tenant, second, bonus)
        assert rewarded["action"] == "flag", rewarded

    def test_a_backdated_payout_change_reads_only_the_window_after_it(self, aws, tenant, monkeypatch):
        # more rewards than the list keeps, all weeks after a change dated back: the index was read
        # from the change on, every later reward of the partner, where only 48 hours can matter
        from functions.shared.storage.dynamodb_partners import PartnersDynamo

        decide(aws, tenant, signup("p1", at="2026-01-01T08:00:00Z"))
        for n in range(12):
            decide(aws, tenant, reward_of("p1", f"small-{n}", f"2026-03-{n + 1:02d}T10:00:00Z", "5.00"))
        read: list[int] = []
        real = PartnersDynamo.subject_rewards

        def counted(store, *args, **kwargs):
            found = real(store, *args, **kwargs)
            read.append(len(found))
            return found

        monkeypatch.setattr(PartnersDynamo, "subject_rewards", counted)
        [decision] = decide(aws, tenant, payout_update("p1", 1, 9, day="2026-02-01"))
        assert read == [0] and decision["action"] == "allow", (read, decision)

    def test_new_payout_details_after_a_large_reward_of_before_them_flag_nothing(self, aws, tenant):
        # the reward came first in time too: its money was not sent to the new details by the change
        decide(aws, tenant, signup("p1", at="2026-10-01T08:00:00Z"))
        bonus, change = reward_of("p1", "bonus-1", "2026-11-02T08:00:00Z"), payout_update("p1", 1, 9)
        _, changed = decide(aws, tenant, bonus, change)
        assert "unusual_activity" not in reason_codes(changed) and changed["action"] == "allow"


def login_on(partner: str, n: int, device: str, ip: str = "81.2.69.160"):
    """A login of `partner` on `device`, on day `n` of November."""
    event = sample("account.updated", id=f"login-{partner}-{n}", occurred_at=f"2026-11-{3 + n:02d}T09:00:00Z")
    event.update(activity="login")
    event["partner"] = {"id": partner}
    event["session"] = {"ip": ip, "device_fingerprint": device}
    return event


def test_a_partner_logging_in_on_another_accounts_device_each_time_is_their_group(aws, tenant):
    """SPEC 5.1 `cluster`, 5.3 (a subject's identifiers are all of them): a partner on a new device
    at each login, each device another partner's, shared each with one account (weak, SPEC 5.2) and
    scored 20 at every login, never a group: 60 logins, then its purchase, all allowed. The profile
    keeps the partners its events linked it to (`Subject.linked`): two are a household and an
    office, the third a group."""
    owners = [signup(f"owner-{n}", device=f"fp-owner-{n}", ip=f"81.2.70.{n + 1}") for n in range(4)]
    hub = signup("hub", device="fp-hub", ip="81.2.69.160")
    decide(aws, tenant, *owners, hub)
    logins = decide(aws, tenant, *(login_on("hub", n, f"fp-owner-{n}") for n in range(4)))

    for weak in logins[:2]:
        assert reason_codes(weak) == {"device_shared"} and weak["action"] == "allow", weak
    third = logins[2]
    assert {"device_shared", "cluster"} <= reason_codes(third) and third["action"] == "flag", third
    assert "linked through shared identifiers to 3 accounts" in str(third["reasons"])
    # the group is kept: an event meeting one more account of it is the group's; one on the
    # partner's own device is not (its events are not the group's for good)
    assert "cluster" in reason_codes(logins[3]), logins[3]
    (own, back) = decide(aws, tenant, login_on("hub", 4, "fp-hub"), login_on("hub", 5, "fp-owner-0"))
    assert "cluster" not in reason_codes(own) and "cluster" in reason_codes(back), (own, back)
    profile = raw_item(aws, keys.subject_pk(tenant.program_id, "partner", "hub"), keys.PROFILE_SK)
    kept = [v["S"] for v in profile["lnk"]["L"]]  # each partner met, at the latest time met
    assert kept == [
        "2026-11-04T09:00:00+00:00 partner:owner-1",
        "2026-11-05T09:00:00+00:00 partner:owner-2",
        "2026-11-06T09:00:00+00:00 partner:owner-3",
        "2026-11-08T09:00:00+00:00 partner:owner-0",
    ], kept


def test_partners_met_months_apart_or_after_the_event_make_no_group(aws, tenant):
    """A person's family laptop, a colleague's desk and a friend's tablet are met over months, a
    farm's phones in a burst: those met more than `LINKED_DAYS` before an event are no group with
    it (a tester's ordinary partner was flagged at the tablet, then at every login on the family
    laptop, and its household and colleague after it). Nor are those met after the event's own
    time: a login sent late does not flag the partner from before it met them."""
    owners = [signup(f"friend-{n}", device=f"fp-friend-{n}", ip=f"81.2.72.{n + 1}") for n in range(3)]
    decide(aws, tenant, *owners, signup("sociable", device="fp-sociable", ip="81.2.69.160"))
    months = [login_on("sociable", 0, "fp-friend-0")]
    months[0]["occurred_at"] = "2026-02-03T09:00:00Z"
    months.append(login_on("sociable", 0, "fp-friend-1"))
    months[1].update(id="apr", occurred_at="2026-04-03T09:00:00Z")
    months.append(login_on("sociable", 0, "fp-friend-2"))
    months[2].update(id="aug", occurred_at="2026-08-03T09:00:00Z")
    decided = decide(aws, tenant, *months)
    assert all(d["action"] == "allow" and "cluster" not in reason_codes(d) for d in decided), decided

    # a hub's burst, then a login dated before it, sent last
    farm = [signup(f"phone-{n}", device=f"fp-phone-{n}", ip=f"81.2.73.{n + 1}") for n in range(3)]
    decide(aws, tenant, *farm, signup("late-hub", device="fp-late-hub", ip="81.2.69.161"))
    burst = decide(
        aws, tenant, *(login_on("late-hub", 20 + n, f"fp-phone-{n}", ip="81.2.74.1") for n in range(3))
    )
    assert "cluster" in reason_codes(burst[2]), burst
    early = login_on("late-hub", 0, "fp-phone-0", ip="81.2.74.1")
    early["id"] = "late-sent-early-dated"
    (late,) = decide(aws, tenant, early)
    assert "cluster" not in reason_codes(late), late


def test_partners_met_on_a_connection_or_one_customer_make_no_group(aws, tenant):
    """What the profile keeps is what one person holds: an IP a household or an office shares, or a
    line is given again, links a partner to others at every turn; a customer at the partner's
    device is a self-referral of its own. Two logins, each from another partner's IP, keep no
    one, and the partner is no group."""
    others = [signup(f"ip-owner-{n}", device=f"fp-ip-owner-{n}", ip=f"81.2.71.{n + 1}") for n in range(2)]
    decide(aws, tenant, *others, signup("roamer", device="fp-roamer", ip="81.2.69.160"))
    logins = decide(
        aws, tenant, *(login_on("roamer", n, "fp-roamer", ip=f"81.2.71.{n + 1}") for n in range(2))
    )
    assert all("cluster" not in reason_codes(d) for d in logins), logins
    profile = raw_item(aws, keys.subject_pk(tenant.program_id, "partner", "roamer"), keys.PROFILE_SK)
    assert "lnk" not in profile, profile
