"""The planning API over HTTP: coverage of stored and uploaded demand, the week tables, siting, and every refusal."""
from __future__ import annotations

import json

import numpy as np
import pytest

from layers.common.geodesy import MAX_RADIUS_M
from mapdata.crs import wgs84_to_bd09, wgs84_to_gcj02
from tests.helpers import AT, brute_force_covered


@pytest.fixture(scope="session")
def sample(store):
    """200 stored demand points around the centre and the suburbs, with their weights (WGS-84)."""
    demand = store.read("demand")
    rows = demand.iloc[np.linspace(0, len(demand) - 1, 200).astype(int)]
    return rows.geometry.x.to_numpy(), rows.geometry.y.to_numpy(), rows["weight"].to_numpy(dtype=float)


def geojson_body(lon, lat, weight=None) -> bytes:
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(x), float(y)]},
                 "properties": {} if weight is None else {"weight": float(w)}}
                for x, y, w in zip(lon, lat, weight if weight is not None else [None] * len(lon))]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


def csv_body(lon, lat, weight) -> bytes:
    lines = ["lon,lat,weight"] + [f"{float(x)!r},{float(y)!r},{float(w)!r}" for x, y, w in zip(lon, lat, weight)]
    return ("\n".join(lines) + "\n").encode()


def post(client, body: bytes, content_type: str, **params):
    return client.post("/api/v1/coverage", data=body, content_type=content_type, query_string=params)


def assert_totals_add_up(body):
    o = body["overall"]
    districts, hexagons = body["districts"], body["hexagons"]
    for key in ("demand", "covered"):
        assert sum(d[key] for d in districts) == pytest.approx(o[key], rel=1e-9, abs=1e-9)
        assert sum(h[key] for h in hexagons) == pytest.approx(o[key], rel=1e-9, abs=1e-9)
    for key in ("points", "points_covered"):
        assert sum(d[key] for d in districts) == o[key]
    assert o["covered"] <= o["demand"] and o["points_covered"] <= o["points"]
    assert o["share"] == pytest.approx(o["covered"] / o["demand"])


# ---------------------------------------------------------------------------------------------
# coverage

def test_stored_demand_coverage_matches_the_model(client, planning, store):
    r = client.get("/api/v1/coverage", query_string={"radius_m": 500, "at": AT, "amenities": "microwave"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert set(body) >= {"query", "overall", "districts", "hexagons"}
    assert body["query"]["demand"] == "stored"
    assert body["query"]["amenities"] == ["microwave"] and body["query"]["at"].startswith("2026-12-02T15:00")
    o = body["overall"]
    assert set(o) >= {"demand", "covered", "share", "points", "points_covered", "point_share"}
    assert o["points"] == len(store.read("demand"))
    direct = planning.model().coverage(500, ("microwave",), AT)
    assert o["covered"] == pytest.approx(direct.overall["covered"])
    assert len(body["districts"]) == len(store.read("districts"))
    assert {"adcode", "name", "demand", "covered", "share", "points", "points_covered"} <= set(body["districts"][0])
    assert {"h3", "demand", "covered"} <= set(body["hexagons"][0])
    assert any(d["name"] == "锦江区" for d in body["districts"])
    assert_totals_add_up(body)


def test_a_larger_radius_covers_more_and_opening_hours_matter(client):
    def covered(**params):
        return client.get("/api/v1/coverage", query_string=params).get_json()["overall"]["covered"]

    assert covered(radius_m=300, at="any") < covered(radius_m=1000, at="any")
    # at 03:00 most stations are shut
    assert covered(radius_m=1000, at="2026-12-02T03:00") < covered(radius_m=1000, at="any")


def test_h3_resolution_changes_the_hexagons(client):
    coarse = client.get("/api/v1/coverage", query_string={"at": "any", "h3_res": 6}).get_json()
    fine = client.get("/api/v1/coverage", query_string={"at": "any", "h3_res": 9}).get_json()
    assert len(coarse["hexagons"]) < len(fine["hexagons"])
    assert coarse["overall"] == fine["overall"]
    assert all(len(h["h3"]) == 15 for h in fine["hexagons"])


def test_uploaded_geojson_matches_a_brute_force_scan(client, store, sample):
    lon, lat, weight = sample
    r = post(client, geojson_body(lon, lat, weight), "application/geo+json", radius_m=800, at="any")
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["query"]["demand"] == "upload"
    stations = store.read("stations")
    expected = brute_force_covered(lon, lat, stations.geometry.x, stations.geometry.y,
                                   np.ones(len(stations), dtype=bool), 800)
    assert body["overall"]["points"] == len(lon)
    assert body["overall"]["points_covered"] == int(expected.sum()) > 0
    assert body["overall"]["covered"] == pytest.approx(float(weight[expected].sum()))
    assert_totals_add_up(body)


def test_plain_json_and_default_weight_of_one(client, sample):
    lon, lat, _ = sample
    body = post(client, geojson_body(lon, lat), "application/json", at="any").get_json()
    assert body["overall"]["demand"] == pytest.approx(len(lon))


def test_csv_upload_gives_the_same_answer_as_geojson(client, sample):
    lon, lat, weight = sample
    from_geojson = post(client, geojson_body(lon, lat, weight), "application/geo+json", at=AT).get_json()
    r = post(client, csv_body(lon, lat, weight), "text/csv; charset=utf-8", at=AT)
    assert r.status_code == 200, r.get_json()
    from_csv = r.get_json()
    assert from_csv["overall"] == pytest.approx(from_geojson["overall"])
    assert from_csv["districts"] == from_geojson["districts"]


@pytest.mark.parametrize("crs, convert", [("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)])
def test_points_in_chinese_map_coordinates_are_converted(client, sample, crs, convert):
    lon, lat, weight = sample
    twin = post(client, csv_body(lon, lat, weight), "text/csv", radius_m=500, at="any").get_json()
    clon, clat = convert(lon, lat)
    assert np.abs(clon - lon).max() > 1e-3  # hundreds of metres off before conversion
    r = post(client, csv_body(clon, clat, weight), "text/csv", radius_m=500, at="any", crs=crs)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["query"]["crs"] == crs
    assert body["overall"]["points_covered"] == twin["overall"]["points_covered"] > 0
    assert body["overall"]["covered"] == pytest.approx(twin["overall"]["covered"])
    assert [h["h3"] for h in body["hexagons"]] == [h["h3"] for h in twin["hexagons"]]
    # read as WGS-84, the same numbers land elsewhere: the conversion is what makes them agree
    unconverted = post(client, csv_body(clon, clat, weight), "text/csv", radius_m=500, at="any").get_json()
    assert [h["h3"] for h in unconverted["hexagons"]] != [h["h3"] for h in twin["hexagons"]]


def test_network_mode_rides_the_roads(client):
    straight = client.get("/api/v1/coverage", query_string={"radius_m": 500, "at": "any"}).get_json()
    r = client.get("/api/v1/coverage", query_string={"radius_m": 500, "at": "any", "mode": "network"})
    assert r.status_code == 200, r.get_json()
    network = r.get_json()
    assert network["query"]["mode"] == "network" and network["query"]["network_points"] > 0
    # a ride is never shorter than the straight line
    assert network["overall"]["covered"] <= straight["overall"]["covered"]
    assert_totals_add_up(network)


def test_network_mode_on_uploaded_points(client, sample):
    lon, lat, weight = sample
    r = post(client, geojson_body(lon, lat, weight), "application/geo+json", mode="network", at="any")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["query"]["mode"] == "network"


@pytest.mark.parametrize("params, field", [
    ({"radius_m": -5}, "radius_m"),
    ({"radius_m": 0}, "radius_m"),
    ({"radius_m": MAX_RADIUS_M + 1}, "radius_m"),
    ({"radius_m": "far"}, "radius_m"),
    ({"radius_m": "nan"}, "radius_m"),
    ({"h3_res": 4}, "h3_res"),
    ({"h3_res": 11}, "h3_res"),
    ({"h3_res": "fine"}, "h3_res"),
    ({"crs": "utm48n"}, "crs"),
    ({"at": "tomorrow-ish"}, "at"),
    ({"at": "2026-13-40T25:00"}, "at"),
    ({"amenities": "microwave,jacuzzi"}, "amenities"),
    ({"mode": "flying"}, "mode"),
])
def test_bad_parameters_are_400_naming_the_field(client, sample, params, field):
    lon, lat, weight = sample
    for r in (client.get("/api/v1/coverage", query_string=params),
              post(client, csv_body(lon[:3], lat[:3], weight[:3]), "text/csv", **params)):
        assert r.status_code == 400, r.data
        err = r.get_json()["error"]
        assert err["code"] == "invalid_parameter" and err["field"] == field and err["message"]


def test_bad_rows_are_listed_by_number(client):
    body = b"lon,lat,weight\n104.06,30.66,1\n104.07,north,1\n104.08,30.67,-2\n10.0,10.0,1\n104.05,30.65,1\n"
    r = post(client, body, "text/csv", at="any")
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "invalid_rows"
    assert sorted({row["row"] for row in err["rows"]}) == [2, 3, 4]
    assert {(row["row"], row["field"]) for row in err["rows"]} == {(2, "lat"), (3, "weight"), (4, "geometry")}
    assert "3 of 5 rows" in err["message"]


def test_a_feature_that_is_not_a_point_is_named(client):
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.06, 30.66]}, "properties": {}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[104, 30], [104.1, 30.1]]},
         "properties": {}}]}
    err = post(client, json.dumps(fc).encode(), "application/geo+json").get_json()["error"]
    assert err["code"] == "invalid_rows" and err["rows"][0]["row"] == 2


@pytest.mark.parametrize("body", [b"", b"  \n", b"lon,lat\n"])
def test_an_empty_body_is_400(client, body):
    r = post(client, body, "text/csv")
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "invalid_body" and err["message"]


def test_a_csv_without_coordinates_names_the_column(client):
    err = post(client, b"x_coord,y_coord\n1,2\n", "text/csv").get_json()["error"]
    assert err["code"] == "invalid_body" and err["field"] in ("lon", "lat")


@pytest.mark.parametrize("content_type", ["application/xml", "multipart/form-data; boundary=x",
                                          "application/x-www-form-urlencoded", None])
def test_a_wrong_content_type_is_415_json(client, content_type):
    r = client.post("/api/v1/coverage", data=b"lon,lat\n104.06,30.66\n", content_type=content_type)
    assert r.status_code == 415
    err = r.get_json()["error"]
    assert err["code"] == "unsupported_media_type" and "text/csv" in err["message"]


def test_a_body_over_the_limit_is_413_json(client):
    from layers.planning.demand import MAX_UPLOAD_BYTES

    r = post(client, b"1" * (MAX_UPLOAD_BYTES + 1), "text/csv")
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"


def test_other_methods_are_405(client):
    r = client.put("/api/v1/coverage", data=b"{}", content_type="application/json")
    assert r.status_code == 405 and "POST" in r.get_json()["error"]["message"]
    r = client.get("/api/v1/siting")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
    r = client.post("/api/v1/reports/coverage.csv")
    assert r.status_code == 405


# ---------------------------------------------------------------------------------------------
# the week

def test_week_is_a_7_by_24_table_from_monday(client):
    r = client.get("/api/v1/coverage/week", query_string={"radius_m": 800, "week_start": "2026-12-03"})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["weekday"] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert body["dates"][0] == "2026-11-30" and body["query"]["week_start"] == "2026-11-30"
    assert len(body["share"]) == 7 and all(len(row) == 24 for row in body["share"])
    assert all(0 <= v <= 1 for row in body["share"] for v in row)
    # stations keep hours: 3 a.m. is worse covered than 3 p.m.
    assert body["share"][2][3] < body["share"][2][15]
    # the hour's share is the same question as coverage at that moment
    at_three = client.get("/api/v1/coverage", query_string={"radius_m": 800, "at": "2026-12-02T15:00"}).get_json()
    assert body["share"][2][15] == pytest.approx(at_three["overall"]["share"], abs=1e-6)


def test_holiday_week_compared_with_a_normal_week(client):
    r = client.get("/api/v1/coverage/compare",
                   query_string={"normal_week": "2026-10-12", "holiday_week": "2026-10-01", "radius_m": 800})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert "holiday" in body["holiday"]["day_kind"] and "holiday" not in body["normal"]["day_kind"]
    diff = np.array(body["difference"], dtype=float)
    assert diff.shape == (7, 24)
    assert np.allclose(diff, np.array(body["holiday"]["share"]) - np.array(body["normal"]["share"]), atol=1e-5)


@pytest.mark.parametrize("path, params, field", [
    ("/api/v1/coverage/week", {"week_start": "next week"}, "week_start"),
    ("/api/v1/coverage/week", {"radius_m": -1}, "radius_m"),
    ("/api/v1/coverage/compare", {"holiday_week": "2026-10-01"}, "normal_week"),
    ("/api/v1/coverage/compare", {"normal_week": "2026-10-12", "holiday_week": "2026-02-30"}, "holiday_week"),
])
def test_week_parameters_are_checked(client, path, params, field):
    r = client.get(path, query_string=params)
    assert r.status_code == 400 and r.get_json()["error"]["field"] == field


# ---------------------------------------------------------------------------------------------
# siting

def test_greedy_siting_respects_k_and_ranks_by_gain(client):
    r = client.post("/api/v1/siting", json={"k": 8, "radius_m": 500, "at": AT})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    picks = body["picks"]
    assert 0 < len(picks) <= 8 and body["k"] == 8 and body["method"] == "greedy"
    gains = [p["gain"] for p in picks]
    assert all(g > 0 for g in gains)
    assert all(a >= b - 1e-9 for a, b in zip(gains, gains[1:]))
    assert [p["rank"] for p in picks] == list(range(1, len(picks) + 1))
    assert body["objective"] == pytest.approx(body["baseline"] + sum(gains))
    assert len({p["candidate"] for p in picks}) == len(picks)
    assert body["query"]["candidates"] == "default" and body["query"]["n_candidates"] > 1000
    assert {"id", "lon", "lat", "name", "source", "share"} <= set(picks[0])


def test_opening_hours_change_the_baseline(client):
    night = client.post("/api/v1/siting", json={"k": 1, "at": "2026-12-02T03:00"}).get_json()
    day = client.post("/api/v1/siting", json={"k": 1, "at": "2026-12-02T15:00"}).get_json()
    assert night["baseline"] < day["baseline"]


SMALL_SITES = [{"lon": 104.0648 + dx, "lat": 30.6586 + dy, "name": f"site {i}"}
               for i, (dx, dy) in enumerate((dx, dy) for dx in (-0.03, -0.01, 0.01, 0.03)
                                            for dy in (-0.03, -0.01, 0.01, 0.03))]


def test_exact_siting_on_a_small_request_equals_or_beats_greedy(client):
    greedy = client.post("/api/v1/siting", json={"k": 3, "radius_m": 800, "at": "any",
                                                  "candidates": SMALL_SITES}).get_json()
    r = client.post("/api/v1/siting", json={"k": 3, "radius_m": 800, "at": "any", "method": "exact",
                                             "candidates": SMALL_SITES})
    assert r.status_code == 200, r.get_json()
    exact = r.get_json()
    assert exact["method"] == "exact"
    assert exact["objective"] >= greedy["objective"] - 1e-6
    assert exact["greedy"]["objective"] == pytest.approx(greedy["objective"])
    assert exact["query"]["candidates"] == "given" and exact["query"]["n_candidates"] == len(SMALL_SITES)
    names = {s["name"] for s in SMALL_SITES}
    assert all(p["candidate_name"] in names and p["source"] == "planner" for p in exact["picks"])
    assert all(p["name"].endswith(" · " + p["candidate_name"]) for p in exact["picks"])


def test_exact_siting_is_refused_when_too_large(client):
    r = client.post("/api/v1/siting", json={"k": 5, "radius_m": 1000, "at": "any", "method": "exact"})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert err["code"] == "limit_exceeded" and err["field"] == "method" and "greedy" in err["message"]
    assert err["asked"] > err["limit"] > 0


def test_candidates_in_gcj02_land_on_their_wgs84_twins(client):
    lon = np.array([s["lon"] for s in SMALL_SITES])
    lat = np.array([s["lat"] for s in SMALL_SITES])
    glon, glat = wgs84_to_gcj02(lon, lat)
    gcj = [{"lon": float(x), "lat": float(y)} for x, y in zip(glon, glat)]
    wgs = client.post("/api/v1/siting", json={"k": 2, "at": "any", "candidates": SMALL_SITES}).get_json()
    r = client.post("/api/v1/siting", json={"k": 2, "at": "any", "candidates": gcj, "crs": "gcj02"})
    assert r.status_code == 200, r.get_json()
    converted = r.get_json()
    assert len(converted["picks"]) == 2
    assert [p["candidate"] for p in converted["picks"]] == [p["candidate"] for p in wgs["picks"]]
    for a, b in zip(converted["picks"], wgs["picks"]):
        assert a["lon"] == pytest.approx(b["lon"], abs=1e-7) and a["lat"] == pytest.approx(b["lat"], abs=1e-7)


@pytest.mark.parametrize("body, field", [
    ({"k": 0}, "k"),
    ({"k": 101}, "k"),
    ({}, "k"),
    ({"k": 3, "radius_m": -1}, "radius_m"),
    ({"k": 3, "method": "optimal"}, "method"),
    ({"k": 3, "amenities": "jacuzzi"}, "amenities"),
    ({"k": 3, "at": "soon"}, "at"),
    ({"k": 3, "crs": "utm"}, "crs"),
    ({"k": 3, "radius": 500}, "radius"),
    ({"k": 3, "candidates": []}, "candidates"),
])
def test_bad_siting_requests_are_400_naming_the_field(client, body, field):
    r = client.post("/api/v1/siting", json=body)
    assert r.status_code == 400, r.data
    err = r.get_json()["error"]
    assert err["field"] == field and err["message"]


def test_bad_candidate_sites_are_listed_by_row(client):
    sites = [SMALL_SITES[0], {"lon": "east", "lat": 30.6}, SMALL_SITES[1], {"lon": 116.4, "lat": 39.9}]
    err = client.post("/api/v1/siting", json={"k": 1, "candidates": sites}).get_json()["error"]
    assert err["code"] == "invalid_rows" and [row["row"] for row in err["rows"]] == [2]
    sites[1] = SMALL_SITES[2]
    err = client.post("/api/v1/siting", json={"k": 1, "candidates": sites}).get_json()["error"]
    assert err["code"] == "invalid_rows" and [row["row"] for row in err["rows"]] == [4]
    assert "outside Chengdu" in err["rows"][0]["message"]


def test_siting_wants_a_json_body(client):
    r = client.post("/api/v1/siting", data=b"k=3", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.get_json()["error"]["code"] == "unsupported_media_type"
    r = client.post("/api/v1/siting", data=b"{k: 3", content_type="application/json")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_body"
