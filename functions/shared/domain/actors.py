"""The names the system signs its own entries with: case audit trails (a flag's holds and a
removal's mop-up as `system`, the monthly cycle as `dispute-cycle`, the sweep as `hold-sweep`) and a
loyalty customer's history (`workflow:<id>`). A key acting under one of them would pass its
person's actions off as the system's, so no key is named so, in any spelling that reads the same
(`tenancy.create_key`)."""

from __future__ import annotations

from functools import cache

from functions.shared.domain.identity import as_read

SYSTEM = "system"
DISPUTE_CYCLE = "dispute-cycle"
HOLD_SWEEP = "hold-sweep"
WORKFLOW_PREFIX = "workflow:"
_SYSTEMS = (SYSTEM, DISPUTE_CYCLE, HOLD_SWEEP)


def workflow(workflow_id: str) -> str:
    return WORKFLOW_PREFIX + workflow_id


def _letters(text: str) -> str:
    """A name without its separators: `Dispute Cycle`, `dispute_cycle` and `dispute-cycle` alike.
    What is not a Latin letter or digit once read separates too: a katakana prolonged sound mark
    (`ー`) counts as a letter, and is drawn as a dash (`dispute` `ー` `cycle`)."""
    return "".join(ch for ch in as_read(text) if ch.isascii() and ch.isalnum())


_RESERVED = frozenset(_letters(name) for name in _SYSTEMS)


@cache
def _colons() -> frozenset[str]:
    """A colon and what is drawn as one (`∶` ratio, `꞉` modifier letter colon, `։` Armenian full
    stop: Unicode's confusables, UTS #39), which `as_read` leaves as written (it takes letters for
    letters, not punctuation for punctuation)."""
    from confusable_homoglyphs import confusables  # its table loads with the first key made

    drawn = confusables.confusables_data.get(":", ())
    return frozenset({":", *(lookalike["c"].strip("\u200e") for lookalike in drawn)})


def is_systems(actor: str) -> bool:
    """Whether a person's name would read as one of the system's: `workflow∶wf-1` with a ratio sign
    reads as the workflow's own entries in a customer's history, and so does `workflow` followed,
    blanks or not, by any mark that is not a letter or a digit (`workflow :wf-1`, `workflow;wf-1`, a
    braille dot pattern drawn as a colon). `Workflows team` is a name of its own."""
    if _letters(actor) in _RESERVED:
        return True
    text, word = as_read(actor).lstrip(), WORKFLOW_PREFIX[:-1]
    if not text.startswith(word):
        return False
    after = text[len(word) :].lstrip()
    return bool(after) and (after[0] in _colons() or not after[0].isalnum())


def described() -> str:
    return ", ".join(f"`{name}`" for name in _SYSTEMS) + f" and names beginning `{WORKFLOW_PREFIX}`"
