"""Staff edits: how many a second the API writes with their audit rows, and how soon every worker answers with one.

1. In process (Flask test client, demo dataset): ``PATCH /api/v1/stations/<id>`` with a bearer token and
   If-Match, each an all-or-nothing SQLite transaction with its audit row, against a plain
   ``GET /api/v1/stations/<id>`` of the same stations in the same run (the baseline). p50, p99, per second.
2. ``gunicorn -w 4`` on the same kind of store: after each save, requests are sent until 40 answers in a
   row carry the new value; the figure is the time from the save's answer to the last stale answer seen
   (0 when none was), over 10 saves. Each worker checks the store's version on every request (one
   ``stat`` and, when the file changed, one small query) and rebuilds its finder only then.

`python -m bench staff` (about a minute).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

SEED = 20250401
EDITS = 300
SAVES = 10
IN_A_ROW = 40


def _store(tmp: Path):
    from layers.staff.accounts import create_account, issue_token
    from mapdata.demo.build import build
    from mapdata.store import GeoPackageStore

    path = tmp / "bench.gpkg"
    build(path, SEED)
    store = GeoPackageStore(path)
    create_account(store, name="bench-city", role="city", password="bench password 1", by="bench")
    return path, store, issue_token(store, "bench-city", "bench", by="bench")


def _quantiles(ms: list[float]) -> tuple[float, float, float]:
    a = np.asarray(ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), 1000.0 / float(a.mean())


def in_process(path: Path, token: str) -> None:
    import app as app_module
    from mapdata.config import Settings

    server = app_module.create_app(Settings(db_path=path, secret_key="bench", tile_source="none")).server
    client = server.test_client()
    ids = [f"st-{i:04d}" for i in range(1, 101)]
    auth = {"Authorization": f"Bearer {token}"}
    reads, writes = [], []
    for k in range(EDITS):
        sid = ids[k % len(ids)]
        t0 = time.perf_counter()
        r = client.get(f"/api/v1/stations/{sid}")
        reads.append((time.perf_counter() - t0) * 1000)
        etag = r.headers["ETag"]
        t0 = time.perf_counter()
        w = client.patch(f"/api/v1/stations/{sid}", json={"capacity": 10 + k % 50, "status_note": f"bench {k}"},
                         headers={**auth, "If-Match": etag})
        writes.append((time.perf_counter() - t0) * 1000)
        assert w.status_code == 200, w.get_json()
    from mapdata.store import GeoPackageStore

    audit = len(GeoPackageStore(path).audit_log("stations"))
    r50, r99, rps = _quantiles(reads)
    w50, w99, wps = _quantiles(writes)
    print(f"{EDITS} edits through the API, each with its audit row ({audit} audit rows written), in process:")
    print(f"{'request':<44}{'p50 ms':>9}{'p99 ms':>9}{'per s':>9}{'ratio p50':>11}")
    print(f"{'GET /stations/<id> (baseline)':<44}{r50:>9.2f}{r99:>9.2f}{rps:>9.0f}{1:>10.1f}x")
    print(f"{'PATCH /stations/<id> + audit row':<44}{w50:>9.2f}{w99:>9.2f}{wps:>9.0f}{w50 / r50:>10.1f}x")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, headers=None, data=None, method="GET"):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, dict(r.headers), r.read()


def across_workers(path: Path, token: str) -> None:
    port = _free_port()
    env = {**os.environ, "NUANXIN_DB": str(path), "NUANXIN_SECRET_KEY": "bench", "NUANXIN_TILES": "none"}
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "4", "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", "app:create_server()"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                _get(base + "/api/v1/amenities")
                break
            except OSError:
                time.sleep(0.1)
        sid = "st-0001"
        for _ in range(200):  # every worker has built its finder
            _get(f"{base}/api/v1/stations/{sid}")
        lags, polls = [], []
        for k in range(SAVES):
            _, headers, _ = _get(f"{base}/api/v1/stations/{sid}")
            note = f"across workers {k} {time.time()}"
            body = json.dumps({"status_note": note}).encode()
            _get(f"{base}/api/v1/stations/{sid}", {"Authorization": f"Bearer {token}", "If-Match": headers["ETag"],
                                                    "Content-Type": "application/json"}, body, "PATCH")
            saved = time.perf_counter()
            last_stale, fresh_in_a_row, n = None, 0, 0
            while fresh_in_a_row < IN_A_ROW and n < 5000:
                _, _, answer = _get(f"{base}/api/v1/stations/{sid}")
                n += 1
                if json.loads(answer)["properties"]["status_note"] == note:
                    fresh_in_a_row += 1
                else:
                    fresh_in_a_row = 0
                    last_stale = time.perf_counter()
            lags.append(0.0 if last_stale is None else (last_stale - saved) * 1000)
            polls.append(n)
        print(f"\ngunicorn -w 4: from a save's answer to the last stale answer, over {SAVES} saves "
              f"(polled until {IN_A_ROW} fresh answers in a row):")
        print(f"{'':<20}{'ms':>10}")
        for label, value in (("median", np.median(lags)), ("worst", np.max(lags))):
            print(f"{label:<20}{value:>10.1f}")
        print(f"goal 1,000 ms; worst/goal ratio {np.max(lags) / 1000:.3f}; requests polled per save: "
              f"{int(np.median(polls))}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, _, token = _store(Path(tmp))
        in_process(path, token)
        across_workers(path, token)


if __name__ == "__main__":
    main()
