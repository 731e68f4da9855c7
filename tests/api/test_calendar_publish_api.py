"""The city admin publishes next year's holiday notice over the API; the riders' answers follow at once."""
from __future__ import annotations

import pytest

from layers.staff.accounts import create_account, issue_token
from mapdata.store import Change, GeoPackageStore
from mapdata.store.calendar import CALENDAR_LAYER
from tests.api.test_calendar_api import OFFICE_HOURS

PASSWORD = "correct horse battery"
#: A made-up notice for 2027: New Year's Day moved to Monday 4 January, made up by working Saturday 9 January.
NOTICE = {"published_on": "2026-11-20", "days": [
    {"day": "2027-01-04", "kind": "holiday", "holiday": "元旦"},
    {"day": "2027-01-09", "kind": "makeup_workday", "holiday": "New Year's Day"},
]}


@pytest.fixture()
def setup(private_app):
    from layers.services import services_of

    store: GeoPackageStore = services_of(private_app.server).store
    store.apply_changes("stations", [Change("st-0100", {"opening_hours": OFFICE_HOURS})], user="test:holiday")
    create_account(store, name="city", role="city", password=PASSWORD, by="test")
    stations = store.read("stations")
    create_account(store, name="street", role="street", password=PASSWORD, by="test",
                   street=stations.iloc[0]["street"], adcode=int(stations.iloc[0]["adcode"]))
    tokens = {name: issue_token(store, name, "test", by="test") for name in ("city", "street")}
    return private_app.server.test_client(), store, tokens, stations.set_index("id").loc["st-0100"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def open_at(client, row, at) -> bool:
    body = client.get("/api/v1/stations/nearest", query_string={
        "lat": row.geometry.y, "lon": row.geometry.x, "k": 1, "at": at}).get_json()
    return body["results"][0]["id"] == "st-0100" and body["results"][0]["open"], body["holiday_schedule"]


def test_a_published_notice_replaces_the_statutory_days_at_once(setup):
    client, store, tokens, row = setup
    before = client.get("/api/v1/calendar/2027").get_json()
    assert before["schedule"] == "statutory" and before["published_on"] is None
    assert {"day": "2027-01-01", "kind": "holiday", "holiday": "New Year's Day", "holiday_zh": "元旦"} in before["days"]
    assert open_at(client, row, "2027-01-01T10:00") == (False, "statutory")

    resp = client.put("/api/v1/calendar/2027", json=NOTICE, headers=bearer(tokens["city"]))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    published = resp.get_json()
    assert published["schedule"] == "notice" and published["imported_by"] == "city"
    assert published["published_on"] == "2026-11-20"
    assert [d["day"] for d in published["days"]] == ["2027-01-04", "2027-01-09"]
    assert client.get("/api/v1/calendar/2027").get_json() == published
    # the riders' answers: 1 January is an ordinary Friday now, Monday 4 January the holiday,
    # and Saturday 9 January a working day the office opens on
    assert open_at(client, row, "2027-01-01T10:00") == (True, "notice")
    assert open_at(client, row, "2027-01-04T10:00") == (False, "notice")
    assert open_at(client, row, "2027-01-09T10:00") == (True, "notice")
    # audited under the admin's name
    entry = store.audit_log(CALENDAR_LAYER, "2027").iloc[-1]
    assert entry["user"] == "city" and entry["action"] == "import"


@pytest.mark.parametrize("body, field", [
    ({"days": [{"day": "2027-01-04", "kind": "holiday", "holiday": "元旦"},
               {"day": "2027-01-06", "kind": "makeup_workday", "holiday": "元旦"}]}, "days[1].kind"),
    ({"days": [{"day": "2028-01-03", "kind": "holiday", "holiday": "元旦"}]}, "days[0].day"),
    ({"days": [{"day": "2027-01-04", "kind": "holiday", "holiday": "圣诞节"}]}, "days[0].holiday"),
    ({"days": [{"day": "2027-01-04", "kind": "day off", "holiday": "元旦"}]}, "days"),
    ({"year": 2028, "days": [{"day": "2027-01-04", "kind": "holiday", "holiday": "元旦"}]}, "year"),
    ({"days": []}, "days"),
    ({"published_on": "yesterday", "days": [{"day": "2027-01-04", "kind": "holiday", "holiday": "元旦"}]},
     "published_on"),
])
def test_a_wrong_notice_is_refused_naming_the_field_and_nothing_changes(setup, body, field):
    client, _, tokens, row = setup
    resp = client.put("/api/v1/calendar/2027", json=body, headers=bearer(tokens["city"]))
    assert resp.status_code == 400, resp.get_data(as_text=True)
    error = resp.get_json()["error"]
    assert error["field"] == field, error
    assert client.get("/api/v1/calendar/2027").get_json()["schedule"] == "statutory"
    assert open_at(client, row, "2027-01-01T10:00") == (False, "statutory")


def test_only_a_city_admin_publishes(setup):
    client, _, tokens, _ = setup
    assert client.put("/api/v1/calendar/2027", json=NOTICE).status_code == 401
    resp = client.put("/api/v1/calendar/2027", json=NOTICE, headers=bearer(tokens["street"]))
    assert resp.status_code == 403 and resp.get_json()["error"]["field"] == "role"
    assert client.get("/api/v1/calendar/2027").get_json()["schedule"] == "statutory"


def test_a_year_is_checked(client):
    resp = client.get("/api/v1/calendar/20270")
    assert resp.status_code == 400 and resp.get_json()["error"]["field"] == "year"
    published = client.get("/api/v1/calendar/2026").get_json()
    assert published["schedule"] == "notice" and published["imported_by"] == "chinesecalendar"
    assert any(d["kind"] == "makeup_workday" for d in published["days"])
