"""The planner page in headless Chromium at a 1280 × 900 desk, offline; and its callbacks against hostile input."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import pytest
from dash import no_update
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.test_rider_browser import choose, clean, wait_until

SCREENSHOT = os.environ.get("NUANXIN_SCREENSHOT_DIR")


def desk(driver):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})


def start(dash_duo, dash_app, path="/planner"):
    desk(dash_duo.driver)
    dash_duo.start_server(dash_app, navigate=False)
    dash_duo.server_url = dash_duo.server.url + path  # straight to the planner (the setter loads the page)
    dash_duo.wait_for_contains_text("#planner-overall-share", "%", timeout=20)
    wait_until(dash_duo, lambda: "at=" in (link_href(dash_duo, "planner-dl-coverage-csv") or ""))


def text(dash_duo, selector: str) -> str:
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : null", selector)


def link_href(dash_duo, element_id: str) -> str | None:
    return dash_duo.driver.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.getAttribute('href') : null", element_id)


def link_query(dash_duo, element_id: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(link_href(dash_duo, element_id)).query).items()}


def plot_types(dash_duo, graph_id: str) -> list[str]:
    return dash_duo.driver.execute_script(
        "const p = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');"
        "return p && p.data ? p.data.map(d => d.type) : []", graph_id)


def pct(share) -> str:
    return f"{share * 100:.1f}%"


def model_of(dash_app):
    return dash_app.server.extensions["nuanxin.planning"].model()


def expected_from_links(dash_duo, dash_app, **extra):
    """The model's answer for the question the page's download links carry."""
    q = link_query(dash_duo, "planner-dl-coverage-csv")
    at = None if q["at"] == "any" else q["at"]
    amenities = tuple(a for a in q.get("amenities", "").split(",") if a)
    return q, model_of(dash_app).coverage(float(q["radius_m"]), amenities, at, q["mode"], int(q["h3_res"]), **extra)


def district_shares_shown(dash_duo) -> dict[str, str]:
    return dash_duo.driver.execute_script("""
        const out = {};
        document.querySelectorAll('#planner-districts-table tbody tr').forEach(tr => {
            const name = tr.querySelector('td[data-dash-column=label]');
            const share = tr.querySelector('td[data-dash-column=share]');
            if (name && share) { out[name.innerText.trim()] = share.innerText.trim(); }
        });
        return out;""")


def test_page_renders_offline_with_map_table_and_week(dash_duo, dash_app):
    start(dash_duo, dash_app)
    assert "演示数据" in text(dash_duo, "#planner-demo")
    assert "© OpenStreetMap contributors (ODbL)" in text(dash_duo, "#planner-attribution")
    # the gap map: our district boundaries (no tiles), hexagons, station dots
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#planner-map canvas').length") >= 2)
    assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "#planner-map .leaflet-tile")
    wait_until(dash_duo, lambda: len(district_shares_shown(dash_duo)) == 20)
    wait_until(dash_duo, lambda: plot_types(dash_duo, "planner-week-graph") == ["heatmap", "heatmap"])
    assert "节假日" in text(dash_duo, "#planner-week-graph")
    legend = text(dash_duo, "#planner-legend")
    assert "未覆盖需求" in legend and "区覆盖率" in legend
    if SCREENSHOT:
        dash_duo.driver.save_screenshot(os.path.join(SCREENSHOT, "planner.png"))
    clean(dash_duo)


def test_changing_the_hour_changes_the_figures_as_the_model_says(dash_duo, dash_app):
    start(dash_duo, dash_app)
    q, noon = expected_from_links(dash_duo, dash_app)
    assert q["at"].endswith("T12:00")
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(noon.overall["share"]), timeout=10)
    choose(dash_duo, "#planner-hour", "03:00")
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv")["at"].endswith("T03:00"))
    q, night = expected_from_links(dash_duo, dash_app)
    assert night.overall["share"] < noon.overall["share"]  # the night gap
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(night.overall["share"]), timeout=10)
    assert text(dash_duo, "#planner-overall-points").startswith(pct(night.overall["point_share"]))
    assert f"{night.open_stations} /" in text(dash_duo, "#planner-overall-stations")
    assert "03:00" in text(dash_duo, "#planner-when") and "1,000 米" in text(dash_duo, "#planner-when")
    expected = {row["name"]: pct(row["share"]) for row in night.districts.to_dict("records")}
    wait_until(dash_duo, lambda: district_shares_shown(dash_duo) == expected,
               message=lambda: f"{district_shares_shown(dash_duo)} != {expected}")
    # any time: every station counts
    dash_duo.find_element("#planner-time-kind input[value='any']").click()
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv")["at"] == "any")
    _, anytime = expected_from_links(dash_duo, dash_app)
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(anytime.overall["share"]), timeout=10)
    clean(dash_duo)


def test_recommendation_lists_picks_with_falling_gains_and_a_bar_chart(dash_duo, dash_app):
    start(dash_duo, dash_app)
    k = dash_duo.find_element("#planner-k")
    k.send_keys(Keys.CONTROL, "a")
    k.send_keys("5")
    dash_duo.find_element("#planner-recommend").click()
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-sites-list .site-pick")) == 5, timeout=20)
    gains = [float(li.get_attribute("data-gain")) for li in dash_duo.find_elements("#planner-sites-list .site-pick")]
    assert all(a >= b for a, b in zip(gains, gains[1:])) and gains[0] > 0
    wait_until(dash_duo, lambda: plot_types(dash_duo, "planner-sites-graph") == ["bar"])
    bars = dash_duo.driver.execute_script(
        "return document.querySelector('#planner-sites-graph .js-plotly-plot').data[0].y")
    assert len(bars) == 5
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-map .site-pin")) == 5)
    assert link_query(dash_duo, "planner-dl-sites-geojson")["k"] == "5"
    # the exact solve on a small district agrees with the greedy or beats it
    dash_duo.find_element("#planner-exact-go").click()
    dash_duo.wait_for_element("#planner-exact-result .exact-table", timeout=60)
    assert "%" in text(dash_duo, "#planner-exact-result .ratio")
    clean(dash_duo)


def test_what_if_a_new_station_raises_coverage_as_the_model_says(dash_duo, dash_app):
    start(dash_duo, dash_app)
    _, before = expected_from_links(dash_duo, dash_app)
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(before.overall["share"]), timeout=10)
    leaflet = dash_duo.find_element("#planner-map")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", leaflet)

    def click_map():
        # a little below and left of the centre: inside Chengdu, in the suburbs (selenium 4.2: from the top left)
        ActionChains(dash_duo.driver).move_to_element_with_offset(
            leaflet, leaflet.size["width"] // 2 - 80, leaflet.size["height"] // 2 + 60).click().perform()

    # looking first: the click shows that hexagon's (or district's) figures and adds nothing
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#planner-map canvas').length") >= 2)
    click_map()
    dash_duo.wait_for_element("#planner-panel .figures", timeout=10)
    assert "需求" in text(dash_duo, "#planner-panel")
    assert not dash_duo.find_elements("#planner-whatif-summary .added-station")
    dash_duo.find_element("#planner-click-mode input[value='whatif']").click()
    click_map()
    dash_duo.wait_for_element("#planner-whatif-summary .added-station", timeout=10)
    lat, lon = map(float, text(dash_duo, "#planner-whatif-summary .added-station").split(":")[1].split(","))
    _, after = expected_from_links(dash_duo, dash_app, extra_stations=[(lon, lat)])
    assert after.overall["share"] >= before.overall["share"]
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(after.overall["share"]), timeout=10)
    assert pct(before.overall["share"]) in text(dash_duo, "#planner-whatif-summary")
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-map .whatif-added")) == 1)
    dash_duo.find_element("#planner-whatif-reset").click()
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(before.overall["share"]), timeout=10)
    clean(dash_duo)


def test_download_links_carry_the_question(dash_duo, dash_app, client):
    start(dash_duo, dash_app)
    dash_duo.find_element("#planner-radius input[value='500']").click()
    choose(dash_duo, "#planner-amenities", "微波炉")
    dash_duo.find_element("#planner-mode input[value='network']").click()
    dash_duo.find_element("#planner-h3-res input[value='9']").click()
    choose(dash_duo, "#planner-map-district", "武侯区")
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv").get("h3_res") == "9")
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-district-map").get("adcode") == "510107")
    paths = {"planner-dl-coverage-csv": "/api/v1/reports/coverage.csv",
             "planner-dl-coverage-xlsx": "/api/v1/reports/coverage.xlsx",
             "planner-dl-gaps-geojson": "/api/v1/reports/gaps.geojson",
             "planner-dl-gaps-gpkg": "/api/v1/reports/gaps.gpkg",
             "planner-dl-sites-geojson": "/api/v1/reports/sites.geojson",
             "planner-dl-district-map": "/api/v1/reports/district_map.html"}
    hrefs = {}
    for element_id, path in paths.items():
        href = link_href(dash_duo, element_id)
        assert urlparse(href).path == path
        q = link_query(dash_duo, element_id)
        assert (q["radius_m"], q["amenities"], q["mode"], q["h3_res"]) == ("500", "microwave", "network", "9")
        assert q["at"].endswith("T12:00")
        hrefs[element_id] = href
    assert link_query(dash_duo, "planner-dl-sites-geojson")["k"] == "5"
    clean(dash_duo)
    routes = {r.rule for r in dash_app.server.url_map.iter_rules()}
    missing = [p for p in paths.values() if p not in routes]
    if missing:
        pytest.xfail(f"report routes not in the app yet: {', '.join(missing)}")
    for href in hrefs.values():
        assert client.get(href).status_code == 200, href


# ---------------------------------------------------------------------------------------------
# the callbacks as any client can call them: hostile values are clipped, filtered or refused

BEIJING = (116.397, 39.909)


@pytest.fixture()
def in_app(dash_app):
    with dash_app.server.test_request_context("/planner"):
        yield


def test_callbacks_validate_what_any_client_sends(dash_app, in_app):
    import callbacks.planner as cb

    query, *_ = cb.read_question("custom", -1, "teleport", ["microwave", "<script>", 7], "week", 99, -5,
                                 "1999-01-01", 42)
    assert query["radius_m"] == 100 and query["mode"] == "straight" and query["h3_res"] == 8
    assert "100 米" in cb.when_text(cb.the_query(query), "zh")
    assert query["amenities"] == ["microwave"]
    assert query["at"].endswith("T12:00")  # an impossible weekday and hour fall back to Wednesday noon
    huge, *_ = cb.read_question("custom", 10 ** 9, "straight", "microwave,unknown", "holiday", 0, 3, "1999-01-01", 9)
    assert huge["radius_m"] == 2000 and huge["amenities"] == ["microwave"] and huge["h3_res"] == 9
    assert huge["at"] is not None  # an unknown holiday falls back to a real one

    model = model_of(dash_app)
    clean_q = cb.the_query({"radius_m": 1000})
    forged = {"radius_m": "1e9", "amenities": ["nope"], "at": "not a time", "mode": "x", "h3_res": "99"}
    assert cb.the_query(forged).coverage_args() == cb.the_query({"radius_m": 2000}).coverage_args()

    # k: clipped to 1 … 100
    _, items, fig, sites = cb.sites_view(10 ** 9, clean_q.model_dump(mode="json"), {"lang": "zh"})
    assert 0 < len(items) <= 100 and len(sites["features"]) == len(items)
    _, items, _, _ = cb.sites_view(-3, clean_q.model_dump(mode="json"), {"lang": "xx"})
    assert len(items) == 1
    assert parse_qs(urlparse(cb.report_links(forged, 10 ** 9, "510107")[4]).query)["k"] == ["100"]

    # what-if: unknown station ids and points outside Chengdu are dropped, not trusted
    plain = cb.coverage_view(clean_q.model_dump(mode="json"), {"added": [], "removed": []}, {"lang": "zh"})
    hostile = {"added": [list(BEIJING), ["x", None], [1e308, 1e308]], "removed": ["st-9999", {"$ne": 1}, None]}
    same = cb.coverage_view(clean_q.model_dump(mode="json"), hostile, {"lang": "zh"})
    assert same[0] == plain[0] == pct(model.coverage(1000).overall["share"]) and same[9] is None
    out = cb.what_if_edit(cb.PLANNER.map, {"latlng": {"lat": BEIJING[1], "lng": BEIJING[0]}}, None, None,
                          "whatif", {"added": [], "removed": []}, {"lang": "zh"})
    assert out[0] is no_update and "成都" in out[1]
    out = cb.what_if_edit(cb.PLANNER.stations, None, {"properties": {"id": "st-9999"}}, None, "whatif",
                          {"added": [], "removed": []}, {"lang": "zh"})
    assert out == (no_update, no_update)
    sid = model.station_ids[0]
    removed = cb.coverage_view(clean_q.model_dump(mode="json"), {"added": [], "removed": [sid]}, {"lang": "zh"})
    assert [f["properties"]["id"] for f in removed[10]["features"]] == [sid] and removed[11] == {"removed": [sid]}
    assert removed[0] == pct(model.coverage(1000, removed_station_ids=[sid]).overall["share"])
    out = cb.what_if_edit(cb.PLANNER.stations, None, {"properties": {"id": sid}}, None, "whatif",
                          {"added": [], "removed": []}, {"lang": "zh"})
    assert out[0] == {"added": [], "removed": [sid]}
    # outside the what-if mode a click changes nothing
    out = cb.what_if_edit(cb.PLANNER.map, {"latlng": {"lat": 30.66, "lng": 104.06}}, None, None, "inspect",
                          {"added": [], "removed": []}, {"lang": "zh"})
    assert out == (no_update, no_update)

    # clicks on the map's features: indexes and codes checked against the model
    assert cb.inspect_view(cb.PLANNER.hexagons, {"properties": {"i": 10 ** 9, "r": 8}}, None,
                           clean_q.model_dump(mode="json"), None, None) is no_update
    assert cb.inspect_view(cb.PLANNER.base_districts, None, {"properties": {"adcode": 110101}},
                           clean_q.model_dump(mode="json"), None, None) is no_update
    # the exact solve: an unknown district and a too-large one are answered with a message
    assert "warning" in str(cb.exact_view("110101", 5, clean_q.model_dump(mode="json"), {"lang": "en"}))
    too_large = str(cb.exact_view(510116, 100, clean_q.model_dump(mode="json"), {"lang": "en"}))
    assert "too-large" in too_large and "greedy" in too_large
