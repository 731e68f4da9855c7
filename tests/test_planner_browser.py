"""The planner page in headless Chromium at a 1280 × 900 desk, offline; and its callbacks against hostile input."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import numpy as np
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


# ---------------------------------------------------------------------------------------------
# the planner's own demand and candidate sites

def upload(dash_duo, upload_id: str, path):
    dash_duo.find_element(f"#{upload_id} input[type=file]").send_keys(str(path))


def coverage_csv(lon, lat, weight) -> str:
    return "lon,lat,weight\n" + "".join(f"{x:.8f},{y:.8f},{w:g}\n" for x, y, w in zip(lon, lat, weight))


def api_coverage(client, body: str, q: dict, crs: str) -> dict:
    params = {k: v for k, v in q.items() if k in ("radius_m", "amenities", "at", "mode", "h3_res")}
    r = client.post("/api/v1/coverage", data=body.encode(), content_type="text/csv", query_string={**params, "crs": crs})
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_uploaded_demand_replaces_the_stored_one_and_bad_files_change_nothing(dash_duo, dash_app, client, tmp_path):
    from mapdata.crs import wgs84_to_gcj02

    start(dash_duo, dash_app)
    q, stored = expected_from_links(dash_duo, dash_app)
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(stored.overall["share"]), timeout=10)
    n_stored = len(model_of(dash_app).lon)
    dash_duo.wait_for_contains_text("#planner-demand-label", f"演示需求 {n_stored:,} 点", timeout=10)
    # 400 orders in the suburbs' and the centre's places, as Amap exports them (GCJ-02), heavier in the east
    model = model_of(dash_app)
    pick = np.linspace(0, len(model.lon) - 1, 400).astype(int)
    glon, glat = wgs84_to_gcj02(model.lon[pick], model.lat[pick])
    weight = np.where(model.lon[pick] > 104.1, 3.0, 1.0)
    body = coverage_csv(glon, glat, weight)
    orders = tmp_path / "orders.csv"
    orders.write_text(body)
    dash_duo.find_element("#planner-demand-crs input[value='gcj02']").click()
    upload(dash_duo, "planner-demand-upload", orders)
    dash_duo.wait_for_contains_text("#planner-demand-label", "上传：orders.csv，400 点", timeout=20)
    assert "GCJ-02" in text(dash_duo, "#planner-demand-label")
    expected = api_coverage(client, body, q, "gcj02")["overall"]
    assert expected["share"] != pytest.approx(stored.overall["share"])
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(expected["share"]), timeout=10)
    assert text(dash_duo, "#planner-overall-points").startswith(pct(expected["point_share"]))
    # the downloads describe the uploaded demand
    wait_until(dash_duo, lambda: "demand" in link_query(dash_duo, "planner-dl-coverage-csv"))
    assert "orders.csv" in text(dash_duo, "#planner-downloads-note")
    token = link_query(dash_duo, "planner-dl-coverage-csv")["demand"]
    report = client.get(link_href(dash_duo, "planner-dl-coverage-csv"))
    assert report.status_code == 200
    assert client.get(link_href(dash_duo, "planner-dl-coverage-csv").replace(token, "forged")).status_code == 404

    # a file with bad rows: listed by row number, and the page keeps the uploaded demand's figures
    lines = body.splitlines()
    lines[2] = "abc,30.66,1"         # data row 2
    lines[4] = "116.397,39.909,1"    # data row 4: Beijing
    lines[7] = f"{glon[6]:.6f},{glat[6]:.6f},-2"  # data row 7: a negative weight
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    upload(dash_duo, "planner-demand-upload", bad)
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-demand-errors .upload-problem")) == 3,
               timeout=20)
    rows = dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#planner-demand-errors .problem-row')].map(e => e.innerText)")
    assert rows == ["2", "4", "7"]
    assert "bad.csv" in text(dash_duo, "#planner-demand-msg") and "3 of 400 rows" in text(dash_duo, "#planner-demand-msg")
    assert "orders.csv" in text(dash_duo, "#planner-demand-label")
    assert text(dash_duo, "#planner-overall-share") == pct(expected["share"])
    assert link_query(dash_duo, "planner-dl-coverage-csv")["demand"] == token
    if SCREENSHOT:
        dash_duo.driver.execute_script("document.getElementById('planner-overall').scrollIntoView()")
        dash_duo.driver.save_screenshot(os.path.join(SCREENSHOT, "planner-upload.png"))

    # back to the stored demand
    dash_duo.find_element("#planner-demand-reset").click()
    dash_duo.wait_for_contains_text("#planner-demand-label", f"演示需求 {n_stored:,} 点", timeout=10)
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(stored.overall["share"]), timeout=10)
    wait_until(dash_duo, lambda: "demand" not in link_query(dash_duo, "planner-dl-coverage-csv"))
    assert not dash_duo.find_elements("#planner-demand-errors .upload-problem")
    clean(dash_duo)


def test_uploaded_candidate_sites_replace_the_default_ones(dash_duo, dash_app, tmp_path):
    start(dash_duo, dash_app)
    dash_duo.wait_for_contains_text("#planner-cands-label", "默认", timeout=10)
    sites = tmp_path / "sites.csv"
    names = [f"候选{i}" for i in range(12)]
    grid = [(104.0648 + dx, 30.6586 + dy) for dx in (-0.06, -0.02, 0.02, 0.06) for dy in (-0.04, 0.0, 0.04)]
    sites.write_text("lon,lat,name\n" + "".join(f"{x},{y},{n}\n" for (x, y), n in zip(grid, names)))
    bad = tmp_path / "bad-sites.csv"
    bad.write_text("lon,lat,name\n104.06,30.66,a\n116.397,39.909,Beijing\n")
    upload(dash_duo, "planner-cands-upload", bad)
    wait_until(dash_duo, lambda: text(dash_duo, "#planner-cands-errors .problem-row") == "2", timeout=20)
    assert "默认" in text(dash_duo, "#planner-cands-label")
    upload(dash_duo, "planner-cands-upload", sites)
    dash_duo.wait_for_contains_text("#planner-cands-label", "sites.csv，12 个", timeout=20)
    assert not dash_duo.find_elements("#planner-cands-errors .upload-problem")
    dash_duo.find_element("#planner-recommend").click()
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-sites-list .site-pick")) > 0, timeout=20)
    picks = [li.text for li in dash_duo.find_elements("#planner-sites-list .site-pick")]
    assert all(any(f"{n}：" in p for n in names) for p in picks), picks
    assert "candidates" in link_query(dash_duo, "planner-dl-sites-geojson")
    dash_duo.find_element("#planner-cands-reset").click()
    dash_duo.wait_for_contains_text("#planner-cands-label", "默认", timeout=10)
    wait_until(dash_duo, lambda: "candidates" not in link_query(dash_duo, "planner-dl-sites-geojson"))
    clean(dash_duo)


def data_url(body: str, mime: str = "text/csv") -> str:
    import base64

    return f"data:{mime};base64," + base64.b64encode(body.encode()).decode()


def test_upload_callbacks_validate_what_any_client_sends(dash_app, in_app, client):
    import callbacks.planner as cb

    ctx = dash_app.server.extensions["nuanxin.planning"]
    model = model_of(dash_app)
    body = coverage_csv(model.lon[:50], model.lat[:50], np.ones(50))
    zh = {"lang": "zh"}
    # forged files: not a data URL, not base64, an unknown extension; a forged CRS is read as WGS-84
    for contents, filename in ((body, "a.csv"), ("data:text/csv;base64,@@@", "a.csv"), (data_url(body), "a.exe"),
                               (data_url(body), None), ({"$ne": 1}, "a.csv")):
        store, msg, errors, cleared = cb.demand_upload_view(cb.PLANNER.demand_upload, contents, filename, "wgs84", zh)
        assert store is no_update and "upload-refused" in str(msg) and cleared is None
    store, msg, errors, _ = cb.demand_upload_view(cb.PLANNER.demand_upload, data_url(body), "<b>x</b>.csv",
                                                  "utm48n", zh)
    assert store["rows"] == 50 and store["crs"] == "wgs84" and errors is None
    assert ctx.model_for_token(store["token"]).total_demand == 50
    # the figures follow the token, not what the client says about it
    q = cb.the_query({"radius_m": 1000}).model_dump(mode="json")
    forged = {**store, "rows": 10 ** 9, "name": "forged", "crs": "evil"}
    out = cb.coverage_view(q, None, zh, forged)
    assert out[0] == pct(ctx.model_for_token(store["token"]).coverage(1000).overall["share"])
    assert "50 点" in str(out[-1]) and "forged" not in str(out[-1])
    # an unknown token: the stored demand, said so
    for token in ("nope", None, 7, "x" * 10_000, {"$ne": 1}):
        out = cb.coverage_view(q, None, zh, {"token": token})
        assert out[0] == pct(model.coverage(1000).overall["share"])
    assert "演示需求" in str(out[-1]) and "不在服务器上" in str(out[-1])
    assert "demand" not in parse_qs(urlparse(cb.report_links(q, 5, None, {"token": "nope"})[0]).query)
    # reset goes back to the stored demand
    assert cb.demand_upload_view(cb.PLANNER.demand_reset, data_url(body), "a.csv", "wgs84", zh)[0] is None
    # candidate sites: an unknown token is the default set, with a warning
    msg, items, _, _ = cb.sites_view(2, q, zh, None, {"token": "nope"})
    assert "warning" in str(msg) and len(items) == 2
    assert cb.candidates_upload_view(cb.PLANNER.cands_upload, "junk", "s.csv", "wgs84", None, zh)[0] is no_update


def test_upload_cache_keeps_the_last_few_and_reports_take_the_token(dash_app, client):
    from layers.planning.demand import parse_demand_upload
    from layers.planning.context import MAX_UPLOADS, RecentUploads, Upload

    recent = RecentUploads(2)
    a, b = recent.add(Upload("a", {})), recent.add(Upload("b", {}))
    assert recent.get(a).value == "a"  # used: b is now the oldest
    c = recent.add(Upload("c", {}))
    assert recent.get(b) is None and recent.get(a).value == "a" and recent.get(c).value == "c" and len(recent) == 2
    assert len({a, b, c}) == 3 and all(len(x) >= 20 for x in (a, b, c))

    ctx = dash_app.server.extensions["nuanxin.planning"]
    model = model_of(dash_app)
    points = parse_demand_upload(coverage_csv(model.lon[:30], model.lat[:30], np.full(30, 2.0)).encode(), "text/csv",
                                 "wgs84", ctx.outline())
    tokens = [ctx.add_upload(points, f"{i}.csv") for i in range(MAX_UPLOADS + 1)]
    assert ctx.model_for_token(tokens[0]) is None
    assert all(ctx.model_for_token(t) is not None for t in tokens[1:])
    assert ctx.upload(tokens[-1]).summary == {"name": f"{MAX_UPLOADS}.csv", "rows": 30, "weight": 60.0,
                                              "crs": "wgs84"}
    from exports.reports import coverage_table_csv

    r = client.get("/api/v1/reports/coverage.csv", query_string={"demand": tokens[-1], "at": "any"})
    assert r.status_code == 200
    assert r.data == coverage_table_csv(ctx.model_for_token(tokens[-1]).coverage(500))
    assert r.data != client.get("/api/v1/reports/coverage.csv", query_string={"at": "any"}).data
    for params in ({"demand": tokens[0]}, {"demand": "x" * 20}, {"candidates": "nope", "k": 2}):
        r = client.get("/api/v1/reports/coverage.csv", query_string=params)
        assert r.status_code in (400, 404) and r.get_json()["error"]["field"] in ("demand", "candidates")
    r = client.get("/api/v1/reports/coverage.csv", query_string={"demand": tokens[0]})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
