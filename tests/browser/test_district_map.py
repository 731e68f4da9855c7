"""The district map export opened in headless Chromium from a file: it draws offline and runs no injected name."""
from __future__ import annotations

import time


def test_district_map_opens_offline_in_chromium(dash_duo, tmp_path, district_map):
    path = tmp_path / "jinjiang.html"
    path.write_text(district_map, encoding="utf-8")
    driver = dash_duo.driver
    driver.get(path.as_uri())
    dash_duo.wait_for_element(".leaflet-container", timeout=15)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        paths = driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length")
        if paths > 10:
            break
        time.sleep(0.2)
    assert paths > 10, "the gap hexagons and stations were not drawn"
    assert driver.execute_script("return document.querySelectorAll('.nx-site').length") > 0
    assert "锦江区" in driver.find_element("css selector", ".nx-title").text
    assert "OpenStreetMap contributors (ODbL)" in driver.find_element("css selector", ".leaflet-control-attribution").text
    # the injected names stayed text: no script ran, no image was made of them
    assert driver.execute_script("return window.__xss === undefined")
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert [r for r in resources if not r.startswith(("file:", "data:"))] == []
    assert dash_duo.get_logs() == []
