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


def test_an_activity_of_the_integrations_own_is_accepted_and_unknown_fields_are_refused():
    # SPEC 3.1 lists activities as examples (`e.g.`): another name is an account change all the same
    assert events.validate_python(sample("account.updated", activity="two_factor_enabled")).activity == (
        "two_factor_enabled"
    )
    raw = sample("account.updated", activity="hack ing")  # not a name: a blank in it
    raw["partner"]["shoe_size"] = 44

    assert _errors(raw) == {"activity", "partner.shoe_size"}
    assert _errors(sample("account.updated", activity="")) == {"activity"}


def _ignored(raw):
    """The event as scoring reads it, and what it ignored of it."""
    ignored: list[str] = []
    return events.validate_python(raw, context={"ignored": ignored}), ignored


def test_coordinates_out_of_range_are_ignored_and_named():
    raw = sample("partnership.created")
    raw["partner"]["address"]["lat"] = 91
    raw["session"]["ip_location"]["lon"] = -181

    event, ignored = _ignored(raw)

    assert ignored == [
        "partner.address.lat ignored: not a latitude in degrees",
        "session.ip_location ignored: not coordinates {lat, lon} in degrees",
    ]
    assert event.partner.address.lat is None and event.partner.address.lon == -0.1571
    assert event.session.ip_location is None


# SPEC 3.1: "an event is never refused for what detection can do without"
@pytest.mark.parametrize(
    ("event_type", "change", "read", "note"),
    [
        (
            "transaction.created",
            lambda e: e["customer"].update(email="n/a"),
            lambda e: e.customer.email,
            "customer.email ignored: not an e-mail address",
        ),
        (
            "transaction.created",
            lambda e: e["customer"].update(ip="unknown"),
            lambda e: e.customer.ip,
            "customer.ip ignored: not an IPv4 or IPv6 address",
        ),
        (
            "transaction.created",
            lambda e: e["customer"].update(country="N/A"),
            lambda e: e.customer.country,
            "customer.country ignored: not an ISO 3166 alpha-2 code",
        ),
        (
            "transaction.created",
            lambda e: e["customer"].update(name={"first": "Ada"}),
            lambda e: e.customer.name,
            "customer.name ignored: not a text of at most 200 characters",
        ),
        (
            "partnership.created",
            lambda e: e["partner"]["address"].update(line1="x" * 201),
            lambda e: e.partner.address.line1,
            "partner.address.line1 ignored: not a text of at most 200 characters",
        ),
        (
            "partnership.created",
            lambda e: e["partner"]["address"].pop("country"),
            lambda e: e.partner.address,
            "partner.address ignored: not an address with an ISO 3166 alpha-2 country",
        ),
        (
            "partnership.created",
            lambda e: e["partner"]["address"].update(lat="51.5"),
            lambda e: e.partner.address.lat,
            "partner.address.lat ignored: not a latitude in degrees",
        ),
        (
            "partnership.created",
            lambda e: e["session"].update(device_fingerprint=12345),
            lambda e: e.session.device_fingerprint,
            "session.device_fingerprint ignored: not a text",
        ),
        (
            "partnership.created",
            lambda e: e["partner"].update(tags=["vip", 7]),
            lambda e: e.partner.tags or None,
            "partner.tags ignored: not a list of at most 50 texts of at most 200 characters",
        ),
        (
            "account.updated",
            lambda e: e["partner"].update(email="not-an-address"),
            lambda e: e.partner.email,
            "partner.email ignored: not an e-mail address",
        ),
    ],
    ids=[
        "customer-email",
        "customer-ip",
        "customer-country",
        "customer-name-object",
        "long-line",
        "address-country",
        "text-latitude",
        "number-fingerprint",
        "tag-number",
        "changed-email",
    ],
)
def test_what_detection_can_do_without_is_ignored_naming_the_field(event_type, change, read, note):
    raw = sample(event_type)
    change(raw)

    event, ignored = _ignored(raw)

    assert read(event) is None
    assert ignored == [note]


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
        (lambda e: e["partner"].update(id="x" * 129), "partner.id"),
        (lambda e: e["partner"].update(id="p#1"), "partner.id"),
        (lambda e: e["partner"].update(id="p/1"), "partner.id"),
        (lambda e: e["partner"].update(id="p 1"), "partner.id"),
        (lambda e: e["partner"].update(id="p\x001"), "partner.id"),
        (lambda e: e["partner"].update(id="p1\n"), "partner.id"),
        (lambda e: e["partner"].update(id="pü"), "partner.id"),
        (lambda e: e["partner"].update(id="."), "partner.id"),
        (lambda e: e["partner"].update(id=".."), "partner.id"),
        (lambda e: e["partner"].update(id=1001), "partner.id"),
        (lambda e: e["partner"].pop("email"), "partner.email"),
        (lambda e: e["session"].pop("ip"), "session.ip"),
        (lambda e: e["session"].update(ip=1363821920), "session.ip"),
        (lambda e: e.update(occurred_at="1999-12-31T23:59:59Z"), "occurred_at"),
        (lambda e: e.update(occurred_at="0001-01-01T00:00:00Z"), "occurred_at"),
        (lambda e: e.update(occurred_at=1762000000), "occurred_at"),
        (lambda e: e.update(occurred_at="2026-11-02 09:15"), "occurred_at"),
        (lambda e: e["partner"].update(country="ZZ"), "partner.country"),
        (lambda e: e["partner"].update(country="xx"), "partner.country"),
        (lambda e: e["partner"].update(country="Gb"), "partner.country"),
        (lambda e: e["partner"].update(country="AN"), "partner.country"),
    ],
    ids=[
        "blank-name",
        "empty-name",
        "long-name",
        "long-id",
        "hash-id",
        "slash-id",
        "blank-in-id",
        "control-in-id",
        "newline-after-id",
        "non-ascii-id",
        "dot-id",  # a URL resolves `.` and `..` away: such an id could not be read back by its URL
        "dot-dot-id",
        "number-id",
        "email",
        "ip",
        "number-ip",
        "before-2000",
        "year-1",
        "unix-time",
        "not-rfc3339",
        "country-of-no-country",  # a made-up country would hide where a partner is from detection
        "lower-case-country-of-no-country",
        "mixed-case-country",  # the OpenAPI document lists each code in upper and lower case only
        "withdrawn-country",  # the Netherlands Antilles, dissolved in 2010
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
    "name",
    ["\u200b", "\u200b\u200d\u2060", "\x00", " \ufeff\x1b ", "\u202e", "\u00ad", "\u3164", "\u2800 \ufe0f"],
)
def test_a_required_name_with_nothing_that_shows_is_blank(name):
    # a partner named only by zero-width or control characters was taken, and listed as no name
    raw = sample("partnership.created")
    raw["partner"]["name"] = name

    assert _errors(raw) == {"partner.name"}


@pytest.mark.parametrize(
    "name",
    [
        "\u0639\u0644\u06cc\u200c\u0627\u06a9\u0628\u0631 Mahdi",
        "\U0001f469\u200d\U0001f4bb Dev Deals",
        "Ada\u0000 Lovelace",
    ],
)
def test_a_required_name_with_something_that_shows_is_taken_as_written(name):
    raw = sample("partnership.created")
    raw["partner"]["name"] = name

    assert _valid(raw).partner.name == name


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


@pytest.mark.parametrize(
    ("currency", "amount", "stored"),
    [
        ("EUR", "1.5", "EUR"),
        ("eur", "1.5", "EUR"),
        ("CLF", "1.2345", "CLF"),
        ("XOF", "500", "XOF"),
        ("uyw", "0.0001", "UYW"),
    ],
)
def test_every_case_of_an_iso_4217_code_of_money_is_taken_in_upper_or_lower_case(currency, amount, stored):
    raw = sample("reward.created")
    raw["reward"].update(amount=amount, currency=currency)

    assert _valid(raw).reward.currency == stored


@pytest.mark.parametrize(
    "currency",
    [
        "ZZZ",  # no such code
        "Eur",  # neither case: a typo more likely than a code
        "XXX",  # "no currency"
        "XAU",  # gold: a unit of no program's payouts, and without decimal places to check
        "XTS",  # reserved for tests
        "EURO",
        "€",
    ],
)
def test_a_currency_that_is_not_an_iso_4217_code_of_money_is_refused(currency):
    raw = sample("transaction.created")
    raw["transaction"]["currency"] = currency

    assert _errors(raw) == {"transaction.currency"}


def test_the_codes_taken_are_the_standards_with_their_own_decimal_places():
    import iso4217

    from functions.shared.money import currencies, decimal_places

    listed = {code for code, entry in iso4217.raw_table.items() if str(entry["CcyMnrUnts"]).isdigit()}
    assert set(currencies()) == listed and len(listed) > 150
    assert (decimal_places("JPY"), decimal_places("BHD"), decimal_places("CLF"), decimal_places("usd")) == (
        0,
        3,
        4,
        2,
    )


def test_a_fingerprint_past_512_characters_is_kept_as_its_hash_whatever_its_case():
    def fingerprint(value: str) -> str | None:
        raw = sample("partnership.created")
        raw["session"]["device_fingerprint"] = value
        return _valid(raw).session.device_fingerprint

    assert fingerprint("f" * 512) == "f" * 512
    hashed = fingerprint("fp-" + "x" * 600)
    assert hashed.startswith("sha256:") and len(hashed) == 71
    assert fingerprint("FP-" + "X" * 600) == hashed


@pytest.mark.parametrize(
    ("amount", "says"),
    [
        ("-5", "must be more than 0"),
        ("10.0000001", "at most 6 decimal places, not 7"),
        ("10.00000010", "at most 6 decimal places, not 7"),
        ("+5", "digits without a sign"),
        ("99999999999999", "at most 10^12"),
        ("12,50", "a decimal string of digits"),
        ("00000000000000000000001", "at most 13 digits before the point, not 23"),
    ],
)
def test_an_amount_written_wrong_is_told_what_is_wrong_with_it(amount, says):
    # "-5" and "10.0000000" were "a decimal string of digits", which both are
    from pydantic import ValidationError

    from functions.shared.partner_events import Money

    with pytest.raises(ValidationError) as refused:
        Money.model_validate({"currency": "EUR", "amount": amount})

    assert says in refused.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("amount", "currency"), [("12.50000000", "USD"), ("1000.00000000", "JPY"), ("10.0000000", "EUR")]
)
def test_an_amount_with_zeros_past_six_places_is_its_value(amount, currency):
    """An ingest tester's: a DECIMAL(18,8) column's export (`12.50000000`) was 422, at most 6
    decimal places, while the JSON number 12.50000000 was taken: the value decides, not its zeros."""
    from decimal import Decimal

    from functions.shared.partner_events import Money

    assert Money.model_validate({"currency": currency, "amount": amount}).amount == Decimal(amount)


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        ("transaction.created", lambda e: e["transaction"].update(currency="ZZZ")),
        ("transaction.created", lambda e: e["transaction"].update(currency="Eur")),
        ("partnership.created", lambda e: e["partner"].update(name="\u200b")),
        ("partnership.created", lambda e: e["partner"].update(country="ZZ")),
    ],
)
def test_a_body_stored_under_an_earlier_rule_is_scored_as_it_was_accepted(kind, change):
    # scoring validates the stored body again: an event accepted (and queued) before a rule was made
    # stricter was refused when scored, and marked failed: an accepted event lost
    from functions.shared.inputs import STORED

    raw = sample(kind)
    change(raw)

    assert _errors(raw)  # refused at ingest now
    assert events.validate_python(raw, context=STORED).type == kind


@pytest.mark.parametrize(
    ("sent", "read"),
    [("GB", "GB"), ("gb", "GB"), ("UK", "GB"), ("uk", "GB"), ("XK", "XK"), ("EL", "GR"), ("el", "GR")],
)
def test_a_country_is_an_iso_3166_code_in_either_case_and_uk_and_el_are_the_uk_and_greece(sent, read):
    raw = sample("partnership.created")
    raw["partner"]["country"] = sent

    assert events.validate_python(raw).partner.country == read


@pytest.mark.parametrize("stored", [False, True], ids=["at-ingest", "when-scored"])
@pytest.mark.parametrize(
    ("kind", "change", "read", "note"),
    [
        (
            "transaction.created",
            lambda e: e["customer"].update(country="ZZ"),
            lambda e: e.customer.country,
            "customer.country ignored: not an ISO 3166 alpha-2 code",
        ),
        (
            "account.updated",
            lambda e: e["partner"].update(country="ZZ"),
            lambda e: e.partner.country,
            "partner.country ignored: not an ISO 3166 alpha-2 code",
        ),
        (
            "partnership.created",
            lambda e: e["partner"]["address"].update(country="QQ"),
            lambda e: e.partner.address,
            "partner.address ignored: not an address with an ISO 3166 alpha-2 country",
        ),
    ],
    ids=["customer", "account-update", "address"],
)
def test_an_optional_country_of_no_country_is_ignored_naming_the_field_at_ingest_and_when_scored(
    kind, change, read, note, stored
):
    # scoring validates the stored body again (`STORED`): kept there, a placeholder stood for the
    # partner's country (an account update) and hid its sessions' country from detection
    from functions.shared.inputs import STORED

    raw = sample(kind)
    change(raw)
    ignored: list[str] = []

    event = events.validate_python(raw, context={**(STORED if stored else {}), "ignored": ignored})

    assert read(event) is None
    assert ignored == [note]


def test_every_country_the_schema_lists_is_taken_and_only_those():
    from pydantic import TypeAdapter

    from functions.shared.inputs import Country

    schema = events.json_schema()
    listed = _country_enum(schema)
    adapter = TypeAdapter(Country)

    assert "GB" in listed and "gb" in listed and "UK" in listed and "ZZ" not in listed and "Gb" not in listed
    assert all(adapter.validate_python(code) for code in listed)


def _country_enum(schema: dict) -> set[str]:
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "GB" in node.get("enum", ()):
                found.update(node["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


@pytest.mark.parametrize("email", ["wang@qq。com", "wang@qq．com", "wang@163｡com", "ｗａｎｇ＠qq.com"])
def test_an_address_typed_with_an_east_asian_keyboards_signs_is_an_address(email):
    """An integration tester's: a partner's address typed with an input method's full stop or at
    sign was a 422 and the sign-up lost, though its keys read it as the address it is
    (`identity.email_keys`). The form reads them as `@` and `.` too; the address is kept as sent."""
    import re

    from functions.shared.domain.identity import email_keys
    from functions.shared.inputs import EMAIL_PATTERN

    raw = sample("partnership.created")
    raw["partner"]["email"] = email

    assert events.validate_python(raw).partner.email == email
    assert re.match(EMAIL_PATTERN, email)  # the OpenAPI document's pattern says so too
    assert email_keys(email).normalized.endswith(("@qq.com", "@163.com"))
    for wrong in ("wang＠qq", "wang@qq。", "wang＠＠qq.com"):  # still no address without both
        raw["partner"]["email"] = wrong
        assert _errors(raw) == {"partner.email"}, wrong
