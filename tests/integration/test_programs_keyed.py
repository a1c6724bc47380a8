"""Programs keyed per program (issue 14): each program in its own partition, so no single partition
serves every request's program read; listing through the sparse `programs` index, never a scan;
programs written under the former shared `PROGRAMS` partition still read and listed."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3

from functions.shared import tenancy
from functions.shared.clock import FixedClock
from functions.shared.storage import keys
from tests.conftest import Aws

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def raw_items(aws: Aws) -> list[dict]:
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws.resources.table_name)
    return table.scan()["Items"]


def test_each_program_has_its_own_partition_and_is_listed_by_the_index(aws: Aws):
    clock = FixedClock(T0)
    for program_id in ("prg-b", "prg-a"):
        tenancy.create_program(aws.repository, clock, f"Program {program_id}", program_id=program_id)

    programs = [item for item in raw_items(aws) if item.get("item_type") == "program"]

    assert sorted(item["pk"] for item in programs) == ["PROGRAM#prg-a", "PROGRAM#prg-b"]
    assert all(item["programs_pk"] == keys.PROGRAMS_INDEX_PK for item in programs)
    assert [p.program_id for p in aws.repository.list_programs()] == ["prg-a", "prg-b"]
    assert aws.repository.get_program("prg-a").name == "Program prg-a"


def test_a_program_made_under_the_former_shared_partition_still_reads_and_lists(aws: Aws):
    # Given a program item as the code before this change wrote it
    table = boto3.client("dynamodb", region_name="us-east-1")
    table.put_item(
        TableName=aws.resources.table_name,
        Item={
            "pk": {"S": keys.program_pk()},
            "sk": {"S": keys.program_sk("prg-old")},
            "item_type": {"S": "program"},
            "program_id": {"S": "prg-old"},
            "name": {"S": "Old program"},
            "timezone": {"S": "UTC"},
            "created_at": {"S": "2026-01-01T00:00:00.000000+0000"},
        },
    )
    tenancy.create_program(aws.repository, FixedClock(T0), "New program", program_id="prg-new")

    assert aws.repository.get_program("prg-old").name == "Old program"
    assert [p.program_id for p in aws.repository.list_programs()] == ["prg-new", "prg-old"]
    # and its keys work: a key is made for it and authenticates with its program
    record, _ = tenancy.create_key(aws.repository, FixedClock(T0), "prg-old", "fraud", "Old hand")
    assert aws.repository.load_credentials(record.key_id)[1].name == "Old program"
