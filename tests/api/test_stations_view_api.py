"""GET /api/v1/stations/view: the stations of a map's viewport, clustered on the server below zoom 14, bounded."""
from __future__ import annotations

import datetime as dt
import gzip
import json

import numpy as np
import pytest

from bench.bench_nearest import demo_stations, scaled
from layers.rider.viewport import MAX_FEATURES, STATIONS_ZOOM, ViewIndex, view
from mapdata import clock

TIANFU = (104.0657, 30.6574)  # 天府广场
CITY = (103.5, 30.0, 105.0, 31.5)
WORLD = (-180, -90, 180, 90)


def _get(client, **params):
    return client.get("/api/v1/stations/view", query_string=params)


def _box(box) -> str:
    return ",".join(f"{v:g}" for v in box)


def _all_stations(client) -> list[dict]:
    return client.get("/api/v1/stations", query_string={"fields": "id,name,status"}).get_json(force=True)["features"]


def _inside(features, box) -> set[str]:
    w, s, e, n = box
    return {f["id"] for f in features
            if w <= f["geometry"]["coordinates"][0] <= e and s <= f["geometry"]["coordinates"][1] <= n}


def _members(features) -> int:
    return sum(f["properties"]["point_count"] if f["properties"]["cluster"] else 1 for f in features)


@pytest.mark.parametrize("box", [CITY, (TIANFU[0] - 0.02, TIANFU[1] - 0.02, TIANFU[0] + 0.02, TIANFU[1] + 0.02),
                                 (104.0, 30.6, 104.1, 30.7)])
@pytest.mark.parametrize("zoom", [STATIONS_ZOOM, 17])
def test_at_high_zoom_the_box_answers_the_stations_inside_it(client, box, zoom):
    r = _get(client, bbox=_box(box), zoom=zoom)
    assert r.status_code == 200, r.get_json()
    assert r.mimetype == "application/geo+json"
    doc = r.get_json(force=True)
    expected = _inside(_all_stations(client), box)
    assert expected, "the box should hold stations"
    assert doc["clustered"] is False and doc["cell_px"] is None
    assert {f["id"] for f in doc["features"]} == expected
    assert doc["count"] == len(expected)
    by_id = {f["id"]: f for f in _all_stations(client)}
    for f in doc["features"]:
        assert f["properties"] == {**by_id[f["id"]]["properties"], "cluster": False}
        assert f["geometry"] == by_id[f["id"]]["geometry"]


def test_fields_choose_the_properties_of_a_station(client):
    r = _get(client, bbox=_box(CITY), zoom=15, fields="id,opening_hours")
    assert r.status_code == 200
    assert all(set(f["properties"]) == {"id", "opening_hours", "cluster"} for f in r.get_json(force=True)["features"])


@pytest.mark.parametrize("zoom", [3, 8, 10, 11, 12, 13])
def test_at_low_zoom_the_clusters_count_every_station_in_the_box(client, zoom):
    box = (103.9, 30.55, 104.2, 30.8)
    doc = _get(client, bbox=_box(box), zoom=zoom).get_json(force=True)
    expected = _inside(_all_stations(client), box)
    assert doc["clustered"] is True and doc["cell_px"] >= 60
    assert doc["count"] == len(expected) == _members(doc["features"])
    singles = {f["id"] for f in doc["features"] if not f["properties"]["cluster"]}
    assert singles <= expected
    clusters = [f for f in doc["features"] if f["properties"]["cluster"]]
    assert clusters, "the centre's stations should cluster at this zoom"
    for c in clusters:
        w, s, e, n = c["bbox"]
        lon, lat = c["geometry"]["coordinates"]
        assert w <= lon <= e and s <= lat <= n  # the centroid lies within its members' extent
        assert box[0] <= w and e <= box[2] and box[1] <= s and n <= box[3]
        assert 0 <= c["properties"]["open_count"] <= c["properties"]["point_count"] >= 2
    assert len({f["id"] for f in doc["features"]}) == len(doc["features"])
    # the same box answers the same features
    assert _get(client, bbox=_box(box), zoom=zoom).get_json(force=True) == doc


def test_fewer_features_as_the_map_zooms_out(client):
    counts = [len(_get(client, bbox=_box(CITY), zoom=z).get_json(force=True)["features"]) for z in (13, 11, 9, 7)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_the_city_at_zoom_3_is_a_handful_of_bytes(client):
    r = _get(client, bbox=_box(WORLD), zoom=3)
    doc = r.get_json(force=True)
    assert len(doc["features"]) <= 2 and _members(doc["features"]) == doc["count"] == len(_all_stations(client))
    assert len(r.data) < 1_000
    full = client.get("/api/v1/stations", query_string={"fields": "id,name,status"})
    assert len(r.data) * 20 < len(full.data)


def test_compressed_when_the_client_accepts_it(client):
    r = client.get("/api/v1/stations/view", query_string={"bbox": _box(CITY), "zoom": 15},
                   headers={"Accept-Encoding": "gzip"})
    assert r.headers.get("Content-Encoding") == "gzip"
    assert json.loads(gzip.decompress(r.data))["count"] == len(_inside(_all_stations(client), CITY))


@pytest.mark.parametrize("params, field", [
    ({"zoom": 12}, "bbox"),
    ({"bbox": "104,30,105", "zoom": 12}, "bbox"),
    ({"bbox": "104,30,105,31,1", "zoom": 12}, "bbox"),
    ({"bbox": "104,30,nan,31", "zoom": 12}, "bbox"),
    ({"bbox": "104,30,inf,31", "zoom": 12}, "bbox"),
    ({"bbox": "104,30,1e3,31", "zoom": 12}, "bbox"),
    ({"bbox": "105,30,104,31", "zoom": 12}, "bbox"),
    ({"bbox": "104,31,105,31", "zoom": 12}, "bbox"),
    ({"bbox": "-181,30,105,31", "zoom": 12}, "bbox"),
    ({"bbox": "104,-91,105,31", "zoom": 12}, "bbox"),
    ({"bbox": "104,30,105,90.5", "zoom": 12}, "bbox"),
    ({"bbox": "104;30;105;31", "zoom": 12}, "bbox"),
    ({"bbox": "104,30,105,31"}, "zoom"),
    ({"bbox": "104,30,105,31", "zoom": 2}, "zoom"),
    ({"bbox": "104,30,105,31", "zoom": 20}, "zoom"),
    ({"bbox": "104,30,105,31", "zoom": "12.5"}, "zoom"),
    ({"bbox": "104,30,105,31", "zoom": "twelve"}, "zoom"),
    ({"bbox": "104,30,105,31", "zoom": 12, "fields": "id,secret"}, "fields"),
    ({"bbox": "104,30,105,31", "zoom": 12, "amenities": "microwave,jacuzzi"}, "amenities"),
    ({"bbox": "104,30,105,31", "zoom": 12, "at": "tomorrow"}, "at"),
    ({"bbox": "104,30,105,31", "zoom": 12, "amenities": "drinking_water", "at": "2026-13-40T25:00"}, "at"),
])
def test_a_bad_box_or_zoom_is_refused_naming_the_field(client, params, field):
    r = _get(client, **params)
    assert r.status_code == 400, r.get_json()
    error = r.get_json()["error"]
    assert error["field"] == field and error["message"]


def test_the_document_describes_the_route(client):
    op = client.get("/api/openapi.json").get_json()["paths"]["/api/v1/stations/view"]["get"]
    params = {p["name"]: p for p in op["parameters"]}
    assert set(params) == {"bbox", "zoom", "fields", "amenities", "at"}
    assert params["bbox"]["required"] and params["zoom"]["required"]
    assert not params["amenities"]["required"] and not params["at"]["required"]
    assert "answer_count" in params["amenities"]["description"] and "now" in params["at"]["description"]
    assert (params["zoom"]["schema"]["minimum"], params["zoom"]["schema"]["maximum"]) == (3, 19)


# --- the rider's question: how many of a cluster's stations answer it -------------------------------------------

def _nearest_ids(client, amenities, at) -> set[str]:
    """Every station the nearest API could list for the question: what the list is made of."""
    r = client.get("/api/v1/stations/nearest", query_string={"lat": TIANFU[1], "lon": TIANFU[0], "k": 50,
                                                              "amenities": amenities, "at": at})
    assert r.status_code == 200, r.get_json()
    return {s["id"] for s in r.get_json()["results"]}


def _answering_everywhere(client, amenities, at) -> int:
    """How many stations answer the question in the whole city, counted by the nearest API (k at most 50)."""
    n = len(_nearest_ids(client, amenities, at))
    assert n < 50, "the question should be rare enough for the nearest API to list all its answers"
    return n


def test_clusters_count_the_stations_answering_the_question(client):
    at = f"{clock.today() + dt.timedelta(days=1):%Y-%m-%d}T03:00"  # 03:00 tomorrow: few stations are open
    amenities = "microwave,legal_counselling"
    answering = _nearest_ids(client, amenities, at)
    assert _answering_everywhere(client, amenities, at) > 0
    box = (103.5, 30.0, 105.0, 31.5)
    counts = []
    for zoom in (8, 10, 11, 12, 13):
        doc = _get(client, bbox=_box(box), zoom=zoom, amenities=amenities, at=at).get_json(force=True)
        clusters = [f for f in doc["features"] if f["properties"]["cluster"]]
        singles = {f["id"] for f in doc["features"] if not f["properties"]["cluster"]}
        assert clusters
        assert all(0 <= c["properties"]["answer_count"] <= c["properties"]["point_count"] for c in clusters)
        # the clusters' counts and the stations alone in their cell that answer add up to the nearest API's answer
        inside = answering & _inside(_all_stations(client), box)
        assert sum(c["properties"]["answer_count"] for c in clusters) + len(singles & inside) == len(inside)
        counts += [c["properties"]["answer_count"] for c in clusters]
    # some clusters hold no answer (the map greys them), others hold one
    assert 0 in counts and max(counts) > 0
    # without a question there is no count; with any time and no amenity every station answers
    plain = _get(client, bbox=_box(box), zoom=11).get_json(force=True)
    assert all(f["properties"]["answer_count"] is None for f in plain["features"] if f["properties"]["cluster"])
    anything = _get(client, bbox=_box(box), zoom=11, at="any").get_json(force=True)
    assert all(f["properties"]["answer_count"] == f["properties"]["point_count"]
               for f in anything["features"] if f["properties"]["cluster"])
    # amenities alone ask about now, as the nearest API does
    now = _get(client, bbox=_box(box), zoom=11, amenities="drinking_water").get_json(force=True)
    explicit = _get(client, bbox=_box(box), zoom=11, amenities="drinking_water", at="now").get_json(force=True)
    assert [f["properties"].get("answer_count") for f in now["features"]] == \
        [f["properties"].get("answer_count") for f in explicit["features"]]


# --- national scale, through the domain function ----------------------------------------------------------------

@pytest.fixture(scope="module")
def national(demo_gpkg):
    stations = scaled(demo_stations(demo_gpkg), 130_000)
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    ids = stations["id"].astype(str).to_numpy()
    # the same count packed into Chengdu: the densest case a city could give
    rng = np.random.default_rng(5)
    packed = (rng.uniform(103.9, 104.2, len(lon)), rng.uniform(30.55, 30.8, len(lat)))
    return {"spread": (ViewIndex.build(lon, lat), ids), "packed": (ViewIndex.build(*packed), ids),
            "names": stations["name"].to_numpy(), "open": np.arange(len(ids)) % 3 == 0}


@pytest.mark.parametrize("layout", ["spread", "packed"])
def test_130000_stations_give_at_most_2000_features_at_every_zoom(national, layout):
    index, ids = national[layout]
    columns = {"id": ids, "name": national["names"]}
    phone = (TIANFU[0] - 0.1, TIANFU[1] - 0.1, TIANFU[0] + 0.1, TIANFU[1] + 0.1)
    for zoom in range(3, 20):
        for box in (WORLD, (73.0, 18.0, 135.0, 54.0), CITY, phone):
            doc = view(index, box, zoom, columns, ids, open_mask=national["open"])
            inside = int(np.count_nonzero((index.lon >= box[0]) & (index.lon <= box[2])
                                          & (index.lat >= box[1]) & (index.lat <= box[3])))
            assert len(doc["features"]) <= MAX_FEATURES, (layout, zoom, box)
            assert doc["count"] == inside == _members(doc["features"]), (layout, zoom, box)
            assert doc["clustered"] or zoom >= STATIONS_ZOOM
    # the clusters' open counts and the stations alone in their cell add up to those open
    row = {sid: i for i, sid in enumerate(ids)}
    doc = view(index, WORLD, 3, columns, ids, open_mask=national["open"])
    opened = sum(f["properties"]["open_count"] if f["properties"]["cluster"] else int(national["open"][row[f["id"]]])
                 for f in doc["features"])
    assert opened == int(national["open"].sum())
    # a whole city of 130,000 stations at zoom 16 is clusters, not 130,000 points
    doc = view(national["packed"][0], CITY, 16, columns, ids)
    assert doc["clustered"] and len(doc["features"]) <= MAX_FEATURES and doc["count"] == len(ids)
