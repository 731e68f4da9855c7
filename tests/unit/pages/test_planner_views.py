"""The planner page's view builders take the client's word for nothing: forged controls, clicks and uploads
are clipped, filtered or refused with a message, never an error; uploads are all-or-nothing."""
from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from dash import no_update

import pages.planner.views as cb
from layers.services import services_of
from pages.ids import PLANNER
from pages.phrasing import pct
from tests.helpers import coverage_csv


def model_of(dash_app):
    return services_of(dash_app.server).planning.model()


def data_url(body: str, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(body.encode()).decode()


# ---------------------------------------------------------------------------------------------
# the callbacks as any client can call them: hostile values are clipped, filtered or refused

BEIJING = (116.397, 39.909)


@pytest.fixture()
def in_app(dash_app):
    with dash_app.server.test_request_context("/planner"):
        yield


def test_callbacks_validate_what_any_client_sends(dash_app, in_app):
    query, *_, said = cb.question_view("custom", -1, "teleport", ["microwave", "<script>", 7], "week", 99, -5,
                                       "1999-01-01", 42)
    # a custom radius out of range is not applied, and the box says so with the range
    assert query["radius_m"] == 1000 and query["mode"] == "straight" and query["h3_res"] == 8
    assert "100–2,000" in str(said) and "1,000" in str(said)
    assert "1,000 米" in cb.when_text(cb.the_query(query), "zh")
    assert query["amenities"] == ["microwave"]
    assert query["at"].endswith("T12:00")  # an impossible weekday and hour fall back to Wednesday noon
    huge, *_ = cb.question_view("custom", 10 ** 9, "straight", "microwave,unknown", "holiday", 0, 3, "1999-01-01", 9)
    assert huge["radius_m"] == 1000 and huge["amenities"] == ["microwave"] and huge["h3_res"] == 9
    assert huge["at"] is not None  # an unknown holiday falls back to a real one

    model = model_of(dash_app)
    clean_q = cb.the_query({"radius_m": 1000})
    forged = {"radius_m": "1e9", "amenities": ["nope"], "at": "not a time", "mode": "x", "h3_res": "99"}
    assert cb.the_query(forged).question() == cb.the_query({"radius_m": 2000}).question()

    # k: clipped to 1 … 100
    _, items, fig, sites = cb.sites_view(10 ** 9, clean_q.model_dump(mode="json"), {"lang": "zh"})
    assert 0 < len(items) <= 100 and len(sites["features"]) == len(items)
    _, items, _, _ = cb.sites_view(-3, clean_q.model_dump(mode="json"), {"lang": "xx"})
    assert len(items) == 1
    assert parse_qs(urlparse(cb.report_links(forged, 10 ** 9, "510107")[4]).query)["k"] == ["100"]

    # what-if: unknown station ids and points outside Chengdu are dropped, not trusted
    plain = cb.coverage_view(clean_q.model_dump(mode="json"), {"added": [], "removed": []}, {"lang": "zh"})
    hostile = {"added": [list(BEIJING), ["x", None], [1e308, 1e308]], "removed": ["st-9999", {"$ne": 1}, None]}
    same = cb.coverage_view(clean_q.model_dump(mode="json"), hostile, {"lang": "zh"})
    assert same[0] == plain[0] == pct(model.coverage(1000).overall["share"]) and same[9] is None
    out = cb.what_if_edit(PLANNER.map, {"latlng": {"lat": BEIJING[1], "lng": BEIJING[0]}}, None, None,
                          "whatif", {"added": [], "removed": []}, {"lang": "zh"})
    assert out[0] is no_update and "成都" in out[1]
    out = cb.what_if_edit(PLANNER.stations, None, {"properties": {"id": "st-9999"}}, None, "whatif",
                          {"added": [], "removed": []}, {"lang": "zh"})
    assert out == (no_update, no_update)
    sid = model.station_ids[0]
    removed = cb.coverage_view(clean_q.model_dump(mode="json"), {"added": [], "removed": [sid]}, {"lang": "zh"})
    assert [f["properties"]["id"] for f in removed[10]["features"]] == [sid] and removed[11] == {"removed": [sid]}
    assert removed[0] == pct(model.coverage(1000, removed_station_ids=[sid]).overall["share"])
    out = cb.what_if_edit(PLANNER.stations, None, {"properties": {"id": sid}}, None, "whatif",
                          {"added": [], "removed": []}, {"lang": "zh"})
    assert out[0] == {"added": [], "removed": [sid]}
    # outside the what-if mode a click changes nothing
    out = cb.what_if_edit(PLANNER.map, {"latlng": {"lat": 30.66, "lng": 104.06}}, None, None, "inspect",
                          {"added": [], "removed": []}, {"lang": "zh"})
    assert out == (no_update, no_update)

    # clicks on the map's features: indexes and codes checked against the model
    assert cb.inspect_view(PLANNER.hexagons, {"properties": {"i": 10 ** 9, "r": 8}}, None,
                           clean_q.model_dump(mode="json"), None, None) is no_update
    assert cb.inspect_view(PLANNER.base_districts, None, {"properties": {"adcode": 110101}},
                           clean_q.model_dump(mode="json"), None, None) is no_update
    # the exact solve: an unknown district and a too-large one are answered with a message
    assert "warning" in str(cb.exact_view("110101", 5, clean_q.model_dump(mode="json"), {"lang": "en"}))
    too_large = str(cb.exact_view(510116, 100, clean_q.model_dump(mode="json"), {"lang": "en"}))
    assert "too-large" in too_large and "greedy" in too_large




def test_upload_callbacks_validate_what_any_client_sends(dash_app, in_app, client):
    ctx = services_of(dash_app.server).planning
    model = model_of(dash_app)
    body = coverage_csv(model.lon[:50], model.lat[:50], np.ones(50))
    zh = {"lang": "zh"}
    # forged files: not a data URL, not base64, an unknown extension; a forged CRS is read as WGS-84
    for contents, filename in ((body, "a.csv"), ("data:text/csv;base64,@@@", "a.csv"), (data_url(body), "a.exe"),
                               (data_url(body), None), ({"$ne": 1}, "a.csv")):
        store, msg, errors, cleared = cb.demand_upload_view(PLANNER.demand_upload, contents, filename, "wgs84", zh)
        assert store is no_update and "upload-refused" in str(msg) and cleared is None
    store, msg, errors, _ = cb.demand_upload_view(PLANNER.demand_upload, data_url(body), "<b>x</b>.csv",
                                                  "utm48n", zh)
    assert store["rows"] == 50 and store["crs"] == "wgs84" and errors is None
    assert ctx.model_for_token(store["token"]).total_demand == 50
    # the figures follow the token, not what the client says about it
    q = cb.the_query({"radius_m": 1000}).model_dump(mode="json")
    forged = {**store, "rows": 10 ** 9, "name": "forged", "crs": "evil"}
    out = cb.coverage_view(q, None, zh, forged)
    assert out[0] == pct(ctx.model_for_token(store["token"]).coverage(1000).overall["share"])
    assert "50 点" in str(out[-1]) and "forged" not in str(out[-1])
    # an unknown token: the stored demand, said so
    for token in ("nope", None, 7, "x" * 10_000, {"$ne": 1}):
        out = cb.coverage_view(q, None, zh, {"token": token})
        assert out[0] == pct(model.coverage(1000).overall["share"])
    assert "演示需求" in str(out[-1]) and "不在服务器上" in str(out[-1])
    assert "demand" not in parse_qs(urlparse(cb.report_links(q, 5, None, {"token": "nope"})[0]).query)
    # reset goes back to the stored demand
    assert cb.demand_upload_view(PLANNER.demand_reset, data_url(body), "a.csv", "wgs84", zh)[0] is None
    # candidate sites: an unknown token is the default set, with a warning
    msg, items, _, _ = cb.sites_view(2, q, zh, None, {"token": "nope"})
    assert "warning" in str(msg) and len(items) == 2
    assert cb.candidates_upload_view(PLANNER.cands_upload, "junk", "s.csv", "wgs84", None, zh)[0] is no_update


def test_upload_cache_keeps_the_last_few_and_reports_take_the_token(dash_app, client):
    from layers.planning.context import MAX_UPLOADS, RecentUploads, Upload
    from layers.planning.demand import parse_demand_upload

    recent = RecentUploads(2)
    a, b = recent.add(Upload("a", {})), recent.add(Upload("b", {}))
    assert recent.get(a).value == "a"  # used: b is now the oldest
    c = recent.add(Upload("c", {}))
    assert recent.get(b) is None and recent.get(a).value == "a" and recent.get(c).value == "c" and len(recent) == 2
    assert len({a, b, c}) == 3 and all(len(x) >= 20 for x in (a, b, c))

    ctx = services_of(dash_app.server).planning
    model = model_of(dash_app)
    points = parse_demand_upload(coverage_csv(model.lon[:30], model.lat[:30], np.full(30, 2.0)).encode(), "text/csv",
                                 "wgs84", ctx.outline())
    tokens = [ctx.add_upload(points, f"{i}.csv") for i in range(MAX_UPLOADS + 1)]
    assert ctx.model_for_token(tokens[0]) is None
    assert all(ctx.model_for_token(t) is not None for t in tokens[1:])
    assert ctx.upload(tokens[-1]).summary == {"name": f"{MAX_UPLOADS}.csv", "rows": 30, "weight": 60.0,
                                              "crs": "wgs84"}
    from exports.table_csv import coverage_table_csv

    r = client.get("/api/v1/reports/coverage.csv", query_string={"demand": tokens[-1], "at": "any"})
    assert r.status_code == 200
    assert r.data == coverage_table_csv(ctx.model_for_token(tokens[-1]).coverage(500))
    assert r.data != client.get("/api/v1/reports/coverage.csv", query_string={"at": "any"}).data
    for params in ({"demand": tokens[0]}, {"demand": "x" * 20}, {"candidates": "nope", "k": 2}):
        r = client.get("/api/v1/reports/coverage.csv", query_string=params)
        assert r.status_code in (400, 404) and r.get_json()["error"]["field"] in ("demand", "candidates")
    r = client.get("/api/v1/reports/coverage.csv", query_string={"demand": tokens[0]})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
