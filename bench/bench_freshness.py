"""Benchmark of freshness across workers (issue 12): how long after an edit's commit another process on the same
store answers with it, against the same process's own answer after its own edit; on the GeoPackage and on
PostGIS (a throwaway cluster, tests/pg_cluster.py, when its packages are installed) in the same run.

App A (this process) changes a station's opening hours through the staff API (``PATCH`` with ``If-Match``),
alternately shut and open at the asked instant; another process with its own app on the same file asks for the
station nearest to that station's position, again and again (as in tests/api/test_workers_agree.py). For each
of the edits: the time from the edit's response (the commit is inside it) to the end of the first answer of
the other process that shows the edit, and to the end of app A's own next answer.

    .venv/bin/python -m bench.bench_freshness [path/to/store.gpkg] [edits]
"""
from __future__ import annotations

import contextlib
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import app as app_module
from layers.services import services_of
from layers.staff.accounts import create_account, issue_token
from mapdata.config import Settings
from tests.api.test_workers_agree import OPEN_HOURS, SHUT_HOURS, OtherProcess
from tests.helpers import AT

DEFAULT_DB = Path("var/nuanxin.gpkg")
EDITS = 10


def _nearest(http, lat, lon) -> str:
    r = http.get("/api/v1/stations/nearest", query_string={"lat": lat, "lon": lon, "k": 1, "at": AT})
    if r.status_code != 200:
        raise RuntimeError(f"nearest answered {r.status_code}: {r.get_data(as_text=True)[:300]}")
    return r.get_json()["results"][0]["id"]


def _edit(http, sid, hours, token) -> None:
    etag = http.get(f"/api/v1/stations/{sid}").headers["ETag"]
    r = http.patch(f"/api/v1/stations/{sid}", json={"opening_hours": hours},
                   headers={"Authorization": f"Bearer {token}", "If-Match": etag})
    if r.status_code != 200:
        raise RuntimeError(f"the edit answered {r.status_code}: {r.get_data(as_text=True)[:300]}")


@contextlib.contextmanager
def store_copy(source: Path, backend: str):
    """A private copy of the store: a GeoPackage file, or a database of a throwaway PostGIS cluster."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "nuanxin.gpkg"
        shutil.copy(source, db)
        if backend == "gpkg":
            yield db
            return
        from mapdata.copy import copy_store
        from mapdata.store import open_store
        from tests.pg_cluster import throwaway_cluster

        with throwaway_cluster() as cluster:
            copy_store(open_store(db), open_store(cluster.url))
            yield cluster.url


def run(source: Path = DEFAULT_DB, edits: int = EDITS, backend: str = "gpkg") -> dict:
    """Milliseconds from each edit's response to the other process's and to this process's answer with it."""
    with store_copy(source, backend) as db:
        here = app_module.create_app(Settings(db_path=db, secret_key="bench", tile_source="none"))
        store = services_of(here.server).store
        create_account(store, name="bench-city", role="city", password="bench password long", by="bench")
        token = issue_token(store, "bench-city", "bench", by="bench")
        http = here.server.test_client()
        stations = store.read("stations")
        sid = lat = lon = None
        for _, row in stations.iterrows():
            if _nearest(http, row.geometry.y, row.geometry.x) == row["id"]:
                sid, lat, lon = row["id"], row.geometry.y, row.geometry.x
                break
        if sid is None:
            raise RuntimeError("no station is the nearest open one to its own position")
        _edit(http, sid, OPEN_HOURS, token)
        other = OtherProcess(db, lat, lon, seconds=60 + 5 * edits)
        there_ms, own_ms, patch_ms, polls = [], [], [], []
        try:
            if other.line(timeout=240) != {"ready": True}:
                raise RuntimeError("the other process did not start")
            for i in range(edits):
                shut = i % 2 == 0
                time.sleep(0.2)  # a quiet moment: the other process answers the current state
                started = time.monotonic()
                _edit(http, sid, SHUT_HOURS if shut else OPEN_HOURS, token)
                edited = time.monotonic()
                own = _nearest(http, lat, lon)
                own_ms.append((time.monotonic() - edited) * 1000)
                if (own != sid) != shut:
                    raise AssertionError(f"this process answers {own} after its own edit {i}")
                patch_ms.append((edited - started) * 1000)
                while True:
                    answer = other.line(timeout=30)
                    if answer["end"] < started:
                        continue  # answered before the edit began
                    if (answer["first"] != sid) == shut:
                        there_ms.append((answer["end"] - edited) * 1000)
                        polls.append((answer["end"] - answer["start"]) * 1000)
                        break
        finally:
            other.close()
    return {"edits": edits, "stations": len(stations), "other process": there_ms, "same process": own_ms,
            "edit request": patch_ms, "other's answering request": polls}


def main() -> None:
    from tests.pg_cluster import missing

    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DB
    edits = int(sys.argv[2]) if len(sys.argv) > 2 else EDITS
    backends = ["gpkg"] + ([] if missing() else ["postgis"])
    results = {b: run(source, edits, b) for b in backends}
    first = results["gpkg"]
    print(f"Freshness across processes on one store ({source}, {first['stations']} stations, {first['edits']} "
          "edits of one station's opening hours through PATCH /api/v1/stations/<id>).")
    print("Milliseconds from the edit's response (its commit is inside it) to the end of the first answer of a")
    print("nearest-station query that shows the edit; negative: the other process answered with it before the")
    print("edit's response reached this process. The same process's own next answer is the baseline.")
    if missing():
        print(f"(PostGIS not measured: missing {'; '.join(missing())})")
    print(f"{'':10s}{'':38s}{'median':>9s}{'min':>9s}{'max':>9s}")
    for backend, result in results.items():
        for name in ("other process", "same process", "edit request", "other's answering request"):
            values = result[name]
            print(f"{backend:10s}{name:38s}{statistics.median(values):9.1f}{min(values):9.1f}{max(values):9.1f}")
        ratio = statistics.median(result["other process"]) / statistics.median(result["same process"])
        print(f"{backend:10s}{'other / same process (median)':38s}{ratio:9.2f}")


if __name__ == "__main__":
    main()
