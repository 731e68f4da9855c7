"""Every worker answers an edit made on any one of them (issue 12), and what is derived from the store (the
station finder, the road network, the coverage model) is rebuilt only when the data changed, never per request.

"Every worker" is checked in this process (a second app on the same file) and in another process (as
gunicorn's workers are, with no module state in common): an edit made through the staff API here is
answered by the other process's nearest-station query.
"""
from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path

import pytest

import layers.planning.context as context_module
import layers.rider.catalogue as catalogue_module
from layers.services import services_of
from layers.staff.accounts import create_account, issue_token
from tests.helpers import AT

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]
#: Hours under which the edited station is open at the tests' instant (15:00), and hours under which it is not.
OPEN_HOURS, SHUT_HOURS = "Mo-Su 08:00-20:00", "Mo-Su 18:00-20:00"
#: Another process with its own app on the same file: it asks for the station nearest to a point, open at a
#: given instant, again and again, and prints each answer with the (system-wide) monotonic time its request
#: started and ended, one JSON line each.
OTHER_PROCESS = """
import json, sys, time
import app as app_module
from mapdata.config import Settings
db, lat, lon, at, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], float(sys.argv[5])
http = app_module.create_app(Settings(db_path=db, secret_key="test", tile_source="none")).server.test_client()
query = {"lat": lat, "lon": lon, "k": 1, "at": at}
http.get("/api/v1/stations/nearest", query_string=query)  # the first answer builds the finder
print(json.dumps({"ready": True}), flush=True)
stop = time.monotonic() + seconds
while time.monotonic() < stop:
    start = time.monotonic()
    r = http.get("/api/v1/stations/nearest", query_string=query)
    end = time.monotonic()
    print(json.dumps({"start": start, "end": end, "status": r.status_code,
                      "first": r.get_json()["results"][0]["id"] if r.status_code == 200 else None}), flush=True)
"""


class OtherProcess:
    """The other process's answers, read line by line with a timeout (it must not hang the test); its output is
    read unbuffered, so that waiting on the pipe never misses lines already read into a buffer."""

    def __init__(self, db, lat, lon, seconds=120.0):
        self.proc = subprocess.Popen([sys.executable, "-c", OTHER_PROCESS, str(db), repr(lat), repr(lon), AT,
                                      str(seconds)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     bufsize=0)
        self._fd = self.proc.stdout.fileno()
        self._select = selectors.DefaultSelector()
        self._select.register(self._fd, selectors.EVENT_READ)
        self._pending = b""

    def line(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            if not self._select.select(max(deadline - time.monotonic(), 0)):
                raise AssertionError(f"the other process said nothing for {timeout} s")
            chunk = os.read(self._fd, 65536)
            if not chunk:
                self.proc.wait(timeout=30)
                raise AssertionError(f"the other process ended: {self.proc.stderr.read()[-2000:].decode()}")
            self._pending += chunk
        text, self._pending = self._pending.split(b"\n", 1)
        return json.loads(text)

    def close(self):
        self.proc.kill()
        self.proc.wait(timeout=30)
        self._select.close()
        self.proc.stdout.close()
        self.proc.stderr.close()


@pytest.fixture()
def http(private_app):
    return private_app.server.test_client()


@pytest.fixture()
def station(private_app):
    """A station (the nearest to its own position, open at the tests' instant) and a city token to edit it."""
    store = services_of(private_app.server).store
    create_account(store, name="city", role="city", password=PASSWORD, by="test")
    token = issue_token(store, "city", "test", by="test")
    http = private_app.server.test_client()
    stations = store.read("stations")
    for _, row in stations.iterrows():
        first = _nearest(http, row.geometry.y, row.geometry.x)
        if first == row["id"]:
            return {"id": row["id"], "lat": row.geometry.y, "lon": row.geometry.x, "token": token}
    raise AssertionError("no station is the nearest open one to its own position")


def _nearest(http, lat, lon) -> str:
    r = http.get("/api/v1/stations/nearest", query_string={"lat": lat, "lon": lon, "k": 1, "at": AT})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["results"][0]["id"]


def _set_hours(http, station, hours):
    sid = station["id"]
    etag = http.get(f"/api/v1/stations/{sid}").headers["ETag"]
    r = http.patch(f"/api/v1/stations/{sid}", json={"opening_hours": hours},
                   headers={"Authorization": f"Bearer {station['token']}", "If-Match": etag})
    assert r.status_code == 200, r.get_json()


def test_an_edit_on_one_worker_is_answered_by_another_process_at_its_next_request(http, station, writable_db):
    other = OtherProcess(writable_db, station["lat"], station["lon"])
    try:
        assert other.line(timeout=240) == {"ready": True}  # the process's start: generous, not the propagation
        before = other.line(timeout=30)
        assert before["first"] == station["id"]
        _set_hours(http, station, SHUT_HOURS)
        edited = time.monotonic()  # the edit's response: it is committed
        answers = []
        while not answers or answers[-1]["start"] < edited:
            answers.append(other.line(timeout=30))
        after = answers[-1]  # the first request the other process began after the edit had been answered
        assert after["status"] == 200 and after["first"] != station["id"], answers[-5:]
        assert _nearest(http, station["lat"], station["lon"]) == after["first"]  # both answer alike
        _set_hours(http, station, OPEN_HOURS)  # and back: the other process follows again
        reopened = time.monotonic()
        answers = []
        while not answers or answers[-1]["start"] < reopened:
            answers.append(other.line(timeout=30))
        assert answers[-1]["first"] == station["id"], answers[-5:]
    finally:
        other.close()


@pytest.mark.gpkg_only("sets the GeoPackage file's modification time back")
def test_an_edit_is_answered_by_another_app_on_the_file_even_when_the_file_time_stands_still(
        private_app, http, station, writable_db):
    """Coarse file timestamps (many filesystems tick every few milliseconds, some every second): two writes
    within one tick leave the file's modification time as it was; the edit must be answered all the same."""
    import app as app_module
    from mapdata.config import Settings

    other = app_module.create_app(Settings(db_path=writable_db, secret_key="test", tile_source="none"))
    there = other.server.test_client()
    assert _nearest(there, station["lat"], station["lon"]) == station["id"]
    stat = os.stat(writable_db)
    _set_hours(http, station, SHUT_HOURS)
    os.utime(writable_db, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # the same tick as the last write
    assert _nearest(there, station["lat"], station["lon"]) != station["id"]
    assert _nearest(http, station["lat"], station["lon"]) != station["id"]


@pytest.fixture()
def builds(monkeypatch):
    """How many times the finder, the road network and the coverage model have been built."""
    counts = {"finder": 0, "network": 0, "coverage": 0}
    finder, network, model = catalogue_module.StationFinder, catalogue_module.RoadNetwork, context_module.CoverageModel

    def counted(name, build):
        def wrapper(*args, **kwargs):
            counts[name] += 1
            return build(*args, **kwargs)
        return wrapper

    class CountedNetwork:
        from_roads = staticmethod(counted("network", network.from_roads))

    class CountedModel:
        from_layers = staticmethod(counted("coverage", model.from_layers))

    monkeypatch.setattr(catalogue_module, "StationFinder", counted("finder", finder))
    monkeypatch.setattr(catalogue_module, "RoadNetwork", CountedNetwork)
    monkeypatch.setattr(context_module, "CoverageModel", CountedModel)
    return counts


def test_derived_structures_are_rebuilt_when_the_data_changes_not_per_request(builds, http, station):
    def ask(n):
        for i in range(n):
            assert _nearest(http, station["lat"] + i * 1e-5, station["lon"]) is not None
        for _ in range(3):
            r = http.get("/api/v1/coverage", query_string={"radius_m": 500, "at": AT})
            assert r.status_code == 200, r.get_json()

    ask(1)
    first = dict(builds)
    assert first == {"finder": 1, "network": 1, "coverage": 1}  # built for the first answers
    ask(50)
    assert builds == first  # 50 more nearest questions, 3 coverage ones, no edit: nothing rebuilt
    _set_hours(http, station, SHUT_HOURS)
    ask(50)
    # the stations changed: one new finder and one new coverage model; the roads did not: the same network
    assert builds == {"finder": 2, "network": 1, "coverage": 2}


def test_a_repeated_coverage_question_is_answered_from_its_kept_answer_until_the_data_change(http, station,
                                                                                            monkeypatch):
    model_class = context_module.CoverageModel
    computed = []
    original = model_class.coverage

    def counted(self, *args, **kwargs):
        computed.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(model_class, "coverage", counted)
    query = {"radius_m": 500, "at": AT}

    def ask():
        r = http.get("/api/v1/coverage", query_string=query)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    before = ask()
    assert [ask() for _ in range(3)] == [before] * 3
    assert len(computed) == 1  # the same question at the same minute: computed once
    query["radius_m"] = 800
    wider = ask()
    assert len(computed) == 2 and wider["overall"]["covered"] >= before["overall"]["covered"]
    query["radius_m"] = 500
    _set_hours(http, station, SHUT_HOURS)  # the station is shut at AT now: one station less counts
    after = ask()
    assert len(computed) == 3
    assert after["query"]["open_stations"] == before["query"]["open_stations"] - 1
    assert after["overall"]["covered"] <= before["overall"]["covered"]
    assert {k: v for k, v in after["query"].items() if k != "open_stations"} == \
        {k: v for k, v in before["query"].items() if k != "open_stations"}
