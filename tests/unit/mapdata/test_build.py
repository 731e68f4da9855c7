"""The demo build is reproducible, once for the whole dataset: the same seed gives the same file, whatever
the process's hash seed; another seed gives other generated rows on the same real places."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mapdata.demo.build import build_layers
from mapdata.demo.stations import REPORTED_STATIONS
from mapdata.schemas import SPECS
from mapdata.store import GeoPackageStore, open_store
from tests.helpers import TEST_SEED

PROJECT = Path(__file__).resolve().parents[3]
#: Layers made only from the real sources (OSM, boundaries, census): no seed changes them.
REAL_LAYERS = ("districts", "roads", "compounds", "places")


def test_the_same_seed_in_another_process_builds_the_same_dataset(demo_db, tmp_path):
    again = tmp_path / "again.gpkg"
    # another process with another hash seed: set and dict order must not leak into the data
    env = dict(os.environ, PYTHONHASHSEED="12345")
    subprocess.run([sys.executable, "-m", "mapdata.build", "--out", str(again), "--seed", str(TEST_SEED)],
                   cwd=PROJECT, env=env, check=True, capture_output=True)
    first, second = open_store(demo_db), GeoPackageStore(again)
    assert first.layers() == second.layers() == list(SPECS)
    for layer in SPECS:
        a, b = first.read(layer), second.read(layer)
        assert len(a) > 0, layer
        pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"), obj=layer)
        assert a.geometry.geom_equals_exact(b.geometry, tolerance=0).all(), layer


def test_another_seed_changes_the_generated_rows_not_the_real_places(store):
    other = build_layers(TEST_SEED + 1)
    for layer in REAL_LAYERS:
        same = store.read(layer)
        assert len(other[layer]) == len(same), layer
        assert other[layer].geometry.geom_equals(same.geometry).all(), layer
    stations = store.read("stations")
    assert not other["stations"].geometry.geom_equals_exact(stations.geometry.iloc[:len(other["stations"])],
                                                            tolerance=0).all()
    assert other["stations"]["opening_hours"].tolist() != stations["opening_hours"].tolist()
    assert other["gates"]["rider_access"].tolist() != store.read("gates")["rider_access"].tolist()
    # the places the city's report names stay where they are
    reported = [r.name for r in REPORTED_STATIONS]
    assert other["stations"].set_index("name").loc[reported].geometry.geom_equals_exact(
        stations.set_index("name").loc[reported].geometry, tolerance=1e-7).all()


def _drop_layer(path: Path, layer: str) -> None:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("DELETE FROM gpkg_contents WHERE table_name = ?", [layer])
        conn.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = ?", [layer])
        conn.execute(f'DROP TABLE "{layer}"')


@pytest.mark.gpkg_only("make run's build of the demo GeoPackage file")
def test_make_run_builds_only_a_missing_or_outdated_demo_dataset(writable_db, tmp_path):
    from mapdata.build import main

    before = writable_db.stat().st_mtime_ns
    assert main(["--if-missing", "--out", str(writable_db), "--seed", str(TEST_SEED)]) == 0
    assert writable_db.stat().st_mtime_ns == before, "a complete store is left alone"
    _drop_layer(writable_db, "places")  # as a store from before the places layer
    assert "places" not in open_store(writable_db).layers()
    assert main(["--if-missing", "--out", str(writable_db), "--seed", str(TEST_SEED)]) == 0
    assert open_store(writable_db).layers() == list(SPECS)
