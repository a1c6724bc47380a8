"""The names the system signs its own entries with: case audit trails (a flag's holds and a
removal's mop-up as `system`, the monthly cycle as `dispute-cycle`, the sweep as `hold-sweep`) and a
loyalty customer's history (`workflow:<id>`). A key acting under one of them would pass its
person's actions off as the system's, so no key is named so, in any spelling that reads the same
(`tenancy.create_key`)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

from functions.shared.domain.identity import as_read

SYSTEM = "system"
DISPUTE_CYCLE = "dispute-cycle"
HOLD_SWEEP = "hold-sweep"
WORKFLOW_PREFIX = "workflow:"
_SYSTEMS = (SYSTEM, DISPUTE_CYCLE, HOLD_SWEEP)


def workflow(workflow_id: str) -> str:
    return WORKFLOW_PREFIX + workflow_id


def _letters(read: str) -> str:
    """A name read (`_read`) as its letters and digits alone, with every look-alike of a dash or a
    colon taken for one wherever it stands, and what is drawn alike as one (`_skeleton`):
    `Dispute Cycle`, `dispute_cycle`, `ᴅɪꜱᴘᴜᴛᴇ ー ᴄʏᴄʟᴇ` and `hoId-sweep` alike."""
    dashes, colons = _drawn_as()
    kept = _skeleton("".join(ch for ch in read if ch not in dashes and ch not in colons))
    return "".join(ch for ch in kept if ch.isalnum())


def _skeleton(letters: str) -> str:
    """ASCII drawn alike, as one: `rn` and `m`, `vv` and `w`, `0` and `o`, `1`, `i`, `l` and the
    vertical bars (`|`, `¦`, `│`)."""
    for drawn, read in _DRAWN_ALIKE:
        letters = letters.replace(drawn, read)
    return letters


_DRAWN_ALIKE = (
    ("rn", "m"),
    ("vv", "w"),
    ("0", "o"),
    *((bar, "l") for bar in ("1", "i", "|", "\u00a6", "\u2502")),
)


def _read(text: str) -> str:
    """`as_read`, and what it leaves as written read too: a letter drawn as a Latin one as that
    letter (`_latin`), combining marks left out, and a letter drawn as a dash or a colon
    (`_drawn_as`) as one where the nearest letters on either side, blanks passed over, are Latin
    ones or digits (`dispute一cycle`, `hold ー sweep`; but `Workflow 一号` is a name)."""
    read = [_latin(ch) or ch for ch in as_read(text) if unicodedata.category(ch) not in ("Mn", "Me")]
    dashes, colons = _drawn_as()

    def latin_beside(at: int, step: int) -> bool:
        at += step
        while 0 <= at < len(read) and read[at].isspace():
            at += step
        return 0 <= at < len(read) and read[at].isascii() and read[at].isalnum()

    for at, ch in enumerate(read):
        if (ch in dashes or ch in colons) and latin_beside(at, -1) and latin_beside(at, 1):
            read[at] = ":" if ch in colons else "-"
    return "".join(read)


# a Latin letter's name, whatever comes before it (`NEGATIVE SQUARED`, `CIRCLED`, `FULLWIDTH`)
_LATIN_NAME = re.compile(
    r"(?:LATIN (?:CAPITAL |SMALL )?LETTER (?:SMALL CAPITAL )?|REGIONAL INDICATOR SYMBOL LETTER )([A-Z])$"
)


@lru_cache(maxsize=4096)
def _latin(character: str) -> str | None:
    """The Latin letter a character is drawn as, when `as_read` leaves it as written: by its Unicode
    name (a small capital `ꜰ`, a negative squared `🆂`, a circled one), else by Unicode's
    confusables (a Greek `τ` drawn as a small capital `ᴛ`, a Cyrillic `м` drawn as `ᴍ`); None for
    an ASCII character or any other."""
    if len(character) != 1 or character.isascii():
        return None
    return _named_latin(unicodedata.name(character, "").split(" WITH ")[0]) or _drawn_letters().get(character)


def _named_latin(name: str) -> str | None:
    """The Latin letter a character's Unicode name names (`_LATIN_NAME`), lower case; None if none."""
    named = _LATIN_NAME.search(name)
    return named.group(1).lower() if named else None


@cache
def _drawn_letters() -> dict[str, str]:
    """From Unicode's confusables (UTS #39): each character drawn as a Latin letter or as a
    character named as one (a small capital), with that letter; both ways round, as the table
    lists a look-alike under one of the two."""
    from confusable_homoglyphs import confusables  # its table loads with the first key made

    def named(character: str) -> str | None:
        if len(character) != 1:
            return None
        if character.isascii():
            return character.lower() if character.isalpha() else None
        return _named_latin(unicodedata.name(character, ""))

    letters: dict[str, str] = {}
    for key, drawn in confusables.confusables_data.items():
        lookalikes = [d["c"].strip("\u200e") for d in drawn]
        if len(key) != 1:
            continue
        letter = named(key) or next((one for one in map(named, lookalikes) if one), None)
        if letter is None:
            continue
        for character in (key, *lookalikes):
            if len(character) == 1 and not character.isascii():
                letters.setdefault(character, letter)
    return letters


# letters drawn as a dash, by their names' ends: an Arabic tatweel, an NKo lajanyalan, modifier
# macrons, Canadian syllabics' short stroke and middle dot, a Hangul araea
_DASH_NAMES = (
    "TATWEEL",
    "LAJANYALAN",
    "MODIFIER LETTER MACRON",
    "MODIFIER LETTER LOW MACRON",
    "FINAL SHORT HORIZONTAL STROKE",
    "FINAL MIDDLE DOT",
    " ARAEA",  # a Hangul letter, and the vowel sign it is read as
)


# characters drawn as a colon, by their names' ends: any named a colon (not `COLON SIGN`, a
# currency), a Thai and a Lao vowel of two stacked loops; and braille patterns, dots over dots
_COLON_NAMES = ("COLON", "THAI CHARACTER SARA A", "LAO VOWEL SIGN A")


@cache
def _drawn_as() -> tuple[frozenset[str], frozenset[str]]:
    """The characters drawn as a dash (Unicode's confusables of `-` and of a katakana prolonged
    sound mark `ー`: a CJK `一`, a Hangul `ㅡ`; an Arabic tatweel and the like by their names) and
    as a colon (a half triangular colon among them), letters to Unicode most of them."""
    from confusable_homoglyphs import confusables

    data = confusables.confusables_data
    dashes = {
        "-",
        "\u30fc",
        *(d["c"].strip("\u200e") for mark in ("-", "\u30fc") for d in data.get(mark, ())),
    }
    colons = {":", *(d["c"].strip("\u200e") for d in data.get(":", ()))}
    for code in range(0x80, 0x3200):  # braille patterns: U+2800 to U+28FF
        name = unicodedata.name(chr(code), "")
        if name.endswith(_DASH_NAMES):
            dashes.add(chr(code))
        elif name.endswith(_COLON_NAMES) or name.startswith("BRAILLE PATTERN"):
            colons.add(chr(code))
    return frozenset(dashes), frozenset(colons)


_RESERVED = frozenset(_skeleton("".join(ch for ch in name if ch.isalnum())) for name in _SYSTEMS)


def is_systems(actor: str) -> bool:
    """Whether a person's name would read as one of the system's: `workflow∶wf-1` with a ratio sign
    reads as the workflow's own entries in a customer's history, and so does `workflow`, blanks in
    it or not, followed by what reads as a colon (`workflow :wf-1`, `workflow;wf-1`, a braille dot
    pattern), whatever marks come before it. `Workflows team`, `workflow_ops@acme.com`,
    `#workflow-team` and `Workflow (EU)` are names of their own."""
    read = _read(actor)
    if _letters(read) in _RESERVED:
        return True
    colons = _drawn_as()[1]
    text, word = "".join(ch for ch in read if not ch.isspace()), _skeleton(WORKFLOW_PREFIX[:-1])
    text = _skeleton(text[next((i for i, ch in enumerate(text) if ch.isalnum()), len(text)) :])
    rest = text[len(word) :]
    # a look-alike that is a letter reads as a colon only between Latin letters (`_read` made it one)
    return (
        text.startswith(word)
        and bool(rest)
        and (rest[0] in colons and not rest[0].isalnum() or rest[0] == ";")
    )


def described() -> str:
    return ", ".join(f"`{name}`" for name in _SYSTEMS) + f" and names beginning `{WORKFLOW_PREFIX}`"
