"""What a PUT of a campaign, a workflow or a webhook says it replaces (`replaces`): the `updated_at`
it read, or null for one that must not exist yet. When that is no longer so, nothing changes (409):
a teammate's change made since is never undone unseen, and a new one never replaces one made
meanwhile under the same id. Left out, a PUT replaces whatever is there (SPEC 3.4's and SPEC 6's
PUT). The store holds the check with its write (a condition on the `updated_at` checked, or on
none being there)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Final

from pydantic import AfterValidator, BaseModel

from functions.shared.domain.model import as_utc
from functions.shared.errors import Conflict
from functions.shared.inputs import Blank, Time, none_if_blank
from functions.shared.storage.keys import timestamp

DESCRIPTION = (
    "The `updated_at` of the {0} as you read it, or null for a {0} that must not exist yet: when it is "
    "no longer so (a teammate changed it, or made one of this id meanwhile), 409 and nothing changes. "
    "Left out, the PUT replaces whatever is there."
)

if TYPE_CHECKING:  # what the field holds once read: a blank is None
    Seen = datetime | None
else:  # and what it takes, as the schema says: a time, a blank or null
    Seen = Annotated[Time | Blank | None, AfterValidator(none_if_blank)]


class _Anything:
    """`replaces` left out: whatever is there."""


ANYTHING: Final = _Anything()
Replaces = datetime | None | _Anything


def replaces_of(settings: BaseModel) -> Replaces:
    return getattr(settings, "replaces", None) if "replaces" in settings.model_fields_set else ANYTHING


def check(what: str, replaces: Replaces, current: datetime | None) -> None:
    """`current`: the stored one's `updated_at` (None: there is none)."""
    if isinstance(replaces, _Anything):
        return
    if current is None:
        if replaces is not None:
            raise Conflict(f"{what} no longer exists: it was deleted since you read it")
        return
    if replaces is None:
        raise Conflict(f"{what} exists already (updated_at {timestamp(current)}): read it, then change it")
    if as_utc(replaces) != current:
        raise Conflict(
            f"{what} was changed since you read it (updated_at {timestamp(current)}, "
            f"not {timestamp(replaces)}): read it again"
        )
