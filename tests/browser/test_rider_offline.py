"""The rider page with no signal, in headless Chromium on a 375 px phone: the service worker keeps the shell,
the page keeps its last answer, and with the network gone a reload shows the last nearest stations marked
离线 · 更新于 HH:MM, open or closed worked out on the phone from the kept intervals; and the app installs."""
from __future__ import annotations

import datetime as dt
import io
import json
import socket

from PIL import Image

from layers.services import services_of
from mapdata.clock import TZ
from pages.i18n import t
from pages.phrasing import status_text, when
from tests.helpers import TEST_NOW, clean, texts, wait_until

HERE = (30.6700, 104.0800)
KEY = "nuanxin.lastAnswer"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def phone(driver, lat=HERE[0], lon=HERE[1]):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": lat, "longitude": lon, "accuracy": 15})


def phone_clock(driver, moment: dt.datetime, previous: str | None = None) -> str:
    """From the next page on, the phone's clock reads ``moment`` (Chengdu time) when the page opens, and runs on."""
    if previous is not None:
        driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": previous})
    ms = int(moment.replace(tzinfo=TZ).timestamp() * 1000)
    source = ("(() => { const Real = Date; const shift = %d - Real.now();"
              " class PhoneDate extends Real { constructor(...a) { if (a.length) { super(...a); }"
              " else { super(Real.now() + shift); } } static now() { return Real.now() + shift; } }"
              " window.Date = PhoneDate; })();" % ms)
    return driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})["identifier"]


def server_statuses(dash_app, ids, moment: dt.datetime, lang="zh") -> list[str]:
    """What the server says of each station at ``moment``: the oracle for the phone's offline reading."""
    catalogue = services_of(dash_app.server).stations
    states = catalogue.states([catalogue.position(i) for i in ids], moment.replace(tzinfo=TZ))
    return [status_text(s, lang) for s in states]


def kept(driver) -> dict | None:
    return json.loads(driver.execute_script("return window.localStorage.getItem(arguments[0])", KEY) or "null")


def phone_network(driver, on: bool):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": not on, "latency": 0,
                                                                "downloadThroughput": -1, "uploadThroughput": -1})


def go_offline(dash_duo):
    """No signal: the phone's network is off and the server is gone."""
    phone_network(dash_duo.driver, False)
    dash_duo.server.stop()


def first_visit(dash_duo, dash_app, client, query="", lang="zh"):
    """The page opened once with a signal, at a position from the link: (the result ids, their names, statuses)."""
    driver = dash_duo.driver
    phone(driver)
    clock_script = phone_clock(driver, TEST_NOW)
    dash_duo.start_server(dash_app, port=free_port(), navigate=False)
    url = f"{dash_duo.server.url}/?lat={HERE[0]}&lon={HERE[1]}{query}"
    driver.get(url)
    dash_duo.wait_for_element("#rider-results .result", timeout=20)
    body = client.get("/api/v1/stations/nearest", query_string={"lat": HERE[0], "lon": HERE[1], "k": 8,
                                                               "max_distance_m": 5000}).get_json()
    ids, names = [r["id"] for r in body["results"]], [r["name"] for r in body["results"]]
    statuses = server_statuses(dash_app, ids, TEST_NOW, lang)
    # read in one go: the list may be drawn again under our feet
    wait_until(dash_duo, lambda: [texts(dash_duo, "#rider-results .result-name"),
                                  texts(dash_duo, "#rider-results .status")] == [names, statuses],
               message=lambda: f"the page shows {texts(dash_duo, '#rider-results .result')}")
    wait_until(dash_duo, lambda: driver.execute_script("return !!navigator.serviceWorker.controller"), timeout=30,
               message=lambda: "the service worker never took the page")
    wait_until(dash_duo, lambda: (kept(driver) or {}).get("rows") and
               [r["name"] for r in kept(driver)["rows"]] == names, timeout=20,
               message=lambda: f"the answer was not kept: {kept(driver)}")
    return url, ids, names, statuses, clock_script


def test_with_no_signal_the_last_stations_open_with_their_hours_read_on_the_phone(dash_duo, dash_app, client, store):
    url, ids, names, statuses, clock_script = first_visit(dash_duo, dash_app, client)
    answer = kept(dash_duo.driver)
    assert [r["id"] for r in answer["rows"]] == ids and [s["id"] for s in answer["stations"]] == ids
    clean(dash_duo)

    go_offline(dash_duo)
    driver = dash_duo.driver
    driver.get(url)
    badge = dash_duo.wait_for_element("#rider-offline-badge", timeout=20)
    assert badge.text == f"离线 · 更新于 {TEST_NOW:%H:%M}"
    assert texts(dash_duo, "#rider-offline-results .result-name") == names
    # the phone reads the same open or closed, and the same closing time, as the page said with a signal
    assert texts(dash_duo, "#rider-offline-results .status") == statuses

    # a card opened offline: the station's hours for the next days, open or closed now
    rows = store.read("stations").set_index("id")
    dash_duo.find_element("#rider-offline-results .result").click()
    card = dash_duo.find_element("#rider-offline-card")
    wait_until(dash_duo, card.is_displayed)
    assert dash_duo.find_element("#rider-offline-card .card-title").text == names[0]
    assert dash_duo.find_element("#rider-offline-card .status").text == statuses[0]
    assert rows.loc[ids[0], "address"] in card.text
    assert "今天" in dash_duo.find_element("#rider-offline-card .week tr.today").text
    assert len(dash_duo.find_elements("#rider-offline-card .week tr")) == 7
    assert driver.execute_script("return document.activeElement.id") == "rider-offline-card"
    dash_duo.find_element("#rider-offline-card .card-close").click()
    wait_until(dash_duo, lambda: not card.is_displayed())
    assert driver.execute_script("return document.activeElement.id") == f"rider-offline-row-{ids[0]}"
    # Back closes a card opened offline and stays on the page
    dash_duo.find_elements("#rider-offline-results .result")[1].click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-offline-card .card-title").text == names[1])
    driver.back()
    wait_until(dash_duo, lambda: not dash_duo.find_element("#rider-offline-card").is_displayed())
    assert dash_duo.find_element("#rider-offline-badge").is_displayed()
    assert dash_duo.get_logs() == []  # with no network the page fails nothing: Dash's requests find no update

    # later, still underground: the phone's clock moves on and the same kept hours say otherwise
    seen = set()
    for moment in (TEST_NOW.replace(hour=23, minute=30), TEST_NOW.replace(hour=21, minute=45),
                   TEST_NOW + dt.timedelta(days=1, hours=-7, minutes=-10)):
        clock_script = phone_clock(driver, moment, clock_script)
        driver.get(url)
        dash_duo.wait_for_element("#rider-offline-badge", timeout=20)
        expected = server_statuses(dash_app, ids, moment)
        assert texts(dash_duo, "#rider-offline-results .status") == expected, moment
        seen.update(expected)
    assert not seen <= set(statuses), "the demo stations near here change after 15:00"
    assert any("分钟后关门" in s for s in seen), "one closes at 22:00: 15 分钟后关门 at 21:45"
    dash_duo.find_element("#rider-offline-results .result").click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#rider-offline-card .status").text == expected[0])
    assert dash_duo.find_element("#rider-offline-badge").text == f"离线 · 更新于 12月2日 {TEST_NOW:%H:%M}"
    assert dash_duo.get_logs() == []

    # past the kept days the phone does not guess: it says how far the kept hours reach
    moment = TEST_NOW + dt.timedelta(days=8)
    phone_clock(driver, moment, clock_script)
    driver.get(url)
    dash_duo.wait_for_element("#rider-offline-badge", timeout=20)
    reach = t("offline.beyond", "zh", when=when((TEST_NOW + dt.timedelta(days=7)).replace(tzinfo=TZ),
                                              moment.replace(tzinfo=TZ), "zh"))
    assert texts(dash_duo, "#rider-offline-results .status") == [reach] * len(ids)


def test_the_signal_lost_on_the_open_page_shows_the_kept_answer_until_it_comes_back(dash_duo, dash_app, client):
    url, ids, names, statuses, _ = first_visit(dash_duo, dash_app, client)
    driver = dash_duo.driver
    phone_network(driver, False)
    dash_duo.wait_for_element("#rider-offline-badge", timeout=20)
    assert texts(dash_duo, "#rider-offline-results .result-name") == names
    assert texts(dash_duo, "#rider-offline-results .status") == statuses
    phone_network(driver, True)
    wait_until(dash_duo, lambda: not driver.find_elements("css selector", "#rider-offline"))
    assert texts(dash_duo, "#rider-results .result-name") == names
    clean(dash_duo)


def test_offline_in_english_says_so_in_english(dash_duo, dash_app, client):
    url, ids, names, statuses, _ = first_visit(dash_duo, dash_app, client, query="&lang=en", lang="en")
    go_offline(dash_duo)
    dash_duo.driver.get(url)
    badge = dash_duo.wait_for_element("#rider-offline-badge", timeout=20)
    assert badge.text == f"Offline · updated {TEST_NOW:%H:%M}"
    assert texts(dash_duo, "#rider-offline-results .status") == statuses
    assert dash_duo.find_element(".offline-retry").text == "Try again"


def test_the_app_installs_from_its_manifest_with_icons_that_load(dash_duo, dash_app, client):
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = json.loads(manifest.get_data(as_text=True))
    assert body["start_url"] == "/" and body["display"] == "standalone" and body["name"].startswith("暖新地图")
    sizes = set()
    for icon in body["icons"]:
        r = client.get(icon["src"])
        assert r.status_code == 200 and r.mimetype == "image/png"
        image = Image.open(io.BytesIO(r.data))
        assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(image.width)
    assert {192, 512} <= sizes

    phone(dash_duo.driver)
    dash_duo.start_server(dash_app, port=free_port())
    dash_duo.wait_for_element("#rider-results .result", timeout=20)
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script("return !!navigator.serviceWorker.controller"),
               timeout=30)
    # Chromium's own reading of the page's manifest: it parses and makes the page installable
    got = dash_duo.driver.execute_cdp_cmd("Page.getAppManifest", {})
    assert got["url"].endswith("/manifest.webmanifest") and got["errors"] == []
    installability = dash_duo.driver.execute_cdp_cmd("Page.getInstallabilityErrors", {})
    assert installability["installabilityErrors"] == []
    clean(dash_duo)
