"""Two app servers on one store agree (issue 12): failed logins counted on one throttle the other, and a
planner's upload made through one is answered by its token on the other — in this process and in another
one (as gunicorn's workers are)."""
from __future__ import annotations

import base64
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from layers.services import services_of
from layers.staff.accounts import create_account
from mapdata import clock
from tests.api.test_forged_callbacks import _payload, _server_callbacks
from tests.helpers import AT, TEST_NOW, coverage_csv

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
#: Another process with its own app on the same file, at the tests' frozen instant: it signs in as told and
#: prints where each login sent it.
OTHER_PROCESS = """
import datetime as dt, json, sys
import app as app_module
from mapdata import clock
from mapdata.config import Settings
db, at, logins = sys.argv[1], dt.datetime.fromisoformat(sys.argv[2]), json.loads(sys.argv[3])
with clock.frozen(at):
    http = app_module.create_app(Settings(db_path=db, secret_key="test", tile_source="none")).server.test_client()
    print(json.dumps([http.post("/login", data={"name": n, "password": p}, environ_base={"REMOTE_ADDR": a})
                      .headers["Location"] for n, p, a in logins]))
"""


def _logins_in_another_process(db, logins, at=TEST_NOW) -> list[str]:
    done = subprocess.run([sys.executable, "-c", OTHER_PROCESS, str(db), at.isoformat(), json.dumps(logins)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture()
def two_servers(private_app, writable_db):
    """App A (the session's app on a private copy of the data) and app B, another app made on the same file."""
    import app as app_module
    from layers.common.calendar import use_calendar
    from mapdata.config import Settings

    other = app_module.create_app(Settings(db_path=writable_db, secret_key="test", tile_source="none"))
    try:
        yield private_app, other
    finally:
        use_calendar(services_of(private_app.server).store.calendar)


@pytest.fixture()
def accounts(two_servers):
    store = services_of(two_servers[0].server).store
    for name in ("city", "other"):
        create_account(store, name=name, role="city", password=PASSWORD, by="test")


def _login(http, name, password, address):
    r = http.post("/login", data={"name": name, "password": password}, environ_base={"REMOTE_ADDR": address})
    assert r.status_code == 303
    return r.headers["Location"]


def test_failed_logins_on_one_server_throttle_the_name_on_the_other(two_servers, accounts):
    a, b = (app.server.test_client() for app in two_servers)
    for i in range(5):
        assert "error=wrong" in _login(a, "city", "not the password", f"10.7.0.{i}")
    assert "error=throttled" in _login(b, "city", "still not it", "10.7.1.1")
    assert "error=throttled" in _login(b, "city", PASSWORD, "10.7.1.2")  # the right password waits too
    assert "error=throttled" in _login(a, "city", PASSWORD, "10.7.1.3")
    assert _login(b, "other", PASSWORD, "10.7.1.4") == "/staff"  # another account is not locked out
    with clock.frozen(TEST_NOW + dt.timedelta(minutes=14)):
        assert "error=throttled" in _login(b, "city", PASSWORD, "10.7.1.5")
    with clock.frozen(TEST_NOW + dt.timedelta(minutes=16)):  # the window has passed
        assert _login(b, "city", PASSWORD, "10.7.1.6") == "/staff"
        assert _login(a, "city", PASSWORD, "10.7.1.7") == "/staff"


def test_failed_logins_in_this_process_throttle_the_name_in_another(two_servers, accounts, writable_db):
    a = two_servers[0].server.test_client()
    for i in range(5):
        assert "error=wrong" in _login(a, "city", "not the password", f"10.9.0.{i}")
    later = TEST_NOW + dt.timedelta(minutes=16)
    there = _logins_in_another_process(writable_db, [["city", PASSWORD, "10.9.1.1"], ["other", PASSWORD, "10.9.1.2"]])
    assert "error=throttled" in there[0] and there[1] == "/staff"
    # and the other way round: five failures there, then the name waits here
    there = _logins_in_another_process(writable_db, [["other", "wrong", f"10.9.2.{i}"] for i in range(5)], later)
    assert all("error=wrong" in where for where in there)
    with clock.frozen(later):
        assert "error=throttled" in _login(a, "other", PASSWORD, "10.9.3.1")
        assert _login(a, "city", PASSWORD, "10.9.3.2") == "/staff"  # its window has passed


def test_a_success_costs_nothing_and_an_address_is_limited_across_servers(two_servers, accounts):
    a, b = (app.server.test_client() for app in two_servers)
    for _ in range(6):  # more successes than failures allowed
        assert _login(a, "city", PASSWORD, "10.8.0.1") == "/staff"
    for _ in range(4):
        assert "error=wrong" in _login(b, "city", "wrong", "10.8.0.1")
    assert _login(a, "city", PASSWORD, "10.8.0.1") == "/staff"  # 4 failures of 5: still in
    # one address guessing at many names: 20 failures in the window, over both servers
    for i in range(16):
        assert "error=wrong" in _login(a if i % 2 else b, f"guess-{i}", "wrong", "10.8.0.1")
    assert "error=throttled" in _login(a, "other", PASSWORD, "10.8.0.1")
    assert "error=throttled" in _login(b, "other", PASSWORD, "10.8.0.1")
    assert _login(b, "other", PASSWORD, "10.8.0.2") == "/staff"  # another address is not


def _upload(app, output: str, body: str, filename: str):
    """The planner page's upload as the browser sends it: the file as a data URL to the upload callback."""
    key, spec = next((k, s) for k, s in _server_callbacks(app) if k.startswith(f"..{output}.data..."))
    url = "data:text/csv;base64," + base64.b64encode(body.encode()).decode()
    by_id = {"contents": url, "filename": filename, "value": "wgs84"}
    state = [by_id.get(d["property"]) if d["property"] in ("filename", "value") else {"lang": "en"}
             if d["property"] == "data" and "state" in d["id"] else None for d in spec["state"]]
    r = app.server.test_client().post("/_dash-update-component", json=_payload(key, spec, [url, None], state))
    assert r.status_code == 200, r.data[:300]
    return r.get_json()["response"][output]["data"]


def test_an_upload_on_one_server_is_answered_by_its_token_on_the_other(two_servers):
    a, b = two_servers
    model = services_of(a.server).planning.model()
    pick = np.linspace(0, len(model.lon) - 1, 40).astype(int)
    demand = _upload(a, "planner-demand", coverage_csv(model.lon[pick], model.lat[pick], np.full(40, 3.0)),
                     "mine.csv")
    assert demand["rows"] == 40
    sites = _upload(a, "planner-cands", "lon,lat,name\n" + "".join(
        f"{x:.6f},{y:.6f},site {i}\n" for i, (x, y) in enumerate(zip(model.lon[pick[:12]], model.lat[pick[:12]]))),
        "sites.csv")
    assert sites["rows"] == 12
    query = {"demand": demand["token"], "candidates": sites["token"], "k": 3, "radius_m": 500, "at": AT, "lang": "en"}
    answers = []
    for app in (a, b):
        http = app.server.test_client()
        coverage = http.get("/api/v1/reports/coverage.csv", query_string=query)
        picked = http.get("/api/v1/reports/sites.csv", query_string=query)
        assert coverage.status_code == 200 and picked.status_code == 200, (coverage.data[:300], picked.data[:300])
        answers.append((coverage.data, picked.data))
    assert answers[0] == answers[1]
    table = pd.read_csv(io.BytesIO(answers[1][0]), encoding="utf-8-sig")
    assert table["Demand (weight)"].iloc[-1] == pytest.approx(120)  # the upload's 40 points of weight 3
    chosen = pd.read_csv(io.BytesIO(answers[1][1]), encoding="utf-8-sig")
    assert len(chosen) == 3 and set(chosen["Candidate source"]) == {"uploaded site"}  # the planner's own sites
    assert all(" · site " in name for name in chosen["Recommended site"])
