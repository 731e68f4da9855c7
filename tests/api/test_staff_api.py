"""The staff API as scripts and the signed-in page use it: auth, areas, versions, history, revert, changes.

Every refusal is checked against the store: its rows and its audit log are unchanged.
"""
from __future__ import annotations

import pytest

from layers.staff.accounts import create_account, issue_token
from mapdata.store import open_store
from tests.helpers import layer_rows

PASSWORD = "correct horse battery"


@pytest.fixture()
def app(private_app):
    return private_app


@pytest.fixture()
def store(app, writable_db):
    return open_store(writable_db)


@pytest.fixture()
def http(app):
    return app.server.test_client()


@pytest.fixture()
def stations(store):
    return store.read("stations")


@pytest.fixture()
def tokens(store, stations):
    first = stations.iloc[0]
    create_account(store, name="staff-a", role="station", password=PASSWORD, stations=[first["id"]], by="test")
    create_account(store, name="city", role="city", password=PASSWORD, by="test")
    create_account(store, name="district-x", role="district", password=PASSWORD, by="test",
                   adcode=int(stations[stations["adcode"] != first["adcode"]].iloc[0]["adcode"]))
    return {name: issue_token(store, name, "test", by="test") for name in ("staff-a", "city", "district-x")}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def snapshot(store):
    return layer_rows(store), len(store.audit_log())


def test_a_change_needs_credentials_the_area_and_the_version(http, store, stations, tokens):
    sid, other = stations.iloc[0]["id"], stations.iloc[1]["id"]
    before = snapshot(store)
    r = http.patch(f"/api/v1/stations/{sid}", json={"phone": "028-12345678"}, headers={"If-Match": '"1"'})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer")
    r = http.patch(f"/api/v1/stations/{sid}", json={"phone": "028-12345678"},
                   headers={**bearer("nx_not-a-token"), "If-Match": '"1"'})
    assert r.status_code == 401
    r = http.patch(f"/api/v1/stations/{other}", json={"phone": "028-12345678"},
                   headers={**bearer(tokens["staff-a"]), "If-Match": '"1"'})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"
    r = http.patch(f"/api/v1/stations/{sid}", json={"phone": "028-12345678"}, headers=bearer(tokens["staff-a"]))
    assert r.status_code == 428 and r.get_json()["error"]["field"] == "If-Match"
    r = http.patch(f"/api/v1/stations/{sid}", json={"phone": "call me"},
                   headers={**bearer(tokens["staff-a"]), "If-Match": '"1"'})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "phone"
    r = http.patch(f"/api/v1/stations/{sid}", json={"version": 5},
                   headers={**bearer(tokens["staff-a"]), "If-Match": '"1"'})
    assert r.status_code == 400
    r = http.patch("/api/v1/stations/st-9999", json={"phone": "028-1234567"},
                   headers={**bearer(tokens["city"]), "If-Match": '"1"'})
    assert r.status_code == 404
    assert snapshot(store) == before  # nothing written by any refusal


def test_a_change_is_written_with_its_etag_and_the_rider_sees_it(http, store, stations, tokens):
    sid = stations.iloc[0]["id"]
    etag = http.get(f"/api/v1/stations/{sid}").headers["ETag"]
    r = http.patch(f"/api/v1/stations/{sid}", json={"phone": "028-87654321", "status_note": None},
                   headers={**bearer(tokens["staff-a"]), "If-Match": etag})
    assert r.status_code == 200, r.get_json()
    assert r.headers["ETag"] == '"2"'
    assert [c["field"] for c in r.get_json()["changes"]] == ["phone"]
    public = http.get(f"/api/v1/stations/{sid}").get_json()
    assert public["properties"]["phone"] == "028-87654321" and public["properties"]["version"] == 2
    log = store.audit_log("stations", sid)
    assert list(log["user"]) == ["staff-a"]


def test_a_stale_version_is_412_with_the_current_values(http, store, stations, tokens):
    sid = stations.iloc[0]["id"]
    assert http.patch(f"/api/v1/stations/{sid}", json={"capacity": 3},
                      headers={**bearer(tokens["city"]), "If-Match": '"1"'}).status_code == 200
    r = http.patch(f"/api/v1/stations/{sid}", json={"capacity": 4},
                   headers={**bearer(tokens["staff-a"]), "If-Match": '"1"'})
    assert r.status_code == 412 and r.headers["ETag"] == '"2"'
    error = r.get_json()["error"]
    assert error["current"]["capacity"] == 3 and error["theirs"] == [
        {"field": "capacity", "before": int(stations.iloc[0]["capacity"]), "after": 3}]
    assert store.read("stations").set_index("id").loc[sid, "capacity"] == 3


def test_history_revert_and_the_feed_of_changes(http, store, stations, tokens):
    sid = stations.iloc[0]["id"]
    old = stations.iloc[0]["address"]
    h = bearer(tokens["staff-a"])
    http.patch(f"/api/v1/stations/{sid}", json={"address": "一环路 1 号"}, headers={**h, "If-Match": '"1"'})
    http.patch(f"/api/v1/stations/{sid}", json={"address": "二环路 2 号"}, headers={**h, "If-Match": '"2"'})
    history = http.get(f"/api/v1/stations/{sid}/history", headers=h).get_json()["entries"]
    assert [e["changes"][0]["after"] for e in history] == ["一环路 1 号", "二环路 2 号"]
    r = http.post(f"/api/v1/stations/{sid}/revert", json={"seq": 0}, headers=h)
    assert r.status_code == 200 and r.get_json()["station"]["address"] == old
    assert http.get(f"/api/v1/stations/{sid}/history", headers=h).get_json()["entries"][-1]["action"] == "revert"
    feed = http.get("/api/v1/changes", headers=bearer(tokens["city"])).get_json()
    assert [c["station"] for c in feed["changes"]] == [sid] * 3
    other = http.get("/api/v1/changes", headers=bearer(tokens["district-x"])).get_json()
    assert other["count"] == 0  # another district sees none of them
    assert http.get(f"/api/v1/stations/{sid}/history", headers=bearer(tokens["district-x"])).status_code == 403
    assert http.get("/api/v1/changes").status_code == 401


def test_create_confirm_and_retire(http, store, stations, tokens):
    admin = bearer(tokens["district-x"])
    inside = stations[stations["adcode"] != stations.iloc[0]["adcode"]].iloc[0]
    body = {"name": "新建驿站", "address": "测试街 8 号", "operator": "街道办", "opening_hours": "Mo-Su 08:00-20:00",
            "amenities": ["drinking_water", "charging"],
            "position": {"lon": inside.geometry.x + 0.0005, "lat": inside.geometry.y}}
    assert http.post("/api/v1/stations", json=body, headers=bearer(tokens["staff-a"])).status_code == 403
    r = http.post("/api/v1/stations", json=body, headers=admin)
    assert r.status_code == 201, r.get_json()
    new_id = r.get_json()["station"]["id"]
    assert r.headers["Location"].endswith(new_id)
    assert http.get(f"/api/v1/stations/{new_id}").status_code == 200
    c = http.post(f"/api/v1/stations/{new_id}/confirm", headers=admin)
    assert c.status_code == 200 and c.get_json()["confirmed_by"] == "district-x"
    assert http.delete(f"/api/v1/stations/{new_id}", headers=bearer(tokens["staff-a"])).status_code == 403
    assert http.delete(f"/api/v1/stations/{new_id}", headers=admin).status_code == 200
    assert http.get(f"/api/v1/stations/{new_id}").status_code == 404  # hidden from riders
    assert [e["action"] for e in http.get(f"/api/v1/stations/{new_id}/history", headers=admin).get_json()["entries"]] \
        == ["insert", "confirm", "retire"]


def _login(http, name, password=PASSWORD, address="10.0.0.1"):
    return http.post("/login", data={"name": name, "password": password}, environ_base={"REMOTE_ADDR": address})


def test_a_signed_in_page_writes_with_its_csrf_token_only(http, store, stations, tokens, app):
    from flask import json

    sid = stations.iloc[0]["id"]
    r = _login(http, "staff-a")
    assert r.status_code == 303 and r.headers["Location"] == "/staff"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with http.session_transaction() as sess:
        csrf = sess["csrf"]
    assert http.patch(f"/api/v1/stations/{sid}", json={"capacity": 9}, headers={"If-Match": '"1"'}).status_code == 403
    r = http.patch(f"/api/v1/stations/{sid}", data=json.dumps({"capacity": 9}), content_type="application/json",
                   headers={"If-Match": '"1"', "X-CSRF-Token": csrf, "Origin": "https://evil.example"})
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "cross_origin"
    r = http.patch(f"/api/v1/stations/{sid}", json={"capacity": 9}, headers={"If-Match": '"1"', "X-CSRF-Token": csrf})
    assert r.status_code == 200
    assert http.get(f"/api/v1/stations/{sid}/history").status_code == 200  # a read needs no token
    http.post("/logout", data={"csrf": csrf})
    assert http.get(f"/api/v1/stations/{sid}/history").status_code == 401  # logout ends the session
    actions = [e["action"] for e in store.accounts.events("staff-a")]
    assert actions[-2:] == ["login", "logout"]


def test_failed_logins_are_throttled_per_account_and_audited(http, store, tokens):
    for i in range(5):
        r = _login(http, "city", "wrong password!", address=f"10.1.0.{i}")
        assert "error=wrong" in r.headers["Location"]
    r = _login(http, "city", PASSWORD, address="10.1.0.99")
    assert "error=throttled" in r.headers["Location"]  # even the right password waits now
    r = _login(http, "staff-a", PASSWORD, address="10.1.0.98")
    assert r.headers["Location"] == "/staff"  # another account is not locked out
    failed = [e for e in store.accounts.events("city") if e["action"] == "login_failed"]
    assert len(failed) == 5


def test_a_disabled_account_or_a_new_password_ends_the_session(http, store, tokens, stations):
    from layers.staff.accounts import disable, set_password

    sid = stations.iloc[0]["id"]
    _login(http, "staff-a", address="10.2.0.1")
    assert http.get(f"/api/v1/stations/{sid}/history").status_code == 200
    set_password(store, "staff-a", "a brand new password", by="test")
    assert http.get(f"/api/v1/stations/{sid}/history").status_code == 401
    _login(http, "staff-a", "a brand new password", address="10.2.0.2")
    assert http.get(f"/api/v1/stations/{sid}/history").status_code == 200
    disable(store, "staff-a", by="test")
    assert http.get(f"/api/v1/stations/{sid}/history").status_code == 401
    assert http.get(f"/api/v1/stations/{sid}/history", headers=bearer(tokens["staff-a"])).status_code == 401


def test_login_redirects_only_to_this_site(http, tokens):
    for target, expected in [("/staff?lang=en", "/staff?lang=en"), ("https://evil.example/", "/staff"),
                             ("//evil.example", "/staff"), ("/\\evil", "/staff")]:
        r = http.post("/login", data={"name": "city", "password": PASSWORD, "next": target},
                      environ_base={"REMOTE_ADDR": "10.3.0.1"})
        assert r.headers["Location"] == expected
