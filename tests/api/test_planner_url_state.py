"""The planner page's state from its URL, as the router serves it: every parameter checked on the server, a bad
value gives that control's default (never a 500), a good one is kept."""
from __future__ import annotations

import pytest

from pages.ids import PLANNER


def _page(client, search: str):
    body = {"output": ".._pages_content.children..._pages_store.data..",
            "outputs": [{"id": "_pages_content", "property": "children"}, {"id": "_pages_store", "property": "data"}],
            "inputs": [{"id": "_pages_location", "property": "pathname", "value": "/planner"},
                       {"id": "_pages_location", "property": "search", "value": search}],
            "changedPropIds": ["_pages_location.pathname"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.get_json()["response"]["_pages_content"]["children"]


def _props(node, ident) -> dict | None:
    """The props of the component with id ``ident`` in a serialised Dash layout."""
    if isinstance(node, dict):
        if node.get("props", {}).get("id") == ident:
            return node["props"]
        node = list(node.values())
    if isinstance(node, list):
        for child in node:
            found = _props(child, ident)
            if found is not None:
                return found
    return None


def _controls(page) -> dict:
    ids = {"radius": PLANNER.radius, "custom": PLANNER.radius_custom, "mode": PLANNER.mode,
           "amenities": PLANNER.amenities, "time": PLANNER.time_kind, "weekday": PLANNER.weekday,
           "hour": PLANNER.hour, "holiday": PLANNER.holiday, "res": PLANNER.h3_res, "week": PLANNER.week_view,
           "k": PLANNER.k, "exact": PLANNER.exact_district, "map": PLANNER.map_district}
    out = {name: _props(page, ident)["value"] for name, ident in ids.items()}
    out["whatif"] = _props(page, PLANNER.whatif)["data"]
    return out


def test_a_shared_link_sets_every_control(client, dash_app):
    from layers.services import services_of

    station = str(services_of(dash_app.server).planning.model().station_ids[3])
    page = _page(client, "?r=1234&mode=network&a=toilet,microwave&t=holiday&wd=4&h=3&res=9&wv=diff&k=12"
                         f"&xd=510107&d=510105&added=104.05,30.62;104.1,30.7&removed={station}&lang=en")
    c = _controls(page)
    holiday = c.pop("holiday")
    assert c == {"radius": "custom", "custom": 1234, "mode": "network", "amenities": ["microwave", "toilet"],
                 "time": "holiday", "weekday": 4, "hour": 3, "res": 9, "week": "diff", "k": 12, "exact": 510107,
                 "map": 510105, "whatif": {"added": [[104.05, 30.62], [104.1, 30.7]], "removed": [station]}}
    assert holiday is not None
    assert _props(page, PLANNER.title)["children"] == "Warm-station coverage planner"
    # the controls a link sets are enabled or disabled as the time kind says
    assert _props(page, PLANNER.radius_custom)["disabled"] is False
    assert _props(page, PLANNER.weekday)["disabled"] is True and _props(page, PLANNER.holiday)["disabled"] is False


@pytest.mark.parametrize("search", [
    "?r=abc", "?r=5000", "?r=99", "?r=nan", "?r=inf", "?r=1e400", "?r=-1000", "?r=1000&r=500", "?r=" + "9" * 1500,
    "?k=0", "?k=101", "?k=-3", "?k=1.5", "?k=abc", "?k=" + "1" * 400, "?t=now", "?t=any&t=week", "?wd=7", "?wd=-1",
    "?wd=٣", "?h=24", "?h=3.5", "?hol=2020-01-01", "?hol=%3Cscript%3E", "?res=12", "?res=8.0", "?wv=up", "?mode=fly",
    "?d=1", "?xd=510107x", "?d=510104&d=510105", "?a=%3Cscript%3E", "?a=" + ",".join(["microwave"] * 150),
    "?added=nan,30", "?added=116.4,39.9", "?added=1,2,3", "?added=" + ";".join(["104.06,30.66"] * 120),
    "?added=x&added=y", "?removed=nope", "?removed=" + ",".join(["st-x"] * 300), "?lang=fr", "?lang=en&lang=zh",
    "?%00=1", "?r",
])  # a search over 2,000 characters is not served at all (pages.guard)
def test_a_bad_value_gives_that_controls_default_and_the_rest_is_kept(client, search):
    page = _page(client, search + "&h=5" if "h=" not in search else search + "&k=9")
    c = _controls(page)
    good = ("hour", 5) if "h=" not in search else ("k", 9)
    assert c[good[0]] == good[1]  # the good parameter beside the bad one is kept
    defaults = {"radius": "1000", "custom": 1500, "mode": "straight", "amenities": [], "time": "week", "weekday": 2,
                "hour": 12, "res": 8, "week": "side", "k": 5, "exact": 510104, "map": 510104}
    bad = {k: v for k, v in c.items() if k in defaults and k != good[0] and v != defaults[k]}
    if search.startswith("?added=") and "104.06,30.66" in search:
        assert len(c["whatif"]["added"]) == 30  # a point inside Chengdu is good; at most 30 are kept
        assert bad == {}
        return
    assert bad == {}
    assert c["whatif"] == {"added": [], "removed": []}
