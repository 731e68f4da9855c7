"""The home page in headless Chromium: it renders, says the data is a demonstration, asks nothing of the internet."""
from __future__ import annotations

import pytest

from tests.conftest import external_requests

pytestmark = pytest.mark.browser


def test_home_page_renders_offline(dash_duo, dash_app, store):
    dash_duo.start_server(dash_app)
    dash_duo.wait_for_text_to_equal("#home-title", "暖新地图 Nuanxin Map", timeout=10)
    dash_duo.wait_for_contains_text("#demo-label", "演示数据")
    assert str(len(store.read("stations"))) in dash_duo.find_element("#home-count").text
    assert external_requests(dash_duo.driver) == []
    assert dash_duo.get_logs() == []
