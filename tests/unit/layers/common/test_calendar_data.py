"""The holiday calendar as data: statutory holidays for a year without a notice, and a city import of a notice."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from layers.common import calendar as cal
from layers.common.calendar import DayKind, ScheduleSource


def test_statutory_2027_follows_the_regulation_by_the_lunar_calendar():
    days = cal.statutory_holidays(2027)
    spring = [d for d, k in days.items() if k == "Spring Festival"]
    # 除夕 2027-02-05 to 正月初三 02-08, and the two weekend days among them made up on 02-09 and 02-10
    assert spring[:4] == [dt.date(2027, 2, 5) + dt.timedelta(days=i) for i in range(4)]
    assert days[dt.date(2027, 1, 1)] == "New Year's Day"
    assert days[dt.date(2027, 4, 5)] == "Tomb-sweeping Day"
    assert days[dt.date(2027, 6, 9)] == "Dragon Boat Festival"
    assert days[dt.date(2027, 9, 15)] == "Mid-autumn Festival"
    assert [d for d, k in days.items() if k == "National Day"][:3] == [dt.date(2027, 10, i) for i in (1, 2, 3)]
    assert [d for d, k in days.items() if k == "Labour Day"][:2] == [dt.date(2027, 5, 1), dt.date(2027, 5, 2)]


@pytest.mark.parametrize("year", [2025, 2026])
def test_statutory_days_are_inside_the_published_notice(year):
    published = cal.PackageCalendar().read()
    notice = {d.day: d.holiday_key for d in published[1] if d.day.year == year and d.kind == "holiday"}
    statutory = cal.statutory_holidays(year)
    assert statutory and set(statutory) <= set(notice)
    assert all(notice[d] == k for d, k in statutory.items())


def test_a_year_without_a_notice_has_its_statutory_holidays_and_says_so():
    assert cal.schedule_source(dt.date(2026, 12, 31)) is ScheduleSource.NOTICE
    assert cal.schedule_source(dt.date(2027, 1, 1)) is ScheduleSource.STATUTORY
    assert cal.day_kind(dt.date(2027, 1, 1)) is DayKind.HOLIDAY
    assert cal.holiday_name(dt.date(2027, 1, 1)) == "New Year's Day"
    assert not cal.is_working_day(dt.date(2027, 2, 8))


def _csv(tmp_path, text, name="notice.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_importing_a_notice_replaces_the_year_and_the_hours_follow(writable_db, tmp_path, capsys):
    from layers.common.hours import HoursTable
    from mapdata.calendar import main
    from mapdata.store import open_store

    store = open_store(writable_db)
    hours = HoursTable(["Mo-Fr 09:00-18:00; PH off"])
    previous = cal.use_calendar(store.calendar)
    try:
        assert [y.year for y in store.calendar.years()][-1] == 2026  # seeded from chinesecalendar
        assert not hours.open_at("2027-01-01T10:00")[0]  # statutory 元旦
        assert hours.open_at("2027-01-04T10:00")[0]
        notice = _csv(tmp_path, "day,kind,holiday\n2027-01-01,holiday,元旦\n2027-01-02,holiday,元旦\n"
                                "2027-01-03,holiday,元旦\n2027-01-04,holiday,New Year's Day\n"
                                "2027-01-09,makeup_workday,New Year's Day\n")
        assert main(["--db", str(writable_db), "import", str(notice), "--published-on", "2026-11-20",
                     "--by", "city-admin"]) == 0
        cal.refresh_calendar()
        assert cal.schedule_source(dt.date(2027, 3, 1)) is ScheduleSource.NOTICE
        assert cal.day_kind(dt.date(2027, 1, 9)) is DayKind.MAKEUP_WORKDAY
        assert not hours.open_at("2027-01-04T10:00")[0]  # the cached profile was not reused
        assert hours.open_at("2027-01-09T10:00")[0]  # a make-up Saturday keeps Friday's hours
        log = store.audit_log("calendar")
        assert list(log["row_id"]) == ["2027"] and log.iloc[0]["user"] == "city-admin"
        assert len(log.iloc[0]["after"]["days"]) == 5
        year = store.calendar.years()[-1]
        assert (year.year, year.published_on, year.imported_by) == (2027, dt.date(2026, 11, 20), "city-admin")
    finally:
        cal.use_calendar(previous)


@pytest.mark.parametrize("text, field", [
    ("date,kind,holiday\n2027-01-01,holiday,元旦\n", "date"),
    ("day,kind,holiday\n2027-01-01,holiday,元旦\n2028-01-01,holiday,元旦\n", "day"),
    ("day,kind,holiday\n2027-01-01,holiday,元旦\n2027-13-01,holiday,元旦\n", "day"),
    ("day,kind,holiday\n2027-01-01,holiday,Christmas\n", "holiday"),
    ("day,kind,holiday\n2027-01-01,day_off,元旦\n", "kind"),
    ("day,kind,holiday\n2027-01-01,holiday,元旦\n2027-01-05,makeup_workday,元旦\n", "kind"),
    ("day,kind,holiday\n2027-01-01,holiday,元旦\n2027-01-01,holiday,元旦\n", "day"),
    ("day,kind,holiday\n2027-01-09,makeup_workday,元旦\n", "days"),
])
def test_a_bad_file_names_the_field_and_imports_nothing(writable_db, tmp_path, capsys, text, field):
    from mapdata.calendar import CalendarFileError, main, read_file
    from mapdata.store import open_store

    store = open_store(writable_db)
    before = (store.calendar.years(), store.calendar.days())
    path = _csv(tmp_path, text)
    with pytest.raises(CalendarFileError) as err:
        read_file(path)
    assert err.value.field == field
    assert main(["--db", str(writable_db), "import", str(path)]) == 2
    assert "nothing was imported" in capsys.readouterr().err
    assert (store.calendar.years(), store.calendar.days()) == before
    assert store.audit_log("calendar").empty


def test_json_file_and_a_failing_write_leave_the_year_as_it_was(writable_db, tmp_path):
    from mapdata.calendar import read_file
    from mapdata.store import StoreError, open_store
    from mapdata.store.calendar import CalendarDay

    path = tmp_path / "2027.json"
    path.write_text(json.dumps({"year": 2027, "published_on": "2026-11-20", "days": [
        {"day": "2027-01-01", "kind": "holiday", "holiday": "New Year's Day"}]}), encoding="utf-8")
    assert read_file(path)[0] == 2027
    store = open_store(writable_db)
    before = store.calendar.days(2026)
    # a day the tables refuse (an unknown kind) in the middle: the old days stay, no audit entry
    bad = [*before[:3], CalendarDay(dt.date(2026, 5, 6), "nap", "Labour Day")]
    with pytest.raises(StoreError):
        store.calendar.replace_year(2026, bad, published_on=None, by="city-admin")
    assert store.calendar.days(2026) == before
    assert store.audit_log("calendar").empty
