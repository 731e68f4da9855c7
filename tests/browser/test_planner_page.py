"""The planner page in headless Chromium at a 1280 × 900 desk, offline; and its callbacks against hostile input."""
from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layers.services import services_of
from pages.phrasing import pct
from tests.helpers import choose, clean, coverage_csv, texts, wait_until

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


def model_of(dash_app):
    return services_of(dash_app.server).planning.model()


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
    for href in hrefs.values():
        assert client.get(href).status_code == 200, href


# ---------------------------------------------------------------------------------------------
# the planner's own demand and candidate sites

def upload(dash_duo, upload_id: str, path):
    dash_duo.find_element(f"#{upload_id} input[type=file]").send_keys(str(path))


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

    def default_picks():  # the list made again from the default candidates (its request done before the page ends)
        shown = texts(dash_duo, "#planner-sites-list .site-pick")
        return bool(shown) and not any(f"{n}：" in p for n in names for p in shown)

    wait_until(dash_duo, default_picks, timeout=20)
    clean(dash_duo)
