"""The JSON API over HTTP: every route, and every kind of bad input answered with a 400 that names the field."""
from __future__ import annotations

import pytest

from mapdata.vocabulary import AMENITY_KEYS
from tests.helpers import brute_force_nearest

CENTRE = {"lat": 30.6586, "lon": 104.0648}  # 天府广场


def test_amenities_lists_the_vocabulary(client):
    r = client.get("/api/v1/amenities")
    assert r.status_code == 200
    body = r.get_json()
    assert [a["key"] for a in body] == list(AMENITY_KEYS)
    assert {"key": "microwave", "zh": "微波炉", "en": "Microwave"} in body


def test_stations_is_a_geojson_feature_collection(client, store):
    r = client.get("/api/v1/stations")
    assert r.status_code == 200
    assert r.mimetype == "application/geo+json"
    fc = r.get_json(force=True)
    assert fc["type"] == "FeatureCollection"
    assert len(fc["features"]) == len(store.read("stations"))
    f = fc["features"][0]
    assert set(f["properties"]) == {"id", "name", "district", "street", "address", "phone", "amenities",
                                    "amenities_out", "opening_hours", "status", "status_note", "status_until",
                                    "confirmed_at", "version"}
    lon, lat = f["geometry"]["coordinates"]
    assert 102.9 < lon < 105 and 30 < lat < 31.5
    assert all(k in AMENITY_KEYS for feat in fc["features"] for k in feat["properties"]["amenities"])


def test_stations_are_compressed_when_the_client_accepts_it(client):
    r = client.get("/api/v1/stations", headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"


def test_one_station_and_a_missing_one(client, store):
    sid = store.read("stations")["id"].iloc[3]
    r = client.get(f"/api/v1/stations/{sid}")
    assert r.status_code == 200
    assert r.get_json(force=True)["properties"]["id"] == sid
    r = client.get("/api/v1/stations/st-9999")
    assert r.status_code == 404
    assert r.get_json()["error"]["code"] == "not_found"


def test_nearest_matches_a_brute_force_scan(client, store):
    params = {**CENTRE, "amenities": "microwave,legal_counselling", "at": "2026-12-02T15:00:00+08:00", "k": 5}
    r = client.get("/api/v1/stations/nearest", query_string=params)
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["query"]["amenities"] == ["microwave", "legal_counselling"]
    assert body["count"] == len(body["results"]) > 0
    ids = [x["id"] for x in body["results"]]
    from layers.common.calendar import as_local
    expected = brute_force_nearest(store.read("stations"), CENTRE["lat"], CENTRE["lon"],
                                   ("microwave", "legal_counselling"), as_local("2026-12-02T15:00:00+08:00"), 5, None)
    assert ids == expected
    first = body["results"][0]
    assert {"id", "name", "lat", "lon", "distance_m", "eta_min", "eta_source", "open", "closes_at", "amenities",
            "district", "address"} <= set(first)
    assert first["open"] is True
    assert {"microwave", "legal_counselling"} <= set(first["amenities"])
    distances = [x["distance_m"] for x in body["results"]]
    assert distances == sorted(distances)


def test_nearest_in_the_centre_rides_the_road_network(client):
    r = client.get("/api/v1/stations/nearest", query_string={**CENTRE, "at": "any", "sort": "eta", "k": 10})
    body = r.get_json()
    assert body["query"]["at"] == "any"
    assert any(x["eta_source"] == "network" for x in body["results"])
    etas = [x["eta_min"] for x in body["results"]]
    assert etas == sorted(etas)
    assert all(x["open"] is None for x in body["results"])


def test_nearest_far_outside_the_centre_estimates(client):
    r = client.get("/api/v1/stations/nearest", query_string={"lat": 30.41, "lon": 103.46, "at": "any", "k": 3})
    results = r.get_json()["results"]
    assert len(results) == 3
    for x in results:
        assert x["eta_source"] == "estimate"
        assert x["eta_min"] == pytest.approx(x["distance_m"] * 1.3 / (15000 / 60), abs=0.1)


def test_nearest_defaults_to_now_and_k_5(client):
    body = client.get("/api/v1/stations/nearest", query_string=CENTRE).get_json()
    assert body["query"]["k"] == 5 and body["query"]["at"] not in (None, "any")
    assert body["count"] <= 5


def test_max_distance_limits_the_results(client):
    body = client.get("/api/v1/stations/nearest",
                      query_string={**CENTRE, "at": "any", "k": 50, "max_distance_m": 800}).get_json()
    assert all(x["distance_m"] <= 800 for x in body["results"])


@pytest.mark.parametrize("params, field", [
    ({"lon": 104.06}, "lat"),
    ({"lat": "north", "lon": 104.06}, "lat"),
    ({"lat": 91, "lon": 104.06}, "lat"),
    ({"lat": -90.5, "lon": 104.06}, "lat"),
    ({"lat": "nan", "lon": 104.06}, "lat"),
    ({"lat": 30.6}, "lon"),
    ({"lat": 30.6, "lon": 181}, "lon"),
    ({**CENTRE, "amenities": "microwave,jacuzzi"}, "amenities"),
    ({**CENTRE, "at": "tomorrow-ish"}, "at"),
    ({**CENTRE, "at": "2026-13-40T25:00"}, "at"),
    ({**CENTRE, "k": 0}, "k"),
    ({**CENTRE, "k": 51}, "k"),
    ({**CENTRE, "k": "five"}, "k"),
    ({**CENTRE, "sort": "rating"}, "sort"),
    ({**CENTRE, "max_distance_m": -5}, "max_distance_m"),
    ({**CENTRE, "max_distance_m": "far"}, "max_distance_m"),
])
def test_bad_parameters_are_400_naming_the_field(client, params, field):
    r = client.get("/api/v1/stations/nearest", query_string=params)
    assert r.status_code == 400, r.data
    err = r.get_json()["error"]
    assert err["code"] == "invalid_parameter"
    assert err["field"] == field
    assert err["message"]


def test_unknown_amenity_message_names_it(client):
    err = client.get("/api/v1/stations/nearest",
                     query_string={**CENTRE, "amenities": "jacuzzi"}).get_json()["error"]
    assert "jacuzzi" in err["message"]


def test_unknown_routes_and_methods_answer_json(client):
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.post("/api/v1/amenities")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"


@pytest.mark.parametrize("layer", ["districts", "roads", "compounds", "gates", "buildings", "entry_routes",
                                   "wayfinding_signs"])
def test_every_map_layer_is_published_as_geojson(client, store, layer):
    r = client.get(f"/api/v1/layers/{layer}")
    assert r.status_code == 200
    fc = r.get_json(force=True)
    assert len(fc["features"]) == len(store.read(layer))


def test_roads_can_be_filtered_by_class(client, store):
    fc = client.get("/api/v1/layers/roads", query_string={"highway": "primary,secondary"}).get_json(force=True)
    assert {f["properties"]["highway"] for f in fc["features"]} == {"primary", "secondary"}
    r = client.get("/api/v1/layers/compounds", query_string={"highway": "primary"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "highway"
    r = client.get("/api/v1/layers/secret_table")
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "layer"


def test_layer_parameters_take_only_known_values(client, store):
    r = client.get("/api/v1/layers/roads", query_string={"highway": "primary,warp_drive"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "highway"
    assert "warp_drive" in r.get_json()["error"]["message"]
    for value in ("1.001", "0.5", "7", "1e-300"):
        r = client.get("/api/v1/layers/districts", query_string={"simplify_m": value})
        assert r.status_code == 400 and r.get_json()["error"]["field"] == "simplify_m", value
    ok = client.get("/api/v1/layers/districts", query_string={"simplify_m": "30"})
    assert ok.status_code == 200 and len(ok.get_json(force=True)["features"]) == 20


def test_the_layer_cache_stays_bounded_whatever_clients_ask(client, dash_app, store):
    from layers.services import services_of

    catalogue = services_of(dash_app.server).stations
    classes = sorted(set(store.read("roads")["highway"]))
    for i in range(len(classes)):
        for j in range(i + 1, len(classes)):
            assert client.get("/api/v1/layers/roads", query_string={
                "highway": f"{classes[i]},{classes[j]}"}).status_code == 200
    assert len(catalogue.layer_cache) <= catalogue.layer_cache.maxsize
