"""A body sent with a Content-Encoding (gzip, br, ...) is refused with 415 naming the coding, before
anything is read or recorded, through the real handlers on moto: a gzip body was answered 400 "the
body is not UTF-8 text", and a plain body labelled `Content-Encoding: gzip` was taken as plain."""

from __future__ import annotations

import base64
import gzip
import json

import pytest

from tests.support import call, proxy_event, sample


def _event(key: str, body: bytes, coding: str | None):
    event = proxy_event("POST", "/v1/events", "", key, headers={"Content-Encoding": coding} if coding else {})
    event["headers"]["Content-Type"] = "application/json"
    event["body"], event["isBase64Encoded"] = (
        base64.b64encode(body).decode(),
        True,
    )  # as the gateway sends bytes
    return event


@pytest.mark.parametrize(
    ("coding", "compress", "named"),
    [
        ("gzip", gzip.compress, "gzip"),
        ("gzip", lambda body: body, "gzip"),  # labelled so, sent plain: which is it?
        ("GZIP", gzip.compress, "GZIP"),
        ("identity, gzip", gzip.compress, "gzip"),
        ("br", lambda body: body, "br"),
    ],
)
def test_a_body_sent_with_a_content_coding_is_refused_naming_it(aws, tenant, coding, compress, named):
    body = json.dumps(sample("reward.created")).encode()

    answer = call("ingest", _event(tenant.keys["integration"], compress(body), coding))

    assert answer.status == 415, answer
    assert answer.body["detail"] == f"Content-Encoding {named} is not accepted: send the body uncompressed"
    assert aws.queued() == []


@pytest.mark.parametrize("coding", [None, "identity", "Identity", ""])
def test_a_body_as_sent_is_taken(aws, tenant, coding):
    body = json.dumps(sample("reward.created")).encode()

    answer = call("ingest", _event(tenant.keys["integration"], body, coding))

    assert answer.status == 202, answer


def test_the_coding_is_refused_before_the_key_is_read(aws):
    # invoked directly (no edge authorizer ran), the gate refuses such a body before it reads a key
    body = gzip.compress(json.dumps(sample("reward.created")).encode())

    answer = call("ingest", _event("", body, "gzip"))

    assert answer.status == 415, answer
