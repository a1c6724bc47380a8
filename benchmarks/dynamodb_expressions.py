"""The local DynamoDB engine's expressions (local_system/dynamodb/expressions.py): microseconds per
evaluation of a compiled (cached) expression, in the shapes pynamodb sends for the scorer: a
two-function condition, a four-function condition, and an update of 18 actions (16 SET, a nested
`if_not_exists (...) + :x`, an `if_not_exists`, an ADD); then the one-time parse, and the value
checks the engine runs on every stored item. Best of 5 repeats of `BENCH_EXPRESSION_LOOPS` calls.
`python -m benchmarks dynamodb_expressions`."""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable
from typing import Any

LOOPS = int(os.environ.get("BENCH_EXPRESSION_LOOPS", "20000"))


def _micros(call: Callable[[], Any], loops: int = LOOPS) -> float:
    return min(timeit.repeat(call, number=loops, repeat=5)) / loops * 1e6


def run() -> dict[str, float]:
    from local_system.dynamodb import expressions, values

    item: dict[str, Any] = {f"f{i}": {"S": f"value-{i}"} for i in range(16)}
    item |= {"pk": {"S": "P#1"}, "n": {"N": "12"}, "m": {"M": {"k": {"N": "1"}}}}
    simple = expressions.condition("(attribute_exists (#0) AND #1 <> :0)")
    simple_names, simple_values = {"#0": "pk", "#1": "f1"}, {":0": {"S": "x"}}
    nested_text = (
        "((attribute_exists (#0) AND attribute_not_exists (#1)) AND (attribute_not_exists (#2) OR #2 < :0))"
    )
    nested = expressions.condition(nested_text)
    nested_names, nested_values = {"#0": "pk", "#1": "gone", "#2": "n"}, {":0": {"N": "20"}}
    sets = ", ".join(f"#{i} = :{i}" for i in range(16))
    nested_set = "#16.#17 = if_not_exists (#16.#17, :16) + :17"
    update_text = f"SET {sets}, {nested_set}, #18 = if_not_exists (#18, :18) ADD #19 :19"
    update = expressions.update(update_text)
    update_names = {f"#{i}": f"f{i}" for i in range(16)} | {"#16": "m", "#17": "k", "#18": "f16", "#19": "n"}
    update_values = {f":{i}": {"S": f"new-{i}"} for i in range(16)}
    update_values |= {":16": {"N": "0"}, ":17": {"N": "1"}, ":18": {"S": "x"}, ":19": {"N": "5"}}
    assert simple.evaluate(item, simple_names, simple_values)
    assert nested.evaluate(item, nested_names, nested_values)
    assert update.apply(item, update_names, update_values)["n"] == {"N": "17"}

    figures = {
        "condition_two_functions_us": _micros(lambda: simple.evaluate(item, simple_names, simple_values)),
        "condition_four_functions_us": _micros(lambda: nested.evaluate(item, nested_names, nested_values)),
        "update_18_actions_us": _micros(lambda: update.apply(item, update_names, update_values)),
    }
    parse = _micros(
        lambda: (expressions.update.__wrapped__(update_text), expressions.condition.__wrapped__(nested_text)),
        loops=max(LOOPS // 10, 1),
    )
    checks = {
        "check_item": _micros(lambda: values.check_item(item)),
        "canonical": _micros(lambda: values.canonical(item)),
        "item_size": _micros(lambda: values.item_size(item)),
    }
    print(f"  condition, 2 functions (cached)       {figures['condition_two_functions_us']:8.2f} us")
    print(f"  condition, 4 functions (cached)       {figures['condition_four_functions_us']:8.2f} us")
    print(f"  update, 18 actions (cached)           {figures['update_18_actions_us']:8.2f} us")
    print(f"  first parse of that update + condition {parse:7.2f} us")
    for name, micros in checks.items():
        print(f"  values.{name} ({len(item)} attributes){' ' * (18 - len(name))}{micros:8.2f} us")
    return figures
