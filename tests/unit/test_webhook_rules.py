"""The webhook rules on their own (functions/shared/domain/webhooks.py): delivery ids, signatures,
the retry schedule and its horizon, 410, which URLs may be called."""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from functions.shared.domain.webhooks import (
    ATTEMPTS_KEPT,
    SILENT_AFTER,
    WEBHOOKS_PER_PROGRAM,
    Delivery,
    OpenSecrets,
    ProgramWebhooks,
    RetrySchedule,
    Secrets,
    Silence,
    Slowness,
    UrlRefused,
    Webhook,
    after_attempt,
    check_url,
    delivery_id,
    held_back,
    is_public,
    no_longer_subscribed,
    paused_wait,
    retried_by_hand,
    signature_header,
)
from functions.shared.errors import Conflict

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = RetrySchedule(base_seconds=30, max_seconds=3 * 3600, horizon_seconds=24 * 3600)


def hook_with(secret: str, webhook_id: str = "wh") -> Webhook:
    return Webhook("p", webhook_id, "https://x", ("PartnerFlagged",), True, T0, T0, Secrets.clear(secret))


def delivery() -> Delivery:
    return Delivery("p", "wh", delivery_id("wh", "n"), "n", "PartnerFlagged", T0, "{}", next_attempt_at=T0)


def test_a_delivery_id_is_stable_per_webhook_and_notification():
    assert delivery_id("wh-1", "n-1") == delivery_id("wh-1", "n-1")
    assert len({delivery_id("wh-1", "n-1"), delivery_id("wh-2", "n-1"), delivery_id("wh-1", "n-2")}) == 3


def test_the_signature_is_the_inbound_scheme_with_one_v1_per_secret():
    body = b'{"id":"dlv_1"}'
    header = signature_header(["s-new", "s-old"], body, T0)
    t = int(T0.timestamp())
    expected = [
        hmac.new(s.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest() for s in ("s-new", "s-old")
    ]
    assert header == f"t={t},v1={expected[0]},v1={expected[1]}"


def test_the_old_secret_signs_for_24_hours_after_a_rotation():
    hook = hook_with("old").rotated("new", T0)
    assert hook.secrets_at(T0 + timedelta(hours=23, minutes=59)) == ["new", "old"]
    assert hook.secrets_at(T0 + timedelta(hours=24)) == ["new"]


def test_every_secret_retired_in_the_last_24_hours_keeps_signing_until_its_own_end():
    # a second rotation within the 24 hours used to end the first secret at once, though the
    # first rotation's answer had promised it 24 hours
    hook = hook_with("s0")
    hook = hook.rotated("s1", T0).rotated("s2", T0 + timedelta(hours=1))
    assert hook.secrets_at(T0 + timedelta(hours=23)) == ["s2", "s1", "s0"]
    assert hook.secrets_at(T0 + timedelta(hours=24)) == ["s2", "s1"]
    assert hook.secrets_at(T0 + timedelta(hours=25)) == ["s2"]
    later = hook.rotated("s3", T0 + timedelta(hours=24))  # the ended one is forgotten
    assert [r.secret for r in later.retired] == ["s2", "s1"]


def test_a_rotation_beyond_the_retired_secrets_that_may_sign_is_refused_and_says_when():
    from functions.shared.domain.webhooks import RETIRED_SECRETS_SIGNING

    hook = hook_with("s0")
    for n in range(1, RETIRED_SECRETS_SIGNING + 1):
        hook = hook.rotated(f"s{n}", T0 + timedelta(minutes=n))
    with pytest.raises(Conflict, match="possible from 2026-12-02T12:01:00Z"):
        hook.rotated("one too many", T0 + timedelta(hours=2))
    assert len(hook.secrets_at(T0 + timedelta(hours=2))) == RETIRED_SECRETS_SIGNING + 1
    late = hook_with("s0")
    for n in range(1, RETIRED_SECRETS_SIGNING + 1):
        late = late.rotated(f"s{n}", T0 + timedelta(minutes=n, microseconds=35))
    with pytest.raises(Conflict, match="possible from 2026-12-02T12:01:01Z"):  # rounded up, not down
        late.rotated("one too many", T0 + timedelta(hours=2))
    again = hook.rotated("next", T0 + timedelta(hours=24, minutes=1))  # once the oldest ended
    assert again.secrets_at(T0 + timedelta(hours=24, minutes=1))[:2] == [
        "next",
        f"s{RETIRED_SECRETS_SIGNING}",
    ]


def test_backoff_grows_exponentially_with_jitter_and_is_capped():
    lows = [DAY.wait_after(n, lambda a, b: a) for n in range(1, 12)]
    highs = [DAY.wait_after(n, lambda a, b: b) for n in range(1, 12)]
    assert highs[:4] == [30, 60, 120, 240]
    assert all(low == high / 2 for low, high in zip(lows, highs, strict=True))
    assert max(highs) == 3 * 3600


def test_tries_go_on_for_24_hours_then_the_delivery_fails():
    d = delivery()
    at = T0
    while d.status == "pending":
        d = after_attempt(d, 500, at, DAY, rng=lambda a, b: b)
        assert d.next_attempt_at is None or d.next_attempt_at <= T0 + timedelta(hours=24)
        at = d.next_attempt_at or at
    assert d.status == "failed" and d.attempts[-1].outcome == "failed"
    assert d.attempts[-1].at <= T0 + timedelta(hours=24) < d.attempts[-1].at + timedelta(hours=3, seconds=1)
    assert 10 <= d.tries <= 20


@pytest.mark.parametrize("waits", ["longest", "shortest", "seeded"])
def test_with_the_deployed_schedule_the_last_try_is_24_hours_after_the_first_then_failed(waits: str):
    # SPEC 6: retried for 24 hours, then failed; the backoff's next try past the horizon ended the
    # delivery at once, its last try 21 to 23 hours after the first
    from functions.webhooks.settings import WebhookSettings

    deployed = WebhookSettings(queue_url="q", kms_key_id="k").schedule
    rng = {"longest": lambda a, b: b, "shortest": lambda a, b: a, "seeded": random.Random(1).uniform}[waits]
    d, at = delivery(), T0
    while True:
        d = after_attempt(d, 500, at, deployed, rng)
        if d.status != "pending":
            break
        at = d.next_attempt_at
    assert (d.status, d.attempts[-1].outcome) == ("failed", "failed")
    assert d.attempts[-1].at == T0 + timedelta(hours=24)
    assert d.attempts[-2].at < T0 + timedelta(hours=24)
    late = after_attempt(delivery(), 500, T0, deployed)  # a try run late, past the horizon: failed
    assert after_attempt(late, 500, T0 + timedelta(hours=24, seconds=5), deployed).status == "failed"


def test_a_2xx_delivers_a_410_gives_up_no_answer_retries():
    assert after_attempt(delivery(), 204, T0, DAY).status == "delivered"
    gone = after_attempt(delivery(), 410, T0, DAY)
    assert (gone.status, gone.attempts[-1].outcome) == ("failed", "gone")
    silent = after_attempt(delivery(), None, T0, DAY, rng=lambda a, b: a)
    assert (silent.status, silent.next_attempt_at) == ("pending", T0 + timedelta(seconds=15))
    assert after_attempt(delivery(), 302, T0, DAY).status == "pending"  # a redirect is not followed


def test_a_retry_by_hand_reopens_with_a_new_horizon():
    failed = after_attempt(delivery(), 410, T0, DAY)
    later = T0 + timedelta(days=3)
    reopened = retried_by_hand(failed, later, DAY)
    assert (reopened.status, reopened.next_attempt_at, reopened.horizon) == (
        "pending",
        later,
        later + timedelta(days=1),
    )
    assert reopened.delivery_id == failed.delivery_id and reopened.tries == 1


def test_a_delivery_retried_by_hand_without_end_keeps_its_latest_attempts_and_counts_them_all():
    # a script retrying one delivery a thousand times against a receiver that answers 500: each
    # retry starts another day of tries; the delivery kept every attempt, past DynamoDB's 400 KB
    d, at = delivery(), T0
    for _ in range(1000):
        d = after_attempt(retried_by_hand(d, at, DAY), 500, at, DAY, rng=lambda a, b: a)
        at += timedelta(seconds=1)

    assert d.tries == 1000 and len(d.attempts) == ATTEMPTS_KEPT
    assert [a.number for a in d.attempts] == list(range(1000 - ATTEMPTS_KEPT + 1, 1001))
    assert d.attempts[-1].at == at - timedelta(seconds=1)  # the latest kept
    assert after_attempt(d, 204, at, DAY).attempts[-1].number == 1001  # numbered on from there


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("10.1.2.3", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:192.168.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("fd12::1", False),
        # IPv6 forms that carry an IPv4 address a gateway takes them to: judged as that address
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 to the metadata service
        ("64:ff9b::10.0.0.1", False),
        ("64:ff9b::808:808", True),  # NAT64 to a public address
        ("2002:7f00:1::1", False),  # 6to4 of 127.0.0.1
        ("2002:c0a8:1::1", False),  # 6to4 of 192.168.0.1
        ("2002:5db8:d70e::1", True),  # 6to4 of a public address
        ("::ffff:0:7f00:1", False),  # IPv4-translated 127.0.0.1
        ("::127.0.0.1", False),  # IPv4-compatible (deprecated): never
        ("::93.184.215.14", False),
        ("64:ff9b:1::808:808", False),  # NAT64 local-use prefix: never
        # what Python's `is_global` takes for global but no web server is (a tester's SSRF finds)
        ("fec0::1", False),  # IPv6 site-local (deprecated private use)
        ("fec0:0:0:ffff::1", False),
        ("5f00::1", False),  # outside 2000::/3, IPv6's global unicast: reserved by the IETF
        ("100:0:0:1::1", False),
        ("4000::1", False),
        ("c000::1", False),
        ("192.0.0.8", False),  # IETF protocol assignments (Python before 3.11.10 says global)
        ("192.0.0.100", False),
        ("240.0.0.1", False),  # reserved
        ("3fff:0:1::1", False),  # documentation (RFC 9637)
        ("2001:db8::1", False),  # documentation (RFC 3849)
        ("not-an-ip", False),
    ],
)
def test_public_addresses(address: str, public: bool):
    assert is_public(address) is public


def test_every_resolved_address_must_be_public():
    def resolver(answers: list[str]):
        return lambda host, port: answers

    target = check_url("https://hooks.example.com:8443/in?x=1", resolver(["93.184.215.14"]))
    assert (target.host, target.port, target.path, target.addresses) == (
        "hooks.example.com",
        8443,
        "/in?x=1",
        ("93.184.215.14",),
    )
    with pytest.raises(UrlRefused, match="does not resolve to public addresses"):
        check_url("https://hooks.example.com/", resolver(["93.184.215.14", "10.0.0.1"]))
    with pytest.raises(UrlRefused, match="does not resolve"):
        check_url("https://hooks.example.com/", resolver([]))

    def failing(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(UrlRefused, match="does not resolve"):
        check_url("https://nowhere.example/", failing)


@pytest.mark.parametrize("host", ["a..example.com", ".example.com", "x" * 64 + ".example.com"])
def test_a_host_no_dns_label_can_be_is_refused_not_a_fault(host: str):
    from functions.webhooks.outside import resolve  # the real resolver: idna refuses the name

    with pytest.raises(UrlRefused, match="does not resolve"):
        check_url(f"https://{host}/hook", resolve)


def test_a_refusal_never_says_what_a_host_resolves_to_nor_whether_it_resolves():
    """The 422 answered an admin's question about the deployment's DNS: `db.internal` resolves to
    10.1.2.3. A private answer, a mixed one and none at all now read the same."""

    def refusal(resolve) -> str:
        with pytest.raises(UrlRefused) as refused:
            check_url("https://db.internal/hook", resolve)
        return str(refused.value)

    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such host")

    private = refusal(lambda host, port: ["10.1.2.3"])
    assert "10.1.2.3" not in private and "db.internal" in private
    assert refusal(lambda host, port: ["93.184.215.14", "10.1.2.3"]) == private
    assert refusal(lambda host, port: []) == refusal(nowhere) == private
    # an address in the URL itself is named: it tells the caller nothing it did not write
    with pytest.raises(UrlRefused, match="10.0.0.7 is not a public address"):
        check_url("https://10.0.0.7/hook", lambda host, port: ["10.0.0.7"])


def test_plain_http_only_to_127_0_0_1_and_only_when_allowed():
    never = lambda host, port: pytest.fail("an http URL is never resolved")  # noqa: E731
    assert check_url("http://127.0.0.1:8081/h", never, allow_loopback_http=True).addresses == ("127.0.0.1",)
    for url in ("http://127.0.0.1:8081/h", "http://localhost/h", "http://93.184.215.14/h"):
        with pytest.raises(UrlRefused):
            check_url(url, never, allow_loopback_http=url.endswith("localhost/h"))


@pytest.mark.parametrize(
    "url",
    [
        "https://1.1.1.1/\r\nX-Injected: 1",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\tin",
        "https://hooks.example.com/caf\u00e9",
        "https://b\u00fccher.example/",
        "https://hooks.example.com/\x00",
        "https://1.1.1.1:0/",
    ],
    ids=["line-break", "blank", "tab", "non-ascii-path", "non-ascii-host", "nul", "port-0"],
)
def test_a_url_no_request_could_be_sent_to_is_refused_when_saved(url):
    # accepted, each try failed without an answer code for 24 hours; now the save says why
    public = lambda host, port: ["93.184.215.14"]  # noqa: E731
    with pytest.raises(UrlRefused):
        check_url(url, public)
    assert check_url("https://hooks.example.com/caf%C3%A9?q=a%20b", public).path == "/caf%C3%A9?q=a%20b"


def test_a_program_may_have_a_bounded_number_of_webhooks():
    """150 webhooks to one URL made one flag 300 deliveries, each retried for a day."""
    hooks = tuple(hook_with("s", f"wh-{n}") for n in range(WEBHOOKS_PER_PROGRAM - 1))
    creation = ProgramWebhooks("p", hooks, made=40).create(hook_with("s", "last"))
    assert (creation.webhook.webhook_id, creation.made_before) == ("last", 40)
    full = ProgramWebhooks("p", (*hooks, creation.webhook), made=41)
    with pytest.raises(Conflict, match=f"the most a program may have is {WEBHOOKS_PER_PROGRAM}"):
        full.create(hook_with("s", "one-too-many"))


def test_a_410_disables_only_the_webhook_the_try_read():
    read = hook_with("s")
    disabling = read.gone(T0)
    assert disabling.applies_to(read)
    disabled = disabling.applied_to(read)
    assert (disabled.enabled, disabled.disabled_reason) == (False, "the receiver answered 410 Gone")
    assert disabled.updated_at > read.updated_at  # its version moves on, even within one clock tick
    later = T0 + timedelta(seconds=1)
    re_pointed = replace(read, url="https://new.example/in", updated_at=later)
    made_again = replace(read, created_at=later, updated_at=later)
    for changed in (re_pointed, made_again, disabled, replace(read, enabled=False)):
        assert not disabling.applies_to(changed)


def test_a_webhooks_secrets_are_opened_only_to_sign_or_rotate():
    opened: list[int] = []

    def opener() -> OpenSecrets:
        opened.append(1)
        return OpenSecrets("whsec_now")

    hook = replace(hook_with("unused"), secrets=Secrets(opener))
    changed = replace(hook, url="https://new.example/in", enabled=False)
    assert (changed.wants("PartnerFlagged"), hook.gone(T0).applies_to(hook)) == (False, True)
    assert opened == []
    assert hook.secrets_at(T0) == ["whsec_now"] and hook.secrets_at(T0) == ["whsec_now"]
    assert len(opened) == 1  # once per read, however often it signs


def test_a_disabled_webhooks_delivery_looks_again_at_most_every_15_minutes_and_stops_at_its_horizon():
    made, least, most = delivery(), (lambda a, b: a), (lambda a, b: b)
    # what SQS can delay a message, not the 3 hours between tries, less up to a first retry's wait
    assert (paused_wait(made, T0, DAY, least), paused_wait(made, T0, DAY, most)) == (900, 870)
    local = RetrySchedule(1, 4, 300)  # `make run`'s seconds
    assert (paused_wait(made, T0, local, least), paused_wait(made, T0, local, most)) == (4, 3)
    assert paused_wait(made, T0 + timedelta(hours=24) - timedelta(seconds=10), DAY) == 10  # not past it
    assert paused_wait(made, T0 + timedelta(hours=24), DAY) is None  # its horizon: it stops
    again = retried_by_hand(made, T0 + timedelta(hours=30), DAY)  # a retry by hand's own 24 hours
    assert paused_wait(again, T0 + timedelta(hours=30), DAY, least) == 900


def test_a_delivery_is_no_longer_subscribed_to_only_once_its_notification_left_the_webhooks_events():
    hook = hook_with("s")
    assert no_longer_subscribed(hook, delivery()) is None
    assert no_longer_subscribed(replace(hook, enabled=False), delivery()) is None  # disabled: it waits
    unsubscribed = replace(hook, events=("RewardsHeld",))
    why = no_longer_subscribed(unsubscribed, delivery())
    assert why == "the webhook no longer subscribes to PartnerFlagged"


def test_a_pending_delivery_says_what_holds_it_back_as_its_webhook_stands():
    """Waiting tries write nothing (a backlog of them would be a write each, every few seconds), so
    a waiting delivery was listed `pending` with a `next_attempt_at` long past and no word of why."""
    hook, pending = hook_with("whsec_" + "a" * 32), delivery()
    silent = Silence(T0, T0 + timedelta(minutes=5), SILENT_AFTER, T0 + timedelta(seconds=30))
    slow = Slowness(T0, T0)

    assert held_back(hook, pending) is None
    assert held_back(replace(hook, slow=slow), pending) == "receiver_slow"
    assert held_back(replace(hook, slow=slow, silence=silent), pending) == "receiver_silent"
    assert held_back(replace(hook, silence=replace(silent, missed=1)), pending) is None  # not silent yet
    assert held_back(replace(hook, enabled=False, silence=silent), pending) == "webhook_disabled"
    unsubscribed = replace(hook, events=("RewardsHeld",), enabled=False)
    assert held_back(unsubscribed, pending) == "no_longer_subscribed"  # what its next try does first
    for settled in ("delivered", "failed"):
        assert held_back(unsubscribed, replace(pending, status=settled)) is None
