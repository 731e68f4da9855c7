"""Riders' reports: how many a second the API accepts, and how fast the ledger answers a filter change at 10,000.

1. In process (Flask test client, demo dataset): ``POST /api/open311/v2/requests.json`` at random points
   inside Chengdu and at random stations (each a new report, with its sighting and audit row, in one
   SQLite transaction after the rate-limit and merge checks), interleaved with the rider's
   ``GET /api/v1/stations/nearest`` at random points (the baseline, same run). p50, p99, per second.
2. The ledger of one district holding 10,000 reports (and 10,000 more in other districts): the server time
   of the queue for each filter the staff page offers (state, kind, overdue, a day range, the next
   page), against the same filters on a district with 100 reports in the same run; and the page's own
   filter callback through Dash's HTTP endpoint when it is registered.

`python -m bench reports` (about a minute).
"""
from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 20250401
REQUESTS = 400
LEDGER = 10_000
SMALL = 100


def _quantiles(ms: list[float]) -> tuple[float, float, float]:
    a = np.asarray(ms)
    return float(np.percentile(a, 50)), float(np.percentile(a, 99)), 1000.0 / float(a.mean())


def _store(tmp: Path):
    from mapdata.demo.build import build
    from mapdata.store import GeoPackageStore

    path = tmp / "bench.gpkg"
    build(path, SEED)
    return path, GeoPackageStore(path)


def intake(path: Path) -> None:
    import app as app_module
    from mapdata.config import Settings
    from mapdata.store import GeoPackageStore

    server = app_module.create_app(Settings(db_path=path, secret_key="bench", tile_source="none")).server
    client = server.test_client()
    stations = GeoPackageStore(path).read("stations")
    rng = np.random.default_rng(SEED)
    lons, lats = rng.uniform(104.00, 104.15, REQUESTS), rng.uniform(30.60, 30.75, REQUESTS)
    picks = rng.integers(0, len(stations), REQUESTS)
    client.get("/api/v1/stations/nearest?lat=30.66&lon=104.07")   # warm the finder
    reads, writes, kinds = [], [], ("hazard", "suggestion", "wrong_info")
    for i in range(REQUESTS):
        t0 = time.perf_counter()
        r = client.get(f"/api/v1/stations/nearest?lat={lats[i]:.5f}&lon={lons[i]:.5f}&k=5")
        reads.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200
        if i % 2:
            form = {"service_code": "closed_in_hours", "attribute[station_id]": stations["id"].iloc[picks[i]],
                    "description": f"bench {i}"}
        else:
            form = {"service_code": kinds[i % 3], "lat": f"{lats[i]:.5f}", "long": f"{lons[i]:.5f}",
                    "description": f"bench {i}"}
        t0 = time.perf_counter()
        w = client.post("/api/open311/v2/requests.json", data=form, environ_base={"REMOTE_ADDR": f"10.1.{i // 250}."
                                                                                              f"{i % 250}"})
        writes.append((time.perf_counter() - t0) * 1000)
        assert w.status_code == 201, w.get_json()
    kept = GeoPackageStore(path).reports.count()
    r50, r99, rps = _quantiles(reads)
    w50, w99, wps = _quantiles(writes)
    print(f"{REQUESTS} reports through Open311 ({kept} kept: some merged at the same station), in process:")
    print(f"{'request':<46}{'p50 ms':>9}{'p99 ms':>9}{'per s':>9}{'ratio p50':>11}")
    print(f"{'GET /stations/nearest k=5 (baseline)':<46}{r50:>9.2f}{r99:>9.2f}{rps:>9.0f}{1:>10.1f}x")
    print(f"{'POST /open311/v2/requests.json':<46}{w50:>9.2f}{w99:>9.2f}{wps:>9.0f}{w50 / r50:>10.1f}x")


def _fill(store, adcode: int, n: int, start: dt.datetime, rng) -> float:
    """n reports in one district through the domain's intake, spread over 60 days; a share moved on. Most are
    about a point near a station (a few hundred metres off, so hardly any merge), one in five about a station."""
    import layers.rider.reports as intake_module
    from layers.staff.accounts import Account
    from layers.staff.reports import act

    stations = store.read("stations")
    mine = stations[stations["adcode"].astype(int) == adcode].reset_index(drop=True)
    saved, intake_module.LIMITS = intake_module.LIMITS, ()   # the bench is one sender: no rate limit
    t0 = time.perf_counter()
    try:
        city = Account(0, "bench", "city")
        kinds = ("wrong_info", "hazard", "suggestion", "sign_missing")
        for i in range(n):
            row = mine.iloc[i % len(mine)]
            at = start + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 60)))
            if i % 5 == 0:
                values = {"kind": "closed_in_hours", "station_id": row["id"]}
            else:
                values = {"kind": kinds[i % 4], "lon": float(row.geometry.x + rng.uniform(-0.004, 0.004)),
                          "lat": float(row.geometry.y + rng.uniform(-0.004, 0.004))}
            sent = intake_module.submit_report(store, {**values, "note": f"n{i}"}, now=at)
            if not sent.merged and i % 3 == 0:
                act(store, city, sent.report_id, "resolve", answer="ok", now=at + dt.timedelta(hours=30))
    finally:
        intake_module.LIMITS = saved
    return time.perf_counter() - t0


FILTERS = ({"state": "open"}, {"state": "all"}, {"state": "all", "kind": "hazard"}, {"overdue_only": True},
           {"state": "all", "since": dt.date(2026, 10, 15), "until": dt.date(2026, 10, 31)}, {"state": "all", "offset": 50},
           {"state": "resolved"})


def ledger(path: Path, store) -> None:
    from layers.staff.accounts import Account
    from layers.staff.reports import queue
    from mapdata import clock

    rng = np.random.default_rng(SEED)
    stations = store.read("stations")
    counts = stations["adcode"].astype(int).value_counts()
    big, small, third = (int(a) for a in counts.index[:3])
    start = dt.datetime(2026, 10, 1, 8, 0)
    with clock.frozen(dt.datetime(2026, 12, 2, 15, 0)):
        took = _fill(store, big, LEDGER, start, rng)
        _fill(store, third, LEDGER, start, rng)
        _fill(store, small, SMALL, start, rng)
        total = store.reports.count()
        n_big = store.reports.count("adcode = ?", [big])
        n_small = store.reports.count("adcode = ?", [small])
        print(f"\nthe ledger: {total} reports in the store, {n_big} of them in district {big} (from {LEDGER} sent, "
              f"in {took:.0f} s through the intake; the rest merged or placed over a border), {n_small} in "
              f"district {small}; server time per filter change, median of 5:")
        print(f"{'filter':<44}{f'{n_small} reports ms':>15}{f'{n_big:,} ms':>11}{'ratio':>8}{'rows':>6}")
        for f in FILTERS:
            times = {}
            for adcode in (small, big):
                account = Account(0, "bench", "district", adcode=adcode)
                queue(store, account, **f)
                samples = []
                for _ in range(5):
                    t0 = time.perf_counter()
                    page = queue(store, account, **f)
                    samples.append((time.perf_counter() - t0) * 1000)
                times[adcode] = (float(np.median(samples)), len(page.rows))
            label = ", ".join(f"{k}={v}" for k, v in f.items())
            print(f"{label:<44}{times[small][0]:>15.1f}{times[big][0]:>11.1f}"
                  f"{times[big][0] / times[small][0]:>7.1f}x{times[big][1]:>6}")
        _page_callback(path, big, small)


def _page_callback(path: Path, big: int, small: int) -> None:
    """The staff page's own filter callback through Dash's HTTP endpoint, signed in as each district."""
    try:
        from callbacks import staff_reports
    except ImportError:
        return
    target = getattr(staff_reports, "BENCH_FILTER_CALLBACK", None)
    if target is None:
        print("(the staff page's filter callback names no BENCH_FILTER_CALLBACK: only the domain is timed)")
        return
    for line in target(path, big, small):
        print(line)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path, store = _store(Path(tmp))
        intake(path)
        ledger(path, store)


if __name__ == "__main__":
    main()
