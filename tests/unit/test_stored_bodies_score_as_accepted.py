"""Whatever ingest accepts, scoring takes back from the stored body (SPEC 1: an accepted event is
never lost). The score function reads the body as it was stored (`pack_json`: JSON, a number read
with its digits written by `json_default`), where a number may come back as text; an amount
written `10.0000000` was accepted, then refused there for its seven places, and the event failed."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from functions.shared.documents import json_default, read_json
from functions.shared.inputs import STORED
from functions.shared.partner_events import PartnerEvent
from tests.support import sample

_EVENTS: TypeAdapter[Any] = TypeAdapter(PartnerEvent)


@st.composite
def written_numbers(draw: st.DrawFn) -> str:
    """A JSON number as some serializer writes an amount: digits, a fraction with zeros after it or
    not, an exponent or not."""
    whole = draw(st.from_regex(r"[1-9][0-9]{0,12}|0", fullmatch=True))
    fraction = draw(st.from_regex(r"[0-9]{0,4}", fullmatch=True)) + "0" * draw(st.integers(0, 12))
    exponent = draw(
        st.sampled_from(["", "", f"e{draw(st.integers(-8, 12))}", f"E+{draw(st.integers(0, 3))}"])
    )
    return whole + (f".{fraction}" if fraction else "") + exponent


@settings(max_examples=300, deadline=None)
@given(written=written_numbers(), event_type=st.sampled_from(["transaction.created", "reward.created"]))
def test_an_amount_ingest_accepts_is_scored_from_its_stored_body_at_the_same_value(written, event_type):
    event = sample(event_type)
    money = "transaction" if event_type == "transaction.created" else "reward"
    event[money]["amount"] = "__AMOUNT__"
    text = json.dumps(event).replace('"__AMOUNT__"', written)
    try:
        accepted = _EVENTS.validate_python(read_json(text))  # as the ingest route reads it
    except ValidationError:
        return  # refused at ingest: a 422, nothing stored
    stored = json.loads(json.dumps(read_json(text), sort_keys=True, default=json_default))

    scored = _EVENTS.validate_python(stored, context={**STORED, "ignored": []})

    assert getattr(scored, money).amount == getattr(accepted, money).amount
