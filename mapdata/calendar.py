"""The holiday calendar from the command line: `python -m mapdata.calendar import FILE` and `list`.

When the State Council publishes next year's notice, the city admin imports it from a CSV
(``day,kind,holiday`` per line: ``2027-01-01,holiday,New Year's Day``; ``kind`` is ``holiday`` or
``makeup_workday``; ``holiday`` is a key of :data:`mapdata.store.calendar.HOLIDAY_KEYS` or its
Chinese name such as 元旦) or a JSON file (``{"year": 2027, "published_on": "2026-11-12",
"days": [{"day": ..., "kind": ..., "holiday": ...}]}``). The file holds one whole year; it replaces
that year in the store, all or nothing, and the import is in the audit log.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import sys
from pathlib import Path

import chinese_calendar

from mapdata.config import Settings
from mapdata.store import StoreError, open_store
from mapdata.store.calendar import DAY_KINDS, HOLIDAY_KEYS, CalendarDay

#: Who the audit log names for an import made here when no --by is given.
CLI_USER = "cli"
FIELDS = ("day", "kind", "holiday")
#: The most days one year's document may list (a notice lists about 40).
MAX_DAYS = 366
_CHINESE = {h.chinese: h.value for h in chinese_calendar.Holiday}


class CalendarFileError(ValueError):
    """A calendar file that cannot be imported: which line and field, and why."""

    def __init__(self, field: str, message: str, line: int | None = None):
        self.field, self.line, self.reason = field, line, message
        super().__init__(f"{'' if line is None else f'line {line}: '}{field}: {message}")


def _day(value, line: int | None, year: int | None, field: str = "day") -> dt.date:
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise CalendarFileError(field, f"got {str(value)[:40]!r}, expected a date such as 2027-01-01", line) from None
    if year is not None and day.year != year:
        raise CalendarFileError("day", f"{day} is not in {year}: a file holds one year", line)
    return day


def parse_year(rows: list[dict], year: int | None = None) -> tuple[int, list[CalendarDay]]:
    """Validate one year's rows (``day``, ``kind``, ``holiday``): answer the year and its days.

    Raises
    ------
    CalendarFileError
        Naming the line and field: an unknown or missing field, a bad date, days of more than one
        year (or not of ``year``), an unknown kind or holiday, a day twice, a make-up working day
        that is not a Saturday or Sunday, or a year with no holiday day.
    """
    days: dict[dt.date, CalendarDay] = {}
    for i, row in enumerate(rows, start=2):
        if not isinstance(row, dict):
            raise CalendarFileError("days", "each day must be an object with day, kind and holiday", i)
        unknown = sorted(set(row) - set(FIELDS))
        if unknown:
            raise CalendarFileError(str(unknown[0]), f"unknown field; the fields are {', '.join(FIELDS)}", i)
        missing = [f for f in FIELDS if row.get(f) in (None, "")]
        if missing:
            raise CalendarFileError(missing[0], "is missing", i)
        day = _day(row["day"], i, year)
        year = day.year if year is None else year
        kind = str(row["kind"]).strip()
        if kind not in DAY_KINDS:
            raise CalendarFileError("kind", f"got {kind[:40]!r}, expected {' or '.join(DAY_KINDS)}", i)
        name = str(row["holiday"]).strip()
        key = _CHINESE.get(name, name)
        if key not in HOLIDAY_KEYS:
            raise CalendarFileError("holiday", f"got {name[:40]!r}; known holidays: {', '.join(HOLIDAY_KEYS)}", i)
        if kind == "makeup_workday" and day.weekday() < 5:
            raise CalendarFileError("kind", f"{day} is a weekday: a make-up working day is a Saturday or Sunday", i)
        if day in days:
            raise CalendarFileError("day", f"{day} is listed twice", i)
        days[day] = CalendarDay(day, kind, key)
    if not any(d.kind == "holiday" for d in days.values()):
        raise CalendarFileError("days", "the file lists no holiday day")
    return year, sorted(days.values(), key=lambda d: d.day)


def read_document(doc, year: int | None = None) -> tuple[int, list[CalendarDay], dt.date | None]:
    """The year, days and publication date of a JSON document ``{"year", "published_on", "days"}`` (validated,
    see :func:`parse_year`); with ``year``, the document may leave its year out but cannot name another."""
    if not isinstance(doc, dict):
        raise CalendarFileError("file", "expected an object with year, published_on and days")
    unknown = sorted(set(doc) - {"year", "published_on", "days"})
    if unknown:
        raise CalendarFileError(unknown[0], "unknown field; the fields are year, published_on, days")
    given = doc.get("year", year)
    if isinstance(given, bool) or not isinstance(given, int) or not 1970 <= given <= 2199:
        raise CalendarFileError("year", f"got {given!r}, expected a year such as 2027")
    if year is not None and given != year:
        raise CalendarFileError("year", f"the document is for {given}, not {year}")
    published = None if doc.get("published_on") in (None, "") else _day(doc["published_on"], None, None, "published_on")
    if not isinstance(doc.get("days"), list):
        raise CalendarFileError("days", "expected a list of days")
    if len(doc["days"]) > MAX_DAYS:
        raise CalendarFileError("days", f"{len(doc['days']):,} days: a year's notice lists at most {MAX_DAYS}")
    found, days = parse_year(doc["days"], given)
    return found, days, published


def read_file(path: str | Path) -> tuple[int, list[CalendarDay], dt.date | None]:
    """The year, days and publication date of a CSV or JSON calendar file (validated, see :func:`parse_year`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise CalendarFileError("file", f"cannot read {path}: {err}") from None
    if path.suffix.lower() == ".json":
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as err:
            raise CalendarFileError("file", f"not valid JSON: {err}") from None
        return read_document(doc)
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if sorted(header) != sorted(FIELDS):
        wrong = next((h for h in header if h not in FIELDS), None) or next(f for f in FIELDS if f not in header)
        raise CalendarFileError(wrong, f"the header must be {','.join(FIELDS)}", 1)
    rows = []
    for row in reader:
        if None in row:
            raise CalendarFileError("days", "the line has more values than the header", reader.line_num)
        rows.append({k.strip(): v for k, v in row.items()})
    year, days = parse_year(rows)
    return year, days, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mapdata.calendar", description=__doc__.split("\n")[0])
    parser.add_argument("--db", help="the store (default: NUANXIN_DB)")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="replace one year's holidays and make-up days from a CSV or JSON file")
    imp.add_argument("file")
    imp.add_argument("--published-on", help="the notice's date (YYYY-MM-DD), for a CSV")
    imp.add_argument("--by", default=CLI_USER, help="who imports (named in the audit log)")
    sub.add_parser("list", help="the years with a published notice")
    args = parser.parse_args(argv)
    store = open_store(args.db or Settings.from_env().db_path)
    try:
        if args.command == "list":
            for y in store.calendar.years():
                print(f"{y.year}\t{y.source}\t{y.published_on or ''}\t{y.imported_by}\t{y.imported_at}")
            return 0
        year, days, published = read_file(args.file)
        if args.published_on:
            published = _day(args.published_on, None, None, "--published-on")
        store.calendar.replace_year(year, days, published_on=published, by=args.by)
    except (CalendarFileError, StoreError) as err:
        print(f"error: {err}; nothing was imported", file=sys.stderr)
        return 2
    holidays = sum(d.kind == "holiday" for d in days)
    print(f"imported {year}: {holidays} holiday days, {len(days) - holidays} make-up working days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
