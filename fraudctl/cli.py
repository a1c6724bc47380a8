"""fraudctl: the operator's command-line tool (SPEC section 9).

Programs and keys are written straight to the table with the operator's AWS credentials (the API
never creates tenants); events are replayed through the HTTP API like any integration.

\b
Environment (`make run` prints the local ones):
  FRAUDCTL_TARGET    local (default) or aws
  TABLE_NAME         the table (a deployed stack's TableName output)
  FRAUD_API_URL      the API (a deployed stack's ApiUrl output)
  FRAUD_API_KEY      the key `replay` sends with, when --key is not given
  FRAUD_STACK_NAME   a stack deployed with -c stackName: its functions and signing key
  AWS_ENDPOINT_URL   the AWS stand-in, for local (default http://127.0.0.1:4566)
  AWS_REGION, AWS_PROFILE and the usual credentials, for aws"""

from __future__ import annotations

import json
import math
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from fraudctl.config import Target
from functions.shared.errors import DomainError
from functions.shared.invisible import HIDDEN_MARKS


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    from functions.shared.documents import json_default  # times as RFC 3339 UTC, as the API writes them

    click.echo(json.dumps(payload, default=json_default) if as_json else text)


# Control characters (C0 but tab and newline, DEL, C1) and the marks that reorder or hide text
# (`invisible.HIDDEN_MARKS`: bidirectional overrides and isolates, zero-width ones): what a sender
# could put in a name to move the cursor, clear the screen, retitle the window or disguise the text
# an operator reads; the joiners U+200C and U+200D only beside ASCII (`Ada` + U+200D + `Lovelace`):
# between the letters of Persian, Indic scripts or emoji they are how those are written.
_UNPRINTABLE = re.compile(
    f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{HIDDEN_MARKS}]"
    "|(?<=[\x21-\x7e])[\u200c\u200d]|[\u200c\u200d](?=[\x21-\x7e])"
)


def terminal_safe(text: str) -> str:
    """Text that integrations or senders wrote, made safe to print on an operator's terminal: each
    control or reordering character shown as its code point (`<U+1B>`), nothing else changed."""
    return _UNPRINTABLE.sub(_code_point, text)


def one_line(text: str) -> str:
    """`terminal_safe`, and its line breaks and tabs shown as code points too: a value in a listing
    or a report's line, where a name's line break drew lines of its own (a case that does not exist,
    `approved`, above the real one's reasons)."""
    return _LINE_BREAKS.sub(_code_point, terminal_safe(text))


_LINE_BREAKS = re.compile("[\t\n\r\x85\u2028\u2029]")


def _code_point(found: re.Match[str]) -> str:
    return f"<U+{ord(found.group()):02X}>"


def _repository():  # noqa: ANN202
    from functions.shared.config import Settings
    from functions.shared.runtime import build_repository

    return build_repository(Settings.from_env())


def _clock():  # noqa: ANN202
    from functions.shared.clock import SystemClock

    return SystemClock()


class _Cli(click.Group):
    """What goes wrong is said in one line on stderr, exit 1: a refusal, a table that does not
    answer, a configuration (the table's name, AWS's region or credentials) that cannot work."""

    def invoke(self, ctx: click.Context) -> Any:
        from functions.shared.config import ConfigurationError
        from functions.shared.errors import NotFound

        try:
            return super().invoke(ctx)
        except NotFound as error:
            program = error.detail.startswith("program ")
            hint = " (`fraudctl programs` lists each program's id)" if program else ""
            _fail(error.detail + hint)
        except DomainError as error:
            _fail(error.detail + _local_hint(ctx, error))
        except ConfigurationError as error:
            _fail(f"configuration: {error}")
        except Exception as error:
            if not type(error).__module__.startswith("botocore."):
                raise
            _fail(f"AWS: {error}")  # no region, no credentials, an endpoint that does not answer


def _local_hint(ctx: click.Context, error: DomainError) -> str:
    """Where fraudctl looked, for a table that did not answer it locally: the one mistake a newcomer
    makes first is a shell without the lines `make run` prints, or no local system running."""
    from functions.shared.errors import StorageUnavailable

    target = ctx.obj
    if not isinstance(error, StorageUnavailable) or not isinstance(target, Target) or not target.local:
        return ""
    return (
        f" (at AWS_ENDPOINT_URL {os.environ.get('AWS_ENDPOINT_URL', '')}: is the local system running? "
        "`make run` starts it and prints what to export)"
    )


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _fail(detail: str) -> None:
    click.echo(f"error: {terminal_safe(detail)}", err=True)
    sys.exit(1)


@click.group(cls=_Cli, help=__doc__, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    try:
        ctx.obj = Target.from_env()
    except ValueError as error:
        raise click.UsageError(str(error)) from None


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")


@cli.command("create-program")
@click.option("--name", required=True, help="The program's display name.")
@click.option("--signing-secret", default=None, help="Require X-Signature on POST /v1/events.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone for loyalty periods.")
@json_option
def create_program(name: str, signing_secret: str | None, timezone: str, as_json: bool) -> None:
    """Creates a program (a tenant); prints its id."""
    from functions.shared import tenancy

    program = tenancy.create_program(_repository(), _clock(), name, signing_secret, timezone)
    _emit(as_json, {"program_id": program.program_id}, f"created program {program.program_id}")


@cli.command("programs")
@json_option
def list_programs(as_json: bool) -> None:
    """Lists the programs: id, name, when made, time zone, and whether it signs its events (a
    program's id lost, or a name created twice, is found here)."""
    from functions.shared.problems import api_time

    programs = [
        {
            "program_id": p.program_id,
            "name": p.name,
            "created_at": api_time(p.created_at),
            "timezone": p.timezone,
            "signs_events": p.signing is not None,
        }
        for p in _repository().list_programs()
    ]
    lines = [
        f"{p['program_id']}  {_minute(p['created_at'])} UTC  {p['timezone']}"
        f"{'  signed' if p['signs_events'] else ''}  {one_line(str(p['name']))}"
        for p in programs
    ]
    _emit(as_json, {"programs": programs}, "\n".join(lines) or "no programs")


@cli.command("set-signing-secret")
@click.option("--program", "program_id", required=True, help="The program.")
@click.option("--secret", default=None, help="The new secret (16 to 256 characters); made here when absent.")
@click.option(
    "--overlap-hours",
    type=click.FloatRange(0, 720),
    default=24,
    show_default=True,
    help="How long the secret it replaces is still accepted (0: refused at once, after a leak).",
)
@click.option(
    "--accept-unsigned-hours",
    type=click.FloatRange(0, 720),
    default=0,
    show_default=True,
    help="A program's first secret only: how long unsigned requests still pass, while its senders "
    "start signing (0: every request must be signed within the minute).",
)
@json_option
def set_signing_secret(
    program_id: str, secret: str | None, overlap_hours: float, accept_unsigned_hours: float, as_json: bool
) -> None:
    """Rotate a program's X-Signature secret (or give it its first); the new one is printed once."""
    from datetime import timedelta

    from functions.shared import tenancy

    for name, hours in (
        ("--overlap-hours", overlap_hours),
        ("--accept-unsigned-hours", accept_unsigned_hours),
    ):
        if not math.isfinite(hours):
            raise click.BadParameter("a number of hours from 0 to 720", param_hint=name)
    program, secret = tenancy.set_signing_secret(
        _repository(),
        _clock(),
        program_id,
        secret,
        timedelta(hours=overlap_hours),
        timedelta(hours=accept_unsigned_hours),
    )
    until, unsigned = program.previous_signing_secret_until, program.unsigned_accepted_until
    _emit(
        as_json,
        {
            "program_id": program.program_id,
            "signing_secret": secret,
            "previous_accepted_until": until,
            "unsigned_accepted_until": unsigned,
        },
        f"signing secret of {program.program_id}: {secret}"
        + (f" (the previous one is accepted until {until:%Y-%m-%d %H:%M} UTC)" if until else "")
        + (f" (unsigned requests are accepted until {unsigned:%Y-%m-%d %H:%M} UTC)" if unsigned else ""),
    )


@cli.command("remove-signing-secret")
@click.option("--program", "program_id", required=True, help="The program.")
@json_option
def remove_signing_secret(program_id: str, as_json: bool) -> None:
    """Stop checking a program's X-Signature: its secrets are forgotten (within a minute)."""
    from functions.shared import tenancy

    program, had = tenancy.remove_signing_secret(_repository(), program_id)
    _emit(
        as_json,
        {"program_id": program.program_id, "removed": had},
        f"{program.program_id} no longer checks X-Signature on POST /v1/events (within a minute)"
        if had
        else f"{program.program_id} had no signing secret: nothing changed",
    )


@cli.command("create-key")
@click.option("--program", "program_id", default=None, help="The program; without it, a platform key.")
@click.option(
    "--role", required=True, type=click.Choice(["integration", "viewer", "fraud", "admin", "security"])
)
@click.option("--actor", required=True, help="Name shown in audit trails.")
@json_option
def create_key(program_id: str | None, role: str, actor: str, as_json: bool) -> None:
    """Creates an API key for a program (or, with --role security and no --program, the platform);
    prints it once."""
    from functions.shared import tenancy

    if program_id is not None and not program_id.strip():  # said `program  not found`
        raise click.BadParameter(
            "a program's id, not empty (without --program: a platform key)", param_hint="--program"
        )
    record, key = tenancy.create_key(_repository(), _clock(), program_id, role, actor)
    _emit(
        as_json,
        {"key_id": record.key_id, "key": key},
        f"key {record.key_id} ({role}, {actor}): {key}\nStore it now: it is not shown again.",
    )


@cli.command("revoke-key")
@click.argument("key")
@json_option
def revoke_key(key: str, as_json: bool) -> None:
    """Revokes a key, named by its id or by the whole key (`fmk_<id>_<secret>`, as a leak shows it)."""
    from functions.shared import tenancy
    from functions.shared.auth import KEY_PREFIX, is_key_id

    # as a leak shows it: blanks around it, the header it was sent in (`Authorization: Bearer ...`)
    text = _AS_SENT.sub("", key.strip())
    key_id = text.split("_", 2)[1] if text.startswith(f"{KEY_PREFIX}_") else text
    if not is_key_id(key_id):  # said without the text: it may be a secret (never echoed)
        raise click.BadParameter(
            "neither a key's id (16 hexadecimal digits) nor a whole key (fmk_<id>_<secret>)"
        )

    from functions.shared.clock import FixedClock
    from functions.shared.problems import api_time

    now = _clock().now()
    record = tenancy.revoke_key(_repository(), FixedClock(now), key_id)
    already = record.revoked_at != now  # a key revoked before keeps the time it was revoked at
    edge = _flush_edge_cache(click.get_current_context().obj)
    said = (
        f"key {record.key_id} was revoked already, at {_minute(api_time(record.revoked_at))} UTC"
        if already
        else f"revoked key {record.key_id}"
    )
    _emit(
        as_json,
        {"key_id": record.key_id, "revoked_at": record.revoked_at, "already_revoked": already, "edge": edge},
        f"{said}; {edge}",
    )


_AS_SENT = re.compile(r"^(?:authorization\s*:\s*)?(?:bearer\s+)?", re.IGNORECASE)

# the stack's ApiUrl: https://{api}.execute-api.{region}.{AWS::URLSuffix}/{stage}/, the suffix the
# partition's (amazonaws.com, amazonaws.com.cn, amazonaws.eu, c2s.ic.gov, ...)
_EXECUTE_API = re.compile(r"^https://([a-z0-9]+)\.execute-api\.([a-z0-9-]+)\.[a-z0-9.-]+/([A-Za-z0-9_-]+)")


def _flush_edge_cache(target: Target) -> str:
    """The edge authorizer may still hold an answer admitting the key: against a deployed API
    (FRAUD_API_URL its execute-api URL) its stage's cache is flushed as the keys function flushes it
    (`runtime.flush_stage_authorizers`: once, then again once the authorizer's timeout has passed);
    otherwise, and when a flush fails, the key stops when that answer expires."""
    from functions.shared.auth import AUTHORIZER_CACHE_SECONDS, AUTHORIZER_TIMEOUT_SECONDS
    from functions.shared.runtime import flush_stage_authorizers

    later = f"the edge refuses it within {AUTHORIZER_CACHE_SECONDS} s (its cached answers expire)"
    if target.local:
        return later
    found = _EXECUTE_API.match(target.api_url)
    if found is None:
        return f"{later}: not flushed, FRAUD_API_URL is not the stack's ApiUrl (execute-api)"
    api_id, region, stage = found.groups()
    again = AUTHORIZER_TIMEOUT_SECONDS + 1
    click.echo(f"flushing the edge's authorizer cache, then again in {again} s ...", err=True)
    try:
        import boto3

        client = boto3.client("apigateway", region_name=region)
        flush_stage_authorizers(client, api_id, stage)
    except Exception as failure:  # the revocation holds; only the at-once part is lost
        code = (getattr(failure, "response", None) or {}).get("Error", {}).get("Code") or type(
            failure
        ).__name__
        return f"{later}: flushing the authorizer cache failed ({code})"
    return (
        f"the edge refuses it from now on (authorizer cache flushed, and again {again} s later: "
        "no check begun before the revocation can still admit it)"
    )


def _refusals(report: dict[str, Any]) -> list[str]:
    """Each line that was not accepted, by its number, with what the API said (the report keeps the
    first ones); an operator sees what to mend without asking for --json."""
    lines = [
        f"  line {error['line']}: {error['status'] or 'no answer:'} {one_line(str(error['detail']))}"
        for error in report["errors"]
    ]
    if report["failed"] > len(lines):
        lines.append(
            f"  and {report['failed'] - len(lines)} more lines not accepted (the first {len(lines)} shown)"
        )
    return lines


@cli.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@click.option(
    "--key",
    required=True,
    envvar="FRAUD_API_KEY",
    show_envvar=True,
    help="An integration key of the program.",
)
@click.option(
    "--signing-secret",
    default=None,
    # kept out of `ps` and the shell's history; replay's alone: exported for it, it must not become
    # a new program's secret, nor the "new" one of a rotation after a leak (a reviewer's)
    envvar="FRAUD_SIGNING_SECRET",
    show_envvar=True,
    help="Sign each request, for programs that require it.",
)
@click.option(
    "--lanes",
    type=click.IntRange(1, 64),
    default=1,  # fraudctl.replay.DEFAULT_LANES (not imported here: it loads requests and rich)
    show_default=True,
    help="Requests in flight at once; each partner's (or customer's) events keep the file's order. "
    "1: one after the other, in the file's order (the same decisions every run).",
)
@click.option(
    "--in-time-order",
    is_flag=True,
    help="Send the events sorted by occurred_at, not in the file's order: history (a backfill) is "
    "judged as it happened only when it arrives in time order (exactly so with --lanes 1).",
)
@json_option
@click.pass_obj
def replay(
    target: Target,
    file: Path,
    key: str,
    signing_secret: str | None,
    lanes: int,
    in_time_order: bool,
    as_json: bool,
) -> None:
    """Sends each line of a JSON-lines FILE (`-`: standard input; a gzip file, its lines) to POST
    /v1/events (an earn or a spend to its loyalty route), through --lanes senders at once. A 429 or
    503 is sent again after its Retry-After; a refused key, or an API that answers nothing, stops
    the replay at once."""
    from fraudctl.replay import replay_file

    # a key pasted with a blank or a line break around it (the API takes the header as written), or
    # as the header it was sent in (`Authorization: Bearer ...`), as revoke-key takes it; one with a
    # blank or a line break inside is no key (it read as an API that does not answer)
    key = _AS_SENT.sub("", key.strip())
    if any(c.isspace() for c in key):
        raise click.BadParameter(
            "a key has no blanks or line breaks inside: paste it whole", param_hint="--key"
        )
    try:
        report = replay_file(
            target.api_url,
            file,
            key,
            signing_secret,
            show_progress=not as_json,
            lanes=lanes,
            in_time_order=in_time_order,
        )
    except ValueError as error:  # a file it cannot read lines from (a gzip file cut short)
        _fail(f"{file}: {error}")
        return
    if behind := report["out_of_time_order"]:
        click.echo(
            f"note: {_counted(behind, 'event')} came after a later one: an old event is judged against the "
            "identities the later ones linked, and a flag dates from the old event. Send history "
            "sorted by occurred_at (--in-time-order), before live traffic.",
            err=True,
        )
    text = ", ".join(f"{count} {status}" for status, count in sorted(report["statuses"].items()))
    sent = f"{report['sent']} of {report['lines']}" if report["sent"] < report["lines"] else report["sent"]
    # lines, each answered with its status (a line that is no JSON is a 400 of its own)
    said = f"replayed {sent} {'line' if sent == 1 else 'lines'}: {text}" if text else "no events in the file"
    if report.get("retried"):  # told apart from a line's answer: each sent again was answered as listed
        said += f" ({_counted(report['retried'], 'request')} sent again after a 429 or a 503)"
    _emit(as_json, report, "\n".join([said, *_refusals(report)]))
    again = (
        "running the file again is safe: each event keeps its id, and what was accepted is not applied twice"
    )
    if report["interrupted"]:
        click.echo(f"interrupted after {report['sent']} of {report['lines']} lines; {again}", err=True)
        sys.exit(130)
    if report["stopped"]:
        click.echo(
            f"error: stopped after {report['sent']} of {report['lines']} lines: "
            + one_line(report["stopped"]),
            err=True,
        )
        sys.exit(1)
    if report["failed"]:
        sys.exit(1)


JOBS = {
    "hold-sweep": "functions.hold_sweep.handler.lambda_handler",
    "dispute-cycle": "functions.disputes.cycle.lambda_handler",
    "outbox-relay": "functions.outbox_relay.handler.lambda_handler",
    "loyalty-workflow-relay": "functions.loyalty.workflow_relay.lambda_handler",
}


@cli.command("run")
@click.argument("job", type=click.Choice(sorted(JOBS)))
@json_option
@click.pass_obj
def run_job(target: Target, job: str, as_json: bool) -> None:
    """Runs a scheduled job now: the hold sweep, the dispute cycle, the outbox relay or the loyalty
    workflow relay (what to do when its scheduled runs failed). Exits 1 when its report says
    something failed (left for its next run)."""
    from fraudctl.jobs import failures, run

    report = run(target, job, JOBS[job])
    _emit(as_json, report, f"{job}: {json.dumps(report, default=str)}")
    if failed := failures(report):  # a script or a cron job sees it in the exit status
        click.echo(f"error: {job}: {failed} left failed for its next run (the report lists them)", err=True)
        raise SystemExit(1)


@cli.command("backfill-hold-order")
@click.option("--program", "program_id", default=None, help="One program (default: every program).")
@json_option
def backfill_hold_order(program_id: str | None, as_json: bool) -> None:
    """Places the active cases stored before the hold-amount order was kept (the Active tab's
    `sort=hold_amount`), or keyed otherwise (at face value by an earlier version, or at the reference
    rates of before): once after deploying over existing data; safe to run again."""
    _backfill(
        program_id, as_json, lambda store, p: store.place_in_hold_order(p), "without their place", "placed"
    )


@cli.command("backfill-campaign-list")
@click.option("--program", "program_id", default=None, help="One program (default: every program).")
@json_option
def backfill_campaign_list(program_id: str | None, as_json: bool) -> None:
    """Lists the loyalty campaigns saved before the list was kept (`GET /v1/loyalty/campaigns`, the
    console's Campaigns tab): once after deploying over existing data; safe to run again. It reads
    the whole table twice per program."""
    _backfill(
        program_id, as_json, lambda store, p: store.list_every_campaign(p), "outside the list", "listed"
    )


def _backfill(
    program_id: str | None,
    as_json: bool,
    step: Callable[[Any, str], tuple[int, int]],
    found_as: str,
    done_as: str,
) -> None:
    """A one-off backfill, per program: `step(store, program id)` answers (found, done)."""
    if program_id is not None and not program_id.strip():
        raise click.BadParameter(
            "a program's id (leave --program out for every program)", param_hint="--program"
        )
    repository = _repository()
    programs = [repository.get_program(program_id)] if program_id else repository.list_programs()
    report = {}
    for program in programs:
        found, done = step(repository, program.program_id)
        report[program.program_id] = {"found": found, done_as: done}
    text = "\n".join(f"{p}: {r['found']} {found_as}, {r[done_as]} {done_as}" for p, r in report.items())
    _emit(as_json, {"programs": report}, text or "no program")


@cli.command("cases")
@click.option("--program", "program_id", required=True)
@click.option(
    "--view", type=click.Choice(["active", "resolved", "removed"]), default="active", show_default=True
)
@click.option(
    "--limit",
    type=click.IntRange(1, 10_000),
    default=100,
    show_default=True,
    help="At most this many cases: the newest, read from the view's index (not the whole view).",
)
@json_option
def list_cases(program_id: str, view: str, limit: int, as_json: bool) -> None:
    """Lists a program's cases, newest flag first (removed: newest removal first)."""
    from itertools import islice

    from functions.shared.views import case_view

    repository = _repository()
    repository.get_program(program_id)
    newest = list(islice(repository.cases_in_view(program_id, view, newest_first=True), limit + 1))
    more = len(newest) > limit
    cases = [case_view(c).model_dump(mode="json") for c in newest[:limit]]
    if as_json:
        listed = {"program_id": program_id, "view": view, "cases": cases, "more": more}
        click.echo(json.dumps(listed, default=str))
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def cell(value: str) -> Text:  # a Text is printed as it is: a name's `[bold]` is not markup
        return Text(one_line(value))

    def held(case: dict[str, Any]) -> str:
        amounts = [f"{m['amount']} {m['currency']}" for m in case["hold_amounts"]]  # each currency's
        return f"{case['held_rewards']} ({' + '.join(amounts)})" if amounts else "0"

    console = Console()
    if not cases:  # an empty view says so, not a header alone
        console.print(Text(f"{view} cases of {program_id}: none"))
        return
    if console.width < NARROW_TERMINAL:
        # a table's six columns in 80 split every word ("subjec/t", "email_/duplic/ate"): one case
        # a few lines, its id first and whole, each value on its line
        console.print(Text(f"{view} cases of {program_id}"))
        for case in cases:
            console.print()
            console.print(cell(f"{case['id']}  {case['status']}  flagged {_minute(case['flagged_at'])} UTC"))
            console.print(cell(f"  subject: {case['subject']['type']} {case['subject']['name']}"))
            console.print(cell(f"  held: {held(case)}"))
            console.print(cell(f"  reasons: {', '.join(r['code'] for r in case['reasons'])}"))
        if more:
            console.print(f"the newest {limit} shown; more with --limit")
        return
    table = Table(title=Text(f"{view} cases of {program_id}"))
    # the id whole, to copy into the console or the API (a narrow terminal wraps the other columns)
    table.add_column("case", no_wrap=True, min_width=max((len(c["id"]) for c in cases), default=4))
    table.add_column("subject", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("flagged (UTC)", no_wrap=True, min_width=16)
    table.add_column("held")
    table.add_column("reasons", overflow="fold")
    for case in cases:
        table.add_row(
            cell(case["id"]),
            cell(f"{case['subject']['type']} {case['subject']['name']}"),
            cell(case["status"]),
            cell(_minute(case["flagged_at"])),
            cell(held(case)),
            cell(", ".join(r["code"] for r in case["reasons"])),
        )
    console.print(table)
    if more:
        console.print(f"the newest {limit} shown; more with --limit")


NARROW_TERMINAL = 110  # columns below which `cases` prints each case as lines, not a table's row


def _minute(at: Any) -> str:
    return str(at)[:16].replace("T", " ")


def main() -> None:
    cli(prog_name="fraudctl")
