"""The place index a rider searches: what each kind of place stands for, and how hits are ranked."""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from layers.rider.search import PlaceIndex, normalise


def _roads(rows) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": [r[0] for r in rows], "name": [r[1] for r in rows]},
                            geometry=[shapely.LineString(r[2]) for r in rows], crs=4326)


def test_a_street_in_pieces_is_found_at_the_middle_of_its_longest_piece():
    roads = _roads([
        ("rd-1", "红星路", [(104.080, 30.650), (104.081, 30.650)]),    # short piece first
        ("rd-2", "红星路", [(104.080, 30.660), (104.090, 30.660)]),    # the longest piece
        ("rd-3", "红星路", [(104.080, 30.670), (104.083, 30.670)]),
        ("rd-4", "总府路", [(104.070, 30.655), (104.075, 30.655)]),
    ])
    places = PlaceIndex(roads=roads).search("红星路")
    assert len(places) == 1, "one entry per street name"
    assert places[0].id == "rd-2"
    assert (places[0].lon, places[0].lat) == pytest.approx((104.085, 30.660))


def test_every_street_of_the_demo_roads_lands_on_its_longest_piece(store):
    roads = store.read("roads")
    named = roads[roads["name"].notna()]
    index = PlaceIndex(roads=roads)
    assert named["name"].nunique() == len(index.table)
    longest = named.assign(length=shapely.length(named.geometry.values)) \
        .sort_values(["name", "length"], ascending=[True, False]).drop_duplicates("name").set_index("name")
    picked = index.table.set_index("name")["id"]
    wrong = [name for name, rid in picked.items() if longest.at[name, "id"] != rid]
    assert wrong == []


def test_ranking_exact_then_prefix_then_contained_and_stations_first():
    stations = gpd.GeoDataFrame({"id": ["st-1", "st-2"], "name": ["春熙路暖新驿站", "春熙路"]},
                                geometry=[shapely.Point(104.08, 30.65), shapely.Point(104.079, 30.656)], crs=4326)
    compounds = gpd.GeoDataFrame({"id": ["cp-1"], "name": ["春熙路小区"]},
                                 geometry=[shapely.box(104.07, 30.64, 104.071, 30.641)], crs=4326)
    roads = _roads([("rd-1", "春熙路", [(104.078, 30.655), (104.080, 30.657)]),
                    ("rd-2", "新春熙路", [(104.0, 30.6), (104.01, 30.6)])])
    hits = PlaceIndex(stations, compounds, roads).search("春熙路", limit=10)
    assert [(p.kind, p.id) for p in hits] == [
        ("station", "st-2"), ("road", "rd-1"),         # exact names, stations before streets
        ("station", "st-1"), ("compound", "cp-1"),     # then names starting with it, by kind
        ("road", "rd-2"),                              # then names containing it
    ]


def test_search_ignores_width_case_and_separators_and_limits():
    stations = gpd.GeoDataFrame({"id": ["st-1"], "name": ["万科·金域蓝湾 Station"]},
                                geometry=[shapely.Point(104.1, 30.6)], crs=4326)
    index = PlaceIndex(stations)
    assert [p.id for p in index.search("万科金域蓝湾 ｓｔａｔｉｏｎ")] == ["st-1"]
    assert index.search("   ") == [] and index.search("不存在的地方") == []
    assert normalise("（万科）·金域-蓝湾") == "万科金域蓝湾"


def test_an_empty_index_finds_nothing():
    assert PlaceIndex().search("春熙路") == []
