"""The districts layer (GCJ-02 boundaries converted, census joined) and the generated demo stations."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from mapdata import crs
from mapdata.demo.districts import BOUNDARIES_PATH
from mapdata.demo.osm import parse_other_tags, read_layer
from mapdata.demo.stations import (
    OSM_EXTENT,
    REPORTED_STATIONS,
    STREET_OFFICES,
    URBAN_CENTRES,
    generate_stations,
    station_counts,
    station_weights,
)
from mapdata.schemas import LayerValidationError, validate

NOW = pd.Timestamp("2026-11-01 09:00", tz="Asia/Shanghai")
SEED = 426
CHENGDU_POPULATION_2020 = 20_937_757


def _generate(districts, seed, n=426):
    return generate_stations(districts, np.random.default_rng(seed), n, now=NOW)


@pytest.fixture(scope="module")
def stations(districts):
    return _generate(districts, SEED)


def _metric(geoms):
    return gpd.GeoSeries(geoms, crs=4326).to_crs(32648).values.to_numpy()


# --- districts ---------------------------------------------------------------------------------

def test_twenty_valid_districts_in_wgs84(districts):
    assert len(districts) == 20 and districts["adcode"].is_unique
    assert districts.crs.to_epsg() == 4326
    assert districts.is_valid.all() and not districts.is_empty.any()
    validate(districts, "districts")
    assert districts["adcode"].dtype == np.int64 and districts["population"].dtype == np.int64


def test_jinjiang_lies_where_it_should(districts):
    jinjiang = districts.set_index("name").loc["锦江区"]
    point = jinjiang.geometry.representative_point()
    assert 104.05 <= point.x <= 104.15 and 30.55 <= point.y <= 30.70
    assert jinjiang["name_en"] == "Jinjiang" and jinjiang["adcode"] == 510104
    # landmarks at their WGS-84 positions in the OSM extract: 春熙路 and 太古里 in 锦江区,
    # 宽窄巷子 and 人民公园 in 青羊区
    assert shapely.contains_xy(jinjiang.geometry, [104.0775, 104.0812], [30.6564, 30.6562]).all()
    qingyang = districts.set_index("name").loc["青羊区"].geometry
    assert shapely.contains_xy(qingyang, [104.0478, 104.0548], [30.6677, 30.6597]).all()


def test_boundaries_are_shifted_back_from_gcj02(districts):
    raw = gpd.read_file(BOUNDARIES_PATH).sort_values("adcode").reset_index(drop=True)
    shift = shapely.distance(shapely.centroid(_metric(raw.geometry.values)),
                             shapely.centroid(_metric(districts.geometry.values)))
    assert shift.min() > 300 and shift.max() < 600
    # converting the converted boundary forward again gives back the raw GCJ-02 vertices
    again = crs.transform_geometry(districts.geometry.values.to_numpy(), crs.wgs84_to_gcj02)
    raw_xy = shapely.get_coordinates(raw.geometry.values.to_numpy())
    again_xy = shapely.get_coordinates(again)
    assert raw_xy.shape == again_xy.shape
    assert np.abs(raw_xy - again_xy).max() < 1e-9


def test_census_join(districts):
    assert districts["population"].sum() == CHENGDU_POPULATION_2020
    assert districts.set_index("name").loc["武侯区", "population"] == 1855186
    assert districts["urban_share"].between(0, 1).all()
    assert (districts.set_index("name").loc[["锦江区", "青羊区", "金牛区", "武侯区", "成华区"], "urban_share"] == 1).all()


def test_areas_add_up_to_chengdu(districts, outline):
    # Chengdu covers 14,335 km²
    assert districts["area_km2"].sum() == pytest.approx(14335, rel=0.01)
    assert districts.set_index("name").loc["锦江区", "area_km2"] == pytest.approx(61, rel=0.05)
    assert outline.is_valid
    outline_km2 = gpd.GeoSeries([outline], crs=4326).to_crs(32648).area.iloc[0] / 1e6
    assert outline_km2 == pytest.approx(districts["area_km2"].sum(), rel=1e-3)
    assert shapely.contains(outline, districts.geometry.representative_point().values.to_numpy()).all()


# --- stations: schema, counts, placement ---------------------------------------------------------

def test_stations_pass_the_schema(stations, outline):
    validate(stations, "stations", within=outline)
    assert len(stations) >= 426
    assert stations["id"].tolist() == [f"st-{i:04d}" for i in range(1, len(stations) + 1)]
    assert stations["adcode"].dtype == np.int64 and stations["capacity"].dtype == np.int64
    assert (stations["capacity"] > 0).all()
    assert (stations["version"] == 1).all() and (stations["updated_by"] == "demo-build").all()
    assert (stations["updated_at"] == NOW).all()
    assert all(isinstance(a, frozenset) for a in stations["amenities"])


def test_schema_rejects_a_station_outside_chengdu(stations, outline):
    moved = stations.copy()
    moved.loc[3, "geometry"] = shapely.Point(105.5, 30.6)
    with pytest.raises(LayerValidationError, match="st-0004"):
        validate(moved, "stations", within=outline)


def test_counts_follow_the_documented_weights(stations, districts):
    counts = station_counts(districts, 426)
    assert counts.sum() == 426
    actual = stations["adcode"].value_counts().reindex(counts.index, fill_value=0)
    pd.testing.assert_series_equal(actual, counts, check_names=False)
    weights = districts.set_index("adcode")["population"] * (0.5 + districts.set_index("adcode")["urban_share"])
    exact = 426 * weights / weights.sum()
    assert (np.abs(actual - exact.reindex(actual.index)) < 1).all()
    # the weights favour urban people: 锦江区 (all urban) outranks 简阳市 per head
    w = station_weights(districts)
    pop = districts.set_index("adcode")["population"]
    assert w[510104] / pop[510104] > w[510185] / pop[510185]
    assert (counts > 0).all()


def test_more_stations_when_asked(districts):
    bigger = _generate(districts, SEED, n=500)
    assert len(bigger) == 500
    assert bigger["adcode"].value_counts().sort_index().tolist() == station_counts(districts, 500).tolist()


def test_too_few_stations_for_the_report_is_refused(districts):
    with pytest.raises(ValueError, match="too small"):
        _generate(districts, SEED, n=30)


def test_place_tables_lie_in_their_districts(districts):
    by_name = districts.set_index("name")
    for entry in (*REPORTED_STATIONS, *URBAN_CENTRES, *STREET_OFFICES):
        assert by_name.loc[entry.district, "geometry"].contains(shapely.Point(entry.lon, entry.lat)), entry


def test_every_station_is_inside_its_own_district(stations, districts):
    by_adcode = districts.set_index("adcode")
    for adcode, group in stations.groupby("adcode"):
        polygon = by_adcode.loc[adcode, "geometry"]
        assert shapely.contains_xy(polygon, group.geometry.x.to_numpy(), group.geometry.y.to_numpy()).all()
        assert (group["district"] == by_adcode.loc[adcode, "name"]).all()


def test_no_station_near_a_river_in_the_centre(stations):
    lines = read_layer("lines")
    polys = read_layer("multipolygons")
    riverbank = np.array([t.get("waterway") == "riverbank" for t in parse_other_tags(polys["other_tags"])])
    water = np.concatenate([
        lines[lines["waterway"] == "river"].geometry.values.to_numpy(),
        polys[(polys["natural"] == "water") | riverbank].geometry.values.to_numpy(),
    ])
    tree = shapely.STRtree(_metric(water))
    pts = _metric(stations.geometry.values.to_numpy())
    in_centre = shapely.contains_xy(shapely.box(*OSM_EXTENT), stations.geometry.x, stations.geometry.y)
    assert in_centre.sum() >= 20
    _, dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    assert dist.min() >= 20


def test_centre_stations_stand_on_osm_places(stations):
    reported = stations["name"].isin([r.name for r in REPORTED_STATIONS])
    centre = stations[shapely.contains_xy(shapely.box(*OSM_EXTENT), stations.geometry.x, stations.geometry.y)
                      & ~reported]
    assert len(centre) >= 15
    osm = np.concatenate([read_layer("points").geometry.values.to_numpy(),
                          read_layer("multipolygons").geometry.values.to_numpy()])
    tree = shapely.STRtree(_metric(osm))
    _, dist = tree.query_nearest(_metric(centre.geometry.values.to_numpy()), return_distance=True,
                                 all_matches=False)
    assert dist.max() < 0.05  # on the OSM point, or inside the OSM area
    # named after the place, in Chinese
    assert centre["name"].str.contains(r"[\u4e00-\u9fff]").all()


def test_outside_the_centre_stations_gather_near_towns(stations, districts):
    # a county's stations are near its town, not spread over its mountains
    dujiangyan = stations[stations["district"] == "都江堰市"]
    spread = _metric(dujiangyan.geometry.values.to_numpy())
    centre = shapely.centroid(shapely.multipoints(spread))
    assert shapely.distance(centre, spread).max() < 20_000
    area = districts.set_index("name").loc["都江堰市", "area_km2"]
    hull_km2 = shapely.convex_hull(shapely.multipoints(spread)).area / 1e6
    assert hull_km2 < 0.3 * area


# --- stations: the report's places and realistic attributes ------------------------------------

@pytest.mark.parametrize("name, district, street, amenities", [
    ("吾悦广场骑手驿站", "龙泉驿区", "东安街道",
     {"books", "microwave", "first_aid", "legal_counselling", "psychological_counselling", "rest_area"}),
    ("恒惠坊暖新驿站", "郫都区", "西园街道", {"rest_area", "drinking_water"}),
    ("“爱+”暖新厨房", "郫都区", "西园街道", {"kitchen"}),
    ("春熙路集装箱暖新驿站(一号)", "锦江区", "春熙路街道", {"rest_area"}),
    ("仁合社区职工书屋", "郫都区", "红光街道", {"books"}),
    ("“骑心协力”网格联络站", "金牛区", "营门口街道", {"rest_area"}),
    ("红房子骑手服务点", "金牛区", "营门口街道", {"rest_area"}),
    ("牛市口街道关爱服务站", "锦江区", "牛市口街道", {"rest_area"}),
])
def test_the_reports_places_are_there(stations, name, district, street, amenities):
    row = stations[stations["name"] == name]
    assert len(row) == 1
    row = row.iloc[0]
    assert row["district"] == district and row["street"] == street
    assert amenities <= row["amenities"]
    assert row["status"] == "open"


def test_reported_places_are_in_their_neighbourhoods(stations):
    by_name = stations.set_index("name").geometry
    chunxi = shapely.Point(104.0775, 30.6564)  # 春熙路, OSM
    for name in ("春熙路集装箱暖新驿站(一号)", "春熙路集装箱暖新驿站(二号)"):
        assert _metric([by_name[name]])[0].distance(_metric([chunxi])[0]) < 600
    assert 104.2 < by_name["吾悦广场骑手驿站"].x < 104.35  # east of the city, in 龙泉驿
    containers = stations[stations["name"].str.contains("春熙路集装箱")]
    assert len(containers) >= 2


def test_attributes_are_realistic(stations):
    share = {k: np.mean([k in a for a in stations["amenities"]]) for k in
             ("drinking_water", "charging", "rest_area", "microwave", "legal_counselling",
              "psychological_counselling", "kitchen")}
    assert share["drinking_water"] > 0.9 and share["charging"] > 0.9 and share["rest_area"] > 0.9
    assert 0.4 < share["microwave"] < 0.8
    assert share["legal_counselling"] < 0.15 and share["psychological_counselling"] < 0.15
    assert 0 < share["kitchen"] < 0.1
    hours = stations["opening_hours"]
    assert (hours == "24/7").any()
    assert hours.str.contains(r"\d\d:\d\d-\d\d:\d\d,\d\d:\d\d-\d\d:\d\d").any()  # lunch break
    assert hours.str.contains("PH off").any()
    assert hours.str.match(r"^Mo-Fr ").any()  # weekdays only
    assert hours.str.contains(r"-0[1-4]:00").any()  # past midnight
    phones = stations["phone"].dropna()
    assert phones.str.fullmatch(r"028-[68]\d{7}").all() and 0 < stations["phone"].isna().mean() < 0.5
    assert stations["name"].str.contains(r"[\u4e00-\u9fff]").all() and stations["name"].is_unique
    assert stations["address"].str.startswith("成都市").all()
    assert stations["street"].notna().mean() > 0.2
    assert stations["operator"].str.endswith("总工会").any()


def test_some_stations_are_closed_for_a_few_days(stations):
    closed = stations[stations["status"] == "closed_temporarily"]
    is_open = stations[stations["status"] == "open"]
    assert 0 < len(closed) < 0.1 * len(stations)
    assert closed["status_note"].notna().all()
    days = (closed["status_until"] - NOW).dt.total_seconds() / 86400
    assert ((days > 1) & (days < 14)).all()
    assert is_open["status_note"].isna().all() and is_open["status_until"].isna().all()


def test_coordinates_are_rounded(stations):
    xy = shapely.get_coordinates(stations.geometry.values.to_numpy())
    np.testing.assert_array_equal(xy, np.round(xy, 7))


