"""Inputs an outside client can send: every one is answered with a 4xx naming the field, never a 500,
and nothing is read leniently (underscores in numbers, Unix times for dates, booleans for counts)."""
from __future__ import annotations

import pytest

FAR_TIMES = ["2300-01-01T12:00", "0001-01-01T00:00", "9999-12-31T23:59", "1800-06-01T08:00"]
FAR_DATES = ["2300-01-01", "0001-01-01", "9999-12-31", "0", "1700000000", "2026-13-01", "2026-1-5"]
CENTRE = {"lat": 30.6586, "lon": 104.0648}

GET_ROUTES_WITH_AT = [
    ("/api/v1/stations/nearest", CENTRE),
    ("/api/v1/coverage", {}),
    ("/api/v1/reports/coverage.csv", {}),
    ("/api/v1/reports/coverage.xlsx", {}),
    ("/api/v1/reports/gaps.geojson", {}),
    ("/api/v1/reports/gaps.gpkg", {}),
    ("/api/v1/reports/sites.geojson", {"k": 2}),
    ("/api/v1/reports/district_map.html", {"adcode": 510104}),
]


def _refused(r, field, status=400):
    assert r.status_code == status, (r.status_code, r.data[:300])
    error = r.get_json()["error"]
    assert error["field"] == field and error["message"], error
    return error


@pytest.mark.parametrize("at", FAR_TIMES)
@pytest.mark.parametrize("path, params", GET_ROUTES_WITH_AT)
def test_times_outside_the_calendar_are_refused_naming_at(client, path, params, at):
    error = _refused(client.get(path, query_string={**params, "at": at}), "at")
    assert "1970" in error["message"] and "2199" in error["message"]


@pytest.mark.parametrize("at", FAR_TIMES)
def test_siting_times_outside_the_calendar_are_refused(client, at):
    _refused(client.post("/api/v1/siting", json={"k": 2, "at": at}), "at")


@pytest.mark.parametrize("value", FAR_DATES)
@pytest.mark.parametrize("path, field, params", [
    ("/api/v1/coverage/week", "week_start", {}),
    ("/api/v1/coverage/compare", "normal_week", {"holiday_week": "2026-10-01"}),
    ("/api/v1/coverage/compare", "holiday_week", {"normal_week": "2026-11-11"}),
    ("/api/v1/reports/coverage.xlsx", "week_start", {"at": "any"}),
])
def test_dates_must_be_real_calendar_days_in_range(client, path, field, params, value):
    _refused(client.get(path, query_string={**params, field: value}), field)


@pytest.mark.parametrize("params, field", [
    ({"lat": "30_6", "lon": "104.06"}, "lat"),
    ({"lat": "30.66", "lon": "1_04"}, "lon"),
    ({"lat": "0x1e", "lon": "104.06"}, "lat"),
    ({"lat": "30.66", "lon": "104.06", "k": "1_0"}, "k"),
    ({"lat": "30.66", "lon": "104.06", "k": "5.5"}, "k"),
    ({"lat": "30.66", "lon": "104.06", "max_distance_m": "1e3_0"}, "max_distance_m"),
    ({"lat": "3" * 5000, "lon": "104.06"}, "lat"),
])
def test_numbers_are_plain_decimals(client, params, field):
    error = _refused(client.get("/api/v1/stations/nearest", query_string=params), field)
    assert len(error["message"]) < 400, "the refusal must not echo a long input back"


def test_numbers_in_the_usual_forms_still_work(client):
    for lat, lon in (("30.66", "104.06"), ("+30.66", "104.060"), ("3.066e1", "104"), (" 30.66", "104.06 ")):
        r = client.get("/api/v1/stations/nearest", query_string={"lat": lat, "lon": lon, "k": "3"})
        assert r.status_code == 200, (lat, lon, r.get_json())


@pytest.mark.parametrize("body, field", [
    ({"k": True}, "k"),
    ({"k": "3"}, "k"),
    ({"k": 3.5}, "k"),
    ({"k": 3, "radius_m": "500"}, "radius_m"),
    ({"k": 3, "radius_m": True}, "radius_m"),
])
def test_siting_body_types_are_strict(client, body, field):
    _refused(client.post("/api/v1/siting", json=body), field)


def test_candidate_coordinates_given_as_text_are_bad_rows(client):
    sites = [{"lon": 104.07, "lat": 30.66}, {"lon": "104.08", "lat": "30.67"}]
    r = client.post("/api/v1/siting", json={"k": 1, "at": "any", "candidates": sites})
    error = _refused(r, "candidates")
    assert error["code"] == "invalid_rows" and [row["row"] for row in error["rows"]] == [2, 2]


@pytest.mark.parametrize("path, query, field", [
    ("/api/v1/stations/nearest", "lat=30.6586&lon=104.0648&amenities=microwave&amenities=toilet", "amenities"),
    ("/api/v1/stations/nearest", "lat=30.6586&lat=30.7&lon=104.0648", "lat"),
    ("/api/v1/coverage", "at=2026-12-03T09:00&at=2026-12-03T21:00", "at"),
    ("/api/v1/coverage/week", "radius_m=500&radius_m=900", "radius_m"),
    ("/api/v1/reports/coverage.csv", "at=a&at=b", "at"),
    ("/api/v1/stations", "district=510104&district=510105", "district"),
])
def test_a_parameter_given_twice_is_refused_not_guessed(client, path, query, field):
    error = _refused(client.get(f"{path}?{query}"), field)
    assert "more than once" in error["message"]
