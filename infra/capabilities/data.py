"""The one DynamoDB table, from `functions.shared.storage.schema`: the same declaration the pynamodb
models and the local system read, so the deployed table cannot drift from the code."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from functions.shared.storage import schema
from infra import constants
from infra.capabilities.nag import acknowledge

_TYPES = {"S": dynamodb.AttributeType.STRING, "N": dynamodb.AttributeType.NUMBER}


@dataclass(frozen=True)
class TableThroughput:
    """What the table may use and takes at once (README, "Before going live"): `quota`, the request
    units a second DynamoDB lets the table, and each index, use on demand (its default quota unless
    raised), which the alarms warn near; `warm_writes` and `warm_reads`, units a second the table and
    each index are pre-warmed to take at once (a new table takes a few thousand writes a second at
    first and grows only as traffic reaches new peaks; pre-warming is charged once)."""

    quota: int = constants.TABLE_QUOTA
    warm_writes: int | None = None
    warm_reads: int | None = None

    def warm(self) -> dynamodb.WarmThroughput | None:
        if self.warm_writes is None and self.warm_reads is None:
            return None
        return dynamodb.WarmThroughput(
            write_units_per_second=self.warm_writes, read_units_per_second=self.warm_reads
        )


class DataStore(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, throughput: TableThroughput = TableThroughput()
    ) -> None:
        super().__init__(scope, construct_id)
        attributes = schema.key_attributes()

        def key(name: str) -> dynamodb.Attribute:
            return dynamodb.Attribute(name=name, type=_TYPES[attributes[name]])

        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=key(schema.PARTITION_KEY),
            sort_key=key(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            warm_throughput=throughput.warm(),
            # The system of record: deleting the stack leaves it (and its backups) in place.
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in schema.INDEXES:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=key(index.partition_key),
                sort_key=key(index.sort_key),
                projection_type=dynamodb.ProjectionType.ALL,
                warm_throughput=throughput.warm(),
            )
        acknowledge(
            self.table,
            "CKV_AWS_119",
            "Encrypted at rest with DynamoDB's own key. A customer managed key would make the system of "
            "record unreadable the day the key is disabled or its deletion scheduled, and add a key "
            "policy to keep in step with every function's role; only the functions' own roles and the "
            "operator's read the table. An operator who needs one can set it without migrating data.",
        )
