"""A holiday in a year whose notice is not yet published: the nearest API reads it as a holiday and says so."""
from __future__ import annotations

import pytest

from mapdata.store import Change, open_store

OFFICE_HOURS = "Mo-Fr 09:00-18:00; PH off"


@pytest.fixture()
def office_station(app_db):
    """st-0100 with weekday office hours that close on public holidays (put back afterwards)."""
    store = open_store(app_db)
    row = store.read("stations").set_index("id").loc["st-0100"]
    store.apply_changes("stations", [Change("st-0100", {"opening_hours": OFFICE_HOURS})], user="test:holiday")
    try:
        yield row
    finally:
        store.apply_changes("stations", [Change("st-0100", {"opening_hours": row["opening_hours"]})],
                            user="test:holiday")


def _nearest(client, row, at):
    resp = client.get("/api/v1/stations/nearest", query_string={
        "lat": row.geometry.y, "lon": row.geometry.x, "k": 1, "at": at})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def test_new_years_day_2027_is_a_holiday_by_the_statute_and_the_answer_says_so(client, office_station):
    body = _nearest(client, office_station, "2027-01-01T10:00")
    # closed stations are not listed as open: the nearest open one is another
    assert all(r["id"] != "st-0100" for r in body["results"])
    assert body["holiday_schedule"] == "statutory"
    monday = _nearest(client, office_station, "2027-01-04T10:00")
    assert monday["results"][0]["id"] == "st-0100" and monday["results"][0]["open"] is True
    assert monday["holiday_schedule"] == "statutory"
    published = _nearest(client, office_station, "2026-12-02T10:00")
    assert published["results"][0]["id"] == "st-0100" and published["holiday_schedule"] == "notice"
    assert _nearest(client, office_station, "any")["holiday_schedule"] is None
