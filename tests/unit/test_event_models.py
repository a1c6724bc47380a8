"""The event models of SPEC 3.1."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from functions.ingest.models import PartnerEvent
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
