"""Benchmark of the viewport answer (``GET /api/v1/stations/view``) against the whole ``/stations`` collection.

A phone's first view: 375 × 740 px around Tianfu Square at zoom 14 (stations one by one) and zoom 11
(clusters), at 426 stations (the demo GeoPackage) and at 130,000 (the demo stations, then copies spread
over mainland China as in :mod:`bench.bench_nearest`; and, as the worst case a city could give, the same
130,000 packed into Chengdu's box). For each: the stations in view, the features answered, the bytes of
the answer (plain and gzip, as the route sends them) and the time of ``StationCatalogue.stations_view``
(p50 and p99 over ``REPEATS`` calls after one warm-up; the first call builds the index and the open mask
and is reported on its own), against the bytes of the whole ``/stations?fields=id,name,status``
collection at the same size, and against the 426-station view in the same run.

`python -m bench.bench_stations_view` (about half a minute).
"""
from __future__ import annotations

import gzip
import math
import os
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd

from bench.bench_nearest import CHENGDU_LAT, CHENGDU_LON, DEFAULT_DB, demo_stations, scaled, synthetic_stations
from layers.common import geojson
from layers.rider.catalogue import MAP_FIELDS, StationCatalogue
from layers.rider.viewport import TILE_PX

#: Tianfu Square (lon, lat): the page's default centre.
TIANFU = (104.0657, 30.6574)
#: A phone's map in CSS pixels (width, height).
PHONE_PX = (375, 740)
ZOOMS = (14, 11)
BIG_N = 130_000
REPEATS = 50
AT = datetime(2025, 3, 12, 19, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


class MemoryStore:
    """The one layer the catalogue reads here, held in memory at version 1."""

    def __init__(self, stations: gpd.GeoDataFrame):
        self._stations = stations

    def layers(self) -> list[str]:
        return ["stations"]

    def read(self, name: str) -> gpd.GeoDataFrame:
        if name != "stations":
            raise KeyError(name)
        return self._stations

    def version(self, name: str) -> int:
        return 1


def phone_bbox(lon: float, lat: float, zoom: int, size_px=PHONE_PX) -> tuple[float, float, float, float]:
    """The box a ``size_px`` map centred on (lon, lat) shows at ``zoom`` (Web Mercator, as Leaflet draws it)."""
    world = TILE_PX * 2 ** zoom
    cx = (lon + 180) / 360 * world
    phi = math.radians(lat)
    cy = (1 - math.log(math.tan(phi) + 1 / math.cos(phi)) / math.pi) / 2 * world

    def lonlat(px, py):
        return px / world * 360 - 180, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * py / world))))

    west, north = lonlat(cx - size_px[0] / 2, cy - size_px[1] / 2)
    east, south = lonlat(cx + size_px[0] / 2, cy + size_px[1] / 2)
    return west, south, east, north


def packed(base: gpd.GeoDataFrame, n: int, seed: int = 13) -> gpd.GeoDataFrame:
    """``n`` stations: the base set, then copies of its rows placed uniformly over Chengdu's box."""
    out = scaled(base, n)
    rng = np.random.default_rng(seed)
    extra = n - len(base)
    lon, lat = out.geometry.x.to_numpy().copy(), out.geometry.y.to_numpy().copy()
    lon[len(base):], lat[len(base):] = rng.uniform(*CHENGDU_LON, extra), rng.uniform(*CHENGDU_LAT, extra)
    return out.set_geometry(gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _measure(stations: gpd.GeoDataFrame, label: str) -> list[dict]:
    catalogue = StationCatalogue(MemoryStore(stations), with_network=False)
    full = catalogue.feature_collection_json(MAP_FIELDS)
    full_gz = len(gzip.compress(full, compresslevel=6, mtime=0))
    rows = []
    for zoom in ZOOMS:
        box = phone_bbox(*TIANFU, zoom)
        t0 = time.perf_counter()
        catalogue.stations_view(box, zoom, MAP_FIELDS, at=AT)  # the first call after a store change
        first = time.perf_counter() - t0
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            doc = catalogue.stations_view(box, zoom, MAP_FIELDS, at=AT)
            body = geojson.dumps(doc)
            times.append(time.perf_counter() - t0)
        gz = len(gzip.compress(body, compresslevel=6, mtime=0))
        ms = np.asarray(times) * 1000
        rows.append({"stations": len(stations), "layout": label, "zoom": zoom, "in view": doc["count"],
                     "features": len(doc["features"]), "view bytes": len(body), "view gzip": gz,
                     "view p50 ms": float(np.percentile(ms, 50)), "view p99 ms": float(np.percentile(ms, 99)),
                     "first call ms": first * 1000, "/stations bytes": len(full), "/stations gzip": full_gz,
                     "view/full (gzip)": gz / full_gz})
    return rows


def run() -> pd.DataFrame:
    base = demo_stations(Path(os.environ.get("NUANXIN_DB", DEFAULT_DB)))
    source = "demo" if base is not None else "synthetic"
    if base is None:
        base = synthetic_stations(426, seed=7)
    rows = _measure(base, source)
    rows += _measure(scaled(base, BIG_N), "national")
    rows += _measure(packed(base, BIG_N), "Chengdu-packed")
    table = pd.DataFrame(rows)
    baseline = table[table["stations"] == len(base)].set_index("zoom")["view gzip"]
    table["gzip vs 426"] = table["view gzip"] / table["zoom"].map(baseline)
    return table


def main() -> None:
    table = run()
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print(f"Viewport answer for a {PHONE_PX[0]}x{PHONE_PX[1]} px phone around Tianfu Square "
              f"({', '.join(f'zoom {z}: bbox ' + ','.join(f'{v:.4f}' for v in phone_bbox(*TIANFU, z)) for z in ZOOMS)})"
              f"; fields {','.join(MAP_FIELDS)}; {REPEATS} calls each (stations_view + JSON).")
        print("national: the demo stations, then copies spread over mainland China; Chengdu-packed: the copies "
              f"in lon {CHENGDU_LON[0]}-{CHENGDU_LON[1]}, lat {CHENGDU_LAT[0]}-{CHENGDU_LAT[1]} (a worst case).")
        print("'first call ms' at the first zoom of a size includes building the index and the open mask.")
        print("'gzip vs 426' is the view's gzip bytes against the 426-station view at the same zoom, same run; "
              "'view/full' against the whole /stations collection at the same size.")
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
