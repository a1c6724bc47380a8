"""Domain errors. Storage adapters raise these; the API layer maps them to HTTP in one place
(`functions.shared.problems`)."""

from __future__ import annotations

from datetime import datetime, timedelta


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    """The resource does not exist, or belongs to another program (never say which)."""


class Conflict(DomainError):
    """The request conflicts with the current state (reused id, state transition not allowed)."""


class Unauthorized(DomainError):
    """No credentials, or credentials that do not check out."""


class Forbidden(DomainError):
    """The caller is known but its role may not do this."""


class InvalidInput(DomainError):
    """The input is well-formed JSON but breaks the contract."""

    def __init__(self, detail: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []


def invalid_query(refused: dict[str, str], detail: str | None = None) -> InvalidInput:
    """Query parameters refused by a rule of the route's own (parameter -> what is wrong), named
    `query.<parameter>` as the route's declared validation names them."""
    errors = [{"field": f"query.{name}", "message": message} for name, message in refused.items()]
    return InvalidInput(detail or "; ".join(f"{e['field']}: {e['message']}" for e in errors), errors)


class StorageUnavailable(DomainError):
    """The store did not answer (throttling, network). Retryable."""


class DecisionPending(Conflict):
    """A decision the request must wait for is still being made (a loyalty workflow's run after an
    earn that may suspend the customer): nothing changed, and the same request passes, or is
    refused, once it is made. A 409 of its own type that says what it waits for and when to retry
    (`retry_after` seconds): no dependency is down (a 503 would raise the operators' 5xx alarm, and
    a sender's give-up on a run of 503s)."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class StorageRefused(DomainError):
    """The store refused a request no retry of the caller's passes: a table that does not exist,
    permissions that do not allow it, credentials it does not know or that expired. The deployment's
    configuration, not the caller's: an API answers 500 and logs the detail; an operator's command
    says it; queued work stays due until an operator mends it (`retried_later`)."""


def described(error: Exception) -> str:
    """An error for a log line: a domain error's detail, anything else by its type and text."""
    return error.detail if isinstance(error, DomainError) else f"{type(error).__name__}: {error}"


# How long queued work that keeps meeting a store that does not answer (throttling on a hot key, an
# outage) or refuses it (a grant not yet rolled out, credentials expired) is tried again: each time
# its deliveries run out it goes to the dead-letter queue and stays due, and its relay sends it again;
# past this, its last delivery gives it up.
RETRYABLE_FOR = timedelta(hours=24)


def retried_later(error: Exception, since: datetime, now: datetime) -> bool:
    """Whether queued work whose last delivery failed with `error` stays due for its relay: when the
    store did not answer (the next time it may) or refused the call (the deployment's configuration,
    which an operator mends: a permission granted late must not lose what was accepted before it),
    for `RETRYABLE_FOR` from `since`. Accepted work is never lost to a passing throttle or a
    misconfiguration mended within the day; a fault of the code, which would fail again every time,
    is given up at once (else it would be sent for ever)."""
    return isinstance(error, StorageUnavailable | StorageRefused) and now - since < RETRYABLE_FOR
