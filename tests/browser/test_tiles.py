"""The rider map's base in headless Chromium: tiles that do not load give way to our own base map, and our own base
map says where its roads end. Offline: the tile servers are a closed port and a tiny server on this machine."""
from __future__ import annotations

import base64
import http.server
import math
import socket
import threading

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from mapdata.crs import wgs84_to_gcj02
from tests.helpers import clean, external_requests, wait_until

PANE_DRAWN = """
const pane = document.querySelector('.leaflet-road-extent-pane');
if (!pane || getComputedStyle(pane).display === 'none') { return 0; }
const canvas = pane.querySelector('canvas');
if (!canvas || !canvas.width) { return 0; }
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let drawn = 0;
for (let i = 3; i < data.length; i += 4) { if (data[i] > 0) { drawn += 1; } }
return drawn;
"""


@pytest.fixture()
def dead_port():
    """A port on this machine that refuses connections (bound, never listening), as an unreachable tile host."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


#: A 1 x 1 opaque PNG: every tile the working tile server sends.
TILE_PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")


@pytest.fixture()
def tile_server():
    """A tile server on this machine that answers every tile."""
    class Tiles(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the handler's name is http.server's)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(TILE_PNG)))
            self.end_headers()
            self.wfile.write(TILE_PNG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    finally:
        server.shutdown()
        server.server_close()


def auto_tiles(dash_app, app_db, url):
    """The session's app configured with NUANXIN_TILES=auto on the tile server at ``url``, as a context."""
    import contextlib

    import app as app_module
    from layers.services import EXTENSION
    from mapdata.config import Settings

    @contextlib.contextmanager
    def swapped():
        saved = dash_app.server.extensions[EXTENSION]
        dash_app.server.extensions[EXTENSION] = app_module.create_services(
            Settings(db_path=app_db, secret_key="test", tile_source="auto", tile_url=url))
        try:
            yield dash_app
        finally:
            dash_app.server.extensions[EXTENSION] = saved
    return swapped()


@pytest.fixture()
def dead_tiles_app(dash_app, app_db, dead_port):
    """The session's app configured with NUANXIN_TILES=auto on a tile server that cannot be reached."""
    with auto_tiles(dash_app, app_db, f"http://127.0.0.1:{dead_port}/{{z}}/{{x}}/{{y}}.png") as app:
        yield app


@pytest.fixture()
def working_tiles_app(dash_app, app_db, tile_server):
    with auto_tiles(dash_app, app_db, tile_server) as app:
        yield app


def at_tianfu_square(driver):
    """The phone's GPS answers (no location provider is asked over the network)."""
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 30.6586, "longitude": 104.0648,
                                                                "accuracy": 15})
    driver.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted"})


def open_rider_page(dash_duo, dash_app, path="/"):
    at_tianfu_square(dash_duo.driver)
    dash_duo.start_server(dash_app)
    if path != "/":
        dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element("#rider-map .leaflet-overlay-pane", timeout=15)


def shown(dash_duo, selector) -> list[str]:
    return dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).filter(e => e.offsetParent !== null)"
        ".map(e => e.innerText)", selector)


def test_tiles_that_do_not_load_give_way_to_our_own_base_map(dash_duo, dead_tiles_app, dead_port):
    open_rider_page(dash_duo, dead_tiles_app)
    wait_until(dash_duo, lambda: shown(dash_duo, ".tiles-failed-note") == ["地图底图加载失败，已改用离线底图"],
               timeout=20, message=lambda: f"notes shown: {shown(dash_duo, '.base-note')}")
    driver = dash_duo.driver
    # the tile layer is gone, with its attribution; our districts and roads are drawn instead
    assert driver.find_elements("css selector", "#rider-map .base-tiles") == []
    assert "高德" not in dash_duo.find_element("#rider-map .leaflet-control-attribution").text
    loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert any("/api/v1/layers/roads" in name for name in loaded)
    assert any("/api/v1/layers/districts" in name for name in loaded)
    # and the own base map says where its roads end
    assert shown(dash_duo, ".road-extent-note") == ["此范围外没有道路底图"]
    wait_until(dash_duo, lambda: driver.execute_script(PANE_DRAWN) > 0,
               message=lambda: "the road extent is not drawn")
    # the tiles were asked for, from the configured (dead) server only; nothing left the machine
    logs = [entry["message"] for entry in dash_duo.get_logs()]
    assert logs and [m for m in logs if f"127.0.0.1:{dead_port}/" not in m] == []
    assert external_requests(driver) == []


def test_tiles_that_fail_are_not_tried_again_after_a_pan(dash_duo, dead_tiles_app, dead_port):
    open_rider_page(dash_duo, dead_tiles_app)
    wait_until(dash_duo, lambda: shown(dash_duo, ".tiles-failed-note"), timeout=20)
    driver = dash_duo.driver
    dash_duo.get_logs()  # the failures so far
    map_box = dash_duo.find_element("#rider-map")
    ActionChains(driver).move_to_element(map_box).click_and_hold().move_by_offset(-200, 80).release().perform()
    dash_duo.find_element("#rider-map .leaflet-control-zoom-in").click()
    assert shown(dash_duo, ".tiles-failed-note")
    assert [e for e in dash_duo.get_logs() if f"127.0.0.1:{dead_port}/" in e["message"]] == []


def test_tiles_that_load_stay_and_our_base_map_says_nothing_about_its_roads(dash_duo, working_tiles_app):
    open_rider_page(dash_duo, working_tiles_app)
    driver = dash_duo.driver
    wait_until(dash_duo, lambda: len(driver.find_elements("css selector", "#rider-map .base-tiles .leaflet-tile-loaded")) > 4)
    assert "高德地图" in dash_duo.find_element("#rider-map .leaflet-control-attribution").text
    # the notes and the extent of our roads are for our own base map only: the tiles have roads everywhere
    assert shown(dash_duo, ".base-note") == []
    assert driver.execute_script(PANE_DRAWN) == 0
    clean(dash_duo)


HERE_MARKER = """
const canvas = document.querySelector('.leaflet-highlight-pane canvas');
if (!canvas || !canvas.width) { return null; }
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let n = 0, sx = 0, sy = 0;
for (let i = 0; i < data.length; i += 4) {  // the marker's fill, #1d4ed8
  if (data[i] === 0x1d && data[i + 1] === 0x4e && data[i + 2] === 0xd8 && data[i + 3] === 255) {
    const k = i / 4; n += 1; sx += k % canvas.width; sy += Math.floor(k / canvas.width);
  }
}
if (n < 20) { return null; }
const box = canvas.getBoundingClientRect(), scale = canvas.width / box.width;
return [box.left + sx / n / scale, box.top + sy / n / scale];
"""
TILE_UNDER = """
const x = arguments[0], y = arguments[1];
const tile = Array.from(document.querySelectorAll('#rider-map img.leaflet-tile-loaded')).find(e => {
  const b = e.getBoundingClientRect(); return b.left <= x && x < b.right && b.top <= y && y < b.bottom;
});
if (!tile) { return null; }
const box = tile.getBoundingClientRect();
return [tile.src, (x - box.left) / box.width, (y - box.top) / box.height];
"""
TAP = """
const x = arguments[0], y = arguments[1], target = document.elementFromPoint(x, y);
for (const type of ['mousedown', 'mouseup', 'click']) {
  target.dispatchEvent(new MouseEvent(type, {clientX: x, clientY: y, bubbles: true, cancelable: true, button: 0}));
}
"""


def tile_xy(lon, lat, z) -> tuple[float, float]:
    """Web Mercator tile coordinates (fractional) of a point at zoom ``z``."""
    n = 2 ** z
    rad = math.radians(lat)
    return (lon + 180) / 360 * n, (1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n


def test_on_gcj02_tiles_a_tap_on_the_riders_marker_is_the_riders_wgs84_position(dash_duo, working_tiles_app):
    """Amap's tiles are GCJ-02 (300-600 m from WGS-84 in Chengdu): the map projects through GCJ-02, so what is drawn
    over a tile and what a tap there answers are both the WGS-84 point."""
    from tests.helpers import url_query

    open_rider_page(dash_duo, working_tiles_app)
    driver = dash_duo.driver
    wait_until(dash_duo, lambda: url_query(driver).get("lat") == "30.658600")
    marker = wait_until(dash_duo, lambda: driver.execute_script(HERE_MARKER), message=lambda: "no rider marker drawn")
    # the marker sits on the tile where the GCJ-02 tiles draw the rider's place
    src, fx, fy = driver.execute_script(TILE_UNDER, *marker)
    z, x, y = (int(v) for v in src.rsplit(".", 1)[0].split("/")[-3:])
    drawn = (x + fx, y + fy)
    on_tiles = tile_xy(*wgs84_to_gcj02(104.0648, 30.6586), z)
    plain = tile_xy(104.0648, 30.6586, z)
    assert max(abs(a - b) for a, b in zip(drawn, on_tiles)) * 256 < 3, (drawn, on_tiles)
    assert max(abs(a - b) for a, b in zip(drawn, plain)) * 256 > 20  # the shift is some 50 tile pixels here
    driver.execute_script(TAP, *marker)
    wait_until(dash_duo, lambda: "地图上选的点" in dash_duo.find_element("#rider-where-text").text)
    where = wait_until(dash_duo, lambda: url_query(driver) if url_query(driver).get("lat") != "30.658600" else None)
    # one screen pixel at zoom 14-16 is 2-10 m; the GCJ-02 shift would be some 50 pixels
    assert abs(float(where["lat"]) - 30.6586) < 1.5e-4 and abs(float(where["lon"]) - 104.0648) < 1.5e-4, where


def test_our_own_base_map_shows_where_its_roads_end(dash_duo, dash_app):
    open_rider_page(dash_duo, dash_app)  # the tests' settings: NUANXIN_TILES=none
    wait_until(dash_duo, lambda: shown(dash_duo, ".road-extent-note") == ["此范围外没有道路底图"])
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script(PANE_DRAWN) > 0,
               message=lambda: "the road extent is not drawn")
    assert shown(dash_duo, ".tiles-failed-note") == []  # no tiles were configured: nothing failed
    clean(dash_duo)


def test_the_road_extent_note_in_english(dash_duo, dash_app):
    open_rider_page(dash_duo, dash_app, "/?lang=en")
    wait_until(dash_duo, lambda: shown(dash_duo, ".road-extent-note") == ["No roads drawn outside this area"],
               timeout=15)
    clean(dash_duo)
