"""The staff workspace's callbacks are an API too: a signed-in station account that forges requests (another
station's id, wrong types, huge values) gets no 500, never reaches the last resort, and changes nothing."""
from __future__ import annotations

import json
import logging

import pytest

from layers.staff.accounts import create_account
from mapdata.store import open_store
from tests.api.test_forged_callbacks import HOSTILE, _payload, _server_callbacks
from tests.helpers import layer_rows

PASSWORD = "correct horse battery"


@pytest.fixture()
def app(private_app):
    return private_app


@pytest.fixture()
def signed_in(app, writable_db):
    store = open_store(writable_db)
    stations = store.read("stations")
    mine, other = stations.iloc[0], stations.iloc[1]
    create_account(store, name="staff-a", role="station", password=PASSWORD, stations=[mine["id"]], by="test")
    http = app.server.test_client()
    assert http.post("/login", data={"name": "staff-a", "password": PASSWORD}).status_code == 303
    return http, store, mine, other


def _state(store):
    return layer_rows(store), len(store.audit_log("stations"))


def _text(response) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def _staff_callbacks(app):
    return [(k, s) for k, s in _server_callbacks(app) if "staff-" in k]


def test_a_signed_in_forged_sweep_gets_no_500_and_writes_nothing(app, signed_in, caplog):
    http, store, _, _ = signed_in
    caplog.set_level(logging.ERROR, logger="nuanxin.callbacks")
    before = _state(store)
    callbacks = _staff_callbacks(app)
    assert len(callbacks) >= 9
    for key, spec in callbacks:
        n_in, n_state = len(spec["inputs"]), len(spec["state"])
        for v in HOSTILE:
            r = http.post("/_dash-update-component", json=_payload(key, spec, [v] * n_in, [v] * n_state))
            assert r.status_code in (200, 204), (key, v, r.status_code, r.data[:300])
    assert [r.getMessage()[:200] for r in caplog.records if r.name == "nuanxin.callbacks"] == []
    assert _state(store) == before


def _save_request(app, loaded, fields):
    spec = next((k, s) for k, s in _server_callbacks(app) if "staff-message.children" in k
                and any(d["id"] == "staff-save" for d in s["inputs"]))
    key, spec = spec
    from callbacks.staff import FIELD_IDS, _form
    from pages.staff.views import fingerprint

    values = {"staff-loaded": loaded, **fields}
    # the save writes what the review showed: send the fingerprint a review of these values gives
    form = _form([values.get(i) for i in FIELD_IDS], None, loaded)
    values["staff-reviewed"] = fingerprint(form, loaded)
    state = [values.get(d["id"]) for d in spec["state"]]
    return _payload(key, spec, [1], state)


def test_another_station_cannot_be_saved_confirmed_or_reverted_by_a_forged_callback(app, signed_in):
    http, store, mine, other = signed_in
    before = _state(store)
    forged = {"id": str(other["id"]), "version": int(other["version"]),
              "values": {"name": other["name"], "phone": other["phone"] or ""}}
    fields = {"staff-name": "被篡改的名字", "staff-phone": "028-66666666"}
    r = http.post("/_dash-update-component", json=_save_request(app, forged, fields))
    assert r.status_code == 200 and "无权修改" in _text(r)
    for key, spec in _staff_callbacks(app):
        if any(d["id"] == "staff-confirm" for d in spec["inputs"]):
            payload = _payload(key, spec, [1], [forged if d["id"] == "staff-loaded" else None for d in spec["state"]])
            assert http.post("/_dash-update-component", json=payload).status_code == 200
    assert _state(store) == before
    # and the same request for the account's own station is written
    own = {"id": str(mine["id"]), "version": int(mine["version"]), "values": {"phone": mine["phone"] or ""}}
    r = http.post("/_dash-update-component", json=_save_request(app, own, {"staff-phone": "028-66666666"}))
    assert "已保存" in _text(r)
    # without a review the same request only shows what it would write
    unreviewed = _save_request(app, {**own, "version": 2, "values": {"phone": "028-66666666"}},
                               {"staff-phone": "028-77777777"})
    for entry in unreviewed["state"]:
        if entry["id"] == "staff-reviewed":
            entry["value"] = None
    answer = _text(http.post("/_dash-update-component", json=unreviewed))
    assert "请核对" in answer and "028-77777777" in answer
    assert store.read("stations").set_index("id").loc[mine["id"], "phone"] == "028-66666666"
    assert store.read("stations").set_index("id").loc[mine["id"], "phone"] == "028-66666666"


def test_without_a_session_the_workspace_sends_to_sign_in(app):
    http = app.server.test_client()
    r = http.get("/staff?lang=en")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=%2Fstaff")


def test_the_weekly_hours_form_writes_the_osm_text(app, signed_in):
    http, _, _, _ = signed_in
    key, spec = next((k, s) for k, s in _server_callbacks(app) if "staff-hours-form-note" in k)
    times = ["08:00", "12:00", "14:00", "20:00"] * 5 + ["09:00", "18:00", "", ""] * 2
    hours = [{"id": {"type": "staff-hours", "day": d, "slot": k}, "property": "value", "value": times[4 * d + k]}
             for d in range(7) for k in range(4)]
    body = {"output": key, "outputs": [{"id": "staff-hours-text", "property": "value"},
                                       {"id": "staff-hours-form-note", "property": "children"}],
            "inputs": [hours, {"id": "staff-ph", "property": "value", "value": "off"}],
            "state": [{"id": "staff-hours-text", "property": "value", "value": "24/7"},
                      {"id": "staff-state", "property": "data", "value": {"lang": "zh"}}],
            "changedPropIds": ["staff-ph.value"]}
    r = http.post("/_dash-update-component", json=body)
    answer = r.get_json()["response"]
    assert answer["staff-hours-text"]["value"] == "Mo-Fr 08:00-12:00,14:00-20:00; Sa,Su 09:00-18:00; PH off"
    times[1] = "07:00"  # Monday's first period ends before it starts
    hours[1]["value"] = "07:00"
    r = http.post("/_dash-update-component", json=body)
    note = json.dumps(r.get_json()["response"], ensure_ascii=False)
    assert "周一第 1 段" in note and "staff-hours-text" not in r.get_json()["response"]


def test_a_district_admin_manages_the_accounts_of_its_district_only(app, writable_db):
    store = open_store(writable_db)
    stations = store.read("stations")
    adcode = int(stations.iloc[0]["adcode"])
    mine = stations[stations["adcode"] == adcode].iloc[0]["id"]
    theirs = stations[stations["adcode"] != adcode].iloc[0]["id"]
    create_account(store, name="qu-admin", role="district", password=PASSWORD, adcode=adcode, by="test")
    create_account(store, name="the-city", role="city", password=PASSWORD, by="test")
    http = app.server.test_client()
    assert http.post("/login", data={"name": "qu-admin", "password": PASSWORD}).status_code == 303
    key, spec = next((k, s) for k, s in _server_callbacks(app) if "staff-account-message.children" in k
                     and any(d["id"] == "staff-account-create" for d in s["inputs"]))

    def create(name, role, station_ids):
        values = {"staff-account-name": name, "staff-account-role": role, "staff-account-stations": station_ids,
                  "staff-state": {"lang": "zh"}}
        return _text(http.post("/_dash-update-component",
                               json=_payload(key, spec, [1], [values.get(d["id"]) for d in spec["state"]])))

    assert "已创建 zhan-1" in create("zhan-1", "station", mine)
    assert "无权" in create("zhan-2", "station", theirs)  # a station of another district
    assert "无权" in create("qu-2", "district", "")  # not its own rank
    assert [r.name for r in store.accounts.list()] == ["qu-admin", "the-city", "zhan-1"]
    dkey, dspec = next((k, s) for k, s in _server_callbacks(app) if "staff-account-message.children" in k
                       and any("account-disable" in str(d["id"]) for d in s["inputs"]))
    forged = {"output": dkey, "outputs": _payload(dkey, dspec, [1], [None])["outputs"],
              "inputs": [[{"id": {"type": "staff-account-disable", "name": "the-city"}, "property": "n_clicks",
                           "value": 1}]], "state": [{"id": "staff-state", "property": "data", "value": {}}],
              "changedPropIds": ['{"name":"the-city","type":"staff-account-disable"}.n_clicks']}
    assert "无权" in _text(http.post("/_dash-update-component", json=forged))
    assert not store.accounts.get("the-city").disabled
    forged["inputs"][0][0]["id"]["name"] = "zhan-1"
    forged["changedPropIds"] = ['{"name":"zhan-1","type":"staff-account-disable"}.n_clicks']
    assert "已停用 zhan-1" in _text(http.post("/_dash-update-component", json=forged))
    assert store.accounts.get("zhan-1").disabled


def test_a_district_admin_creates_and_retires_stations_on_the_page_and_a_street_worker_cannot(app, writable_db):
    store = open_store(writable_db)
    stations = store.read("stations")
    first = stations.iloc[0]
    create_account(store, name="qu-a", role="district", password=PASSWORD, adcode=int(first["adcode"]), by="test")
    create_account(store, name="jie-a", role="street", password=PASSWORD, street=first["street"],
                   adcode=int(first["adcode"]), by="test")
    key, spec = next((k, s) for k, s in _server_callbacks(app) if "staff-create-message" in k)
    values = {"staff-create-name": "新驿站", "staff-create-address": "测试路 9 号", "staff-create-operator": "街道",
              "staff-create-hours": "Mo-Su 09:00-21:00",
              "staff-create-position": {"lon": first.geometry.x + 0.0005, "lat": first.geometry.y},
              "staff-state": {"lang": "zh"}}
    payload = _payload(key, spec, [1], [values.get(d["id"]) for d in spec["state"]])
    street = app.server.test_client()
    street.post("/login", data={"name": "jie-a", "password": PASSWORD})
    assert "无权" in _text(street.post("/_dash-update-component", json=payload))
    admin = app.server.test_client()
    admin.post("/login", data={"name": "qu-a", "password": PASSWORD})
    assert "已创建" in _text(admin.post("/_dash-update-component", json=payload))
    new = store.read("stations").iloc[-1]
    assert new["name"] == "新驿站" and new["updated_by"] == "qu-a"
    rkey, rspec = next((k, s) for k, s in _server_callbacks(app) if "staff-message" in k
                       and any(d["id"] == "staff-retire" for d in s["inputs"]))
    loaded = {"id": str(new["id"]), "version": 1, "values": {}}
    retire = _payload(rkey, rspec, [1], [loaded if d["id"] == "staff-loaded" else {"lang": "zh"}
                                         for d in rspec["state"]])
    assert "无权" in _text(street.post("/_dash-update-component", json=retire))
    assert "已撤销" in _text(admin.post("/_dash-update-component", json=retire))
    import pandas as pd

    assert pd.notna(store.read("stations").set_index("id").loc[new["id"], "retired_at"])
