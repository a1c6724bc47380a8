"""The console tells an ID the API would refuse before it sends one (`dom.js`'s `IDENTIFIER`): the
same pattern as the API's (`inputs.IDENTIFIER_PATTERN`). A console tester's find: a new campaign or
workflow named `.`, `..` or `summer/2026` reached the API as another route, "no route PUT
/v1/loyalty/", since the browser resolves such a path before sending it."""

from __future__ import annotations

import re
from pathlib import Path

from functions.shared.inputs import IDENTIFIER_PATTERN

DOM = Path(__file__).resolve().parents[2] / "web" / "src" / "js" / "dom.js"


def test_the_consoles_identifier_is_the_apis():
    found = re.search(r"export const IDENTIFIER = /(.*)/;", DOM.read_text())
    assert found is not None, "dom.js's IDENTIFIER moved"
    assert found[1] == IDENTIFIER_PATTERN
