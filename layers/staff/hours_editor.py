"""The opening-hours editor's model: a week of up to two periods a day and a public-holiday rule, to and from
OSM ``opening_hours`` text, and the preview staff see before saving (this week, the next holiday, the next 调休 day).

Text the weekly form cannot hold (``Mo-Fr 08:00-20:00; 2026 Oct 01-07 off``) stays editable as text:
:func:`decompose` answers None for it and the page shows the text field only.
"""
from __future__ import annotations

import datetime as dt
import re

from layers.common.calendar import DayKind, day_kind, holiday_name
from layers.common.hours import HoursTable
from mapdata.schemas import opening_hours_error

DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
#: What public holidays do: ``off`` closed, ``weekday`` as the weekday they fall on (no PH rule),
#: ``sunday`` with Sunday's hours.
PH_RULES = ("off", "weekday", "sunday")
MAX_PERIODS = 2
_CLOCK = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")
_SPAN = re.compile(r"^((?:[01]\d|2[0-3]):[0-5]\d)-((?:[01]\d|2[0-4]):[0-5]\d)$")
_DAYSEL = re.compile(r"^(Mo|Tu|We|Th|Fr|Sa|Su)(?:-(Mo|Tu|We|Th|Fr|Sa|Su))?$")
#: How far ahead the preview looks for a public holiday and a make-up working day.
LOOKAHEAD_DAYS = 400

Week = list[list[tuple[str, str]]]


class HoursFormError(ValueError):
    """A period of the weekly form is not a time span: ``day`` (0 = Monday) and ``period`` say which."""

    def __init__(self, day: int, period: int, message: str):
        super().__init__(message)
        self.day, self.period, self.message = day, period, message


def _minutes(clock: str) -> int:
    h, m = clock.split(":")
    return int(h) * 60 + int(m)


def compose(week: Week, ph: str = "off") -> str:
    """OSM text for a week of periods (Monday first; an empty day is closed) and a public-holiday rule.

    Consecutive days with the same periods share one rule: ``Mo-Fr 08:00-12:00,14:00-20:00; Sa,Su 09:00-18:00``.
    """
    if len(week) != 7:
        raise ValueError("expected seven days, Monday first")
    if ph not in PH_RULES:
        raise ValueError(f"ph must be one of {', '.join(PH_RULES)}")
    spans = [_day_spans(d, periods) for d, periods in enumerate(week)]
    if all(s == "00:00-24:00" for s in spans) and ph != "off":
        return "24/7"
    rules, d = [], 0
    while d < 7:
        e = d
        while e + 1 < 7 and spans[e + 1] == spans[d]:
            e += 1
        if spans[d]:
            sel = DAYS[d] if d == e else (f"{DAYS[d]},{DAYS[e]}" if e == d + 1 else f"{DAYS[d]}-{DAYS[e]}")
            rules.append(f"{sel} {spans[d]}")
        d = e + 1
    if not rules:
        rules.append("off")
    if ph == "off":
        rules.append("PH off")
    elif ph == "sunday":
        rules.append(f"PH {spans[6]}" if spans[6] else "PH off")
    return "; ".join(rules)


def _day_spans(d: int, periods) -> str:
    if len(periods) > MAX_PERIODS:
        raise HoursFormError(d, MAX_PERIODS, f"at most {MAX_PERIODS} periods a day")
    day: list[str] = []
    for p, (start, end) in enumerate(periods):
        if not _CLOCK.match(start or "") or not _CLOCK.match(end or ""):
            raise HoursFormError(d, p, "expected times as HH:MM")
        if _minutes(end) <= _minutes(start) and end != "00:00":
            raise HoursFormError(d, p, "a period ends after it starts (past midnight: end at 24:00)")
        if day and _minutes(start) < _minutes(day[-1].split("-")[1]):
            raise HoursFormError(d, p, "the second period starts after the first ends")
        day.append(f"{start}-{'24:00' if end == '00:00' else end}")
    return ",".join(day)


def decompose(text: str) -> tuple[Week, str] | None:
    """The weekly form of ``text`` (periods per day and the PH rule), or None when the form cannot hold it."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if text == "24/7":
        return [[("00:00", "24:00")] for _ in DAYS], "weekday"
    week: Week = [[] for _ in DAYS]
    ph = "weekday"
    for rule in (r.strip() for r in text.split(";")):
        if not rule:
            continue
        selector, _, times = rule.partition(" ")
        times = times.strip()
        if selector == "PH":
            ph = "off" if times in ("off", "closed") else "sunday" if _periods(times) is not None else None
            if ph is None:
                return None
            ph_times = times
            continue
        days = _days(selector)
        periods = [] if times in ("off", "closed") else _periods(times)
        if days is None or periods is None:
            return None
        for d in days:
            week[d] = periods
    if ph == "sunday":
        sunday = ",".join(f"{a}-{b}" for a, b in week[6])
        if sunday != ph_times:
            return None
    return week, ph


def _days(selector: str) -> list[int] | None:
    out = []
    for part in selector.split(","):
        m = _DAYSEL.match(part)
        if not m:
            return None
        a = DAYS.index(m.group(1))
        b = DAYS.index(m.group(2)) if m.group(2) else a
        if b < a:
            return None
        out += range(a, b + 1)
    return out


def _periods(times: str) -> list[tuple[str, str]] | None:
    out = []
    for part in times.split(","):
        m = _SPAN.match(part.strip())
        if not m or len(out) == MAX_PERIODS:
            return None
        out.append((m.group(1), m.group(2)))
    return out


def _spans(table: HoursTable, day: dt.date) -> list[tuple[str, str]]:
    row = table.week_schedule(0, day)[day.weekday()]
    # (08:00, 00:00) closes at midnight and (00:00, 00:00) is the whole day: both end at 24:00
    return [(a.strftime("%H:%M"), "24:00" if b == dt.time() else b.strftime("%H:%M")) for a, b in row["intervals"]]


def preview(text: str, today: dt.date) -> dict:
    """What riders would see with ``text``: the week of ``today`` and the next public holiday and make-up
    working day (each with its date and periods), or ``{"error": …}`` with the parser's message."""
    problem = opening_hours_error(text)
    if problem:
        return {"error": problem}
    table = HoursTable([text.strip()])
    week = [{"date": row["date"], "weekday": row["weekday"], "day_kind": row["day_kind"].value,
             "holiday": row["holiday"], "periods": _spans(table, row["date"])}
            for row in table.week_schedule(0, today)]
    out = {"week": week, "holiday": None, "makeup": None}
    for k in range(1, LOOKAHEAD_DAYS):
        day = today + dt.timedelta(days=k)
        kind = day_kind(day)
        if out["holiday"] is None and kind is DayKind.HOLIDAY:
            out["holiday"] = {"date": day, "name": holiday_name(day), "periods": _spans(table, day)}
        if out["makeup"] is None and kind is DayKind.MAKEUP_WORKDAY:
            out["makeup"] = {"date": day, "periods": _spans(table, day)}
        if out["holiday"] is not None and out["makeup"] is not None:
            break
    return out
