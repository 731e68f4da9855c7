"""The planner page's national coverage job (issue 12), in headless Chromium: a CSV chosen in the page goes to the jobs
API, the progress bar follows the job to its end and the tables' link appears; a bad file says its row and field."""
from __future__ import annotations

import urllib.request

import api.national_jobs as national_api
from layers.planning.national_job import jobs_of
from layers.services import services_of
from tests.browser.test_planner_page import link_href, start, text
from tests.helpers import coverage_csv, wait_until

FILE_INPUT = "#planner-national-picker-file"


def _post_file(dash_duo, path):
    wait_until(dash_duo, lambda: dash_duo.driver.find_elements("css selector", FILE_INPUT))
    dash_duo.find_element(FILE_INPUT).send_keys(str(path))
    dash_duo.find_element("#planner-national-start").click()


def _queued_job(dash_duo, dash_app, store, tmp_path, monkeypatch, rows: int):
    """A job of ``rows`` demand points posted from the English page and left queued: (its id, the job table, the
    run the API would have launched, for the test to call a chunk at a time)."""
    held = []
    monkeypatch.setattr(national_api, "launch", held.append)
    jobs = jobs_of(services_of(dash_app.server).store)
    points = store.read("demand").iloc[:rows]
    csv = tmp_path / "national.csv"
    csv.write_text(coverage_csv(points.geometry.x, points.geometry.y, points["weight"]))
    start(dash_duo, dash_app, "/planner?lang=en")
    _post_file(dash_duo, csv)
    dash_duo.wait_for_contains_text("#planner-national-status", ": queued", timeout=30)
    return jobs.ids()[-1], jobs, held.pop


def test_a_csv_uploaded_on_the_page_runs_to_done_with_a_download_link(dash_duo, dash_app, store, tmp_path):
    points = store.read("demand").iloc[:40]
    csv = tmp_path / "national.csv"
    csv.write_text(coverage_csv(points.geometry.x, points.geometry.y, points["weight"]))
    start(dash_duo, dash_app, "/planner?lang=en")
    assert dash_duo.find_element("#planner-national-section h2").text == "National coverage (large file)"
    assert not dash_duo.find_element("#planner-national-download").is_displayed()
    _post_file(dash_duo, csv)
    dash_duo.wait_for_contains_text("#planner-national-status", "done, 40 rows", timeout=60)
    assert dash_duo.find_element("#planner-national-bar").get_attribute("value") == "100"
    link = dash_duo.find_element("#planner-national-download")
    assert link.is_displayed() and link.text == "Download the tables (Excel)"
    href = link_href(dash_duo, "planner-national-download")
    assert href.startswith("/api/v1/planner/national-jobs/") and href.endswith("/tables.xlsx")
    assert not dash_duo.find_element("#planner-national-cancel").is_displayed()  # nothing left to cancel
    with urllib.request.urlopen(dash_duo.server.url + href) as answer:
        assert answer.status == 200 and answer.read(2) == b"PK"  # an xlsx is a zip


def test_a_bad_cell_is_named_on_the_page_in_chinese(dash_duo, dash_app, tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("lon,lat\n104.06,30.66\n104.07,north\n")
    start(dash_duo, dash_app, "/planner")
    assert text(dash_duo, "#planner-national-section h2") == "全国覆盖（大文件）"
    _post_file(dash_duo, csv)
    dash_duo.wait_for_contains_text("#planner-national-status", "失败", timeout=60)
    status = text(dash_duo, "#planner-national-status")
    assert "row 2" in status and "field lat" in status
    assert not dash_duo.find_element("#planner-national-download").is_displayed()


def test_the_page_follows_the_job_chunk_by_chunk_and_its_cancel_stops_it(dash_duo, dash_app, store, tmp_path,
                                                                          monkeypatch):
    job_id, jobs, run = _queued_job(dash_duo, dash_app, store, tmp_path, monkeypatch, 40)  # run: a chunk at a time
    assert text(dash_duo, "#planner-national-status") == f"Job {job_id}: queued"
    cancel = dash_duo.find_element("#planner-national-cancel")
    assert cancel.is_displayed()

    def after_chunk(job):
        dash_duo.wait_for_contains_text("#planner-national-status", f"running, {job.rows_done} rows read", timeout=30)
        if job.rows_done == 20:
            cancel.click()
            wait_until(dash_duo, lambda: jobs.get(job_id).cancel_requested, timeout=30)

    run()(after_chunk=after_chunk, chunk_rows=10)
    dash_duo.wait_for_contains_text("#planner-national-status", f"Job {job_id}: cancelled after 20 rows", timeout=30)
    assert not dash_duo.find_element("#planner-national-cancel").is_displayed()
    assert not dash_duo.find_element("#planner-national-download").is_displayed()


def test_a_reload_follows_the_same_job_to_its_end(dash_duo, dash_app, store, tmp_path, monkeypatch):
    job_id, _, run = _queued_job(dash_duo, dash_app, store, tmp_path, monkeypatch, 30)
    dash_duo.driver.refresh()  # the planner reloads the page while the job waits
    dash_duo.wait_for_contains_text("#planner-national-status", f"Job {job_id}: queued", timeout=30)
    assert dash_duo.find_element("#planner-national-cancel").is_displayed()
    run()(chunk_rows=10)
    dash_duo.wait_for_contains_text("#planner-national-status", f"Job {job_id}: done, 30 rows", timeout=30)
    assert dash_duo.find_element("#planner-national-download").is_displayed()


def test_a_geoparquet_file_chosen_on_the_page_runs_to_done(dash_duo, dash_app, store, tmp_path):
    points = store.read("demand").iloc[:40][["weight", "geometry"]]
    path = tmp_path / "national.geoparquet"
    points.to_parquet(path)
    start(dash_duo, dash_app, "/planner?lang=en")
    assert "GeoParquet" in text(dash_duo, "#planner-national-section .hint")
    _post_file(dash_duo, path)
    dash_duo.wait_for_contains_text("#planner-national-status", "done, 40 rows", timeout=60)
    assert dash_duo.find_element("#planner-national-download").is_displayed()
