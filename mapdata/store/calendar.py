"""China's holiday calendar as data in the store's own file: the published years, their holidays and make-up days.

Two tables: ``calendar_years`` (one row per year whose State Council notice is in the store, with
where it came from and who imported it) and ``calendar_days`` (that year's holiday days and
make-up working days, 调休). A year without a row has no published notice; the domain then applies
the statutory holidays (:mod:`layers.common.calendar`). The tables are made and seeded from
``chinesecalendar`` on first use, so a store built by an older release gains them in place; a year
chinesecalendar knows is added only while the store has no row for it, so an imported year is
never overwritten by the package.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass

import chinese_calendar
import chinese_calendar.constants as _published

from mapdata import clock
from mapdata.store.accounts import AUDIT_INSERT
from mapdata.store.base import StoreError
from mapdata.store.side_tables import SideTables

YEARS_TABLE = "calendar_years"
DAYS_TABLE = "calendar_days"
#: The audit log's ``layer`` for calendar imports (``row_id`` is the year).
CALENDAR_LAYER = "calendar"
#: The kinds of day a notice lists; every other day is a weekday or weekend by its weekday.
DAY_KINDS = ("holiday", "makeup_workday")
#: Where a stored year came from: the State Council's notice (shipped by chinesecalendar or imported).
SOURCE_NOTICE = "notice"
#: Who the audit log and ``imported_by`` name for the years seeded from the package.
SEED_USER = "chinesecalendar"
#: The holiday keys (chinesecalendar's English names), in its order.
HOLIDAY_KEYS: tuple[str, ...] = tuple(h.value for h in chinese_calendar.Holiday)

_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {YEARS_TABLE} (seq INTEGER PRIMARY KEY AUTOINCREMENT, year INTEGER NOT NULL UNIQUE, "
    f"source TEXT NOT NULL CHECK (source = '{SOURCE_NOTICE}'), published_on TEXT, imported_at TEXT NOT NULL, "
    "imported_by TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {DAYS_TABLE} (day TEXT PRIMARY KEY, "
    f"kind TEXT NOT NULL CHECK (kind IN {DAY_KINDS!r}), holiday_key TEXT NOT NULL, year INTEGER NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {DAYS_TABLE}_year ON {DAYS_TABLE}(year)",
)


@dataclass(frozen=True)
class CalendarDay:
    """One day a notice lists: a holiday day or a make-up working day, under the holiday it belongs to."""

    day: dt.date
    kind: str
    holiday_key: str


@dataclass(frozen=True)
class CalendarYear:
    """One published year: where it came from, when it was published and imported, and by whom."""

    year: int
    source: str
    published_on: dt.date | None
    imported_at: str
    imported_by: str


def chinesecalendar_years() -> dict[int, list[CalendarDay]]:
    """Every year ``chinesecalendar`` ships a notice for, with its holiday and make-up days."""
    years: dict[int, list[CalendarDay]] = {}
    for table, kind in ((_published.holidays, "holiday"), (_published.workdays, "makeup_workday")):
        for day, holiday in table.items():
            years.setdefault(day.year, []).append(CalendarDay(day, kind, str(getattr(holiday, "value", holiday))))
    return {y: sorted(days, key=lambda d: d.day) for y, days in sorted(years.items())}


def create_calendar(conn: sqlite3.Connection, user: str = SEED_USER) -> list[int]:
    """Make the calendar tables if missing and add the years chinesecalendar knows that the store lacks
    (inside the caller's transaction); answer the years added."""
    for statement in _SCHEMA:
        conn.execute(statement)
    have = {r[0] for r in conn.execute(f"SELECT year FROM {YEARS_TABLE}")}
    stamp = clock.now().isoformat()
    added = []
    for year, days in chinesecalendar_years().items():
        if year in have:
            continue
        _insert_year(conn, year, days, None, stamp, user)
        added.append(year)
    return added


def _insert_year(conn, year: int, days: Iterable[CalendarDay], published_on: dt.date | None, stamp: str,
                 user: str) -> None:
    conn.execute(f"INSERT INTO {YEARS_TABLE} (year, source, published_on, imported_at, imported_by) "
                 "VALUES (?,?,?,?,?)", [year, SOURCE_NOTICE, published_on.isoformat() if published_on else None,
                                        stamp, user])
    conn.executemany(f"INSERT INTO {DAYS_TABLE} (day, kind, holiday_key, year) VALUES (?,?,?,?)",
                     [(d.day.isoformat(), d.kind, d.holiday_key, year) for d in days])


def _day_list(days: Iterable[CalendarDay]) -> list[dict]:
    return [{"day": d.day.isoformat(), "kind": d.kind, "holiday_key": d.holiday_key} for d in days]


class CalendarTable(SideTables):
    """The published holiday calendar of one SQLite (GeoPackage) file."""

    def _prepared(self, conn: sqlite3.Connection) -> bool:
        # most opens find the tables complete and write nothing (a write would touch the file's mtime)
        try:
            return {r[0] for r in conn.execute(f"SELECT year FROM {YEARS_TABLE}")} >= set(chinesecalendar_years())
        except sqlite3.OperationalError:
            return False

    def _prepare(self, conn: sqlite3.Connection) -> None:
        create_calendar(conn)

    def version(self) -> str:
        """A token that changes with every import (and with a rebuilt file)."""
        with closing(self._connect()) as conn:
            seq = conn.execute(f"SELECT coalesce(max(seq), 0), count(*) FROM {YEARS_TABLE}").fetchone()
            try:
                dataset = conn.execute("SELECT value FROM dataset_meta WHERE key = 'dataset_id'").fetchone()
            except sqlite3.OperationalError:
                dataset = None
        return f"{dataset[0] if dataset else self.db.identity()}:{seq[0]}:{seq[1]}"

    def years(self) -> list[CalendarYear]:
        """The published years, oldest first."""
        with closing(self._connect()) as conn:
            rows = conn.execute(f"SELECT year, source, published_on, imported_at, imported_by FROM {YEARS_TABLE} "
                                "ORDER BY year").fetchall()
        return [CalendarYear(y, s, dt.date.fromisoformat(p) if p else None, at, by) for y, s, p, at, by in rows]

    def days(self, year: int | None = None) -> list[CalendarDay]:
        """The listed days (of one year, or of all), in date order."""
        query, params = f"SELECT day, kind, holiday_key FROM {DAYS_TABLE}", []
        if year is not None:
            query, params = query + " WHERE year = ?", [int(year)]
        with closing(self._connect()) as conn:
            rows = conn.execute(query + " ORDER BY day", params).fetchall()
        return [CalendarDay(dt.date.fromisoformat(d), k, h) for d, k, h in rows]

    def read(self) -> tuple[list[CalendarYear], list[CalendarDay]]:
        """The whole calendar, years and days, read in one transaction (an import never shows half done)."""
        with closing(self._connect()) as conn:
            conn.execute("BEGIN")
            years = conn.execute(f"SELECT year, source, published_on, imported_at, imported_by FROM {YEARS_TABLE} "
                                 "ORDER BY year").fetchall()
            days = conn.execute(f"SELECT day, kind, holiday_key FROM {DAYS_TABLE} ORDER BY day").fetchall()
            conn.execute("COMMIT")
        return ([CalendarYear(y, s, dt.date.fromisoformat(p) if p else None, at, by) for y, s, p, at, by in years],
                [CalendarDay(dt.date.fromisoformat(d), k, h) for d, k, h in days])

    def replace_year(self, year: int, days: Iterable[CalendarDay], *, published_on: dt.date | None,
                     by: str) -> CalendarYear:
        """Make ``days`` the whole of ``year``'s published calendar, in one transaction with its audit entry.

        The caller has validated the days (:func:`mapdata.calendar.parse_year`); the store still refuses a
        day outside the year or of an unknown kind (the tables' constraints), and then writes nothing.
        """
        days = sorted(days, key=lambda d: d.day)
        if any(d.day.year != year for d in days):
            raise StoreError(f"a day outside {year} cannot be part of {year}'s calendar")
        if not by or not isinstance(by, str):
            raise StoreError("an import needs the name of the person making it")
        stamp = clock.now().isoformat()
        with closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                before_year = conn.execute(f"SELECT source, published_on, imported_at, imported_by FROM {YEARS_TABLE} "
                                           "WHERE year = ?", [year]).fetchone()
                before_days = [CalendarDay(dt.date.fromisoformat(d), k, h) for d, k, h in conn.execute(
                    f"SELECT day, kind, holiday_key FROM {DAYS_TABLE} WHERE year = ? ORDER BY day", [year])]
                conn.execute(f"DELETE FROM {DAYS_TABLE} WHERE year = ?", [year])
                conn.execute(f"DELETE FROM {YEARS_TABLE} WHERE year = ?", [year])
                _insert_year(conn, year, days, published_on, stamp, by)
                before = None if before_year is None else {
                    "source": before_year[0], "published_on": before_year[1], "imported_at": before_year[2],
                    "imported_by": before_year[3], "days": _day_list(before_days)}
                after = {"source": SOURCE_NOTICE, "published_on": published_on.isoformat() if published_on else None,
                         "days": _day_list(days)}
                conn.execute(AUDIT_INSERT,
                             [stamp, by, CALENDAR_LAYER, str(year), "import",
                              None if before is None else json.dumps(before, ensure_ascii=False),
                              json.dumps(after, ensure_ascii=False)])
                conn.execute("COMMIT")
            except sqlite3.IntegrityError as err:
                conn.execute("ROLLBACK")
                raise StoreError(f"{year}'s calendar was not imported: {err}") from None
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return CalendarYear(year, SOURCE_NOTICE, published_on, stamp, by)
