"""POST /v1/events and GET /v1/events/{id} through the real ingest handler against moto."""

from __future__ import annotations

import base64
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from functions.shared.auth import sign
from functions.shared.errors import Conflict
from functions.shared.partner_events import SYSTEMS_ID_PREFIXES, PartnerEvent
from tests.conftest import make_tenant
from tests.support import call, proxy_event, sample

EVENT_TYPES = ["partnership.created", "account.updated", "transaction.created", "reward.created"]


def post(body, key, headers=None):
    return call("ingest", proxy_event("POST", "/v1/events", body, key, headers))


def get(event_id, key):
    return call("ingest", proxy_event("GET", f"/v1/events/{event_id}", None, key))


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_each_event_type_is_accepted_recorded_and_queued(aws, tenant, event_type):
    event = sample(event_type)

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 202, answer
    assert answer.body == {"event_id": event["id"], "status": "queued"}
    stored = aws.repository.get_event(tenant.program_id, event["id"])
    assert stored.type == event_type
    queued = [json.loads(m["Body"]) for m in aws.queued()]
    assert queued == [{"program_id": tenant.program_id, "event_id": event["id"]}]


def test_get_answers_status_of_an_accepted_event(aws, tenant):
    event = sample("transaction.created")
    post(event, tenant.keys["integration"])

    answer = get(event["id"], tenant.keys["integration"])

    assert answer.status == 200
    assert answer.body["event_id"] == event["id"]
    assert answer.body["type"] == "transaction.created"
    assert answer.body["status"] == "queued"
    assert answer.body["decision"] is None


def test_amounts_are_kept_exact(aws, tenant):
    event = sample("reward.created")
    event["reward"]["amount"] = 0.1
    post(event, tenant.keys["integration"])

    stored = aws.repository.get_event(tenant.program_id, event["id"])

    assert str(stored.body["reward"]["amount"]) == "0.1"


def test_retry_with_same_body_answers_the_same_and_records_once(aws, tenant):
    event = sample("partnership.created")
    first = post(event, tenant.keys["integration"])
    # the same document with its keys in another order is the same body
    reordered = dict(reversed(list(event.items())))
    second = post(reordered, tenant.keys["integration"])

    assert first.status == second.status == 202
    assert first.body == second.body
    assert len(aws.queued()) == 1


def test_a_retry_that_writes_a_number_otherwise_or_sends_null_for_an_absent_field_is_the_same_body(
    aws, tenant
):
    # SPEC 3.1: a retry is the same document; another serializer writes 100 as 100.0 or 1e2, and
    # an optional field it has no value for as null
    event = sample("transaction.created", id="evt-reserialized")
    event["transaction"]["amount"] = 100
    event["customer"].pop("country", None)
    first = post(json.dumps(event), tenant.keys["integration"])
    assert first.status == 202, first
    for amount in ("100.0", "1e2", "100.000"):
        text = json.dumps({**event, "customer": {**event["customer"], "country": None}})
        retried = post(text.replace('"amount": 100,', f'"amount": {amount},'), tenant.keys["integration"])
        assert retried.status == 202, (amount, retried)
        assert retried.body == first.body
    assert len(aws.queued()) == 1
    # a text is not a number: another body
    text = json.dumps(event).replace('"amount": 100,', '"amount": "100",')
    assert post(text, tenant.keys["integration"]).status == 409


def test_a_retry_of_an_event_stored_under_the_former_hash_is_still_the_same_body(aws, tenant):
    # stored before bodies were compared as documents: the hash of its text in sorted keys
    from dataclasses import replace

    from functions.shared.documents import legacy_hash
    from functions.shared.domain.model import StoredEvent

    event = sample("reward.created", id="evt-stored-before")
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    stored = StoredEvent(tenant.program_id, event["id"], event["type"], event, legacy_hash(event), at, at)
    aws.repository.record_event(replace(stored))

    again = post(event, tenant.keys["integration"])

    assert again.status == 202, again
    changed = {**event, "reward": {**event["reward"], "amount": "1.00"}}
    assert post(changed, tenant.keys["integration"]).status == 409


def test_an_empty_list_is_part_of_the_body_where_it_clears_a_list(aws, tenant):
    # an account update's `keys: []` clears the partner's referral keys, `keys` left out changes
    # nothing: the same id with the one and then the other is another body, not a retry
    event = sample("account.updated", id="upd-keys", activity="profile_update")
    event["partner"] = {"id": "p-keys"}
    assert post(event, tenant.keys["integration"]).status == 202

    cleared = {**event, "partner": {"id": "p-keys", "keys": []}}

    assert post(cleared, tenant.keys["integration"]).status == 409


def test_same_id_with_another_body_is_409_and_changes_nothing(aws, tenant):
    event = sample("reward.created")
    post(event, tenant.keys["integration"])
    changed = sample("reward.created")
    changed["reward"]["amount"] = "999.00"

    answer = post(changed, tenant.keys["integration"])

    assert answer.status == 409
    assert answer.headers["content-type"] == "application/problem+json"
    assert "different body" in answer.body["detail"]
    assert str(aws.repository.get_event(tenant.program_id, event["id"]).body["reward"]["amount"]) == "12.50"


def test_concurrent_duplicate_accepts_record_one_event(aws, tenant):
    """Lambdas run in parallel processes; here threads race the real service on the real adapter,
    so only the table's conditional write can keep one winner."""
    from functions.ingest import service
    from functions.shared import runtime

    deps = runtime.dependencies()
    event = sample("transaction.created")
    other = sample("transaction.created")
    other["transaction"]["amount"] = "1.00"
    bodies = [event] * 12 + [other] * 4

    def accept(body):
        parsed = TypeAdapter(PartnerEvent).validate_python(body)
        try:
            service.accept_event(deps, tenant.program_id, parsed.id, parsed.type, parsed.occurred_at, body)
            return 202
        except Conflict:
            return "Conflict"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(accept, bodies))

    stored = aws.repository.get_event(tenant.program_id, event["id"])
    winner = event if str(stored.body["transaction"]["amount"]) == "249.99" else other
    assert outcomes == [202 if body is winner else "Conflict" for body in bodies]
    assert len(aws.queued()) == 1


def test_retries_through_the_handler_interleaved_with_a_conflicting_body(aws, tenant):
    event = sample("transaction.created")
    other = sample("transaction.created")
    other["transaction"]["amount"] = "1.00"

    statuses = [post(body, tenant.keys["integration"]).status for body in (event, other, event, other)]

    assert statuses == [202, 409, 202, 409]
    assert len(aws.queued()) == 1


@pytest.mark.parametrize("depth", [33, 995, 5000])
def test_a_body_nested_past_32_levels_is_400_and_records_nothing(aws, tenant, depth):
    """5,000 levels are 30 KB, under the size limit: the parser's recursion used to escape the
    handler as a bare 502. No body of this API nests more than a few levels (DynamoDB keeps 32)."""
    event = sample("partnership.created", id=f"deep-{depth}")
    text = json.dumps(event)[:-1] + ', "extra": ' + '{"a":' * depth + "1" + "}" * depth + "}"

    answer = post(text, tenant.keys["integration"])

    assert answer.status == 400, answer
    assert answer.body["detail"] == "the body is nested more than 32 levels deep"
    assert aws.queued() == []


ENCODINGS = {  # named as README says: which encoding, and the mark
    "utf-16": (lambda text: text.encode("utf-16"), "is UTF-16 with a byte order mark"),
    "utf-16-le": (lambda text: text.encode("utf-16-le"), "is UTF-16:"),
    "utf-16-be": (lambda text: text.encode("utf-16-be"), "is UTF-16:"),
    "utf-32": (lambda text: text.encode("utf-32"), "is UTF-32 with a byte order mark"),
    "utf-32-be": (lambda text: text.encode("utf-32-be"), "is UTF-32:"),
    "latin-1": (lambda text: text.encode("latin-1"), "not UTF-8"),
    "utf-8-bom": (lambda text: text.encode("utf-8-sig"), "byte order mark"),
}


def _encoded(path: str, body: dict, encoding: str, key: str) -> dict:
    event = proxy_event("POST", path, "", key)
    text = json.dumps(body, ensure_ascii=False)
    event["body"] = base64.b64encode(ENCODINGS[encoding][0](text)).decode()
    event["isBase64Encoded"] = True  # as API Gateway hands a body that is not UTF-8 text
    return event


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_a_body_not_in_utf8_is_400_naming_the_encoding_and_records_nothing(aws, tenant, encoding):
    """JSON travels as UTF-8 (RFC 8259). Python's parser guesses UTF-16 and -32 and skips a byte
    order mark, so the gate let such a body through to the route, whose parser did not: a
    UTF-16 body was a 500 and a UTF-8 one with a byte order mark a 422 naming field "0"."""
    body = sample("partnership.created", id=f"enc-{encoding}")
    body["partner"]["name"] = "Zoë Brontë"

    answer = call("ingest", _encoded("/v1/events", body, encoding, tenant.keys["integration"]))

    assert answer.status == 400, answer
    assert ENCODINGS[encoding][1] in answer.body["detail"]
    assert aws.queued() == []
    assert get(f"enc-{encoding}", tenant.keys["integration"]).status == 404


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-bom"])
def test_every_route_reads_its_body_as_utf8(aws, tenant, encoding):
    body = {"id": "enc-earn", "customer_id": "enc-member", "points": 10, "kind": "purchase"}

    answer = call("loyalty", _encoded("/v1/loyalty/earn", body, encoding, tenant.keys["integration"]))

    assert answer.status == 400, answer
    customer = proxy_event("GET", "/v1/loyalty/customers/enc-member", None, tenant.keys["fraud"])
    assert call("loyalty", customer).status == 404


def test_malformed_json_is_400(aws, tenant):
    answer = post('{"id": "x", ', tenant.keys["integration"])

    assert answer.status == 400
    assert answer.body["title"] == "Malformed request"
    assert answer.body["status"] == 400


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic Zm9vOmJhcg=="}],
    ids=["missing", "malformed", "wrong-scheme"],
)
def test_missing_or_malformed_credentials_are_401(aws, tenant, headers):
    answer = call("ingest", proxy_event("POST", "/v1/events", sample("reward.created"), None, headers))

    assert answer.status == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"] == "Bearer"  # RFC 9110 11.6.1: how to authenticate


def test_a_wrong_secret_for_a_real_key_id_is_401(aws, tenant):
    key = tenant.keys["integration"]
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")

    assert post(sample("reward.created"), forged).status == 401


def test_a_revoked_key_is_401(aws, tenant):
    from functions.shared import tenancy
    from functions.shared.clock import SystemClock

    key = tenant.keys["integration"]
    tenancy.revoke_key(aws.repository, SystemClock(), key.split("_")[1])

    assert post(sample("reward.created"), key).status == 401


@pytest.mark.parametrize("role", ["viewer", "fraud"])
def test_roles_that_do_not_send_events_are_403(aws, tenant, role):
    event = sample("reward.created")

    answer = post(event, tenant.keys[role])

    assert answer.status == 403
    assert aws.queued() == []


def test_security_key_cannot_send_events(aws, tenant, security_key):
    assert post(sample("reward.created"), security_key).status == 403


def test_unknown_event_is_404(aws, tenant):
    answer = get("never-sent", tenant.keys["integration"])

    assert answer.status == 404
    assert answer.body["title"] == "Not found"


def test_body_over_64_kib_is_413(aws, tenant):
    event = sample("partnership.created")
    event["session"]["user_agent"] = "x" * (65 * 1024)

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 413
    assert aws.queued() == []


def test_body_that_is_not_json_is_415(aws, tenant):
    answer = post(
        json.dumps(sample("reward.created")), tenant.keys["integration"], {"Content-Type": "text/plain"}
    )

    assert answer.status == 415


@pytest.mark.parametrize(
    "media_type", ["multipart/form-data", "multipart/mixed", "text/plain", "application/octet-stream"]
)
def test_no_body_is_no_json_whatever_media_type_it_names(aws, tenant, media_type):
    # a multipart type without a body was a 500 (and an operator's alarm); another type a 415 of
    # Powertools' own shape, not a problem document
    answer = post("", tenant.keys["integration"], {"Content-Type": media_type})

    assert (answer.status, answer.headers["content-type"]) == (400, "application/problem+json"), answer
    assert answer.body["detail"] == "the body is empty: send a JSON object"
    assert aws.queued() == []


@pytest.mark.parametrize(
    "media_type",
    [
        "APPLICATION/JSON",
        "Application/Json; charset=UTF-8",
        "application/problem+json",
        "application/vnd.api+json",
    ],
)
def test_a_json_media_type_in_any_case_or_with_a_json_suffix_is_accepted(aws, tenant, media_type):
    # media types are case-insensitive (RFC 9110); validation took only `application/json...`
    event = sample("reward.created", id=f"evt-media-{abs(hash(media_type))}")

    answer = post(json.dumps(event), tenant.keys["integration"], {"Content-Type": media_type})

    assert answer.status == 202, answer
    assert get(event["id"], tenant.keys["integration"]).status == 200


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["reward"].update(amount="-5"), "reward.amount"),
        (lambda e: e["reward"].update(amount="0"), "reward.amount"),
        (lambda e: e["reward"].update(currency="dollars"), "reward.currency"),
        (lambda e: e.update(occurred_at="yesterday"), "occurred_at"),
        (lambda e: e.update(occurred_at="2026-11-05T08:00:00"), "occurred_at"),
        (lambda e: e["reward"].pop("partner_id"), "reward.partner_id"),
        (lambda e: e["reward"].update(colour="red"), "reward.colour"),
        (lambda e: e.update(id=""), "id"),
    ],
    ids=["negative", "zero", "currency", "time", "naive-time", "missing", "unknown-field", "empty-id"],
)
def test_schema_violations_are_422_naming_the_field(aws, tenant, change, field):
    event = sample("reward.created")
    change(event)

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert field in [e["field"] for e in answer.body["errors"]]
    assert aws.queued() == []


def test_a_bad_optional_value_is_ignored_the_event_scored_and_its_notes_name_it(aws, tenant):
    """SPEC 3.1: "an event is never refused for what detection can do without". An integration that
    sends placeholders where it has no customer address, IP or country was refused whole (422), the
    partner's commission with it."""
    from tests.integration.scoring_support import drain, status

    event = sample("transaction.created")
    event["customer"].update(email="n/a", ip="unknown", country="N/A")

    answer = post(event, tenant.keys["integration"])
    drain(aws)

    assert answer.status == 202, answer
    scored = status(tenant, event["id"])
    assert scored["status"] == "scored"
    assert scored["notes"] == [
        "customer.email ignored: not an e-mail address",
        "customer.country ignored: not an ISO 3166 alpha-2 code",
        "customer.ip ignored: not an IPv4 or IPv6 address",
    ]
    rewards = call(
        "cases",
        proxy_event(
            "GET", "/v1/rewards", None, tenant.keys["fraud"], query={"partner_id": event["partner_id"]}
        ),
    )
    assert [r["id"] for r in rewards.body["items"]] == [event["reward"]["id"]]


def test_a_required_value_sent_wrong_is_still_refused_naming_the_field(aws, tenant):
    event = sample("transaction.created")
    event["customer"]["id"] = "c#1"
    event["transaction"]["currency"] = "euro"

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["transaction.currency", "customer.id"]
    assert aws.queued() == []


def test_a_text_too_long_is_named_in_characters(aws, tenant):
    """A length checked after one of our validators came out as pydantic's generic "items"."""
    event = sample("account.updated")
    event["activity"] = "x" * 65

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert answer.body["errors"] == [{"field": "activity", "message": "at most 64 characters, not 65"}]


def test_a_query_parameter_given_twice_is_named_as_given_twice(aws, tenant):
    query = proxy_event(
        "GET", "/v1/cases", None, tenant.keys["fraud"], query={"view": "active", "limit": "5"}
    )
    query["multiValueQueryStringParameters"] = {"view": ["active", "resolved"], "limit": ["5", "6"]}

    answer = call("cases", query)

    assert answer.status == 422, answer
    assert answer.body["errors"] == [  # was "Input should be a valid integer" for `limit=5&limit=6`
        {"field": "query.view", "message": "given more than once: send one value"},
        {"field": "query.limit", "message": "given more than once: send one value"},
    ]


def test_unknown_event_type_is_422(aws, tenant):
    answer = post(sample("reward.created", type="refund.created"), tenant.keys["integration"])

    assert answer.status == 422
    assert [e["field"] for e in answer.body["errors"]] == ["type"]
    assert answer.body["errors"][0]["message"].startswith("one of "), answer.body  # in words
    assert "reward.created" in answer.body["errors"][0]["message"]
    missing = sample("reward.created")
    del missing["type"]
    answer = post(missing, tenant.keys["integration"])
    assert answer.body["errors"] == [{"field": "type", "message": "required"}], answer.body


def test_bad_ip_address_in_session_is_422(aws, tenant):
    event = sample("partnership.created")
    event["session"]["ip"] = "999.1.1.1"

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422
    assert "session.ip" in [e["field"] for e in answer.body["errors"]]


def test_another_programs_event_is_404_and_untouched(aws, tenant, other_tenant):
    event = sample("reward.created")
    post(event, tenant.keys["integration"])

    seen_by_other = get(event["id"], other_tenant.keys["admin"])
    # the other program may use the same id for its own event: that is no conflict
    reused = post(event, other_tenant.keys["integration"])

    assert seen_by_other.status == 404
    assert reused.status == 202
    assert get(event["id"], tenant.keys["integration"]).status == 200
    assert (
        aws.repository.get_event(other_tenant.program_id, event["id"]).program_id == other_tenant.program_id
    )


def test_an_unknown_route_is_404_and_a_wrong_method_405(aws, tenant):
    assert call("ingest", proxy_event("GET", "/v1/nothing", None, tenant.keys["admin"])).status == 404
    wrong = call("ingest", proxy_event("DELETE", "/v1/events", None, tenant.keys["admin"]))
    assert wrong.status == 405
    assert wrong.headers["allow"] == "POST"


class TestSignedPrograms:
    SECRET = "whsec_0123456789abcdef"

    @pytest.fixture
    def signed(self, aws):
        return make_tenant(aws.repository, "Signed program", signing_secret=self.SECRET)

    def _raw(self):
        return json.dumps(sample("reward.created"))

    def test_a_valid_signature_is_accepted(self, aws, signed):
        raw = self._raw()
        header = sign(self.SECRET, int(time.time()), raw.encode())

        assert post(raw, signed.keys["integration"], {"X-Signature": header}).status == 202

    @pytest.mark.parametrize(
        "make_header",
        [
            lambda secret, raw: None,
            lambda secret, raw: sign(secret, int(time.time()) - 310, raw),
            lambda secret, raw: sign(secret, int(time.time()) + 310, raw),
            lambda secret, raw: sign("another-secret-entirely", int(time.time()), raw),
            lambda secret, raw: sign(secret, int(time.time()), raw + b" "),
            lambda secret, raw: "t=abc,v1=00",
        ],
        ids=["missing", "stale", "future", "wrong-secret", "other-body", "malformed"],
    )
    def test_a_bad_signature_is_401_and_nothing_is_recorded(self, aws, signed, make_header):
        raw = self._raw()
        header = make_header(self.SECRET, raw.encode())
        headers = {"X-Signature": header} if header else {}

        answer = post(raw, signed.keys["integration"], headers)

        assert answer.status == 401
        assert aws.queued() == []

    def test_unsigned_programs_need_no_signature(self, aws, tenant):
        assert post(self._raw(), tenant.keys["integration"]).status == 202


def test_an_event_whose_queue_send_fails_is_relayed_later(aws, tenant, monkeypatch):
    from datetime import timedelta

    from functions.outbox_relay import service
    from functions.shared import runtime
    from functions.shared.clock import FixedClock
    from functions.shared.messaging import InMemoryQueue

    deps = runtime.dependencies()
    real_queue = deps.queue
    monkeypatch.setattr(deps, "queue", InMemoryQueue(fail=True))
    event = sample("reward.created")

    answer = post(event, tenant.keys["integration"])
    assert answer.status == 202  # recorded durably before the answer
    assert aws.queued() == []

    monkeypatch.setattr(deps, "queue", real_queue)
    assert service.relay_outbox(deps) == 0  # too recent: maybe still on its way
    monkeypatch.setattr(deps, "clock", FixedClock(deps.clock.now() + timedelta(minutes=3)))
    assert service.relay_outbox(deps) == 1
    assert [json.loads(m["Body"])["event_id"] for m in aws.queued()] == [event["id"]]


def test_me_names_the_caller(aws, tenant, security_key):
    mine = call("cases", proxy_event("GET", "/v1/me", None, tenant.keys["fraud"]))
    platform = call("cases", proxy_event("GET", "/v1/me", None, security_key))

    assert mine.body == {
        "key_id": tenant.keys["fraud"].split("_")[1],  # the key's public part, never its secret
        "actor": "Program A fraud",
        "role": "fraud",
        "program_id": tenant.program_id,
        "program_name": "Program A",
    }
    assert platform.body["role"] == "security" and platform.body["program_id"] is None
    assert call("cases", proxy_event("GET", "/v1/me", None, None)).status == 401


def test_the_relay_drains_a_backlog_past_one_page_and_never_resends_a_failed_event(aws, tenant, monkeypatch):
    """A queue outage left 120 events in the outbox (more than two pages) and one that failed for good:
    one run sends each waiting event once, in batches, and never the failed one."""
    from datetime import timedelta

    from functions.outbox_relay import service
    from functions.shared import runtime
    from functions.shared.clock import FixedClock
    from functions.shared.domain.model import StoredEvent

    deps = runtime.dependencies()
    at = deps.clock.now() - timedelta(minutes=10)
    monkeypatch.setattr(service, "PAGE", 50)
    for n in range(121):
        body = {"id": f"backlog-{n}"}
        deps.repository.record_event(
            StoredEvent(tenant.program_id, f"backlog-{n}", "reward.created", body, "h", at, at)
        )
    deps.repository.mark_event_failed(tenant.program_id, "backlog-120", "poison")
    monkeypatch.setattr(deps, "clock", FixedClock(at + timedelta(minutes=5)))

    sent = service.relay_outbox(deps)

    assert sent == 120
    queued = []
    while batch := aws.sqs.receive_message(QueueUrl=aws.resources.queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        queued += [json.loads(m["Body"])["event_id"] for m in batch]
        for m in batch:
            aws.sqs.delete_message(QueueUrl=aws.resources.queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert sorted(queued) == sorted(f"backlog-{n}" for n in range(120))


# --- SPEC 3.1: nothing refused that detection can do without; bounds of time ------------------
def _sparse(event_type):
    """The event with every optional field left out."""
    event = sample(event_type)
    if event_type == "partnership.created":
        event["partner"] = {k: event["partner"][k] for k in ("id", "name", "email", "country")}
        event["session"] = {"ip": event["session"]["ip"]}
    elif event_type == "account.updated":
        event["partner"] = {"id": event["partner"]["id"]}
        event["session"] = {"ip": event["session"]["ip"]}
    elif event_type == "transaction.created":
        event["customer"] = {"id": event["customer"]["id"]}
        event.pop("reward")
    else:
        event["reward"] = {k: event["reward"][k] for k in ("id", "partner_id", "amount", "currency")}
    return event


@pytest.mark.parametrize("event_type", EVENT_TYPES)
def test_events_with_only_their_required_fields_are_accepted_and_scored(aws, tenant, event_type):
    from tests.integration.scoring_support import drain, status

    event = _sparse(event_type)

    answer = post(event, tenant.keys["integration"])
    drain(aws)

    assert answer.status == 202, answer
    assert status(tenant, event["id"])["status"] == "scored"


def test_a_sign_up_without_region_and_a_bonus_without_transaction_are_accepted(aws, tenant):
    from tests.integration.scoring_support import drain, status

    signup = sample("partnership.created")
    del signup["partner"]["address"]["region"]
    signup["partner"]["keys"] = ["ada-ref"]
    bonus = sample("reward.created")
    del bonus["reward"]["transaction_id"]
    customer = sample("transaction.created")
    customer["customer"].update(email="", ip=None, device_fingerprint="  ")
    update = sample("account.updated")
    update["partner"].update(keys=["ada-new"], email=None, name="")

    answers = [post(e, tenant.keys["integration"]) for e in (signup, bonus, customer, update)]
    drain(aws)

    assert [a.status for a in answers] == [202, 202, 202, 202]
    assert {status(tenant, e["id"])["status"] for e in (signup, bonus, customer, update)} == {"scored"}


def _iso(at):
    return at.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("event_type", EVENT_TYPES)
@pytest.mark.parametrize(
    "occurred_at",
    [
        lambda now: _iso(now + timedelta(minutes=6)),
        lambda now: "9999-12-31T23:59:59Z",
        lambda now: "1999-12-31T23:59:59Z",
        lambda now: "2000-01-01T00:00:00+05:00",  # 1999-12-31T19:00:00Z: the moment counts
        lambda now: "0001-01-01T00:00:00Z",
    ],
    ids=["6-minutes-ahead", "year-9999", "before-2000", "before-2000-in-utc", "year-1"],
)
def test_occurred_at_outside_2000_to_5_minutes_ahead_is_422(aws, tenant, event_type, occurred_at):
    event = sample(event_type, occurred_at=occurred_at(datetime.now(UTC)))

    answer = post(event, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["occurred_at"]
    assert aws.queued() == []


def test_a_never_of_other_systems_as_occurred_at_is_told_the_bounds_not_to_leave_it_out(aws, tenant):
    # `9999-12-31`, many systems' "never": the advice for an optional end (leave it out) fits no
    # required time
    answer = post(
        sample("partnership.created", occurred_at="9999-12-31T23:59:59Z"), tenant.keys["integration"]
    )
    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    assert error["message"] == "a time from 2000-01-01 to 5 minutes after now, not in 9999", error


@pytest.mark.parametrize(
    ("written", "told"),
    [
        # an SQL export's time: RFC 3339 allows the space, the API's `date-time` does not
        ("2026-05-20 10:00:00Z", ["write T between the date and the time"]),
        # Python's `isoformat()` of a naive time, from a server's local clock
        ("2026-05-20T10:00:00.250", ["add the offset the time is written in"]),
        ("2026-05-20T10:00:00+0530", ["write the offset with a colon"]),
        ("2026-05-20 10:00:00", ["write T between", "add the offset"]),
        # a database's print of a time with its offset (a reviewer's: told the T alone, then nothing)
        ("2026-05-20 10:00:00 +00:00", ["write T between", "without a space"]),
        ("2026-05-20 10:00:00+00", ["write T between", "the offset's minutes too"]),  # PostgreSQL's
        ("2026-05-20 10:00:00 UTC", ["write T between", "write Z for UTC"]),  # BigQuery's
        ("2026-05-20", ["a date and a time of day, not a date alone"]),
        # blanks around it (a padded column): a time is not trimmed as text is (a tester's: not told)
        (" 2026-05-20T10:00:00Z", ["remove the blanks around it"]),
        ("2026-05-20T10:00:00Z\t", ["remove the blanks around it"]),
        (" 2026-05-20 10:00:00 UTC ", ["remove the blanks", "write T between", "write Z for UTC"]),
        # to the minute (an integration tester's: told only what a time must be)
        ("2026-12-01T09:15Z", ["write the seconds too"]),
        ("2026-12-01 09:15+01:00", ["write T between", "write the seconds too"]),
        ("2026-12-01T09:15", ["write the seconds too"]),
    ],
)
def test_a_time_written_as_other_systems_write_it_is_told_what_to_change(aws, tenant, written, told):
    answer = post(sample("reward.created", occurred_at=written), tenant.keys["integration"])

    assert answer.status == 422, answer
    [error] = answer.body["errors"]
    assert error["field"] == "occurred_at"
    assert all(change in error["message"] for change in told), error
    assert error["message"].startswith("an RFC 3339 time with an offset"), error  # what it must be
    assert aws.queued() == []
    assert get(sample("reward.created")["id"], tenant.keys["integration"]).status == 404  # nothing kept


def test_occurred_at_from_2000_in_utc_is_accepted(aws, tenant):
    event = sample("reward.created", occurred_at="2000-01-01T00:00:00-01:00")

    assert post(event, tenant.keys["integration"]).status == 202


def test_a_leap_second_is_accepted_as_the_last_instant_of_its_minute(aws, tenant):
    # RFC 3339 writes one as second 60 (2016-12-31T23:59:60Z, the last); a tester's was refused
    from tests.integration.scoring_support import drain, status

    event = sample("reward.created", occurred_at="2016-12-31T23:59:60Z")

    answer = post(event, tenant.keys["integration"])
    drain(aws)

    assert answer.status == 202, answer
    assert status(tenant, event["id"])["status"] == "scored"  # its stored body read alike


def test_occurred_at_a_little_ahead_of_the_servers_clock_is_accepted(aws, tenant):
    event = sample("reward.created", occurred_at=_iso(datetime.now(UTC) + timedelta(minutes=4)))

    assert post(event, tenant.keys["integration"]).status == 202


# --- bad input never reaches a 500 -----------------------------------------------------------
def test_a_non_ascii_signature_is_401(aws):
    signed = make_tenant(aws.repository, "Signed program", signing_secret="whsec_0123456789abcdef")

    answer = post(sample("reward.created"), signed.keys["integration"], {"X-Signature": "t=1,v1=é"})

    assert answer.status == 401, answer
    assert aws.queued() == []


@pytest.mark.parametrize(
    "event_id",
    ["a#b", "EVENT#x", "x" * 300, "a\x00b", "a\nb", "%ff", "é£÷", "a b", "\ud800"],
    ids=["hash", "key-like", "long", "nul", "newline", "percent", "symbols", "blank", "surrogate"],
)
def test_path_ids_that_break_key_parsing_are_404_or_422(aws, tenant, event_id):
    answer = call("ingest", proxy_event("GET", f"/v1/events/{event_id}", None, tenant.keys["integration"]))

    assert answer.status in (404, 422), answer
    assert answer.headers["content-type"] == "application/problem+json"


def test_text_that_is_not_unicode_is_refused_not_a_500(aws, tenant):
    raw = json.dumps(sample("partnership.created")).replace("Ada Lovelace", "Ada \\ud800")

    answer = post(raw, tenant.keys["integration"])

    assert answer.status in (400, 422), answer
    assert aws.queued() == []


def test_a_503_names_no_key_and_no_aws_error_code(aws, tenant, monkeypatch):
    from functions.shared import runtime
    from functions.shared.errors import StorageUnavailable

    deps = runtime.dependencies()

    def unavailable(*args, **kwargs):
        raise StorageUnavailable(
            f"reading P#{tenant.program_id}#EVENT#evt-1 failed: ProvisionedThroughputExceededException"
        )

    monkeypatch.setattr(deps.repository, "get_event", unavailable)

    answer = get("evt-1", tenant.keys["integration"])

    assert answer.status == 503
    assert answer.headers["retry-after"]
    assert "P#" not in answer.body["detail"] and "Exception" not in answer.body["detail"]


def test_a_body_that_is_not_an_object_is_422_not_its_first_item(aws, tenant):
    answer = post([sample("reward.created")], tenant.keys["integration"])

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["(body)"]
    assert aws.queued() == []


@pytest.mark.parametrize("text", ["null", " null ", "5", '"reward.created"', "true"])
def test_json_that_is_not_an_object_is_named_so(aws, tenant, text):
    # `null` read "the body is empty" (a 400), though a body was sent: JSON, not an object
    answer = post(text, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert answer.body["detail"] == "the body must be a JSON object"
    assert [e["field"] for e in answer.body["errors"]] == ["(body)"]
    assert aws.queued() == []


@pytest.mark.parametrize(
    ("path", "number"),
    [
        ("reward.amount", "1e999999999"),
        ("reward.amount", "1e-999999999"),
        ("reward.amount", "-1e999999999"),
        ("transaction.amount", "1e999999999"),
    ],
)
def test_a_number_past_what_decimal_computes_with_is_422_at_once(aws, tenant, path, number):
    # bodies keep their numbers' digits (Decimal): 11 characters must not become a billion digits
    kinds = {
        "reward": "reward.created",
        "transaction": "transaction.created",
        "session": "partnership.created",
    }
    kind = kinds[path.split(".")[0]]
    event = sample(kind, id=f"evt-extreme-{abs(hash((path, number)))}")
    *parents, name = path.split(".")
    holder = event
    for part in parents:
        holder = holder[part]
    holder[name] = "__NUMBER__"
    text = json.dumps(event).replace('"__NUMBER__"', number)

    answer = post(text, tenant.keys["integration"])

    assert answer.status == 422, answer
    assert path in {e["field"] for e in answer.body["errors"]}, answer.body
    assert aws.queued() == []


@pytest.mark.parametrize("where", ["reward.amount", "session.ip_location.lat"])
def test_an_integer_longer_than_python_reads_is_valid_json_refused_or_ignored_by_its_range(
    aws, tenant, where
):
    # 5,001 digits: valid JSON, which was a 400 "not valid JSON" (Python's 4,300-digit limit)
    kind = "reward.created" if where.startswith("reward") else "partnership.created"
    event = sample(kind, id=f"evt-long-int-{kind}")
    *parents, name = where.split(".")
    holder = event
    for part in parents:
        holder = holder.setdefault(part, {"lat": 1.0, "lon": 1.0} if part == "ip_location" else {})
    holder[name] = "__N__"
    text = json.dumps(event).replace('"__N__"', "9" * 5001)

    answer = post(text, tenant.keys["integration"])

    if where == "reward.amount":  # a required amount past 10^12: refused, naming it
        assert answer.status == 422 and where in {e["field"] for e in answer.body["errors"]}, answer
    else:  # an optional coordinate out of range: ignored, the event accepted
        assert answer.status == 202, answer


@pytest.mark.parametrize(
    "written", ["1e2", "1E12", "5E1", "2.50E1", "10.0000000", "2.5000000000", "1.00000000e1"]
)
def test_an_amount_written_with_an_exponent_is_scored_from_the_queue_as_on_the_request(
    aws, tenant, written: str
):
    """`1e2` is a number like `100` (README): an event whose amount was written so was accepted,
    then failed on the queue (its stored text `1E+2` was no decimal string an amount takes back);
    so did `10.0000000`, zeros past the sixth place (kept as `10.0000000`, past the strings' six)."""
    from tests.integration.scoring_support import drain, send, signup

    send(tenant, signup("p-exp"))
    event = sample("reward.created")
    event["reward"].update(partner_id="p-exp", id=f"rw-{written}", amount="__AMOUNT__")
    text = json.dumps(event).replace('"__AMOUNT__"', written)
    answer = call("ingest", proxy_event("POST", "/v1/events", text, tenant.keys["integration"]))
    assert answer.status == 202, answer
    drain(aws)

    stored = aws.repository.get_event(tenant.program_id, event["id"])
    assert stored.status == "scored", stored.failure
    rewards = call(
        "cases", proxy_event("GET", "/v1/rewards", None, tenant.keys["fraud"], query={"partner_id": "p-exp"})
    )
    assert [r["amount"] for r in rewards.body["items"]] == [str(Decimal(written).quantize(Decimal("0.01")))]


def test_an_instant_of_2000_written_with_a_west_offset_on_the_last_day_of_1999_is_accepted(aws, tenant):
    # 1999-12-31T23:30:00-01:00 is 2000-01-01T00:30:00Z, within SPEC 3.1's bounds: the pattern
    # refused it for its written year; an instant of 1999 is still refused, naming the bound
    accepted = post(
        sample("reward.created", id="y2k-west", occurred_at="1999-12-31T23:30:00-01:00"),
        tenant.keys["integration"],
    )
    refused = post(
        sample("reward.created", id="y1999", occurred_at="1999-12-31T23:30:00Z"), tenant.keys["integration"]
    )

    assert accepted.status == 202, accepted
    assert refused.status == 422 and "2000-01-01" in refused.body["detail"], refused


@pytest.mark.parametrize("prefix", SYSTEMS_ID_PREFIXES)  # a removal's, a late event's, a commission's reviews
def test_an_integration_cannot_send_an_event_under_the_id_of_one_of_the_systems_reviews(tenant, prefix):
    body = sample("partnership.created", id=prefix + "0123")
    answer = call("ingest", proxy_event("POST", "/v1/events", body, tenant.keys["integration"]))
    assert answer.status == 422, answer
    (error,) = answer.body["errors"]
    assert error["field"] == "id" and prefix in error["message"], error
