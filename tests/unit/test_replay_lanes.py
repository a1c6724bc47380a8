"""Which lane `fraudctl replay` sends an event through: its subject's, the same in every process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from fraudctl.replay import lane_of, send_events, subject_of
from functions.shared.event_subjects import PARTNER_FIELDS
from functions.shared.partner_events import EVENT_TYPES
from tests.support import sample


def _subject(event: object) -> str:
    return subject_of(json.dumps(event).encode())


def test_every_partner_event_type_names_its_partner():
    assert set(PARTNER_FIELDS) == EVENT_TYPES
    created = sample("partnership.created", id="e1")
    partner = created["partner"]["id"]
    updated = sample("account.updated", id="e2")
    updated["partner"]["id"] = partner
    transaction = sample("transaction.created", id="e3", partner_id=partner)
    reward = sample("reward.created", id="e4")
    reward["reward"]["partner_id"] = partner

    subjects = {_subject(event) for event in (created, updated, transaction, reward)}

    assert subjects == {f"partner:{partner}"}


def test_a_loyalty_body_is_its_customer_s_and_anything_else_its_own():
    assert _subject({"id": "l1", "customer_id": "c1", "points": 5}) == "customer:c1"
    assert _subject({"id": "x1", "type": "unknown.type", "partner_id": "p1"}) == "event:x1"
    assert subject_of(b"{not json") == "body:{not json"
    deep = b"[" * 100_000 + b"]" * 100_000  # past the parser's recursion: sent on, the API answers 400
    assert subject_of(deep).startswith("body:[[[")


@pytest.mark.parametrize(
    "event",
    [
        {"id": "e1", "type": ["partnership.created"], "partner": {"id": "p1"}},  # an unhashable type
        {"id": "e1", "type": "transaction.created", "partner_id": 7},
        {"id": "e1", "type": "transaction.created", "partner_id": ""},
        {"id": "e1", "type": "reward.created", "reward": "p1"},
        {"id": "e1", "type": "partnership.created", "partner": None},
        {"id": "e1", "customer_id": {"id": "c1"}},
        {"id": "e1", "type": "reward.created", "customer_id": "c1"},  # a partner event without one
    ],
)
def test_an_event_whose_subject_field_is_missing_or_not_an_id_goes_by_its_own_id(event):
    assert _subject(event) == "event:e1"


@pytest.mark.parametrize("body", [b"[1, 2]", b'"text"', b"{}", b'{"id": 5}', b"\xff\xfe{", b"null"])
def test_a_body_naming_no_one_goes_by_itself(body):
    assert subject_of(body).startswith("body:")
    assert 0 <= lane_of(subject_of(body), 4) < 4


def test_a_lone_surrogate_in_an_id_still_has_a_lane():
    subject = subject_of(b'{"id": "e1", "type": "transaction.created", "partner_id": "\\ud800"}')

    assert subject == "partner:\ud800"
    assert 0 <= lane_of(subject, 3) < 3


def test_lanes_are_the_same_whatever_the_process_s_hash_seed():
    subjects = [f"partner:p{i}" for i in range(50)] + ["customer:π", "event:x"]
    script = (
        "import json, sys; from fraudctl.replay import lane_of; "
        "print(json.dumps([lane_of(s, 7) for s in json.load(sys.stdin)]))"
    )

    def lanes_with(seed: str) -> list[int]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        ran = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(subjects),
            env=env,
            capture_output=True,
            text=True,
        )
        assert ran.returncode == 0, ran.stderr
        return json.loads(ran.stdout)

    assert lanes_with("1") == lanes_with("2") == [lane_of(s, 7) for s in subjects]


def test_subjects_spread_over_every_lane():
    lanes = [lane_of(f"partner:p{i}", 4) for i in range(200)]

    assert {lane: lanes.count(lane) > 20 for lane in range(4)} == dict.fromkeys(range(4), True)


@pytest.mark.parametrize("lanes", [0, -1])
def test_send_events_refuses_fewer_than_one_lane(lanes):
    with pytest.raises(ValueError, match="lanes"):
        send_events("http://127.0.0.1:1", [("k", {"id": "e1"})], lanes=lanes)
