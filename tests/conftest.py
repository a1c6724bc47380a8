"""Shared fixtures. moto is imported before anything that builds a boto3 client."""

from __future__ import annotations

import functools
import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import settings
from moto import mock_aws
from moto.core.base_backend import AccountSpecificBackend

os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "FraudManagementTests")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

from functions.shared import runtime, tenancy  # noqa: E402
from functions.shared.clock import FixedClock  # noqa: E402
from functions.shared.config import Settings  # noqa: E402
from functions.shared.storage.port import Repository  # noqa: E402
from local_system.moto_atomic import make_moto_dynamodb_atomic  # noqa: E402
from local_system.provision import Resources, provision  # noqa: E402
from tests import iam_check, moto_in_process  # noqa: E402

make_moto_dynamodb_atomic()
moto_in_process.install()

# No property is a timed test: hypothesis's default deadline (200 ms an example) failed one in a
# run beside the suite's other workers on a loaded machine (a unit test of address keys, at a load
# of 10 on two cores). What an example must do is asserted; how fast it is, `make bench` measures.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


def _share_botocore_models() -> None:
    """Every botocore session reads its service models and endpoint rules from JSON files through a
    loader of its own, which keeps what it parsed only for that session. Each test builds fresh
    clients (a fresh moto account, fresh dependencies), several sessions a test: parsing the same
    files again took 40 % of the integration tests' time. One loader per data path for the whole
    run: the files never change while it runs."""
    import botocore.session

    botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.session.create_loader)


_share_botocore_models()


def _share_botocore_hook_checks() -> None:
    """Each client registers about ninety event handlers, and botocore asks `inspect` for every
    handler's signature (does it take **kwargs?) and works out every event name's aliases in a
    cache of that client's own: a test builds a dozen clients, and this was a sixth of the
    integration tests' time. Both answers depend only on the handler's function and the event's
    name: asked once for the whole run."""
    from botocore import hooks
    from botocore.utils import EVENT_ALIASES

    asked = functools.lru_cache(maxsize=4096)(hooks.accepts_kwargs)

    def accepts_kwargs(func: Any) -> Any:
        function = getattr(func, "__func__", func)  # a bound method: its function's signature
        try:
            return asked(function)
        except TypeError:  # an unhashable callable
            return asked.__wrapped__(func)

    hooks.accepts_kwargs = accepts_kwargs  # type: ignore[attr-defined]

    aliased: dict[str, str] = {}
    initialize = hooks.EventAliaser.__init__

    def __init__(self: Any, event_emitter: Any, event_aliases: Any = None) -> None:
        initialize(self, event_emitter, event_aliases)
        if event_aliases is None or event_aliases == EVENT_ALIASES:
            self._alias_name_cache = aliased  # the same aliases: the same names

    hooks.EventAliaser.__init__ = __init__  # type: ignore[method-assign]


_share_botocore_hook_checks()


def _one_unused_rsa_key_for_symmetric_keys() -> None:
    """moto gives every KMS key it creates an RSA-2048 private key for Sign and Verify, a symmetric
    key too, which can do neither (KMS refuses a Sign with one). Every test's account creates a
    symmetric key (programs' signing secrets are sealed with it): generating that RSA key was 40 ms
    a test, a fifth of its moto set-up. A symmetric key now shares one, made on first use; an
    asymmetric key still gets its own, and the symmetric key's own material, which seals and opens,
    is still fresh for each."""
    from moto.kms import models

    generate = models.generate_private_key
    shared = functools.cache(generate)

    def generate_private_key(key_spec: str) -> Any:
        return shared(key_spec) if key_spec == "SYMMETRIC_DEFAULT" else generate(key_spec)

    models.generate_private_key = generate_private_key  # type: ignore[assignment]


_one_unused_rsa_key_for_symmetric_keys()

# Opt-in: LOCAL_DYNAMODB=engine answers every DynamoDB call made under moto's mock from the local
# system's own engine (local_system.dynamodb), a fresh one for each moto account (moto's reset, at
# each mock_aws start, drops it with the account); SQS, EventBridge and KMS stay moto's. Set before
# any botocore session exists, so every session (boto3's, pynamodb's) gets the handler.
if os.environ.get("LOCAL_DYNAMODB") == "engine":
    from local_system.dynamodb.in_process import engines_beside_moto  # noqa: E402

    engines_beside_moto()


iam_check.install()


E2E_WORKERS = 2  # of the workers pyproject.toml's addopts start (three): the others take the other files


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's `loadfile` (a file's tests on one worker), but the end-to-end files in two units,
    begun first (`--no-loadscope-reorder`: the files in the order collected, `tests/e2e` first).
    Their two workers wait on Chromium and on the local system much of the time, and the third
    worker's tests fill the two cores meanwhile. Before, xdist put the files of most tests first, so
    the end-to-end files, ten tests each, came last on both workers, the cores a quarter idle."""
    from xdist.scheduler import LoadFileScheduling

    class EndToEndFirst(LoadFileScheduling):  # type: ignore[misc]
        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            self._e2e_units: dict[str, str] = {}

        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if not path.startswith("tests/e2e/"):
                return str(super()._split_scope(nodeid))
            # the files alternate between the units in the order collected (about 240 s each)
            return self._e2e_units.setdefault(path, f"e2e-{len(self._e2e_units) % E2E_WORKERS}")

    return EndToEndFirst(config, log)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Python's cycle collector, tuned for a test run: by the time the tests start, a worker holds
    hundreds of thousands of long-lived objects (botocore's service models, moto's backends, the
    test modules), and every full collection walked them all again, tens of milliseconds each,
    several times a test. They are set aside from collection once collected (`gc.freeze`), and the
    youngest generation is collected every 100,000 allocations rather than 700 (a test's moto
    account is cyclic garbage once it ends: still collected, a little later). The integration
    tests' CPU: 20 % less (four files, one process, paired runs); each worker holds about 100 MB
    more."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


@pytest.fixture(autouse=True)
def _handlers_call_only_what_their_role_allows() -> Iterator[None]:
    """`tests.iam_check`: an AWS call a handler made that its role (infra/permissions.py) does not
    allow fails the test that made it."""
    iam_check.violations.clear()
    yield
    found = sorted(set(iam_check.violations))
    iam_check.violations.clear()
    if found:
        pytest.fail("AccessDenied in AWS:\n" + "\n".join(found), pytrace=False)


@pytest.fixture(autouse=True)
def _moto_accounts_end_with_their_test() -> Iterator[None]:
    """moto keeps its last 128 account backends in a method cache (`_generate_regions`), and each one
    every table, queue and item of its test: a test's data outlived it by dozens of tests, and a
    worker grew past 3 GB. Cleared after each test, which lets them go."""
    yield
    AccountSpecificBackend._generate_regions.cache_clear()


@dataclass
class Aws:
    resources: Resources
    repository: Repository
    sqs: Any
    settings: Settings

    def queued(self) -> list[dict[str, Any]]:
        """Every message waiting on the scoring queue (received and left there)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.resources.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        ).get("Messages", [])
        return messages


@pytest.fixture
def own_environment() -> Iterator[None]:
    """For a test that replays traffic as the evaluation does: the replay sets the functions'
    environment as a Lambda's would be; put ours back after."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    runtime.forget_dependencies()


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials moto accepts (never real ones), and AWS's own endpoints, which moto's mock answers
    in process: for the tests of the moto stand-in's patches."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@functools.cache
def _provisioning_client(service: str) -> Any:
    """The clients that create each test's resources, made once for the run (a client costs 5 ms,
    four a test): moto answers them in whichever test's account is current, and nothing else uses
    them. What the functions and the tests call AWS with is made fresh for each test."""
    return boto3.client(service, region_name="us-east-1")


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    """A fresh moto account with the table, queue and bus, and the functions' environment."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        runtime.forget_dependencies()
        resources = provision(_provisioning_client)
        for name, value in resources.environment().items():
            monkeypatch.setenv(name, value)
        settings = Settings.from_env()
        yield Aws(
            resources,
            runtime.build_repository(settings),
            boto3.client("sqs", region_name="us-east-1"),
            settings,
        )
        runtime.forget_dependencies()


@dataclass
class Tenant:
    program_id: str
    keys: dict[str, str]


def make_tenant(repository: Repository, name: str, signing_secret: str | None = None) -> Tenant:
    clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    program = tenancy.create_program(repository, clock, name, signing_secret=signing_secret)
    keys = {
        role: tenancy.create_key(repository, clock, program.program_id, role, f"{name} {role}")[1]
        for role in ("integration", "viewer", "fraud", "admin")
    }
    return Tenant(program.program_id, keys)


@pytest.fixture
def tenant(aws: Aws) -> Tenant:
    return make_tenant(aws.repository, "Program A")


@pytest.fixture
def other_tenant(aws: Aws) -> Tenant:
    return make_tenant(aws.repository, "Program B")


@pytest.fixture
def security_key(aws: Aws) -> str:
    clock = FixedClock(datetime(2026, 11, 1, tzinfo=UTC))
    return tenancy.create_key(aws.repository, clock, None, "security", "Platform security")[1]
