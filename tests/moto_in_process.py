"""The tests' AWS calls answered by moto's response layer in process, as the local system answers
the functions (`local_system.moto_direct.answer_in_process`), not over botocore's emulated wire.

Over the wire, a call into `mock_aws` is signed (a signature nobody checks), sent through botocore's
retry and send machinery, and matched by moto's stubber against every backend's URL patterns before
moto answers it: 38 % of the integration tests' time (three of their files, one process: 80 s -> 50 s).
In process, botocore still validates and serializes each call and parses moto's answer with the
operation's shapes; moto's backends and response classes still answer it, errors included; faults
are still injected where the tests inject them, above botocore (`_make_api_call`). That both ways
answer alike is `tests/integration/test_moto_direct.py`'s property, which compares them with
`over_the_wire()`.

Registered last for every botocore session made after `install()`: a handler a test or a stand-in
registers itself (the local DynamoDB engine, the stand-in's process) answers first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local_system.moto_direct import answer_in_process

_wire = False


def _answer(model: Any, params: dict[str, Any], **kwargs: Any) -> Any:
    return None if _wire else answer_in_process(model, params, **kwargs)


def install() -> None:
    import botocore.handlers

    handler = ("before-call", _answer, botocore.handlers.REGISTER_LAST)
    if handler not in botocore.handlers.BUILTIN_HANDLERS:
        botocore.handlers.BUILTIN_HANDLERS.append(handler)


@contextmanager
def over_the_wire() -> Iterator[None]:
    """Calls made inside go botocore's whole way to moto's stubber (the control the direct way is
    compared with)."""
    global _wire
    _wire = True
    try:
        yield
    finally:
        _wire = False
