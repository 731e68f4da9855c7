"""The planner's output as a district's report takes it: named sites with coordinates in the API and every
download, the district map with the page's k sites, demand with its unit, what-if changes in percentage
points, headings in the page's language, Excel figures number-formatted, gaps with their district."""
from __future__ import annotations

import io
import json
import re

import pandas as pd
import pytest

from tests.helpers import AT, JINJIANG

REPORTS = "/api/v1/reports"
#: The page's question: 500 m, the test's afternoon, the stored demand.
PAGE = {"radius_m": 500, "at": AT}
COORDS = re.compile(r"^\d{2}\.\d{6}, \d{3}\.\d{6}$")


def _get(client, path, **params):
    r = client.get(f"{REPORTS}/{path}", query_string={**PAGE, **params})
    assert r.status_code == 200, r.data[:400]
    return r


def _api_picks(client, k):
    r = client.post("/api/v1/siting", json={"k": k, "radius_m": PAGE["radius_m"], "at": AT})
    assert r.status_code == 200, r.get_json()
    return r.get_json()["picks"]


def _xlsx(data):
    from openpyxl import load_workbook

    return load_workbook(io.BytesIO(data))


@pytest.fixture(scope="module")
def whatif_point(planning):
    """A hypothetical station where demand is left uncovered: the centre of the largest gap in Jinjiang."""
    import h3

    from layers.planning.results import gap_hexagons

    districts = planning.districts()
    outline = districts.loc[districts["adcode"] == JINJIANG].geometry.iloc[0]
    result = planning.model().coverage(500, (), pd.Timestamp(AT).to_pydatetime())
    lat, lon = h3.cell_to_latlng(gap_hexagons(result, within=outline)["h3"].iloc[0])
    return round(lon, 6), round(lat, 6)


# ---------------------------------------------------------------------------------------------
# named sites

def test_the_api_names_every_site_with_its_district_and_coordinates(client, planning):
    picks = _api_picks(client, 6)
    assert len(picks) == 6
    names = dict(zip(planning.districts()["adcode"], planning.districts()["name"]))
    names_en = dict(zip(planning.districts()["adcode"], planning.districts()["name_en"]))
    for p in picks:
        assert not p["name"].startswith("网格点") and "cs-" not in p["name"]
        assert p["name"].startswith(names[p["adcode"]] + " · ")
        assert p["name_en"].startswith(names_en[p["adcode"]] + " · ")
        assert COORDS.match(p["coords"]) and p["coords"] == f"{p['lat']:.6f}, {p['lon']:.6f}"


def test_site_names_are_the_same_in_the_api_csv_excel_and_district_map(client):
    picks = _api_picks(client, 5)
    names = [p["name"] for p in picks]

    table = pd.read_csv(io.BytesIO(_get(client, "sites.csv", k=5, lang="zh").data), encoding="utf-8-sig")
    assert table["建议新址"].tolist() == names
    assert table["坐标（纬度, 经度）"].tolist() == [p["coords"] for p in picks]
    assert table["序号"].tolist() == [1, 2, 3, 4, 5]

    wb = _xlsx(_get(client, "coverage.xlsx", k=5, lang="zh").data)
    rows = list(wb["sites"].iter_rows(values_only=True))
    head = list(rows[0])
    assert [r[head.index("建议新址")] for r in rows[1:]] == names

    page = _get(client, "district_map.html", adcode=JINJIANG, k=5).get_data(as_text=True)
    for p in picks:
        assert p["name"] in page and p["name_en"] in page and p["coords"] in page


def test_english_sites_csv_names_sites_in_english(client):
    picks = _api_picks(client, 3)
    table = pd.read_csv(io.BytesIO(_get(client, "sites.csv", k=3, lang="en").data), encoding="utf-8-sig")
    assert list(table.columns[:3]) == ["Rank", "Recommended site", "Coordinates (lat, lon)"]
    assert table["Recommended site"].tolist() == [p["name_en"] for p in picks]
    assert "Demand added (orders/day)" in table.columns


# ---------------------------------------------------------------------------------------------
# the district map carries the page's k sites

def test_the_district_map_shows_the_pages_k_sites(client):
    without = _get(client, "district_map.html", adcode=JINJIANG).get_data(as_text=True)
    assert "nx-site-row" not in without
    for k in (3, 7):
        page = _get(client, "district_map.html", adcode=JINJIANG, k=k).get_data(as_text=True)
        picks = _api_picks(client, k)
        ranks = re.findall(r"class='nx-site-row[^']*' data-rank='(\d+)'", page)
        assert ranks == [str(i) for i in range(1, k + 1)] == [str(p["rank"]) for p in picks]
        assert f"（k = {k}）" in page  # the bilingual map without lang


@pytest.mark.parametrize("k", [0, 101, "three", 2.5])
def test_the_district_maps_k_is_checked(client, k):
    r = client.get(f"{REPORTS}/district_map.html", query_string={**PAGE, "adcode": JINJIANG, "k": k})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "k"


def test_the_district_maps_scale_bar_is_in_metres_only(client):
    page = _get(client, "district_map.html", adcode=JINJIANG, k=2).get_data(as_text=True)
    assert "L.control.scale({metric: true, imperial: false" in page
    assert "L.control.scale()" not in page and "imperial: true" not in page


# ---------------------------------------------------------------------------------------------
# tables: units, languages, number formats

def test_demand_carries_its_unit_and_headers_follow_the_language(client):
    zh = pd.read_csv(io.BytesIO(_get(client, "coverage.csv", lang="zh").data), encoding="utf-8-sig")
    assert {"需求（单/日）", "已覆盖需求（单/日）", "未覆盖需求（单/日）", "覆盖率", "区县"} <= set(zh.columns)
    en = pd.read_csv(io.BytesIO(_get(client, "coverage.csv", lang="en").data), encoding="utf-8-sig")
    assert {"Demand (orders/day)", "Demand covered (orders/day)", "Share covered", "District"} <= set(en.columns)
    assert not any(re.search(r"[\u4e00-\u9fff]", c) for c in en.columns)
    # without lang the column keys scripts read stay as they were
    keys = pd.read_csv(io.BytesIO(_get(client, "coverage.csv").data), encoding="utf-8-sig")
    assert list(keys.columns[:4]) == ["adcode", "name", "name_en", "demand"]
    assert en["Demand (orders/day)"].tolist() == keys["demand"].tolist()


def test_uploaded_demand_is_weighted_not_orders(client, planning):
    from layers.planning.demand import parse_demand_upload

    points = parse_demand_upload(b"lon,lat,weight\n104.0648,30.6586,3\n104.08,30.66,2\n", "text/csv", "wgs84",
                                 planning.outline())
    token = planning.add_upload(points, "two.csv")
    table = pd.read_csv(io.BytesIO(_get(client, "coverage.csv", lang="zh", demand=token).data), encoding="utf-8-sig")
    assert "需求（权重）" in table.columns and "需求（单/日）" not in table.columns
    assert table["需求（权重）"].iloc[-1] == pytest.approx(5)


def test_the_english_week_sheet_and_number_formats(client):
    wb = _xlsx(_get(client, "coverage.xlsx", lang="en", k=3).data)
    week = list(wb["week"].iter_rows(values_only=True))
    assert list(week[0][:4]) == ["Weekday", "Date", "Day kind", "Holiday"]
    assert [r[0] for r in week[1:]] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert week[3][2] == "working day"
    zh = list(_xlsx(_get(client, "coverage.xlsx", lang="zh").data)["week"].iter_rows(values_only=True))
    assert list(zh[0][:4]) == ["星期", "日期", "类型", "节日"] and zh[3][0] == "周三" and zh[3][2] == "工作日"

    overall = {row[0].value: row[1] for row in wb["overall"].iter_rows(min_row=2)}
    assert overall["Share covered"].number_format == "0.0%"
    assert overall["Points"].number_format == "#,##0" and isinstance(overall["Points"].value, int)
    assert overall["Radius (m)"].number_format == '#,##0" m"' and overall["Radius (m)"].value == 500
    assert overall["Demand (orders/day)"].number_format == "#,##0.0"

    def formats(sheet):
        head = [c.value for c in wb[sheet][1]]
        return {h: wb[sheet].cell(row=2, column=j + 1).number_format for j, h in enumerate(head)}

    districts = formats("districts")
    assert districts["Share covered"] == districts["Point share"] == "0.0%"
    assert districts["Points"] == districts["Points covered"] == "#,##0"
    assert districts["Demand (orders/day)"] == "#,##0.0"
    sites = formats("sites")
    assert sites["Rank"] == sites["Points added"] == "#,##0"
    assert sites["Share covered, cumulative"] == "0.0%" and sites["Latitude"] == "0.000000"
    assert not any(re.search(r"[\u4e00-\u9fff]", str(h)) for h in [c.value for c in wb["districts"][1]])


def test_gap_files_carry_their_district(client, tmp_path):
    import geopandas as gpd

    doc = json.loads(_get(client, "gaps.geojson", adcode=JINJIANG).data)
    assert doc["features"]
    assert {(f["properties"]["adcode"], f["properties"]["district"], f["properties"]["district_en"])
            for f in doc["features"]} == {(JINJIANG, "锦江区", "Jinjiang")}
    path = tmp_path / "gaps.gpkg"
    path.write_bytes(_get(client, "gaps.gpkg").data)
    gaps = gpd.read_file(path, layer="gaps")
    assert gaps["adcode"].notna().all() and gaps["district"].notna().all()
    assert {"锦江区", "简阳市"} <= set(gaps["district"])


# ---------------------------------------------------------------------------------------------
# what-if: percentage points, untouched districts blank, hypothetical stations not counted

def test_what_if_changes_are_percentage_points_and_untouched_districts_blank(client, whatif_point):
    added = f"{whatif_point[0]},{whatif_point[1]}"
    base = pd.read_csv(io.BytesIO(_get(client, "coverage.csv", lang="zh").data), encoding="utf-8-sig")
    zh = pd.read_csv(io.BytesIO(_get(client, "coverage.csv", lang="zh", added=added).data), encoding="utf-8-sig")
    column = "假设变化（个百分点）"
    assert column in zh.columns and "假设变化" not in base.columns
    jinjiang = zh.index[zh["区县"] == "锦江区"][0]
    expected = (zh.at[jinjiang, "覆盖率"] - base.at[jinjiang, "覆盖率"]) * 100
    assert zh.at[jinjiang, column] == pytest.approx(expected, abs=1e-4) and expected > 0
    untouched = zh["已覆盖需求（单/日）"] == base["已覆盖需求（单/日）"]
    assert untouched.sum() >= 15 and zh.loc[untouched, column].isna().all()

    wb = _xlsx(_get(client, "coverage.xlsx", lang="zh", added=added).data)
    head = [c.value for c in wb["districts"][1]]
    cell = wb["districts"].cell(row=2 + int(jinjiang), column=head.index("假设变化（个百分点）") + 1)
    assert cell.value == pytest.approx(expected, abs=1e-4)
    assert "个百分点" in cell.number_format and "%" not in cell.number_format
    en = _xlsx(_get(client, "coverage.xlsx", lang="en", added=added).data)
    en_head = [c.value for c in en["districts"][1]]
    en_cell = en["districts"].cell(row=2 + int(jinjiang), column=en_head.index("What-if change (pp)") + 1)
    assert '" pp"' in en_cell.number_format and "%" not in en_cell.number_format
    untouched_row = 2 + int(untouched.to_numpy().nonzero()[0][0])
    assert wb["districts"].cell(row=untouched_row, column=head.index("假设变化（个百分点）") + 1).value is None


def test_a_hypothetical_station_is_not_counted_as_a_station(client, whatif_point):
    added = f"{whatif_point[0]},{whatif_point[1]}"
    plain = client.get("/api/v1/coverage", query_string=PAGE).get_json()["query"]["open_stations"]

    def overall(**params):
        wb = _xlsx(_get(client, "coverage.xlsx", lang="zh", **params).data)
        return {row[0]: row[1] for row in wb["overall"].iter_rows(min_row=2, values_only=True)}

    before, after = overall(), overall(added=added)
    assert before["计入驿站"] == after["计入驿站"] == plain
    assert after["假设的新站（不计入驿站）"] == 1 and "假设的新站（不计入驿站）" not in before
    assert after["覆盖率"] > before["覆盖率"]
    page = _get(client, "district_map.html", adcode=JINJIANG, added=added).get_data(as_text=True)
    assert "假设新站 hypothetical: 1（不计入驿站 not counted）" in page


@pytest.mark.parametrize("params, field", [
    ({"added": "116.4,39.9"}, "added"),                    # Beijing: outside Chengdu
    ({"added": "east,north"}, "added"),
    ({"removed": "st-does-not-exist"}, "removed"),
    ({"lang": "fr"}, "lang"),
])
def test_bad_what_if_and_language_are_400_naming_the_field(client, params, field):
    r = client.get(f"{REPORTS}/coverage.csv", query_string={**PAGE, **params})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == field


def test_removing_a_station_is_a_what_if_too(client, planning):
    stations = planning.model().stations
    sid = stations.loc[stations["adcode"] == JINJIANG, "id"].iloc[0]

    def overall(**params):
        r = client.get(f"{REPORTS}/coverage.xlsx", query_string={"radius_m": 500, "at": "any", "lang": "en", **params})
        assert r.status_code == 200
        return {row[0]: row[1] for row in _xlsx(r.data)["overall"].iter_rows(min_row=2, values_only=True)}

    before, after = overall(), overall(removed=sid)
    assert after["Stations counted"] == before["Stations counted"] - 1
    assert after["Share covered"] <= before["Share covered"]


def test_the_district_map_speaks_the_pages_language(client):
    picks = _api_picks(client, 3)
    en = _get(client, "district_map.html", adcode=JINJIANG, k=3, lang="en").get_data(as_text=True)
    panel = en[en.index("nx-panel nx-title"):]
    assert "<b style='font-size:15px'>Jinjiang</b>" in panel and "stations counted" in panel
    assert "覆盖率" not in panel and "计入驿站" not in panel and "建议新址" not in panel
    assert all(p["name_en"] in en for p in picks)
    assert "Jinjiang: station coverage" in en
    zh = _get(client, "district_map.html", adcode=JINJIANG, k=3, lang="zh").get_data(as_text=True)
    panel = zh[zh.index("nx-panel nx-title"):]
    assert "<b style='font-size:15px'>锦江区</b>" in panel and "计入驿站" in panel
    assert "stations counted" not in panel and "coverage:" not in panel
    assert all(p["name"] in zh for p in picks)
