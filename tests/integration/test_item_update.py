"""`ItemUpdate` (the scoring transaction's hot writes, written without pynamodb's expression objects)
does what pynamodb's own actions and conditions do: random items of the subject model and random
updates, each applied to one twin through `ItemUpdate` and to the other through pynamodb, on moto,
leave the same items, and the same conditions hold or fail on both."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import size
from pynamodb.expressions.operand import Path
from pynamodb.transactions import TransactWrite

from functions.shared.storage import keys
from functions.shared.storage.item_update import ItemUpdate, StepTransaction
from tests.conftest import Aws

texts = st.text(alphabet="abé -", min_size=0, max_size=4)
members = st.frozensets(st.text(alphabet="abcé", min_size=1, max_size=3), min_size=1, max_size=3)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
FIELDS: dict[str, Any] = {  # attribute -> its values (None: taken out)
    "name": texts,
    "email": st.none() | texts,
    "emails": st.none() | members,
    "tags": st.none() | st.lists(texts, min_size=1, max_size=3),
    "signup_at": st.none() | times,
    "marks_pending": st.none() | st.booleans(),
    "version": st.integers(0, 5),
}
ENTRIES = ("h_1", "h_2", "u_7")
NUMBERS = ("reward_seq", "identifier_seq")


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    """An item's attributes, as the subject model declares them (some absent)."""
    chosen = draw(st.sets(st.sampled_from(sorted(FIELDS))))
    found = {name: draw(FIELDS[name]) for name in chosen}
    if draw(st.booleans()):
        found["revenue"] = draw(
            st.dictionaries(st.sampled_from(("EUR", "USD")), st.integers(0, 9), max_size=2)
        )
    return {name: value for name, value in found.items() if value is not None}


@st.composite
def actions(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """Updates touching each attribute at most once (DynamoDB refuses overlapping paths)."""
    chosen: list[tuple[Any, ...]] = []
    for name in draw(st.sets(st.sampled_from(sorted(FIELDS)))):
        chosen.append(("set", name, draw(FIELDS[name])))
    for name in draw(st.sets(st.sampled_from(ENTRIES))):
        chosen.append(draw(st.sampled_from((("set_value", name), ("remove", name)))))
    for name in draw(st.sets(st.sampled_from(NUMBERS))):
        chosen.append(("add_number", name, draw(st.integers(1, 3))))
    if "emails" not in {a[1] for a in chosen}:
        kind = draw(st.sampled_from(("add_members", "delete_members", None)))
        if kind:
            chosen.append((kind, "emails", draw(members)))
    revenue = draw(st.sampled_from(("set_if_absent", "add_to_entry", None)))
    if revenue == "set_if_absent":
        chosen.append(("set_if_absent", "revenue"))
    elif revenue == "add_to_entry":
        chosen.append(
            ("add_to_entry", "revenue", draw(st.sampled_from(("EUR", "GBP"))), draw(st.integers(1, 9)))
        )
    if draw(st.booleans()):
        chosen.append(("typed",))
    return chosen


conditions = st.lists(
    st.one_of(
        st.tuples(
            st.just("requires"),
            st.sampled_from(("name", "version")),
            st.none() | st.sampled_from(("", "a", 0, 2)),
        ),
        st.tuples(st.just("requires_absent"), st.sampled_from(("version", "email", "emails"))),
        st.tuples(st.just("requires_not"), st.just("name"), texts),
        st.tuples(st.just("requires_size"), st.just("emails"), st.integers(0, 3)),
        st.tuples(st.just("requires_item")),
    ),
    max_size=2,
)


def _raw(update: ItemUpdate, step: tuple[Any, ...], model: Any) -> None:
    kind, rest = step[0], step[1:]
    if kind == "set":
        update.set(getattr(model, rest[0]), _typed_value(rest[0], rest[1]))
    elif kind == "set_value":
        update.set_value(rest[0], {"N": "1"} if rest[0].startswith("u_") else {"S": f"entry {rest[0]}"})
    elif kind == "remove":
        update.remove(rest[0])
    elif kind == "add_number":
        update.add_number(rest[0], rest[1])
    elif kind == "add_members":
        update.add_members(model.emails, rest[1])
    elif kind == "delete_members":
        update.delete_members(model.emails, rest[1])
    elif kind == "set_if_absent":
        update.set_if_absent(model.revenue, {})
    elif kind == "add_to_entry":
        update.add_to_entry(model.revenue, rest[1], rest[2])
    elif kind == "typed":
        update.typed(model)
    elif kind == "requires":
        update.requires(getattr(model, rest[0]), _condition_value(rest[0], rest[1]))
    elif kind == "requires_absent":
        update.requires_absent(rest[0])
    elif kind == "requires_not":
        update.requires_not(getattr(model, rest[0]), rest[1])
    elif kind == "requires_size":
        update.requires_size(rest[0], rest[1])
    else:
        update.requires_item()


def _pynamodb(step: tuple[Any, ...], model: Any) -> Any:
    """The same step as pynamodb's action or condition."""
    kind, rest = step[0], step[1:]
    if kind == "set":
        attribute, value = getattr(model, rest[0]), _typed_value(rest[0], rest[1])
        return attribute.remove() if value is None else attribute.set(value)
    if kind == "set_value":
        return Path([rest[0]]).set(1 if rest[0].startswith("u_") else f"entry {rest[0]}")
    if kind == "remove":
        return Path([rest[0]]).remove()
    if kind == "add_number":
        return Path([rest[0]]).add(rest[1])
    if kind == "add_members":
        return model.emails.add(set(rest[1]))
    if kind == "delete_members":
        return model.emails.delete(set(rest[1]))
    if kind == "set_if_absent":
        return model.revenue.set(model.revenue | {})
    if kind == "add_to_entry":
        path = model.revenue[rest[1]]
        return path.set((path | 0) + rest[2])
    if kind == "typed":
        return model.item_type.set(model)
    if kind == "requires":
        attribute, value = getattr(model, rest[0]), _condition_value(rest[0], rest[1])
        return attribute.does_not_exist() if value is None else attribute == value
    if kind == "requires_absent":
        return Path([rest[0]]).does_not_exist()
    if kind == "requires_not":
        return getattr(model, rest[0]) != rest[1]
    if kind == "requires_size":
        return size(Path([rest[0]])) == rest[1]
    return Path(["pk"]).exists()


def _typed_value(name: str, value: Any) -> Any:
    return set(value) if name == "emails" and value is not None else value


def _condition_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name == "version":
        return value if isinstance(value, int) else len(value)
    return str(value)


def _outcome(apply: Any) -> str:
    try:
        apply()
    except TransactWriteError as exc:
        codes = [getattr(r, "code", None) for r in (exc.cancellation_reasons or [])]
        return f"refused {codes}" if codes else "invalid"
    return "written"


@pytest.fixture
def models(aws: Aws) -> Any:
    return aws.repository._m  # the adapter's models: the table's classes, bound to moto


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(item=items(), steps=actions(), checks=conditions)
def test_an_item_update_writes_what_pynamodb_writes(
    models: Any, item: dict[str, Any], steps: list[tuple[Any, ...]], checks: list[tuple[Any, ...]]
) -> None:
    if not steps:
        return  # an update says something
    subject = models.subject
    twins = {}
    for twin in ("raw", "pynamodb"):
        pk = keys.subject_pk("prog_twins", "partner", twin)
        stored = subject(pk, keys.PROFILE_SK, **{"program_id": "prog_twins", "subject_type": "partner"})
        stored.subject_id = twin
        for name, value in item.items():
            setattr(stored, name, _typed_value(name, value))
        stored.save()
        twins[twin] = pk

    update = ItemUpdate(subject, twins["raw"], keys.PROFILE_SK)
    for step in [*steps, *checks]:
        _raw(update, step, subject)
    raw_tx = StepTransaction(connection=models.connection())
    raw_tx.update_item(update)

    condition = None
    for check in checks:
        part = _pynamodb(check, subject)
        condition = part if condition is None else condition & part
    py_tx = TransactWrite(connection=models.connection())
    py_tx.update(
        subject(twins["pynamodb"], keys.PROFILE_SK),
        actions=[_pynamodb(step, subject) for step in steps],
        condition=condition,
    )
    assert _outcome(raw_tx._commit) == _outcome(py_tx._commit)
    raw = subject.get(twins["raw"], keys.PROFILE_SK).attribute_values
    written = subject.get(twins["pynamodb"], keys.PROFILE_SK).attribute_values
    for found in (raw, written):
        found.pop("pk"), found.pop("subject_id")
        # pynamodb writes an absent value as DynamoDB's NULL, ItemUpdate leaves it out: both read None
        for name in [name for name, value in found.items() if value is None]:
            found.pop(name)
        if "revenue" in found:  # a map attribute compares by identity: its entries
            found["revenue"] = found["revenue"].as_dict()
    raw_extra = models.connection().get_item(subject.Meta.table_name, twins["raw"], keys.PROFILE_SK)["Item"]
    written_extra = models.connection().get_item(subject.Meta.table_name, twins["pynamodb"], keys.PROFILE_SK)[
        "Item"
    ]
    for entry in ENTRIES:  # attributes the model does not declare (list entries, marks)
        assert raw_extra.get(entry) == written_extra.get(entry)
    assert raw == written
