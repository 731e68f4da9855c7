"""Benchmark of many app servers on one store (issue 12): two gunicorn servers of 4 workers each, on one PostGIS
database (a throwaway cluster) and, in the same run, on one GeoPackage file.

An edit goes through server A's staff API (a station's opening hours, alternately shut and open at the asked
instant); meanwhile 16 client threads ask both servers, round robin, for the station nearest to that station's
position, each request on a new connection so that gunicorn hands it to any of its workers. For each edit: the
time from the edit's response to the start of the last request that still answered the old state (every worker
of both servers has answered the edit for every request begun after it; negative: none was stale), and how many
requests the 8 workers answered in that edit's window. The baseline is a request begun after the edit's response
on the editing connection's own server, which must answer the edit at once (counted: it must be zero stale).

    .venv/bin/python -m bench.bench_servers [path/to/store.gpkg] [edits] [postgis|gpkg]
"""
from __future__ import annotations

import json
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.bench_freshness import store_copy
from bench.bench_load import Gunicorn
from tests.api.test_workers_agree import OPEN_HOURS, SHUT_HOURS
from tests.helpers import AT

DEFAULT_DB = Path("var/nuanxin.gpkg")
EDITS = 8
WORKERS, THREADS, CLIENTS = 4, 2, 16
#: How long after each edit the clients keep asking (the window a stale answer is looked for in).
WINDOW_S = 2.0


def _get_json(url: str, headers: dict | None = None):
    req = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.headers, json.loads(r.read())


def _nearest(base: str, lat: float, lon: float) -> str:
    query = urllib.parse.urlencode({"lat": lat, "lon": lon, "k": 1, "at": AT})
    _, body = _get_json(f"{base}/api/v1/stations/nearest?{query}")
    return body["results"][0]["id"]


def _edit(base: str, sid: str, hours: str, token: str) -> None:
    headers, _ = _get_json(f"{base}/api/v1/stations/{sid}")
    req = urllib.request.Request(f"{base}/api/v1/stations/{sid}", method="PATCH",
                                 data=json.dumps({"opening_hours": hours}).encode(),
                                 headers={"Authorization": f"Bearer {token}", "If-Match": headers["ETag"],
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status != 200:
            raise RuntimeError(f"the edit answered {r.status}")


def run(source: Path = DEFAULT_DB, edits: int = EDITS, backend: str = "gpkg") -> dict:
    from layers.staff.accounts import create_account, issue_token
    from mapdata.store import open_store

    with store_copy(source, backend) as db, tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        store = open_store(db)
        create_account(store, name="bench-city", role="city", password="bench password long", by="bench")
        token = issue_token(store, "bench-city", "bench", by="bench")
        with Gunicorn(db, WORKERS, THREADS, tmp / "a.log") as a, Gunicorn(db, WORKERS, THREADS, tmp / "b.log") as b:
            stations = store.read("stations")
            sid = lat = lon = None
            for _, row in stations.iterrows():
                if _nearest(a.base, row.geometry.y, row.geometry.x) == row["id"]:
                    sid, lat, lon = row["id"], row.geometry.y, row.geometry.x
                    break
            if sid is None:
                raise RuntimeError("no station is the nearest open one to its own position")
            _edit(a.base, sid, OPEN_HOURS, token)
            answers: list[tuple[float, str, bool]] = []  # (start, server, shows the station)
            lock, stop = threading.Lock(), threading.Event()

            def ask(i: int) -> None:
                base = (a.base, b.base)[i % 2]
                while not stop.is_set():
                    started = time.monotonic()
                    first = _nearest(base, lat, lon)
                    with lock:
                        answers.append((started, base, first == sid))

            clients = [threading.Thread(target=ask, args=(i,), daemon=True) for i in range(CLIENTS)]
            for c in clients:
                c.start()
            last_stale_ms, counted, own_stale = [], [], 0
            try:
                time.sleep(1.0)
                for i in range(edits):
                    shut = i % 2 == 0
                    _edit(a.base, sid, SHUT_HOURS if shut else OPEN_HOURS, token)
                    edited = time.monotonic()
                    if (_nearest(a.base, lat, lon) == sid) == shut:  # the baseline: the editing server at once
                        own_stale += 1
                    time.sleep(WINDOW_S)
                    with lock:
                        window = [(t, s, shows) for t, s, shows in answers if edited - 0.5 <= t < edited + WINDOW_S]
                    stale = [t for t, _, shows in window if shows == shut]  # answered as before the edit
                    last_stale_ms.append((max(stale) - edited) * 1000 if stale else -500.0)
                    counted.append(sum(1 for t, _, _ in window if t >= edited))
            except Exception:
                print(a.tail(60), file=sys.stderr)
                raise
            finally:
                stop.set()
                for c in clients:
                    c.join(timeout=30)
    return {"stations": len(stations), "edits": edits, "last stale": last_stale_ms, "requests": counted,
            "own stale": own_stale}


def main() -> None:
    from tests.pg_cluster import missing

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DB
    edits = int(sys.argv[2]) if len(sys.argv) > 2 else EDITS
    backends = [b for b in (["postgis"] if not missing() else []) + ["gpkg"]
                if b in (sys.argv[3:4] or ["postgis", "gpkg"])]
    results = {backend: run(source, edits, backend) for backend in backends}
    print(f"Two gunicorn servers x {WORKERS} workers ({THREADS} threads) on one store, {CLIENTS} clients asking both, "
          f"{edits} edits through server A; ms from the edit's response to the start of the last request that still")
    print("answered the old state (-500: none in the window, which opens 500 ms before the edit's response).")
    if missing():
        print(f"(PostGIS not measured: missing {'; '.join(missing())})")
    print(f"{'store':10s}{'last stale median':>19s}{'max':>9s}{'requests/edit':>15s}{'editing server stale':>22s}")
    for backend, r in results.items():
        print(f"{backend:10s}{statistics.median(r['last stale']):19.1f}{max(r['last stale']):9.1f}"
              f"{statistics.median(r['requests']):15.0f}{r['own stale']:>17d} of {r['edits']}")
    if len(results) == 2:
        ratio = statistics.median(results["postgis"]["requests"]) / statistics.median(results["gpkg"]["requests"])
        print(f"requests answered per edit window, postgis / gpkg: {ratio:.2f}")


if __name__ == "__main__":
    main()
