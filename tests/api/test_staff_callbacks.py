"""The staff workspace's callbacks are an API too: a signed-in station account that forges requests (another
station's id, wrong types, huge values) gets no 500, never reaches the last resort, and changes nothing."""
from __future__ import annotations

import json
import logging

import pytest

from layers.staff.accounts import create_account
from mapdata.store import GeoPackageStore
from tests.api.test_forged_callbacks import HOSTILE, _payload, _server_callbacks
from tests.helpers import layer_rows

PASSWORD = "correct horse battery"


@pytest.fixture()
def app(private_app):
    return private_app


@pytest.fixture()
def signed_in(app, writable_db):
    store = GeoPackageStore(writable_db)
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
    values = {"staff-loaded": loaded, **fields}
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
    assert store.read("stations").set_index("id").loc[mine["id"], "phone"] == "028-66666666"


def test_without_a_session_the_workspace_sends_to_sign_in(app):
    http = app.server.test_client()
    r = http.get("/staff?lang=en")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=%2Fstaff")
