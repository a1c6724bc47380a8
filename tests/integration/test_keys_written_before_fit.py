"""`keys._fit` re-keys every identifier past 400 UTF-8 bytes, but DynamoDB took link
partition keys up to 2,048 bytes (and spill sort keys up to 1,024) before it. An identifier of 401
to ~1,990 bytes written before the upgrade (a 450-character ASCII fingerprint; an address or a
fingerprint of 200 non-Latin characters) sits under its text; after the upgrade every read and
write goes to its digest, so the link written before is never read again: a device or an address
that linked two accounts before the upgrade links nothing after it (the memory store, keyed by
the text, still links them: the two stores disagree on data of before).

The "previous version" is `keys._fit` as the identity, as the key layout was before 7815470."""

from __future__ import annotations

from functions.shared.storage import keys
from tests.integration.scoring_support import codes, drain, send, signup, status

LONG_ASCII_FP = "fpjs-v3:" + "a1b2c3d4e5" * 45  # 458 ASCII characters: kept as sent, 458 bytes


def _second_account_reasons(aws, tenant, monkeypatch, *, before_upgrade: bool):
    with monkeypatch.context() as m:
        if before_upgrade:
            m.setattr(keys, "_fit", lambda prefix, value, most: prefix + value)  # the layout before 7815470
        send(tenant, signup("p-first", device=LONG_ASCII_FP, ip="81.2.69.10", at="2026-11-01T09:00:00Z"))
        drain(aws)
    second = send(
        tenant, signup("p-second", device=LONG_ASCII_FP, ip="81.2.69.77", at="2026-11-02T09:00:00Z")
    )
    drain(aws)
    decision = status(tenant, second["id"])["decision"]
    return codes(tenant, second["id"]), " ".join(r.get("detail", "") for r in decision["reasons"])


def test_control_a_device_shared_by_two_partners_after_the_upgrade_links_them(aws, tenant, monkeypatch):
    found, details = _second_account_reasons(aws, tenant, monkeypatch, before_upgrade=False)
    assert "p-first" in details, (found, details)


def test_a_device_link_written_before_the_upgrade_still_links_the_second_account(aws, tenant, monkeypatch):
    # Given a partner whose 458-character fingerprint was linked by the previous version (its link
    # item keyed by the text, 458 bytes: DynamoDB took it), When a second partner signs up from that
    # device after the upgrade, Then the device names the first partner, as it did before
    found, details = _second_account_reasons(aws, tenant, monkeypatch, before_upgrade=True)
    assert "p-first" in details, (
        "the link written before the upgrade is under the fingerprint's text; scoring now reads "
        "its digest only",
        found,
        details,
    )
