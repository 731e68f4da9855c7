"""China's official calendar as the app needs it: local time, kinds of day (holidays, 调休), the date whose rules apply.

Holidays and make-up working days are data in the store (:mod:`mapdata.store.calendar`): the State
Council's notices, seeded from ``chinesecalendar`` and imported by the city when the next year's
notice is published. A year with no notice in the store still has the statutory holidays of
《全国年节及纪念日放假办法》 (as revised in 2024), computed here with ``lunar_python``, and says so
(:func:`schedule_source`): a day beyond the published calendar never passes for an ordinary one.
``opening-hours-py``'s own CN calendar knows only the first day of each holiday, so
:func:`evaluation_date` maps every real date to the date whose rules the library should apply.
Times are Asia/Shanghai. No display text here: holidays are named by chinesecalendar's English
key (``"National Day"``), which pages translate.
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
import sqlite3
import threading
import time
import zoneinfo
from collections.abc import Iterable
from typing import Protocol

import numpy as np
import opening_hours
import pandas as pd
from lunar_python import Lunar

from layers.common.errors import QuestionError
from mapdata.store.base import StoreError
from mapdata.store.calendar import HOLIDAY_KEYS as _HOLIDAY_KEYS
from mapdata.store.calendar import CalendarDay, CalendarYear, chinesecalendar_years
from mapdata.vocabulary import TIMEZONE

TZ = zoneinfo.ZoneInfo(TIMEZONE)
#: The holiday keys (chinesecalendar's English names), in its order: the names a notice may use.
HOLIDAY_KEYS: tuple[str, ...] = _HOLIDAY_KEYS


def as_local(t) -> dt.datetime:
    """Return ``t`` as an aware datetime in Asia/Shanghai.

    Parameters
    ----------
    t : datetime.datetime, pandas.Timestamp or str
        An aware datetime in any time zone (converted), a naive one (taken as Asia/Shanghai
        wall-clock time, the time riders read on their phones) or an ISO 8601 string of either.

    Returns
    -------
    datetime.datetime
        Aware, ``tzinfo`` is :data:`TZ`.

    Raises
    ------
    TypeError
        If ``t`` is none of the accepted types.
    """
    if isinstance(t, str):
        t = dt.datetime.fromisoformat(t.strip())
    if isinstance(t, pd.Timestamp):
        if t is pd.NaT:
            raise TypeError("as_local needs a time, got NaT")
        t = t.to_pydatetime()
    if not isinstance(t, dt.datetime):
        raise TypeError(f"as_local needs a datetime, Timestamp or ISO string, got {type(t).__name__}")
    if t.tzinfo is None or t.tzinfo.utcoffset(t) is None:
        return t.replace(tzinfo=TZ)
    return t.astimezone(TZ)


def to_minute(t: dt.datetime) -> dt.datetime:
    """``t`` without its seconds: the moment opening hours are read at (they change on the minute)."""
    return t.replace(second=0, microsecond=0)


class DayKind(enum.Enum):
    """What kind of day a date is in mainland China's official calendar."""

    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"


class ScheduleSource(enum.Enum):
    """Where a year's holidays come from."""

    #: The State Council's notice for the year, in the store (holiday blocks and make-up days).
    NOTICE = "notice"
    #: No notice yet: the statutory holiday days of the national regulation, no make-up days.
    STATUTORY = "statutory"


_ONE_DAY = dt.timedelta(days=1)


def _lunar_date(year: int, month: int, day: int) -> dt.date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return dt.date(solar.getYear(), solar.getMonth(), solar.getDay())


@functools.lru_cache(maxsize=256)
def statutory_holidays(year: int) -> dict[dt.date, str]:
    """The holiday days the national regulation gives in ``year``, by day, under their holiday key.

    《全国年节及纪念日放假办法》 as revised in 2024 (in force from 2025): 元旦 1 January; 春节 from
    除夕 to 正月初三 (4 days); 清明 on the solar term's day; 劳动节 1-2 May; 端午 (五月初五) and 中秋
    (八月十五) by the lunar calendar; 国庆 1-3 October. Its article 6 adds a substitute day off
    (补假): a holiday day falling on a Saturday or Sunday, or on another holiday's day, is made up
    on the next weekday after it that is not already off. The regulation has no make-up working
    days (调休): only a notice moves those.

    Parameters
    ----------
    year : int

    Returns
    -------
    dict of datetime.date to str
        The keys are those of :data:`HOLIDAY_KEYS`.
    """
    eve = _lunar_date(year, 1, 1) - _ONE_DAY
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    owed_by_law = [
        (dt.date(year, 1, 1), "New Year's Day"),
        *((eve + k * _ONE_DAY, "Spring Festival") for k in range(4)),
        (dt.date(qingming.getYear(), qingming.getMonth(), qingming.getDay()), "Tomb-sweeping Day"),
        (dt.date(year, 5, 1), "Labour Day"), (dt.date(year, 5, 2), "Labour Day"),
        (_lunar_date(year, 5, 5), "Dragon Boat Festival"),
        (_lunar_date(year, 8, 15), "Mid-autumn Festival"),
        *((dt.date(year, 10, 1 + k), "National Day") for k in range(3)),
    ]
    days: dict[dt.date, str] = {}
    owed: list[tuple[dt.date, str]] = []
    for day, key in owed_by_law:
        if day in days or day.weekday() >= 5:
            owed.append((day, key))
        days.setdefault(day, key)
    for day, key in owed:
        while day in days or day.weekday() >= 5:
            day += _ONE_DAY
        days[day] = key
    return dict(sorted(days.items()))


class CalendarSource(Protocol):
    """Where the published calendar is read from: the store's ``calendar`` (or the package, by default)."""

    def version(self) -> str:
        """A token that changes whenever the calendar does."""

    def read(self) -> tuple[list[CalendarYear], list[CalendarDay]]:
        """The published years and their days."""


class PackageCalendar:
    """The years ``chinesecalendar`` ships, read from the package: the calendar before a store is opened."""

    def version(self) -> str:
        return "chinesecalendar"

    def read(self) -> tuple[list[CalendarYear], list[CalendarDay]]:
        published = chinesecalendar_years()
        years = [CalendarYear(y, ScheduleSource.NOTICE.value, None, "", "chinesecalendar") for y in published]
        return years, [d for days in published.values() for d in days]


class OfficialCalendar:
    """The published years and their days, and the statutory days of every other year.

    Parameters
    ----------
    years : iterable of CalendarYear
        The years with a published notice.
    days : iterable of CalendarDay
        Their holiday days and make-up working days; days of other years are ignored.
    """

    def __init__(self, years: Iterable[CalendarYear], days: Iterable[CalendarDay]):
        self.years: dict[int, CalendarYear] = {y.year: y for y in years}
        kinds = {"holiday": DayKind.HOLIDAY, "makeup_workday": DayKind.MAKEUP_WORKDAY}
        self._days: dict[dt.date, tuple[DayKind, str]] = {
            d.day: (kinds[d.kind], d.holiday_key) for d in days if d.day.year in self.years}

    def source(self, year: int) -> ScheduleSource:
        return ScheduleSource.NOTICE if year in self.years else ScheduleSource.STATUTORY

    def days_of(self, year: int) -> list[tuple[dt.date, DayKind, str]]:
        """The days the year's notice lists (holiday days and make-up working days), in date order."""
        return sorted((d, kind, key) for d, (kind, key) in self._days.items() if d.year == year)

    def listed(self, day: dt.date) -> tuple[DayKind, str] | None:
        """The day's kind and holiday key when the year's notice (or the regulation) names it, else None."""
        if day.year in self.years:
            return self._days.get(day)
        key = statutory_holidays(day.year).get(day)
        return None if key is None else (DayKind.HOLIDAY, key)


class _Active:
    """The calendar the app answers with, re-read when its source's version changes."""

    #: How often the source's version is looked at: another process's import is seen within this.
    recheck_s = 1.0

    def __init__(self, source: CalendarSource):
        self.lock = threading.Lock()
        self.source = source
        self.token: str | None = None
        self.calendar: OfficialCalendar | None = None
        self.checked_at = -float("inf")
        self.generation = 0

    def get(self) -> OfficialCalendar:
        now = time.monotonic()
        calendar = self.calendar
        if calendar is not None and now - self.checked_at < self.recheck_s:
            return calendar
        with self.lock:
            if self.calendar is not None and now - self.checked_at < self.recheck_s:
                return self.calendar
            try:
                token = self.source.version()
                if token != self.token or self.calendar is None:
                    years, days = self.source.read()
                    self.calendar, self.token = OfficialCalendar(years, days), token
                    self.generation += 1
                    _day_listing.cache_clear()
                    _evaluation_date.cache_clear()
            except (StoreError, OSError, sqlite3.Error):
                # A store gone or locked for a moment: keep answering with the calendar read last.
                if self.calendar is None:
                    raise
            self.checked_at = now
            return self.calendar


_active = _Active(PackageCalendar())


def use_calendar(source: CalendarSource) -> CalendarSource:
    """Answer from ``source`` from now on (the app's store); return the source used until now.

    Read at once, so a store that cannot be read fails here and not inside a rider's question.
    """
    with _active.lock:
        previous = _active.source
        _active.source, _active.token, _active.calendar = source, None, None
        _active.checked_at = -float("inf")
    _active.get()
    return previous


def refresh_calendar() -> None:
    """Look at the source now (after an import in this process), not after :attr:`_Active.recheck_s`."""
    with _active.lock:
        _active.checked_at = -float("inf")
    _active.get()


def official_calendar() -> OfficialCalendar:
    """The calendar as published now (see :func:`use_calendar`)."""
    return _active.get()


def calendar_generation() -> int:
    """A number that changes whenever the calendar is re-read: caches of derived answers key on it."""
    _active.get()
    return _active.generation


def schedule_source(day: dt.date) -> ScheduleSource:
    """Whether ``day``'s year has a published notice (``NOTICE``) or only the statutory days (``STATUTORY``)."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return official_calendar().source(day.year)


@functools.lru_cache(maxsize=8192)
def _day_listing(day: dt.date, generation: int) -> tuple[DayKind, str] | None:
    return official_calendar().listed(day)


def day_kind(day: dt.date) -> DayKind:
    """Classify a date by China's holiday schedule.

    Parameters
    ----------
    day : datetime.date
        A calendar date in China (a datetime is reduced to its date).

    Returns
    -------
    DayKind
        ``HOLIDAY`` for every day of an official holiday block (e.g. 2025-10-01..08, weekends
        inside the block included), ``MAKEUP_WORKDAY`` for a Saturday or Sunday declared a
        working day (调休), otherwise ``WORKDAY`` or ``WEEKEND`` by the weekday.

    Notes
    -----
    The schedule is the store's published calendar (:func:`official_calendar`); a year without a
    notice has the statutory holiday days (:func:`statutory_holidays`) and no make-up days, and
    :func:`schedule_source` says which applies.
    """
    if isinstance(day, dt.datetime):
        day = day.date()
    listed = _day_listing(day, calendar_generation())
    weekend = day.weekday() >= 5
    if listed is None:
        return DayKind.WEEKEND if weekend else DayKind.WORKDAY
    kind = listed[0]
    if kind is DayKind.MAKEUP_WORKDAY and not weekend:
        return DayKind.WORKDAY  # a weekday named a working day is just that
    return kind


def is_working_day(day: dt.date) -> bool:
    """A day people work in China: a weekday that is no holiday, or a make-up Saturday or Sunday (调休)."""
    return day_kind(day) in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


#: No stretch of China's calendar has this many days in a row without a working day.
_MAX_DAYS_OFF = 30


def add_working_days(moment, n: int) -> dt.datetime:
    """``moment`` plus ``n`` working days, at the same wall-clock time in Asia/Shanghai.

    Each step goes to the next working day (:func:`is_working_day`): holidays and weekends are
    skipped, make-up days count. A report sent on 2026-09-30 17:00 is due two working days later
    at 2026-10-09 17:00 (National Day runs 10-01..07); one sent on Friday 2026-10-09 17:00 on Monday
    2026-10-12 17:00, the make-up Saturday 10-10 counting as the first.

    Raises
    ------
    QuestionError
        For ``n`` that is not a whole number from 0 to 365, or a moment outside the calendar.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= 365:
        raise QuestionError("working_days", "expected a whole number of working days from 0 to 365")
    local = check_moment(moment, "moment")
    day = local.date()
    for _ in range(n):
        for _ in range(_MAX_DAYS_OFF):
            day += dt.timedelta(days=1)
            if is_working_day(day):
                break
    return check_moment(dt.datetime.combine(day, local.time(), tzinfo=local.tzinfo), "moment")


def year_schedule(year: int) -> tuple[ScheduleSource, CalendarYear | None, list[tuple[dt.date, DayKind, str]]]:
    """What the app answers with for ``year``: where it comes from, the notice's record (None without one),
    and every listed day (holiday days and make-up working days) with its holiday key, in date order."""
    calendar = official_calendar()
    source = calendar.source(year)
    if source is ScheduleSource.STATUTORY:
        return source, None, [(d, DayKind.HOLIDAY, key) for d, key in statutory_holidays(year).items()]
    return source, calendar.years[year], calendar.days_of(year)


def holiday_name(day: dt.date) -> str | None:
    """The key of the official holiday a date belongs to, or that a make-up working day serves.

    Parameters
    ----------
    day : datetime.date
        A calendar date.

    Returns
    -------
    str or None
        chinesecalendar's English name (``"National Day"``, one of :data:`HOLIDAY_KEYS`) on
        ``HOLIDAY`` and ``MAKEUP_WORKDAY`` days (use :func:`day_kind` to tell them
        apart), None on ordinary days. In a year without a notice only the statutory days have a
        name (see :func:`schedule_source`).
    """
    if isinstance(day, dt.datetime):
        day = day.date()
    if day_kind(day) not in (DayKind.HOLIDAY, DayKind.MAKEUP_WORKDAY):
        return None
    return _day_listing(day, calendar_generation())[1]


@functools.lru_cache(maxsize=1)
def _library_ph_dates() -> np.ndarray:
    # The library's CN calendar, read from the library itself so a new release cannot drift
    # from what it actually evaluates; 1990-2100 spans every date it knows.
    probe = opening_hours.OpeningHours("PH open", country="CN")
    found: list[dt.date] = []
    for a, b, state, _comment in probe.intervals(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)):
        if state == opening_hours.State.OPEN:
            found += [a.date() + dt.timedelta(days=k) for k in range((b - a).days)]
    return np.array(found, dtype="datetime64[D]")


@functools.lru_cache(maxsize=1)
def _library_ph_set() -> frozenset[dt.date]:
    return frozenset(d.item() for d in _library_ph_dates())


def load_library_calendar() -> None:
    """Read the library's own holiday calendar now (it takes a moment), not inside a rider's first query."""
    _library_ph_set()


def _nearest_library_ph(day: dt.date) -> dt.date:
    ph = _library_ph_dates()
    same_weekday = ph[((ph.astype("int64") + 3) % 7) == day.weekday()]
    target = np.datetime64(day, "D")
    return same_weekday[np.argmin(np.abs(same_weekday - target))].item()


def _nearest_plain(day: dt.date, weekday: int, ordinary_workday: bool) -> dt.date:
    # Candidates with the wanted weekday, nearest first, so month and season rules still hold.
    base = day + dt.timedelta(days=(weekday - day.weekday() + 3) % 7 - 3)
    ph = _library_ph_set()
    for k in range(0, 200):
        for sign in ((0,) if k == 0 else (-1, 1)):
            cand = base + dt.timedelta(days=7 * k * sign)
            if cand in ph:
                continue
            if ordinary_workday and day_kind(cand) is not DayKind.WORKDAY:
                continue
            return cand
    raise RuntimeError(f"no ordinary date near {day} with weekday {weekday}")


def evaluation_date(day: dt.date, uses_ph: bool = True) -> dt.date:
    """The date whose hours, as ``opening-hours-py`` computes them, apply on real date ``day``.

    This is the one rule that joins the official calendar to the library's syntax and rules.
    The state at wall-clock time ``c`` on ``day`` is the library's state at ``c`` on the
    returned date, evaluated with ``country="CN"``; whole days are mapped, 00:00 to 24:00.

    Parameters
    ----------
    day : datetime.date
        The real calendar date.
    uses_ph : bool
        Whether the expression names ``PH``. If it does not, the holiday calendar cannot change
        its hours and only make-up working days are mapped.

    Returns
    -------
    datetime.date

    Notes
    -----
    - ``HOLIDAY`` (each day of the official block): the nearest date with the same weekday that
      the library treats as ``PH``. The library knows only about 7 single days a year, so this
      may be another year: month, week and year selectors are then read on that date, which
      matters only for expressions whose ``PH`` hours depend on the season.
    - ``MAKEUP_WORKDAY`` (调休): the station keeps working-day hours, those of the working
      weekday the make-up day is adjacent to in the working run it joins: a Saturday takes
      Friday's hours (it extends the week that ends on Friday), a Sunday takes Monday's (it
      starts the week early). The date used is the nearest ordinary working day with that
      weekday, usually the very next or previous day, so seasonal rules stay exact.
    - ``WORKDAY``/``WEEKEND``: the date itself, unless the library wrongly treats it as ``PH``;
      then the nearest date with the same weekday that it does not.

    Overnight spans follow from the whole-day mapping: the kind of the calendar date an instant
    falls on decides. ``Mo-Su 22:00-02:00; PH off`` opens at 22:00 on the eve of a holiday and
    closes at 00:00 when the holiday begins (the library itself cuts a span at a ``PH off``
    day), and on the first working day after the holiday it is open 00:00-02:00 again, as the
    library does for the day after any ``PH``.
    """
    return _evaluation_date(day, uses_ph, calendar_generation())


@functools.lru_cache(maxsize=16384)
def _evaluation_date(day: dt.date, uses_ph: bool, generation: int) -> dt.date:
    kind = day_kind(day)
    if kind is DayKind.MAKEUP_WORKDAY:
        return _nearest_plain(day, 4 if day.weekday() == 5 else 0, ordinary_workday=True)
    if not uses_ph:
        return day
    if kind is DayKind.HOLIDAY:
        return _nearest_library_ph(day)
    if day in _library_ph_set():
        return _nearest_plain(day, day.weekday(), ordinary_workday=False)
    return day


#: The instants a question may ask about: far enough either side for any plan, inside what every
#: part of the app can represent (pandas' nanosecond times end in 2262).
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=TZ)
LATEST = dt.datetime(2199, 12, 31, 23, 59, 59, tzinfo=TZ)


def check_moment(t, field: str = "at") -> dt.datetime:
    """``t`` in Asia/Shanghai when it lies between :data:`EARLIEST` and :data:`LATEST`.

    Raises
    ------
    QuestionError
        Naming ``field``, for anything else (a time out of that range, or not a time at all).
    """
    try:
        local = as_local(t)
    except (TypeError, ValueError, OverflowError):
        raise QuestionError(field, f"got {str(t)[:60]!r}; expected a time such as 2026-11-29T21:30") from None
    if not EARLIEST <= local <= LATEST:
        raise QuestionError(field, f"got {local:%Y-%m-%d %H:%M}; expected a time between "
                                   f"{EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return local


def check_day(day, field: str) -> dt.date:
    """``day`` when it is a date between :data:`EARLIEST` and :data:`LATEST` (QuestionError otherwise)."""
    if isinstance(day, dt.datetime):
        day = as_local(day).date()
    if not isinstance(day, dt.date) or not EARLIEST.date() <= day <= LATEST.date():
        raise QuestionError(field, f"got {str(day)[:60]!r}; expected a day between {EARLIEST:%Y-%m-%d} and "
                                   f"{LATEST:%Y-%m-%d}")
    return day
