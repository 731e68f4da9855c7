"""API round trip of the nearest query on loopback, against the same query called in-process."""
from __future__ import annotations

import logging
import statistics
import threading
import time

import numpy as np
import requests
from werkzeug.serving import make_server

from mapdata.config import Settings

N = 400


def _pct(samples, q):
    return float(np.percentile(np.asarray(samples) * 1000, q))


def main() -> None:
    import app as app_module
    from layers.common.calendar import as_local
    from layers.services import services_of

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one log line per request would drown the table

    settings = Settings.from_env()
    dash_app = app_module.create_app(settings)
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rng = np.random.default_rng(7)
    lats = rng.uniform(30.55, 30.80, N)
    lons = rng.uniform(103.95, 104.20, N)
    finder = services_of(dash_app.server).stations.finder
    session = requests.Session()
    url = f"http://127.0.0.1:{port}/api/v1/stations/nearest"
    at = "2026-12-02T15:00:00+08:00"
    session.get(url, params={"lat": 30.66, "lon": 104.06}).raise_for_status()  # warm up: builds the finder
    direct, http = [], []
    for lat, lon in zip(lats, lons):
        t0 = time.perf_counter()
        finder.nearest(lat, lon, amenities=("microwave", "charging"), at=as_local(at), k=5)
        direct.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        r = session.get(url, params={"lat": lat, "lon": lon, "amenities": "microwave,charging", "at": at, "k": 5})
        http.append(time.perf_counter() - t0)
        r.raise_for_status()
    server.shutdown()
    print(f"{'what':<40}{'p50 ms':>10}{'p99 ms':>10}")
    print(f"{'in-process finder.nearest (baseline)':<40}{_pct(direct, 50):>10.3f}{_pct(direct, 99):>10.3f}")
    print(f"{'HTTP GET /api/v1/stations/nearest':<40}{_pct(http, 50):>10.3f}{_pct(http, 99):>10.3f}")
    print(f"ratio HTTP / in-process at p50: {statistics.median(http) / statistics.median(direct):.1f}x "
          f"({N} queries, werkzeug threaded server on 127.0.0.1, keep-alive client)")


if __name__ == "__main__":
    main()
