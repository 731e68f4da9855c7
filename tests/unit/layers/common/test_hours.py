"""Unit tests of station opening hours on real Chinese calendar dates."""

import datetime as dt

import numpy as np
import opening_hours
import pandas as pd
import pytest

from layers.common.calendar import TZ, DayKind, as_local, day_kind, evaluation_date, holiday_name
from layers.common.hours import HoursTable, station_state

LUNCH_BREAK = "Mo-Fr 08:30-12:00,14:00-18:00; PH off"
OVERNIGHT = "Mo-Su 22:00-02:00"


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def one(expression, t, **kwargs):
    table = HoursTable([expression], **kwargs)
    return (bool(table.open_at(t)[0]), table.closes_at(t)[0], table.next_opens_at(t)[0])


# --- the official calendar ----------------------------------------------------------------


def test_day_kinds_follow_the_state_council_schedule():
    assert day_kind(dt.date(2025, 10, 3)) is DayKind.HOLIDAY  # inside the 10-01..08 block
    assert day_kind(dt.date(2025, 10, 4)) is DayKind.HOLIDAY  # a Saturday inside the block
    assert day_kind(dt.date(2025, 9, 28)) is DayKind.MAKEUP_WORKDAY  # Sunday worked (调休)
    assert day_kind(dt.date(2025, 10, 11)) is DayKind.MAKEUP_WORKDAY  # Saturday worked
    assert day_kind(dt.date(2025, 10, 18)) is DayKind.WEEKEND
    assert day_kind(dt.date(2025, 10, 14)) is DayKind.WORKDAY
    assert holiday_name(dt.date(2025, 10, 3)) == "National Day"
    assert holiday_name(dt.date(2026, 2, 18)) == "Spring Festival"
    assert holiday_name(dt.date(2025, 10, 14)) is None


def test_years_without_a_notice_have_the_statutory_holidays_and_no_makeup_days():
    # 2035-10-01..03 (Mon-Wed) are National Day by the regulation; 10-04 is an ordinary Thursday
    assert day_kind(dt.date(2035, 10, 2)) is DayKind.HOLIDAY
    assert day_kind(dt.date(2035, 10, 4)) is DayKind.WORKDAY
    assert day_kind(dt.date(2035, 10, 6)) is DayKind.WEEKEND
    assert holiday_name(dt.date(2035, 10, 1)) == "National Day"
    hours = HoursTable(["Mo-Fr 09:00-18:00; PH off"])
    assert not hours.open_at(at(2035, 10, 2, 10))[0]
    assert hours.open_at(at(2035, 10, 4, 10))[0]


def test_as_local_converts_every_accepted_form():
    assert as_local(dt.datetime(2025, 10, 14, 1, 0, tzinfo=dt.timezone.utc)) == at(2025, 10, 14, 9)
    assert as_local(dt.datetime(2025, 10, 14, 9, 0)) == at(2025, 10, 14, 9)
    assert as_local("2025-10-14T01:00:00Z") == at(2025, 10, 14, 9)
    assert as_local(pd.Timestamp("2025-10-14 09:00")).tzinfo is TZ
    with pytest.raises(TypeError):
        as_local(20251014)


# --- plain hours --------------------------------------------------------------------------


def test_always_open():
    table = HoursTable(["24/7"])
    for t in (at(2025, 10, 1, 0), at(2025, 10, 3, 3, 33), at(2026, 2, 17, 23, 59)):
        assert table.open_at(t)[0]
    assert table.closes_at(at(2025, 10, 14, 23, 59)) == [None]
    assert table.next_opens_at(at(2025, 10, 14, 12)) == [None]
    days = table.week_schedule(0, dt.date(2025, 10, 14))
    assert [d["intervals"] for d in days] == [[(dt.time(0), dt.time(0))]] * 7


def test_daily_hours_edges():
    table = HoursTable(["Mo-Su 08:00-22:00"])
    assert not table.open_at(at(2025, 10, 14, 7, 59, 59))[0]
    assert table.open_at(at(2025, 10, 14, 8, 0))[0]
    assert table.open_at(at(2025, 10, 14, 21, 59))[0]
    assert not table.open_at(at(2025, 10, 14, 22, 0))[0]
    assert table.closes_at(at(2025, 10, 14, 20))[0] == at(2025, 10, 14, 22)
    assert table.next_opens_at(at(2025, 10, 14, 22, 30))[0] == at(2025, 10, 15, 8)


def test_lunch_break():
    is_open, _, opens = one(LUNCH_BREAK, at(2025, 10, 14, 12, 30))
    assert not is_open and opens == at(2025, 10, 14, 14)
    is_open, closes, _ = one(LUNCH_BREAK, at(2025, 10, 14, 14, 30))
    assert is_open and closes == at(2025, 10, 14, 18)


def test_weekday_only_station_is_closed_on_saturday():
    is_open, closes, opens = one(LUNCH_BREAK, at(2025, 10, 18, 10))
    assert not is_open and closes is None
    assert opens == at(2025, 10, 20, 8, 30)


# --- public holidays and 调休 ---------------------------------------------------------------


def test_ph_off_inside_the_national_day_block():
    library = opening_hours.OpeningHours(LUNCH_BREAK, country="CN")
    # The library alone knows only 10-01, so it would open on 10-03.
    assert library.is_open(dt.datetime(2025, 10, 3, 10))
    is_open, _, opens = one(LUNCH_BREAK, at(2025, 10, 3, 10))
    assert not is_open
    assert opens == at(2025, 10, 9, 8, 30)  # 10-08 is the last day of the block


def test_ph_off_in_spring_festival():
    assert opening_hours.OpeningHours(LUNCH_BREAK, country="CN").is_open(dt.datetime(2026, 2, 18, 10))
    assert not HoursTable([LUNCH_BREAK]).open_at(at(2026, 2, 18, 10))[0]


def test_holiday_hours_replace_ordinary_hours():
    table = HoursTable(["Mo-Su 08:00-20:00; PH 10:00-16:00"])
    assert not table.open_at(at(2025, 10, 5, 9))[0]
    assert table.open_at(at(2025, 10, 5, 11))[0]
    assert table.closes_at(at(2025, 10, 5, 11))[0] == at(2025, 10, 5, 16)
    assert table.open_at(at(2025, 10, 9, 9))[0]


def test_makeup_working_days_keep_working_day_hours():
    table = HoursTable([LUNCH_BREAK])
    assert table.open_at(at(2025, 9, 28, 10))[0]  # Sunday worked before National Day
    assert table.open_at(at(2025, 10, 11, 15))[0]  # Saturday worked after it
    assert table.closes_at(at(2025, 10, 11, 15))[0] == at(2025, 10, 11, 18)
    assert not table.open_at(at(2025, 10, 18, 10))[0]  # an ordinary Saturday
    assert table.next_opens_at(at(2025, 9, 27, 10))[0] == at(2025, 9, 28, 8, 30)


def test_makeup_saturday_takes_friday_and_sunday_takes_monday():
    short_friday = HoursTable(["Mo-Th 08:00-18:00; Fr 08:00-12:00"])
    assert evaluation_date(dt.date(2025, 10, 11)) == dt.date(2025, 10, 10)
    assert short_friday.open_at(at(2025, 10, 11, 10))[0]
    assert not short_friday.open_at(at(2025, 10, 11, 14))[0]
    short_monday = HoursTable(["Mo 08:00-12:00; Tu-Fr 08:00-18:00"])
    assert evaluation_date(dt.date(2025, 9, 28)) == dt.date(2025, 9, 29)
    assert short_monday.open_at(at(2025, 9, 28, 10))[0]
    assert not short_monday.open_at(at(2025, 9, 28, 14))[0]


def test_week_schedule_of_the_national_day_week():
    days = HoursTable([LUNCH_BREAK]).week_schedule(0, dt.date(2025, 10, 9))
    assert [d["date"] for d in days] == [dt.date(2025, 10, 6) + dt.timedelta(k) for k in range(7)]
    assert [d["day_kind"] for d in days] == [DayKind.HOLIDAY] * 3 + [DayKind.WORKDAY] * 2 + [
        DayKind.MAKEUP_WORKDAY, DayKind.WEEKEND]
    assert [d["holiday"] for d in days[:3]] == ["Mid-autumn Festival", "National Day", "National Day"]
    assert days[5]["holiday"] == "National Day" and days[6]["holiday"] is None
    working = [(dt.time(8, 30), dt.time(12)), (dt.time(14), dt.time(18))]
    assert [d["intervals"] for d in days] == [[], [], [], working, working, working, []]


# --- overnight spans ------------------------------------------------------------------------


def test_overnight_span():
    is_open, closes, _ = one(OVERNIGHT, at(2025, 10, 15, 1))
    assert is_open and closes == at(2025, 10, 15, 2)
    is_open, _, opens = one(OVERNIGHT, at(2025, 10, 15, 3))
    assert not is_open and opens == at(2025, 10, 15, 22)
    assert one(OVERNIGHT, at(2025, 10, 15, 23))[1] == at(2025, 10, 16, 2)
    # Friday night's span runs into Saturday.
    assert HoursTable(["Mo-Fr 22:00-02:00"]).open_at(at(2025, 10, 18, 1))[0]
    days = HoursTable([OVERNIGHT]).week_schedule(0, dt.date(2025, 10, 15))
    assert all(d["intervals"] == [(dt.time(22), dt.time(2))] for d in days)


def test_overnight_span_on_the_eve_of_a_holiday_is_cut_at_midnight():
    table = HoursTable([OVERNIGHT + "; PH off"])
    assert table.open_at(at(2025, 9, 30, 23))[0]
    assert table.closes_at(at(2025, 9, 30, 23))[0] == at(2025, 10, 1, 0)
    assert not table.open_at(at(2025, 10, 1, 1))[0]
    assert not table.open_at(at(2025, 10, 8, 23))[0]
    # The first working day after the block is a working day from 00:00, whatever the
    # night before was: its early-morning hours apply.
    assert table.open_at(at(2025, 10, 9, 1))[0]
    assert table.next_opens_at(at(2025, 10, 3, 12))[0] == at(2025, 10, 9, 0)


def test_closing_at_midnight_and_never_closing():
    table = HoursTable(["Mo-Su 08:00-24:00", "24/7"])
    assert table.closes_at(at(2025, 10, 14, 23)) == [at(2025, 10, 15, 0), None]
    assert table.next_opens_at(at(2025, 10, 15, 0, 30)) == [at(2025, 10, 15, 8), None]
    assert table.week_schedule(0, dt.date(2025, 10, 14))[0]["intervals"] == [(dt.time(8), dt.time(0))]


def test_never_open():
    table = HoursTable(["off"])
    assert not table.open_at(at(2025, 10, 14, 12))[0]
    assert table.next_opens_at(at(2025, 10, 14, 12)) == [None]


# --- temporary closures ---------------------------------------------------------------------


def test_temporary_closure_until_a_time():
    table = HoursTable(
        ["Mo-Su 08:00-22:00"] * 3,
        status=["closed_temporarily", "closed_temporarily", "closed_temporarily"],
        status_until=[dt.datetime(2025, 10, 15, 12), pd.Timestamp("2025-10-15 23:00"), None],
    )
    before = at(2025, 10, 15, 10)
    assert table.open_at(before).tolist() == [False, False, False]
    assert table.hours_open_at(before).tolist() == [True, True, True]
    assert table.closes_at(before) == [None, None, None]
    assert table.next_opens_at(before) == [at(2025, 10, 15, 12), at(2025, 10, 16, 8), None]
    assert table.open_at(at(2025, 10, 15, 12)).tolist() == [True, False, False]
    assert table.open_at(at(2025, 10, 16, 9)).tolist() == [True, True, False]


def test_status_until_in_utc_is_converted():
    table = HoursTable(["24/7"], status=["closed_temporarily"],
                       status_until=[dt.datetime(2025, 10, 15, 4, tzinfo=dt.timezone.utc)])
    assert not table.open_at(at(2025, 10, 15, 11, 59))[0]
    assert table.open_at(at(2025, 10, 15, 12))[0]


def test_other_statuses_keep_the_hours():
    table = HoursTable(["24/7", "24/7"], status=["open", "closed_temporarily"])
    assert table.open_at(at(2025, 10, 15, 12)).tolist() == [True, False]


# --- inputs -------------------------------------------------------------------------------


def test_aware_utc_times():
    table = HoursTable(["Mo-Su 08:00-22:00"])
    assert table.open_at(dt.datetime(2025, 10, 14, 1, tzinfo=dt.timezone.utc))[0]  # 09:00
    assert not table.open_at(dt.datetime(2025, 10, 14, 23, tzinfo=dt.timezone.utc))[0]  # 07:00
    assert not table.open_at("2025-10-14T14:30:00+00:00")[0]  # 22:30
    assert table.closes_at(dt.datetime(2025, 10, 14, 1, tzinfo=dt.timezone.utc))[0] == at(2025, 10, 14, 22)


def test_invalid_expression_names_its_position():
    with pytest.raises(ValueError, match=r"position 2.*'Mo-Fx 08:00-12:00'"):
        HoursTable(["24/7", "Mo-Su 08:00-22:00", "Mo-Fx 08:00-12:00", "24/7"])
    with pytest.raises(ValueError, match="position 1"):
        HoursTable(["24/7", None])
    with pytest.raises(ValueError, match="status"):
        HoursTable(["24/7"], status=["open", "open"])


def test_idx_selects_stations():
    table = HoursTable(["Mo-Su 08:00-22:00", OVERNIGHT, "24/7"])
    t = at(2025, 10, 14, 23)
    assert len(table) == 3
    assert table.closes_at(t, idx=[2, 1]) == [None, at(2025, 10, 15, 2)]
    assert table.next_opens_at(t, idx=[0]) == [at(2025, 10, 15, 8)]


# --- vectorised equals scalar ---------------------------------------------------------------

MIX = [
    "24/7",
    "off",
    "Mo-Su 08:00-22:00",
    "Mo-Su 09:00-21:00; PH off",
    LUNCH_BREAK,
    "Mo-Fr 09:00-17:00; Sa 10:00-14:00",
    "Mo-Fr 07:00-19:00; Sa,Su,PH 09:00-17:00",
    OVERNIGHT,
    OVERNIGHT + "; PH off",
    "Mo-Fr 22:00-02:00",
    "Mo-Su 08:00-24:00",
    "Mo-Su 08:00-20:00; PH 10:00-16:00",
    "Mo-Th 08:00-18:00; Fr 08:00-12:00",
    "Oct-Mar Mo-Su 09:00-17:00; Apr-Sep Mo-Su 08:00-19:00",
    "Mo-Sa 06:30-11:00,17:00-23:30; PH off",
]


def _reference_open(library, uses_ph, local):
    proxy = evaluation_date(local.date(), uses_ph)
    return library.is_open(dt.datetime.combine(proxy, local.time().replace(tzinfo=None)))


def _reference_change(library, uses_ph, local, horizon=dt.timedelta(days=14)):
    """Step through real time: within a date the proxy's next change, at midnight a new proxy."""
    state = _reference_open(library, uses_ph, local)
    cursor = local
    while cursor <= local + horizon:
        day = cursor.date()
        proxy = evaluation_date(day, uses_ph)
        midnight = dt.datetime.combine(day + dt.timedelta(1), dt.time(), tzinfo=TZ)
        change = library.next_change(dt.datetime.combine(proxy, cursor.time().replace(tzinfo=None)))
        step = midnight
        if change is not None:
            step = min(midnight, dt.datetime.combine(day, dt.time(), tzinfo=TZ)
                       + (change - dt.datetime.combine(proxy, dt.time())))
        if _reference_open(library, uses_ph, step) != state:
            return step if (state or step <= local + horizon) else None
        cursor = step
    return None


@pytest.fixture(scope="module")
def mixed():
    rng = np.random.default_rng(20251001)
    expressions = [MIX[k] for k in rng.integers(0, len(MIX), 300)]
    status = ["closed_temporarily" if k < 20 else "open" for k in range(300)]
    base = at(2025, 9, 20)
    until = [None if k % 5 == 0 else base + dt.timedelta(minutes=int(m))
             for k, m in enumerate(rng.integers(0, 60 * 24 * 30, 300))]
    table = HoursTable(expressions, status=status, status_until=until)
    # Holiday blocks and their edges are where the mapping matters; the rest is any day.
    windows = [(at(2025, 9, 20), 30), (at(2026, 2, 8), 20), (at(2025, 1, 1), 700)]
    times = []
    for start, days in windows:
        seconds = rng.integers(0, days * 86400, 150)
        # Every other time sits on a half hour, where opening and closing times fall.
        seconds[::2] -= seconds[::2] % 1800
        times += [start + dt.timedelta(seconds=int(s)) for s in seconds]
    return table, expressions, status, until, times


def test_vectorised_open_equals_a_scalar_loop(mixed):
    table, expressions, status, until, times = mixed
    libraries = {e: opening_hours.OpeningHours(e, country="CN") for e in MIX}
    for t in times:
        expected = []
        for e, s, u in zip(expressions, status, until):
            is_open = _reference_open(libraries[e], "PH" in e, t)
            if s == "closed_temporarily" and (u is None or t < u):
                is_open = False
            expected.append(is_open)
        assert table.open_at(t).tolist() == expected, t


def test_closes_and_opens_equal_stepping_in_real_time(mixed):
    table, expressions, status, until, times = mixed
    hours = HoursTable(expressions)
    libraries = {e: opening_hours.OpeningHours(e, country="CN") for e in MIX}
    distinct = {e: i for i, e in enumerate(expressions)}
    idx = list(distinct.values())
    for t in times[::3]:
        t = t.replace(second=0)
        closes = hours.closes_at(t, idx)
        opens = hours.next_opens_at(t, idx)
        for e, c, o in zip(distinct, closes, opens):
            is_open = _reference_open(libraries[e], "PH" in e, t)
            change = _reference_change(libraries[e], "PH" in e, t)
            assert (c, o) == ((change, None) if is_open else (None, change)), (e, t)


# --- station state -------------------------------------------------------------------------


def test_station_state_from_a_table():
    table = HoursTable([LUNCH_BREAK])
    now = at(2025, 10, 14, 11, 40)  # a Tuesday, twenty minutes before the lunch break
    state = station_state(table.open_at(now)[0], table.closes_at(now)[0], table.next_opens_at(now)[0], now)
    assert (state.state, state.minutes_to_close, state.closes_at) == ("closing_soon", 20, at(2025, 10, 14, 12))
    later = at(2025, 10, 14, 12, 30)
    state = station_state(table.open_at(later)[0], table.closes_at(later)[0], table.next_opens_at(later)[0], later)
    assert (state.state, state.minutes_to_close, state.next_opens_at) == ("closed", None, at(2025, 10, 14, 14))
    assert station_state(True, None, None, now).state == "open"


def test_closures_until_any_representable_day_and_far_questions():
    table = HoursTable(["24/7"], status=["closed_temporarily"], status_until=[dt.datetime(9999, 12, 31, 18)])
    assert not table.open_at(at(2026, 12, 2, 12))[0]
    assert table.next_opens_at(at(2026, 12, 2, 12)) == [None]  # not within the horizon
    early = HoursTable(["24/7"], status=["closed_temporarily"], status_until=[dt.datetime(1, 1, 1)])
    assert early.open_at(at(2026, 12, 2, 12))[0]
