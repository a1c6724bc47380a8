"""`fraudctl cases` through its real entry point (click's runner, against the table of this
environment): the newest cases of a view, at most `--limit` of them, read from the view's index a
page at a time, not the whole view."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from fraudctl.cli import cli
from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.domain.model import Case, Reason
from functions.shared.domain.writes import PutCase, Step
from tests.integration.test_loyalty_support import DynamoCalls

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def _cases(program: str, count: int, status: str) -> list[Case]:
    return [
        Case(
            program,
            f"case-{status}-{n:04d}",
            "partner",
            f"p-{n}",
            f"Partner {n}",
            [Reason("velocity", "x", 1, "a")],
            status,
            T0 + timedelta(minutes=n),
            f"e-{n}",
        )
        for n in range(count)
    ]


def _listed(*args: str) -> dict:
    ran = CliRunner().invoke(cli, ["cases", *args, "--json"])
    assert ran.exit_code == 0, ran.output
    return json.loads(ran.output)


def test_cases_lists_the_newest_of_a_view_up_to_the_limit_reading_a_page(aws, monkeypatch):
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")  # the table of this environment (moto, in process)
    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Listed").program_id
    active = _cases(program, 300, "open")
    store.apply(Step([PutCase(c) for c in active[:100]]))
    store.apply(Step([PutCase(c) for c in active[100:200]]))
    store.apply(Step([PutCase(c) for c in active[200:]]))
    store.apply(Step([PutCase(c) for c in _cases(program, 5, "approved")]))
    newest_first = [c.case_id for c in reversed(active)]

    with DynamoCalls() as calls:
        first = _listed("--program", program, "--limit", "10")
    assert [c["id"] for c in first["cases"]] == newest_first[:10]
    assert first["more"] is True
    read = sum(n for name, _, n, _ in calls.calls if name == "Query")
    assert read <= 60, read  # about a page of the index, not the 300 cases of the view

    every = _listed("--program", program, "--limit", "1000")
    assert [c["id"] for c in every["cases"]] == newest_first
    assert every["more"] is False
    resolved = _listed("--program", program, "--view", "resolved")
    assert sorted(c["id"] for c in resolved["cases"]) == [f"case-approved-{n:04d}" for n in range(5)]

    table = CliRunner().invoke(cli, ["cases", "--program", program, "--limit", "3"], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.output
    for case in newest_first[:3]:  # whole in an 80-column terminal, to be copied
        assert case in table.output, table.output
    assert "2026-11-02 13:59" in table.output  # the newest case's flag, to the minute
    assert "the newest 3 shown; more with --limit" in table.output
    # each word whole (a table's six columns in 80 split them: "subjec / t", "veloci / ty")
    assert "subject: partner Partner 299" in table.output and "reasons: velocity" in table.output
    wide = CliRunner().invoke(cli, ["cases", "--program", program, "--limit", "3"], env={"COLUMNS": "160"})
    assert wide.exit_code == 0 and "┃ subject" in wide.output, wide.output  # a table where it fits

    refused = CliRunner().invoke(cli, ["cases", "--program", program, "--limit", "0"])
    assert refused.exit_code == 2 and "--limit" in refused.output
    unknown = CliRunner().invoke(cli, ["cases", "--program", "prg-nope"])
    assert unknown.exit_code == 1 and "not found" in unknown.output
    # a newcomer tester's: an empty view printed its header alone
    empty = CliRunner().invoke(cli, ["cases", "--program", program, "--view", "removed"])
    assert (empty.exit_code, empty.output.strip()) == (0, f"removed cases of {program}: none"), empty.output
    # and an empty --program made no platform key: it said `program  not found`
    blank = CliRunner().invoke(cli, ["create-key", "--program", " ", "--role", "fraud", "--actor", "x"])
    assert blank.exit_code == 2 and "a program's id, not empty" in blank.output, blank.output


def test_a_name_a_sender_chose_is_printed_as_text_never_as_markup_or_terminal_control(aws, monkeypatch):
    # a fraudster's sign-up names the partner; the operator's listing must neither break nor obey it
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    store = aws.repository
    program = tenancy.create_program(store, FixedClock(T0), "Named").program_id
    names = {
        "case-markup-close": "[/]",
        "case-markup-link": "[bold red]EVIL[/bold red] [link=https://evil.example]click here[/link]",
        "case-escape": "Retitled\x1b]0;PWNED\x07 \x1b[2J\u202egpj.exe",
        # joiners are how these are written: shown as they are
        "case-joined": "\u0639\u0644\u06cc\u200c\u0627\u06a9\u0628\u0631 \U0001f469\u200d\U0001f4bb",
        "case-latin-joined": "Ada\u200dLovelace",  # beside ASCII a joiner only hides
    }
    store.apply(
        Step(
            [
                PutCase(replace(_cases(program, 1, "open")[0], case_id=case_id, subject_name=name))
                for case_id, name in names.items()
            ]
        )
    )

    table = CliRunner().invoke(cli, ["cases", "--program", program], env={"COLUMNS": "200"})

    assert table.exit_code == 0, table.output
    assert "[/]" in table.output  # printed as written, not taken as a closing tag
    assert "[bold red]EVIL[/bold red]" in table.output and "[link=https://evil.example]" in table.output
    assert "\x1b" not in table.output and "\x07" not in table.output and "\u202e" not in table.output
    assert "Retitled<U+1B>]0;PWNED<U+07> <U+1B>[2J<U+202E>gpj.exe" in table.output
    assert "<U+200C>" not in table.output and "Ada<U+200D>Lovelace" in table.output
    assert table.output.count("<U+200D>") == 1  # the emoji's joiner is how it is written


def test_a_table_that_does_not_exist_is_said_so_not_taken_for_an_outage(aws, monkeypatch):
    """A wrong TABLE_NAME (or region, or permissions) read as "the table did not answer", an outage."""
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    monkeypatch.setenv("TABLE_NAME", "no-such-table")

    ran = CliRunner().invoke(cli, ["cases", "--program", "prg-any"])

    assert ran.exit_code == 1, ran.output
    assert "the table does not exist (check TABLE_NAME and the region)" in ran.output, ran.output


def test_programs_lists_each_program_with_its_id_and_name_as_text(aws, monkeypatch):
    """A newcomer tester's: the README's create-program run twice made two programs of one name, and
    no command could list them to find either id."""
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")
    made = [
        tenancy.create_program(aws.repository, FixedClock(T0), name).program_id
        for name in ("Acme partners", "Acme partners", "Łódź Partners")
    ]

    listed = CliRunner().invoke(cli, ["programs", "--json"])
    text = CliRunner().invoke(cli, ["programs"])

    assert listed.exit_code == 0 and text.exit_code == 0, (listed.output, text.output)
    programs = {p["program_id"]: p for p in json.loads(listed.output)["programs"]}
    assert set(made) <= programs.keys()
    assert [programs[i]["name"] for i in made] == ["Acme partners", "Acme partners", "Łódź Partners"]
    assert (
        programs[made[0]]["created_at"] == "2026-11-02T09:00:00Z"  # as the API writes a time
        and not programs[made[0]]["signs_events"]
    )
    assert all(f"{program_id}  2026-11-02 09:00 UTC  UTC" in text.output for program_id in made), text.output
    assert "Łódź Partners" in text.output
