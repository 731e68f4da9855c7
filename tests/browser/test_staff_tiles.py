"""The staff editor's map on Amap's GCJ-02 tiles (NUANXIN_TILES=auto), in headless Chromium, offline (a tile server on
this machine): the station's pin is drawn where the tiles draw the station's place, not 300-600 m beside it."""
from __future__ import annotations

import pytest

from layers.services import services_of
from layers.staff.accounts import create_account
from mapdata.crs import wgs84_to_gcj02
from tests.browser.test_staff_page import PASSWORD, open_first_station, phone, sign_in
from tests.browser.test_tiles import TILE_UNDER, tile_server, tile_xy  # noqa: F401  (the fixture)

PIN_TIP = """
const pin = document.querySelector('#staff-map .leaflet-marker-icon');
if (!pin) { return null; }
const box = pin.getBoundingClientRect();
return [box.left + box.width / 2, box.bottom];
"""


@pytest.fixture()
def staff_on_tiles(dash_app, writable_db, tile_server):  # noqa: F811
    import app as app_module
    from layers.common.calendar import use_calendar
    from layers.services import EXTENSION
    from mapdata.config import Settings

    saved = dash_app.server.extensions[EXTENSION]
    dash_app.server.extensions[EXTENSION] = app_module.create_services(
        Settings(db_path=writable_db, secret_key="test", tile_source="auto", tile_url=tile_server))
    store = services_of(dash_app.server).store
    station = store.read("stations").iloc[0]
    create_account(store, name="zhan-zhang", role="station", password=PASSWORD, stations=[station["id"]], by="test")
    try:
        yield dash_app, station
    finally:
        dash_app.server.extensions[EXTENSION] = saved
        use_calendar(saved.store.calendar)


def test_the_station_pin_sits_on_the_tiles_where_the_station_is(dash_duo, staff_on_tiles):
    app, station = staff_on_tiles
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "zhan-zhang")
    open_first_station(dash_duo, station["name"])
    driver = dash_duo.driver
    driver.execute_script("document.getElementById('staff-map').scrollIntoView({block: 'center'})")

    def tile_under_pin():
        tip = driver.execute_script(PIN_TIP)
        return tip and driver.execute_script(TILE_UNDER.replace("#rider-map", "#staff-map"), *tip)

    from tests.helpers import wait_until

    src, fx, fy = wait_until(dash_duo, tile_under_pin, timeout=20, message=lambda: "no pin over a loaded tile")
    z, x, y = (int(v) for v in src.rsplit(".", 1)[0].split("/")[-3:])
    lon, lat = station.geometry.x, station.geometry.y
    on_tiles = tile_xy(*wgs84_to_gcj02(lon, lat), z)
    plain = tile_xy(lon, lat, z)
    drawn = (x + fx, y + fy)
    assert max(abs(a - b) for a, b in zip(drawn, on_tiles)) * 256 < 3, (drawn, on_tiles)
    assert max(abs(a - b) for a, b in zip(drawn, plain)) * 256 > 20
