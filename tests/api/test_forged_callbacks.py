"""Every Dash callback is a POST anyone can send with any values: a sweep over every registered callback
with wrong types, huge values and forged ids gets no 500 and never reaches the last-resort error handler."""
from __future__ import annotations

import json
import logging

import pytest

HOSTILE = [
    None, "", "x" * 20_000, "<script>alert(1)</script>", -1, 0, 10**30, 1e308, -1e308, True,
    [], [None], [{"$ne": 1}], ["x"] * 500, {}, {"lat": "north", "lon": None}, {"latlng": {"lat": 1e308, "lng": "x"}},
    {"properties": {"id": {"$ne": 1}, "i": -5, "r": "x", "adcode": [1]}}, {"token": {"$ne": 1}},
    "data:text/csv;base64,@@@", "2300-01-01T12:00",
]


def _server_callbacks(dash_app) -> list[tuple[str, dict]]:
    dash_app.server.test_client().get("/")  # the callback map is complete once the app has served
    return [(key, spec) for key, spec in dash_app.callback_map.items() if spec.get("callback") is not None]


def _outputs(key: str) -> list[dict]:
    parts = key.strip(".").split("...") if key.startswith("..") else [key]
    out = []
    for part in parts:
        part = part.split("@")[0]
        ident, _, prop = part.rpartition(".")
        out.append({"id": json.loads(ident) if ident.startswith("{") else ident, "property": prop})
    return out


def _entry(dep: dict, value) -> dict | list:
    ident = dep["id"]
    if isinstance(ident, dict) or (isinstance(ident, str) and ident.startswith("{")):
        pattern = json.loads(ident) if isinstance(ident, str) else ident
        # a pattern-matching input: one forged component of that type
        forged = {k: ("x" if isinstance(v, list) else v) for k, v in pattern.items()}
        return [{"id": forged, "property": dep["property"], "value": value}]
    return {"id": ident, "property": dep["property"], "value": value}


def _payload(key: str, spec: dict, values: list, states: list) -> dict:
    inputs = [_entry(d, v) for d, v in zip(spec["inputs"], values)]
    state = [_entry(d, v) for d, v in zip(spec["state"], states)]
    first = spec["inputs"][0]
    ident = first["id"] if isinstance(first["id"], str) and not first["id"].startswith("{") else None
    changed = [f"{ident}.{first['property']}"] if ident else []
    outputs = _outputs(key)
    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0], "inputs": inputs,
            "state": state, "changedPropIds": changed}


@pytest.fixture()
def last_resort(caplog):
    caplog.set_level(logging.ERROR, logger="nuanxin.callbacks")
    return caplog


def test_the_sweep_sees_every_server_callback(dash_app):
    keys = [k for k, _ in _server_callbacks(dash_app)]
    assert len(keys) >= 20
    assert any("rider-results" in k for k in keys) and any("planner-sites-msg" in k for k in keys)


def test_no_forged_callback_request_gets_a_500(dash_app, client, last_resort):
    answered = 0
    for key, spec in _server_callbacks(dash_app):
        n_in, n_state = len(spec["inputs"]), len(spec["state"])
        cases = [([v] * n_in, [v] * n_state) for v in HOSTILE]
        # one input at a time hostile, the others empty
        cases += [([v if j == i else None for j in range(n_in)], [None] * n_state)
                  for i in range(n_in) for v in HOSTILE[::3]]
        for values, states in cases:
            r = client.post("/_dash-update-component", json=_payload(key, spec, values, states))
            assert r.status_code in (200, 204), (key, values[:2], r.status_code, r.data[:300])
            answered += 1
    assert answered > 500
    reached = [rec.getMessage()[:200] for rec in last_resort.records if rec.name == "nuanxin.callbacks"]
    assert reached == [], "these inputs were not validated by their view builders"


@pytest.mark.parametrize("path", ["/_dash-component-suites/nope/x.js", "/_dash-component-suites/dash/nope.js",
                                  "/_dash-component-suites/dash/../../app.py", "/_reload-hash"])
def test_dash_routes_answer_unknown_files_and_dev_tools_with_404(client, path):
    assert client.get(path).status_code == 404


def test_a_forged_router_request_is_answered_with_no_update(client):
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": {"$ne": 1}},
                       {"id": "_pages_location", "property": "search", "value": 7}],
            "changedPropIds": ["_pages_location.pathname"]}
    assert client.post("/_dash-update-component", json=body).status_code == 204
    body["inputs"][0]["value"], body["inputs"][1]["value"] = "/planner", "?lang=en"
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200 and "planner-controls" in r.get_data(as_text=True)


def _route(client, pathname: str, search: str):
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}
    return client.post("/_dash-update-component", json=body)


def _find(node, ident):
    """The component with id ``ident`` in a serialised Dash layout."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == ident:
            return node
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = _find(child, ident)
            if found is not None:
                return found
    return None


def test_a_repeated_amenity_in_the_rider_link_asks_for_both(client):
    from pages.ids import RIDER

    r = _route(client, "/", "?a=microwave&a=toilet&lang=en")
    assert r.status_code == 200
    chips = _find(r.get_json()["response"]["_pages_content"]["children"], RIDER.chips)
    assert sorted(chips["props"]["value"]) == ["microwave", "toilet"]


@pytest.mark.parametrize("search", ["?at=a&at=b", "?at=2026-12-03T09:00&at=2026-12-04T09:00", "?lat=30.6&lat=30.7",
                                    "?lang=en&lang=zh", "?s=a&s=b&c=x&c=y"])
def test_other_repeated_parameters_are_ignored_and_the_page_renders(client, search):
    from pages.ids import RIDER

    r = _route(client, "/", search)
    assert r.status_code == 200
    page = r.get_json()["response"]["_pages_content"]["children"]
    assert _find(page, RIDER.results) is not None and _find(page, RIDER.chips) is not None
    plain = _route(client, "/", "").get_json()["response"]["_pages_content"]["children"]
    assert _find(page, RIDER.where) == _find(plain, RIDER.where)


@pytest.mark.parametrize("search", ["?lang=en&lang=zh", "?lang=en&a=1&a=2"])
def test_the_planner_page_renders_with_repeated_parameters(client, search):
    r = _route(client, "/planner", search)
    assert r.status_code == 200 and "planner-controls" in r.get_data(as_text=True)
