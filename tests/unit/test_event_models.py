"""The event models of SPEC 3.1."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from functions.shared.partner_events import PartnerEvent
from tests.support import SAMPLE_FILES, sample

events = TypeAdapter(PartnerEvent)


@pytest.mark.parametrize("event_type", sorted(SAMPLE_FILES))
def test_every_sample_event_is_valid(event_type):
    assert events.validate_python(sample(event_type)).type == event_type


def test_amounts_are_decimals_not_floats():
    event = events.validate_python(sample("transaction.created"))

    assert event.transaction.amount == Decimal("249.99")
    assert isinstance(event.reward.amount, Decimal)


def test_codes_are_normalised_to_upper_case():
    raw = sample("transaction.created")
    raw["transaction"]["currency"] = "usd"
    raw["customer"]["country"] = "us"

    event = events.validate_python(raw)

    assert (event.transaction.currency, event.customer.country) == ("USD", "US")


def _errors(raw):
    with pytest.raises(ValidationError) as caught:
        events.validate_python(raw)
    return {".".join(str(p) for p in e["loc"][1:]) for e in caught.value.errors()}


def test_account_updated_needs_only_the_partner_id_and_what_changed():
    raw = sample("account.updated")
    raw["partner"] = {"id": "p_1"}

    assert events.validate_python(raw).partner.email is None


def test_unknown_activity_and_fields_are_refused():
    raw = sample("account.updated", activity="hacking")
    raw["partner"]["shoe_size"] = 44

    assert _errors(raw) == {"activity", "partner.shoe_size"}


def test_coordinates_out_of_range_are_refused():
    raw = sample("partnership.created")
    raw["partner"]["address"]["lat"] = 91
    raw["session"]["ip_location"]["lon"] = -181

    assert _errors(raw) == {"partner.address.lat", "session.ip_location.lon"}


def test_a_reward_on_a_transaction_needs_a_positive_amount():
    raw = sample("transaction.created")
    raw["reward"]["amount"] = "-1"

    assert _errors(raw) == {"reward.amount"}


# --- SPEC 3.1's field rules: optional is absent, null or blank; required text is not blank ------
def _valid(raw):
    return events.validate_python(raw)


@pytest.mark.parametrize("absent", [None, "", "   ", "drop"], ids=["null", "empty", "blank", "absent"])
def test_optional_fields_may_be_absent_null_or_blank(absent):
    partner = sample("partnership.created")
    customer = sample("transaction.created")
    reward = sample("reward.created")
    for container, name in (
        (partner["partner"]["address"], "region"),
        (partner["partner"]["address"], "line1"),
        (partner["partner"]["address"], "city"),
        (partner["partner"]["address"], "postal_code"),
        (partner["partner"], "group"),
        (partner["session"], "device_fingerprint"),
        (partner["session"], "user_agent"),
        (customer["customer"], "email"),
        (customer["customer"], "ip"),
        (customer["customer"], "device_fingerprint"),
        (customer["customer"], "name"),
        (customer["customer"], "country"),
        (reward["reward"], "transaction_id"),
        (reward["reward"], "customer_id"),
    ):
        if absent == "drop":
            container.pop(name)
        else:
            container[name] = absent

    signup, transaction, bonus = _valid(partner), _valid(customer), _valid(reward)

    assert signup.partner.address.region is None and signup.session.device_fingerprint is None
    assert (transaction.customer.email, transaction.customer.ip, transaction.customer.country) == (
        None,
        None,
        None,
    )
    assert bonus.reward.transaction_id is None and bonus.reward.customer_id is None


def test_a_partner_without_address_lists_or_keys_and_with_referral_keys():
    raw = sample("partnership.created")
    for name in ("address", "group", "team", "tags", "segments"):
        raw["partner"].pop(name)
    bare = _valid(raw)
    raw["partner"]["keys"] = ["ada-2026", " ", "ADA10"]

    assert bare.partner.address is None and bare.partner.tags == [] and bare.partner.keys == []
    assert _valid(raw).partner.keys == ["ada-2026", "ADA10"]


def test_a_customer_needs_only_its_id():
    raw = sample("transaction.created")
    raw["customer"] = {"id": "c_1"}

    assert _valid(raw).customer.model_dump(exclude_none=True) == {"id": "c_1"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e["partner"].update(name="   "), "partner.name"),
        (lambda e: e["partner"].update(name=""), "partner.name"),
        (lambda e: e["partner"].update(name="x" * 201), "partner.name"),
        (lambda e: e["partner"]["address"].update(line1="x" * 201), "partner.address.line1"),
        (lambda e: e["partner"]["address"].pop("country"), "partner.address.country"),
        (lambda e: e["partner"].update(id="x" * 129), "partner.id"),
        (lambda e: e["partner"].update(id="p#1"), "partner.id"),
        (lambda e: e["partner"].update(id="p/1"), "partner.id"),
        (lambda e: e["partner"].update(id="p 1"), "partner.id"),
        (lambda e: e["partner"].update(id="p\x001"), "partner.id"),
        (lambda e: e["partner"].update(id="p1\n"), "partner.id"),
        (lambda e: e["partner"].update(id="pü"), "partner.id"),
        (lambda e: e["partner"].update(id=1001), "partner.id"),
        (lambda e: e["partner"].pop("email"), "partner.email"),
        (lambda e: e["session"].pop("ip"), "session.ip"),
        (lambda e: e["session"].update(ip=1363821920), "session.ip"),
        (lambda e: e["partner"]["address"].update(lat="51.5"), "partner.address.lat"),
        (lambda e: e.update(occurred_at="1999-12-31T23:59:59Z"), "occurred_at"),
        (lambda e: e.update(occurred_at="0001-01-01T00:00:00Z"), "occurred_at"),
        (lambda e: e.update(occurred_at=1762000000), "occurred_at"),
        (lambda e: e.update(occurred_at="2026-11-02 09:15"), "occurred_at"),
    ],
    ids=[
        "blank-name",
        "empty-name",
        "long-name",
        "long-line",
        "address-country",
        "long-id",
        "hash-id",
        "slash-id",
        "blank-in-id",
        "control-in-id",
        "newline-after-id",
        "non-ascii-id",
        "number-id",
        "email",
        "ip",
        "number-ip",
        "text-latitude",
        "before-2000",
        "year-1",
        "unix-time",
        "not-rfc3339",
    ],
)
def test_what_spec_3_1_refuses_is_refused_naming_the_field(change, field):
    raw = sample("partnership.created")
    change(raw)

    assert field in _errors(raw)


def test_limits_are_generous_and_text_is_any_unicode():
    raw = sample("partnership.created")
    raw["partner"]["name"] = "Zoë 李 " + "x" * 194
    raw["partner"]["id"] = "p" * 128
    raw["partner"]["address"]["line1"] = "Straße 1, 東京都 " + "y" * 185

    event = _valid(raw)

    assert len(event.partner.name) == 200 and len(event.partner.id) == 128


@pytest.mark.parametrize(
    ("amount", "currency", "valid"),
    [
        ("12.50", "EUR", True),
        ("12.505", "EUR", False),
        (12.5, "usd", True),
        ("1000", "JPY", True),
        ("1000.5", "JPY", False),
        ("1.005", "BHD", True),
        ("1.0005", "BHD", False),
        ("1000000000000", "USD", True),
        ("1000000000000.01", "USD", False),
        ("0", "USD", False),
        ("0.00", "USD", False),
        ("-1", "USD", False),
        ("1e3", "USD", False),
        (True, "USD", False),
    ],
)
def test_amounts_have_at_most_the_currencys_decimal_places_up_to_10_to_the_12(amount, currency, valid):
    raw = sample("reward.created")
    raw["reward"].update(amount=amount, currency=currency)

    if valid:
        assert _valid(raw).reward.amount == Decimal(str(amount))
    else:
        assert _errors(raw) == {"reward.amount"}
