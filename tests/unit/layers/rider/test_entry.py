"""Tests of the "how do I get into compound X to building N" answers in layers.rider.entry."""
from __future__ import annotations

import pytest
import shapely

from layers.rider.catalogue import ENTRY_LAYERS
from layers.rider.entry import WALK_KMH, UnknownCompoundError, entry_route, find_compounds, parse_building_number


@pytest.fixture(scope="module")
def layers(store):
    """The entry layers of the demo build, as the app reads them."""
    return {name: store.read(name) for name in ENTRY_LAYERS}


@pytest.mark.parametrize("text, expected", [
    ("3", "3"), ("3栋", "3"), ("3号楼", "3"), ("3幢", "3"), ("３栋", "3"), ("１２号楼", "12"),
    (" 3 栋 ", "3"), ("第3栋", "3"), ("03", "3"), (7, "7"), ("三栋", "3"), ("十二号楼", "12"),
    ("二十一幢", "21"), ("A栋", None), ("", None), (None, None), ("0", None), ("3单元", None),
])
def test_parse_building_number(text, expected):
    assert parse_building_number(text) == expected


def test_find_compounds_partial_and_exact_first(layers):
    cp = layers["compounds"]
    hits = find_compounds(cp, "锦绣东方")
    assert hits["name"].iloc[0] == "锦绣东方"
    assert "锦绣东方(二期)" in set(hits["name"])
    assert find_compounds(cp, "金域蓝湾")["name"].tolist() == ["万科·金域蓝湾"]
    # separators and full-width letters do not matter
    assert find_compounds(cp, "万科金域蓝湾")["name"].tolist() == ["万科·金域蓝湾"]
    assert "Standard City" in set(find_compounds(cp, "ｓｔａｎｄａｒｄ")["name"])
    many = find_compounds(cp, "花园", limit=3)
    assert len(many) == 3 and many["name"].str.contains("花园").all()
    assert find_compounds(cp, "没有这个小区").empty and find_compounds(cp, "  ").empty
    assert list(hits.columns) == list(cp.columns)


def test_unknown_compound(layers):
    with pytest.raises(LookupError, match="cp-9999"):
        entry_route(layers, "cp-9999", "1")
    with pytest.raises(KeyError):
        entry_route(layers, "nope", "1")
    assert issubclass(UnknownCompoundError, KeyError)


def test_route_along_osm_paths(layers):
    r = layers["entry_routes"]
    row = r[r["source"] == "osm_path"].iloc[0]
    b = layers["buildings"].set_index("id").loc[row["building_id"]]
    ans = entry_route(layers, row["compound_id"], b["label"])
    assert ans["reason"] is None
    assert ans["source"] == "osm_path"
    assert ans["gate"]["id"] == row["gate_id"] and ans["gate"]["rider_access"]
    assert ans["building"]["id"] == row["building_id"]
    assert ans["route"].equals(row.geometry)
    assert ans["length_m"] == pytest.approx(row["length_m"])
    assert ans["walking_min"] == pytest.approx(row["length_m"] / (WALK_KMH * 1000 / 60))
    if ans["gate"]["e_bike"]:
        assert ans["riding_min"] < ans["walking_min"]
    else:
        assert ans["riding_min"] is None
    gate_ids = {ans["gate"]["id"]} | {g["id"] for g in ans["other_gates"]}
    assert gate_ids == set(layers["gates"].loc[layers["gates"]["compound_id"] == row["compound_id"], "id"])
    for g in ans["other_gates"]:
        assert g["refuses_riders"] == (not g["rider_access"]) and g["refuses_e_bikes"] == (not g["e_bike"])


def test_signs_along_the_route(layers):
    r = layers["entry_routes"]
    b = layers["buildings"].set_index("id")
    # a route with a direction sign on it
    signs = layers["wayfinding_signs"]
    direction = signs[signs["kind"] == "direction"].iloc[0]
    routes = r[r["compound_id"] == direction["compound_id"]]
    on = routes[shapely.distance(routes.geometry.values, direction.geometry) < 1e-6]
    row = on.iloc[0]
    ans = entry_route(layers, row["compound_id"], b.loc[row["building_id"], "number"])
    kinds = [s["kind"] for s in ans["signs"]]
    assert kinds[0] == "site_plan" and ans["signs"][0]["gate_id"] == row["gate_id"]
    assert "direction" in kinds
    assert any(s["building_id"] == row["building_id"] for s in ans["signs"])
    assert [s["distance_m"] for s in ans["signs"]] == sorted(s["distance_m"] for s in ans["signs"])
    assert all(s["condition"] in ("good", "damaged", "missing") for s in ans["signs"])
    ids = [s["id"] for s in ans["signs"]]
    assert (signs.set_index("id").loc[ids, "compound_id"] == row["compound_id"]).all()


def test_building_number_forms_give_the_same_route(layers):
    row = layers["entry_routes"].iloc[0]
    number = layers["buildings"].set_index("id").loc[row["building_id"], "number"]
    full = str(number).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    answers = [entry_route(layers, row["compound_id"], form)
               for form in (number, f"{number}栋", f"{number}号楼", f"{number}幢", full + "栋")]
    assert {a["building"]["id"] for a in answers} == {row["building_id"]}


def test_no_rider_gate(layers):
    gates = layers["gates"]
    per = gates.groupby("compound_id")["rider_access"].any()
    cid = per[~per].index[0]
    ans = entry_route(layers, cid, "1")
    assert ans["route"] is None and ans["gate"] is None
    assert ans["reason"].startswith("no rider gate")
    assert len(ans["other_gates"]) == (gates["compound_id"] == cid).sum()
    assert all(g["refuses_riders"] for g in ans["other_gates"])


def test_no_such_building(layers):
    r = layers["entry_routes"]
    cid = r["compound_id"].iloc[0]
    numbers = layers["buildings"].loc[layers["buildings"]["compound_id"] == cid, "number"]
    ans = entry_route(layers, cid, "999栋")
    assert ans["route"] is None and ans["reason"].startswith("no such building")
    assert all(n in ans["reason"] for n in numbers)
    assert entry_route(layers, cid, "abc")["reason"].startswith("no such building")



@pytest.mark.parametrize("blank", ["", "   ", None])
def test_no_building_given_answers_the_way_into_the_compound(layers, blank):
    """No building number is not a missing building: the answer is the rider gate to enter by."""
    r = layers["entry_routes"]
    cid = r["compound_id"].iloc[0]
    gates = layers["gates"]
    ans = entry_route(layers, cid, blank)
    assert ans["reason_code"] == "no_building_given" and not ans["reason"].startswith("no such building")
    assert ans["gate"] is not None and ans["gate"]["rider_access"] and ans["building"] is None
    assert ans["route"] is None
    assert {g["id"] for g in [ans["gate"], *ans["other_gates"]]} == set(gates.loc[gates["compound_id"] == cid, "id"])
    # the gate offered is one the compound's recorded routes start from
    assert ans["gate"]["id"] in set(r.loc[r["compound_id"] == cid, "gate_id"])
