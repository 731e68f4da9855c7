"""Unit tests of the open intervals a phone keeps for the next days (layers/common/hours_ahead.py)."""

import datetime as dt

import numpy as np
import pytest

from layers.common.calendar import TZ
from layers.common.errors import QuestionError
from layers.common.hours import HoursTable
from layers.common.hours_ahead import MAX_DAYS, open_intervals


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def hhmm(pairs):
    return [(f"{a:%m-%d %H:%M}", f"{b:%m-%d %H:%M}") for a, b in pairs]


def test_a_split_day_and_an_overnight_span_are_their_own_intervals():
    table = HoursTable(["Mo-Fr 08:30-12:00,14:00-18:00", "Mo-Su 22:00-02:00"])
    # Wednesday 2026-12-02, 10:00: the first is open (its interval starts now), the second opens at 22:00
    split, night = open_intervals(table, [0, 1], at(2026, 12, 2, 10, 0), days=2)
    assert hhmm(split) == [("12-02 10:00", "12-02 12:00"), ("12-02 14:00", "12-02 18:00"),
                           ("12-03 08:30", "12-03 12:00"), ("12-03 14:00", "12-03 18:00"),
                           ("12-04 08:30", "12-04 10:00")]  # cut at the window's end
    assert hhmm(night) == [("12-02 22:00", "12-03 02:00"), ("12-03 22:00", "12-04 02:00")]


def test_always_open_is_one_interval_to_the_end_of_the_window():
    table = HoursTable(["24/7"])
    [intervals] = open_intervals(table, [0], at(2026, 12, 2, 15, 0, 42), days=3)
    assert intervals == [(at(2026, 12, 2, 15, 0), at(2026, 12, 5, 15, 0))]


def test_holidays_and_make_up_days_follow_the_calendar():
    # 2025: National Day 10-01..08 off; Sunday 09-28 and Saturday 10-11 are worked (调休)
    table = HoursTable(["Mo-Fr 09:00-18:00; PH off"])
    [intervals] = open_intervals(table, [0], at(2025, 9, 28, 0, 0), days=14)
    days = [a.date().isoformat() for a, _ in intervals]
    assert days == ["2025-09-28", "2025-09-29", "2025-09-30", "2025-10-09", "2025-10-10", "2025-10-11"]


def test_a_temporary_closure_holds_until_its_end_and_without_an_end_for_good():
    table = HoursTable(["Mo-Su 08:00-20:00"] * 3, status=["closed_temporarily", "closed_temporarily", "open"],
                       status_until=[at(2026, 12, 3, 12, 0), None, None])
    until, closed, normal = open_intervals(table, [0, 1, 2], at(2026, 12, 2, 9, 0), days=2)
    assert hhmm(until) == [("12-03 12:00", "12-03 20:00"), ("12-04 08:00", "12-04 09:00")]
    assert closed == []
    assert hhmm(normal)[0] == ("12-02 09:00", "12-02 20:00")


@pytest.mark.parametrize("days", [0, MAX_DAYS + 1, -1, 2.5, True, "7"])
def test_days_outside_the_horizon_are_refused_naming_the_field(days):
    with pytest.raises(QuestionError) as err:
        open_intervals(HoursTable(["24/7"]), [0], at(2026, 12, 2, 9, 0), days=days)
    assert err.value.field == "days"


def test_every_demo_station_agrees_with_open_at_at_every_quarter_hour(store):
    """The oracle: HoursTable.open_at, asked at every quarter hour of the window for every station."""
    stations = store.read("stations")
    table = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
    start = at(2026, 9, 28, 15, 7)  # a week that holds the make-up Sunday and the start of National Day
    days = 7
    positions = list(range(len(stations)))
    intervals = open_intervals(table, positions, start, days)
    begin = start.replace(second=0)
    for k in range(days * 96):
        t = begin + dt.timedelta(minutes=15 * k)
        expected = np.asarray(table.open_at(t), dtype=bool)
        got = np.array([any(a <= t < b for a, b in spans) for spans in intervals])
        assert (got == expected).all(), f"{t}: stations {np.flatnonzero(got != expected)[:5]} disagree"
    for spans in intervals:
        assert all(a < b for a, b in spans)
        assert all(b1 < a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))  # apart, in order
