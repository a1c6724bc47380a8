"""fraudctl: the operator's command-line tool (SPEC section 9).

Programs and keys are written straight to the table with the operator's AWS credentials (the API
never creates tenants); events are replayed through the HTTP API like any integration."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from fraudctl.config import Target
from functions.shared.errors import DomainError


def _emit(as_json: bool, payload: dict[str, Any], text: str) -> None:
    click.echo(json.dumps(payload, default=str) if as_json else text)


def _repository():  # noqa: ANN202
    from functions.shared.config import Settings
    from functions.shared.runtime import build_repository

    return build_repository(Settings.from_env())


def _clock():  # noqa: ANN202
    from functions.shared.clock import SystemClock

    return SystemClock()


class _Cli(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as error:
            click.echo(f"error: {error.detail}", err=True)
            sys.exit(1)


@click.group(cls=_Cli, help=__doc__)
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.obj = Target.from_env()


json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")


@cli.command("create-program")
@click.option("--name", required=True, help="The program's display name.")
@click.option("--signing-secret", default=None, help="Require X-Signature on POST /v1/events.")
@click.option("--timezone", default="UTC", show_default=True, help="IANA time zone for loyalty periods.")
@json_option
def create_program(name: str, signing_secret: str | None, timezone: str, as_json: bool) -> None:
    from functions.shared import tenancy

    program = tenancy.create_program(_repository(), _clock(), name, signing_secret, timezone)
    _emit(as_json, {"program_id": program.program_id}, f"created program {program.program_id}")


@cli.command("create-key")
@click.option("--program", "program_id", default=None, help="The program; without it, a platform key.")
@click.option(
    "--role", required=True, type=click.Choice(["integration", "viewer", "fraud", "admin", "security"])
)
@click.option("--actor", required=True, help="Name shown in audit trails.")
@json_option
def create_key(program_id: str | None, role: str, actor: str, as_json: bool) -> None:
    from functions.shared import tenancy

    record, key = tenancy.create_key(_repository(), _clock(), program_id, role, actor)
    _emit(
        as_json,
        {"key_id": record.key_id, "key": key},
        f"key {record.key_id} ({role}, {actor}): {key}\nStore it now: it is not shown again.",
    )


@cli.command("revoke-key")
@click.argument("key_id")
@json_option
def revoke_key(key_id: str, as_json: bool) -> None:
    from functions.shared import tenancy

    record = tenancy.revoke_key(_repository(), _clock(), key_id)
    _emit(
        as_json,
        {"key_id": record.key_id, "revoked_at": record.revoked_at},
        f"revoked key {record.key_id}",
    )


@cli.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", required=True, envvar="FRAUD_API_KEY", help="An integration key of the program.")
@click.option("--signing-secret", default=None, help="Sign each request, for programs that require it.")
@json_option
@click.pass_obj
def replay(target: Target, file: Path, key: str, signing_secret: str | None, as_json: bool) -> None:
    """Sends each line of a JSON-lines FILE to POST /v1/events."""
    from fraudctl.replay import replay_file

    report = replay_file(target.api_url, file, key, signing_secret, show_progress=not as_json)
    text = ", ".join(f"{count} {status}" for status, count in sorted(report["statuses"].items()))
    _emit(as_json, report, f"replayed {report['sent']} events: {text}")
    if report["failed"]:
        sys.exit(1)


def main() -> None:
    cli(prog_name="fraudctl")
