"""The rider page at national scale: first-load bytes and time to the first result list, 426 vs 130,000 stations.

The rider map loads its stations by viewport (``GET /api/v1/stations/view``: the stations of the view and a
margin from zoom 14, the server's clusters below it, never more than 2,000 features), so what a phone
downloads on its first visit should not grow with the catalogue. Two datasets, each served by its own app
in its own subprocess: the demo GeoPackage (426 stations) and the same with its stations replaced by
130,000 — the national count — placed on real ground across the districts we have: copies of the demo
stations jittered (Gaussian, 2.5 km) and kept inside Chengdu's district outline
(:func:`bench.bench_rider_page.jittered_stations`). That is far denser than any city at national density
would be (Chengdu's share of 130,000 by area is a few hundred), so it is the worst case for a city's view.

Each page is opened ``RUNS`` times in headless Chromium on a 375 px phone at Tianfu Square (GPS granted),
each in a fresh profile with the HTTP cache disabled, after one warm-up load (server caches: reported on
its own line). Bytes are every response of the load on the wire (CDP ``Network.loadingFinished``
``encodedDataLength``, headers included), until the network has been quiet for 1 s; times are
``performance.now()`` (ms from navigation start) when the first ``#rider-results .result`` appears and when
the first station or cluster is drawn (:mod:`bench.bench_rider_page`'s probe). For reference, the bytes the
map fetched before (the whole ``/api/v1/stations?fields=id,name,status``, gzip) are measured in the server.

`python -m bench.bench_rider_national` (about 3 minutes); `--runs N` to change the repetitions.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from bench import bench_rider_page
from bench.bench_rider_page import build_datasets, load_page, summarise

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
BIG_N = 130_000
GOAL_BYTES_RATIO = 1.2


def serve(db: str) -> None:
    """Build the app on ``db``, print one JSON line (port, station count, the old whole-catalogue GET's
    bytes), serve until stdin closes."""
    import logging

    from werkzeug.serving import make_server

    import app as app_module
    from layers.services import services_of
    from mapdata.config import Settings

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    dash_app = app_module.create_app(Settings(db_path=Path(db), secret_key="bench", tile_source="none"))
    created = time.perf_counter() - t0
    client = dash_app.server.test_client()
    whole = client.get("/api/v1/stations?fields=id,name,status", headers={"Accept-Encoding": "gzip"})
    n = len(services_of(dash_app.server).stations.stations)
    services_of(dash_app.server).stations.snapshot().bodies.clear()  # the page never asks for it now
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_port, "stations": n, "create_app_s": created,
                      "whole_gzip_bytes": len(whole.data)}), flush=True)
    sys.stdin.read()
    server.shutdown()


class Served(bench_rider_page.Served):
    """One app on ``db`` in a subprocess, for the duration of a ``with`` block."""

    module = "bench.bench_rider_national"

    def __init__(self, db: Path):
        super().__init__(str(db), db)
        self.args = [str(db)]


def _views(run: dict) -> list[tuple[str, int]]:
    return [(u, n) for u, n in run["per_url"].items() if "/api/v1/stations/view" in u]


def measure(served: Served, runs: int) -> dict:
    cold = summarise(load_page(served.url, "rider"))
    return {"cold": cold, "runs": [summarise(load_page(served.url, "rider")) for _ in range(runs)],
            "server": served.info}


def _p50(runs, key):
    vals = [r[key] for r in runs if r[key] is not None]
    return float(np.median(vals)) if vals else float("nan")


def report(results: dict, runs: int) -> None:
    print(f"\nFirst visit on a 375 px phone at Tianfu Square, headless Chromium, fresh profile, cache disabled; "
          f"{runs} loads each after one warm-up load. Bytes: all responses on the wire (CDP encodedDataLength); "
          "times: ms from navigation start.")
    print(f"{'stations':>10}{'wire kB p50':>13}{'view GETs':>11}{'view kB':>9}{'results ms p50':>16}{'max':>7}"
          f"{'stations drawn p50':>20}{'whole /stations gzip kB (before)':>34}")
    rows = {}
    for kind in ("demo", "big"):
        rs, server = results[kind]["runs"], results[kind]["server"]
        views = [_views(r) for r in rs]
        rows[kind] = {"wire": _p50(rs, "wire_bytes"), "result": _p50(rs, "result"), "drawn": _p50(rs, "drawn")}
        print(f"{server['stations']:>10,}{rows[kind]['wire'] / 1e3:>13,.0f}"
              f"{np.median([len(v) for v in views]):>11.0f}"
              f"{np.median([sum(n for _, n in v) for v in views]) / 1e3:>9,.1f}"
              f"{rows[kind]['result']:>16.0f}{max(r['result'] for r in rs):>7.0f}{rows[kind]['drawn']:>20.0f}"
              f"{server['whole_gzip_bytes'] / 1e3:>34,.0f}")
    d, b = rows["demo"], rows["big"]
    whole = results["big"]["server"]["whole_gzip_bytes"] / results["demo"]["server"]["whole_gzip_bytes"]
    print(f"{'ratio':>10}{b['wire'] / d['wire']:>12.2f}x{'':>20}{b['result'] / d['result']:>15.2f}x{'':>7}"
          f"{b['drawn'] / d['drawn']:>19.2f}x{whole:>33.0f}x")
    verdict = "within" if b["wire"] / d["wire"] <= GOAL_BYTES_RATIO else "OVER"
    print(f"  bytes 130k/426 {b['wire'] / d['wire']:.2f}x: {verdict} the goal of {GOAL_BYTES_RATIO}x; "
          f"first result list 130k/426 {b['result'] / d['result']:.2f}x")
    for kind in ("demo", "big"):
        c, s = results[kind]["cold"], results[kind]["server"]
        print(f"  {s['stations']:,}: cold first load after the server starts: {c['wire_bytes'] / 1e3:,.0f} kB, results "
              f"{c['result']:.0f} ms, stations drawn {(c['drawn'] or float('nan')):.0f} ms; create_app "
              f"{s['create_app_s']:.1f} s")
        for url, n in _views(results[kind]["runs"][-1]):
            print(f"    {url.split('/', 3)[-1][:120]}  {n / 1e3:,.1f} kB")
    console = [c for k in results for r in results[k]["runs"] for c in r["console"]]
    print(f"  console errors: {len(console)}" + (f" (first: {console[0]['message'][:200]})" if console else ""))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--serve", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.serve:
        serve(args.serve)
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-national-") as tmp:
        paths = build_datasets(Path(tmp), big_n=BIG_N)
        results = {}
        for kind, db in (("demo", paths["demo"]), ("big", paths["100k"])):
            t0 = time.perf_counter()
            with Served(db) as served:
                t1 = time.perf_counter()
                results[kind] = measure(served, args.runs)
            print(f"{served.info['stations']:,} stations: app ready in {t1 - t0:.1f} s, {args.runs + 1} loads in "
                  f"{time.perf_counter() - t1:.1f} s", flush=True)
    report(results, args.runs)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
