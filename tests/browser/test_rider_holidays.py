"""The station card on a holiday of a year whose notice is not yet published (the rider page, headless Chromium)."""
from __future__ import annotations

from tests.api.test_calendar_api import OFFICE_HOURS, office_station  # noqa: F401  (the fixture)
from tests.browser.test_rider_page import start


def test_card_on_new_years_day_2027_says_holiday_closed_and_schedule_not_published(dash_duo, dash_app,
                                                                                   office_station):  # noqa: F811
    lat, lon = office_station.geometry.y, office_station.geometry.x
    start(dash_duo, dash_app, path=f"/?lat={lat:.6f}&lon={lon:.6f}&s=st-0100&at=2027-01-01T10:00")
    dash_duo.wait_for_contains_text("#rider-card .oh-raw", OFFICE_HOURS, timeout=15)
    card = dash_duo.find_element("#rider-card")
    status = dash_duo.find_element("#rider-card .status")
    assert "status-open" not in status.get_attribute("class")
    assert "元旦" in dash_duo.find_element("#rider-card table.week").text
    assert dash_duo.find_element("#rider-card .calendar-statutory").text == "2027 年放假安排尚未公布，按法定节假日计算"
    assert "营业中" not in card.text
    assert dash_duo.get_logs() == []
