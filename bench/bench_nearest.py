"""Benchmark of StationFinder.nearest against full scans, at 426, 10,000 and 130,000 stations."""
from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd

from layers.common.amenities import masks_for, parse_amenities
from layers.common.calendar import as_local
from layers.common.geodesy import haversine_m
from layers.common.hours import HoursTable
from layers.rider.nearest import StationFinder
from mapdata.vocabulary import AMENITY_KEYS
from tests.helpers import brute_force_nearest

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: The city-wide area the synthetic stations and the queries are spread over.
CHENGDU_LON, CHENGDU_LAT = (103.6, 104.5), (30.4, 31.0)
#: The centre extract of the OSM road network (mapdata/sources/README.md).
CENTRE_LON, CENTRE_LAT = (104.0421, 104.1296), (30.6528, 30.7279)
#: Mainland China, roughly: where the scaled-up copies are spread (national scale).
CHINA_LON, CHINA_LAT = (98.0, 122.0), (22.0, 42.0)
OPENING_HOURS = ("24/7", "Mo-Su 08:00-22:00", "Mo-Fr 08:30-12:00,14:00-18:00; PH off", "Mo-Su 18:00-02:00",
                 "Mo-Sa 07:00-21:00", "Mo-Fr 09:00-17:00")
_HOURS_WEIGHTS = (0.3, 0.3, 0.15, 0.1, 0.1, 0.05)
#: Share of stations having each amenity; ``kitchen`` is handed out separately, to exactly three.
AMENITY_SHARE = {"drinking_water": 0.9, "microwave": 0.5, "charging": 0.8, "toilet": 0.6, "first_aid": 0.45,
                 "books": 0.3, "legal_counselling": 0.15, "psychological_counselling": 0.1,
                 "air_conditioning": 0.65, "rest_area": 0.75, "kitchen": 0.0, "wifi": 0.5}
RARE_AMENITY = "kitchen"
SIZES = (426, 10_000, 130_000)
DEFAULT_DB = Path("var/nuanxin.gpkg")


def synthetic_stations(n: int = 426, seed: int = 7) -> gpd.GeoDataFrame:
    """A seeded, realistic stand-in for the ``stations`` layer over Chengdu.

    A third of the stations sit in the centre, where the road network is; a few share the exact
    position of another (so ties must be broken by id); 8 % are closed temporarily, most with an
    end date; exactly three have a kitchen.
    """
    rng = np.random.default_rng(seed)
    in_centre = rng.random(n) < 1 / 3
    lon = np.where(in_centre, rng.uniform(*CENTRE_LON, n), rng.uniform(*CHENGDU_LON, n))
    lat = np.where(in_centre, rng.uniform(*CENTRE_LAT, n), rng.uniform(*CHENGDU_LAT, n))
    twins = rng.choice(n, size=max(n // 40, 2), replace=False)
    lon[twins[1:]], lat[twins[1:]] = lon[twins[:-1]], lat[twins[:-1]]
    share = np.array([AMENITY_SHARE[key] for key in AMENITY_KEYS])
    has = rng.random((n, len(AMENITY_KEYS))) < share
    has[rng.choice(n, size=3, replace=False), AMENITY_KEYS.index(RARE_AMENITY)] = True
    keys = np.array(AMENITY_KEYS)
    closed = rng.random(n) < 0.08
    until = pd.Timestamp("2025-01-01", tz=SHANGHAI) + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    until = pd.Series(until).where(closed & (rng.random(n) < 0.8))
    ids = [f"S{i:06d}" for i in rng.permutation(n)]  # id order unrelated to position
    return gpd.GeoDataFrame({
        "id": ids,
        "name": [f"暖新驿站 {i}" for i in ids],
        "district": rng.choice(["锦江区", "青羊区", "金牛区", "武侯区", "成华区", "龙泉驿区", "郫都区"], n),
        "address": [f"示例路 {i} 号" for i in range(n)],
        "amenities": [frozenset(keys[row]) for row in has],
        "opening_hours": rng.choice(OPENING_HOURS, n, p=_HOURS_WEIGHTS),
        "status": np.where(closed, "closed_temporarily", "open"),
        "status_until": until.astype(pd.DatetimeTZDtype(tz="Asia/Shanghai")),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def demo_stations(path: Path = DEFAULT_DB) -> gpd.GeoDataFrame | None:
    """The demonstration stations from the GeoPackage, amenities as frozensets, or None without the file."""
    if not path.exists():
        return None
    raw = gpd.read_file(path, layer="stations")
    if raw.crs is None or raw.crs.to_epsg() != 4326:
        raise ValueError(f"{path}: stations must be stored in EPSG:4326, got {raw.crs}")
    raw["amenities"] = raw["amenities"].map(lambda text: frozenset(parse_amenities(text)))
    raw["status_until"] = pd.to_datetime(raw["status_until"], utc=True).dt.tz_convert("Asia/Shanghai")
    raw["id"] = raw["id"].astype(str)
    return raw


def scaled(base: gpd.GeoDataFrame, n: int, seed: int = 11) -> gpd.GeoDataFrame:
    """``n`` stations: the base set, then copies of its rows placed uniformly over mainland China."""
    if n <= len(base):
        return base.iloc[:n].copy()
    rng = np.random.default_rng(seed)
    extra = n - len(base)
    copies = base.iloc[rng.integers(0, len(base), extra)].copy()
    copies["id"] = [f"X{i:07d}" for i in range(extra)]
    copies = copies.set_geometry(gpd.points_from_xy(rng.uniform(*CHINA_LON, extra), rng.uniform(*CHINA_LAT, extra)),
                                 crs="EPSG:4326")
    return pd.concat([base, copies], ignore_index=True)


class _HoursAt:
    """The station hours with the open mask of one instant computed once, shared by every method."""

    def __init__(self, hours: HoursTable, t):
        self._hours, self._t, self._mask = hours, t, hours.open_at(t)

    def open_at(self, t):
        return self._mask if t == self._t else self._hours.open_at(t)

    def __getattr__(self, name):
        return getattr(self._hours, name)


def numpy_full_scan(lat, lon, need_mask, open_mask, masks, st_lat, st_lon, k):
    """The best full scan: precomputed bitmasks, haversine over every eligible station, argpartition."""
    idx = np.flatnonzero(((masks & need_mask) == need_mask) & open_mask)
    d = haversine_m(lat, lon, st_lat[idx], st_lon[idx])
    if len(d) > k:
        part = np.argpartition(d, k)[:k]
        idx, d = idx[part], d[part]
    return idx[np.argsort(d)]


def _percentiles(times_s) -> tuple[float, float]:
    ms = np.asarray(times_s) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def run(sizes=SIZES, queries: int = 300, baseline_queries: int = 60, seed: int = 3) -> pd.DataFrame:
    """Time the finder and both baselines; one row per size (milliseconds per query)."""
    base = demo_stations(Path(os.environ.get("NUANXIN_DB", DEFAULT_DB)))
    source = "demo GeoPackage" if base is not None else "synthetic"
    if base is None:
        base = synthetic_stations(426, seed=7)
    now = as_local(datetime(2025, 3, 12, 19, 30, tzinfo=SHANGHAI))
    rng = np.random.default_rng(seed)
    frequent = [key for key in AMENITY_KEYS if AMENITY_SHARE[key] >= 0.45]
    q_lat = rng.uniform(*CHENGDU_LAT, queries)
    q_lon = rng.uniform(*CHENGDU_LON, queries)
    q_need = [tuple(rng.choice(frequent, 2, replace=False)) for _ in range(queries)]
    rows = []
    for n in sizes:
        stations = scaled(base, n)
        t0 = time.perf_counter()
        hours = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
        t1 = time.perf_counter()
        open_mask = np.asarray(hours.open_at(now), dtype=bool)
        t2 = time.perf_counter()
        finder = StationFinder(stations, hours=hours)
        t3 = time.perf_counter()
        finder.nearest(q_lat[0], q_lon[0], q_need[0], at=now, k=5)  # the open mask for `now`, once
        fast = []
        for lat, lon, need in zip(q_lat, q_lon, q_need):
            s = time.perf_counter()
            finder.nearest(lat, lon, need, at=now, k=5)
            fast.append(time.perf_counter() - s)
        shared = _HoursAt(hours, now)
        masks = masks_for(stations["amenities"])
        st_lat, st_lon = stations.geometry.y.to_numpy(), stations.geometry.x.to_numpy()
        slow, scan = [], []
        for lat, lon, need in zip(q_lat[:baseline_queries], q_lon[:baseline_queries], q_need[:baseline_queries]):
            s = time.perf_counter()
            expected = brute_force_nearest(stations, lat, lon, need, now, 5, None, hours=shared)
            slow.append(time.perf_counter() - s)
            s = time.perf_counter()
            need_mask = np.uint32(sum(1 << AMENITY_KEYS.index(key) for key in need))
            numpy_full_scan(lat, lon, need_mask, open_mask, masks, st_lat, st_lon, 5)
            scan.append(time.perf_counter() - s)
            got = [r["id"] for r in finder.nearest(lat, lon, need, at=now, k=5)]
            if got != expected:
                raise AssertionError(f"finder and full scan disagree at ({lat}, {lon}) {need}: {got} != {expected}")
        f50, f99 = _percentiles(fast)
        g50, g99 = _percentiles(slow)
        s50, s99 = _percentiles(scan)
        rows.append({"stations": n, "base": source, "nearest p50": f50, "nearest p99": f99,
                     "geopandas scan p50": g50, "geopandas scan p99": g99, "ratio p50 (geopandas)": g50 / f50,
                     "numpy scan p50": s50, "ratio p50 (numpy)": s50 / f50,
                     "open_at(t) once": (t2 - t1) * 1000, "build hours": (t1 - t0) * 1000,
                     "build finder": (t3 - t2) * 1000})
    return pd.DataFrame(rows)


def main() -> None:
    """Print the table: milliseconds per query, 2 amenities, open now, k=5."""
    table = run()
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.3f}".format):
        print("StationFinder.nearest vs full scans (ms per query; 2 frequent amenities, open now, k=5).")
        print("Above the base set, stations are copies of base rows spread uniformly over mainland China"
              f" (lon {CHINA_LON[0]}-{CHINA_LON[1]}, lat {CHINA_LAT[0]}-{CHINA_LAT[1]}); queries over Chengdu.")
        print("Open masks are computed once per instant for all three (cached in the finder; the cost is"
              " the 'open_at(t) once' column, paid by the first query at a new instant).")
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
