"""The signature scheme of SPEC 2, one for both directions: events a program sends are verified
with it (`auth.verify_signature`), webhook deliveries are signed with it
(`domain.webhooks.signature_header`), so a receiver verifies a delivery with the code it signs its
events with.

`X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, one `v1=` per
secret that signs (a rotated secret keeps signing for `SECRET_OVERLAP`)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import timedelta

SECRET_OVERLAP = timedelta(hours=24)  # a rotated secret keeps signing (and being accepted) this long


def digest(secret: str, timestamp: str, raw_body: bytes) -> str:
    """HMAC-SHA256 of `<t>.<body>`, the timestamp as written."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()


def header(timestamp: int, secrets: Sequence[str], raw_body: bytes) -> str:
    """The header's value: the time, then one `v1=` per secret."""
    return ",".join([f"t={timestamp}", *(f"v1={digest(s, str(timestamp), raw_body)}" for s in secrets)])
