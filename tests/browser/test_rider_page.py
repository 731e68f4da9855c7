"""The rider page in headless Chromium, on a 375 px phone, offline: the whole rider flow as a rider does it."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from layers.rider.catalogue import ENTRY_LAYERS
from layers.rider.entry import entry_route
from mapdata import clock
from mapdata.crs import wgs84_to_gcj02
from mapdata.store import Change
from tests.helpers import choose, clean, texts, url_query, wait_until

TIANFU_SQUARE = (30.6586, 104.0648)


def phone(driver, lat=TIANFU_SQUARE[0], lon=TIANFU_SQUARE[1], geolocation="granted"):
    """A 375 px wide phone whose GPS says (lat, lon), or whose rider said no to location."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 15})
    driver.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": geolocation})


def start(dash_duo, dash_app, path="/", **where):
    phone(dash_duo.driver, **where)
    dash_duo.start_server(dash_app)
    if path != "/":
        dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element("#rider-results .result", timeout=15)


def result_names(dash_duo) -> list[str]:
    return texts(dash_duo, "#rider-results .result-name")


def api_nearest(client, lat, lon, **params):
    body = client.get("/api/v1/stations/nearest", query_string={"lat": lat, "lon": lon, "max_distance_m": 5000,
                                                                "k": 8, **params}).get_json()
    return body["results"]


def test_first_open_locates_the_rider_and_lists_open_stations(dash_duo, dash_app, client):
    start(dash_duo, dash_app, lat=30.6700, lon=104.0800)
    dash_duo.wait_for_contains_text("#rider-where-text", "我的位置", timeout=10)
    wait_until(dash_duo, lambda: url_query(dash_duo.driver).get("lat") == "30.670000")
    expected = [r["name"] for r in api_nearest(client, 30.67, 104.08)]
    wait_until(dash_duo, lambda: result_names(dash_duo) == expected)
    first = dash_duo.find_element("#rider-results .result")
    assert "营业中" in first.text or "分钟后关门" in first.text
    assert "演示数据" in dash_duo.find_element("#rider-demo").text
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    clean(dash_duo)


def test_denied_location_says_so_and_falls_back_to_the_map_centre(dash_duo, dash_app):
    start(dash_duo, dash_app, geolocation="denied")
    dash_duo.wait_for_contains_text("#rider-locate-msg", "定位权限被拒绝", timeout=10)
    assert "地图中心" in dash_duo.find_element("#rider-where-text").text
    assert dash_duo.find_elements("#rider-results .result")
    clean(dash_duo)


def test_amenities_tap_search_card_and_navigation(dash_duo, dash_app, client, store):
    start(dash_duo, dash_app)
    # tap the map near its lower left corner (away from the markers in the middle), before choosing amenities:
    # the map then fits their rarer answer, farther out, and a corner tap would land kilometres away
    dash_duo.wait_for_contains_text("#rider-where-text", "我的位置", timeout=10)
    leaflet = dash_duo.find_element("#rider-map")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView()", leaflet)
    # selenium 4.2 measures the offset from the element's top left corner
    ActionChains(dash_duo.driver).move_to_element_with_offset(leaflet, 60, leaflet.size["height"] - 70).click().perform()
    dash_duo.wait_for_contains_text("#rider-where-text", "地图上选的点", timeout=10)
    for label in ("微波炉", "法律咨询"):
        chip = [c for c in dash_duo.find_elements("#rider-chips .chip") if c.text == label][0]
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({inline: 'center'})", chip)
        chip.click()
    wait_until(dash_duo, lambda: url_query(dash_duo.driver).get("a") == "microwave,legal_counselling")
    q = url_query(dash_duo.driver)
    expected = api_nearest(client, float(q["lat"]), float(q["lon"]), amenities="microwave,legal_counselling")
    assert expected, "the demo data has stations with both amenities near the centre"
    wait_until(dash_duo, lambda: result_names(dash_duo) == [r["name"] for r in expected])
    for item in dash_duo.find_elements("#rider-results .result"):
        icons = {i.get_attribute("alt") for i in item.find_elements(By.CSS_SELECTOR, ".amenity-icon")}
        assert {"微波炉", "法律咨询"} <= icons

    # search by part of a name: the best hit is a station, whose card opens over the list
    box = dash_duo.find_element("#rider-search")
    box.send_keys("春熙")
    box.send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#rider-where-text", "春熙", timeout=10)
    q = url_query(dash_duo.driver)
    expected = api_nearest(client, float(q["lat"]), float(q["lon"]), amenities="microwave,legal_counselling")
    wait_until(dash_duo, lambda: result_names(dash_duo) == [r["name"] for r in expected])
    wait_until(dash_duo, lambda: "春熙" in dash_duo.find_element("#rider-card .card-title").text)
    dash_duo.find_element("#rider-card-close").click()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())

    # open the first station's card
    dash_duo.find_element("#rider-results .result").click()
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", expected[0]["name"], timeout=10)
    card = dash_duo.find_element("#rider-card")
    assert card.is_displayed()
    station = store.read("stations").set_index("id").loc[expected[0]["id"]]
    assert station["address"] in card.text
    today = dash_duo.find_element("#rider-card .week tr.today")
    assert "今天" in today.text
    if station["phone"]:
        assert dash_duo.find_element("#rider-card a.call").get_attribute("href") == f"tel:{station['phone']}"

    # the navigation links carry GCJ-02 coordinates, said to be GCJ-02
    glon, glat = wgs84_to_gcj02(station.geometry.x, station.geometry.y)
    amap = urlparse(dash_duo.find_element("#rider-card a.nav-amap").get_attribute("href"))
    aq = {k: v[0] for k, v in parse_qs(amap.query).items()}
    assert amap.netloc == "uri.amap.com" and aq["coordinate"] == "gaode"
    alon, alat = map(float, aq["position"].split(","))
    assert abs(alon - glon) < 2e-6 and abs(alat - glat) < 2e-6
    baidu = urlparse(dash_duo.find_element("#rider-card a.nav-baidu").get_attribute("href"))
    bq = {k: v[0] for k, v in parse_qs(baidu.query).items()}
    assert bq["coord_type"] == "gcj02"
    blat, blon = map(float, bq["location"].split(","))
    assert abs(blon - glon) < 2e-6 and abs(blat - glat) < 2e-6
    assert abs(alon - station.geometry.x) > 1e-3  # really shifted: GCJ-02 is hundreds of metres off

    # the share link reopens the page at this station
    share = dash_duo.find_element("#rider-card a.share-link").get_attribute("href")
    assert parse_qs(urlparse(share).query)["s"] == [expected[0]["id"]]
    dash_duo.driver.get(share)
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", expected[0]["name"], timeout=15)
    clean(dash_duo)


def _next_weekday(weekday: int) -> dt.date:
    today = clock.today()
    day = today + dt.timedelta(days=(weekday - today.weekday()) % 7 or 7)
    from layers.common.calendar import DayKind, day_kind

    while day_kind(day) != DayKind.WORKDAY:
        day += dt.timedelta(days=7)
    return day


def test_open_at_shows_a_station_closing_at_night(dash_duo, dash_app, store):
    stations = store.read("stations")
    late = stations[(stations["opening_hours"] == "Mo-Su 08:00-22:00") & (stations["status"] == "open")].iloc[0]
    lat, lon = late.geometry.y, late.geometry.x
    day = _next_weekday(2)
    start(dash_duo, dash_app, path=f"/?lat={lat:.6f}&lon={lon:.6f}&at={day.isoformat()}T21:45")
    first = dash_duo.find_element("#rider-results .result")
    assert late["name"] in first.text
    wait_until(dash_duo, lambda: "15 分钟后关门" in texts(dash_duo, "#rider-results .result")[0])
    assert dash_duo.find_element("#rider-open-now input").is_selected() is False

    choose(dash_duo, "#rider-open-time", "22:30")
    wait_until(dash_duo, lambda: late["name"] not in result_names(dash_duo))
    wait_until(dash_duo, lambda: url_query(dash_duo.driver).get("at") == f"{day.isoformat()}T22:30",
               message=lambda: dash_duo.driver.current_url)
    # and back to "open now": the planned time is cleared
    dash_duo.find_element("#rider-open-now input").click()
    wait_until(dash_duo, lambda: "at" not in url_query(dash_duo.driver))
    assert dash_duo.find_element("#rider-open-time").text == "几点"
    clean(dash_duo)


def test_compound_entry_shows_gate_route_and_signs(dash_duo, dash_app, store):
    routes = store.read("entry_routes")
    signs = store.read("wayfinding_signs")
    compounds = store.read("compounds").set_index("id")
    buildings = store.read("buildings").set_index("id")
    # a compound reached along OSM paths, whose name is unique
    names = compounds["name"].value_counts()
    pick = routes[(routes["source"] == "osm_path") & routes["compound_id"].map(lambda c: names[compounds.loc[c, "name"]] == 1)]
    route = pick.iloc[0]
    name = compounds.loc[route["compound_id"], "name"]
    number = buildings.loc[route["building_id"], "number"]
    start(dash_duo, dash_app)
    dash_duo.find_element("#rider-compound-title").click()
    dash_duo.find_element("#rider-compound-name").send_keys(name)
    dash_duo.find_element("#rider-compound-building").send_keys(f"{number}栋")
    dash_duo.find_element("#rider-compound-go").click()
    dash_duo.wait_for_contains_text("#rider-compound-msg .gate-used", "骑手入口", timeout=10)
    msg = dash_duo.find_element("#rider-compound-msg").text
    assert f"{route['length_m']:.0f} 米" in msg
    assert name in msg
    own_signs = signs[signs["compound_id"] == route["compound_id"]]
    assert own_signs["kind"].isin(["site_plan", "building_number"]).any()
    along = entry_route({n: store.read(n) for n in ENTRY_LAYERS}, route["compound_id"], number)["signs"]
    assert along and "沿途指示牌" in msg
    assert all(f"「{s['text']}」" in msg for s in along)
    # a compound riders cannot enter: said plainly, its gates shown
    gates = store.read("gates")
    closed = gates.groupby("compound_id")["rider_access"].any()
    blocked = [c for c in closed[~closed].index if names[compounds.loc[c, "name"]] == 1][0]
    field = dash_duo.find_element("#rider-compound-name")
    dash_duo.clear_input(field)
    field.send_keys(compounds.loc[blocked, "name"])
    dash_duo.find_element("#rider-compound-go").click()
    dash_duo.wait_for_contains_text("#rider-compound-msg .no-route", "没有允许骑手进入的门", timeout=10)
    assert dash_duo.find_elements("#rider-compound-msg .gates li")
    clean(dash_duo)


def test_english_switch(dash_duo, dash_app):
    start(dash_duo, dash_app)
    dash_duo.find_element("#rider-lang-btn").click()
    dash_duo.wait_for_text_to_equal("#rider-results-title", "Nearest stations", timeout=10)
    assert "Demonstration data" in dash_duo.find_element("#rider-demo").text
    assert url_query(dash_duo.driver).get("lang") == "en"
    chips = [c.text for c in dash_duo.find_elements("#rider-chips .chip")]
    assert "Microwave" in chips and "Legal counselling" in chips
    clean(dash_duo)


def test_the_map_controls_and_the_page_speak_the_page_s_language(dash_duo, dash_app):
    """On the Chinese page the zoom buttons are 放大 / 缩小 and <html lang> is zh-CN; in English, Zoom in and en."""
    start(dash_duo, dash_app)

    def titles():
        return [dash_duo.find_element(f"#rider-map .leaflet-control-zoom-{b}").get_attribute(a)
                for b in ("in", "out") for a in ("title", "aria-label")]

    wait_until(dash_duo, lambda: titles() == ["放大", "放大", "缩小", "缩小"])
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "zh-CN"
    assert len(dash_duo.find_elements("#rider-map .leaflet-control-zoom")) == 1
    dash_duo.find_element("#rider-lang-btn").click()
    dash_duo.wait_for_text_to_equal("#rider-results-title", "Nearest stations", timeout=10)
    wait_until(dash_duo, lambda: titles() == ["Zoom in", "Zoom in", "Zoom out", "Zoom out"])
    assert dash_duo.driver.execute_script("return document.documentElement.lang") == "en"
    clean(dash_duo)


def test_station_names_and_notes_are_text_not_html(dash_duo, dash_app, app_db):
    from mapdata.store import open_store

    store = open_store(app_db)
    row = store.read("stations").set_index("id").loc["st-0100"]
    evil_name = '<img src=x onerror="window.__xss=1">'
    evil_note = '<script>window.__xss=2</script>微波炉维修中'
    store.apply_changes("stations", [Change("st-0100", {
        "name": evil_name, "status": "closed_temporarily", "status_note": evil_note,
        "status_until": "2026-12-31T18:00:00+08:00"})], user="test:xss")
    try:
        lat, lon = row.geometry.y, row.geometry.x
        start(dash_duo, dash_app, path=f"/?lat={lat:.6f}&lon={lon:.6f}&s=st-0100")
        dash_duo.wait_for_text_to_equal("#rider-card .card-title", evil_name, timeout=15)
        assert evil_note in dash_duo.find_element("#rider-card .temporary").text
        box = dash_duo.find_element("#rider-search")
        box.send_keys("onerror")
        box.send_keys(Keys.ENTER)
        dash_duo.wait_for_contains_text("#rider-where-text", evil_name, timeout=10)
        assert dash_duo.driver.execute_script("return window.__xss") is None
        assert not dash_duo.driver.find_elements(By.CSS_SELECTOR, "img[src='x']")
        with pytest.raises(NoAlertPresentException):
            _ = dash_duo.driver.switch_to.alert.text
    finally:
        store.apply_changes("stations", [Change("st-0100", {
            "name": row["name"], "status": row["status"], "status_note": None,
            "status_until": None})], user="test:xss")


def test_nothing_within_reach_offers_to_widen_or_drop_the_rarest(dash_duo, dash_app, client):
    lat, lon, day = 30.45, 103.85, _next_weekday(2)
    at = f"{day.isoformat()}T12:00"

    def count(amenities, reach):
        return client.get("/api/v1/stations/nearest", query_string={
            "lat": lat, "lon": lon, "amenities": amenities, "at": at, "k": 50,
            "max_distance_m": reach}).get_json()["count"]

    assert count("kitchen,legal_counselling", 5000) == 0
    widen = next((km, n) for km in (10, 20, 50) if (n := count("kitchen,legal_counselling", km * 1000)))
    start_path = f"/?lat={lat}&lon={lon}&a=kitchen,legal_counselling&at={at}"
    phone(dash_duo.driver)
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + start_path)
    dash_duo.wait_for_contains_text("#rider-suggest", "附近没有符合条件的驿站", timeout=15)
    buttons = texts(dash_duo, "#rider-suggest button")
    assert f"扩大到 {widen[0]} 公里（{widen[1]} 个）" in buttons
    assert any(b.startswith("不要求") for b in buttons)
    [b for b in dash_duo.find_elements("#rider-suggest button") if b.text.startswith("扩大到")][0].click()
    wait_until(dash_duo, lambda: len(result_names(dash_duo)) == min(widen[1], 8))
    clean(dash_duo)
