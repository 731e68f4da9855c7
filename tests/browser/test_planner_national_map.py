"""The planner's map of a national network in headless Chromium: its stations come by the map's view (clusters
below zoom 14, as on the rider's map), never all at once, and a station drawn close up is still one click from
being removed in what-if. The demo's 426 stations stand in for 130,000 here: the page is told to treat more than
100 as a national network (pages/planner/layout.py: WHOLE_MAP_MAX_STATIONS)."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.test_planner_page import start
from tests.browser.test_rider_map import KEEP_FETCHES, KEEP_MAPS
from tests.helpers import clean, texts, wait_until

#: The planner's station layer as drawn: clusters (count) and stations (id), and the map's zoom.
DRAWN_JS = """
    const map = (window.__leafletMaps || []).find(m => m.getContainer().id === "planner-map");
    const out = {clusters: [], stations: [], zoom: map ? map.getZoom() : null};
    if (!map) { return out; }
    map.eachLayer(function (l) {
      const p = l.feature && l.feature.properties;
      if (!p || p.kind || p.r !== undefined || p.adcode !== undefined) { return; }
      if (p.cluster) { out.clusters.push(p.point_count); }
      else if (p.id && l instanceof L.CircleMarker) { out.stations.push(p.id); }
    });
    return out;
"""


@pytest.fixture()
def national(dash_app, monkeypatch):
    import pages.planner.layout as planner_layout  # a page module: imported once the app is made

    monkeypatch.setattr(planner_layout, "WHOLE_MAP_MAX_STATIONS", 100)


def view_requests(dash_duo) -> list[dict]:
    out = []
    for url in dash_duo.driver.execute_script("return window.__fetched || []"):
        parts = urlsplit(url)
        if parts.path == "/api/v1/stations/view":
            out.append({k: v[0] for k, v in parse_qs(parts.query).items()})
    return out


def test_a_national_network_comes_by_the_view_and_a_station_close_up_can_be_removed(national, dash_duo, dash_app,
                                                                                     store):
    driver = dash_duo.driver
    for script in (KEEP_MAPS, KEEP_FETCHES):
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})
    start(dash_duo, dash_app)
    drawn = {}

    def shown(**want):
        drawn.update(driver.execute_script(DRAWN_JS))
        return all(want_fn(drawn) for want_fn in want.values())

    # the city's zoom: clusters of the view, asked with the planner's fields; never the whole catalogue
    wait_until(dash_duo, lambda: shown(clusters=lambda d: bool(d["clusters"])), message=lambda: drawn)
    asked = view_requests(dash_duo)
    assert asked and asked[-1]["fields"] == "id,name,status" and int(asked[-1]["zoom"]) < 14
    assert not [u for u in driver.execute_script("return window.__fetched")
                if urlsplit(u).path == "/api/v1/stations"]
    stations = store.read("stations")
    assert sum(drawn["clusters"]) + len(drawn["stations"]) <= len(stations)

    # close up on a station: the stations themselves, the one there among them
    target = stations.iloc[len(stations) // 3]
    driver.execute_script("""
        const map = window.__leafletMaps.find(m => m.getContainer().id === "planner-map");
        map.setView([arguments[0], arguments[1]], 16, {animate: false});""", target.geometry.y, target.geometry.x)
    wait_until(dash_duo, lambda: shown(zoom=lambda d: d["zoom"] == 16, here=lambda d: target["id"] in d["stations"],
                                       flat=lambda d: not d["clusters"]), message=lambda: drawn)
    assert int(view_requests(dash_duo)[-1]["zoom"]) == 16

    # what-if: a click on that dot removes the station, as a click on any dot does on a city's map
    dash_duo.find_element("#planner-click-mode input[value='whatif']").click()
    fired = driver.execute_script("""
        const map = window.__leafletMaps.find(m => m.getContainer().id === "planner-map"), id = arguments[0];
        let n = 0;
        map.eachLayer(function (l) {
          const p = l.feature && l.feature.properties;
          if (p && p.id === id && !p.kind && l instanceof L.CircleMarker) {
            l.fire("click", {latlng: l.getLatLng()}, true); n += 1;
          }
        });
        return n;""", target["id"])
    assert fired == 1
    wait_until(dash_duo, lambda: len(texts(dash_duo, "#planner-whatif-summary .removed-station")) == 1)
    assert target["name"] in texts(dash_duo, "#planner-whatif-summary .removed-station")[0]
    clean(dash_duo)
