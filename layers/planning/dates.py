"""Real dates for the planner's questions: "an ordinary week", "a public holiday", on China's calendar."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from layers.common.calendar import DayKind, calendar_generation, day_kind, holiday_name
from mapdata import clock

#: The holidays a planner compares first: the two long ones.
MAJOR_HOLIDAYS = ("National Day", "Spring Festival")


def today() -> dt.date:
    """Today's date in Chengdu (Asia/Shanghai)."""
    return clock.today()


def ordinary_week_monday(today: dt.date) -> dt.date:
    """The Monday of the next week (from the coming Monday) with no holiday and no make-up working day."""
    monday = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
    for _ in range(60):
        days = [monday + dt.timedelta(days=i) for i in range(7)]
        if all(day_kind(d) in (DayKind.WORKDAY, DayKind.WEEKEND) for d in days):
            return monday
        monday += dt.timedelta(days=7)
    return monday


@dataclass(frozen=True)
class HolidayBlock:
    """Consecutive official holiday days under one name (e.g. National Day 2026-10-01 … 10-07).

    ``key`` is chinesecalendar's English name (:func:`layers.common.calendar.holiday_name`).
    """

    first: dt.date
    last: dt.date
    key: str


def holiday_blocks(today: dt.date, window_days: int = 400) -> tuple[HolidayBlock, ...]:
    """Official holiday blocks within ``window_days`` before and after ``today``, in date order.

    A year without a published notice has its statutory holidays
    (:func:`layers.common.calendar.schedule_source` tells which), so the coming year is never empty.
    """
    return _holiday_blocks(today, window_days, calendar_generation())


def holidays_on_offer(today: dt.date) -> tuple[HolidayBlock, ...]:
    """The holiday blocks a planner picks from: the coming ones first (soonest first), then the past ones
    (most recent first). A block under way counts as coming."""
    blocks = holiday_blocks(today)
    coming = [b for b in blocks if b.last >= today]
    past = [b for b in blocks if b.last < today]
    return (*coming, *reversed(past))


@functools.lru_cache(maxsize=8)
def _holiday_blocks(today: dt.date, window_days: int, generation: int) -> tuple[HolidayBlock, ...]:
    blocks: list[HolidayBlock] = []
    day = today - dt.timedelta(days=window_days)
    end = today + dt.timedelta(days=window_days)
    while day <= end:
        if day_kind(day) == DayKind.HOLIDAY:
            key = holiday_name(day) or ""
            if blocks and blocks[-1].last == day - dt.timedelta(days=1) and blocks[-1].key == key:
                blocks[-1] = HolidayBlock(blocks[-1].first, day, key)
            else:
                blocks.append(HolidayBlock(day, day, key))
        day += dt.timedelta(days=1)
    return tuple(blocks)


def default_holiday(today: dt.date) -> HolidayBlock | None:
    """The next National Day or Spring Festival the calendar knows; else the most recent one; else any."""
    blocks = holiday_blocks(today)
    big = [b for b in blocks if b.key in MAJOR_HOLIDAYS]
    future = [b for b in big if b.last >= today]
    if future:
        return future[0]
    if big:
        return big[-1]
    return blocks[-1] if blocks else None


def known_holiday_day(value, today: dt.date) -> dt.date | None:
    """``value`` as a date when it is a day of a holiday block on offer, else None."""
    try:
        day = dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
    return day if any(b.first <= day <= b.last for b in holiday_blocks(today)) else None
