"""The weekly hours form to OSM text and back, and the preview against China's calendar."""
from __future__ import annotations

import datetime as dt

import pytest

from layers.staff.hours_editor import HoursFormError, compose, decompose, preview

LUNCH = [("08:00", "12:00"), ("14:00", "20:00")]


def test_a_week_with_a_lunch_break_and_ph_closed():
    week = [LUNCH] * 5 + [[("09:00", "18:00")]] * 2
    text = compose(week, "off")
    assert text == "Mo-Fr 08:00-12:00,14:00-20:00; Sa,Su 09:00-18:00; PH off"
    assert decompose(text) == (week, "off")


def test_closed_days_midnight_and_round_the_clock():
    week = [[("10:00", "00:00")], [], [("10:00", "22:00")], [], [], [("00:00", "24:00")], []]
    text = compose(week, "weekday")
    assert text == "Mo 10:00-24:00; We 10:00-22:00; Sa 00:00-24:00"
    assert compose([[("00:00", "24:00")]] * 7, "weekday") == "24/7"
    assert compose([[]] * 7, "off") == "off; PH off"


def test_ph_with_sundays_hours():
    week = [[("08:00", "20:00")]] * 6 + [[("10:00", "16:00")]]
    text = compose(week, "sunday")
    assert text == "Mo-Sa 08:00-20:00; Su 10:00-16:00; PH 10:00-16:00"
    assert decompose(text) == (week, "sunday")


@pytest.mark.parametrize("week, day, period", [
    ([[("08:00", "07:00")]] + [[]] * 6, 0, 0),
    ([[]] + [[("8:00", "12:00")]] + [[]] * 5, 1, 0),
    ([[]] * 2 + [[("08:00", "13:00"), ("12:00", "20:00")]] + [[]] * 4, 2, 1),
    ([[]] * 3 + [[("08:00", "09:00")] * 3] + [[]] * 3, 3, 2),
])
def test_a_bad_period_names_its_day_and_period(week, day, period):
    with pytest.raises(HoursFormError) as err:
        compose(week, "off")
    assert (err.value.day, err.value.period) == (day, period)


def test_text_the_form_cannot_hold_stays_text():
    assert decompose("Mo-Fr 08:00-20:00; 2026 Oct 01-07 off") is None
    assert decompose("sunrise-sunset") is None
    assert decompose("Mo-Fr 08:00-20:00; PH 09:00-12:00") is None  # PH hours unlike Sunday's


def test_the_preview_shows_the_week_the_next_holiday_and_the_makeup_day():
    p = preview("Mo-Fr 08:00-12:00,14:00-20:00; Sa 09:00-12:00; PH off", dt.date(2026, 9, 28))
    assert [d["periods"] for d in p["week"]][:2] == [LUNCH, LUNCH]
    assert p["week"][6]["periods"] == []
    assert p["holiday"]["date"] == dt.date(2026, 10, 1) and p["holiday"]["periods"] == []
    # the make-up Saturday 2026-10-10 is a working day: it keeps a working day's hours
    assert p["makeup"]["date"] == dt.date(2026, 10, 10) and p["makeup"]["periods"] == LUNCH
    assert "error" in preview("Mo-Fr 25:00-26:00", dt.date(2026, 9, 28))
