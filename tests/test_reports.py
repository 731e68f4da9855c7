"""Planner reports: tables that Excel and pandas open, gap geodata GIS tools read, and a district map that works offline."""
from __future__ import annotations

import io
import json
import re
import time

import numpy as np
import pandas as pd
import pytest
import shapely

from exports import reports
from mapdata.crs import CHENGDU_BOUNDS

AT = "2026-12-02T15:00:00+08:00"
JINJIANG = 510104
XSS_NAMES = ("<img src=x onerror=alert(1)>", "`${window.__xss = 1}`", "<script>window.__xss = 2</script>")


@pytest.fixture(scope="session")
def planning(dash_app):
    return dash_app.server.extensions["nuanxin.planning"]


@pytest.fixture(scope="session")
def result(planning):
    return planning.model().coverage(500, (), AT)


@pytest.fixture(scope="session")
def sites(planning):
    from api.planning import recommend
    from layers.common.hours import as_local

    model = planning.model()
    cands = planning.candidates()
    siting = recommend(model, cands, 500, (), as_local(AT), "straight", 12)
    return siting, cands


@pytest.fixture(scope="session")
def hostile_stations(planning):
    """The stations with three in Jinjiang renamed to script injections."""
    stations = planning.model().stations.copy()
    pos = np.flatnonzero(stations["adcode"].to_numpy() == JINJIANG)[:len(XSS_NAMES)]
    names = stations["name"].to_numpy(dtype=object).copy()
    names[pos] = XSS_NAMES
    stations["name"] = names
    return stations


@pytest.fixture(scope="session")
def district_map(planning, result, sites, hostile_stations):
    from layers.common.hours import as_local

    siting, cands = sites
    counted = reports.stations_counted(hostile_stations, (), as_local(AT), planning.model().hours)
    return reports.district_map_html(JINJIANG, hostile_stations, result, siting, districts=planning.districts(),
                                     counted=counted, candidates=cands)


# ---------------------------------------------------------------------------------------------
# tables

def test_csv_opens_in_pandas_with_chinese_names_and_a_total_row(result):
    data = reports.coverage_table_csv(result)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(frame.columns) == reports.DISTRICT_COLUMNS
    assert "锦江区" in set(frame["name"]) and "简阳市" in set(frame["name"])
    districts, total = frame.iloc[:-1], frame.iloc[-1]
    assert total["name"] == reports.TOTAL_NAME and pd.isna(total["adcode"])
    assert len(districts) == len(result.districts)
    assert districts["demand"].sum() == pytest.approx(total["demand"], rel=1e-6)
    assert districts["points_covered"].sum() == total["points_covered"] == result.overall["points_covered"]
    assert total["share"] == pytest.approx(result.overall["share"], abs=1e-6)
    assert (districts["uncovered"] - (districts["demand"] - districts["covered"])).abs().max() < 1e-3


def test_xlsx_has_the_expected_sheets(planning, result):
    from openpyxl import load_workbook

    week = planning.model().week(500, (), pd.Timestamp(AT).date())
    wb = load_workbook(io.BytesIO(reports.coverage_table_xlsx(result, week)))
    assert wb.sheetnames == ["overall", "districts", "hexagons", "week"]
    districts = [row for row in wb["districts"].iter_rows(values_only=True)]
    assert any(row[1] == "锦江区" for row in districts)
    assert len(districts) == 1 + len(result.districts) + 1  # header, districts, total
    assert wb["hexagons"].max_row == 1 + len(result.hexagons)
    week_rows = list(wb["week"].iter_rows(values_only=True))
    assert len(week_rows) == 8 and len(week_rows[0]) == 4 + 24
    assert week_rows[3][0] == "Wed" and week_rows[3][1] == "2026-12-02"
    assert week_rows[3][4 + 15] == pytest.approx(result.overall["share"])
    overall = dict(wb["overall"].iter_rows(min_row=2, values_only=True))
    assert overall["覆盖率 share"] == pytest.approx(result.overall["share"])
    assert wb["districts"]["G2"].number_format == "0.0%"
    assert load_workbook(io.BytesIO(reports.coverage_table_xlsx(result))).sheetnames == ["overall", "districts",
                                                                                         "hexagons"]


# ---------------------------------------------------------------------------------------------
# geodata

def test_gaps_geojson_is_rfc7946_polygons(result):
    doc = json.loads(reports.gaps_geojson(result))
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    features = doc["features"]
    uncovered = result.hexagons[result.hexagons["uncovered"] > 1e-6]
    assert len(features) == len(uncovered) > 0
    x0, y0, x1, y1 = CHENGDU_BOUNDS
    for f in features:
        assert f["geometry"]["type"] == "Polygon"
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) == 7
        polygon = shapely.Polygon(ring)
        assert polygon.is_valid and polygon.exterior.is_ccw  # RFC 7946 right-hand rule
        lon, lat = ring[0]
        assert x0 - 0.05 < lon < x1 + 0.05 and y0 - 0.05 < lat < y1 + 0.05
        p = f["properties"]
        assert p["uncovered"] == pytest.approx(p["demand"] - p["covered"]) and p["uncovered"] > 0
        assert f["id"] == p["h3"]
    values = [f["properties"]["uncovered"] for f in features]
    assert values == sorted(values, reverse=True)
    big = json.loads(reports.gaps_geojson(result, min_uncovered=500))["features"]
    assert 0 < len(big) < len(features) and all(f["properties"]["uncovered"] >= 500 for f in big)


def test_gaps_within_a_district(planning, result):
    districts = planning.districts()
    outline = districts.loc[districts["adcode"] == JINJIANG].geometry.iloc[0]
    features = json.loads(reports.gaps_geojson(result, within=outline))["features"]
    assert features
    centres = shapely.centroid(shapely.polygons([f["geometry"]["coordinates"][0] for f in features]))
    assert shapely.contains(outline, centres).all()


def test_gpkg_has_gaps_and_recommended_sites(tmp_path, result, sites):
    import geopandas as gpd
    import pyogrio

    siting, cands = sites
    path = tmp_path / "gaps.gpkg"
    path.write_bytes(reports.gaps_gpkg(result, siting, candidates=cands))
    assert {tuple(x) for x in pyogrio.list_layers(path)} == {("gaps", "Polygon"), ("recommended_sites", "Point")}
    gaps = gpd.read_file(path, layer="gaps")
    assert gaps.crs.to_epsg() == 4326 and len(gaps) > 0 and (gaps["uncovered"] > 0).all()
    assert gaps.geometry.is_valid.all()
    recommended = gpd.read_file(path, layer="recommended_sites")
    assert list(recommended["rank"]) == list(range(1, len(siting.picks) + 1))
    assert recommended["gain"].is_monotonic_decreasing
    assert np.allclose(recommended.geometry.x, siting.picks["lon"]) and np.allclose(recommended.geometry.y,
                                                                                   siting.picks["lat"])
    only_gaps = tmp_path / "only.gpkg"
    only_gaps.write_bytes(reports.gaps_gpkg(result))
    assert [tuple(x)[0] for x in pyogrio.list_layers(only_gaps)] == ["gaps"]


def test_sites_geojson_lists_picks_in_order_with_names(sites):
    siting, cands = sites
    doc = json.loads(reports.sites_geojson(siting, cands))
    features = doc["features"]
    assert len(features) == len(siting.picks) > 0
    assert [f["properties"]["rank"] for f in features] == list(range(1, len(features) + 1))
    assert all(f["geometry"]["type"] == "Point" for f in features)
    named = {k: v if isinstance(v, str) else None for k, v in cands.set_index("id")["name"].items()}
    assert [f["properties"]["name"] for f in features] == [named[f["properties"]["id"]] for f in features]
    assert any(f["properties"]["name"] for f in features)


# ---------------------------------------------------------------------------------------------
# the offline district map

def test_district_map_loads_nothing_from_outside(district_map):
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", district_map, flags=re.IGNORECASE)
    for tag in tags:
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", tag, flags=re.IGNORECASE), tag
    assert "cdn" not in " ".join(tags).lower()
    assert "L.map(" in district_map and "jQuery v3.7.1" in district_map
    assert "contributors (ODbL)" in district_map


def test_district_map_names_the_district_and_escapes_station_names(district_map):
    assert "锦江区" in district_map
    assert "&lt;img src=x onerror=alert(1)&gt;" in district_map
    for name in XSS_NAMES:
        assert name not in district_map
    assert "${window.__xss" not in district_map and "&#36;{window.__xss = 1}" in district_map


def test_district_map_refuses_an_unknown_district(planning, result, hostile_stations):
    with pytest.raises(ValueError, match="adcode"):
        reports.district_map_html(1, hostile_stations, result, districts=planning.districts())


@pytest.mark.browser
def test_district_map_opens_offline_in_chromium(dash_duo, tmp_path, district_map):
    path = tmp_path / "jinjiang.html"
    path.write_text(district_map, encoding="utf-8")
    driver = dash_duo.driver
    driver.get(path.as_uri())
    dash_duo.wait_for_element(".leaflet-container", timeout=15)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        paths = driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length")
        if paths > 10:
            break
        time.sleep(0.2)
    assert paths > 10, "the gap hexagons and stations were not drawn"
    assert driver.execute_script("return document.querySelectorAll('.nx-site').length") > 0
    assert "锦江区" in driver.find_element("css selector", ".nx-title").text
    assert "OpenStreetMap contributors (ODbL)" in driver.find_element("css selector", ".leaflet-control-attribution").text
    # the injected names stayed text: no script ran, no image was made of them
    assert driver.execute_script("return window.__xss === undefined")
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(("file:", "data:"))] == []
    assert dash_duo.get_logs() == []


# ---------------------------------------------------------------------------------------------
# the download routes

@pytest.mark.parametrize("path, mimetype, suffix", [
    ("coverage.csv", "text/csv", ".csv"),
    ("coverage.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".xlsx"),
    ("gaps.geojson", "application/geo+json", ".geojson"),
    ("gaps.gpkg?k=3", "application/geopackage+sqlite3", ".gpkg"),
    ("sites.geojson?k=3", "application/geo+json", ".geojson"),
    (f"district_map.html?adcode={JINJIANG}&k=3", "text/html", ".html"),
])
def test_download_routes_are_attachments(client, path, mimetype, suffix):
    sep = "&" if "?" in path else "?"
    r = client.get(f"/api/v1/reports/{path}{sep}radius_m=600&at={AT.replace('+', '%2B')}")
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == mimetype
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.rstrip('"').endswith(suffix)
    assert "600m-20261202T1500" in disposition
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert len(r.data) > 100


def test_the_csv_route_agrees_with_the_coverage_api(client):
    params = {"radius_m": 700, "at": AT, "amenities": "microwave"}
    table = pd.read_csv(io.BytesIO(client.get("/api/v1/reports/coverage.csv", query_string=params).data))
    body = client.get("/api/v1/coverage", query_string=params).get_json()
    assert table.iloc[-1]["covered"] == pytest.approx(body["overall"]["covered"], rel=1e-6)
    jinjiang = table.loc[table["name"] == "锦江区"].iloc[0]
    assert jinjiang["points_covered"] == next(d for d in body["districts"] if d["adcode"] == JINJIANG)["points_covered"]


def test_district_sites_lie_in_the_district(client, planning):
    doc = client.get("/api/v1/reports/sites.geojson", query_string={"k": 4, "adcode": JINJIANG, "at": "any"}).get_json(
        force=True)
    districts = planning.districts()
    outline = districts.loc[districts["adcode"] == JINJIANG].geometry.iloc[0]
    points = [shapely.Point(f["geometry"]["coordinates"]) for f in doc["features"]]
    assert points and all(outline.contains(p) for p in points)


@pytest.mark.parametrize("path, params, field", [
    ("district_map.html", {}, "adcode"),
    ("district_map.html", {"adcode": 110101}, "adcode"),
    ("district_map.html", {"adcode": "jinjiang"}, "adcode"),
    ("sites.geojson", {}, "k"),
    ("sites.geojson", {"k": 0}, "k"),
    ("gaps.gpkg", {"k": 101}, "k"),
    ("coverage.csv", {"radius_m": 0}, "radius_m"),
    ("coverage.xlsx", {"week_start": "someday"}, "week_start"),
    ("gaps.geojson", {"min_uncovered": -1}, "min_uncovered"),
    ("gaps.geojson", {"h3_res": 12}, "h3_res"),
])
def test_bad_report_parameters_are_400(client, path, params, field):
    r = client.get(f"/api/v1/reports/{path}", query_string=params)
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field
