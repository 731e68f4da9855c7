"""National coverage as a job (issue 12): a large demand CSV posted to the API runs in the background, its progress
and state are answered from the store by any app on it, a cancel stops it between chunks, a bad cell fails it
naming the row and field, and its tables are those of ``national_coverage`` run directly."""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import api.national_jobs as national_api
from exports.table_xlsx import coverage_table_xlsx
from layers.planning.national import chunks_of, national_coverage
from layers.planning.national_job import jobs_of
from layers.services import services_of
from tests.helpers import coverage_csv

JOBS = "/api/v1/planner/national-jobs"
CHUNK = 10
ROWS = 55  # six chunks of ten, the last one short


@pytest.fixture()
def demand(store):
    points = store.read("demand").iloc[:ROWS]
    return points.geometry.x.to_numpy(), points.geometry.y.to_numpy(), points["weight"].to_numpy()


@pytest.fixture()
def held(monkeypatch):
    """Jobs the API starts are held here instead of in a thread: the test runs them, with a hook between chunks."""
    works = []
    monkeypatch.setattr(national_api, "launch", works.append)
    return works


@pytest.fixture()
def second_app(private_app, writable_db):
    """Another app made on the same store file (as another worker or server is)."""
    import app as app_module
    from layers.common.calendar import use_calendar
    from mapdata.config import Settings

    other = app_module.create_app(Settings(db_path=writable_db, secret_key="test", tile_source="none"))
    try:
        yield other
    finally:
        use_calendar(services_of(private_app.server).store.calendar)


def _start(http, csv: str, **params):
    query = {"radius_m": "1000", "at": "any", "chunk_rows": str(CHUNK), **params}
    return http.post(JOBS, query_string=query, data=csv.encode(), content_type="text/csv")


def _wait_ended(http, job_id: int, polls: int = 2000) -> dict:
    """The job once it has ended (the background thread runs it; each poll asks the API)."""
    import time

    for _ in range(polls):
        body = http.get(f"{JOBS}/{job_id}").get_json()
        if body["state"] in ("done", "failed", "cancelled"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end: {body}")


def _sheets(data: bytes) -> dict[str, pd.DataFrame]:
    return pd.read_excel(io.BytesIO(data), sheet_name=None)


def test_a_job_reports_progress_chunk_by_chunk_and_its_tables_are_national_coverage(private_app, held, demand,
                                                                                     store):
    http = private_app.server.test_client()
    lon, lat, weight = demand
    r = _start(http, coverage_csv(lon, lat, weight))
    assert r.status_code == 202
    job = r.get_json()
    assert job["state"] == "queued" and job["rows_done"] == 0 and r.headers["Location"] == job["status_url"]
    assert job["result_url"] is None and job["bytes_total"] == len(coverage_csv(lon, lat, weight).encode())
    seen = []
    held.pop()(after_chunk=lambda _job: seen.append(http.get(job["status_url"]).get_json()))
    assert [s["rows_done"] for s in seen] == [10, 20, 30, 40, 50, 55]
    assert all(s["state"] == "running" for s in seen)
    done = http.get(job["status_url"]).get_json()
    assert done["state"] == "done" and done["rows_done"] == ROWS and done["fraction"] == 1.0
    assert done["result_url"] == f"{JOBS}/{job['id']}/tables.xlsx"

    got = http.get(done["result_url"])
    assert got.status_code == 200 and got.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in got.headers["Content-Disposition"]
    services = services_of(private_app.server)
    direct = national_coverage(chunks_of(lon, lat, weight, 7), services.stations.stations, 1000.0,
                               districts=services.planning.districts(), hours=services.stations.finder.hours)
    want, have = _sheets(coverage_table_xlsx(direct, unit="weight")), _sheets(got.data)
    assert list(have) == list(want)
    for name in want:
        pd.testing.assert_frame_equal(have[name], want[name])
    assert direct.overall["points"] == ROWS


def test_a_cancel_from_another_app_stops_the_job_between_chunks(private_app, second_app, held, demand):
    a, b = private_app.server.test_client(), second_app.server.test_client()
    r = _start(a, coverage_csv(*demand))
    job_id = r.get_json()["id"]
    assert b.get(f"{JOBS}/{job_id}").get_json()["state"] == "queued"  # the other app sees the job

    def after_chunk(job):
        if job.rows_done == 2 * CHUNK:
            cancelled = b.post(f"{JOBS}/{job_id}/cancel")
            assert cancelled.status_code == 200 and cancelled.get_json()["cancel_requested"] is True

    held.pop()(after_chunk=after_chunk)
    for http in (a, b):
        body = http.get(f"{JOBS}/{job_id}").get_json()
        assert body["state"] == "cancelled" and body["rows_done"] == 2 * CHUNK and body["result_url"] is None
    tables = b.get(f"{JOBS}/{job_id}/tables.xlsx")
    assert tables.status_code == 404 and tables.get_json()["error"]["code"] == "not_ready"
    again = a.post(f"{JOBS}/{job_id}/cancel").get_json()
    assert again["state"] == "cancelled"  # an ended job stays as it is


def test_a_queued_job_cancelled_never_runs(private_app, held, demand):
    http = private_app.server.test_client()
    job_id = _start(http, coverage_csv(*demand)).get_json()["id"]
    assert http.post(f"{JOBS}/{job_id}/cancel").get_json()["state"] == "cancelled"
    rows = []
    held.pop()(after_chunk=rows.append)
    assert rows == [] and http.get(f"{JOBS}/{job_id}").get_json()["rows_done"] == 0


def test_a_bad_cell_fails_the_job_naming_its_row_and_field(private_app, demand):
    http = private_app.server.test_client()
    lon, lat, weight = demand
    lines = coverage_csv(lon, lat, weight).splitlines()
    cells = lines[23].split(",")
    lines[23] = ",".join([cells[0], "north", cells[2]])  # data row 23
    r = _start(http, "\n".join(lines) + "\n")
    assert r.status_code == 202
    body = _wait_ended(http, r.get_json()["id"])  # run in the API's own background thread
    assert body["state"] == "failed"
    assert "row 23" in body["error"] and "field lat" in body["error"] and "north" in body["error"]
    assert "nuanxin-national" not in body["error"]  # the server's temporary file is not named
    assert body["rows_done"] == 2 * CHUNK and body["result_url"] is None


def test_a_job_started_in_the_background_ends_done_with_its_tables(private_app, second_app, demand):
    a, b = private_app.server.test_client(), second_app.server.test_client()
    job_id = _start(a, coverage_csv(*demand), amenities="toilet").get_json()["id"]
    body = _wait_ended(b, job_id)
    assert body["state"] == "done" and body["rows_done"] == ROWS and body["question"]["amenities"] == ["toilet"]
    assert b.get(body["result_url"]).status_code == 200


def test_an_input_over_the_limit_is_refused_and_no_job_is_made(private_app, held):
    http = private_app.server.test_client()
    jobs = jobs_of(services_of(private_app.server).store)
    before = jobs.ids()
    saved = jobs.max_input_bytes
    jobs.max_input_bytes = 200
    try:
        csv = "lon,lat\n" + "104.06,30.66\n" * 20
        assert len(csv) > 200
        r = _start(http, csv)
        assert r.status_code == 413 and r.get_json()["error"]["field"] == "body"
        assert _start(http, csv[:190]).status_code == 202
    finally:
        jobs.max_input_bytes = saved
    assert len(jobs.ids()) == len(before) + 1 and held


def test_refusals_name_their_field(private_app, held):
    http = private_app.server.test_client()
    r = http.post(JOBS, data=b'{"lon": 1}', content_type="application/json")
    assert r.status_code == 415 and r.get_json()["error"]["field"] == "Content-Type"
    r = _start(http, "lon,lat\n104,30\n", radius_m="-5")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "radius_m"
    r = _start(http, "lon,lat\n104,30\n", amenities="jacuzzi")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "amenities"
    r = _start(http, "lng,lat\n104,30\n")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "body" and "lon,lat" in r.get_json()["error"][
        "message"]
    assert held == []
    for path in (f"{JOBS}/987654", f"{JOBS}/987654/tables.xlsx"):
        r = http.get(path)
        assert r.status_code == 404 and r.get_json()["error"]["field"] == "job_id"
    assert http.post(f"{JOBS}/987654/cancel").status_code == 404
    r = http.get(f"{JOBS}/not-a-job")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "job_id"


def test_only_the_newest_jobs_are_kept(private_app, held):
    http = private_app.server.test_client()
    jobs = jobs_of(services_of(private_app.server).store)
    started = [_start(http, "lon,lat\n104.06,30.66\n").get_json()["id"] for _ in range(jobs.keep + 3)]
    assert jobs.ids() == started[3:]
    assert http.get(f"{JOBS}/{started[0]}").status_code == 404
    assert np.all(np.diff(started) > 0)


def _geoparquet(lon, lat, weight) -> bytes:
    import geopandas as gpd

    out = io.BytesIO()
    gpd.GeoDataFrame({"weight": weight}, geometry=gpd.points_from_xy(lon, lat), crs="OGC:CRS84").to_parquet(out)
    return out.getvalue()


def test_a_geoparquet_file_runs_to_the_tables_its_csv_gives(private_app, held, demand):
    http = private_app.server.test_client()
    lon, lat, weight = demand
    query = {"radius_m": "1000", "at": "any", "chunk_rows": str(CHUNK)}
    body = _geoparquet(lon, lat, weight)
    r = http.post(JOBS, query_string=query, data=body, content_type="application/vnd.apache.parquet")
    assert r.status_code == 202, r.get_json()
    job = r.get_json()
    assert job["bytes_total"] == len(body)
    seen = []
    held.pop()(after_chunk=lambda _job: seen.append(http.get(job["status_url"]).get_json()["rows_done"]))
    assert seen == [10, 20, 30, 40, 50, 55]
    parquet_tables = _sheets(http.get(f"{JOBS}/{job['id']}/tables.xlsx").data)
    r = _start(http, coverage_csv(lon, lat, weight))
    held.pop()()
    csv_tables = _sheets(http.get(f"{JOBS}/{r.get_json()['id']}/tables.xlsx").data)
    assert list(parquet_tables) == list(csv_tables)
    for name in csv_tables:
        pd.testing.assert_frame_equal(parquet_tables[name], csv_tables[name])


def test_a_parquet_body_is_checked_before_a_job_is_made_and_its_bad_point_fails_the_job(private_app, held, demand):
    from shapely.geometry import LineString

    http = private_app.server.test_client()
    jobs = jobs_of(services_of(private_app.server).store)
    before = jobs.ids()
    r = http.post(JOBS, query_string={"radius_m": "1000"}, data=b"lon,lat\n104,30\n",
                  content_type="application/vnd.apache.parquet")
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "body" and "PAR1" in r.get_json()["error"][
        "message"]
    assert jobs.ids() == before and held == []
    import geopandas as gpd

    out = io.BytesIO()
    lon, lat, _ = demand
    shapes = list(gpd.points_from_xy(lon[:5], lat[:5])) + [LineString([(lon[0], lat[0]), (lon[1], lat[1])])]
    gpd.GeoDataFrame(geometry=shapes, crs="EPSG:4326").to_parquet(out)
    r = http.post(JOBS, query_string={"radius_m": "1000", "chunk_rows": "4"}, data=out.getvalue(),
                  content_type="application/x-parquet")
    assert r.status_code == 202
    held.pop()()
    failed = http.get(r.get_json()["status_url"]).get_json()
    assert failed["state"] == "failed"
    assert failed["error"] == "row 6, field geometry: expected a point, got a LineString"
