"""The rider page as a new user meets it on a 375 × 740 phone: the answer in the first screen, targets a
thumb can hit, a search that shows the station, Back and Escape that close the card, and what a screen
reader hears."""
from __future__ import annotations

from selenium.webdriver.common.keys import Keys

from tests.browser.test_rider_page import api_nearest, result_names
from tests.helpers import clean, texts, url_query, wait_until

#: 春熙路, in the middle of the demo's stations.
CHUNXI = (30.6571, 104.0806)
#: Controls smaller than this in either direction are missed by a thumb (WCAG 2.5.5, Apple's and Android's guides).
MIN_TARGET = 44


def small_phone(driver, lat=CHUNXI[0], lon=CHUNXI[1]):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 740, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 15})
    driver.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted"})


def start(dash_duo, dash_app, path="/"):
    small_phone(dash_duo.driver)
    dash_duo.start_server(dash_app)
    if path != "/":
        dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element("#rider-results .result", timeout=15)


def rect(dash_duo, selector):
    return dash_duo.driver.execute_script(
        "const r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height};", selector)


#: Every control a rider can tap, as the rider sees it: a hidden checkbox's target is its label, a
#: Dash dropdown's its visible box (its focus input is invisible), Leaflet's controls their links.
TARGETS_JS = """
const seen = [];
const visible = e => { const s = getComputedStyle(e); const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.opacity !== '0' && !e.closest('[hidden]'); };
document.querySelectorAll('button, a[href], summary, textarea, select, input, .chip, .leaflet-control a').forEach(e => {
  if (e.matches('.chip-input, .dash-dropdown-focus-target, .dash-options-list-option-checkbox')) return;
  if (e.closest('.leaflet-control-attribution, footer, .dash-dropdown-content')) return;  // text links in credits
  if (!visible(e)) return;
  const r = e.getBoundingClientRect();
  seen.push({what: (e.id || e.className || e.tagName).toString().slice(0, 50), text: (e.innerText || '').slice(0, 20),
             w: Math.round(r.width), h: Math.round(r.height)});
});
document.querySelectorAll('.dash-options-list-option').forEach(label => {
  if (!visible(label)) return;
  const r = label.getBoundingClientRect();
  seen.push({what: 'label ' + label.className.slice(0, 40), text: label.innerText.slice(0, 20),
             w: Math.round(r.width), h: Math.round(r.height)});
});
return seen;
"""


def small_targets(dash_duo) -> list[dict]:
    return [c for c in dash_duo.driver.execute_script(TARGETS_JS) if c["w"] < MIN_TARGET or c["h"] < MIN_TARGET]


def test_the_nearest_two_stations_and_the_map_are_in_the_first_screen(dash_duo, dash_app):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    rows = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#rider-results .result')).slice(0, 2)"
        ".map(e => e.getBoundingClientRect().bottom)")
    assert len(rows) == 2 and rows[1] <= 740, f"first two rows end at {rows}, the screen at 740"
    first = dash_duo.find_element("#rider-results .result")
    # what the row says without a tap: name, distance, riding time, open status
    assert first.find_element("css selector", ".result-name").text
    assert first.find_element("css selector", ".distance").text
    assert first.find_element("css selector", ".eta").text
    assert first.find_element("css selector", ".status").text
    map_box = rect(dash_duo, "#rider-map")
    assert map_box["top"] < 400 and map_box["height"] >= 200, map_box
    # the planned-time pickers are folded away until asked for
    assert not dash_duo.find_element("#rider-open-day").is_displayed()
    toggle = dash_duo.find_element("#rider-planned-summary")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-open-day").is_displayed())
    assert toggle.get_attribute("aria-expanded") == "true"
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    clean(dash_duo)


def test_every_control_is_at_least_44_px(dash_duo, dash_app):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    dash_duo.find_element("#rider-planned-summary").click()  # the day and time pickers too
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-open-day").is_displayed())
    dash_duo.find_element("#rider-compound-title").click()  # and the compound form
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-compound-name").is_displayed())
    assert len(dash_duo.driver.execute_script(TARGETS_JS)) > 20  # the probe sees the page's controls
    assert small_targets(dash_duo) == []
    # the station card's buttons and links as well
    dash_duo.find_element("#rider-results .result").click()
    dash_duo.wait_for_element("#rider-card .nav-amap", timeout=10)
    assert small_targets(dash_duo) == []
    clean(dash_duo)


def test_searching_a_station_by_name_opens_its_card_and_lists_it_first(dash_duo, dash_app, client):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    box = dash_duo.find_element("#rider-search")
    box.send_keys("吾悦")
    box.send_keys(Keys.ENTER)
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", "吾悦广场骑手驿站", timeout=15)
    assert dash_duo.find_element("#rider-card").is_displayed()
    wait_until(dash_duo, lambda: result_names(dash_duo)[:1] == ["吾悦广场骑手驿站"],
               message=lambda: str(result_names(dash_duo)))
    q = url_query(dash_duo.driver)
    assert q.get("s") and [r["name"] for r in api_nearest(client, float(q["lat"]), float(q["lon"]))][0] == "吾悦广场骑手驿站"
    clean(dash_duo)


def test_the_other_places_a_search_found_are_buttons(dash_duo, dash_app):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    box = dash_duo.find_element("#rider-search")
    box.send_keys("驿站")
    box.send_keys(Keys.ENTER)
    dash_duo.wait_for_element("#rider-search-msg .search-alts button", timeout=15)
    buttons = dash_duo.driver.find_elements("css selector", "#rider-search-msg .search-alts button")
    assert len(buttons) >= 2
    names = [b.text for b in buttons]
    assert len(set(names)) == len(names) and all(names)  # each one a button of its own, not one run of text
    # the best hit's card covers the list on a phone: Back closes it, then the rider picks another
    dash_duo.wait_for_element("#rider-card .card-title", timeout=10)
    dash_duo.driver.back()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())
    target = names[1]
    dash_duo.driver.find_elements("css selector", "#rider-search-msg .search-alts button")[1].click()
    dash_duo.wait_for_contains_text("#rider-where-text", target, timeout=10)
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", target, timeout=10)
    clean(dash_duo)


def test_back_and_escape_close_the_card_and_focus_moves_into_it(dash_duo, dash_app):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    driver = dash_duo.driver
    dash_duo.wait_for_element("#rider-results .result")
    wait_until(dash_duo, lambda: "lat" in url_query(driver))
    page_url = driver.current_url
    name = dash_duo.find_element("#rider-results .result .result-name").text
    dash_duo.find_element("#rider-results .result").click()
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", name, timeout=10)
    # focus is in the card, and the card is named by its station (what a screen reader announces)
    wait_until(dash_duo, lambda: driver.execute_script(
        "return document.getElementById('rider-card').contains(document.activeElement)"))
    card = dash_duo.find_element("#rider-card")
    assert card.get_attribute("role") == "dialog"
    label_id = card.get_attribute("aria-labelledby")
    assert driver.execute_script("return document.getElementById(arguments[0]).innerText", label_id) == name
    wait_until(dash_duo, lambda: url_query(driver).get("s"))

    # Back closes the card and stays on the page, with the list as it was
    driver.back()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())
    wait_until(dash_duo, lambda: "s" not in url_query(driver))
    assert driver.current_url.split("?")[0] == page_url.split("?")[0]
    assert result_names(dash_duo)[0] == name

    # Escape closes it too, and the × leaves no Back entry behind
    dash_duo.find_element("#rider-results .result").click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-card").is_displayed())
    driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())
    dash_duo.find_element("#rider-results .result").click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-card").is_displayed())
    dash_duo.find_element("#rider-card-close").click()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())
    length = driver.execute_script("return history.length")
    wait_until(dash_duo, lambda: driver.execute_script("return history.state") in (None, {}))
    assert driver.execute_script("return history.length") == length
    clean(dash_duo)


def test_a_card_from_a_link_closes_on_back(dash_duo, dash_app, store):
    station = store.read("stations").iloc[0]
    start(dash_duo, dash_app, f"/?s={station['id']}&lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", station["name"], timeout=10)
    dash_duo.driver.back()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())
    assert dash_duo.find_elements("#rider-results .result")
    clean(dash_duo)


def test_a_screen_reader_hears_the_results_as_a_list_of_sentences(dash_duo, dash_app, client):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    results = dash_duo.find_element("#rider-results")
    assert results.tag_name == "ol" and results.get_attribute("role") == "list"
    assert dash_duo.driver.execute_script(
        "return document.getElementById(arguments[0]).innerText", results.get_attribute("aria-labelledby")) == "最近的驿站"
    expected = api_nearest(client, *CHUNXI)
    labels = [b.get_attribute("aria-label") for b in dash_duo.find_elements("#rider-results li > button.result")]
    assert len(labels) == len(expected)
    first = labels[0]
    assert first.startswith(f"第 1 个：{expected[0]['name']}，")
    status = texts(dash_duo, "#rider-results .result .status")[0]
    assert status and first.endswith(status)
    assert "米" in first or "公里" in first
    clean(dash_duo)


def test_a_reload_names_the_riders_own_position_not_the_link(dash_duo, dash_app):
    start(dash_duo, dash_app)
    dash_duo.wait_for_contains_text("#rider-where-text", "我的位置", timeout=10)
    wait_until(dash_duo, lambda: url_query(dash_duo.driver).get("lat") == f"{CHUNXI[0]:.6f}")
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#rider-results .result", timeout=15)
    dash_duo.wait_for_contains_text("#rider-where-text", "上次的位置", timeout=10)
    assert "链接中的位置" not in dash_duo.find_element("#rider-where-text").text

    # a searched place keeps its name over a reload
    box = dash_duo.find_element("#rider-search")
    box.send_keys("春熙路")
    box.send_keys(Keys.ENTER)
    dash_duo.wait_for_contains_text("#rider-where-text", "春熙路", timeout=10)
    searched = dash_duo.find_element("#rider-where-text").text.split(" (")[0]
    wait_until(dash_duo, lambda: url_query(dash_duo.driver).get("lat") != f"{CHUNXI[0]:.6f}")
    dash_duo.driver.refresh()
    dash_duo.wait_for_element("#rider-results .result", timeout=15)
    dash_duo.wait_for_contains_text("#rider-where-text", searched, timeout=10)
    clean(dash_duo)


def test_the_day_picker_shows_whole_day_names(dash_duo, dash_app):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}&at=2026-12-03T12:00")
    value = dash_duo.find_element("#rider-open-day .dash-dropdown-value")
    assert "明天" in value.text and "12/3" in value.text
    assert dash_duo.driver.execute_script(
        "const e = arguments[0]; return e.scrollWidth <= e.clientWidth + 1", value), "the day's name is cut"
    clean(dash_duo)


def test_back_closes_the_report_form_then_the_card(dash_duo, dash_app):
    start(dash_duo, dash_app, f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    dash_duo.find_element("#rider-results .result").click()
    dash_duo.wait_for_element("#rider-card .report-open", timeout=10).click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#rreport-panel").is_displayed())
    dash_duo.driver.back()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rreport-panel").is_displayed())
    assert dash_duo.find_element("#rider-card").is_displayed()
    dash_duo.driver.back()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-card").is_displayed())
    assert dash_duo.find_elements("#rider-results .result")
    clean(dash_duo)


def test_on_a_desk_the_list_is_beside_the_map(dash_duo, dash_app):
    dash_duo.driver.set_window_size(1440, 900)
    dash_duo.start_server(dash_app)
    dash_duo.driver.get(dash_duo.server_url + f"/?lat={CHUNXI[0]}&lon={CHUNXI[1]}")
    dash_duo.wait_for_element("#rider-results .result", timeout=15)
    inner = dash_duo.driver.execute_script("return window.innerHeight")
    first, map_box = rect(dash_duo, "#rider-results .result"), rect(dash_duo, "#rider-map")
    assert first["bottom"] <= inner and first["left"] >= map_box["right"]
    clean(dash_duo)
