"""The rider page in headless Chromium on a 375 px phone: time to first results, bytes, server time.

Three datasets, each served by its own app in its own subprocess (Dash's pages and global
callbacks allow one app per process): a minimal Dash page (one ``html.Div``: Dash's floor, the
baseline of the page-load ratios), the demo dataset (426 stations) and the demo dataset with its
stations replaced by 100,000 generated ones (copies of the demo stations jittered over Chengdu,
inside the city outline). Each page is loaded ``RUNS`` times, each in a fresh browser profile with
the HTTP cache disabled; times are ``performance.now()`` in the page (milliseconds from navigation
start) when the first ``#rider-results .result`` appears, recorded by a MutationObserver injected
before the page's own scripts. One extra load before the timed ones warms the server's caches
(it is reported on its own line: the first rider after a restart pays it).

Server time is ``results_view`` (what the results callback runs) inside a request context of the
app, for several amenity sets, times and places, against the bare ``finder.nearest`` call.

`python -m bench.bench_rider_page` (about 3 minutes); `--runs N` to change the repetitions.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RUNS = 5
BIG_N = 100_000
SEED = 20250401
#: Tianfu Square: where the phone's GPS says the rider is (and the page's default centre).
HERE = (30.6586, 104.0648)
#: Standard deviation of the jitter around a demo station, in metres.
JITTER_M = 2500
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--disable-quic", "--lang=zh-CN")
GOALS_MS = {"demo": 2000, "100k": 4000}
GOAL_BYTES_DEMO = 1.5e6
GOAL_SERVER_MS = 300
PAGE_TIMEOUT_S = 60

# --- the 100,000-station dataset ------------------------------------------------------------


def jittered_stations(base, districts, n: int, seed: int = 11):
    """``n`` stations: copies of ``base`` rows moved by a Gaussian jitter, kept inside Chengdu.

    Every copy gets a unique id (``st-000001``…), the adcode and district of the district it lands
    in, a numbered name, version 1; a point that falls outside the city outline is drawn again.
    """
    import geopandas as gpd
    import shapely

    from layers.common.districts import chengdu_outline

    rng = np.random.default_rng(seed)
    outline = chengdu_outline(districts)
    shapely.prepare(outline)
    pick = rng.integers(0, len(base), n)
    lon0, lat0 = base.geometry.x.to_numpy()[pick], base.geometry.y.to_numpy()[pick]
    lon, lat = np.empty(n), np.empty(n)
    todo = np.arange(n)
    deg_lat = JITTER_M / 111_320
    deg_lon = deg_lat / np.cos(np.radians(30.66))
    while len(todo):
        x = lon0[todo] + rng.normal(0, deg_lon, len(todo))
        y = lat0[todo] + rng.normal(0, deg_lat, len(todo))
        inside = shapely.contains_xy(outline, x, y)
        lon[todo[inside]], lat[todo[inside]] = x[inside], y[inside]
        todo = todo[~inside]
    copies = base.iloc[pick].reset_index(drop=True).copy()
    copies["id"] = [f"st-{i:06d}" for i in range(1, n + 1)]
    copies["name"] = [f"{name}·{i}" for i, name in enumerate(copies["name"], start=1)]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    zones = districts[["adcode", "name", "geometry"]].rename(columns={"adcode": "d_adcode", "name": "d_name"})
    joined = gpd.sjoin(points, zones, how="left", predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    has = joined["d_adcode"].notna().to_numpy()  # on a shared border: keep the base's district
    moved = has & (joined["d_adcode"].to_numpy() != copies["adcode"].to_numpy())
    copies.loc[has, "adcode"] = joined.loc[has, "d_adcode"].astype("int64").to_numpy()
    copies.loc[has, "district"] = joined.loc[has, "d_name"].to_numpy()
    copies.loc[moved, "street"] = None  # the base's street is in another district
    copies["version"] = 1
    copies["geometry"] = points.geometry.values
    return gpd.GeoDataFrame(copies, geometry="geometry", crs="EPSG:4326")


def build_datasets(out: Path, big_n: int = BIG_N) -> dict[str, Path]:
    """The demo GeoPackage and the one with ``big_n`` stations, in ``out``; seconds taken are printed."""
    from mapdata.demo.build import DEMO_NOW, build_layers
    from mapdata.store import DatasetInfo, GeoPackageStore

    t0 = time.perf_counter()
    layers = build_layers(SEED)
    info = DatasetInfo(demo=True, seed=SEED, built_at=DEMO_NOW.isoformat(), description="bench")
    paths = {"demo": out / "demo.gpkg", "100k": out / "big.gpkg"}
    GeoPackageStore(paths["demo"]).write_dataset(layers, info)
    t1 = time.perf_counter()
    big = dict(layers, stations=jittered_stations(layers["stations"], layers["districts"], big_n))
    GeoPackageStore(paths["100k"]).write_dataset(big, DatasetInfo(demo=True, seed=SEED, built_at=info.built_at,
                                                                   description=f"bench: {big_n} stations"))
    t2 = time.perf_counter()
    print(f"datasets: demo {t1 - t0:.1f} s, {big_n} stations {t2 - t1:.1f} s ({out})", flush=True)
    return paths


# --- the app side (run in a subprocess: `python -m bench.bench_rider_page --serve KIND DB`) -----


def minimal_app():
    """Dash's floor: one Div, same server flags as the real app (compress, served locally)."""
    import dash

    app = dash.Dash(__name__, compress=True, serve_locally=True, update_title=None, title="floor")
    app.layout = dash.html.Div("暖新", id="floor", className="result")
    return app


def _pct(ms, q):
    return float(np.percentile(np.asarray(ms), q))


def server_times(dash_app, seed: int = 5) -> dict:
    """``results_view`` and the bare ``finder.nearest`` for amenity sets × times × places, in ms."""
    from layers.services import services_of
    from pages.rider.views import DEFAULT_REACH_M, MAX_RESULTS, query_time, results_view

    server = dash_app.server
    cat = services_of(server).stations
    rng = np.random.default_rng(seed)
    places = [HERE] + list(zip(rng.uniform(30.55, 30.78, 7), rng.uniform(103.95, 104.20, 7)))
    chip_sets = [[], ["microwave"], ["microwave", "charging"], ["toilet", "first_aid", "wifi"],
                 ["legal_counselling", "psychological_counselling"], ["kitchen"]]
    day = (datetime.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    times = [(["now"], None), ([], f"{day}T12:30"), ([], f"{day}T21:45"), ([], f"{day}T03:00")]
    state = {"lang": "zh", "reach_m": DEFAULT_REACH_M, "station": None}
    view, bare, empty, by_case = [], [], 0, {}
    with server.test_request_context():
        finder = cat.finder
        results_view({"lat": HERE[0], "lon": HERE[1], "where": "gps"}, [], ["now"], None, state)  # warm up
        for chips in chip_sets:
            for open_now, open_at in times:
                for lat, lon in places:
                    where = {"lat": float(lat), "lon": float(lon), "where": "tap"}
                    t0 = time.perf_counter()
                    items, *_ = results_view(where, chips, open_now, open_at, state)
                    view.append((time.perf_counter() - t0) * 1000)
                    by_case.setdefault((",".join(chips) or "-", open_at[11:] if open_at else "now"), []).append(view[-1])
                    empty += not items
                    at = query_time(open_now, open_at)
                    t0 = time.perf_counter()
                    finder.nearest(float(lat), float(lon), amenities=tuple(chips), at=at, k=MAX_RESULTS,
                                   max_distance_m=DEFAULT_REACH_M)
                    bare.append((time.perf_counter() - t0) * 1000)
    # the stations GeoJSON the map fetches: built once per store version, then compressed per request
    t0 = time.perf_counter()
    body = cat.feature_collection_json(("id", "name", "status"))
    build_ms = (time.perf_counter() - t0) * 1000
    client = server.test_client()
    t0 = time.perf_counter()
    r = client.get("/api/v1/stations?fields=id,name,status", headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    serve_ms = (time.perf_counter() - t0) * 1000
    cat.snapshot().bodies.clear()  # dropped again: the cold page load pays it, as after a restart
    worst = max(by_case, key=lambda c: max(by_case[c]))
    return {"n": len(view), "empty": empty, "worst_case": " at ".join(worst), "worst_case_max": max(by_case[worst]),
            "view_p50": _pct(view, 50), "view_p99": _pct(view, 99),
            "view_max": max(view), "bare_p50": _pct(bare, 50), "bare_p99": _pct(bare, 99),
            "stations_json_bytes": len(body), "stations_json_build_ms": build_ms,
            "stations_get_ms": serve_ms, "stations_get_bytes": len(r.data),
            "stations_get_encoding": r.headers.get("Content-Encoding")}


def serve(kind: str, db: str | None) -> None:
    """Build the app, time the server side, print one JSON line with the port, serve until stdin closes."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    t0 = time.perf_counter()
    if kind == "floor":
        dash_app, extra = minimal_app(), {}
    else:
        import app as app_module
        from mapdata.config import Settings

        dash_app = app_module.create_app(Settings(db_path=Path(db), secret_key="bench", tile_source="none"))
        extra = {"create_app_s": time.perf_counter() - t0}
        extra.update(server_times(dash_app))
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"port": server.server_port, **extra}), flush=True)
    sys.stdin.read()  # the parent closes our stdin when it is done
    server.shutdown()


class Served:
    """One app in a subprocess, for the duration of a ``with`` block (``module --serve args…`` serves it and prints
    its port as the first line of JSON)."""

    module = "bench.bench_rider_page"

    def __init__(self, kind: str, db: Path | None = None):
        self.kind, self.db = kind, db
        self.args = [kind] + ([str(db)] if db else [])

    def __enter__(self):
        cmd = [sys.executable, "-m", self.module, "--serve", *self.args]
        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line:
            self.proc.wait()
            raise RuntimeError(f"the {self.kind} app did not start (exit {self.proc.returncode})")
        self.info = json.loads(line)
        self.url = f"http://127.0.0.1:{self.info['port']}/"
        return self

    def __exit__(self, *exc):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --- the browser side ---------------------------------------------------------------------

#: Injected before any script of the page: records performance.now() when things first appear.
PROBE = r"""
(function () {
  const rec = window.__bench = {longtasks: []};
  function mark(k) { if (!(k in rec)) { rec[k] = performance.now(); } }
  function check() {
    if (document.querySelector('#rider-results .result, #floor')) { mark('result'); }
    if (document.querySelector('.marker-cluster')) { mark('cluster'); }
    if (document.querySelector('.result-pin')) { mark('result_pin'); }
    if (document.querySelector('.leaflet-container')) { mark('map'); }
  }
  new MutationObserver(check).observe(document, {childList: true, subtree: true});
  // unclustered stations are canvas circles (preferCanvas): see when the page first makes one
  let nx;
  Object.defineProperty(window, 'nuanxin', {configurable: true, get: function () { return nx; },
    set: function (v) {
      nx = v;
      const m = v && v.map;
      if (m && m.stationMarker && !m.stationMarker.__bench) {
        const f = m.stationMarker;
        m.stationMarker = function () {
          if (!('station_marker' in rec)) {
            mark('station_marker');
            requestAnimationFrame(function () { mark('station_marker_frame'); });
          }
          return f.apply(this, arguments);
        };
        m.stationMarker.__bench = true;
      }
    }});
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) { rec.longtasks.push([e.startTime, e.duration]); });
    }).observe({type: 'longtask', buffered: true});
  } catch (e) { /* no long-task timing */ }
})();
"""

COLLECT = r"""
const rec = window.__bench || {};
const nav = performance.getEntriesByType('navigation')[0] || {};
const res = performance.getEntriesByType('resource').map(e => ({name: e.name, start: e.startTime,
  end: e.responseEnd, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize}));
return {rec: rec, nav: {response_end: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
  transfer: nav.transferSize, encoded: nav.encodedBodySize, decoded: nav.decodedBodySize}, resources: res};
"""


def _driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def _network(driver) -> dict:
    """From the CDP log: bytes on the wire (encodedDataLength, headers included), every URL, and
    each Dash callback request (its outputs, when it was sent and how long it took, in ms from the
    document's request)."""
    urls, sizes, sent, finished, outputs = {}, {}, {}, {}, {}
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        p = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
            sent.setdefault(p["requestId"], p["timestamp"])
            if "_dash-update-component" in p["request"]["url"]:
                try:
                    out = json.loads(p["request"].get("postData") or "{}").get("output", "?")
                except ValueError:
                    out = "?"
                outputs[p["requestId"]] = out.replace("..", " ").split("@")[0].strip()
        elif msg["method"] == "Network.loadingFinished":
            sizes[p["requestId"]] = p["encodedDataLength"]
            finished[p["requestId"]] = p["timestamp"]
    t0 = min(sent.values(), default=0)
    callbacks = sorted(((sent[r] - t0) * 1000, (finished.get(r, sent[r]) - sent[r]) * 1000, out)
                       for r, out in outputs.items())
    return {"wire_bytes": int(sum(sizes.values())), "urls": list(urls.values()),
            "per_url": {urls.get(r, r): n for r, n in sizes.items()}, "callbacks": callbacks}


def load_page(url: str, kind: str) -> dict:
    """One first visit in a fresh profile: times (ms from navigation start), bytes and URLs."""
    driver = _driver()
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
        driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                               {"latitude": HERE[0], "longitude": HERE[1], "accuracy": 15})
        driver.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted"})
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE})
        driver.get_log("performance")  # drop what the set-up logged
        driver.get(url)
        deadline = time.monotonic() + PAGE_TIMEOUT_S
        while time.monotonic() < deadline:
            rec = driver.execute_script("return window.__bench || {}")
            drawn = "cluster" in rec or "station_marker_frame" in rec
            if "result" in rec and (kind == "floor" or drawn):
                break
            time.sleep(0.05)
        # then until the network is quiet (the location callback, lazy chunks)
        count, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < 1.0 and time.monotonic() < deadline:
            n = driver.execute_script("return performance.getEntriesByType('resource').length")
            if n != count:
                count, quiet_since = n, time.monotonic()
            time.sleep(0.1)
        page = driver.execute_script(COLLECT)
        page.update(_network(driver))
        page["console"] = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        return page
    finally:
        driver.quit()


def summarise(load: dict) -> dict:
    rec = load["rec"]
    drawn = [rec[k] for k in ("cluster", "station_marker_frame") if k in rec]
    stations = [r for r in load["resources"] if "/api/v1/stations" in r["name"]]
    callbacks = [r for r in load["resources"] if "_dash-update-component" in r["name"]]
    long = rec.get("longtasks", [])
    return {
        "result": rec.get("result"),
        "drawn": min(drawn) if drawn else None,
        "cluster": rec.get("cluster"), "station_marker": rec.get("station_marker_frame"),
        "result_pin": rec.get("result_pin"), "map": rec.get("map"),
        "html_end": load["nav"]["response_end"], "dcl": load["nav"]["dcl"], "load": load["nav"]["load"],
        "first_callback_end": min((c["end"] for c in callbacks), default=None),
        "stations_start": stations[0]["start"] if stations else None,
        "stations_end": stations[0]["end"] if stations else None,
        "stations_transfer": stations[0]["transfer"] if stations else 0,
        "stations_decoded": stations[0]["decoded"] if stations else 0,
        "longtask_ms": sum(d for _, d in long), "longest_task_ms": max((d for _, d in long), default=0),
        "transfer_sum": load["nav"]["transfer"] + sum(r["transfer"] for r in load["resources"]),
        "decoded_sum": load["nav"]["decoded"] + sum(r["decoded"] for r in load["resources"]),
        "wire_bytes": load["wire_bytes"],
        "plotly": [u for u in load["urls"] if "plotly" in u.lower()],
        "external": [u for u in load["urls"] if not u.startswith(("http://127.0.0.1", "data:", "blob:"))],
        "console": load["console"],
        "per_url": load["per_url"],
        "callbacks": load["callbacks"],
    }


def measure(served: Served, runs: int) -> dict:
    cold = summarise(load_page(served.url, served.kind))
    warm = [summarise(load_page(served.url, served.kind)) for _ in range(runs)]
    return {"cold": cold, "runs": warm, "server": served.info}


# --- the report ---------------------------------------------------------------------------


def _stat(runs, key, f):
    vals = [r[key] for r in runs if r[key] is not None]
    return f(vals) if vals else float("nan")


def report(results: dict, runs: int) -> None:
    floor = _stat(results["floor"]["runs"], "result", np.median)
    print(f"\nFirst visit on a 375 px phone, headless Chromium, fresh profile, cache disabled; {runs} loads each "
          "after one warm-up load; ms from navigation start (performance.now()).")
    head = (f"{'page':<22}{'results p50':>12}{'max':>8}{'goal':>7}{'vs floor':>9}{'stations drawn p50':>19}"
            f"{'max':>8}{'html':>7}{'DCL':>7}{'1st cb':>8}{'stations GET':>14}{'long tasks':>11}")
    print(head)
    for kind, label in (("floor", "minimal Dash (floor)"), ("demo", "rider, 426 stations"),
                        ("100k", f"rider, {BIG_N:,} stations")):
        rs = results[kind]["runs"]
        p50 = _stat(rs, "result", np.median)
        goal = GOALS_MS.get(kind)
        get = f"{_stat(rs, 'stations_start', np.median):.0f}-{_stat(rs, 'stations_end', np.median):.0f}" \
            if kind != "floor" else "-"
        print(f"{label:<22}{p50:>12.0f}{_stat(rs, 'result', max):>8.0f}"
              f"{(str(goal) if goal else '-'):>7}{p50 / floor:>8.1f}x"
              f"{_stat(rs, 'drawn', np.median):>19.0f}{_stat(rs, 'drawn', max):>8.0f}"
              f"{_stat(rs, 'html_end', np.median):>7.0f}{_stat(rs, 'dcl', np.median):>7.0f}"
              f"{_stat(rs, 'first_callback_end', np.median):>8.0f}{get:>14}{_stat(rs, 'longtask_ms', np.median):>11.0f}")
    for kind in ("demo", "100k"):
        c = results[kind]["cold"]
        print(f"  cold first load after the server starts ({kind}): results {c['result']:.0f} ms, stations drawn "
              f"{(c['drawn'] or float('nan')):.0f} ms, stations GET ended {(c['stations_end'] or float('nan')):.0f} ms")
    r100 = results["100k"]["runs"]
    print(f"  100k: first cluster icon p50 {_stat(r100, 'cluster', np.median):.0f} ms, first canvas station "
          f"p50 {_stat(r100, 'station_marker', np.median):.0f} ms, result pins p50 "
          f"{_stat(r100, 'result_pin', np.median):.0f} ms, longest main-thread task p50 "
          f"{_stat(r100, 'longest_task_ms', np.median):.0f} ms")

    print("\nDash callbacks of the first load (last timed load): sent at ms from the document request, "
          "round trip ms, outputs")
    for kind in ("demo", "100k"):
        for sent, took, out in results[kind]["runs"][-1]["callbacks"]:
            print(f"  {kind:<5}{sent:>7.0f}{took:>7.0f}  {out[:110]}")

    print("\nBytes of the first load (cache disabled): on the wire = CDP Network.loadingFinished "
          "encodedDataLength (headers included); transferSize sum from Resource Timing; decoded = uncompressed.")
    print(f"{'page':<22}{'on the wire':>14}{'transferSize':>14}{'decoded':>12}{'stations GeoJSON wire/decoded':>32}"
          f"{'goal':>10}{'plotly':>8}{'external':>10}")
    for kind in ("floor", "demo", "100k"):
        r = results[kind]["runs"][0]
        goal = f"{GOAL_BYTES_DEMO / 1e6:.1f} MB" if kind == "demo" else "-"
        sj = f"{r['stations_transfer'] / 1e3:,.0f} / {r['stations_decoded'] / 1e3:,.0f} kB" if kind != "floor" else "-"
        print(f"{kind:<22}{r['wire_bytes'] / 1e3:>11,.0f} kB{r['transfer_sum'] / 1e3:>11,.0f} kB"
              f"{r['decoded_sum'] / 1e3:>9,.0f} kB{sj:>32}{goal:>10}{len(r['plotly']):>8}{len(r['external']):>10}")
    demo = results["demo"]["runs"][0]
    big = sorted(demo["per_url"].items(), key=lambda kv: -kv[1])[:6]
    print("  largest on the wire at 426: " + ", ".join(f"{u.split('/', 3)[-1][:60]} {n / 1e3:,.0f} kB" for u, n in big))
    plotly = sorted({u for k in results for r in results[k]["runs"] for u in r["plotly"]})
    external = sorted({u for k in results for r in results[k]["runs"] for u in r["external"]})
    console = [c for k in results for r in results[k]["runs"] for c in r["console"]]
    print(f"  plotly resources loaded: {plotly or 'none'}; external requests: {external or 'none'}; "
          f"console errors: {len(console)}" + (f" (first: {console[0]['message'][:200]})" if console else ""))

    print("\nServer time of results_view (what the results callback runs), in a request context; "
          "6 amenity sets × 4 times (now, 12:30, 21:45, 03:00 tomorrow) × 8 places, k=8, reach 5 km; ms.")
    print(f"{'stations':<10}{'calls':>6}{'view p50':>10}{'view p99':>10}{'max':>8}{'goal':>6}"
          f"{'nearest p50':>13}{'nearest p99':>13}{'ratio p50':>10}{'no result':>10}{'create_app':>12}")
    for kind in ("demo", "100k"):
        s = results[kind]["server"]
        print(f"{kind:<10}{s['n']:>6}{s['view_p50']:>10.2f}{s['view_p99']:>10.2f}{s['view_max']:>8.1f}"
              f"{GOAL_SERVER_MS:>6}{s['bare_p50']:>13.2f}{s['bare_p99']:>13.2f}"
              f"{s['view_p50'] / s['bare_p50']:>9.1f}x{s['empty']:>10}{s['create_app_s']:>10.1f} s")
    for kind in ("demo", "100k"):
        s = results[kind]["server"]
        print(f"  {kind}: slowest case {s['worst_case']} (max {s['worst_case_max']:.1f} ms over the 8 places)")
    for kind in ("demo", "100k"):
        s = results[kind]["server"]
        print(f"  {kind}: stations GeoJSON (fields=id,name,status) {s['stations_json_bytes'] / 1e6:.2f} MB, built in "
              f"{s['stations_json_build_ms']:.0f} ms once per store version; GET with compression "
              f"{s['stations_get_ms']:.0f} ms -> {s['stations_get_bytes'] / 1e3:,.0f} kB "
              f"({s['stations_get_encoding']}), compressed again on every request")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--serve", nargs="+", metavar=("KIND", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.serve:
        serve(args.serve[0], args.serve[1] if len(args.serve) > 1 else None)
        return
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-rider-") as tmp:
        paths = build_datasets(Path(tmp))
        results = {}
        for kind, db in (("floor", None), ("demo", paths["demo"]), ("100k", paths["100k"])):
            t0 = time.perf_counter()
            with Served(kind, db) as served:
                t1 = time.perf_counter()
                results[kind] = measure(served, args.runs)
            print(f"{kind}: app ready in {t1 - t0:.1f} s, {args.runs + 1} loads in {time.perf_counter() - t1:.1f} s",
                  flush=True)
    report(results, args.runs)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main(sys.argv[1:])
