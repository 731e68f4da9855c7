"""The rider page's answer to a misspelt compound: the closest names as buttons, and a tap on one asks its way in."""
from __future__ import annotations

import pytest
from dash import html, no_update

from pages.ids import compound_suggestion_id
from pages.rider.views import entry_from_suggestion, entry_view

STATE = {"lang": "zh", "reach_m": 5000, "station": None}


@pytest.fixture()
def request_context(dash_app):
    with dash_app.server.test_request_context("/"):
        yield


def _buttons(message) -> list[html.Button]:
    found = []

    def walk(node):
        if isinstance(node, html.Button):
            found.append(node)
        for child in node if isinstance(node, list) else getattr(node, "children", None) or []:
            if not isinstance(child, str):
                walk(child)
    walk(message)
    return found


def _compound_id(store, name):
    cp = store.read("compounds")
    return cp.loc[cp["name"] == name, "id"].iloc[0]


def test_a_misspelt_compound_offers_the_closest_names(request_context, store):
    routes, message, _ = entry_view("锦秀东方", "", "zh")
    assert routes is None and "没有找到小区“锦秀东方”" in str(message)
    buttons = _buttons(message)
    assert [b.children for b in buttons][:2] == ["锦绣东方", "锦绣东方(二期)"]
    assert buttons[0].id == compound_suggestion_id(_compound_id(store, "锦绣东方"))
    assert all("btn" in b.className.split() for b in buttons)  # .btn is at least 44 px high
    _, english, _ = entry_view("锦秀东方", "", "en")
    assert "Did you mean:" in str(english)


def test_gibberish_offers_nothing(request_context):
    _, message, _ = entry_view("qwrtzxkv", "", "zh")
    assert "没有找到小区" in str(message) and _buttons(message) == []


def test_a_tap_asks_the_way_in(request_context, store):
    trigger = compound_suggestion_id(_compound_id(store, "锦绣东方"))
    name, routes, message, viewport = entry_from_suggestion(
        trigger, [{"id": trigger, "property": "n_clicks", "value": 1}], "1", STATE)
    assert name == "锦绣东方" and routes["features"] and "bounds" in viewport
    assert "锦绣东方" in str(message)


@pytest.mark.parametrize("trigger, clicks", [
    (None, 1), ("rider-compound-suggest", 1), ({"type": "rider-compound-suggest", "id": "cp-nope"}, 1),
    ({"type": "rider-compound-suggest", "id": "x" * 5000}, 1), ({"type": "rider-compound-suggest", "id": ["cp"]}, 1),
    ({"type": "rider-suggest", "id": "cp-0001"}, 1), ({"type": "rider-compound-suggest", "id": "cp-0001"}, 0),
    ({"type": "rider-compound-suggest", "id": "cp-0001"}, None), ({"type": "rider-compound-suggest", "id": "cp-0001"}, True),
    ({"type": "rider-compound-suggest", "id": "cp-0001"}, "3"),
])
def test_a_forged_or_untapped_suggestion_changes_nothing(request_context, trigger, clicks):
    buttons = [{"id": trigger, "property": "n_clicks", "value": clicks}]
    assert entry_from_suggestion(trigger, buttons, "1", STATE) == (no_update,) * 4
    assert entry_from_suggestion(trigger, "not a list", "1", STATE) == (no_update,) * 4
