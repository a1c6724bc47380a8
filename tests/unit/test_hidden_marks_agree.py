"""The marks that hide or reorder text are one list (`invisible.HIDDEN_MARKS`): names and actors
may not hold them (`inputs.UNPRINTABLE`), fraudctl shows them as code points (`terminal_safe`), and
so does the console (`shownText`, whose copy is JavaScript: held to the list here, code point by
code point over the basic plane). A review found the three apart."""

from __future__ import annotations

import re
from pathlib import Path

from fraudctl.cli import terminal_safe
from functions.shared.inputs import UNPRINTABLE
from functions.shared.invisible import HIDDEN_MARKS

DOM = Path(__file__).resolve().parents[2] / "web" / "src" / "js" / "dom.js"
CONTROLS_SHOWN = {*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)}  # C0 but tab, newline; DEL; C1


def _matched(character_class: str) -> set[int]:
    pattern = re.compile(f"[{character_class}]")
    return {code for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF and pattern.match(chr(code))}


def test_the_console_shows_the_same_marks_as_fraudctl_and_the_api_refuses():
    marks = _matched(HIDDEN_MARKS)
    console = re.search(r"const HIDDEN =\s*/\[([^\]]*)\]", DOM.read_text())
    assert console is not None, "dom.js's HIDDEN class moved"
    assert _matched(console.group(1)) == marks | CONTROLS_SHOWN
    assert {code for code in marks | CONTROLS_SHOWN if terminal_safe(chr(code)) == chr(code)} == set()
    assert marks <= _matched(UNPRINTABLE)
