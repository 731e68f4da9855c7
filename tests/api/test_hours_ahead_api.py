"""GET /api/v1/stations/hours: the open intervals a phone keeps, agreeing with the nearest API at every time asked."""
from __future__ import annotations

import datetime as dt

import pytest

from mapdata import clock
from tests.helpers import TEST_NOW

CENTRE = {"lat": 30.6586, "lon": 104.0648}  # 天府广场
OFFICE_HOURS = "Mo-Fr 08:30-12:00,14:00-18:00; PH off"


def hours(client, **params):
    r = client.get("/api/v1/stations/hours", query_string=params)
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def nearest(client, at, k=8):
    r = client.get("/api/v1/stations/nearest", query_string={**CENTRE, "k": k, "at": at})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()["results"]


def open_in(intervals, t: dt.datetime) -> bool:
    return any(dt.datetime.fromisoformat(i["opens"]) <= t < dt.datetime.fromisoformat(i["closes"]) for i in intervals)


def test_the_nearest_stations_hours_agree_with_the_nearest_api_now_and_later(client):
    near = nearest(client, "any")
    ids = [r["id"] for r in near]
    body = hours(client, ids=",".join(ids), days=7)
    now = TEST_NOW.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert dt.datetime.fromisoformat(body["start"]) == now
    assert dt.datetime.fromisoformat(body["end"]) == now + dt.timedelta(days=7)
    assert body["days"] == 7 and body["missing"] == [] and body["holiday_schedule"] == "notice"
    assert [s["id"] for s in body["stations"]] == ids
    assert [s["name"] for s in body["stations"]] == [r["name"] for r in near]
    by_id = {s["id"]: s for s in body["stations"]}
    # at every asked time, a station is open by its intervals exactly when the nearest API says it is open then
    for hours_later in (0, 3, 7.5, 18, 30, 55, 100, 160):
        t = now + dt.timedelta(hours=hours_later)
        answer = {r["id"]: r for r in nearest(client, t.isoformat(), k=50)}
        for sid in ids:
            assert open_in(by_id[sid]["intervals"], t) == (sid in answer and answer[sid]["open"]), (sid, t)
    # and an interval open now closes when the nearest API says it closes
    for r in nearest(client, "now", k=50):
        if r["id"] in by_id and r["closes_at"]:
            first = by_id[r["id"]]["intervals"][0]
            assert dt.datetime.fromisoformat(first["opens"]) == now
            assert dt.datetime.fromisoformat(first["closes"]) == dt.datetime.fromisoformat(r["closes_at"])


def test_a_station_s_card_data_comes_with_its_hours(client, store):
    row = store.read("stations").set_index("id").loc["st-0008"]
    [station] = hours(client, ids="st-0008", days=1)["stations"]
    assert station["name"] == row["name"] and station["address"] == row["address"]
    assert station["opening_hours"] == row["opening_hours"] and station["status"] == row["status"]
    for i in station["intervals"]:
        opens, closes = dt.datetime.fromisoformat(i["opens"]), dt.datetime.fromisoformat(i["closes"])
        assert opens < closes and opens.utcoffset() == dt.timedelta(hours=8)


def test_a_repeated_id_is_answered_once_and_an_unknown_one_is_said_missing(client):
    body = hours(client, ids="st-0001,st-0002,st-0001,st-9999")
    assert [s["id"] for s in body["stations"]] == ["st-0001", "st-0002"]
    assert body["missing"] == ["st-9999"]
    assert body["days"] == 7  # the default


def test_new_years_day_2027_is_closed_by_the_statutory_holidays_and_the_answer_says_so(client, store):
    office = store.read("stations")
    sid = office.loc[office["opening_hours"] == OFFICE_HOURS, "id"].iloc[0]
    with clock.frozen(dt.datetime(2026, 12, 31, 9, 0)):
        body = hours(client, ids=sid, days=4)
    days = sorted({i["opens"][:10] for i in body["stations"][0]["intervals"]})
    # Thursday 12-31 is worked; Friday 2027-01-01 is New Year's Day; the weekend; Monday 01-04 till 09:00
    assert days == ["2026-12-31", "2027-01-04"]
    assert body["holiday_schedule"] == "statutory"


@pytest.mark.parametrize(("params", "field"), [
    ({}, "ids"),
    ({"ids": ""}, "ids"),
    ({"ids": "st-0001,"}, "ids"),
    ({"ids": "st-0001;st-0002"}, "ids"),
    ({"ids": "<script>"}, "ids"),
    ({"ids": ",".join(f"st-{n:04d}" for n in range(1, 22))}, "ids"),
    ({"ids": "st-0001", "days": "0"}, "days"),
    ({"ids": "st-0001", "days": "15"}, "days"),
    ({"ids": "st-0001", "days": "seven"}, "days"),
    ({"ids": "st-0001", "days": "2.5"}, "days"),
])
def test_bad_parameters_are_refused_naming_the_field(client, params, field):
    r = client.get("/api/v1/stations/hours", query_string=params)
    assert r.status_code == 400, r.get_data(as_text=True)
    error = r.get_json()["error"]
    assert error["code"] == "invalid_parameter" and error["field"] == field


def test_twenty_ids_and_fourteen_days_are_the_most_one_question_asks(client):
    ids = ",".join(f"st-{n:04d}" for n in range(1, 21))
    body = hours(client, ids=ids, days=14)
    assert len(body["stations"]) == 20 and body["days"] == 14


def test_the_document_describes_the_route_with_its_bounds(client):
    doc = client.get("/api/openapi.json").get_json()
    operation = doc["paths"]["/api/v1/stations/hours"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["ids"]["required"] is True and "{0,19}" in params["ids"]["schema"]["pattern"]
    assert params["days"]["schema"]["minimum"] == 1 and params["days"]["schema"]["maximum"] == 14
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "StationHoursResponse")
