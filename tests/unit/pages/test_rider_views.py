"""The rider page's callbacks take the client's word for nothing: hostile inputs give no error and no data."""
from __future__ import annotations

import pytest
from dash import no_update

from pages.rider.views import WIDEN_STEPS_M, card_view, entry_view, results_view, suggestion_effect


@pytest.fixture()
def request_context(dash_app):
    with dash_app.server.test_request_context("/"):
        yield


STATE = {"lang": "zh", "reach_m": 5000, "station": None}


@pytest.mark.parametrize("where", [
    None, "30.6,104.0", {"lat": "north", "lon": 104.06}, {"lat": float("nan"), "lon": 104.06},
    {"lat": 95, "lon": 104.06}, {"lat": 30.6}, {"lat": [1], "lon": {}},
])
def test_a_bad_location_lists_nothing(request_context, where):
    results, highlight, suggest, where_text = results_view(where, [], ["now"], None, STATE)
    assert results == [] and highlight["features"] == [] and where_text == ""


def test_unknown_amenities_and_wild_reach_are_ignored(request_context):
    where = {"lat": 30.6586, "lon": 104.0648, "where": "<script>"}
    results, _, _, where_text = results_view(where, ["jacuzzi"], ["now"], "not-a-time",
                                             {**STATE, "reach_m": -1e12})
    # the unknown chip is dropped, the reach clipped to its 100 m floor, the bad time ignored:
    # nothing within 100 m of 天府广场, so the page offers to widen instead of failing
    assert results == []
    assert "<script>" not in str(where_text)
    wide, _, _, _ = results_view(where, ["jacuzzi"], ["now"], "not-a-time", {**STATE, "reach_m": "far"})
    assert wide, "an unreadable reach falls back to 5 km"


def test_suggestions_do_only_what_their_buttons_offer():
    step = WIDEN_STEPS_M[0]
    assert suggestion_effect({"kind": "widen", "value": str(step)}, STATE, [])[0]["reach_m"] == step
    assert suggestion_effect({"kind": "widen", "value": "99999999"}, STATE, []) == (no_update, no_update)
    assert suggestion_effect({"kind": "drop", "value": "microwave"}, STATE, ["microwave", "kitchen"]) == \
        (no_update, ["kitchen"])
    assert suggestion_effect({"kind": "drop", "value": "wifi"}, STATE, ["microwave"]) == (no_update, no_update)
    assert suggestion_effect({"kind": "rm -rf", "value": "1"}, STATE, []) == (no_update, no_update)


def test_selecting_an_unknown_station_opens_no_card(request_context):
    body, hidden, centre = card_view({**STATE, "station": "st-9999'; DROP TABLE"}, None)
    assert (body, hidden, centre) == (None, True, None)


@pytest.mark.parametrize("query", [
    {"at": "2300-01-01T12:00"}, {"at": "0001-01-01T00:00"}, {"at": "9999-12-31T23:59"},
    {"a": ["microwave", "toilet"]}, {"at": ["2026-12-02T12:00", "b"]}, {"lat": ["30.6", "30.7"], "lon": "104.06"},
    {"s": ["st-0001", "st-0002"], "c": ["x", "y"], "b": ["1", "2"], "lang": ["en", "zh"]},
    {"lat": "30_6", "lon": "104.06"}, {"lat": "nan", "lon": "inf"},
])
def test_the_page_renders_whatever_the_link_says(request_context, query):
    from pages.rider.layout import layout

    page = layout(**query)
    assert "rider-results" in str(page)


def test_a_planned_time_far_away_is_dropped_not_answered(request_context):
    from pages.rider.views import initial_state

    assert initial_state(at="2300-01-01T12:00")["open_at"] is None
    assert initial_state(at="2026-12-03T21:45")["open_at"] == "2026-12-03T21:45"
    results, *_ = results_view({"lat": 30.6586, "lon": 104.0648}, [], [], "2300-01-01T12:00", STATE)
    assert results, "an unreadable planned time is ignored: any time"


def test_an_empty_building_number_gives_the_way_in_not_a_missing_building(request_context):
    """The rider leaves 楼栋号 empty: the answer names the rider gate and asks for a building, in words."""
    from pages.context import services

    compounds = services().stations.entry_layers()["compounds"]
    routes = services().stations.entry_layers()["entry_routes"]
    name = compounds.loc[compounds["id"] == routes["compound_id"].iloc[0], "name"].iloc[0]
    for lang, gate_word, ask in (("zh", "骑手入口：", "填写楼栋号"), ("en", "Rider gate: ", "Give a building number")):
        data, message, _ = entry_view(name, "", lang)
        text = _text(message)
        assert gate_word in text and ask in text
        assert "没有这个楼栋号" not in text and "no such building" not in text
        assert "没有可用的进入路线" not in text and "No way in found" not in text
        assert any(f["properties"]["kind"] == "gate_used" for f in data["features"])


def _text(component) -> str:
    """Every string inside a Dash component tree, joined."""
    if isinstance(component, (list, tuple)):
        return " ".join(_text(c) for c in component)
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    return _text(children) if children is not None else ""
