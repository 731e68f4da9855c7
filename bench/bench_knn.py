"""StationFinder.nearest against PostGIS's KNN, at 426, 10,000 and 130,000 stations, in one run.

The engine a user would pick instead: the stations in a PostGIS table with a GiST index, and
``ORDER BY geog <-> point LIMIT 5`` with the amenity and open-now filters, the point passed as a
parameter of a prepared statement (a join to a point table would lose the index ordering). The
server is a throwaway cluster (tests/pg_cluster.py): started for the run in a temporary directory,
reached over its Unix socket, stopped at the end.

PostGIS has no evaluator of OSM opening hours, so "open now" is a boolean column computed by our
HoursTable for the benchmark's instant and loaded with the stations; its refresh (an UPDATE of the rows
that change, as a service would run each minute) is timed separately at 22:00, a minute when many change.
Amenities are a bitmask ``int4`` filtered in the index scan (a GIN index on an array cannot give
the distance order, and the frequent amenities the queries ask for match too many stations to start
from). Two PostGIS variants:

* ``geography``: KNN on the sphere, ties by id: the same answer as ours, checked on every query;
* ``geometry``: KNN on planar longitude/latitude degrees, the usual quick form; its order is not the
  great-circle order, and the table says on how many queries its five ids are ours.
"""
from __future__ import annotations

import os
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg

from bench.bench_nearest import (
    AMENITY_SHARE,
    CHENGDU_LAT,
    CHENGDU_LON,
    CHINA_LAT,
    CHINA_LON,
    DEFAULT_DB,
    SHANGHAI,
    SIZES,
    demo_stations,
    scaled,
    synthetic_stations,
)
from layers.common.amenities import amenity_mask, masks_for
from layers.common.calendar import as_local
from layers.common.hours import HoursTable
from layers.rider.nearest import StationFinder
from mapdata.vocabulary import AMENITY_KEYS
from tests.pg_cluster import throwaway_cluster

K = 5
NOW = datetime(2025, 3, 12, 19, 30, tzinfo=SHANGHAI)
#: A minute at which many stations change (from 21:59): the open-now column's refresh is timed there.
REFRESH_AT = datetime(2025, 3, 12, 22, 0, tzinfo=SHANGHAI)
#: Same-distance answers whose metres differ by more than this between the two engines fail the check
#: (the sphere radii differ in the 9th digit: ours 6,371,008.8 m, PostGIS's WGS-84 mean radius).
DISTANCE_TOLERANCE_M = 0.05

#: Rows the KNN fetches beyond ``k``: the GiST order cannot carry a second key (PostgreSQL matches every ORDER BY
#: key to the index or none), so ties are broken by id on these few, and the query is asked again with more when
#: the tie runs to their end.
TIE_SLACK = 4

_POINT = "ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)"
_FILTER = "open_now AND (amenities & %(need)s::int4) = %(need)s::int4"
#: KNN on the sphere: the GiST index gives the order, and ``<->`` is the great-circle distance (PostGIS's sphere).
_SQL_GEOGRAPHY = (f"SELECT id, d FROM (SELECT id, geog <-> {_POINT}::geography AS d FROM knn_stations WHERE {_FILTER} "
                  f"ORDER BY geog <-> {_POINT}::geography LIMIT {{limit}}) AS knn ORDER BY d, id")
#: KNN on planar degrees; the metres are the great-circle ones, for the check.
_SQL_GEOMETRY = (f"SELECT id, ST_Distance(geog, {_POINT}::geography, false) FROM (SELECT id, geog, geom <-> {_POINT} "
                 f"AS d FROM knn_stations WHERE {_FILTER} ORDER BY geom <-> {_POINT} LIMIT {{limit}}) AS knn "
                 f"ORDER BY d, id")
VARIANTS = {"geography": _SQL_GEOGRAPHY, "geometry": _SQL_GEOMETRY}


def amenity_masks_at(stations: gpd.GeoDataFrame, t) -> np.ndarray:
    """Each station's amenity bitmask at ``t``, less what is out of service then (as the finder sees it)."""
    masks = masks_for(stations["amenities"])
    if "amenities_out" not in stations:
        return masks
    out = masks_for(stations["amenities_out"])
    until = stations["status_until"]
    active = (until.isna() | (until > pd.Timestamp(as_local(t)))).to_numpy()
    return masks & ~np.where(active, out, np.uint32(0))


def load_stations(conn, stations: gpd.GeoDataFrame, masks: np.ndarray, open_now: np.ndarray) -> None:
    """(Re)create ``knn_stations``: id, geometry and geography points, amenity bitmask, open-now flag; GiST on both."""
    lon, lat = stations.geometry.x.to_numpy(dtype=float), stations.geometry.y.to_numpy(dtype=float)
    conn.execute("DROP TABLE IF EXISTS knn_stations")
    conn.execute("CREATE TABLE knn_stations (id text PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, "
                 "geog geography(Point, 4326) NOT NULL, amenities int4 NOT NULL, open_now boolean NOT NULL)")
    with conn.cursor() as cur, cur.copy("COPY knn_stations (id, geom, geog, amenities, open_now) FROM STDIN") as copy:
        for sid, x, y, mask, is_open in zip(stations["id"].astype(str), lon.tolist(), lat.tolist(),
                                            masks.tolist(), np.asarray(open_now, dtype=bool).tolist()):
            point = f"SRID=4326;POINT({x!r} {y!r})"  # repr: the exact double, read back exactly
            copy.write_row((sid, point, point, int(mask), is_open))
    conn.execute("CREATE INDEX knn_stations_geog ON knn_stations USING gist (geog)")
    conn.execute("CREATE INDEX knn_stations_geom ON knn_stations USING gist (geom)")
    conn.execute("VACUUM ANALYZE knn_stations")


def refresh_open_now(conn, stations: gpd.GeoDataFrame, open_now: np.ndarray) -> None:
    """Set every station's open-now flag, as a service would each minute (PostGIS cannot evaluate the hours)."""
    conn.execute("UPDATE knn_stations s SET open_now = v.o FROM unnest(%s::text[], %s::bool[]) AS v(id, o) "
                 "WHERE s.id = v.id AND s.open_now IS DISTINCT FROM v.o",
                 (stations["id"].astype(str).tolist(), np.asarray(open_now, dtype=bool).tolist()))


def postgis_nearest(conn, lat: float, lon: float, need: int, k: int = K, variant: str = "geography") -> list[tuple]:
    """(id, great-circle metres) of the ``k`` nearest open stations with every amenity bit of ``need``, ties by id.

    A prepared statement per row limit (the limit written in, so that the generic plan knows it is small).
    """
    params = {"lat": float(lat), "lon": float(lon), "need": int(need)}
    limit = k + TIE_SLACK
    while True:
        rows = conn.execute(VARIANTS[variant].format(limit=limit), params, prepare=True).fetchall()
        if len(rows) < limit or rows[min(k, len(rows)) - 1][1] != rows[-1][1]:
            return rows[:k]
        limit *= 2  # the k-th distance is shared by every row fetched: more may share it, with lower ids


def plan_of(conn, variant: str = "geography", need: int = 0) -> str:
    """The plan of one query, for these values."""
    params = {"lat": 30.66, "lon": 104.06, "need": int(need)}
    sql = VARIANTS[variant].format(limit=K + TIE_SLACK)
    return "\n".join(row[0] for row in conn.execute("EXPLAIN " + sql, params))


def plan_kind(plan: str) -> str:
    """"GiST KNN" when the index gives the order, else "scan+sort" (the planner's choice on a small table)."""
    return "GiST KNN" if re.search(r"Index Scan using knn_stations_ge", plan) else "scan+sort"


def server_ms(conn, lat: float, lon: float, need: int, variant: str = "geography") -> float:
    """The server's own execution time of one query (EXPLAIN ANALYZE without per-node timing), in ms."""
    params = {"lat": float(lat), "lon": float(lon), "need": int(need)}
    sql = VARIANTS[variant].format(limit=K + TIE_SLACK)
    plan = conn.execute("EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + sql, params).fetchone()[0]
    return float(plan[0]["Execution Time"])


def bench_queries(queries: int = 300, seed: int = 3):
    """bench_nearest's queries: positions over Chengdu, two frequent amenities each."""
    rng = np.random.default_rng(seed)
    frequent = [key for key in AMENITY_KEYS if AMENITY_SHARE[key] >= 0.45]
    q_lat = rng.uniform(*CHENGDU_LAT, queries)
    q_lon = rng.uniform(*CHENGDU_LON, queries)
    q_need = [tuple(rng.choice(frequent, 2, replace=False)) for _ in range(queries)]
    return q_lat, q_lon, q_need


def disagreement(ours: list[dict], theirs: list[tuple]) -> str | None:
    """Why the two answers differ (ids in order, metres within :data:`DISTANCE_TOLERANCE_M`), or None."""
    our_ids, their_ids = [r["id"] for r in ours], [row[0] for row in theirs]
    if our_ids != their_ids:
        return f"ids {our_ids} != {their_ids}"
    for r, (_, d) in zip(ours, theirs):
        if abs(r["distance_m"] - d) > DISTANCE_TOLERANCE_M + 0.05:  # ours is rounded to 0.1 m
            return f"{r['id']}: {r['distance_m']} m != {d} m"
    return None


def _us(times_s) -> tuple[float, float]:
    us = np.asarray(times_s) * 1e6
    return float(np.percentile(us, 50)), float(np.percentile(us, 95))


def run(sizes=SIZES, queries: int = 300, rounds: int = 3, server_queries: int = 100, seed: int = 3) -> pd.DataFrame:
    """Time our finder and both PostGIS variants on the same queries, ``rounds`` times each; one row per size (µs per query)."""
    base = demo_stations(Path(os.environ.get("NUANXIN_DB", DEFAULT_DB)))
    source = "demo GeoPackage" if base is not None else "synthetic"
    if base is None:
        base = synthetic_stations(426, seed=7)
    now = as_local(NOW)
    q_lat, q_lon, q_need = bench_queries(queries, seed)
    need_masks = [amenity_mask(need) for need in q_need]
    rows = []
    with throwaway_cluster() as cluster, psycopg.connect(cluster.url, autocommit=True) as conn:
        for n in sizes:
            stations = scaled(base, n)
            hours = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
            finder = StationFinder(stations, hours=hours)
            t0 = time.perf_counter()
            open_now = np.asarray(hours.open_at(now), dtype=bool)
            t1 = time.perf_counter()
            load_stations(conn, stations, amenity_masks_at(stations, now), open_now)
            t2 = time.perf_counter()
            plans = {variant: plan_kind(plan_of(conn, variant, need_masks[0])) for variant in VARIANTS}
            # warm both: the finder's open mask for `now`, PostGIS's prepared statements and caches
            for i in range(10):
                finder.nearest(q_lat[i], q_lon[i], q_need[i], at=now, k=K)
                for variant in VARIANTS:
                    postgis_nearest(conn, q_lat[i], q_lon[i], need_masks[i], variant=variant)
            # interleaved, query by query, so that both engines see the same load on the machine
            times: dict[str, list[float]] = {"ours": [], "search": [], **{variant: [] for variant in VARIANTS}}
            for _ in range(rounds):
                for la, lo, nd, m in zip(q_lat, q_lon, q_need, need_masks):
                    s = time.perf_counter()
                    finder.nearest(la, lo, nd, now, K)
                    times["ours"].append(time.perf_counter() - s)
                    # the search alone: what PostGIS is asked for, without the answer's closes_at and names
                    s = time.perf_counter()
                    finder._search(float(la), float(lo), nd, now, K, None, "distance")
                    times["search"].append(time.perf_counter() - s)
                    for variant in VARIANTS:
                        s = time.perf_counter()
                        postgis_nearest(conn, la, lo, m, K, variant)
                        times[variant].append(time.perf_counter() - s)
            server = [server_ms(conn, la, lo, m) for la, lo, m in
                      zip(q_lat[:server_queries], q_lon[:server_queries], need_masks[:server_queries])]
            planar_agree = 0
            for la, lo, nd, m in zip(q_lat, q_lon, q_need, need_masks):
                answer = finder.nearest(la, lo, nd, at=now, k=K)
                why = disagreement(answer, postgis_nearest(conn, la, lo, m, variant="geography"))
                if why:
                    raise AssertionError(f"finder and PostGIS disagree at ({la}, {lo}) {nd}, {n} stations: {why}")
                planar = [row[0] for row in postgis_nearest(conn, la, lo, m, variant="geometry")]
                planar_agree += planar == [r["id"] for r in answer]
            # the minute to 22:00, a busy one (stations open until 22:00 close): the column at 21:59, then timed to 22:00
            before = np.asarray(hours.open_at(as_local(REFRESH_AT - timedelta(minutes=1))), dtype=bool)
            later = np.asarray(hours.open_at(as_local(REFRESH_AT)), dtype=bool)
            refresh_open_now(conn, stations, before)
            conn.execute("VACUUM knn_stations")
            t3 = time.perf_counter()
            refresh_open_now(conn, stations, later)
            t4 = time.perf_counter()
            o50, o95 = _us(times["ours"])
            s50, _ = _us(times["search"])
            g50, g95 = _us(times["geography"])
            p50, p95 = _us(times["geometry"])
            rows.append({"stations": n, "base": source, "ours p50": o50, "ours p95": o95, "ours search p50": s50,
                         "PostGIS geog p50": g50, "geog p95": g95, "ours/geog p50": o50 / g50,
                         "geog server p50": float(np.percentile(server, 50)) * 1000,
                         "PostGIS geom p50": p50, "geom p95": p95, "ours/geom p50": o50 / p50,
                         "geom = ours": f"{planar_agree}/{len(q_lat)}", "plan": plans["geography"],
                         "open_at(t) ms": (t1 - t0) * 1000, "22:00 UPDATE ms": (t4 - t3) * 1000,
                         "rows changed": int((later != before).sum()),
                         "load s": t2 - t1})
    return pd.DataFrame(rows)


def main() -> None:
    """Print the table: microseconds per query, 2 frequent amenities, open now, k=5."""
    table = run()
    with pd.option_context("display.width", 250, "display.max_columns", 20, "display.float_format", "{:.1f}".format):
        print("StationFinder.nearest vs PostGIS KNN (µs per query; 2 frequent amenities, open now, k=5; same"
              " 300 queries, 3 rounds, interleaved; PostGIS 'geography' answers checked equal to ours on every query).")
        print("Above the base set, stations are copies of base rows spread uniformly over mainland China"
              f" (lon {CHINA_LON[0]}-{CHINA_LON[1]}, lat {CHINA_LAT[0]}-{CHINA_LAT[1]}); queries over Chengdu.")
        print("PostGIS: throwaway local cluster over its Unix socket, psycopg, prepared statements, autocommit;"
              " times are client round trips ('geog server p50': the server's own execution time).")
        print("Open now: PostGIS reads a precomputed boolean column (it has no OSM hours evaluator); keeping it"
              " current costs, besides the same 'open_at(t) ms' as ours (cached per minute), an UPDATE of the rows"
              " that change: '22:00 UPDATE ms' for the 'rows changed' from 21:59 to 22:00, when the stations open"
              " until 22:00 close.")
        print("'ours search p50': StationFinder's search alone (its private _search), without building the answer"
              " (closes_at looks up to 14 days ahead, names, amenities): the part PostGIS is asked for.")
        print("'geom = ours': queries on which the planar-degree KNN returns our five ids in our order.")
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
