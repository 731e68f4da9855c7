"""A misspelt compound on a 375 px phone: the page offers the closest names and a tap gives the way in."""
from __future__ import annotations

from layers.rider.catalogue import ENTRY_LAYERS
from layers.rider.entry import entry_route
from tests.browser.test_rider_page import start
from tests.helpers import clean, texts, url_query, wait_until


def test_a_misspelt_compound_offers_the_right_one_and_a_tap_gives_the_way_in(dash_duo, dash_app, store):
    compounds = store.read("compounds")
    meant = compounds.loc[compounds["name"] == "锦绣东方", "id"].iloc[0]
    answer = entry_route({n: store.read(n) for n in ENTRY_LAYERS}, meant, "4")
    assert answer["gate"] is not None  # the demo build's 锦绣东方 has a way to building 4
    start(dash_duo, dash_app)
    dash_duo.find_element("#rider-compound-title").click()
    dash_duo.find_element("#rider-compound-name").send_keys("锦秀东方")
    dash_duo.find_element("#rider-compound-building").send_keys("4栋")
    dash_duo.find_element("#rider-compound-go").click()
    dash_duo.wait_for_contains_text("#rider-compound-msg", "没有找到小区“锦秀东方”", timeout=10)
    dash_duo.wait_for_element("#rider-compound-msg .compound-suggestion", timeout=10)
    assert "你要找的是不是" in dash_duo.find_element("#rider-compound-msg").text
    assert texts(dash_duo, "#rider-compound-msg .compound-suggestion")[:2] == ["锦绣东方", "锦绣东方(二期)"]
    first = dash_duo.find_elements("#rider-compound-msg .compound-suggestion")[0]
    assert first.size["height"] >= 44 and first.size["width"] >= 44
    first.click()
    dash_duo.wait_for_contains_text("#rider-compound-msg .gate-used", answer["gate"]["name"], timeout=10)
    msg = dash_duo.find_element("#rider-compound-msg").text
    assert f"{answer['length_m']:.0f} 米" in msg and "没有找到小区" not in msg
    assert dash_duo.find_element("#rider-compound-name").get_attribute("value") == "锦绣东方"
    wait_until(dash_duo, lambda: url_query(dash_duo.driver).get("c") == "锦绣东方", timeout=5,
               message=lambda: f"the link should name the compound: {dash_duo.driver.current_url}")
    clean(dash_duo)
