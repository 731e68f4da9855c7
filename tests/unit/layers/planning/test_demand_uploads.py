"""Demand: planners' CSV/GeoJSON uploads (CRS, bad rows, limits) and the generated demonstration layer."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from layers.planning.demand import (
    MAX_NAME_CHARS,
    MAX_PROBLEMS,
    DemandUploadError,
    content_type_of,
    decode_data_url,
    parse_candidate_upload,
    parse_demand_upload,
)
from mapdata.crs import from_wgs84, to_wgs84


def csv_bytes(rows: list[list], header=("lon", "lat", "weight")) -> bytes:
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def refused(data, outline, content_type="text/csv", crs="wgs84", parse=parse_demand_upload,
            **kwargs) -> DemandUploadError:
    with pytest.raises(DemandUploadError) as info:
        parse(data, content_type, crs, outline, **kwargs)
    return info.value


def test_csv_happy_path(outline):
    data = "\ufeffLon , LAT,weight,time,note\n104.06,30.66,2.5,2026-03-04T12:30,a\n 104.10 ,30.70,0,,b\n".encode()
    points = parse_demand_upload(data, "text/csv; charset=utf-8", "wgs84", outline)
    assert len(points) == 2
    assert points.lon.tolist() == [104.06, 104.10] and points.lat.tolist() == [30.66, 30.70]
    assert points.weight.tolist() == [2.5, 0.0]
    assert points.row_numbers.tolist() == [1, 2]
    local = points.local_time
    assert str(local[0]) == "2026-03-04 12:30:00+08:00"  # a time without offset is Chengdu time
    assert pd.isna(local[1])


def test_csv_weight_defaults_to_one_and_times_with_offsets(outline):
    data = csv_bytes([[104.06, 30.66, "2026-03-04T04:30Z"], [104.07, 30.67, "2026-03-04T12:30+08:00"]],
                     header=("lon", "lat", "time"))
    points = parse_demand_upload(data, "text/csv", "wgs84", outline)
    assert points.weight.tolist() == [1.0, 1.0]
    assert [str(t) for t in points.local_time] == ["2026-03-04 12:30:00+08:00"] * 2


def test_geojson_happy_path(outline):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.06, 30.66]}, "properties": {"weight": 3}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.08, 30.68]}, "properties": {}},
    ]}
    points = parse_demand_upload(json.dumps(doc).encode(), "application/geo+json", "wgs84", outline)
    assert points.lon.tolist() == [104.06, 104.08]
    assert points.weight.tolist() == [3.0, 1.0]
    assert points.row_numbers.tolist() == [1, 2]
    # an octet-stream upload is recognised by its content
    assert len(parse_demand_upload(json.dumps(doc).encode(), "application/octet-stream", "wgs84", outline)) == 2


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_crs_is_converted(outline, crs, fmt):
    rng = np.random.default_rng(1)
    wlon, wlat = rng.uniform(103.95, 104.15, 50), rng.uniform(30.6, 30.75, 50)
    clon, clat = from_wgs84(wlon, wlat, crs)
    if fmt == "csv":
        data = csv_bytes([[f"{a:.10f}", f"{b:.10f}", 1] for a, b in zip(clon, clat)])
        points = parse_demand_upload(data, "text/csv", crs, outline)
    else:
        doc = {"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(a), float(b)]}, "properties": None}
            for a, b in zip(clon, clat)]}
        points = parse_demand_upload(json.dumps(doc).encode(), "application/json", crs, outline)
    want_lon, want_lat = to_wgs84(np.round(clon, 10) if fmt == "csv" else clon,
                                  np.round(clat, 10) if fmt == "csv" else clat, crs)
    assert np.allclose(points.lon, want_lon, atol=1e-12) and np.allclose(points.lat, want_lat, atol=1e-12)
    # and that is the original WGS-84 point, to a centimetre
    assert np.abs(points.lon - wlon).max() < 1e-7 and np.abs(points.lat - wlat).max() < 1e-7
    assert np.abs(points.lon - clon).min() > 1e-3  # the conversion did move the points (≈ 500 m)


def test_bad_rows_are_reported_by_row_number_and_nothing_is_loaded(outline):
    rows = [[104.06, 30.66, 1]] * 8
    rows[1] = ["abc", 30.66, 1]       # row 2: lon not a number
    rows[3] = [104.06, 30.66, -2]     # row 4: negative weight
    rows[4] = [104.06, 30.66, "nan"]  # row 5: NaN weight
    rows[6] = [116.40, 39.90, 1]      # row 7: Beijing
    rows[7] = [104.06, "", 1]         # row 8: empty lat
    err = refused(csv_bytes(rows), outline)
    found = {(p["row"], p["field"]) for p in err.problems}
    assert found == {(2, "lon"), (4, "weight"), (5, "weight"), (7, "geometry"), (8, "lat")}
    assert "5 of 8 rows" in err.message and "nothing was loaded" in err.message
    by_row = {p["row"]: p["message"] for p in err.problems}
    assert "'abc'" in by_row[2] and "negative" in by_row[4] and "outside Chengdu" in by_row[7]
    assert "empty" in by_row[8]
    assert err.as_dict()["problems"] == err.problems


def test_problem_list_is_capped_but_the_count_is_not(outline):
    rows = [["x", 30.66, 1]] * 250
    err = refused(csv_bytes(rows), outline)
    assert len(err.problems) == MAX_PROBLEMS
    assert err.problems[0]["row"] == 1 and err.problems[-1]["row"] == MAX_PROBLEMS
    assert "250 of 250 rows" in err.message


def test_wrong_crs_gets_a_hint(outline):
    # points just inside Chengdu's edge whose BD-09 coordinates, read as WGS-84, fall outside
    rng = np.random.default_rng(3)
    ring = shapely.difference(outline, shapely.buffer(outline, -0.01))
    x0, y0, x1, y1 = ring.bounds
    lon, lat = rng.uniform(x0, x1, 200_000), rng.uniform(y0, y1, 200_000)
    inside = shapely.contains_xy(ring, lon, lat)
    lon, lat = lon[inside], lat[inside]
    blon, blat = from_wgs84(lon, lat, "bd09")
    shifted_out = ~shapely.contains_xy(outline, blon, blat)
    blon, blat = blon[shifted_out][:20], blat[shifted_out][:20]
    assert len(blon) == 20
    data = csv_bytes([[f"{a:.8f}", f"{b:.8f}", 1] for a, b in zip(blon, blat)])
    err = refused(data, outline, crs="wgs84")
    assert "looks like BD-09" in err.message
    assert all(p["field"] == "geometry" for p in err.problems)
    assert len(parse_demand_upload(data, "text/csv", "bd09", outline)) == 20


def test_swapped_coordinates_get_a_hint(outline):
    err = refused(csv_bytes([[30.66, 104.06, 1], [30.70, 104.10, 1]]), outline)
    assert "swapped" in err.message


@pytest.mark.parametrize("data, content_type, needle", [
    (b"", "text/csv", "empty"),
    (b"\xef\xbb\xbf \n\n", "text/csv", "empty"),
    (b"lon,lat,weight\n", "text/csv", "no data rows"),
    (b"x,y2,weight\n1,2,3\n", "text/csv", "lon and lat"),
    (b"104.06,30.66,1\n104.07,30.67,1\n", "text/csv", "header"),
    (b"lon,lat,longitude\n1,2,3\n", "text/csv", "more than one column"),
    (b'{"type": "FeatureCollection", "features": []}', "application/geo+json", "no features"),
    (b'{"type": "Feature"}', "application/geo+json", "FeatureCollection"),
    (b'{"type": ', "application/json", "not valid JSON"),
    (b"lon,lat\n104,30\n", "image/png", "unsupported file type"),
])
def test_file_level_problems(outline, data, content_type, needle):
    err = refused(data, outline, content_type=content_type)
    assert needle in err.message
    assert err.problems[0]["row"] is None


def test_geojson_bad_features(outline):
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.06, 30.66]}, "properties": {}},
        {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[104, 30], [104.1, 30.1]]}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.06, 30.66]},
         "properties": {"weight": "heavy"}},
    ]}
    err = refused(json.dumps(doc).encode(), outline, content_type="application/geo+json")
    assert [(p["row"], p["field"]) for p in err.problems] == [(2, "geometry")]
    doc["features"].pop(1)
    err = refused(json.dumps(doc).encode(), outline, content_type="application/geo+json")
    assert [(p["row"], p["field"]) for p in err.problems] == [(2, "weight")]


def test_projected_geojson_is_refused(outline):
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32648"}},
           "features": [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [400000, 3390000]}}]}
    assert "EPSG::32648" in refused(json.dumps(doc).encode(), outline, content_type="application/geo+json").message


def test_too_many_rows_refused(outline):
    row = b"104.06,30.66\n"
    too_many = b"lon,lat\n" + row * 1_000_001
    err = refused(too_many, outline)
    assert "1,000,001 rows; at most 1,000,000" in err.message
    # the limit itself is accepted (checked on a smaller limit to keep the test quick)
    assert len(parse_demand_upload(b"lon,lat\n" + row * 1000, "text/csv", "wgs84", outline, max_rows=1000)) == 1000
    assert "1,001 rows; at most 1,000" in refused(b"lon,lat\n" + row * 1001, outline, max_rows=1000).message
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [104.06, 30.66]}}] * 11
    doc = json.dumps({"type": "FeatureCollection", "features": features}).encode()
    assert "11 rows; at most 10" in refused(doc, outline, content_type="application/geo+json", max_rows=10).message


def test_unknown_crs_is_a_programming_error(outline):
    with pytest.raises(ValueError, match="unknown coordinate system"):
        parse_demand_upload(b"lon,lat\n104,30\n", "text/csv", "epsg:4326", outline)


# ---------------------------------------------------------------------------------------------
# a planner's own candidate sites, and the file pieces the planner page's upload sends

def test_candidate_sites_csv_and_geojson(outline):
    data = ("name,LON,lat,weight\n春熙路,104.0800,30.6560,\n ,104.06,30.66,x\n" + "长" * 300
            + ",104.10,30.70,\n").encode()
    sites = parse_candidate_upload(data, "text/csv", "wgs84", outline)
    assert sites.crs.to_epsg() == 4326 and sites["row"].tolist() == [1, 2, 3]
    assert sites["name"].tolist()[:2] == ["春熙路", None]  # a blank name is none; other columns are ignored
    assert len(sites["name"].iloc[2]) == MAX_NAME_CHARS
    assert sites.geometry.x.tolist() == [104.08, 104.06, 104.10]
    lon, lat = from_wgs84(np.array([104.08, 104.06]), np.array([30.656, 30.66]), "gcj02")
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[0]), float(lat[0])]},
         "properties": {"name": "A"}},
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(lon[1]), float(lat[1])]},
         "properties": {"name": None}}]}
    gj = parse_candidate_upload(json.dumps(doc).encode(), "application/geo+json", "gcj02", outline)
    assert gj["name"].tolist() == ["A", None]
    assert gj.geometry.x.to_numpy() == pytest.approx([104.08, 104.06], abs=1e-7)
    assert gj.geometry.y.to_numpy() == pytest.approx([30.656, 30.66], abs=1e-7)


def test_bad_candidate_sites_are_reported_by_row_and_nothing_is_loaded(outline):
    data = b"lon,lat,name\n104.06,30.66,ok\neast,30.66,bad number\n104.06,30.66,ok\n116.397,39.909,Beijing\n"
    err = refused(data, outline, parse=parse_candidate_upload)
    assert [(p["row"], p["field"]) for p in err.problems] == [(2, "lon"), (4, "geometry")]
    assert "2 of 4 rows" in err.message and "outside Chengdu" in err.problems[1]["message"]
    err = refused(b"x_coord,y_coord\n1,2\n", outline, parse=parse_candidate_upload)
    assert err.problems[0]["row"] is None and "lon and lat" in err.message
    err = refused(csv_bytes([[104.06, 30.66, 1]] * 3), outline, parse=parse_candidate_upload, max_rows=2)
    assert "at most 2" in err.message


@pytest.mark.parametrize("name, expected", [("orders.CSV", "text/csv"), ("a.b.geojson", "application/geo+json"),
                                            ("x.json", "application/geo+json"), ("t.txt", "text/csv")])
def test_content_type_from_the_file_name(name, expected):
    assert content_type_of(name) == expected


@pytest.mark.parametrize("name", ["orders.xlsx", "noextension", "", None, 42])
def test_other_file_names_are_refused(name):
    with pytest.raises(DemandUploadError) as info:
        content_type_of(name)
    assert "CSV" in info.value.message and info.value.problems[0]["row"] is None


def test_data_urls_are_checked_and_bounded():
    assert decode_data_url("data:text/csv;base64,bG9uLGxhdAo=") == b"lon,lat\n"
    for hostile in (None, 7, "lon,lat\n", "data:text/csv,lon", "data:text/csv;base64,@@@@",
                    "data:text/csv;base64," + "A" * 4000):
        with pytest.raises(DemandUploadError):
            decode_data_url(hostile, max_bytes=1000)
