"""Tests of the OSM reader and the compound demo layers (gates, buildings, entry routes, signs)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

from mapdata.demo import osm
from mapdata.demo.build import DEMO_NOW
from mapdata.demo.compounds import generate_compounds
from mapdata.schemas import validate
from tests.helpers import TEST_SEED

SEED = TEST_SEED
NOW = DEMO_NOW
LAYERS = ("compounds", "gates", "buildings", "entry_routes", "wayfinding_signs")


@pytest.fixture(scope="module")
def layers(districts):
    return generate_compounds(districts, np.random.default_rng(SEED), now=NOW)


@pytest.fixture(scope="module")
def metric(layers):
    return {k: v.to_crs("EPSG:32648") for k, v in layers.items()}


# -- osm.py -----------------------------------------------------------------------------------

def test_parse_other_tags():
    tags = osm.parse_other_tags(pd.Series(['"oneway"=>"yes","name:en"=>"A \\"B\\" Road"', None, ""]))
    assert tags == [{"oneway": "yes", "name:en": 'A "B" Road'}, {}, {}]


def test_read_layer_returns_copies():
    a = osm.read_layer("points")
    a.loc[a.index[0], "name"] = "changed"
    assert osm.read_layer("points").loc[a.index[0], "name"] != "changed"


def test_roads_schema_and_order():
    roads = osm.load_roads()
    validate(roads, "roads")
    assert len(roads) >= 2000
    assert roads["id"].iloc[0] == "rd-00001"
    ids = roads["osm_id"].astype(np.int64).to_numpy()
    assert (np.diff(ids) >= 0).all()
    assert set(roads.geom_type) == {"LineString"}
    assert roads["oneway"].any() and not roads["oneway"].all()
    assert roads["name"].isna().any() and roads["name"].dropna().map(lambda s: isinstance(s, str)).all()


# -- the layers -------------------------------------------------------------------------------

@pytest.mark.parametrize("layer", LAYERS)
def test_schema(layers, layer):
    validate(layers[layer], layer)
    assert layers[layer].crs.to_epsg() == 4326


def test_compounds_are_the_named_osm_areas(layers):
    cp = layers["compounds"]
    assert len(cp) >= 150
    assert cp["id"].tolist() == [f"cp-{i:04d}" for i in range(1, len(cp) + 1)]
    assert (cp["osm_id"].astype(np.int64).diff().dropna() > 0).all()
    assert cp["name"].str.len().gt(0).all()
    # the extract is central Chengdu: the five central districts and 成华/高新 around them
    assert set(cp["adcode"]) <= {510104, 510105, 510106, 510107, 510108, 510109, 510116, 510112}
    assert "万科·金域蓝湾" in set(cp["name"])


def test_gates_on_the_boundary(layers, metric):
    gates, cp = metric["gates"], metric["compounds"].set_index("id")
    assert set(gates["compound_id"]) == set(cp.index)  # every compound has a gate
    d = shapely.distance(gates.geometry.values, shapely.boundary(cp.loc[gates["compound_id"]].geometry.values))
    assert d.max() <= 15.5
    names = layers["gates"]["name"]
    assert names.str.fullmatch(r"(北|南|东|西|东北|东南|西南|西北)([二三四五六七八九十]|\d+)?门").all()
    assert not layers["gates"].duplicated(["compound_id", "name"]).any()
    assert (layers["gates"]["version"] == 1).all() and (layers["gates"]["updated_by"] == "demo-build").all()
    assert (layers["gates"]["updated_at"] == NOW).all()


def test_rider_gates_and_the_documented_exception(layers):
    gates = layers["gates"]
    per = gates.groupby("compound_id")["rider_access"].any()
    assert per.mean() > 0.9
    assert (~per).sum() >= 1  # compounds that let no rider in: the "no route" case
    assert 0 < (~gates["rider_access"]).mean() < 0.5
    assert gates["e_bike"].any() and not gates["e_bike"].all()
    assert (gates["opening_hours"] == "24/7").any() and (gates["opening_hours"] != "24/7").any()


def test_buildings_inside_their_compound(layers, metric):
    b, cp = metric["buildings"], metric["compounds"].set_index("id")
    polys = cp.loc[b["compound_id"]].geometry.values
    assert shapely.contains(polys, b.geometry.values).all()
    assert set(b["compound_id"]) == set(cp.index)
    raw = layers["buildings"]
    assert (raw["label"] == raw["number"] + "栋").all()
    # numbered 1..n within each compound
    for _, g in raw.groupby("compound_id"):
        assert sorted(g["number"].astype(int)) == list(range(1, len(g) + 1))
    assert raw["osm_id"].notna().any()
    generated = raw[raw["osm_id"].isna()].groupby("compound_id").size()
    assert generated.between(1, 12).all() and generated.median() >= 3


def test_routes_from_a_rider_gate_to_the_building(layers, metric):
    r = metric["entry_routes"]
    gates = metric["gates"].set_index("id")
    b = metric["buildings"].set_index("id")
    cp = metric["compounds"].set_index("id")
    assert len(r) > 0.8 * len(b)
    assert gates.loc[r["gate_id"], "rider_access"].all()
    assert (gates.loc[r["gate_id"], "compound_id"].to_numpy() == r["compound_id"].to_numpy()).all()
    assert (b.loc[r["building_id"], "compound_id"].to_numpy() == r["compound_id"].to_numpy()).all()
    starts = shapely.get_point(r.geometry.values, 0)
    ends = shapely.get_point(r.geometry.values, -1)
    assert shapely.distance(starts, gates.loc[r["gate_id"]].geometry.values).max() < 0.05
    assert shapely.distance(ends, b.loc[r["building_id"]].geometry.values).max() < 0.05
    area = shapely.buffer(cp.loc[r["compound_id"]].geometry.values, 15.0)
    assert shapely.covers(area, r.geometry.values).all()
    assert np.allclose(r["length_m"], r.geometry.length, atol=0.01)
    assert {"osm_path", "generated"} == set(r["source"])
    assert not r["building_id"].duplicated().any()


def test_no_routes_without_rider_gate(layers):
    gates, r = layers["gates"], layers["entry_routes"]
    closed = set(gates["compound_id"]) - set(gates.loc[gates["rider_access"], "compound_id"])
    assert closed and not (set(r["compound_id"]) & closed)


def test_routes_pick_the_best_rider_gate(layers, metric):
    # in compounds with several rider gates, at least some buildings are served by different gates
    r = layers["entry_routes"]
    used = r.groupby("compound_id")["gate_id"].nunique()
    assert (used > 1).any()


def test_signs(layers, metric):
    s = layers["wayfinding_signs"]
    gates, b = layers["gates"], layers["buildings"]
    assert set(s["kind"]) == {"site_plan", "direction", "building_number"}
    plans = s[s["kind"] == "site_plan"]
    assert sorted(plans["gate_id"]) == sorted(gates["id"])
    numbers = s[s["kind"] == "building_number"]
    assert sorted(numbers["building_id"]) == sorted(b["id"])
    assert s["gate_id"].dropna().isin(gates["id"]).all()
    assert s["building_id"].dropna().isin(b["id"]).all()
    label = b.set_index("id")["label"]
    assert (numbers["text"].to_numpy() == label.loc[numbers["building_id"]].to_numpy()).all()
    assert plans["text"].str.startswith("小区平面图").all()
    directions = s[s["kind"] == "direction"]
    assert len(directions) >= 5 and directions["text"].str.contains("栋").all()
    share = s["condition"].value_counts(normalize=True)
    assert share["good"] > 0.75 and 0.05 < share["damaged"] < 0.16 and 0.01 < share["missing"] < 0.1
    # signs stand inside (or at the gate of) their compound
    ms = metric["wayfinding_signs"]
    cp = metric["compounds"].set_index("id")
    assert (shapely.distance(cp.loc[ms["compound_id"]].geometry.values, ms.geometry.values) <= 15.5).all()


def test_direction_signs_stand_on_routes(metric):
    s, r = metric["wayfinding_signs"], metric["entry_routes"]
    d = s[s["kind"] == "direction"]
    for cid, pt in zip(d["compound_id"], d.geometry):
        lines = r[r["compound_id"] == cid].geometry.values
        assert (shapely.distance(lines, pt) < 0.05).sum() >= 2


def test_coordinates_rounded(layers):
    for name in ("gates", "buildings", "entry_routes", "wayfinding_signs"):
        xy = shapely.get_coordinates(layers[name].geometry.values)
        assert np.array_equal(xy, np.round(xy, 7))
