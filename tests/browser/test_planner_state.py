"""The planner page's custom radius, chart axes and the page's state in its URL, in headless Chromium at a desk."""
from __future__ import annotations

import csv
import io
import json
import os
from urllib.parse import parse_qs, urlparse

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from pages.phrasing import pct
from tests.browser.test_planner_page import expected_from_links, link_href, link_query, model_of, start, text
from tests.helpers import choose, clean, texts, wait_until

WUHOU, QINGYANG = "510107", "510105"
SCREENSHOT = os.environ.get("NUANXIN_SCREENSHOT_DIR")


def screenshot(dash_duo, element_id: str, name: str):
    if SCREENSHOT:
        dash_duo.driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", element_id)
        dash_duo.driver.save_screenshot(os.path.join(SCREENSHOT, name))


def radius_box(dash_duo, value: str):
    """Custom radius, then ``value`` typed into its box and Enter, as a planner does."""
    dash_duo.find_element("#planner-radius input[value='custom']").click()
    box = dash_duo.find_element("#planner-radius-custom")
    wait_until(dash_duo, lambda: box.is_enabled())
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(value, Keys.ENTER)


def checked(dash_duo, group_id: str) -> str | None:
    return dash_duo.driver.execute_script(
        "const e = document.querySelector('#' + arguments[0] + ' input:checked'); return e ? e.value : null", group_id)


def shown_value(dash_duo, dropdown_id: str) -> str:
    return text(dash_duo, f"#{dropdown_id} .dash-dropdown-value").strip()


def url_params(dash_duo) -> dict:
    return {k: v if len(v) > 1 else v[0] for k, v in parse_qs(urlparse(dash_duo.driver.current_url).query).items()}


def axis_titles(dash_duo, graph_id: str) -> dict[str, str]:
    """The text of each axis title plotly drew in the chart's SVG (``xtitle``, ``ytitle``, ``x2title`` …)."""
    return dash_duo.driver.execute_script("""
        const out = {};
        document.querySelectorAll('#' + arguments[0] + ' .infolayer .g-xtitle text, #' + arguments[0] +
                                  ' .infolayer .g-ytitle text, #' + arguments[0] + ' .infolayer [class*=title] text')
            .forEach(t => { const c = t.getAttribute('class') || ''; if (/^[xy]\\d*title$/.test(c)) out[c] = t.textContent; });
        return out;""", graph_id)


def add_hypothetical_station(dash_duo):
    """What-if: one station a little below and left of the map's centre (inside Chengdu); its "lat, lon"."""
    dash_duo.find_element("#planner-click-mode input[value='whatif']").click()
    leaflet = dash_duo.find_element("#planner-map")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", leaflet)
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('#planner-map canvas').length") >= 2)
    ActionChains(dash_duo.driver).move_to_element_with_offset(
        leaflet, leaflet.size["width"] // 2 - 80, leaflet.size["height"] // 2 + 60).click().perform()
    dash_duo.wait_for_element("#planner-whatif-summary .added-station", timeout=10)
    return text(dash_duo, "#planner-whatif-summary .added-station").split(":")[1].strip()


def test_a_custom_radius_in_range_is_applied_and_the_caption_says_so(dash_duo, dash_app):
    start(dash_duo, dash_app)
    _, default = expected_from_links(dash_duo, dash_app)
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(default.overall["share"]), timeout=10)
    radius_box(dash_duo, "1234")  # not a multiple of 50: applied as typed
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv")["radius_m"] == "1234")
    _, custom = expected_from_links(dash_duo, dash_app)
    assert custom.overall["share"] > default.overall["share"]
    dash_duo.wait_for_text_to_equal("#planner-overall-share", pct(custom.overall["share"]), timeout=10)
    dash_duo.wait_for_contains_text("#planner-when", "半径 1,234 米", timeout=10)
    assert "按 1,234 米计算" in text(dash_duo, "#planner-radius-msg")
    clean(dash_duo)


def test_a_custom_radius_out_of_range_says_why_and_the_range(dash_duo, dash_app):
    start(dash_duo, dash_app)
    _, default = expected_from_links(dash_duo, dash_app)
    radius_box(dash_duo, "5000")
    dash_duo.wait_for_contains_text("#planner-radius-msg", "半径须在 100–2,000 米之间，仍按 1,000 米计算", timeout=10)
    assert dash_duo.find_element("#planner-radius-custom").get_attribute("value") == "5000"
    assert link_query(dash_duo, "planner-dl-coverage-csv")["radius_m"] == "1000"
    assert "半径 1,000 米" in text(dash_duo, "#planner-when")
    assert text(dash_duo, "#planner-overall-share") == pct(default.overall["share"])
    # an empty box says so too; a value in range clears the message
    radius_box(dash_duo, Keys.BACKSPACE)
    dash_duo.wait_for_contains_text("#planner-radius-msg", "请输入 100–2,000 米的半径，仍按 1,000 米计算", timeout=10)
    radius_box(dash_duo, "800")
    dash_duo.wait_for_contains_text("#planner-when", "半径 800 米", timeout=10)
    assert "须在" not in text(dash_duo, "#planner-radius-msg")
    radius_box(dash_duo, "5000")
    dash_duo.wait_for_contains_text("#planner-radius-msg", "须在", timeout=10)
    screenshot(dash_duo, "planner-controls", "planner-radius-refused.png")
    clean(dash_duo)


def test_charts_have_axis_titles_with_units(dash_duo, dash_app):
    start(dash_duo, dash_app)
    wait_until(dash_duo, lambda: len(axis_titles(dash_duo, "planner-week-graph")) >= 2)
    week = axis_titles(dash_duo, "planner-week-graph")
    assert week["xtitle"] == "时刻（点，0–23）" and week["x2title"] == "时刻（点，0–23）"
    assert week["ytitle"] == "日期"
    screenshot(dash_duo, "planner-week-graph", "planner-week.png")
    assert dash_duo.driver.execute_script(
        "return document.querySelector('#planner-week-graph .colorbar .cbtitle').textContent") == "覆盖率（%）"
    recommend(dash_duo)
    wait_until(dash_duo, lambda: len(axis_titles(dash_duo, "planner-sites-graph")) == 2)
    assert axis_titles(dash_duo, "planner-sites-graph") == {"xtitle": "新站（推荐顺序）", "ytitle": "新增覆盖需求（单/日）"}
    clean(dash_duo)


def recommend(dash_duo):
    dash_duo.find_element("#planner-recommend").click()
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-sites-list .site-pick")) == 5, timeout=20)


def test_no_empty_chart_before_a_recommendation(dash_duo, dash_app):
    start(dash_duo, dash_app)
    wait_until(dash_duo, lambda: "%" in (text(dash_duo, "#planner-week-graph") or ""))
    # before a recommendation: a sentence, not an empty chart
    assert not dash_duo.find_elements("#planner-sites-graph")
    assert not dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('.sites-section .js-plotly-plot')].some(e => e.offsetParent)")
    assert "点“推荐”后" in text(dash_duo, "#planner-sites-chart")
    recommend(dash_duo)
    wait_until(dash_duo, lambda: dash_duo.find_elements("#planner-sites-graph .js-plotly-plot"))
    assert "点“推荐”后" not in text(dash_duo, "#planner-sites-chart")
    # the plot takes its place's size: as wide as its column, as high as it was given, over nothing else
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "const s = document.querySelector('#planner-sites-graph .main-svg');"
        "return s && s.getBoundingClientRect().width > 300"))
    box = dash_duo.driver.execute_script("""
        const s = document.querySelector('#planner-sites-graph .main-svg').getBoundingClientRect();
        const list = document.getElementById('planner-sites-list').getBoundingClientRect();
        return {right: s.right, height: s.height, listLeft: list.left};""")
    assert box["right"] <= box["listLeft"] and box["height"] <= 281, box
    screenshot(dash_duo, "planner-sites-msg", "planner-sites.png")
    clean(dash_duo)


def sites_shown(dash_duo) -> list[tuple[str, str]]:
    """(text, coordinates) of each pick in the list."""
    return [tuple(x) for x in dash_duo.driver.execute_script(
        "return [...document.querySelectorAll('#planner-sites-list .site-pick')].map(li =>"
        " [li.querySelector('.site-text').innerText, li.querySelector('.site-coords').innerText])")]


def test_each_recommended_site_shows_its_name_and_coordinates_to_copy(dash_duo, dash_app, client):
    start(dash_duo, dash_app)
    recommend(dash_duo)
    sites = client.get(link_href(dash_duo, "planner-dl-sites-geojson"))
    assert sites.status_code == 200
    features = json.loads(sites.get_data(as_text=True))["features"]
    shown = sites_shown(dash_duo)
    assert len(shown) == len(features) == 5
    for (line, coords), f in zip(shown, features):
        p = f["properties"]
        assert line.startswith(f"{p['rank']}. {p['name']}：+"), (line, p)  # the site's name, as the report has it
        lon, lat = f["geometry"]["coordinates"]
        assert coords == f"{lat:.6f}, {lon:.6f}"
    # the sites' table has the same sites, names and coordinates, in the page's language
    table = client.get(link_href(dash_duo, "planner-dl-sites-csv"))
    assert table.status_code == 200, table.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(table.get_data(as_text=True).lstrip("\ufeff"))))
    assert len(rows) == 1 + len(shown)
    body = "\n".join(",".join(r) for r in rows[1:])
    for (_line, coords), f in zip(shown, features):
        assert f["properties"]["name"] in body
        lat, lon = coords.split(", ")
        assert lat in body and lon in body
    # the coordinates are plain text one selection takes whole
    box = dash_duo.find_element("#planner-sites-list .site-pick .site-coords")
    assert box.value_of_css_property("user-select") == "all"
    clean(dash_duo)


def set_controls(dash_duo):
    """A view worth sending a colleague: every control away from its default, and a hypothetical station."""
    radius_box(dash_duo, "1234")
    dash_duo.find_element("#planner-time-kind input[value='holiday']").click()
    choose(dash_duo, "#planner-hour", "03:00")
    choose(dash_duo, "#planner-amenities", "微波炉")
    dash_duo.find_element("#planner-h3-res input[value='9']").click()
    dash_duo.find_element("#planner-week-view input[value='diff']").click()
    k = dash_duo.find_element("#planner-k")
    k.send_keys(Keys.CONTROL, "a")
    k.send_keys("7")
    choose(dash_duo, "#planner-exact-district", "武侯区")
    choose(dash_duo, "#planner-map-district", "青羊区")
    return add_hypothetical_station(dash_duo)


def controls_shown(dash_duo) -> dict:
    return {
        "radius": checked(dash_duo, "planner-radius"),
        "custom": dash_duo.find_element("#planner-radius-custom").get_attribute("value"),
        "time": checked(dash_duo, "planner-time-kind"), "hour": shown_value(dash_duo, "planner-hour"),
        "amenities": shown_value(dash_duo, "planner-amenities"), "res": checked(dash_duo, "planner-h3-res"),
        "week": checked(dash_duo, "planner-week-view"), "k": dash_duo.find_element("#planner-k").get_attribute("value"),
        "exact": shown_value(dash_duo, "planner-exact-district"), "map": shown_value(dash_duo, "planner-map-district"),
    }


EXPECTED = {"radius": "custom", "custom": "1234", "time": "holiday", "hour": "03:00", "res": "9", "week": "diff",
            "k": "7"}


def test_the_url_carries_the_view_and_reopening_it_restores_the_controls(dash_duo, dash_app):
    start(dash_duo, dash_app)
    added = set_controls(dash_duo)
    wait_until(dash_duo, lambda: url_params(dash_duo).get("added") is not None and url_params(dash_duo).get("d") == QINGYANG)
    q = url_params(dash_duo)
    lat, lon = (float(v) for v in added.split(","))
    assert {k: q.get(k) for k in ("r", "t", "h", "a", "res", "wv", "k", "xd", "d")} == {
        "r": "1234", "t": "holiday", "h": "3", "a": "microwave", "res": "9", "wv": "diff", "k": "7", "xd": WUHOU,
        "d": QINGYANG}
    assert q["added"] == f"{lon:.6f},{lat:.6f}"
    assert "mode" not in q and "lang" not in q  # controls at their default stay out
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv")["h3_res"] == "9")
    share = text(dash_duo, "#planner-overall-share")
    question = link_query(dash_duo, "planner-dl-coverage-csv")
    assert question["radius_m"] == "1234" and question["at"].endswith("T03:00")
    shown = controls_shown(dash_duo)
    url = dash_duo.driver.current_url

    # a colleague opens the link
    dash_duo.driver.get("about:blank")
    dash_duo.driver.get(url)
    dash_duo.wait_for_contains_text("#planner-overall-share", "%", timeout=20)
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv") == question,
               message=lambda: f"{link_query(dash_duo, 'planner-dl-coverage-csv')} != {question}")
    dash_duo.wait_for_contains_text("#planner-whatif-summary .added-station", added, timeout=10)
    dash_duo.wait_for_text_to_equal("#planner-overall-share", share, timeout=10)
    assert controls_shown(dash_duo) == shown
    assert {k: shown[k] for k in EXPECTED} == EXPECTED
    assert shown["amenities"] == "微波炉" and shown["exact"] == "武侯区" and shown["map"] == "青羊区"
    assert link_query(dash_duo, "planner-dl-sites-geojson")["k"] == "7"
    assert link_query(dash_duo, "planner-dl-district-map")["adcode"] == QINGYANG
    assert "1,234 米" in text(dash_duo, "#planner-when")
    clean(dash_duo)


def test_the_language_switch_keeps_the_controls(dash_duo, dash_app):
    start(dash_duo, dash_app)
    added = set_controls(dash_duo)
    wait_until(dash_duo, lambda: "d=" + QINGYANG in (link_href(dash_duo, "planner-lang-btn") or ""))
    wait_until(dash_duo, lambda: "added=" in (link_href(dash_duo, "planner-lang-btn") or ""))
    question = {**link_query(dash_duo, "planner-dl-coverage-csv"), "lang": "en"}  # the reports' headings follow
    dash_duo.find_element("#planner-lang-btn").click()
    dash_duo.wait_for_text_to_equal("#planner-title", "Warm-station coverage planner", timeout=20)
    assert url_params(dash_duo)["lang"] == "en"
    dash_duo.wait_for_contains_text("#planner-overall-share", "%", timeout=20)
    wait_until(dash_duo, lambda: link_query(dash_duo, "planner-dl-coverage-csv") == question,
               message=lambda: f"{link_query(dash_duo, 'planner-dl-coverage-csv')} != {question}")
    dash_duo.wait_for_contains_text("#planner-whatif-summary .added-station", added, timeout=10)
    shown = controls_shown(dash_duo)
    assert {k: shown[k] for k in EXPECTED} == EXPECTED
    assert shown["amenities"] == "Microwave" and shown["exact"] == "Wuhou" and shown["map"] == "Qingyang"
    assert "Reach 1,234 m" in text(dash_duo, "#planner-when")
    # and back: the switch's link carries the same view in Chinese
    back = parse_qs(urlparse(link_href(dash_duo, "planner-lang-btn")).query)
    assert back["lang"] == ["zh"] and back["r"] == ["1234"] and back["k"] == ["7"] and back["d"] == [QINGYANG]
    clean(dash_duo)


def test_bad_values_in_the_url_fall_back_to_their_defaults_and_good_ones_are_kept(dash_duo, dash_app):
    station = str(model_of(dash_app).station_ids[0])
    start(dash_duo, dash_app, "/planner?r=1234&k=abc&t=nope&h=3&res=12&wd=9&hol=2020-01-01&d=1&xd=%3Cb%3E"
                              "&added=nan,30;116.4,39.9;x;104.0,30.6&removed=nope," + station +
                              "&wv=0&a=microwave,%3Cscript%3E&mode=fly&lang=fr")
    question = link_query(dash_duo, "planner-dl-coverage-csv")
    assert question["radius_m"] == "1234"  # good: kept
    assert question["h3_res"] == "8" and question["mode"] == "straight" and question["amenities"] == "microwave"
    assert question["at"].endswith("T03:00")  # the hour is good; the time kind falls back to an ordinary week
    assert checked(dash_duo, "planner-time-kind") == "week" and shown_value(dash_duo, "planner-weekday") == "周三"
    assert dash_duo.find_element("#planner-k").get_attribute("value") == "5"
    assert checked(dash_duo, "planner-week-view") == "side"
    assert shown_value(dash_duo, "planner-map-district") == shown_value(dash_duo, "planner-exact-district")
    # of the what-if, NaN, Beijing and a word are dropped, the point in Chengdu and the known station kept
    dash_duo.wait_for_element("#planner-whatif-summary .added-station", timeout=10)
    assert texts(dash_duo, "#planner-whatif-summary .added-station") == ["假设新站 1: 30.600000, 104.000000"]
    assert len(texts(dash_duo, "#planner-whatif-summary .removed-station")) == 1
    # and the URL now says what the page shows: the checked values, the defaults left out
    wait_until(dash_duo, lambda: url_params(dash_duo) == {
        "r": "1234", "h": "3", "a": "microwave", "added": "104.000000,30.600000", "removed": station},
        message=lambda: str(url_params(dash_duo)))
    assert text(dash_duo, "#planner-title") == "暖新驿站覆盖规划"
    clean(dash_duo)


def test_a_link_that_cannot_hold_every_removed_station_says_so(dash_duo, dash_app):
    ids = [str(s) for s in model_of(dash_app).station_ids[:101]]
    start(dash_duo, dash_app, "/planner?k=7&removed=" + ",".join(ids))
    wait_until(dash_duo, lambda: len(texts(dash_duo, "#planner-whatif-summary .removed-station")) == 101)
    dash_duo.wait_for_contains_text("#planner-url-note", "最多 100 个移除的驿站", timeout=10)
    wait_until(dash_duo, lambda: url_params(dash_duo) == {"k": "7"}, message=lambda: str(url_params(dash_duo)))
    # one station back: the link holds them all again
    ids.pop()
    dash_duo.driver.get(dash_duo.server.url + "/planner?k=7&removed=" + ",".join(ids))
    wait_until(dash_duo, lambda: len(texts(dash_duo, "#planner-whatif-summary .removed-station")) == 100)
    wait_until(dash_duo, lambda: url_params(dash_duo).get("removed") == ",".join(sorted(ids)))
    assert not text(dash_duo, "#planner-url-note")
    clean(dash_duo)


def test_a_number_of_new_stations_out_of_range_says_what_was_recommended(dash_duo, dash_app):
    start(dash_duo, dash_app)
    k = dash_duo.find_element("#planner-k")
    k.send_keys(Keys.CONTROL, "a")
    k.send_keys("0", Keys.ENTER)
    dash_duo.wait_for_contains_text("#planner-sites-msg", "新站数量须为 1–100 的整数，按 1 个推荐", timeout=20)
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-sites-list .site-pick")) == 1)
    assert link_query(dash_duo, "planner-dl-sites-geojson")["k"] == "1"
    k.send_keys(Keys.CONTROL, "a")
    k.send_keys("3", Keys.ENTER)
    wait_until(dash_duo, lambda: len(dash_duo.find_elements("#planner-sites-list .site-pick")) == 3, timeout=20)
    assert "须为" not in text(dash_duo, "#planner-sites-msg")
    clean(dash_duo)


def test_the_downloads_carry_the_what_if_and_the_page_language(dash_duo, dash_app, client):
    start(dash_duo, dash_app)
    lat, lon = (float(v) for v in add_hypothetical_station(dash_duo).split(","))
    wait_until(dash_duo, lambda: "added" in link_query(dash_duo, "planner-dl-coverage-csv"))
    share = text(dash_duo, "#planner-overall-share")
    for element_id in ("planner-dl-coverage-csv", "planner-dl-coverage-xlsx", "planner-dl-gaps-geojson",
                       "planner-dl-gaps-gpkg", "planner-dl-sites-geojson", "planner-dl-district-map"):
        q = link_query(dash_duo, element_id)
        assert (q["added"], q["lang"]) == (f"{lon:.6f},{lat:.6f}", "zh"), element_id
        assert client.get(link_href(dash_duo, element_id)).status_code == 200, element_id
    # the table describes what the page shows: the what-if's city-wide share, headings in Chinese
    rows = client.get(link_href(dash_duo, "planner-dl-coverage-csv")).get_data(as_text=True).lstrip("\ufeff")
    lines = [line.split(",") for line in rows.splitlines()]
    head = lines[0]
    assert "假设变化（个百分点）" in head and "覆盖率" in head
    total = next(line for line in lines if "成都市合计" in line)
    assert pct(float(total[head.index("覆盖率")])) == share
    clean(dash_duo)
