"""Benchmark of national coverage streamed in chunks: 1,000,000 and 10,000,000 points × 130,000 stations, time and
peak memory (each size in its own process), time per point against 1,000,000 in the same run; the in-process
CoverageModel on the same 1,000,000 points, and the CSV and GeoParquet readers' cost, as baselines; stations spread
nationally and packed into Chengdu."""
from __future__ import annotations

import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

SIZES = (1_000_000, 10_000_000)
N_STATIONS = 130_000
CHUNK_ROWS = 1_000_000
RADIUS_M = 1000.0
AT = dt.datetime(2026, 3, 4, 12, 0)  # a Wednesday noon
WORKERS = 2
DEFAULT_DB = Path("var/nuanxin.gpkg")


#: Where the 130,000 stations stand: ``national`` as bench_nearest places them (the demo's, then copies over
#: mainland China), ``chengdu`` as bench_coverage does (copies jittered ~3 km around the demo's: dense).
LAYOUTS = ("national", "chengdu")


def stations_and_districts(layout: str = "national"):
    """130,000 stations laid out as ``layout`` says, and the districts."""
    from bench.bench_coverage import many_stations
    from bench.bench_nearest import demo_stations, scaled, synthetic_stations
    from mapdata.demo.districts import load_districts

    districts = load_districts()
    base = demo_stations(Path(os.environ.get("NUANXIN_DB", DEFAULT_DB)))
    if base is None:
        base = synthetic_stations(426, seed=7)
    if layout == "chengdu":
        return many_stations(base, N_STATIONS, districts), districts
    return scaled(base, N_STATIONS), districts


class GroundPoints:
    """``n`` seeded points on real ground (inside Chengdu's districts), weights 1–5, in chunks of ``chunk``;
    the time spent making them is kept apart (``seconds``) so that the coverage can be timed alone."""

    def __init__(self, districts, n: int, chunk: int = CHUNK_ROWS, seed: int = 17):
        self.shape = shapely.union_all(districts.geometry.values)
        shapely.prepare(self.shape)
        self.bounds = self.shape.bounds
        self.n, self.chunk, self.seed = n, chunk, seed
        self.seconds = 0.0

    def __iter__(self):
        from layers.planning.national import DemandChunk

        rng = np.random.default_rng(self.seed)
        x0, y0, x1, y1 = self.bounds
        done = 0
        while done < self.n:
            started = time.perf_counter()
            want = min(self.chunk, self.n - done)
            lon, lat = np.empty(0), np.empty(0)
            while len(lon) < want:
                cx, cy = rng.uniform(x0, x1, 2 * want), rng.uniform(y0, y1, 2 * want)
                hit = shapely.contains_xy(self.shape, cx, cy)
                lon, lat = np.concatenate([lon, cx[hit]]), np.concatenate([lat, cy[hit]])
            chunk = DemandChunk(lon[:want].copy(), lat[:want].copy(), rng.integers(1, 6, want).astype(float), done + 1)
            self.seconds += time.perf_counter() - started
            done += want
            yield chunk


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM (reset by exec, unlike ru_maxrss, which keeps the peak of
    the process that forked it), ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def child(kind: str, layout: str, n: int, csv_path: str | None = None) -> dict:
    """One measurement in this process: ``stream`` (generated chunks), ``csv`` (a file through DemandFile)
    or ``model`` (the in-process CoverageModel on the same points, built and asked once)."""
    from layers.common.hours import HoursTable
    from layers.planning.coverage import CoverageModel
    from layers.planning.national import DemandFile, national_coverage

    stations, districts = stations_and_districts(layout)
    hours = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
    points = GroundPoints(districts, n)
    ready_mb = _peak_mb()
    if kind == "model":
        chunks = list(points)
        lon = np.concatenate([c.lon for c in chunks])
        lat = np.concatenate([c.lat for c in chunks])
        weight = np.concatenate([c.weight for c in chunks])
        del chunks
        started = time.perf_counter()
        model = CoverageModel(stations, lon, lat, weight, districts=districts, hours=hours, max_radius_m=RADIUS_M)
        result = model.coverage(RADIUS_M, at=AT)
        seconds = time.perf_counter() - started
    else:
        source = DemandFile(csv_path, CHUNK_ROWS) if kind in ("csv", "parquet") else points
        started = time.perf_counter()
        result = national_coverage(source, stations, RADIUS_M, districts=districts, hours=hours, at=AT,
                                   workers=WORKERS)
        seconds = time.perf_counter() - started - (points.seconds if kind == "stream" else 0.0)
    return {"kind": kind, "n": n, "seconds": seconds, "generate_s": points.seconds, "ready_mb": ready_mb,
            "peak_mb": _peak_mb(), "points_covered": result.overall["points_covered"],
            "share": result.overall["share"], "hexagons": len(result.hexagons)}


def _run_child(kind: str, layout: str, n: int, csv_path: str | None = None) -> dict:
    args = [sys.executable, "-m", "bench.bench_national", "--child", kind, layout, str(n)] + \
        ([csv_path] if csv_path else [])
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _write_geoparquet(n: int, path: Path) -> None:
    """The same points as a GeoParquet file (WKB points in OGC:CRS84, its ``geo`` metadata as the specification
    says it; one row group per chunk), written a chunk at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from mapdata.demo.districts import load_districts

    geo = {"version": "1.1.0", "primary_column": "geometry",
           "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}}}
    schema = pa.schema([("weight", pa.float64()), ("geometry", pa.binary())], metadata={"geo": json.dumps(geo)})
    with pq.ParquetWriter(path, schema) as writer:
        for chunk in GroundPoints(load_districts(), n):
            wkb = shapely.to_wkb(shapely.points(chunk.lon, chunk.lat))
            writer.write_table(pa.table({"weight": chunk.weight, "geometry": wkb}, schema=schema))


def _write_csv(n: int, path: Path) -> float:
    from mapdata.demo.districts import load_districts

    districts = load_districts()
    started = time.perf_counter()
    first = True
    for chunk in GroundPoints(districts, n):
        pd.DataFrame({"lon": chunk.lon, "lat": chunk.lat, "weight": chunk.weight}).to_csv(
            path, mode="w" if first else "a", header=first, index=False)
        first = False
    return time.perf_counter() - started


def run() -> pd.DataFrame:
    rows = []
    for layout in LAYOUTS:
        measured = {n: _run_child("stream", layout, n) for n in SIZES}
        base = measured[SIZES[0]]
        rows += [(layout, f"streamed {n:,} points (chunks of {CHUNK_ROWS:,})", m, base) for n, m in measured.items()]
        model = _run_child("model", layout, SIZES[0])
        rows.append((layout, f"in-process CoverageModel, {SIZES[0]:,} points", model, base))
        same = [model["points_covered"] == base["points_covered"]]
        if layout == LAYOUTS[0]:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "trips.csv"
                _write_csv(SIZES[0], path)
                csv = _run_child("csv", layout, SIZES[0], str(path))
                rows.append((layout, f"CSV file {path.stat().st_size / 1e6:,.0f} MB, {SIZES[0]:,} rows", csv, base))
                same.append(csv["points_covered"] == base["points_covered"])
                gpq = Path(tmp) / "trips.parquet"
                _write_geoparquet(SIZES[0], gpq)
                parquet = _run_child("parquet", layout, SIZES[0], str(gpq))
                rows.append((layout, f"GeoParquet file {gpq.stat().st_size / 1e6:,.0f} MB, {SIZES[0]:,} rows",
                             parquet, base))
                same.append(parquet["points_covered"] == base["points_covered"])
        print(f"{layout}: the {SIZES[0]:,} points streamed, in-process{' and from CSV and GeoParquet' if len(same) > 1 else ''} "
              f"cover the same number of points: {all(same)}", flush=True)
    return pd.DataFrame([{
        "stations": layout,
        "case": name,
        "time": f"{m['seconds']:.1f} s",
        "µs/point": f"{m['seconds'] / m['n'] * 1e6:.2f}",
        "vs 1M streamed": f"×{(m['seconds'] / m['n']) / (base['seconds'] / base['n']):.2f}",
        "peak RSS": f"{m['peak_mb']:,.0f} MB",
        "RSS before points": f"{m['ready_mb']:,.0f} MB",
        "covered": f"{m['points_covered']:,} ({m['share']:.4f})",
    } for layout, name, m, base in rows])


def main() -> None:
    print(f"{N_STATIONS:,} stations, 'national' (the demo's, the rest spread over mainland China as in "
          f"bench_nearest) or 'chengdu' (jittered around the demo's, as in bench_coverage); points inside "
          f"Chengdu's districts, {RADIUS_M:,.0f} m straight line, open at {AT:%a %H:%M}, "
          f"KD-tree with {WORKERS} workers; generating the points is timed apart and not counted.")
    table = run()
    with pd.option_context("display.max_colwidth", 60, "display.width", 220):
        print(table.to_string(index=False))


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None)))
    else:
        main()
