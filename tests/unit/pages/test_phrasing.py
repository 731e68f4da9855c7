"""How the pages say a station's state, a distance, a holiday: the words a rider reads."""
from __future__ import annotations

import datetime as dt

from layers.common.calendar import TZ
from layers.common.hours import HoursTable, station_state
from pages.i18n import holiday
from pages.phrasing import distance, minutes, number, pct, signed_pct, status_text, walk_time


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def both(open, closes, opens, now) -> tuple[str, str]:
    state = station_state(open, closes, opens, now)
    return status_text(state, "zh"), status_text(state, "en")


def test_open_closing_soon_and_closed_in_both_languages():
    now = at(2025, 10, 14, 20)
    assert both(True, at(2025, 10, 14, 21), None, now) == ("营业中 · 21:00 关门", "Open · closes 21:00")
    assert both(True, at(2025, 10, 14, 20, 15), None, now) == ("15 分钟后关门", "Closes in 15 min")
    assert both(True, at(2025, 10, 15, 2), None, now)[0] == "营业中 · 明天 02:00 关门"
    assert both(True, None, None, now) == ("营业中", "Open")
    assert both(False, None, at(2025, 10, 15, 8), now) == ("已关闭 · 明天 08:00 开门", "Closed · opens tomorrow 08:00")
    assert both(False, None, at(2025, 10, 14, 22), now)[1] == "Closed · opens today 22:00"
    assert both(False, None, at(2025, 10, 17, 8), now)[0] == "已关闭 · 周五 08:00 开门"
    assert both(False, None, at(2025, 10, 27, 8), now)[1] == "Closed · opens Oct 27 08:00"
    assert both(False, None, None, now) == ("已关闭", "Closed")


def test_state_of_a_table_during_the_national_day_holiday():
    table = HoursTable(["Mo-Fr 08:30-12:00,14:00-18:00; PH off"])
    now = at(2025, 10, 3, 10)  # a Friday inside the National Day block: closed until Thursday 10-09
    state = station_state(table.open_at(now)[0], table.closes_at(now)[0], table.next_opens_at(now)[0], now)
    assert status_text(state, "en") == "Closed · opens Thu 08:30"


def test_holiday_names_and_numbers():
    assert holiday("National Day", "zh") == "国庆节" and holiday("National Day", "en") == "National Day"
    assert holiday(None, "zh") is None
    assert distance(347, "zh") == "350 米" and distance(1234, "en") == "1.2 km"
    assert pct(0.3421) == "34.2%" and pct(None) == "—" and pct(float("nan")) == "—"
    assert signed_pct(0.0052) == "+0.52" and number(20000) == "20,000"


def test_a_time_under_a_minute_is_never_zero_minutes():
    """33 m on foot is about 0.4 min: the rider reads "不到 1 分钟", not "约 0 分钟"."""
    assert walk_time(0.44, "zh") == "步行不到 1 分钟" and walk_time(0.44, "en") == "under a minute's walk"
    assert walk_time(0.99, "zh") == "步行不到 1 分钟"
    assert walk_time(1.0, "zh") == "步行约 1 分钟" and walk_time(6.6, "en") == "about 7 min on foot"
    assert minutes(0.2, "zh") == "不到 1 分钟" and minutes(0.2, "en") == "under a minute"
    assert minutes(3.4, "zh") == "3 分钟" and minutes(12.6, "en") == "13 min"
