"""Admins manage their program's webhooks (SPEC 6), through the real handler on moto (KMS, SQS,
DynamoDB): the secret shown once and stored sealed, URLs that could reach inside refused with 422
naming `url`, another program's webhook 404, other roles 403, rotation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from functions.shared.domain.webhooks import WEBHOOKS_PER_PROGRAM
from functions.shared.sealing import KmsSealer
from functions.webhooks import wiring
from local_system.webhooks import provision_webhooks
from tests.conftest import Aws, Tenant
from tests.support import Answer, call, proxy_event

PUBLIC_URL = "https://93.184.215.14/hooks/fraud"  # an address literal: no DNS needed


@pytest.fixture
def hooks(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """The webhooks queue, its rule on the bus and the KMS key, in the functions' environment."""
    env = provision_webhooks(
        lambda name: boto3.client(name, region_name="us-east-1"),
        aws.resources.event_bus_name,
        retry_seconds=(1, 1, 60),
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    wiring.forget_webhook_deps()
    yield env
    wiring.forget_webhook_deps()


def api(
    key: str | None, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
) -> Answer:
    return call("webhooks", proxy_event(method, path, body, key, query=query))


def create(
    tenant: Tenant, webhook_id: str = "wh-1", url: str = PUBLIC_URL, events: list[str] | None = None
) -> Answer:
    return api(
        tenant.keys["admin"],
        "PUT",
        f"/v1/webhooks/{webhook_id}",
        {"url": url, "events": events or ["PartnerFlagged"], "enabled": True},
    )


def test_an_admin_creates_a_webhook_whose_secret_is_shown_once_and_stored_sealed(
    aws: Aws, hooks: dict[str, str], tenant: Tenant
):
    # When an admin creates a webhook
    answer = create(tenant, events=["PartnerFlagged", "RewardsHeld", "PartnerFlagged"])

    # Then the answer carries its secret, which no cache may keep
    assert answer.status == 200, answer
    assert answer.headers["cache-control"] == "no-store"
    secret = answer.body["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert answer.body["events"] == ["PartnerFlagged", "RewardsHeld"]  # each once
    assert (answer.body["id"], answer.body["url"], answer.body["enabled"]) == ("wh-1", PUBLIC_URL, True)
    # and a read or a listing never shows it
    read = api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1")
    assert read.status == 200 and read.body["secret"] is None, read
    listing = api(tenant.keys["admin"], "GET", "/v1/webhooks")
    assert [w["id"] for w in listing.body["items"]] == ["wh-1"]
    assert all(w["secret"] is None for w in listing.body["items"])
    # and the table holds it sealed by KMS, not in clear
    raw = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=aws.settings.table_name)["Items"]
    webhook_items = [i for i in raw if i.get("item_type", {}).get("S") == "webhook"]
    assert len(webhook_items) == 1
    assert secret not in repr(raw)
    sealed = webhook_items[0]["sealed_secret"]["S"]
    assert sealed and secret.encode() not in sealed.encode()


def test_saving_again_changes_the_webhook_and_keeps_its_secret(
    aws: Aws, hooks: dict[str, str], tenant: Tenant
):
    first = create(tenant).body
    again = api(
        tenant.keys["admin"],
        "PUT",
        "/v1/webhooks/wh-1",
        {"url": PUBLIC_URL + "/v2", "events": ["DisputeOpened"], "enabled": False},
    )
    assert again.status == 200, again
    assert again.body["secret"] is None  # shown once: at creation
    assert (again.body["url"], again.body["events"], again.body["enabled"]) == (
        PUBLIC_URL + "/v2",
        ["DisputeOpened"],
        False,
    )
    stored = wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-1")
    assert stored.secret == first["secret"]


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hook",  # private
        "https://192.168.1.20/hook",
        "https://172.16.0.1/hook",
        "https://127.0.0.1/hook",  # loopback over https
        "https://169.254.169.254/latest/meta-data",  # link-local: the instance metadata service
        "https://100.64.0.1/hook",  # shared address space
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
        "http://93.184.215.14/hook",  # not https
        "http://127.0.0.2:8080/hook",  # only http://127.0.0.1, and only locally
        "ftp://93.184.215.14/hook",
        "https://user:password@93.184.215.14/hook",
        "https:///no-host",
        "not a url",
    ],
)
def test_a_url_that_could_reach_inside_is_refused_with_422_naming_url_and_nothing_is_saved(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, url: str
):
    answer = create(tenant, url=url)
    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["url"]
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1").status == 404


def test_a_host_name_that_resolves_to_a_private_address_is_refused(
    aws: Aws, hooks: dict[str, str], tenant: Tenant
):
    # `localhost` resolves to loopback on every machine: no DNS server needed to prove the check
    answer = create(tenant, url="https://localhost/hook")
    assert answer.status == 422, answer
    assert answer.body["errors"][0]["field"] == "url"
    message = answer.body["errors"][0]["message"]
    assert "the host localhost does not resolve to public addresses" in message
    # never what it resolves to: the answer would map the deployment's private names
    assert "127.0.0.1" not in repr(answer.body) and "::1" not in repr(answer.body)


def test_a_loopback_http_receiver_is_allowed_only_where_the_local_system_allows_it(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    assert create(tenant, "local", url="http://127.0.0.1:9999/hook").status == 200
    monkeypatch.setenv("WEBHOOKS_ALLOW_LOOPBACK_HTTP", "false")  # as deployed
    refused = create(tenant, "deployed", url="http://127.0.0.1:9999/hook")
    assert refused.status == 422, refused
    assert refused.body["errors"][0]["field"] == "url"


def test_bad_bodies_are_refused_naming_the_field(aws: Aws, hooks: dict[str, str], tenant: Tenant):
    admin = tenant.keys["admin"]
    unknown = api(admin, "PUT", "/v1/webhooks/wh-1", {"url": PUBLIC_URL, "events": ["Everything"]})
    assert unknown.status == 422 and unknown.body["errors"][0]["field"].startswith("events"), unknown
    empty = api(admin, "PUT", "/v1/webhooks/wh-1", {"url": PUBLIC_URL, "events": []})
    assert empty.status == 422 and empty.body["errors"][0]["field"] == "events", empty
    # in words, not pydantic's "List should have at least 1 item after validation, not 0"
    assert empty.body["errors"][0]["message"] == "at least 1 item, not 0", empty
    missing = api(admin, "PUT", "/v1/webhooks/wh-1", {"events": ["PartnerFlagged"]})
    assert missing.status == 422 and missing.body["errors"][0]["field"] == "url", missing
    extra = api(
        admin, "PUT", "/v1/webhooks/wh-1", {"url": PUBLIC_URL, "events": ["PartnerFlagged"], "secret": "x"}
    )
    assert extra.status == 422, extra
    loose = api(
        admin,
        "PUT",
        "/v1/webhooks/wh-1",
        {"url": PUBLIC_URL, "events": ["PartnerFlagged"], "enabled": "false"},
    )
    assert loose.status == 422 and loose.body["errors"][0]["field"] == "enabled", loose  # a text is not false
    assert api(admin, "GET", "/v1/webhooks").body["items"] == []


def test_only_admins_manage_webhooks(aws: Aws, hooks: dict[str, str], tenant: Tenant):
    create(tenant)
    for role in ("fraud", "viewer", "integration"):
        assert api(tenant.keys[role], "GET", "/v1/webhooks").status == 403
        assert (
            api(
                tenant.keys[role], "PUT", "/v1/webhooks/wh-2", {"url": PUBLIC_URL, "events": ["RewardsHeld"]}
            ).status
            == 403
        )
        assert api(tenant.keys[role], "POST", "/v1/webhooks/wh-1/rotate-secret").status == 403
    assert api(None, "GET", "/v1/webhooks").status == 401


def test_another_programs_webhook_is_404_and_untouched(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, other_tenant: Tenant
):
    create(tenant)
    other = other_tenant.keys["admin"]
    assert api(other, "GET", "/v1/webhooks/wh-1").status == 404
    assert api(other, "DELETE", "/v1/webhooks/wh-1").status == 404
    assert api(other, "POST", "/v1/webhooks/wh-1/rotate-secret").status == 404
    assert api(other, "GET", "/v1/webhooks/wh-1/deliveries").status == 404
    assert api(other, "POST", "/v1/webhooks/wh-1/deliveries/dlv_0123/retry").status == 404
    assert api(other, "GET", "/v1/webhooks").body["items"] == []
    # the same id in the other program is that program's own webhook
    assert create(other_tenant, url=PUBLIC_URL + "/b").status == 200
    mine = api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1").body
    assert mine["url"] == PUBLIC_URL


def test_rotating_gives_a_new_secret_and_keeps_the_old_one_for_24_hours(
    aws: Aws, hooks: dict[str, str], tenant: Tenant
):
    first = create(tenant).body["secret"]
    before = datetime.now(UTC)
    rotated = api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-1/rotate-secret")
    assert rotated.status == 200, rotated
    assert rotated.headers["cache-control"] == "no-store"
    new = rotated.body["secret"]
    assert new.startswith("whsec_") and new != first
    until = datetime.fromisoformat(rotated.body["previous_secret_valid_until"])
    assert before + timedelta(hours=24) <= until <= datetime.now(UTC) + timedelta(hours=24)
    stored = wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-1")
    assert stored.secrets_at(until - timedelta(seconds=1)) == [new, first]
    assert stored.secrets_at(until) == [new]
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1").body["secret"] is None


def test_a_second_rotation_keeps_the_first_retired_secret_signing_and_a_tenth_is_refused(
    aws: Aws, hooks: dict[str, str], tenant: Tenant
):
    from functions.shared.domain.webhooks import RETIRED_SECRETS_SIGNING

    secrets = [create(tenant).body["secret"]]
    for _ in range(RETIRED_SECRETS_SIGNING):
        rotated = api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-1/rotate-secret")
        assert rotated.status == 200, rotated
        secrets.insert(0, rotated.body["secret"])
    stored = wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-1")
    assert stored.secrets_at(datetime.now(UTC)) == secrets  # every one still within its 24 hours
    refused = api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-1/rotate-secret")
    assert refused.status == 409, refused
    assert "next rotation is possible from" in refused.body["detail"]
    assert wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-1").secret == secrets[0]


def test_a_program_has_at_most_the_webhooks_the_cap_allows_and_changing_one_stays_allowed(
    aws: Aws, hooks: dict[str, str], tenant: Tenant
):
    # Given a program with as many webhooks as it may have (all to one URL)
    for n in range(WEBHOOKS_PER_PROGRAM):
        assert create(tenant, f"wh-{n}").status == 200
    # When one more is made, it is refused, naming the limit, and not saved
    refused = create(tenant, "one-too-many")
    assert refused.status == 409, refused
    assert refused.headers["content-type"] == "application/problem+json"
    assert f"the most a program may have is {WEBHOOKS_PER_PROGRAM}" in refused.body["detail"]
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/one-too-many").status == 404
    assert len(api(tenant.keys["admin"], "GET", "/v1/webhooks").body["items"]) == WEBHOOKS_PER_PROGRAM
    # Then changing an existing one is still allowed, and deleting one makes room
    changed = create(tenant, "wh-0", url=PUBLIC_URL + "/v2", events=["RewardsHeld"])
    assert changed.status == 200 and changed.body["url"] == PUBLIC_URL + "/v2", changed
    assert api(tenant.keys["admin"], "DELETE", "/v1/webhooks/wh-1").status == 204
    assert create(tenant, "one-more").status == 200
    assert create(tenant, "and-another").status == 409


def test_listing_reading_and_changing_webhooks_opens_no_secret(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, monkeypatch: pytest.MonkeyPatch
):
    """Each read opened every secret of every webhook (a KMS Decrypt each, two with retired ones),
    though none is shown: only signing and rotating need them."""
    for n in range(3):
        create(tenant, f"wh-{n}")
    assert api(tenant.keys["admin"], "POST", "/v1/webhooks/wh-0/rotate-secret").status == 200
    calls: list[str] = []
    seal, open_ = KmsSealer.seal, KmsSealer.open
    monkeypatch.setattr(KmsSealer, "seal", lambda self, *a: calls.append("encrypt") or seal(self, *a))
    monkeypatch.setattr(KmsSealer, "open", lambda self, *a: calls.append("decrypt") or open_(self, *a))
    admin = tenant.keys["admin"]

    assert len(api(admin, "GET", "/v1/webhooks").body["items"]) == 3
    assert api(admin, "GET", "/v1/webhooks/wh-0").status == 200
    assert create(tenant, "wh-0", url=PUBLIC_URL + "/v2").status == 200  # its secrets written back sealed
    assert api(admin, "GET", "/v1/webhooks/wh-0/deliveries").status == 200
    assert calls == []

    # a rotation opens them (once each) and seals the new ones, which still verify as before
    assert api(admin, "POST", "/v1/webhooks/wh-0/rotate-secret").status == 200
    assert calls.count("decrypt") == 2 and calls.count("encrypt") == 2
    stored = wiring.webhook_deps().store.get_webhook(tenant.program_id, "wh-0")
    assert len(stored.secrets_at(datetime.now(UTC))) == 3


def test_deleting_a_webhook(aws: Aws, hooks: dict[str, str], tenant: Tenant):
    create(tenant)
    assert api(tenant.keys["admin"], "DELETE", "/v1/webhooks/wh-1").status == 204
    assert api(tenant.keys["admin"], "GET", "/v1/webhooks/wh-1").status == 404
    assert api(tenant.keys["admin"], "DELETE", "/v1/webhooks/wh-1").status == 404


def test_a_webhooks_deliveries_page_newest_first_to_the_oldest_and_a_cursor_is_the_webhooks_own(
    aws: Aws, hooks: dict[str, str], tenant: Tenant, other_tenant: Tenant
):
    # at most 100 were listed, and `cursor` was ignored: older deliveries could not be reached
    from functions.shared.domain.webhooks import Delivery

    admin = tenant.keys["admin"]
    create(tenant)
    create(tenant, "wh-2")
    store = wiring.webhook_deps().store
    made = store.get_webhook(tenant.program_id, "wh-1").created_at
    for n in range(7):
        at = made + timedelta(seconds=n // 2)  # two by two at one time: the id orders them
        store.create_delivery(
            Delivery(tenant.program_id, "wh-1", f"dlv_{n}", f"n-{n}", "PartnerFlagged", at, "{}")
        )

    seen: list[str] = []
    cursor = None
    for _ in range(4):
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = api(admin, "GET", "/v1/webhooks/wh-1/deliveries", query=query)
        assert page.status == 200, page
        seen += [d["id"] for d in page.body["items"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["dlv_6", "dlv_5", "dlv_4", "dlv_3", "dlv_2", "dlv_1", "dlv_0"]

    first = api(admin, "GET", "/v1/webhooks/wh-1/deliveries", query={"limit": "3"}).body["next_cursor"]
    deliveries = "/v1/webhooks/{}/deliveries"
    assert api(admin, "GET", deliveries.format("wh-2"), query={"cursor": first}).status == 422  # another's
    assert api(admin, "GET", deliveries.format("wh-1"), query={"cursor": "zzz"}).status == 422
    other = other_tenant.keys["admin"]
    assert api(other, "GET", deliveries.format("wh-1"), query={"cursor": first}).status == 404
