"""The worst case of every API route: time and peak memory of the most expensive request a client may send.

Each route is asked its costliest question within the documented limits (the largest radius, the finest
hexagons, the largest upload, the most candidates and stations to site), in-process through the Flask test
client, on the demo dataset. Memory is the peak resident size above the size before the request, sampled
every 5 ms. The baseline is the cheapest route (``GET /api/v1/amenities``) in the same run; the goal is
10 s and 2 GB for the largest documented upload (1,000,000 rows), and every answer a 2xx or a 4xx that
names the limit.

`python -m bench.bench_costs` (a couple of minutes).
"""
from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SEED = 20250401
GOAL_S, GOAL_MB = 10.0, 2048.0
PAGE = 4096


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


class Peak:
    """The highest resident size while the block runs, above the size when it started."""

    def __enter__(self):
        self.start = self.peak = _rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, _rss_mb())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mb())

    @property
    def mb(self) -> float:
        return self.peak - self.start


def _upload_csv(n: int, seed: int) -> bytes:
    """``n`` demand rows over Chengdu's centre and suburbs, as a planner's CSV."""
    rng = np.random.default_rng(seed)
    lon = 104.06 + np.clip(rng.normal(0, 0.12, n), -0.3, 0.3)
    lat = 30.66 + np.clip(rng.normal(0, 0.10, n), -0.2, 0.2)
    w = rng.integers(1, 20, n)
    rows = "\n".join(f"{x:.6f},{y:.6f},{k}" for x, y, k in zip(lon, lat, w))
    return ("lon,lat,weight\n" + rows + "\n").encode()


def _upload_geojson(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    lon = 104.06 + np.clip(rng.normal(0, 0.12, n), -0.3, 0.3)
    lat = 30.66 + np.clip(rng.normal(0, 0.10, n), -0.2, 0.2)
    features = [{"type": "Feature", "properties": {"weight": 2},
                 "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]}} for x, y in zip(lon, lat)]
    return json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")).encode()


def cases(upload_token: str | None):
    far = {"radius_m": 50000, "at": "any"}
    rare = "legal_counselling"
    sites = [{"lon": round(103.95 + 0.3 * i / 20000, 6), "lat": round(30.55 + 0.25 * ((i * 7919) % 20000) / 20000, 6)}
             for i in range(20000)]
    yield "GET amenities (baseline)", "GET", "/api/v1/amenities", {}, None
    yield "GET stations, every field", "GET", "/api/v1/stations", {}, None
    yield "GET layers/roads, every class", "GET", "/api/v1/layers/roads", {}, None
    yield "GET nearest k=50, rare amenities, 2,000 km, eta", "GET", "/api/v1/stations/nearest", {
        "lat": 30.66, "lon": 104.06, "k": 50, "amenities": rare, "max_distance_m": 2_000_000, "sort": "eta"}, None
    yield "GET coverage 50 km, H3 10", "GET", "/api/v1/coverage", {**far, "h3_res": 10}, None
    yield "GET coverage network 2 km", "GET", "/api/v1/coverage", {"radius_m": 2000, "mode": "network",
                                                                   "at": "any"}, None
    yield "GET coverage network 50 km (refused)", "GET", "/api/v1/coverage", {**far, "mode": "network"}, None
    yield "GET coverage/week 50 km", "GET", "/api/v1/coverage/week", {"radius_m": 50000}, None
    yield "GET coverage/compare 50 km", "GET", "/api/v1/coverage/compare", {
        "radius_m": 50000, "normal_week": "2026-11-11", "holiday_week": "2026-10-01"}, None
    yield "POST coverage 1,000,000-row CSV, 50 km", "POST", "/api/v1/coverage", far, ("text/csv", "csv")
    yield "POST coverage ~60 MB GeoJSON, 50 km", "POST", "/api/v1/coverage", far, ("application/geo+json", "geojson")
    yield "POST siting greedy k=100, 50 km, rare", "POST", "/api/v1/siting", {}, {
        "k": 100, "radius_m": 50000, "at": "any", "amenities": rare}
    yield "POST siting 20,000 own sites k=100, 50 km", "POST", "/api/v1/siting", {}, {
        "k": 100, "radius_m": 50000, "at": "any", "amenities": rare, "candidates": sites}
    yield "POST siting exact, default sites (refused)", "POST", "/api/v1/siting", {}, {
        "k": 100, "radius_m": 1000, "at": "any", "method": "exact"}
    yield "GET coverage.xlsx 50 km", "GET", "/api/v1/reports/coverage.xlsx", far, None
    yield "GET gaps.geojson H3 10", "GET", "/api/v1/reports/gaps.geojson", {"at": "any", "h3_res": 10}, None
    yield "GET gaps.gpkg k=100 50 km", "GET", "/api/v1/reports/gaps.gpkg", {**far, "k": 100}, None
    yield "GET district_map 简阳 k=100 50 km", "GET", "/api/v1/reports/district_map.html", {
        **far, "k": 100, "adcode": 510185}, None
    if upload_token:
        yield "GET coverage.xlsx of a 1,000,000-row upload, 50 km", "GET", "/api/v1/reports/coverage.xlsx", {
            **far, "demand": upload_token}, None
        yield "GET gaps.geojson of the upload, H3 10", "GET", "/api/v1/reports/gaps.geojson", {
            "at": "any", "h3_res": 10, "demand": upload_token}, None


def measure(path: Path) -> list[dict]:
    import app as app_module
    from layers.planning.demand import parse_demand_upload
    from layers.services import services_of
    from mapdata.config import Settings

    dash_app = app_module.create_app(Settings(db_path=path))
    client = dash_app.server.test_client()
    planning = services_of(dash_app.server).planning
    t0 = time.perf_counter()
    bodies = {"csv": _upload_csv(1_000_000, 1), "geojson": _upload_geojson(560_000, 2)}
    print(f"upload bodies: CSV {len(bodies['csv']) / 2**20:.1f} MB (1,000,000 rows), "
          f"GeoJSON {len(bodies['geojson']) / 2**20:.1f} MB (560,000 features), built in "
          f"{time.perf_counter() - t0:.1f} s")
    with dash_app.server.test_request_context():
        points = parse_demand_upload(bodies["csv"], "text/csv", "wgs84", planning.outline())
        token = planning.add_upload(points, "bench.csv")
    client.get("/api/v1/coverage", query_string={"at": "any"})  # the stored model and candidates, built once
    client.post("/api/v1/siting", json={"k": 1, "at": "any"})
    rows = []
    for name, method, route, params, body in cases(token):
        kwargs = {"query_string": params}
        if method == "POST":
            if isinstance(body, tuple):
                kwargs.update(data=bodies[body[1]], content_type=body[0])
            else:
                kwargs["json"] = body
        with Peak() as peak:
            t0 = time.perf_counter()
            r = client.open(route, method=method, **kwargs)
            seconds = time.perf_counter() - t0
            size = len(r.data)
        note = ""
        if r.status_code >= 400:
            error = r.get_json().get("error", {})
            note = f"{error.get('code')}: {error.get('field')}"
        rows.append({"case": name, "status": r.status_code, "s": seconds, "mb": peak.mb, "bytes": size, "note": note})
    return rows


def main(argv: list[str] | None = None) -> None:
    from mapdata.demo.build import build

    with tempfile.TemporaryDirectory(prefix="bench-costs-") as tmp:
        path = Path(tmp) / "demo.gpkg"
        build(path, SEED)
        rows = measure(path)
    base = rows[0]["s"]
    print(f"\nWorst case of every route (in-process test client, demo dataset; goal {GOAL_S:.0f} s and "
          f"{GOAL_MB:,.0f} MB; ratio = time / the baseline's {base * 1000:.2f} ms)")
    print(f"{'case':<52} {'status':>6} {'time s':>8} {'peak MB':>8} {'answer':>10} {'ratio':>9}  within  note")
    worst_s = worst_mb = 0.0
    for row in rows:
        ok = row["s"] <= GOAL_S and row["mb"] <= GOAL_MB and row["status"] < 500
        worst_s, worst_mb = max(worst_s, row["s"]), max(worst_mb, row["mb"])
        print(f"{row['case']:<52} {row['status']:>6} {row['s']:>8.2f} {row['mb']:>8.0f} "
              f"{row['bytes'] / 1024:>8.0f}kB {row['s'] / base:>8.0f}x  {'yes' if ok else 'NO':>6}  {row['note']}")
    print(f"worst: {worst_s:.2f} s, {worst_mb:,.0f} MB above the process's size before the request")


if __name__ == "__main__":
    main()
