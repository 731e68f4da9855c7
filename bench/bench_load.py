"""The app under load: gunicorn driven by wrk, the nearest API against a trivial route in the same run.

gunicorn is started here as in production (``make serve``: ``--workers 2 --threads 4 --preload --reuse-port
'app:create_server()'``) on a free local port, against a copy of the demo store (NUANXIN_DB),
NUANXIN_TILES=none and a fixed NUANXIN_SECRET_KEY. Then ``wrk -t2 -c32 -d20s --latency`` runs
bench/load_points.lua (random points inside Chengdu, lon 103.9-104.2, lat 30.55-30.8, seeded) for:

* trivial: GET /api/v1/amenities (the vocabulary, no computation: the app's floor and the baseline);
* nearest: GET /api/v1/stations/nearest?lat=&lon=&amenities=&at=now&k=5;
* render: the rider page's results callback (callbacks/rider.py ``show_results``), the exact
  ``/_dash-update-component`` POST the browser makes when the rider taps the map: its outputs,
  inputs and states are read from /_dash-dependencies, their values from the layout the page
  router serves for ``/`` (as the browser has them), with ``rider-where`` moved to the point;
* mixed: nearest, GET /api/v1/coverage (default parameters) and GET /api/v1/stations in turn.

Each route is requested once before its run (the coverage model is built on its first question,
and a wrong request fails here, not as a run of errors). wrk counts status >= 400 as errors and
a 1xx/3xx as a success; every route here answers 200 when it works.

``--profile``: in this process through Flask's test client, first milliseconds per request of the
trivial route, nearest, nearest with the finder's answer handed over (the API layer alone) and the
finder alone; then the nearest and render requests again under cProfile, the top 15 functions by
cumulative time (one worker thread, no network: where the Python time goes).

``python -m bench.bench_load [--seconds 20] [--connections 32] [--workers 2] [--threads 4] [--profile]``;
``python -m bench load`` runs it with the defaults.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LUA = Path(__file__).resolve().parent / "load_points.lua"
DEFAULT_DB = ROOT / "var" / "nuanxin.gpkg"
SEED = 20250401
SECRET_KEY = "bench-load-fixed-secret-key"
LON, LAT = (103.9, 104.2), (30.55, 30.8)
TRIVIAL = "/api/v1/amenities"
NEAREST = "/api/v1/stations/nearest?lat={lat}&lon={lon}&amenities=&at=now&k=5"
COVERAGE = "/api/v1/coverage"
STATIONS = "/api/v1/stations"
UPDATE = "/_dash-update-component"
RESULTS_OUTPUT = "rider-results.children"
ROUTER_OUTPUT = ".._pages_content.children..._pages_store.data.."
#: Issue 12's figures (2 sync workers, a quiet machine) and goals: requests/s and p99 in ms.
ISSUE_BASELINE = {"nearest": (1300, 67), "render": (190, 445), "mixed": (89, 1400)}
GOAL_NEAREST_SHARE, GOAL_NEAREST_P99_MS, GOAL_FACTOR = 0.8, 50, 3
START_TIMEOUT_S = 180
PROFILE_REQUESTS = 300
PROFILE_TOP = 15


# --- the server --------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(db: Path) -> dict[str, str]:
    return {**os.environ, "NUANXIN_DB": str(db), "NUANXIN_TILES": "none", "NUANXIN_SECRET_KEY": SECRET_KEY,
            "NUANXIN_DEBUG": "0"}


class Gunicorn:
    """gunicorn serving the app on a free local port; ``with`` starts it, waits for it, and stops it."""

    def __init__(self, db: Path, workers: int, threads: int, log: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.cmd = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--threads", str(threads),
                    "--preload", "--reuse-port", "--bind", f"127.0.0.1:{self.port}", "--error-logfile", "-",
                    "app:create_server()"]
        self.env = server_env(db)
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self._out = self.log.open("wb")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base + TRIVIAL, timeout=2) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.5)
        self.__exit__(None, None, None)
        raise RuntimeError(f"gunicorn did not answer {TRIVIAL} within {START_TIMEOUT_S} s:\n{self.tail()}")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# --- the render callback's request --------------------------------------------------------------

def _post_json(url: str, body: dict) -> dict:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as r:
        if r.status != 200:
            raise RuntimeError(f"{url}: status {r.status}")
        return r.read()


def _component_values(tree, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], object]:
    """The (id, property) values of the components in a layout tree, as the browser holds them."""
    found: dict[tuple[str, str], object] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict) and isinstance(props.get("id"), str):
                for prop in props:
                    if (props["id"], prop) in wanted:
                        found[(props["id"], prop)] = props[prop]
            stack.extend(node.values())
    return found


def render_body(base: str) -> dict:
    """The body of the rider page's results callback, with ``rider-where`` at ``{lat}``/``{lon}`` (a tap).

    The callback's signature comes from /_dash-dependencies; every input and state value from the
    layout the router callback serves for ``/``, except the position, which is a tap on the map.
    """
    deps = json.loads(_get(base + "/_dash-dependencies"))
    dep = next(d for d in deps if RESULTS_OUTPUT in d["output"] and "rider-where" in json.dumps(d["inputs"]))
    router = next(d for d in deps if d["output"] == ROUTER_OUTPUT)
    layout = _post_json(base + UPDATE, {
        "output": router["output"], "outputs": _outputs(router["output"]),
        "inputs": [{**i, "value": "/" if i["property"] == "pathname" else ""} for i in router["inputs"]],
        "changedPropIds": [f"{router['inputs'][0]['id']}.{router['inputs'][0]['property']}"], "state": []})
    wanted = {(x["id"], x["property"]) for x in dep["inputs"] + dep["state"]}
    values = _component_values(layout, wanted)
    missing = wanted - set(values) - {("rider-open-day", "value"), ("rider-open-time", "value"),
                                      ("rider-routes", "data")}  # None in the layout: Dash leaves them out
    if missing:
        raise RuntimeError(f"the rider layout has no {sorted(missing)}")
    values[("rider-where", "data")] = {"lat": "LAT_SENTINEL", "lon": "LON_SENTINEL", "where": "tap"}
    return {"output": dep["output"], "outputs": _outputs(dep["output"]),
            "inputs": [{**x, "value": values.get((x["id"], x["property"]))} for x in dep["inputs"]],
            "changedPropIds": ["rider-where.data"],
            "state": [{**x, "value": values.get((x["id"], x["property"]))} for x in dep["state"]]}


def _outputs(output: str) -> list[dict] | dict:
    """Dash's ``outputs`` for a callback's output string (``..a.b...c.d..`` or ``a.b``, ``@hash`` kept off)."""
    parts = output.strip(".").split("...") if output.startswith("..") else [output]
    specs = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        specs.append({"id": ident, "property": prop.split("@")[0]})
    return specs if output.startswith("..") else specs[0]


def body_text(body: dict) -> str:
    """The JSON body with the point's placeholders as the Lua script expects them (numbers, unquoted)."""
    return json.dumps(body, ensure_ascii=False).replace('"LAT_SENTINEL"', "{lat}").replace('"LON_SENTINEL"', "{lon}")


def at_point(text: str, lat: float, lon: float) -> str:
    return text.replace("{lat}", f"{lat:.6f}").replace("{lon}", f"{lon:.6f}")


# --- wrk ---------------------------------------------------------------------------------------

def run_wrk(base: str, templates: list[str], seconds: int, connections: int, threads: int = 2) -> dict:
    """One wrk run over ``templates`` (see load_points.lua); the figures of its done() line."""
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
           "-s", str(LUA), base, "--", str(SEED), *templates]
    load = os.getloadavg()[0]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"no WRK_JSON line in wrk's output:\n{out.stdout}\n{out.stderr}")
    f = json.loads(line.removeprefix("WRK_JSON "))
    socket_errors = f["connect"] + f["read"] + f["write"] + f["timeout"]
    return {"req/s": f["requests"] / (f["duration_us"] / 1e6), "p50 ms": f["p50_us"] / 1000,
            "p90 ms": f["p90_us"] / 1000, "p99 ms": f["p99_us"] / 1000, "max ms": f["max_us"] / 1000,
            "requests": f["requests"], "non-2xx": f["status"], "socket errors": socket_errors,
            "load 1m": load}


def loads(body_file: Path) -> dict[str, list[str]]:
    nearest = f"GET {NEAREST}"
    return {"trivial": [f"GET {TRIVIAL}"], "nearest": [nearest], "render": [f"POST {UPDATE} {body_file}"],
            "mixed": [nearest, f"GET {COVERAGE}", f"GET {STATIONS}"]}


def warm_up(base: str, body: str) -> None:
    """Each route once, checked: a 200 with what a client reads from it."""
    lat, lon = 30.6586, 104.0648
    assert json.loads(_get(base + TRIVIAL)), TRIVIAL
    near = json.loads(_get(base + at_point(NEAREST, lat, lon)))
    if not near.get("results"):
        raise RuntimeError(f"nearest found nothing at Tianfu Square: {near}")
    _get(base + COVERAGE)
    _get(base + STATIONS)
    req = urllib.request.Request(base + UPDATE, data=at_point(body, lat, lon).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        answer = json.loads(r.read())
    results = answer["response"]["rider-results"]["children"]
    if not results:
        raise RuntimeError("the render callback returned no results at Tianfu Square")


# --- the profile ---------------------------------------------------------------------------------

def profile(db: Path, body: str, requests: int = PROFILE_REQUESTS, top: int = PROFILE_TOP) -> str:
    """nearest and the render callback through Flask's test client under cProfile: the top lines of each."""
    os.environ.update({k: v for k, v in server_env(db).items() if k.startswith("NUANXIN_")})
    sys.path.insert(0, str(ROOT))
    from app import create_server

    server = create_server()
    client = server.test_client()
    rng = random.Random(SEED)
    points = [(rng.uniform(*LAT), rng.uniform(*LON)) for _ in range(requests)]
    report = io.StringIO()
    report.write(floor(server, client, points))
    cases = {  # name: (request, how many; the mixed load's other two are slow, fewer of them)
        "nearest": (lambda lat, lon: client.get(at_point(NEAREST, lat, lon)), requests),
        "render": (lambda lat, lon: client.post(UPDATE, data=at_point(body, lat, lon), content_type="application/json"),
                   requests),
        "coverage": (lambda lat, lon: client.get(COVERAGE), max(requests // 10, 1)),
        "stations": (lambda lat, lon: client.get(STATIONS), max(requests // 10, 1)),
    }
    own = f"^{re.escape(str(ROOT))}/(?!\\.venv/)"  # the app's own modules, not the libraries'
    for name, (call, n) in cases.items():
        for lat, lon in points[:3]:  # caches of the instant, the first request's imports
            assert call(lat, lon).status_code == 200
        prof = cProfile.Profile()
        started = time.perf_counter()
        prof.enable()
        for lat, lon in points[:n]:
            response = call(lat, lon)
            if response.status_code != 200:
                raise RuntimeError(f"{name}: status {response.status_code}")
        prof.disable()
        took = time.perf_counter() - started
        report.write(f"\n--- profile: {name}, {n} requests in process (test client, under cProfile): "
                     f"{took / n * 1000:.2f} ms per request ---\n")
        for title, key, restrict in ((f"top {top} by cumulative time", "cumulative", ()),
                                     (f"top {top} of the app's own functions by cumulative time", "cumulative", (own,)),
                                     (f"top {top} by own time (tottime)", "tottime", ())):
            text = io.StringIO()
            pstats.Stats(prof, stream=text).sort_stats(key).print_stats(*restrict, top)
            report.write(f"{title}:\n{_table_lines(text.getvalue())}\n")
    return report.getvalue()


def floor(server, client, points) -> str:
    """Milliseconds per request in this process (no cProfile): the trivial route, nearest, nearest with the
    finder's answer handed over (the API layer around the finder: parsing, validation, JSON) and the finder
    alone; and the nearest/trivial ratio the server could reach if the finder cost nothing."""
    from layers.common.calendar import to_minute
    from layers.services import services_of
    from mapdata import clock

    finder = services_of(server).stations.finder
    at = to_minute(clock.now())

    def per_request(call) -> float:
        for lat, lon in points[:20]:
            call(lat, lon)
        started = time.perf_counter()
        for lat, lon in points:
            call(lat, lon)
        return (time.perf_counter() - started) / len(points) * 1000

    trivial = per_request(lambda lat, lon: client.get(TRIVIAL))
    nearest = per_request(lambda lat, lon: client.get(at_point(NEAREST, lat, lon)))
    alone = per_request(lambda lat, lon: finder.nearest(lat, lon, at=at, k=5))
    given = finder.nearest(*points[0], at=at, k=5)
    kind = type(finder)
    real = kind.nearest
    kind.nearest = lambda self, *args, **kwargs: given
    try:
        api_only = per_request(lambda lat, lon: client.get(at_point(NEAREST, lat, lon)))
    finally:
        kind.nearest = real
    return (f"\n--- in process, {len(points)} requests each (test client, no profiler) ---\n"
            f"  trivial {trivial:.3f} ms; nearest {nearest:.3f} ms; nearest with the finder's answer given "
            f"{api_only:.3f} ms; the finder alone {alone:.3f} ms\n"
            f"  nearest/trivial cost {nearest / trivial:.2f}x; with a finder that cost nothing "
            f"{api_only / trivial:.2f}x\n")


def _table_lines(text: str) -> str:
    """pstats' table alone (header and rows), paths shortened to the package they are in."""
    lines = text.splitlines()
    start = next((i for i, x in enumerate(lines) if x.lstrip().startswith("ncalls")), 0)
    site = next((p for p in sys.path if p.endswith("site-packages")), None)
    out = "\n".join(x for x in lines[start:] if x.strip())
    for prefix in filter(None, (site and site + "/", str(ROOT) + "/", os.path.dirname(os.__file__) + "/")):
        out = out.replace(prefix, "")
    return out


# --- the table -----------------------------------------------------------------------------------

def run(seconds: int = 20, connections: int = 32, workers: int = 2, threads: int = 4,
        with_profile: bool = False) -> tuple[list[dict], str]:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: `make load-deps` (apt-get install wrk)")
    src = Path(os.environ.get("NUANXIN_DB", DEFAULT_DB))
    if not src.exists():
        raise RuntimeError(f"no data store at {src}; build it with `make data`")
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        tmp = Path(tmp)
        db = tmp / "nuanxin.gpkg"
        shutil.copyfile(src, db)
        rows = []
        with Gunicorn(db, workers, threads, tmp / "gunicorn.log") as g:
            body = body_text(render_body(g.base))
            body_file = tmp / "render_body.json"
            body_file.write_text(body, encoding="utf-8")
            warm_up(g.base, body)
            for name, templates in loads(body_file).items():
                print(f"  {name}: {seconds} s at {connections} connections ...", flush=True)
                rows.append({"load": name, **run_wrk(g.base, templates, seconds, connections)})
            alive = g.proc.poll() is None
            if not alive:
                raise RuntimeError(f"gunicorn died during the runs:\n{g.tail()}")
        prof = profile(db, body) if with_profile else ""
    return rows, prof


def print_table(rows: list[dict], seconds: int, connections: int, workers: int, threads: int) -> None:
    import pandas as pd

    table = pd.DataFrame(rows)
    by = {r["load"]: r for r in rows}
    print(f"gunicorn --workers {workers} --threads {threads} --preload --reuse-port, demo store copy; "
          f"wrk -t2 -c{connections} -d{seconds}s --latency; random points in Chengdu "
          f"(lon {LON[0]}-{LON[1]}, lat {LAT[0]}-{LAT[1]}, seed {SEED}); {os.cpu_count()} CPUs")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.1f}".format):
        print(table.to_string(index=False))
    share = by["nearest"]["req/s"] / by["trivial"]["req/s"]
    print(f"\nratio nearest/trivial throughput: {share:.2f} (goal >= {GOAL_NEAREST_SHARE}); "
          f"nearest p99 {by['nearest']['p99 ms']:.1f} ms (goal < {GOAL_NEAREST_P99_MS} ms)")
    for name in ("render", "mixed"):
        base_rps, base_p99 = ISSUE_BASELINE[name]
        print(f"ratio {name} / issue 12's {base_rps} req/s: {by[name]['req/s'] / base_rps:.2f} "
              f"(goal >= {GOAL_FACTOR}); p99 {by[name]['p99 ms']:.0f} ms (issue: {base_p99} ms)")
    errors = sum(r["non-2xx"] + r["socket errors"] for r in rows)
    print(f"errors (non-2xx + socket), all runs: {errors} (goal 0)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_load", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="length of each wrk run (default 20)")
    parser.add_argument("--connections", type=int, default=32, help="wrk's open connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as `make serve`)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (default 4, as `make serve`)")
    parser.add_argument("--profile", action="store_true", help="also profile nearest and the render in process")
    args = parser.parse_args([] if argv is None else argv)
    print(f"uptime load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    rows, prof = run(args.seconds, args.connections, args.workers, args.threads, args.profile)
    print_table(rows, args.seconds, args.connections, args.workers, args.threads)
    if prof:
        print(prof)


if __name__ == "__main__":
    main(sys.argv[1:])
