"""Campaign point caps through the real loyalty handler against moto (SPEC 3.4, 8): SPEC 8's worked
examples, the boundaries, both caps at once, the counters on GET, bad settings; and the program's
time zone read from its record."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from functions.loyalty import caps
from functions.shared import tenancy
from functions.shared.storage import keys_loyalty
from tests.integration.test_loyalty_support import (  # noqa: F401 (fixtures)
    DynamoCalls,
    Loyalty,
    campaign_settings,
    clock_fixture,
    loyalty_sample,
)
from tests.support import call, proxy_event


@pytest.fixture
def loyalty(tenant, clock) -> Loyalty:
    return Loyalty(tenant.keys)


def granted(answer) -> tuple[int, str | None]:
    assert answer.status == 200, answer
    return answer.body["granted"], answer.body["limited_by"]


def test_spec_worked_examples_for_each_behaviour(loyalty):
    expected = {
        # (cap 1000 with 950 granted, a bonus of 100); (per customer 25 with 20 granted, a bonus of 6)
        "soft": ((100, None), 1050, (6, None)),
        "dynamic": ((50, "campaign"), 1000, (5, "customer")),
        "hard": ((0, "campaign"), 950, (0, "customer")),
    }
    for behavior, (total_case, total_after, customer_case) in expected.items():
        total, per_customer = f"total-{behavior}", f"customer-{behavior}"
        loyalty.campaign(total, campaign_settings(behavior, total=1000, per_customer=10**6))
        loyalty.campaign(per_customer, campaign_settings(behavior, total=10**6, per_customer=25))
        loyalty.bonus(f"a-{behavior}", 950, total)
        loyalty.bonus(f"b-{behavior}", 20, per_customer)

        assert granted(loyalty.bonus(f"c-{behavior}", 100, total)) == total_case, behavior
        assert loyalty.campaign(total).body["granted_total"] == total_after, behavior
        assert granted(loyalty.bonus(f"b-{behavior}", 6, per_customer)) == customer_case, behavior
        assert loyalty.customer(f"b-{behavior}").body["balance"] == 20 + customer_case[0]
    # once a soft cap has been passed, later bonuses get 0
    assert granted(loyalty.bonus("late", 1, "total-soft")) == (0, "campaign")
    assert granted(loyalty.bonus("b-soft", 1, "customer-soft")) == (0, "customer")


def test_boundaries_fits_exactly_one_over_already_over(loyalty):
    for behavior, one_over in {
        "soft": (11, None),
        "dynamic": (10, "campaign"),
        "hard": (0, "campaign"),
    }.items():
        loyalty.campaign(behavior, campaign_settings(behavior, total=100))
        loyalty.bonus("first", 80, behavior)

        assert granted(loyalty.bonus("exact", 10, behavior)) == (10, None), behavior  # 90 + 10 = 100 fits
        loyalty.campaign(behavior, campaign_settings(behavior, total=100))  # same caps: counters kept
        assert loyalty.campaign(behavior).body["granted_total"] == 90
        assert granted(loyalty.bonus("over", 11, behavior)) == one_over, behavior  # 90 + 11 is one over
        assert granted(loyalty.bonus("after", 1, behavior))[0] == (1 if behavior == "hard" else 0), behavior


def test_both_caps_at_once(loyalty):
    for behavior, outcome in {
        "soft": (20, None),
        "dynamic": (10, "customer"),
        "hard": (0, "customer"),
    }.items():
        loyalty.campaign(behavior, campaign_settings(behavior, total=100, per_customer=30))
        loyalty.bonus("m1", 20, behavior)
        loyalty.bonus("m2", 30, behavior)  # 50 in all; m1 has 10 left, the campaign 50

        assert granted(loyalty.bonus("m1", 20, behavior)) == outcome, behavior
    for behavior, outcome in {
        "soft": (10, None),
        "dynamic": (5, "campaign"),
        "hard": (0, "campaign"),
    }.items():
        name = f"tight-{behavior}"
        loyalty.campaign(name, campaign_settings(behavior, total=60, per_customer=30))
        loyalty.bonus("m1", 25, name)
        loyalty.bonus("m2", 30, name)  # 55 in all: the campaign has 5 left, m1 has 5 left

        assert granted(loyalty.bonus("m1", 10, name)) == outcome, behavior


def test_get_campaign_shows_settings_and_counters(loyalty, other_tenant):
    settings = loyalty_sample("campaign")
    put = loyalty.campaign("double-points-november", settings)
    loyalty.bonus("m1", 20, "double-points-november")
    loyalty.bonus("m1", 20, "double-points-november")  # dynamic, 25 per customer: 5 more
    loyalty.bonus("m2", 3, "double-points-november")
    loyalty.earn("m3", 500)  # not a bonus

    got = loyalty.campaign("double-points-november").body

    assert put.status == 200
    assert {k: got[k] for k in settings} == settings
    assert (got["granted_total"], got["customers"]) == (28, 2)
    assert Loyalty(other_tenant.keys).campaign("double-points-november").status == 404


def test_a_campaign_sent_with_offsets_is_answered_in_utc_by_its_put_as_by_its_get(loyalty):
    settings = {
        **loyalty_sample("campaign"),
        "starts_at": "2026-12-01T05:45:00.123456+05:45",
        "ends_at": "2026-12-31T12:00:00-12:00",
    }

    put = loyalty.campaign("offsets", settings).body
    got = loyalty.campaign("offsets").body

    assert (put["starts_at"], put["ends_at"]) == ("2026-12-01T00:00:00.123456Z", "2027-01-01T00:00:00Z")
    assert (got["starts_at"], got["ends_at"]) == (put["starts_at"], put["ends_at"])


def test_a_bonus_outside_the_campaigns_window_is_told_its_bounds_as_the_api_writes_times(loyalty):
    """A loyalty tester's find: the refusal said `+00:00` where the campaign's own GET says `Z`."""
    window = {"starts_at": "2026-11-01T05:45:00+05:45", "ends_at": "2026-11-02T12:00:00-12:00"}
    assert loyalty.campaign("window", {**loyalty_sample("campaign"), **window}).status == 200

    early = loyalty.bonus("m1", 5, "window", occurred_at="2026-10-31T23:59:59Z")
    late = loyalty.bonus("m1", 5, "window", occurred_at="2026-11-03T00:00:01Z")

    assert early.status == late.status == 422, (early, late)
    assert "campaign window starts at 2026-11-01T00:00:00Z" in str(early.body), early
    assert "campaign window ended at 2026-11-03T00:00:00Z" in str(late.body), late


BAD_CAMPAIGNS = {
    "negative-cap": (lambda c: c.update(total_cap=-1), "total_cap"),
    "fraction-cap": (lambda c: c.update(per_customer_cap=2.5), "per_customer_cap"),
    "missing-cap": (lambda c: c.pop("per_customer_cap"), "per_customer_cap"),
    "behaviour": (lambda c: c.update(limit_behavior="strict"), "limit_behavior"),
    "time": (lambda c: c.update(starts_at="tomorrow"), "starts_at"),
    "ends-before-start": (lambda c: c.update(ends_at="2026-10-01T00:00:00Z"), "ends_at"),
    "unknown": (lambda c: c.update(budget=5), "budget"),
}


def test_bad_campaign_settings_are_422_naming_the_field_and_change_nothing(loyalty):
    loyalty.campaign("c1", campaign_settings("hard", total=10))
    for case, (change, field) in BAD_CAMPAIGNS.items():
        settings = loyalty_sample("campaign")
        change(settings)

        answer = loyalty.campaign("c1", settings)

        assert answer.status == 422, (case, answer)
        assert field in [e["field"] for e in answer.body["errors"]], (case, answer.body)
    assert loyalty.campaign("c1").body["total_cap"] == 10


def test_a_program_east_of_utc_counts_its_own_days_and_weeks(aws, clock):
    # Tokyo is UTC+9: its Wednesday 4 November starts at 15:00 UTC on Tuesday
    program = tenancy.create_program(aws.repository, clock, "Tokyo", timezone="Asia/Tokyo")
    key = {
        role: tenancy.create_key(aws.repository, clock, program.program_id, role, role)[1]
        for role in ("integration", "fraud")
    }
    tokyo = Loyalty(key)
    clock.advance(hours=-10)
    assert clock.now() == datetime(2026, 11, 4, 2, 0, tzinfo=UTC)  # 11:00 on Wednesday in Tokyo
    tokyo.earn("m1", 5, occurred_at="2026-11-03T15:00:00Z")  # 00:00 Wednesday there
    tokyo.earn("m1", 7, occurred_at="2026-11-03T14:59:59Z")  # 23:59 Tuesday there
    tokyo.earn("m1", 11, occurred_at="2026-11-01T14:59:59Z")  # 23:59 Sunday there: last week

    figures = tokyo.customer("m1").body["aggregates"]["earned"]

    assert (figures["today"], figures["week_to_date"], figures["last_7_days"]) == (5, 12, 23)


def legacy_campaign(aws, program_id: str, campaign_id: str, behavior: str = "hard") -> None:
    """A campaign as it was kept before its total was split: one item, 90 of 100 granted to 3."""
    item = aws.repository._m.items["loyalty_campaign"]
    item(
        keys_loyalty.campaign_pk(program_id, campaign_id),
        keys_loyalty.CAMPAIGN_SK,
        program_id=program_id,
        campaign_id=campaign_id,
        total_cap=100,
        per_customer_cap=50,
        limit_behavior=behavior,
        updated_at=datetime(2026, 11, 1, tzinfo=UTC),
        granted_total=90,
        customers=3,
        revision=4,
    ).save()


def test_a_campaign_kept_in_one_item_moves_to_shards_with_its_counters(loyalty, tenant, aws):
    legacy_campaign(aws, tenant.program_id, "read-first", "hard")
    legacy_campaign(aws, tenant.program_id, "earned-first", "dynamic")

    got = loyalty.campaign("read-first").body
    assert (got["granted_total"], got["customers"], got["total_cap"]) == (90, 3, 100)
    assert granted(loyalty.bonus("m1", 10, "read-first")) == (10, None)  # exactly what was left
    assert granted(loyalty.bonus("m2", 1, "read-first")) == (0, "campaign")
    assert granted(loyalty.bonus("m1", 11, "earned-first")) == (10, "campaign")  # migrated by the earn
    assert loyalty.campaign("earned-first").body["granted_total"] == 100
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws.resources.table_name)
    for campaign_id in ("read-first", "earned-first"):
        key = {"pk": keys_loyalty.campaign_pk(tenant.program_id, campaign_id), "sk": keys_loyalty.CAMPAIGN_SK}
        assert "Item" not in table.get_item(Key=key)  # the one item is gone: nothing counts twice


@pytest.mark.timeout(60)
def test_a_campaign_whose_move_to_shards_keeps_being_cancelled_answers_503_and_changes_nothing(
    loyalty, tenant, aws, monkeypatch
):
    import botocore.client
    from botocore.exceptions import ClientError

    legacy_campaign(aws, tenant.program_id, "contended", "hard")
    real = botocore.client.BaseClient._make_api_call
    cancelled = []

    def every_write_cancelled(self, operation, params):  # another writer always gets there first
        if operation == "TransactWriteItems":
            cancelled.append(operation)
            raise ClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "injected"}}, operation
            )
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", every_write_cancelled)
    answer = loyalty.bonus("m1", 10, "contended")

    assert answer.status == 503, answer  # a bounded number of tries, not a read loop without end
    assert 1 < len(cancelled) <= 10
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", real)  # the other writer is done
    table = boto3.resource("dynamodb", region_name="us-east-1").Table(aws.resources.table_name)
    key = {"pk": keys_loyalty.campaign_pk(tenant.program_id, "contended"), "sk": keys_loyalty.CAMPAIGN_SK}
    assert table.get_item(Key=key)["Item"]["granted_total"] == 90  # still the one item, unchanged
    assert granted(loyalty.bonus("m1", 10, "contended")) == (10, None)  # and the next earn moves it


def test_a_soft_pass_closes_every_shard_and_so_does_a_cap_lowered_below_what_was_granted(
    loyalty, tenant, aws
):
    loyalty.campaign("soft", campaign_settings("soft", total=100))
    assert granted(loyalty.bonus("m1", 95, "soft")) == (95, None)  # spread over the shards
    assert granted(loyalty.bonus("m2", 40, "soft")) == (40, None)  # starts below: passes the cap

    passed = aws.repository.get_campaign(tenant.program_id, "soft")
    assert passed.granted_total == 135
    assert all(s.used >= s.quota for s in passed.shards)  # every shard full or past its quota
    assert {granted(loyalty.bonus(f"late-{n}", 1, "soft")) for n in range(12)} == {(0, "campaign")}

    loyalty.campaign("lowered", campaign_settings("hard", total=1000))
    for n in range(6):
        assert granted(loyalty.bonus(f"m{n}", 50, "lowered")) == (50, None)
    assert loyalty.campaign("lowered", campaign_settings("hard", total=200)).status == 200  # 300 granted

    lowered = aws.repository.get_campaign(tenant.program_id, "lowered")
    assert lowered.granted_total == 300 and all(s.used == s.quota for s in lowered.shards)
    assert {granted(loyalty.bonus(f"late-{n}", 1, "lowered")) for n in range(12)} == {(0, "campaign")}
    assert loyalty.campaign("lowered", campaign_settings("hard", total=310)).status == 200  # 10 again
    assert sum(granted(loyalty.bonus(f"again-{n}", 3, "lowered"))[0] for n in range(6)) == 9


def test_the_programs_campaigns_are_listed_by_id_a_page_at_a_time(loyalty, tenant, other_tenant):
    settings = loyalty_sample("campaign")
    for campaign_id in ("c-3", "c-1", "c-2"):
        assert loyalty.campaign(campaign_id, settings).status == 200
    loyalty.bonus("m1", 20, "c-1")
    assert Loyalty(other_tenant.keys).campaign("theirs", settings).status == 200

    def listed(key: str, **query: str):
        return call("loyalty", proxy_event("GET", "/v1/loyalty/campaigns", None, key, query=query))

    first = listed(tenant.keys["fraud"], limit="2")
    assert first.status == 200, first
    cursor = first.body["next_cursor"]
    second = listed(tenant.keys["fraud"], limit="2", cursor=cursor)

    assert first.status == 200 and [c["id"] for c in first.body["items"]] == ["c-1", "c-2"]
    assert {k: first.body["items"][0][k] for k in settings} == settings
    assert "granted_total" not in first.body["items"][0]  # figures are the campaign's own GET
    assert [c["id"] for c in second.body["items"]] == ["c-3"] and second.body["next_cursor"] is None
    # another program's cursor is refused, and its campaigns are its own
    assert listed(other_tenant.keys["fraud"], cursor=cursor).status == 422
    assert [c["id"] for c in listed(other_tenant.keys["fraud"]).body["items"]] == ["theirs"]
    assert listed(tenant.keys["integration"]).status == 403


def _listed(tenant) -> list[str]:
    answer = call("loyalty", proxy_event("GET", "/v1/loyalty/campaigns", None, tenant.keys["fraud"]))
    assert answer.status == 200, answer
    return [c["id"] for c in answer.body["items"]]


def test_a_campaign_kept_in_one_item_is_listed_once_moved_to_its_shards(loyalty, tenant, aws):
    legacy_campaign(aws, tenant.program_id, "legacy")
    assert loyalty.campaign("legacy").status == 200  # its first read moves it to its shards

    assert _listed(tenant) == ["legacy"]


def test_the_campaign_list_reads_strongly(aws, monkeypatch):
    # right after a PUT the list shows it, as saved (moto is always consistent: the request is read)
    from dataclasses import replace

    from pynamodb.connection.base import Connection

    from functions.loyalty import caps
    from tests.integration.test_loyalty_repository_contract import P, campaign

    new = campaign()
    assert aws.repository.put_campaign(replace(new, revision=1, shards=caps.initial_shards(new.total_cap)), 0)
    seen: list[bool] = []
    original = Connection.query

    def spy(self, *args, **kwargs):
        seen.append(bool(kwargs.get("consistent_read")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "query", spy)

    assert [c.campaign_id for c in aws.repository.campaigns_page(P, None, 10)] == ["summer"]
    assert seen and all(seen), seen


@pytest.mark.parametrize("after", ["x" * 1100, "\ud800", "a\x00", "a#b"])
def test_a_cursor_whose_position_is_no_campaign_id_is_422(loyalty, tenant, after):
    # every id the list gives is an identifier: an edited cursor never reaches the query (a sort key
    # past 1,024 bytes, or not UTF-8, is DynamoDB's ValidationException: a 500)
    import base64
    import json

    assert loyalty.campaign("a", loyalty_sample("campaign")).status == 200
    raw = json.dumps({"after": [after], "query": {"campaigns": tenant.program_id}}, separators=(",", ":"))
    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    answer = call(
        "loyalty",
        proxy_event("GET", "/v1/loyalty/campaigns", None, tenant.keys["fraud"], query={"cursor": cursor}),
    )

    assert answer.status == 422, answer
    assert [e["field"] for e in answer.body["errors"]] == ["query.cursor"]


def test_the_backfill_lists_the_campaigns_saved_before_the_list_and_is_safe_to_run_again(
    loyalty, tenant, other_tenant, aws, monkeypatch
):
    # campaigns saved before 2026-12-05 have no entry in the list: the Campaigns tab did not show
    # them until each was saved again
    import json

    from click.testing import CliRunner

    from fraudctl.cli import cli

    settings = loyalty_sample("campaign")
    for campaign_id in ("old-b", "old-a", "new"):
        assert loyalty.campaign(campaign_id, settings).status == 200
    assert Loyalty(other_tenant.keys).campaign("theirs", settings).status == 200
    loyalty.bonus("m1", 20, "old-a")
    entry, listed_in = (
        aws.repository._m.items["loyalty_campaign_entry"],
        keys_loyalty.campaigns_pk(tenant.program_id),
    )
    for campaign_id in ("old-b", "old-a"):  # as a version before the list wrote them
        entry(listed_in, keys_loyalty.campaign_entry_sk(campaign_id)).delete()
    legacy_campaign(aws, tenant.program_id, "older")  # and one from before shards, never read since
    assert _listed(tenant) == ["new"]
    monkeypatch.setenv("FRAUDCTL_TARGET", "aws")  # the table of this environment (moto, in process)

    ran = CliRunner().invoke(cli, ["backfill-campaign-list", "--program", tenant.program_id, "--json"])

    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.output) == {"programs": {tenant.program_id: {"found": 3, "listed": 3}}}
    assert _listed(tenant) == ["new", "old-a", "old-b", "older"]
    listed = call("loyalty", proxy_event("GET", "/v1/loyalty/campaigns", None, tenant.keys["fraud"]))
    old_a = next(c for c in listed.body["items"] if c["id"] == "old-a")
    assert {k: old_a[k] for k in settings} == settings  # its settings, as saved
    assert loyalty.campaign("older").body["granted_total"] == 90  # moved to its shards, nothing lost
    assert loyalty.campaign("old-a").body["granted_total"] == 20
    again = CliRunner().invoke(cli, ["backfill-campaign-list", "--json"])  # every program, once more
    assert again.exit_code == 0, again.output
    assert json.loads(again.output)["programs"] == {
        tenant.program_id: {"found": 0, "listed": 0},
        other_tenant.program_id: {"found": 0, "listed": 0},
    }
    assert _listed(tenant) == ["new", "old-a", "old-b", "older"]
    assert _listed(other_tenant) == ["theirs"]


def test_the_plain_store_has_no_campaign_to_backfill():
    from functions.shared.storage.memory import InMemoryRepository

    assert InMemoryRepository().list_every_campaign("prg-any") == (0, 0)


def campaign_shards_read(dynamodb: DynamoCalls) -> list[int]:
    """How many campaign counter shards each earn's snapshot read."""
    return [
        sum("#CAMPAIGN#" in get["Get"]["Key"]["pk"]["S"] for get in snapshot["TransactItems"])
        for snapshot in dynamodb.named("TransactGetItems")
    ]


@pytest.mark.parametrize("behavior", ["soft", "dynamic", "hard"])
def test_a_campaign_past_its_cap_answers_0_from_the_customers_shard_alone_until_its_cap_is_raised(
    loyalty, behavior
):
    # Given a campaign whose cap is used up
    loyalty.campaign("c", campaign_settings(behavior, total=100, per_customer=1000))
    assert granted(loyalty.bonus("m0", 100, "c")) == (100, None)
    # the first bonus after it reads every shard, answers 0, and marks on every shard that nothing is left
    with DynamoCalls() as dynamodb:
        first = loyalty.bonus("m1", 5, "c")
    assert first.body == {"granted": 0, "requested": 5, "balance": 0, "limited_by": "campaign"}
    assert campaign_shards_read(dynamodb) == [1, caps.CAMPAIGN_SHARDS]
    assert len(dynamodb.named("UpdateItem")) == caps.CAMPAIGN_SHARDS

    # When more bonuses arrive, from customers of every shard
    customers = [f"n{n}" for n in range(32)]
    assert {caps.shard_of(c) for c in customers} == set(range(caps.CAMPAIGN_SHARDS))
    with DynamoCalls() as dynamodb:
        answers = [loyalty.bonus(c, 5, "c") for c in customers]
        again = loyalty.bonus("m0", 5, "c")

    # Then each read its own shard only, wrote no mark, and answered what every shard read did
    assert campaign_shards_read(dynamodb) == [1] * (len(customers) + 1)
    assert dynamodb.named("UpdateItem") == []
    assert [a.raw["body"] for a in answers] == [first.raw["body"]] * len(customers)
    assert again.body == {"granted": 0, "requested": 5, "balance": 100, "limited_by": "campaign"}
    assert loyalty.campaign("c").body["granted_total"] == 100

    # a raised cap grants again at once, from the customer's shard
    assert loyalty.campaign("c", campaign_settings(behavior, total=140, per_customer=1000)).status == 200
    with DynamoCalls() as dynamodb:
        assert granted(loyalty.bonus("n0", 5, "c")) == (5, None)
    assert campaign_shards_read(dynamodb) == [1]
    assert sum(granted(loyalty.bonus(c, 5, "c"))[0] for c in customers[1:]) == 35  # to the new cap
    with DynamoCalls() as dynamodb:  # used up again: marked again, at the new settings
        assert granted(loyalty.bonus("n0", 5, "c")) == (0, "campaign")
    assert campaign_shards_read(dynamodb) == [1]


def test_a_hard_cap_with_less_left_than_its_bonuses_answers_them_0_from_one_shard_and_grants_what_fits(
    loyalty,
):
    # Given a hard cap of 100 and bonuses of 30: 90 granted, 10 left, which no bonus of 30 gets
    loyalty.campaign("c", campaign_settings("hard", total=100, per_customer=1000))
    assert [granted(loyalty.bonus(f"m{n}", 30, "c")) for n in range(3)] == [(30, None)] * 3
    with DynamoCalls() as dynamodb:
        first = loyalty.bonus("m3", 30, "c")
    assert first.body == {"granted": 0, "requested": 30, "balance": 0, "limited_by": "campaign"}
    assert campaign_shards_read(dynamodb) == [1, caps.CAMPAIGN_SHARDS]  # and marks "10 left at most"

    # When more bonuses of 30 arrive, then one of 10
    customers = [f"n{n}" for n in range(32)]
    with DynamoCalls() as dynamodb:
        answers = [loyalty.bonus(c, 30, "c") for c in customers]
    fits = loyalty.bonus("m4", 10, "c")

    # Then those of 30 read their own shard only and answer as the first; the 10 are still granted
    assert campaign_shards_read(dynamodb) == [1] * len(customers)
    assert [a.raw["body"] for a in answers] == [first.raw["body"]] * len(customers)
    assert granted(fits) == (10, None)
    assert loyalty.campaign("c").body["granted_total"] == 100
    assert granted(loyalty.bonus("m5", 1, "c")) == (0, "campaign")
