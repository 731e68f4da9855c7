"""The staff workspace in headless Chromium on a 375 px phone, offline: sign in, edit, preview, quick status,
move by a tap, review and save, then a rider sees it; a conflict merged field by field; revert; logout."""
from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from layers.services import services_of
from layers.staff.accounts import create_account, issue_token
from tests.helpers import clean, layer_rows, wait_until
from tests.helpers import sign_in as signed_in

PASSWORD = "correct horse battery"


def phone(driver):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})


@pytest.fixture()
def staff(private_app):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    station = stations[stations["amenities"].map(lambda a: "microwave" in a)].iloc[0]
    create_account(store, name="zhan-zhang", role="station", password=PASSWORD, stations=[station["id"]], by="test")
    create_account(store, name="jie-dao", role="street", password=PASSWORD, street=station["street"],
                   adcode=int(station["adcode"]), by="test")
    return private_app, store, station


def sign_in(dash_duo, name):
    signed_in(dash_duo, name, PASSWORD, "#staff-list .staff-station")


def open_first_station(dash_duo, expected_name):
    dash_duo.find_element("#staff-list .staff-station").click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#staff-name").get_attribute("value") == expected_name)


def set_text(dash_duo, selector, text):
    box = dash_duo.find_element(selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(text, Keys.ENTER)


def test_staff_edit_hours_status_and_position_and_a_rider_sees_it(dash_duo, staff):
    app, store, station = staff
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "zhan-zhang")
    assert "驿站管理员" in dash_duo.find_element("#staff-who").text
    open_first_station(dash_duo, station["name"])
    # hours: the text is parsed as it is typed, the preview shows this week and the holidays
    set_text(dash_duo, "#staff-hours-text", "Mo-Fr 08:00-12:00,14:00-20:00; Sa 09:00-12:00; PH off")
    dash_duo.wait_for_contains_text("#staff-preview", "08:00–12:00, 14:00–20:00", timeout=10)
    assert "下一个法定节假日" in dash_duo.find_element("#staff-preview").text
    set_text(dash_duo, "#staff-hours-text", "Mo-Fr 25:00-26:00")
    wait_until(dash_duo, lambda: dash_duo.find_element("#staff-hours-error").text != "")
    set_text(dash_duo, "#staff-hours-text", "Mo-Fr 08:00-12:00,14:00-20:00; Sa 09:00-12:00; PH off")
    wait_until(dash_duo, lambda: dash_duo.find_element("#staff-hours-error").text == "")
    # 微波炉维修中 until a date
    dash_duo.find_element("#staff-quick-microwave").click()
    wait_until(dash_duo, lambda: dash_duo.find_element("#staff-status-note").get_attribute("value") == "微波炉维修中")
    # move the pin by tapping the map a little east of the station
    the_map = dash_duo.find_element("#staff-map")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", the_map)
    ActionChains(dash_duo.driver).move_to_element_with_offset(the_map, 30, 0).click().perform()
    dash_duo.wait_for_contains_text("#staff-moved", "米", timeout=10)
    # review shows every change field by field, then save
    review = dash_duo.find_element("#staff-review")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", review)
    review.click()
    dash_duo.wait_for_contains_text("#staff-diff", "营业时间", timeout=10)
    diff = dash_duo.find_element("#staff-diff").text
    assert "暂停服务的设施" in diff and "位置" in diff and "微波炉维修中" in diff
    dash_duo.find_element("#staff-save").click()
    dash_duo.wait_for_contains_text("#staff-message", "已保存", timeout=10)
    row = store.read("stations").set_index("id").loc[station["id"]]
    assert row["opening_hours"] == "Mo-Fr 08:00-12:00,14:00-20:00; Sa 09:00-12:00; PH off"
    assert "microwave" in row["amenities_out"] and row["updated_by"] == "zhan-zhang"
    assert abs(row.geometry.x - station.geometry.x) > 1e-5
    assert "zhan-zhang" in dash_duo.find_element("#staff-history").text
    # a rider (no session) sees the change on the card and is not sent there for a microwave
    dash_duo.driver.delete_all_cookies()
    dash_duo.driver.get(dash_duo.server_url + f"/?s={station['id']}&lat={row.geometry.y:.6f}&lon={row.geometry.x:.6f}")
    dash_duo.wait_for_contains_text("#rider-card", "暂停服务：微波炉", timeout=15)
    client = app.server.test_client()
    near = client.get("/api/v1/stations/nearest", query_string={"lat": row.geometry.y, "lon": row.geometry.x,
                                                                "amenities": "microwave", "k": 3}).get_json()
    assert station["id"] not in [r["id"] for r in near["results"]]
    clean(dash_duo)


def test_a_conflict_is_merged_field_by_field_then_reverted_and_logout_ends_it(dash_duo, staff):
    app, store, station = staff
    sid = station["id"]
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "zhan-zhang")
    open_first_station(dash_duo, station["name"])
    # meanwhile the street worker changes the phone and the capacity through the API
    token = issue_token(store, "jie-dao", "test", by="test")
    r = app.server.test_client().patch(f"/api/v1/stations/{sid}", json={"phone": "028-11112222", "capacity": 42},
                                       headers={"Authorization": f"Bearer {token}", "If-Match": '"1"'})
    assert r.status_code == 200
    set_text(dash_duo, "#staff-phone", "028-33334444")
    set_text(dash_duo, "#staff-address", "成华大道 99 号")
    save = dash_duo.find_element("#staff-save")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", save)
    save.click()  # the first press shows what would be written
    dash_duo.wait_for_contains_text("#staff-message", "请核对", timeout=10)
    assert "028-33334444" in dash_duo.find_element("#staff-diff").text
    save.click()
    dash_duo.wait_for_contains_text("#staff-conflict", "已有人修改", timeout=10)
    table = dash_duo.find_element("#staff-conflict").text
    assert "028-11112222" in table and "028-33334444" in table and "42" in table
    # keep their phone, my address
    choice = dash_duo.driver.find_element("css selector", "#staff-conflict input[value='theirs']")
    dash_duo.driver.execute_script("arguments[0].click()", choice)
    dash_duo.find_element("#staff-conflict-save").click()
    dash_duo.wait_for_contains_text("#staff-message", "已保存", timeout=10)
    row = store.read("stations").set_index("id").loc[sid]
    assert (row["phone"], row["address"], row["capacity"]) == ("028-11112222", "成华大道 99 号", 42)
    feed = dash_duo.find_element("#staff-feed").text
    assert "jie-dao" in feed and "zhan-zhang" in feed  # both changes in the feed of recent changes
    # revert to the street worker's version: my address goes, their phone stays
    buttons = dash_duo.driver.find_elements("css selector", "#staff-history .staff-revert")
    assert len(buttons) == 2
    dash_duo.driver.execute_script("arguments[0].click()", buttons[1])  # the older entry (newest first)
    dash_duo.wait_for_contains_text("#staff-message", "已恢复", timeout=10)
    row = store.read("stations").set_index("id").loc[sid]
    assert row["address"] == station["address"] and row["phone"] == "028-11112222"
    assert dash_duo.find_element("#staff-address").get_attribute("value") == station["address"]
    # logout ends the session: the workspace asks to sign in again
    logout = dash_duo.find_element("#staff-logout")
    dash_duo.driver.execute_script("arguments[0].click()", logout)
    dash_duo.wait_for_element("#login-name", timeout=10)
    dash_duo.driver.get(dash_duo.server_url + "/staff")
    dash_duo.wait_for_element("#login-name", timeout=10)
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    clean(dash_duo)


def test_a_ledger_with_bad_rows_writes_nothing_and_a_good_one_exactly_its_rows(dash_duo, staff, tmp_path):
    import io

    import pandas as pd

    app, store, station = staff
    from layers.staff.accounts import create_account as add

    add(store, name="qu-admin", role="district", password=PASSWORD, adcode=int(station["adcode"]), by="test")
    dash_duo.start_server(app)
    sign_in(dash_duo, "qu-admin")
    http = app.server.test_client()
    http.post("/login", data={"name": "qu-admin", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.0.1"})
    table = pd.read_csv(io.BytesIO(http.get("/api/v1/ledger/stations.csv").data), dtype=str, keep_default_na=False,
                        encoding="utf-8-sig")
    before = layer_rows(store)
    bad = table.copy()
    bad.loc[0, "电话"] = "028-55556666"
    bad.loc[1, "营业时间"] = "Mo-Fr 25:00-26:00"
    path = tmp_path / "台账-有错.csv"
    bad.to_csv(path, index=False, encoding="utf-8-sig")
    upload = dash_duo.driver.find_element("css selector", "#staff-ledger-upload input[type=file]")
    upload.send_keys(str(path))
    dash_duo.wait_for_contains_text("#staff-ledger-result", "第 2 行", timeout=15)
    assert "营业时间" in dash_duo.find_element("#staff-ledger-result").text
    assert not dash_duo.find_element("#staff-ledger-apply").is_displayed()
    assert layer_rows(store) == before
    good = table.copy()
    good.loc[0, "电话"] = "028-55556666"
    good.loc[2, "容纳人数"] = "33"
    path = tmp_path / "台账.csv"
    good.to_csv(path, index=False, encoding="utf-8-sig")
    upload = dash_duo.driver.find_element("css selector", "#staff-ledger-upload input[type=file]")
    upload.send_keys(str(path))
    dash_duo.wait_for_contains_text("#staff-ledger-result", "2 个驿站将被修改", timeout=15)
    button = dash_duo.find_element("#staff-ledger-apply")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()
    dash_duo.wait_for_contains_text("#staff-ledger-result", "已导入：2 个驿站已更新", timeout=15)
    after = store.read("stations").set_index("id")
    now = layer_rows(store)
    changed = [sid for sid, row in before.items() if any(now[sid][k] != v for k, v in row.items()
                                                         if k not in ("version", "updated_at", "updated_by"))]
    assert sorted(changed) == sorted([table.loc[0, "编号"], table.loc[2, "编号"]])
    assert after.loc[table.loc[2, "编号"], "capacity"] == 33
    clean(dash_duo)


def test_a_street_worker_keeps_a_compounds_gates_and_signs(dash_duo, staff):
    from layers.staff.compounds import compound_streets

    app, store, _ = staff
    gates = store.read("gates")
    streets = compound_streets(store)
    compounds = store.read("compounds").set_index("id")
    gate = gates[gates["rider_access"]].iloc[0]
    compound = compounds.loc[gate["compound_id"]]
    from layers.staff.accounts import create_account as add

    add(store, name="she-qu", role="street", password=PASSWORD, street=streets[gate["compound_id"]],
        adcode=int(compound["adcode"]), by="test")
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "she-qu")
    set_text(dash_duo, "#staff-compound-filter", compound["name"])

    def pick_compound():
        from selenium.common.exceptions import StaleElementReferenceException

        try:
            buttons = dash_duo.driver.find_elements("css selector", "#staff-compound-list .staff-station")
            if not buttons or not all(compound["name"] in b.text for b in buttons):
                return False  # the filtered list has not come yet
            dash_duo.driver.execute_script("arguments[0].click()", [b for b in buttons if b.text == compound["name"]][0])
            return compound_panel_shown()
        except StaleElementReferenceException:
            return False  # the list re-rendered under us: look again

    def compound_panel_shown():
        time.sleep(0.5)
        return gate["name"] in dash_duo.find_element("#staff-compound-panel").text

    wait_until(dash_duo, pick_compound, timeout=15)
    dash_duo.wait_for_contains_text("#staff-compound-panel", gate["name"], timeout=10)
    boxes = dash_duo.driver.find_elements("css selector", "#staff-compound-panel .staff-gates input[type=checkbox]")
    dash_duo.driver.execute_script("arguments[0].click()", boxes[list(gates[gates["compound_id"] == gate["compound_id"]]
                                                                      ["id"]).index(gate["id"]) * 2])
    save = dash_duo.driver.find_elements("css selector", "#staff-compound-panel .staff-gates button")[
        list(gates[gates["compound_id"] == gate["compound_id"]]["id"]).index(gate["id"])]
    dash_duo.driver.execute_script("arguments[0].click()", save)
    dash_duo.wait_for_contains_text("#staff-compound-message", "已保存", timeout=10)
    assert not store.read("gates").set_index("id").loc[gate["id"], "rider_access"]
    # a new direction sign at that gate
    set_text(dash_duo, "#staff-sign-text", "3栋 往右")
    add_button = dash_duo.find_element("#staff-sign-add")
    dash_duo.driver.execute_script("arguments[0].click()", add_button)
    dash_duo.wait_for_contains_text("#staff-compound-message", "sg-", timeout=10)
    signs = store.read("wayfinding_signs")
    assert (signs["text"] == "3栋 往右").sum() == 1
    # block the first entry route shown
    route_box = dash_duo.driver.find_elements("css selector", "#staff-compound-panel .staff-routes input")[0]
    dash_duo.driver.execute_script("arguments[0].click()", route_box)
    route_save = dash_duo.driver.find_elements("css selector", "#staff-compound-panel .staff-routes button")[0]
    dash_duo.driver.execute_script("arguments[0].click()", route_save)
    dash_duo.wait_for_contains_text("#staff-compound-message", "er-", timeout=10)
    routes = store.read("entry_routes")
    assert routes[routes["compound_id"] == gate["compound_id"]]["blocked"].sum() == 1
    clean(dash_duo)
