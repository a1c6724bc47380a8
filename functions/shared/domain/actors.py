"""The names the system signs its own entries with: case audit trails (a flag's holds and a
removal's mop-up as `system`, the monthly cycle as `dispute-cycle`, the sweep as `hold-sweep`) and a
loyalty customer's history (`workflow:<id>`). A key acting under one of them would pass its
person's actions off as the system's, so no key is named so, in any spelling that reads the same
(`tenancy.create_key`)."""

from __future__ import annotations

from functools import cache, lru_cache

from functions.shared.domain.identity import as_read

SYSTEM = "system"
DISPUTE_CYCLE = "dispute-cycle"
HOLD_SWEEP = "hold-sweep"
WORKFLOW_PREFIX = "workflow:"
_SYSTEMS = (SYSTEM, DISPUTE_CYCLE, HOLD_SWEEP)


def workflow(workflow_id: str) -> str:
    return WORKFLOW_PREFIX + workflow_id


def _letters(text: str) -> str:
    """A name without its separators, as read (`_read`): `Dispute Cycle`, `dispute_cycle`,
    `dispute-cycle` and `ᴅɪꜱᴘᴜᴛᴇーᴄʏᴄʟᴇ` alike."""
    return "".join(ch for ch in _read(text) if ch.isalnum())


def _read(text: str) -> str:
    """`as_read`, and what it leaves as written read too: a small capital as its letter, a letter
    drawn as one (`_drawn_as`), a letter drawn as a dash as a dash."""
    letters, dashes = _drawn_as()
    return "".join(
        "-" if ch in dashes else letters.get(ch) or _small_capital(ch) or ch for ch in as_read(text)
    )


_SMALL_CAPITAL = "LATIN LETTER SMALL CAPITAL "


@lru_cache(maxsize=4096)
def _small_capital(character: str) -> str | None:
    """The letter a Latin small capital is (`ꜰ` is `f`), by its Unicode name; None for any other."""
    import unicodedata

    if len(character) != 1 or character.isascii():
        return None
    name = unicodedata.name(character, "")
    letter = name.removeprefix(_SMALL_CAPITAL)
    return letter.lower() if letter != name and len(letter) == 1 else None


@cache
def _drawn_as() -> tuple[dict[str, str], frozenset[str]]:
    """From Unicode's confusables (UTS #39): the characters drawn as a Latin letter that `as_read`
    leaves as written (a small capital `ꜱ`, `ᴛ`, a Greek `τ` drawn as `ᴛ`), each with that letter;
    and those drawn as a dash that Unicode counts as letters (a katakana prolonged sound mark `ー`,
    a CJK `一`, a Hangul `ㅡ`). Every other letter stays itself: `system 管理者` is a name of its own."""
    from confusable_homoglyphs import confusables  # its table loads with the first key made

    def plain(character: str) -> str:
        return character.strip("\u200e")

    def latin(character: str) -> str | None:
        if character.isascii() and character.isalpha() and len(character) == 1:
            return character.lower()
        return _small_capital(character)  # none for a sequence drawn as the letter

    letters: dict[str, str] = {}
    for key, drawn in confusables.confusables_data.items():
        if len(key) != 1 or key.isascii():
            continue
        found = [latin(key), *(latin(plain(lookalike["c"])) for lookalike in drawn)]
        if letter := next((one for one in found if one), None):
            letters[key] = letter
    dashes = {"-", "\u30fc"}
    for dash in ("-", "\u30fc"):
        dashes.update(plain(d["c"]) for d in confusables.confusables_data.get(dash, ()))
    return letters, frozenset(dashes)


_RESERVED = frozenset("".join(ch for ch in name if ch.isalnum()) for name in _SYSTEMS)


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
    braille dot pattern drawn as a colon), whatever marks come before it. `Workflows team` is a
    name of its own; `Workflow-team` is not taken."""
    if _letters(actor) in _RESERVED:
        return True
    text, word = _read(actor), WORKFLOW_PREFIX[:-1]
    text = text[next((i for i, ch in enumerate(text) if ch.isalnum()), len(text)) :]
    if not text.startswith(word):
        return False
    after = text[len(word) :].lstrip()
    return bool(after) and (after[0] in _colons() or not after[0].isalnum())


def described() -> str:
    return ", ".join(f"`{name}`" for name in _SYSTEMS) + f" and names beginning `{WORKFLOW_PREFIX}`"
