"""The report downloads over HTTP: attachments with honest names, the same figures as the API, 400s naming the field."""
from __future__ import annotations

import io

import pandas as pd
import pytest
import shapely

from tests.helpers import AT, JINJIANG


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
