"""The whole loop across two browsers, as the city runs it: a rider on a phone reports a broken microwave with a
photo; a district worker, signed in on another phone, finds it in the queue, confirms it (属实) twice and sets the
microwave out of service in one step; the rider's card says so at once, the rider's code is paid once, the
station redeems a reward; a second rider's same report is merged; a flood from one code is refused cleanly."""
from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from layers.common import rider_codes
from layers.services import services_of
from layers.staff import points as rider_points
from layers.staff.accounts import Account, create_account
from mapdata.vocabulary import REPORT_POINTS
from pages.ids import RIDER_REPORT as R
from tests.browser.test_rider_reports import attach, gps_jpeg, my_code, phone, station_link, tap, tap_chip
from tests.browser.test_staff_page import PASSWORD, set_text
from tests.browser.test_staff_reports import act, message, open_row, press, sign_in
from tests.helpers import clean, second_browser, wait_until

V2 = "/api/open311/v2"


class Browser:
    """A second browser, answering the few calls of ``dash_duo`` the page helpers use."""

    def __init__(self, driver, server_url: str):
        self.driver, self.server_url = driver, server_url

    def find_element(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def find_elements(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def wait_for_element(self, selector, timeout=10):
        return WebDriverWait(self.driver, timeout).until(lambda d: self.find_elements(selector) or None)[0]

    def wait_for_contains_text(self, selector, text, timeout=10):
        wait_until(self, lambda: any(text in e.text for e in self.find_elements(selector)), timeout,
                   message=lambda: f"{text!r} not in {[e.text[:300] for e in self.find_elements(selector)]}")

    def get_logs(self):
        return self.driver.get_log("browser")


@pytest.fixture()
def staff_phone():
    driver = second_browser()
    phone(driver)
    yield driver
    driver.quit()


@pytest.fixture()
def city(private_app):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    station = stations[stations["amenities"].map(lambda a: "microwave" in a) & (stations["status"] == "open")
                       & stations["amenities_out"].map(lambda a: not a)].iloc[0]
    create_account(store, name="qu-loop", role="district", password=PASSWORD, adcode=int(station["adcode"]),
                   by="test")
    district = Account.of(store.accounts.get("qu-loop"))
    reward = rider_points.save_reward(store, district, {"adcode": int(station["adcode"]), "name": "暖心餐券",
                                                        "points": 6})
    return private_app, store, station, reward


def test_a_report_goes_round_the_loop_between_a_rider_and_the_district(dash_duo, city, staff_phone, tmp_path):
    app, store, station, reward = city
    award = REPORT_POINTS["facility_broken"]
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    staff = Browser(staff_phone, dash_duo.server_url)

    # the rider: a code made on the phone, then 报告问题 from the station's card with a photo
    dash_duo.driver.get(dash_duo.server_url + station_link(station))
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", station["name"], timeout=15)
    code = my_code(dash_duo)
    tap(dash_duo, f"#{R.code_close}")
    tap(dash_duo, "#rider-card .report-open")
    dash_duo.wait_for_contains_text(f"#{R.about}", station["name"], timeout=10)
    tap_chip(dash_duo, f"#{R.kinds}", "设施损坏")
    tap_chip(dash_duo, f"#{R.amenities}", "微波炉")
    dash_duo.find_element(f"#{R.note}").send_keys("微波炉转盘不转")
    attach(dash_duo, gps_jpeg(tmp_path / "IMG_0001.jpg", size=(1200, 900)))
    dash_duo.wait_for_contains_text(f"#{R.photo_preview}", "IMG_0001.jpg", timeout=15)
    tap(dash_duo, f"#{R.send}")
    dash_duo.wait_for_contains_text(f"#{R.receipt}", "已收到，编号 NX", timeout=15)
    ref = dash_duo.find_element(f"#{R.receipt} .report-ref").text.split("编号 ")[1]

    # the district, on its own phone: the report at the top of its queue, with the rider's photo
    sign_in(staff, "qu-loop")
    rows = staff.find_elements("#sreports-queue .sreports-row")
    assert ref in rows[0].text and "1 位骑手" in rows[0].text and "设施损坏 · 微波炉" in rows[0].text
    open_row(staff, ref)
    assert "微波炉转盘不转" in staff.find_element("#sreports-detail").text
    photo = staff.find_element("#sreports-detail img.sreports-photo")
    staff.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", photo)
    wait_until(staff, lambda: staff.driver.execute_script("return arguments[0].naturalWidth", photo) == 1200)

    # a second rider reports the same problem through Open311 before anyone acts: merged, counted
    second = rider_codes.new_code()
    merged = app.server.test_client().post(f"{V2}/requests.json", data={
        "service_code": "facility_broken", "attribute[station_id]": station["id"], "attribute[amenity]": "microwave",
        "attribute[rider_code]": second}, environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert merged.status_code == 201 and merged.get_json()[0]["service_request_id"] == ref
    open_row(staff, ref)
    staff.wait_for_contains_text("#sreports-detail", "2 位骑手报告了这个问题", timeout=10)

    # 属实 twice: each rider paid once
    act(staff, "confirm")
    message(staff, f"2 位骑手各得 {award} 积分")
    act(staff, "confirm")
    message(staff, "已确认过，不再发积分")
    # the microwave out of service until tomorrow 18:00, in one step
    press(staff, staff.driver.find_element("xpath", "//label[contains(., '明天 18:00')]"))
    set_text(staff, "#sreports-status-note", "微波炉维修中")
    act(staff, "status")
    message(staff, "已设置：微波炉暂停服务")

    # the rider's card says so as soon as it is opened again
    dash_duo.driver.get(dash_duo.server_url + station_link(station))
    dash_duo.wait_for_contains_text("#rider-card", "暂停服务：微波炉", timeout=15)
    assert "微波炉维修中" in dash_duo.find_element("#rider-card").text
    # and the rider's code holds the points once, the report its steps
    my_code(dash_duo)
    dash_duo.wait_for_contains_text(f"#{R.code_body} .points-balance", f"{award} 分", timeout=10)
    mine = dash_duo.find_element(f"#{R.code_body} .mine-report[data-ref='{ref}']").text
    assert "已核实属实" in mine and "2 位骑手" in mine
    assert rider_points.rider_points(store, second)["balance"] == award

    # the station redeems the rider's reward against the shown code; the rider sees the new balance
    box = staff.find_element("#sreports-code")
    staff.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    set_text(staff, "#sreports-code", rider_codes.shown(code))
    staff.wait_for_contains_text("#sreports-balance", f"余额 {award} 积分", timeout=10)
    staff.wait_for_contains_text("#sreports-reward", "暖心餐券（6 积分）", timeout=10)
    press(staff, staff.find_element("#sreports-redeem"))
    staff.wait_for_contains_text("#sreports-redeem-message", f"余额 {award - 6}", timeout=10)
    tap(dash_duo, f"#{R.code_close}")
    my_code(dash_duo)
    dash_duo.wait_for_contains_text(f"#{R.code_body} .points-balance", f"{award - 6} 分", timeout=10)
    assert "-6" in dash_duo.find_element(f"#{R.code_body} .points-history").text
    assert [e["points"] for e in rider_points.rider_points(store, code)["entries"]] == [-6, award]

    # a flood from one code through Open311: refused with Retry-After, nothing more kept
    before = store.reports.count()
    answers = [app.server.test_client().post(f"{V2}/requests.json", data={
        "service_code": "hazard", "lat": f"{30.60 + i * 0.002:.4f}", "long": "104.06",
        "attribute[rider_code]": second}, environ_base={"REMOTE_ADDR": f"10.7.0.{i}"}) for i in range(6)]
    statuses = [a.status_code for a in answers]
    assert 429 in statuses and store.reports.count() == before + statuses.count(201) <= before + 5
    refused = next(a for a in answers if a.status_code == 429)
    assert refused.get_json()[0]["field"] == "rider_code" and int(refused.headers["Retry-After"]) > 0
    clean(dash_duo)
    assert staff.get_logs() == []
