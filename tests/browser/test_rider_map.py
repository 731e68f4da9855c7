"""The rider page's map agrees with its list, in headless Chromium on a phone, offline.

Stations that do not answer the rider's question (closed then, closed temporarily, lacking a chosen
amenity) are drawn muted with the reason in their tooltip; the numbered result pins are above
everything; the map shows the rider and the results; the gate to use and a gate refusing riders
are told apart. The stations are drawn on a canvas, so their look is read from Leaflet's own
layers: a script put into every page before Leaflet loads keeps each map Leaflet makes.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from layers.common.hours import HoursTable
from layers.rider.catalogue import ENTRY_LAYERS
from layers.rider.entry import entry_route
from mapdata import clock
from mapdata.store import Change, open_store
from tests.browser.test_rider_page import start
from tests.helpers import clean, texts, wait_until

#: Keeps every Leaflet map of the page in window.__leafletMaps (window.L is set when Leaflet loads).
KEEP_MAPS = """
(function () {
  let leaflet;
  window.__leafletMaps = [];
  Object.defineProperty(window, "L", {configurable: true, enumerable: true,
    get: function () { return leaflet; },
    set: function (value) {
      leaflet = value;
      if (value && value.Map && !value.__kept) {
        value.__kept = true;
        value.Map.addInitHook(function () { window.__leafletMaps.push(this); });
      }
    }});
})();
"""

#: Helpers run in the page: the rider map, a station's marker, a view with every station unclustered.
PAGE_JS = """
window.__riderMap = function () {
  return (window.__leafletMaps || []).find(function (m) { return m.getContainer().id === "rider-map"; });
};
window.__tip = function (layer) {
  const tip = layer.getTooltip && layer.getTooltip();
  if (!tip) { return null; }
  const content = tip.getContent();
  return typeof content === "string" ? content : content.textContent;
};
window.__station = function (id) {
  const map = window.__riderMap();
  let found = null;
  map.eachLayer(function (l) {
    const p = l.feature && l.feature.properties;
    if (p && p.id === id && !p.cluster && !p.kind && l instanceof L.CircleMarker) { found = l; }
  });
  if (!found) { return null; }
  const o = found.options;
  return {radius: o.radius, fillColor: o.fillColor, fillOpacity: o.fillOpacity, opacity: o.opacity,
          tooltip: window.__tip(found)};
};
"""


def open_map(dash_duo, dash_app, path):
    """The rider page at ``path`` with its Leaflet maps kept, and the station layer loaded."""
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_MAPS})
    start(dash_duo, dash_app, path=path)
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "return !!(window.__leafletMaps || []).find(m => m.getContainer().id === 'rider-map')"))
    dash_duo.driver.execute_script(PAGE_JS)


def station_look(dash_duo, station) -> dict:
    """How the map draws ``station`` (a row of the stations layer), seen close up where nothing is clustered."""
    driver = dash_duo.driver
    driver.execute_script("window.__riderMap().setView([arguments[0], arguments[1]], 17, {animate: false})",
                          station.geometry.y, station.geometry.x)
    look = {}

    def drawn():
        look.update(driver.execute_script("return window.__station(arguments[0]) || {}", station["id"]))
        return bool(look)

    wait_until(dash_duo, drawn, message=lambda: f"no marker for {station['id']}")
    return look


def muted(look: dict, plain: dict) -> bool:
    return (look["radius"] < plain["radius"] and look["fillOpacity"] < plain["fillOpacity"]
            and look["fillColor"] != plain["fillColor"])


def tomorrow_at(hhmm: str) -> str:
    return f"{(clock.today() + dt.timedelta(days=1)).isoformat()}T{hhmm}"


def nearest_to(candidates, station):
    """The candidate nearest to ``station`` (plain degrees: near enough for a neighbour)."""
    d = np.hypot(candidates.geometry.x - station.geometry.x, candidates.geometry.y - station.geometry.y)
    return candidates.iloc[int(np.argmin(d.to_numpy()))]


def hours_of(store):
    stations = store.read("stations")
    return stations, HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])


def test_at_three_in_the_morning_closed_stations_are_muted_and_say_so(dash_duo, dash_app, store, app_db):
    at = tomorrow_at("03:00")
    stations, hours = hours_of(store)
    is_open = hours.open_at(dt.datetime.fromisoformat(at))
    plain_hours = (stations["status"] == "open") & stations["amenities_out"].map(lambda s: not s)
    closed = stations[plain_hours & (stations["opening_hours"] == "Mo-Su 08:00-22:00") & ~is_open].iloc[0]
    # an open one near it, and another its staff closed for a while (no end announced)
    opened = nearest_to(stations[plain_hours & is_open], closed)
    paused = nearest_to(stations[plain_hours & is_open & (stations["id"] != opened["id"])], closed)
    app_store = open_store(app_db)
    app_store.apply_changes("stations", [Change(paused["id"], {"status": "closed_temporarily", "status_note": "装修",
                                                               "status_until": None})], user="test:map")
    try:
        open_map(dash_duo, dash_app, f"/?lat={closed.geometry.y:.6f}&lon={closed.geometry.x:.6f}&at={at}")
        plain = station_look(dash_duo, opened)
        assert plain["tooltip"] == opened["name"]
        look = station_look(dash_duo, closed)
        assert muted(look, plain), (look, plain)
        assert look["tooltip"] == f"{closed['name']} · 那时已打烊"
        away = station_look(dash_duo, paused)
        assert muted(away, plain) and away["tooltip"] == f"{paused['name']} · 暂停服务", away
        # the list agrees: neither muted one is in it
        listed = dash_duo.find_element("#rider-results").text
        assert closed["name"] not in listed and paused["name"] not in listed
        clean(dash_duo)
    finally:
        app_store.apply_changes("stations", [Change(paused["id"], {
            "status": paused["status"], "status_note": paused["status_note"] or None,
            "status_until": None if pd.isna(paused["status_until"]) else paused["status_until"]})], user="test:map")


def test_a_station_without_the_chosen_amenity_is_muted_in_english(dash_duo, dash_app, store):
    stations, hours = hours_of(store)
    is_open = hours.open_at(clock.now())
    fine = (stations["status"] == "open") & stations["amenities_out"].map(lambda s: not s) & is_open
    has = stations["amenities"].map(lambda a: "microwave" in a)
    lacking = stations[fine & ~has].iloc[0]
    having = nearest_to(stations[fine & has], lacking)
    open_map(dash_duo, dash_app, f"/?lat={lacking.geometry.y:.6f}&lon={lacking.geometry.x:.6f}&lang=en")

    before = station_look(dash_duo, lacking)
    assert before["tooltip"] == lacking["name"], "with no chip chosen every open station answers"
    chip = [c for c in dash_duo.find_elements("#rider-chips .chip") if c.text == "Microwave"][0]
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({inline: 'center'})", chip)
    chip.click()
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "return (window.__station(arguments[0]) || {}).tooltip", lacking["id"]) == f"{lacking['name']} · No Microwave")
    plain = station_look(dash_duo, having)
    look = station_look(dash_duo, lacking)
    assert muted(look, plain), (look, plain)
    assert plain["tooltip"] == having["name"]
    clean(dash_duo)


CLUSTERS_JS = """
    const map = window.__riderMap(), out = {clusters: [], singles: []};
    map.setView([arguments[0], arguments[1]], arguments[2], {animate: false});
    map.eachLayer(function (l) {
      const p = l.feature && l.feature.properties;
      if (!p || p.kind) { return; }
      if (p.cluster) {
        const el = l.getElement(), inner = el && el.firstElementChild;
        out.clusters.push({id: l.feature.id, n: p.point_count, answering: l.options.answering,
          label: inner ? inner.textContent : null, muted: el.classList.contains(
          "station-cluster-muted"), background: inner ? getComputedStyle(inner).backgroundColor : null});
      } else if (l instanceof L.CircleMarker) {
        out.singles.push({id: p.id, tooltip: window.__tip(l)});
      }
    });
    return out;
"""


def test_a_cluster_of_stations_none_of_which_answers_is_muted(dash_duo, dash_app, store):
    at = tomorrow_at("03:00")
    stations, hours = hours_of(store)
    both = stations["amenities"].map(lambda a: {"microwave", "legal_counselling"} <= a)
    out = stations["amenities_out"].map(lambda o: bool(o & {"microwave", "legal_counselling"}))
    answering = set(stations.loc[both & ~out & hours.open_at(dt.datetime.fromisoformat(at)), "id"])
    assert answering, "the demo data has stations open at 03:00 with both"
    centre = stations.geometry.y.median(), stations.geometry.x.median()
    open_map(dash_duo, dash_app, f"/?lat={centre[0]:.6f}&lon={centre[1]:.6f}&at={at}&a=microwave,legal_counselling")

    def drawn(zoom):
        """What the map draws at ``zoom`` once the server's clusters of that zoom have come (their ids say it)."""
        seen = {}

        def this_zoom():
            seen.update(dash_duo.driver.execute_script(CLUSTERS_JS, *centre, zoom))
            return bool(seen["clusters"]) and all(c["id"].startswith(f"cluster-{zoom}-") for c in seen["clusters"])

        wait_until(dash_duo, this_zoom, message=lambda: seen)
        assert all(c["label"] == str(c["n"]) for c in seen["clusters"] if c["n"] < 1000), seen["clusters"]
        return seen

    # the whole city in view: every station in a cluster or alone, and the answering ones are the list's
    whole = drawn(8)
    assert sum(c["n"] for c in whole["clusters"]) + len(whole["singles"]) == len(stations)
    alone = {s["id"] for s in whole["singles"] if s["tooltip"] == stations.set_index("id").loc[s["id"], "name"]}
    assert sum(c["answering"] for c in whole["clusters"]) + len(alone) == len(answering)
    # closer in, clusters of only closed or unfit stations are grey; one holding an answer keeps its colour
    looks = [c for zoom in (11, 12, 13) for c in drawn(zoom)["clusters"]]
    grey = [c for c in looks if c["answering"] == 0]
    lit = [c for c in looks if c["answering"] > 0]
    assert grey and lit, looks
    assert all(c["muted"] for c in grey) and not any(c["muted"] for c in lit)
    assert {c["background"] for c in grey}.isdisjoint({c["background"] for c in lit})
    clean(dash_duo)


#: Every URL the page fetches, in order, in window.__fetched (put in before the page's own scripts).
KEEP_FETCHES = """
(function () {
  const fetched = window.__fetched = [], plain = window.fetch;
  window.fetch = function (input) {
    fetched.push(typeof input === "string" ? input : input.url);
    return plain.apply(this, arguments);
  };
})();
"""

#: The station layer as drawn: its stations' ids and its clusters (id, count, extent, label, element).
DRAWN_JS = """
    const map = window.__riderMap(), out = {stations: [], clusters: [], zoom: map.getZoom()};
    map.eachLayer(function (l) {
      const p = l.feature && l.feature.properties;
      if (!p || p.kind) { return; }
      if (p.cluster) {
        out.clusters.push({id: l.feature.id, n: p.point_count, bbox: l.feature.bbox,
                           label: l.getElement() ? l.getElement().textContent : null});
      } else if (l instanceof L.CircleMarker) { out.stations.push(p.id); }
    });
    return out;
"""


def _view_requests(dash_duo) -> list[dict]:
    """The page's requests for the stations of its view: their bbox (w, s, e, n) and zoom."""
    from urllib.parse import parse_qs, urlsplit

    out = []
    for url in dash_duo.driver.execute_script("return window.__fetched || []"):
        if urlsplit(url).path == "/api/v1/stations/view":
            q = parse_qs(urlsplit(url).query)
            out.append({"bbox": tuple(float(v) for v in q["bbox"][0].split(",")), "zoom": int(q["zoom"][0]),
                        "query": q})
    return out


def _holds(box, view) -> bool:
    return box[0] <= view["w"] and box[1] <= view["s"] and box[2] >= view["e"] and box[3] >= view["n"]


def test_the_map_loads_only_the_stations_of_its_view_and_again_as_it_moves(dash_duo, dash_app, store):
    stations = store.read("stations")
    here = stations.iloc[len(stations) // 2].geometry
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_FETCHES})
    open_map(dash_duo, dash_app, f"/?lat={here.y:.6f}&lon={here.x:.6f}")
    driver = dash_duo.driver
    driver.execute_script("window.__riderMap().setView([arguments[0], arguments[1]], 15, {animate: false})",
                          here.y, here.x)
    drawn = {}

    def loaded():
        requests = _view_requests(dash_duo)
        drawn.update(driver.execute_script(DRAWN_JS))
        return requests and requests[-1]["zoom"] == 15 and drawn["stations"] and _holds(requests[-1]["bbox"],
                                                                                      _view(dash_duo))

    wait_until(dash_duo, loaded, message=lambda: (_view_requests(dash_duo), drawn))
    fetched = driver.execute_script("return window.__fetched")
    # never the whole catalogue: only the view's stations, asked with the view
    assert not [u for u in fetched if u.split("?")[0] == "/api/v1/stations"], fetched
    last = _view_requests(dash_duo)[-1]
    view, box = _view(dash_duo), last["bbox"]
    # the view and a margin: more than the view, a few times it at most
    assert box[2] - box[0] < 4 * (view["e"] - view["w"]) and box[3] - box[1] < 4 * (view["n"] - view["s"])
    lon, lat = stations.geometry.x, stations.geometry.y
    inside = set(stations.loc[(lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3]), "id"])
    wait_until(dash_duo, lambda: set(driver.execute_script(DRAWN_JS)["stations"]) == inside,
               message=lambda: (len(inside), len(driver.execute_script(DRAWN_JS)["stations"])))
    assert 0 < len(inside) < len(stations), "the city holds stations out of this view, not loaded"
    asked = len(_view_requests(dash_duo))
    # a nudge within the margin asks nothing; ten quick moves out of it ask once they come to rest
    driver.execute_script("window.__riderMap().panBy([60, 40], {animate: false})")
    driver.execute_script("""
        const map = window.__riderMap();
        for (let i = 0; i < 10; i++) { map.panBy([map.getSize().x * 2, 0], {animate: false}); }
    """)
    wait_until(dash_duo, lambda: len(_view_requests(dash_duo)) > asked)
    wait_until(dash_duo, lambda: _holds(_view_requests(dash_duo)[-1]["bbox"], _view(dash_duo)))
    driver.execute_script("return new Promise(r => setTimeout(r, 1500))")  # any late request would be out
    assert len(_view_requests(dash_duo)) == asked + 1, _view_requests(dash_duo)[asked:]
    # elsewhere, and while that is being asked for a nudge within the box it asks for (a call of the map's
    # callback of its own, which asks nothing new): the answer still comes to the map
    far = stations.loc[(lon - here.x).abs().add((lat - here.y).abs()).idxmax()].geometry
    driver.execute_script("""
        const map = window.__riderMap();
        map.setView([arguments[0], arguments[1]], 15, {animate: false});
        window.setTimeout(function () { map.panBy([30, 20], {animate: false}); }, 100);
    """, far.y, far.x)

    def there():
        box = _view_requests(dash_duo)[-1]["bbox"]
        near = set(stations.loc[(lon >= box[0]) & (lon <= box[2]) & (lat >= box[1]) & (lat <= box[3]), "id"])
        return _holds(box, _view(dash_duo)) and near and set(driver.execute_script(DRAWN_JS)["stations"]) == near

    wait_until(dash_duo, there, message=lambda: (_view_requests(dash_duo)[-1], _view(dash_duo)))
    clean(dash_duo)


def test_a_server_cluster_shows_its_count_and_a_tap_zooms_into_its_stations(dash_duo, dash_app, store):
    stations = store.read("stations")
    centre = stations.geometry.y.median(), stations.geometry.x.median()
    open_map(dash_duo, dash_app, f"/?lat={centre[0]:.6f}&lon={centre[1]:.6f}")
    driver = dash_duo.driver
    driver.execute_script("window.__riderMap().setView([arguments[0], arguments[1]], 11, {animate: false})", *centre)
    drawn = {}
    wait_until(dash_duo, lambda: drawn.update(driver.execute_script(DRAWN_JS)) or (
        drawn["clusters"] and all(c["id"].startswith("cluster-11-") for c in drawn["clusters"])), message=lambda: drawn)
    view = _view(dash_duo)
    big = max((c for c in drawn["clusters"] if _inside(view, (c["bbox"][1] + c["bbox"][3]) / 2,
                                                        (c["bbox"][0] + c["bbox"][2]) / 2)), key=lambda c: c["n"])
    assert big["label"] == str(big["n"]) and big["n"] >= 2
    element = driver.execute_script("""
        let el = null;
        window.__riderMap().eachLayer(function (l) { if (l.feature && l.feature.id === arguments[0]) { el = l.getElement(); } });
        return el;
    """.replace("arguments[0]", repr(big["id"])))
    element.click()
    w, s, e, n = big["bbox"]
    wait_until(dash_duo, lambda: (v := _view(dash_duo)) and not v["moving"] and driver.execute_script(
        "return window.__riderMap().getZoom()") > 11 and v["w"] <= w and e <= v["e"] and v["s"] <= s and n <= v["n"],
        message=lambda: (_view(dash_duo), big))
    # its stations are there closer in: alone, or in the smaller clusters of the new zoom
    zoom = driver.execute_script("return window.__riderMap().getZoom()")
    lon, lat = stations.geometry.x, stations.geometry.y
    members = set(stations.loc[(lon >= w) & (lon <= e) & (lat >= s) & (lat <= n), "id"])

    def shown():
        d = driver.execute_script(DRAWN_JS)
        if any(not c["id"].startswith(f"cluster-{zoom}-") for c in d["clusters"]):
            return False
        inner = [c for c in d["clusters"] if w <= c["bbox"][0] and c["bbox"][2] <= e and s <= c["bbox"][1]
                 and c["bbox"][3] <= n]
        return len(members & set(d["stations"])) + sum(c["n"] for c in inner) >= big["n"]

    wait_until(dash_duo, shown)
    clean(dash_duo)


def _view(dash_duo) -> dict:
    return dash_duo.driver.execute_script("""
        const map = window.__riderMap(), b = map.getBounds();
        return {s: b.getSouth(), w: b.getWest(), n: b.getNorth(), e: b.getEast(), moving: !!map._animatingZoom};
    """)


def _inside(view, lat, lon) -> bool:
    return view["s"] <= lat <= view["n"] and view["w"] <= lon <= view["e"]


def _listed(dash_duo) -> list[tuple[float, float]]:
    """Where the map's numbered pins stand, in the list's order."""
    return dash_duo.driver.execute_script("""
        const out = [];
        window.__riderMap().eachLayer(function (l) {
          const p = l.feature && l.feature.properties;
          if (p && p.kind === "result") { out.push([p.rank, l.getLatLng().lat, l.getLatLng().lng]); }
        });
        return out.sort(function (a, b) { return a[0] - b[0]; }).map(function (r) { return [r[1], r[2]]; });
    """)


def test_the_map_shows_the_rider_and_every_result_when_the_answer_changes(dash_duo, dash_app, store):
    stations = store.read("stations")
    here = stations[stations["opening_hours"] == "Mo-Su 08:00-22:00"].iloc[0].geometry
    # at 03:00 few stations are open: the nearest are kilometres apart, more than a zoom-14 phone map shows
    open_map(dash_duo, dash_app, f"/?lat={here.y:.6f}&lon={here.x:.6f}&at={tomorrow_at('03:00')}")
    names = texts(dash_duo, "#rider-results .result-name")
    assert len(names) >= 2

    def all_shown():
        view, pins = _view(dash_duo), _listed(dash_duo)
        return (not view["moving"] and len(pins) == len(names) and _inside(view, here.y, here.x)
                and all(_inside(view, lat, lon) for lat, lon in pins))

    wait_until(dash_duo, all_shown, message=lambda: (_view(dash_duo), _listed(dash_duo)))
    # a new answer (open now, in the afternoon): the map fits it again, from wherever the rider had moved it
    dash_duo.driver.execute_script("window.__riderMap().setView([arguments[0], arguments[1]], 18, {animate: false})",
                                   here.y + 0.02, here.x + 0.02)
    assert not all_shown()
    before = texts(dash_duo, "#rider-results .result-name")
    dash_duo.find_element("#rider-open-now input").click()
    wait_until(dash_duo, lambda: texts(dash_duo, "#rider-results .result-name") != before)
    names = texts(dash_duo, "#rider-results .result-name")
    assert names
    wait_until(dash_duo, all_shown, message=lambda: (_view(dash_duo), _listed(dash_duo)))
    clean(dash_duo)


def test_the_numbered_pins_stand_above_the_stations_and_their_clusters(dash_duo, dash_app, store):
    stations = store.read("stations")
    here = stations.iloc[0].geometry
    open_map(dash_duo, dash_app, f"/?lat={here.y:.6f}&lon={here.x:.6f}")
    names = texts(dash_duo, "#rider-results .result-name")
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#rider-map .result-pin")) == len(names))
    pins = dash_duo.driver.execute_script("""
        const panes = window.__riderMap().getPanes();
        const z = function (el) { return Number(getComputedStyle(el).zIndex); };
        return Array.from(document.querySelectorAll("#rider-map .result-pin")).map(function (pin) {
          return {rank: pin.textContent, highlight: panes.highlight.contains(pin), z: z(pin.parentElement),
                  markers: z(panes.markerPane), overlay: z(panes.overlayPane)};
        });
    """)
    assert sorted(p["rank"] for p in pins) == [str(i + 1) for i in range(len(names))]
    for pin in pins:
        # in the highlight pane, above the station markers (canvas) and their clusters (marker pane)
        assert pin["highlight"] and pin["z"] > pin["markers"] > pin["overlay"], pin
    # a tap on a pin reaches it, though its pane lets taps through to the stations elsewhere
    assert dash_duo.driver.execute_script("""
        return Array.from(document.querySelectorAll("#rider-map .result-pin")).every(function (pin) {
          const b = pin.getBoundingClientRect(), hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
          return pin.contains(hit);
        });
    """)
    # the rider's own dot is there too, not under the stations' canvas
    assert dash_duo.driver.execute_script("""
        const map = window.__riderMap(); let pane = null;
        map.eachLayer(function (l) { if (l.feature && l.feature.properties.kind === "here") { pane = l.options.pane; } });
        return pane;
    """) == "highlight"
    clean(dash_duo)


@pytest.fixture()
def entry_case(store):
    """A compound with a recorded route from its rider gate and a gate that refuses riders, uniquely named."""
    compounds = store.read("compounds").set_index("id")
    gates = store.read("gates")
    names = compounds["name"].value_counts()
    layers = {n: store.read(n) for n in ENTRY_LAYERS}
    routes = store.read("entry_routes")
    buildings = store.read("buildings").set_index("id")
    mixed = gates.groupby("compound_id")["rider_access"].agg(lambda a: a.any() and not a.all())
    for _, route in routes.iterrows():
        cid = route["compound_id"]
        if not mixed.get(cid, False) or names[compounds.loc[cid, "name"]] != 1:
            continue
        number = buildings.loc[route["building_id"], "number"]
        answer = entry_route(layers, cid, number)
        refused = [g for g in answer["other_gates"] if g["refuses_riders"]]
        if answer["gate"] is not None and refused:
            return compounds.loc[cid, "name"], number, answer["gate"], refused[0]
    raise AssertionError("the demo data has a compound with a rider route and a gate refusing riders")


def _gate_marks(dash_duo):
    return dash_duo.driver.execute_script("""
        const out = {};
        window.__riderMap().eachLayer(function (l) {
          const p = l.feature && l.feature.properties;
          if (!p || !String(p.kind).startsWith("gate")) { return; }
          // a gate drawn on the canvas has no element: it looks like any other point of the layer
          const el = l.getElement && l.getElement();
          const pin = el && (el.querySelector(".gate-pin") || el);
          const tip = l.getTooltip && l.getTooltip();
          out[p.kind] = {text: pin ? pin.textContent : null, background: pin ? getComputedStyle(pin).backgroundColor : null,
                         radius: pin ? getComputedStyle(pin).borderTopLeftRadius : null, tooltip: window.__tip(l),
                         permanent: !!(tip && tip.options.permanent), shown: !!(tip && tip.isOpen && tip.isOpen())};
        });
        return out;
    """)


@pytest.mark.parametrize("lang,enter,refuses", [("zh", "从这里进", "不让骑手进入"), ("en", "Enter here", "no riders")])
def test_the_gate_to_use_and_a_gate_refusing_riders_are_told_apart(dash_duo, dash_app, entry_case, lang, enter,
                                                                    refuses):
    name, number, gate, refused = entry_case
    # the rider stands in front of the compound (the link says where), and asks the way in
    where = gate["geometry"]
    open_map(dash_duo, dash_app, f"/?lat={where.y:.6f}&lon={where.x:.6f}" + ("&lang=en" if lang == "en" else ""))
    dash_duo.find_element("#rider-compound-title").click()
    dash_duo.find_element("#rider-compound-name").send_keys(name)
    dash_duo.find_element("#rider-compound-building").send_keys(str(number))
    dash_duo.find_element("#rider-compound-go").click()
    dash_duo.wait_for_element("#rider-compound-msg .gate-used", timeout=10)
    marks = {}
    wait_until(dash_duo, lambda: marks.update(_gate_marks(dash_duo)) or {"gate_used", "gate_refused"} <= set(marks),
               message=lambda: marks)
    used, bad = marks["gate_used"], marks["gate_refused"]
    assert used["background"] != bad["background"] and used["radius"] != bad["radius"], (used, bad)
    assert used["text"] != bad["text"] and bad["text"] == "✕"
    # the gate to use says so on the map without a tap; the refusing one says it refuses riders
    assert used["permanent"] and used["shown"] and used["tooltip"].startswith(f"{enter} · {gate['name']}")
    assert bad["tooltip"].startswith(f"{refused['name']} · {refuses}")
    # and it is on the map the rider sees once the map has flown to the compound
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-map .gate-used-label").is_displayed())
    assert dash_duo.find_element("#rider-map .gate-used-label").text.startswith(f"{enter} · {gate['name']}")
    clean(dash_duo)


#: The phone's position fix is late: the page's request waits until the test calls window.__fix(lat, lon).
LATE_FIX = """
navigator.geolocation.getCurrentPosition = function (ok) {
  window.__fix = function (lat, lon) { ok({coords: {latitude: lat, longitude: lon, accuracy: 15}}); };
};
"""


def test_a_late_first_position_fix_leaves_the_map_on_the_compound_the_rider_asked_for(dash_duo, dash_app,
                                                                                      entry_case):
    name, number, gate, _ = entry_case
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LATE_FIX})
    open_map(dash_duo, dash_app, "/")
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script("return typeof window.__fix === 'function'"))
    # before the phone has a fix, the rider asks the way into a compound: the map flies there
    dash_duo.find_element("#rider-compound-title").click()
    dash_duo.find_element("#rider-compound-name").send_keys(name)
    dash_duo.find_element("#rider-compound-building").send_keys(str(number))
    dash_duo.find_element("#rider-compound-go").click()
    dash_duo.wait_for_element("#rider-compound-msg .gate-used", timeout=10)
    where = gate["geometry"]
    wait_until(dash_duo, lambda: (v := _view(dash_duo)) and not v["moving"] and _inside(v, where.y, where.x))
    # then the fix arrives, 10 km away: the list follows the rider, the map stays on the compound
    shown = _listed(dash_duo)
    dash_duo.driver.execute_script("window.__fix(arguments[0], arguments[1])", where.y + 0.09, where.x)
    wait_until(dash_duo, lambda: "我的位置" in dash_duo.find_element("#rider-where-text").text)
    wait_until(dash_duo, lambda: _listed(dash_duo) != shown)
    dash_duo.driver.execute_script("return new Promise(r => setTimeout(r, 1500))")  # a flight would be under way
    view = _view(dash_duo)
    assert _inside(view, where.y, where.x), view
    clean(dash_duo)


#: The phone knows where it is at once: the first visit's own request for a position is answered straight away.
QUICK_FIX = """
navigator.geolocation.getCurrentPosition = function (ok) {
  ok({coords: {latitude: %f, longitude: %f, accuracy: 15}});
};
"""


def test_the_first_visit_that_locates_the_rider_draws_the_stations_around_them(dash_duo, dash_app, store):
    # the position comes while the map asks for its first stations; the map then flies to the rider and the
    # results, and the stations of where it comes to rest are drawn (an answer overtaken by a call of the
    # map's callback that asked nothing new was once dropped, leaving the map without stations)
    stations = store.read("stations")
    here = stations.iloc[len(stations) // 3].geometry
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                    {"source": QUICK_FIX % (here.y, here.x)})
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_FETCHES})
    open_map(dash_duo, dash_app, "/")
    wait_until(dash_duo, lambda: "我的位置" in dash_duo.find_element("#rider-where-text").text)
    drawn = {}
    wait_until(dash_duo, lambda: drawn.update(dash_duo.driver.execute_script(DRAWN_JS)) or (
        drawn["stations"] or drawn["clusters"]) and _holds(_view_requests(dash_duo)[-1]["bbox"], _view(dash_duo)),
        message=lambda: (drawn, _view_requests(dash_duo)))
    # asked with the rider's question: clusters count who answers it
    assert _view_requests(dash_duo)[-1]["query"]["at"] == ["now"]
    clean(dash_duo)
