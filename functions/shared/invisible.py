"""What shows nothing: one definition for every rule about text a person cannot see, the API's (text
people must see has a character outside it: `inputs.INVISIBLE`) and the identity keys' (an address,
a device, a payout account or a name is read without it: `identity`)."""

from __future__ import annotations

import re

# Control characters (C0, DEL, C1); Unicode's default-ignorable code points (the property
# Default_Ignorable_Code_Point of DerivedCoreProperties.txt, which a renderer draws as nothing: the
# soft hyphen, the combining grapheme joiner, zero-width spaces and joiners, direction marks,
# Hangul fillers, Khmer's inherent vowels, Mongolian selectors, variation selectors, tags, and the
# code points kept for more of them, but the specials' unassigned U+FFF0-FFF8, which no text is
# written with: with them, the contract run (Schemathesis) no longer found valid event bodies);
# and the braille blank, a letter drawn as a blank.
NOT_SHOWN: tuple[tuple[int, int], ...] = (
    (0x0000, 0x001F),
    (0x007F, 0x009F),
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


# The marks that hide or reorder the text around them, beyond the controls, as a pattern's character
# class (the basic plane's: `NOT_SHOWN`): what no name or actor may hold (`inputs.UNPRINTABLE`),
# and what fraudctl's `terminal_safe` and the console's `shownText` show as code points. The
# joiners U+200C and U+200D are not among them: Persian, Indic scripts and emoji are written with
# them (fraudctl and the console show them beside ASCII only).
HIDDEN_MARKS = (
    "\\u00ad\\u061c\\u180e\\u200b\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u2069\\ufeff"
    "\\ufff9-\\ufffb"
)


def _escaped(code: int) -> str:
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _ranges(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(_escaped(a) if a == b else f"{_escaped(a)}-{_escaped(b)}" for a, b in ranges)


# `NOT_SHOWN` as a pattern's character class, in the basic plane: a schema pattern (ECMA-262
# without its `u` flag) names no code point beyond it
INVISIBLE = _ranges(tuple(r for r in NOT_SHOWN if r[1] <= 0xFFFF))
_NOT_SHOWN = re.compile(f"[{_ranges(NOT_SHOWN)}]")


def unshown(text: str) -> str:
    """The text without what shows nothing (`NOT_SHOWN`): `jo\\u034fhn` is `john`."""
    return _NOT_SHOWN.sub("", text)
