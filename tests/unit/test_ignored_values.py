"""SPEC 3.1: "an event is never refused for what detection can do without". Whatever JSON an
integration puts in the optional fields detection does without, the event is taken and scored, and
its notes name exactly the fields whose values were not taken, a key an address or a location does
not name among them (a misspelt field must not be lost without a word)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from functions.score.service import engine_for
from functions.shared.clock import FixedClock
from functions.shared.domain.model import StoredEvent
from functions.shared.inputs import STORED
from functions.shared.messaging import InMemoryPublisher
from functions.shared.partner_events import PartnerEvent
from functions.shared.runtime import Dependencies
from functions.shared.storage.memory import InMemoryRepository
from tests.support import sample

events = TypeAdapter(PartnerEvent)

# (event type, the path of an optional field detection does without)
FIELDS = [
    ("transaction.created", ("customer", "email")),
    ("transaction.created", ("customer", "name")),
    ("transaction.created", ("customer", "country")),
    ("transaction.created", ("customer", "ip")),
    ("transaction.created", ("customer", "device_fingerprint")),
    ("partnership.created", ("session", "device_fingerprint")),
    ("partnership.created", ("session", "user_agent")),
    ("partnership.created", ("session", "ip_location")),
    ("partnership.created", ("partner", "address")),
    ("partnership.created", ("partner", "address", "line1")),
    ("partnership.created", ("partner", "address", "lat")),
    ("partnership.created", ("partner", "group")),
    ("partnership.created", ("partner", "tags")),
    ("partnership.created", ("partner", "payout_account")),
    ("account.updated", ("partner", "email")),
    ("account.updated", ("partner", "country")),
    ("account.updated", ("partner", "name")),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)


def _put(body: dict, path: tuple[str, ...], value: object) -> None:
    for name in path[:-1]:
        body = body.setdefault(name, {})
    body[path[-1]] = value


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(choice=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_an_optional_field_is_taken_or_ignored_never_refused(choice, value):
    event_type, path = choice
    raw = sample(event_type)
    _put(raw, path, value)
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    deps = Dependencies(InMemoryRepository(), InMemoryPublisher(), FixedClock(at))
    stored = StoredEvent("prg", raw["id"], raw["type"], raw, "h", at, at)
    deps.repository.record_event(stored)

    dotted = ".".join(path)
    events.validate_python(raw, context={"ignored": []})  # never raises at ingest

    ignored: list[str] = []
    events.validate_python(raw, context={**STORED, "ignored": ignored})  # as scoring reads it: never raises
    engine_for(deps).score(stored)  # and scores

    assert all(note.startswith(f"{dotted}") for note in ignored), ignored
    assert deps.repository.get_event("prg", raw["id"]).notes == tuple(dict.fromkeys(ignored))


# the optional objects whose keys are their model's fields (`IgnoredWhenInvalidObject`)
def test_an_event_full_of_placeholders_is_scored_and_its_notes_name_each_one():
    at = datetime(2026, 11, 2, 9, tzinfo=UTC)
    deps = Dependencies(InMemoryRepository(), InMemoryPublisher(), FixedClock(at))
    body = sample("transaction.created", occurred_at="2026-11-02T09:00:00Z")
    body["customer"].update(
        email="n/a", ip="0.0.0.0.0", country="--", name=["x"], device_fingerprint={"a": 1}
    )
    stored = StoredEvent("prg", body["id"], body["type"], body, "h", at, at)
    deps.repository.record_event(stored)

    scored = engine_for(deps).score(stored)

    assert scored.decision["action"] in ("allow", "flag")
    assert deps.repository.get_event("prg", body["id"]).notes == (
        "customer.email ignored: not an e-mail address",
        "customer.name ignored: not a text of at most 200 characters",
        "customer.country ignored: not an ISO 3166 alpha-2 code",
        "customer.ip ignored: not an IPv4 or IPv6 address",
        "customer.device_fingerprint ignored: not a text",
    )


def test_empty_is_null_blank_or_an_object_of_only_those_members():
    from functions.shared.inputs import empty

    for nothing in (None, "", " \u3000", {}, {"lat": None, "lon": ""}):
        assert empty(nothing), nothing
    # a member that is an object or a list is a value of the wrong type, sent wrong: not absent
    for value in ({"lat": {}}, {"lat": {"deg": None}}, {"lat": []}, [], 0, False, {"lat": 0}, "a"):
        assert not empty(value), value
