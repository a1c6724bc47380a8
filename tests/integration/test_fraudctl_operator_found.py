"""What an operator tester met using fraudctl through its real entry point (click's runner in this
process, against the table of this environment or a recording HTTP server): a name's line breaks
drawing a case that does not exist, a case's holds in one currency of several, a key pasted as a
leak shows it, a gzip file, files joined by `cat`, a loyalty line naming a key twice, a stop's
message and a number of lanes past reason."""

from __future__ import annotations

import codecs
import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from fraudctl.cli import cli, one_line
from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Case, Reason
from functions.shared.domain.writes import PutCase, Step
from tests.integration import test_fraudctl_replay as replaying

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)
recorder, fraudctl_env, replay, _body = (  # the recording API and fraudctl's environment for it
    replaying.recorder,
    replaying.fraudctl_env,
    replaying.replay,
    replaying._body,
)


def test_a_name_with_line_breaks_stays_on_its_case_s_lines(aws, monkeypatch):
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Forged").program_id
    forged = "Mallory\n  held: 0\n\ncase_0000000000000000  approved  flagged 2026-11-01 00:00 UTC\r\tHonest"
    case = Case(
        program, "case-real", "partner", "p-1", forged, [Reason("velocity", "x", 1, "a")], "open", T0, "e"
    )
    store.apply(Step([PutCase(case)]))

    for columns in ("80", "160"):
        ran = CliRunner().invoke(cli, ["cases", "--program", program], env={"COLUMNS": columns})
        assert ran.exit_code == 0, ran.output
        assert "Mallory<U+0A>  held: 0<U+0A><U+0A>case_0000" in ran.output.replace("\n", "").replace("│", "")
    narrow = CliRunner().invoke(cli, ["cases", "--program", program], env={"COLUMNS": "80"}).output
    # the case as the listing shows it: one line of its own that starts with its id, the real one
    assert [line for line in narrow.splitlines() if line.startswith("case")] == [
        line for line in narrow.splitlines() if line.startswith("case-real")
    ]
    assert one_line("a\nb\tc\r\u2028d") == "a<U+0A>b<U+09>c<U+0D><U+2028>d"


def test_a_case_holding_several_currencies_lists_each(aws, monkeypatch):
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Currencies").program_id
    case = Case(
        program, "case-cur", "partner", "p-1", "Ada", [Reason("velocity", "x", 1, "a")], "open", T0, "e"
    )
    # 10 EUR, 500 USD and 5 EUR held: the case counts them as it holds them
    case.hold_micros, case.held_count = {"EUR": 15_000_000, "USD": 500_000_000}, 3
    store.apply(Step([PutCase(case)]))
    listed = json.loads(CliRunner().invoke(cli, ["cases", "--program", program, "--json"]).output)
    amounts = {m["currency"]: m["amount"] for m in listed["cases"][0]["hold_amounts"]}

    ran = CliRunner().invoke(cli, ["cases", "--program", program], env={"COLUMNS": "80"})

    assert ran.exit_code == 0, ran.output
    assert amounts == {"EUR": "15.00", "USD": "500.00"}
    for currency, amount in amounts.items():
        assert f"{amount} {currency}" in ran.output, ran.output


def test_a_key_pasted_with_blanks_or_as_its_header_is_revoked_and_never_echoed(aws, monkeypatch):
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Keys").program_id
    for pasted in (
        " {key}\n",
        "Bearer {key}",
        "bearer   {key} ",
        "Authorization: Bearer {key}",
        "Bearer\t{key}",
    ):
        record, key = tenancy.create_key(store, FixedClock(T0), program, "integration", "Backend")

        ran = CliRunner().invoke(cli, ["revoke-key", pasted.format(key=key), "--json"])

        assert ran.exit_code == 0, ran.output
        assert json.loads(ran.stdout)["key_id"] == record.key_id
        assert json.loads(ran.stdout)["already_revoked"] is False
        assert store.get_api_key(record.key_id).revoked_at is not None
    again = CliRunner().invoke(cli, ["revoke-key", record.key_id])  # a newcomer tester's: said revoked again
    assert again.exit_code == 0 and f"key {record.key_id} was revoked already, at " in again.output, (
        again.output
    )
    # at a time written as the other commands write one (the forty-ninth session's operator: it was
    # Python's `2026-12-07 19:41:14.363470+00:00`)
    assert re.search(r"revoked already, at \d{4}-\d\d-\d\d \d\d:\d\d UTC;", again.output), again.output
    assert json.loads(CliRunner().invoke(cli, ["revoke-key", record.key_id, "--json"]).stdout)[
        "already_revoked"
    ]
    _, key = tenancy.create_key(store, FixedClock(T0), program, "integration", "Backend")
    refused = CliRunner().invoke(cli, ["revoke-key", f"Token {key}"])
    assert refused.exit_code == 2 and "neither a key's id" in refused.output
    assert key.split("_", 2)[2] not in refused.output  # the secret, never echoed


def test_a_gzip_file_is_replayed_as_its_lines(recorder, fraudctl_env, tmp_path: Path):
    bodies = [_body("partnership.created", f"p{i}", f"gz{i}") for i in range(3)]
    file = tmp_path / "events.jsonl.gz"
    file.write_bytes(gzip.compress("\n".join(json.dumps(b) for b in bodies).encode()))
    recorder.clear()

    code, report, _ = replay(file)

    assert (code, report["statuses"]) == (0, {"202": 3})
    assert [json.loads(a.body) for a in recorder.arrivals] == bodies
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(file.read_bytes()[:20])
    recorder.clear()
    ran = CliRunner().invoke(cli, ["replay", str(cut), "--key", "fmk_test"])
    assert ran.exit_code == 1 and "gzip" in ran.output and recorder.arrivals == []


def test_files_joined_by_cat_each_with_its_mark_are_read_whole(recorder, fraudctl_env, tmp_path: Path):
    first, second = (_body("partnership.created", f"p{i}", f"cat{i}") for i in range(2))
    file = tmp_path / "joined.jsonl"
    file.write_bytes(b"".join(codecs.BOM_UTF8 + json.dumps(b).encode() + b"\r\n" for b in (first, second)))
    recorder.clear()

    code, report, _ = replay(file)

    assert (code, report["statuses"]) == (0, {"202": 2})


def test_a_loyalty_line_naming_a_key_twice_is_sent_as_written(recorder, fraudctl_env, tmp_path: Path):
    line = b'{"id":"dup-1","customer_id":"c0","points":5,"points":100,"kind":null}'
    file = tmp_path / "loyalty.jsonl"
    file.write_bytes(line + b"\n")
    recorder.clear()

    replay(file)

    [arrival] = recorder.arrivals
    assert arrival.body == line  # for the API to refuse (400), not the last value alone, applied


def test_lanes_past_reason_are_refused_before_anything_is_sent(recorder, fraudctl_env, tmp_path: Path):
    file = tmp_path / "few.jsonl"
    file.write_text(json.dumps(_body("partnership.created", "p1", "lanes1")) + "\n")
    recorder.clear()

    ran = CliRunner().invoke(cli, ["replay", str(file), "--key", "fmk_test", "--lanes", "1000000000"])

    assert ran.exit_code == 2 and "--lanes" in ran.output and recorder.arrivals == []


def test_standard_input_is_replayed_as_a_file(recorder, fraudctl_env):
    bodies = [_body("partnership.created", f"p{i}", f"stdin{i}") for i in range(2)]
    recorder.clear()

    ran = CliRunner().invoke(
        cli,
        ["replay", "-", "--key", "fmk_test", "--json"],
        input=gzip.compress(b"\n".join(json.dumps(b).encode() for b in bodies)),
    )

    assert ran.exit_code == 0, ran.output
    assert [json.loads(a.body) for a in recorder.arrivals] == bodies


def test_a_program_named_where_its_id_is_asked_says_where_the_ids_are(aws, monkeypatch):
    # the forty-ninth session's operator: `--program "Demo partner program"` said only "not found"
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    tenancy.create_program(aws.repository, FixedClock(T0), "Demo partner program")

    ran = CliRunner().invoke(cli, ["cases", "--program", "Demo partner program"])

    assert ran.exit_code == 1, ran.output
    assert ran.stderr.startswith("error: program Demo partner program not found"), ran.stderr
    assert "`fraudctl programs` lists each program's id" in ran.stderr
