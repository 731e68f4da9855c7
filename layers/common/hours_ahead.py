"""Stations' open intervals for the next days: what a phone keeps to say open or closed with no signal.

The intervals are read from the same :class:`~layers.common.hours.HoursTable` that answers "open now"
(``open_at``, ``closes_at``, ``next_opens_at``), so they carry the holiday calendar (PH, 调休, the
statutory holidays of a year without a notice) and temporary closures exactly as the card and the
nearest list do: a phone comparing its clock to them says what the server would have said then.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from layers.common.calendar import as_local, to_minute
from layers.common.errors import QuestionError
from layers.common.hours import HORIZON_DAYS, HoursTable

#: The furthest ahead a phone may ask: ``closes_at`` and ``next_opens_at`` look this far.
MAX_DAYS = HORIZON_DAYS
DEFAULT_DAYS = 7
#: The most stations one question may name: the rider page keeps its 8 nearest.
MAX_STATIONS = 20


def check_days(days, field: str = "days") -> int:
    """``days`` as a whole number of days in 1..:data:`MAX_DAYS`, or a :class:`QuestionError` naming ``field``."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise QuestionError(field, f"got {days!r}; expected a whole number of days from 1 to {MAX_DAYS}")
    return days


def open_intervals(table: HoursTable, positions: Sequence[int], start, days: int = DEFAULT_DAYS
                   ) -> list[list[tuple[dt.datetime, dt.datetime]]]:
    """When each station is open from ``start`` for ``days`` days.

    Parameters
    ----------
    table : HoursTable
        The stations' hours (the finder's).
    positions : sequence of int
        Station positions in ``table``.
    start : datetime, Timestamp or ISO str
        The window's start (see :func:`~layers.common.calendar.as_local`), read at its minute, as
        opening hours change on the minute.
    days : int
        The window's length, 1 to :data:`MAX_DAYS`.

    Returns
    -------
    list of list of (datetime, datetime)
        One list per position: ``(opens, closes)`` pairs, aware Asia/Shanghai, in time order, not
        touching one another, clipped to the window (an interval open at ``start`` begins at
        ``start``; one still open at the window's end ends there). Open means :meth:`HoursTable.open_at`
        says open, for every moment inside ``[opens, closes)``. A station closed temporarily with no
        announced end has none.

    Raises
    ------
    QuestionError
        For ``days`` outside 1..:data:`MAX_DAYS` (field ``days``).
    """
    days = check_days(days)
    begin = to_minute(as_local(start))
    end = begin + dt.timedelta(days=days)
    return [_intervals_of(table, int(i), begin, end) for i in positions]


def _intervals_of(table: HoursTable, i: int, begin: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    out: list[tuple[dt.datetime, dt.datetime]] = []
    t = begin
    # each turn moves past one opening or one closing, so a window holds at most two turns a minute
    for _ in range(2 * 24 * 60 * MAX_DAYS + 2):
        if t >= end:
            break
        if bool(table.open_at(t)[i]):
            closes = table.closes_at(t, [i])[0]
            stop = end if closes is None or closes > end else closes
            out.append((t, stop))
            t = stop
        else:
            opens = table.next_opens_at(t, [i])[0]
            if opens is None or opens >= end or opens <= t:
                break
            t = opens
    return out
