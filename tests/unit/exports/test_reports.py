"""Planner reports: tables that Excel and pandas open, gap geodata GIS tools read, and a district map that works offline."""
from __future__ import annotations

import dataclasses
import io
import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from exports import geojson as exports_geojson
from exports import geopackage, labels, table_csv, table_xlsx
from exports.district_map import district_map_html
from layers.planning import results
from mapdata.crs import CHENGDU_BOUNDS
from tests.helpers import AT, JINJIANG, XSS_NAMES

# ---------------------------------------------------------------------------------------------
# tables

def test_csv_opens_in_pandas_with_chinese_names_and_a_total_row(result):
    data = table_csv.coverage_table_csv(result)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(frame.columns) == results.DISTRICT_COLUMNS
    assert "锦江区" in set(frame["name"]) and "简阳市" in set(frame["name"])
    districts, total = frame.iloc[:-1], frame.iloc[-1]
    assert total["name"] == labels.TOTAL_NAME and pd.isna(total["adcode"])
    assert len(districts) == len(result.districts)
    assert districts["demand"].sum() == pytest.approx(total["demand"], rel=1e-6)
    assert districts["points_covered"].sum() == total["points_covered"] == result.overall["points_covered"]
    assert total["share"] == pytest.approx(result.overall["share"], abs=1e-6)
    assert (districts["uncovered"] - (districts["demand"] - districts["covered"])).abs().max() < 1e-3


def test_xlsx_has_the_expected_sheets(planning, result):
    from openpyxl import load_workbook

    week = planning.model().week(500, (), pd.Timestamp(AT).date())
    wb = load_workbook(io.BytesIO(table_xlsx.coverage_table_xlsx(result, week)))
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
    assert load_workbook(io.BytesIO(table_xlsx.coverage_table_xlsx(result))).sheetnames == ["overall", "districts",
                                                                                         "hexagons"]


# ---------------------------------------------------------------------------------------------
# geodata

def test_gaps_geojson_is_rfc7946_polygons(result):
    doc = json.loads(exports_geojson.gaps_geojson(result))
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
    big = json.loads(exports_geojson.gaps_geojson(result, min_uncovered=500))["features"]
    assert 0 < len(big) < len(features) and all(f["properties"]["uncovered"] >= 500 for f in big)


def test_gaps_within_a_district(planning, result):
    districts = planning.districts()
    outline = districts.loc[districts["adcode"] == JINJIANG].geometry.iloc[0]
    features = json.loads(exports_geojson.gaps_geojson(result, within=outline))["features"]
    assert features
    centres = shapely.centroid(shapely.polygons([f["geometry"]["coordinates"][0] for f in features]))
    assert shapely.contains(outline, centres).all()


def test_gpkg_has_gaps_and_recommended_sites(tmp_path, result, sites):
    import geopandas as gpd
    import pyogrio

    siting, cands = sites
    path = tmp_path / "gaps.gpkg"
    path.write_bytes(geopackage.gaps_gpkg(result, siting, candidates=cands))
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
    only_gaps.write_bytes(geopackage.gaps_gpkg(result))
    assert [tuple(x)[0] for x in pyogrio.list_layers(only_gaps)] == ["gaps"]


def test_sites_geojson_lists_picks_in_order_with_names(sites):
    siting, cands = sites
    doc = json.loads(exports_geojson.sites_geojson(siting, cands))
    features = doc["features"]
    assert len(features) == len(siting.picks) > 0
    assert [f["properties"]["rank"] for f in features] == list(range(1, len(features) + 1))
    assert all(f["geometry"]["type"] == "Point" for f in features)
    # every site is named by its district and what is near it, the candidate's own name kept beside
    labels = cands.set_index("id")
    assert [f["properties"]["name"] for f in features] == [labels.at[f["properties"]["id"], "label"] for f in features]
    assert [f["properties"]["name_en"] for f in features] == [labels.at[f["properties"]["id"], "label_en"]
                                                              for f in features]
    assert all(" · " in f["properties"]["name"] and f["properties"]["name"] != f["properties"]["id"] for f in features)
    own = {k: v if isinstance(v, str) else None for k, v in labels["name"].items()}
    assert [f["properties"]["candidate_name"] for f in features] == [own[f["properties"]["id"]] for f in features]
    for f in features:
        lon, lat = f["geometry"]["coordinates"]
        text_lat, text_lon = f["properties"]["coords"].split(", ")
        assert len(text_lat.split(".")[1]) == len(text_lon.split(".")[1]) == 6
        assert float(text_lat) == pytest.approx(lat, abs=6e-7) and float(text_lon) == pytest.approx(lon, abs=6e-7)


# ---------------------------------------------------------------------------------------------
# the offline district map

def test_district_map_loads_nothing_from_outside(district_map):
    tags = re.findall(r"<(?:script|link|img|iframe)\b[^>]*>", district_map, flags=re.IGNORECASE)
    assert len(tags) >= 3  # Leaflet, jQuery and the map's own script, all inline
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
        district_map_html(1, hostile_stations, result, districts=planning.districts())


FORMULAS = ['=HYPERLINK("http://evil.example","click")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=2"]


def test_text_that_looks_like_a_formula_stays_text_in_csv_and_excel(result):
    from openpyxl import load_workbook

    hostile = dataclasses.replace(result, districts=result.districts.assign(
        name=(FORMULAS * 4)[:len(result.districts)]))
    frame = pd.read_csv(io.BytesIO(table_csv.coverage_table_csv(hostile)), encoding="utf-8-sig", dtype=str)
    names = frame["name"].tolist()[:len(FORMULAS)]
    assert names == ["'" + f for f in FORMULAS]
    wb = load_workbook(io.BytesIO(table_xlsx.coverage_table_xlsx(hostile)))
    cells = [row[1] for row in wb["districts"].iter_rows(min_row=2, max_row=1 + len(FORMULAS))]
    assert [c.value for c in cells] == ["'" + f for f in FORMULAS]
    assert all(c.data_type == "s" for c in cells)
    # numbers stay numbers, negative ones too
    assert isinstance(wb["districts"]["D2"].value, float)
