"""The throwaway PostgreSQL + PostGIS cluster starts, answers PostGIS queries and leaves nothing behind; its KNN
answers at 426 stations are StationFinder's (the comparison bench/bench_knn.py times)."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from bench.bench_nearest import CHENGDU_LAT, CHENGDU_LON, RARE_AMENITY, SHANGHAI, synthetic_stations
from layers.common.amenities import amenity_mask
from layers.common.hours import HoursTable
from layers.rider.nearest import StationFinder
from tests.pg_cluster import alive, missing, throwaway_cluster

pytestmark = pytest.mark.skipif(bool(missing()), reason=f"needs {'; '.join(missing())} (`make postgis-deps`)")


def _processes_using(root: Path) -> list[str]:
    """Command lines of the processes that name ``root`` (the postmaster is started with ``-D root/data``)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if str(root) in cmdline:
                found.append(cmdline)
    return found


def test_the_cluster_answers_postgis_on_its_own_socket_and_leaves_nothing():
    with throwaway_cluster() as cluster:
        root, pid = cluster.root, cluster.pid
        assert cluster.psql("SELECT postgis_version()").startswith("3.")
        assert cluster.psql("SHOW listen_addresses").strip() == ""  # no TCP listener
        assert (root / ".s.PGSQL.5432").is_socket()
        assert str(root) in cluster.url
        cluster.psql("CREATE TABLE p (name text, geom geometry(Point, 4326));"
                     "INSERT INTO p VALUES ('far', 'SRID=4326;POINT(104.5 31.0)'), ('near', 'SRID=4326;POINT(104.07 30.67)'),"
                     " ('mid', 'SRID=4326;POINT(104.2 30.8)'); CREATE INDEX ON p USING gist (geom)")
        knn = cluster.psql("SELECT string_agg(name, ',') FROM (SELECT name FROM p "
                           "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(104.06, 30.66), 4326) LIMIT 3) AS nearest")
        assert knn.strip() == "near,mid,far"
        assert _processes_using(root)
    assert not root.exists()
    assert not alive(pid)
    assert _processes_using(root) == []


def test_the_cluster_is_stopped_and_removed_when_its_user_fails():
    with pytest.raises(ZeroDivisionError), throwaway_cluster() as cluster:
        root, pid = cluster.root, cluster.pid
        cluster.psql("SELECT 1")
        1 / 0  # noqa: B018 -- the caller's own error, inside the block
    assert not root.exists()
    assert not alive(pid)
    assert _processes_using(root) == []


def test_a_failing_statement_names_the_error():
    with throwaway_cluster() as cluster, pytest.raises(RuntimeError, match="no_such_table"):
        cluster.psql("SELECT * FROM no_such_table")


def test_postgis_knn_gives_the_finders_answer_at_426_stations():
    psycopg = pytest.importorskip("psycopg", reason="psycopg (the test extra: pip install -e '.[test]')")
    from bench.bench_knn import (
        amenity_masks_at,
        disagreement,
        load_stations,
        plan_kind,
        plan_of,
        postgis_nearest,
        refresh_open_now,
    )

    stations = synthetic_stations(426, seed=7)
    # an evening in the week: the office-hours stations closed, the night ones open, temporary closures in force
    at = datetime(2025, 3, 12, 19, 30, tzinfo=SHANGHAI)
    hours = HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])
    open_now = np.asarray(hours.open_at(at), dtype=bool)
    assert 0 < open_now.sum() < len(stations)
    finder = StationFinder(stations, hours=hours)
    rng = np.random.default_rng(5)
    questions = [(), (RARE_AMENITY,), ("toilet", "microwave"), ("drinking_water",), ("books", "first_aid", "wifi")]
    queries = [(lat, lon, questions[i % len(questions)])
               for i, (lat, lon) in enumerate(zip(rng.uniform(*CHENGDU_LAT, 40), rng.uniform(*CHENGDU_LON, 40)))]
    # a station's own position, with its exact twin open too (two stations there): the tie goes to the lower id
    twins = stations[stations.geometry.duplicated(keep=False) & open_now]
    twins = twins[twins.geometry.duplicated(keep=False)].sort_values("id")
    pair = twins[twins.geometry == twins.geometry.iloc[0]]
    assert len(pair) == 2
    twin = pair.geometry.iloc[0]
    assert [r["id"] for r in finder.nearest(twin.y, twin.x, (), at=at, k=2)] == pair["id"].tolist()
    queries.append((twin.y, twin.x, ()))
    with throwaway_cluster() as cluster, psycopg.connect(cluster.url, autocommit=True) as conn:
        load_stations(conn, stations, amenity_masks_at(stations, at), open_now)
        for seqscan in ("on", "off"):  # the planner's choice on a small table, then the GiST index's order
            conn.execute(f"SET enable_seqscan = {seqscan}")
            if seqscan == "off":
                assert plan_kind(plan_of(conn, "geography", amenity_mask(("toilet",)))) == "GiST KNN"
            for lat, lon, need in queries:
                ours = finder.nearest(lat, lon, need, at=at, k=5)
                theirs = postgis_nearest(conn, lat, lon, amenity_mask(need), k=5)
                assert disagreement(ours, theirs) is None, (lat, lon, need, seqscan)
        kitchens = postgis_nearest(conn, 30.66, 104.06, amenity_mask((RARE_AMENITY,)), k=5)
        # at 22:00 the 08:00-22:00 stations close: the refreshed column gives the finder's answers then
        later = datetime(2025, 3, 12, 22, 0, tzinfo=SHANGHAI)
        refresh_open_now(conn, stations, np.asarray(hours.open_at(later), dtype=bool))
        changed = 0
        for lat, lon, need in queries:
            ours = finder.nearest(lat, lon, need, at=later, k=5)
            changed += [r["id"] for r in ours] != [r["id"] for r in finder.nearest(lat, lon, need, at=at, k=5)]
            assert disagreement(ours, postgis_nearest(conn, lat, lon, amenity_mask(need), k=5)) is None, (lat, lon, need)
        assert changed > 0
        # twelve open stations on one spot: the tie runs past the rows first fetched, and is still broken by id
        stacked = stations.copy()
        pile = np.flatnonzero(open_now)[:12]
        spot = stacked.geometry.iloc[pile[0]]
        stacked.loc[stacked.index[pile], "geometry"] = spot
        stacked_finder = StationFinder(stacked, hours=hours)
        load_stations(conn, stacked, amenity_masks_at(stacked, at), open_now)
        conn.execute("SET enable_seqscan = off")  # the GiST order, in which tied rows come in no id order
        for k in (1, 5, 12):
            ours = stacked_finder.nearest(spot.y, spot.x, (), at=at, k=k)
            assert {r["distance_m"] for r in ours} == {0.0}
            assert disagreement(ours, postgis_nearest(conn, spot.y, spot.x, 0, k=k)) is None, k
    assert 0 < len(kitchens) <= 3  # only three stations have a kitchen
