"""The local DynamoDB engine answers the functions' own requests as moto does: the DynamoDB requests
of a small replay of the evaluation's traffic (sign-ups, purchases, account changes, rewards, flags,
holds, removals; conditional failures and cancelled transactions among them), recorded on moto,
answered again by a fresh moto and a fresh engine side by side (`benchmarks.local_dynamodb`, which
also times them), then all again (where conditional writes and transactions are refused): every
answer is the same."""

from __future__ import annotations

from benchmarks.local_dynamodb import answered_twice
from evaluation.generator import Scale

# every pattern once in each of two programs; two partners written beyond Latin, not fifteen (their
# keys sort as UTF-8 bytes either way): about 1,700 requests, not 2,300
SMALL = Scale(programs=2, partners=4, households=1, travellers=1, fraud=1, scripts=2, proxied=1, honest=0)


def test_the_engine_answers_the_functions_requests_as_moto_does(own_environment):
    requests, spent, differing = answered_twice(SMALL, passes=2)  # the second pass: refusals
    operations = {target.rpartition(".")[2] for target, _ in requests}
    assert {"TransactWriteItems", "BatchGetItem", "PutItem", "GetItem"} <= operations
    assert len(requests) >= 200
    assert differing == []
