"""Riders' reports and points in the staff workspace, in headless Chromium on a 375 px phone, offline: the queue
with its counts and an overdue report first; acknowledge, in progress, resolve with a public answer the rider
reads; 属实 pays once; a temporary status in one step and cleared on resolve; a duplicate folds its riders in; a
rejection needs a reason; points redeemed by a typed code, refused beyond the balance, and a photographed QR."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
import segno
from PIL import Image

from layers.common import rider_codes
from layers.rider.reports import public_report, submit_report
from layers.services import services_of
from layers.staff import points as rider_points
from layers.staff import reports as ledger
from layers.staff.accounts import Account, create_account
from mapdata.vocabulary import REPORT_POINTS
from pages.staff import reports as views
from tests.browser.test_staff_page import PASSWORD, phone, set_text
from tests.helpers import TEST_NOW, clean, wait_until
from tests.helpers import sign_in as signed_in


@pytest.fixture()
def reports(private_app):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    station = stations[stations["amenities"].map(lambda a: "microwave" in a)].iloc[0]
    adcode = int(station["adcode"])
    other = stations[(stations["adcode"] == adcode) & (stations["id"] != station["id"])].iloc[0]
    create_account(store, name="qu-bao", role="district", password=PASSWORD, adcode=adcode, by="test")
    create_account(store, name="zhan-bao", role="station", password=PASSWORD, stations=[other["id"]], by="test")
    code = rider_codes.new_code()
    picture = io.BytesIO()
    Image.new("RGB", (400, 300), "steelblue").save(picture, "JPEG")
    old = submit_report(store, {"kind": "closed_in_hours", "station_id": station["id"], "note": "下午两点还关着门"},
                        photo=picture.getvalue(), now=TEST_NOW - dt.timedelta(days=6))
    again = submit_report(store, {"kind": "closed_in_hours", "station_id": other["id"], "note": "门口没人"},
                          now=TEST_NOW - dt.timedelta(hours=3))
    new = submit_report(store, {"kind": "facility_broken", "amenity": "microwave", "station_id": station["id"],
                                "note": "微波炉不加热", "rider_code": code})
    return private_app, store, station, other, code, {"old": old, "again": again, "new": new}


def sign_in(dash_duo, name):
    signed_in(dash_duo, name, PASSWORD, "#sreports-queue")


def _xpath_id(ident: dict) -> str:
    return f"//*[@id='{json.dumps(ident, sort_keys=True, separators=(',', ':'))}']"


def press(dash_duo, element):
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def act(dash_duo, action):
    button = dash_duo.driver.find_element("xpath", _xpath_id(views.action_id(action)))
    wait_until(dash_duo, lambda: button.is_enabled(), message=lambda: f"{action} stays disabled")
    press(dash_duo, button)


def open_row(dash_duo, ref):
    """Tap the queue's row of ``ref``; after an action the queue is re-rendered a moment later, so a tap on a row
    being replaced is tried again."""
    from dash.testing.errors import TestingTimeoutError
    from selenium.common.exceptions import StaleElementReferenceException

    for _ in range(3):
        try:
            rows = dash_duo.driver.find_elements("css selector", "#sreports-queue .sreports-row")
            press(dash_duo, next(r for r in rows if ref in r.text))
            dash_duo.wait_for_contains_text("#sreports-detail", ref, timeout=5)
            return
        except (StaleElementReferenceException, TestingTimeoutError, StopIteration):
            continue
    raise AssertionError(f"{ref} did not open")


def message(dash_duo, text):
    dash_duo.wait_for_contains_text("#sreports-message", text, timeout=10)


def test_a_district_works_a_report_from_new_to_resolved_with_points_status_and_a_duplicate(dash_duo, reports):
    app, store, station, _, code, sent = reports
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "qu-bao")
    # the queue: the counts, the overdue report first with its red badge, the new one with its rider count
    assert dash_duo.find_element("#sreports-counts").text == "待处理 3 · 超期 1"
    rows = dash_duo.driver.find_elements("css selector", "#sreports-queue .sreports-row")
    assert sent["old"].ref in rows[0].text and "超期" in rows[0].text and "6 天前" in rows[0].text
    assert rows[0].find_element("css selector", ".sreports-badge.overdue").value_of_css_property(
        "background-color") == "rgba(220, 38, 38, 1)"
    assert sent["new"].ref in rows[1].text and "1 位骑手" in rows[1].text and "设施损坏 · 微波炉" in rows[1].text
    assert "超期" not in rows[1].text
    # only overdue: one row
    press(dash_duo, dash_duo.find_element("#sreports-f-overdue input"))
    wait_until(dash_duo, lambda: len(dash_duo.driver.find_elements("css selector", "#sreports-queue .sreports-row"))
               == 1)
    press(dash_duo, dash_duo.find_element("#sreports-f-overdue input"))
    wait_until(dash_duo, lambda: len(dash_duo.driver.find_elements("css selector", "#sreports-queue .sreports-row"))
               == 3)

    # the new report: its note, place, riders and due dates in words
    open_row(dash_duo, sent["new"].ref)
    detail = dash_duo.find_element("#sreports-detail").text
    assert "微波炉不加热" in detail and station["name"] in detail and "1 位骑手报告了这个问题" in detail
    assert "解决期限：12月4日（周五）" in detail and "还剩" in detail
    assert dash_duo.driver.find_elements("css selector", "#sreports-detail .leaflet-container")
    act(dash_duo, "acknowledge")
    message(dash_duo, "已更新：已受理")
    act(dash_duo, "start")
    message(dash_duo, "已更新：处理中")
    # 属实 twice: the rider's code is paid once
    act(dash_duo, "confirm")
    message(dash_duo, f"1 位骑手各得 {REPORT_POINTS['facility_broken']} 积分")
    act(dash_duo, "confirm")
    message(dash_duo, "已确认过，不再发积分")
    assert rider_points.rider_points(store, code)["balance"] == REPORT_POINTS["facility_broken"]
    # the temporary status in one step: tomorrow 18:00, riders see the microwave out of service at once
    press(dash_duo, dash_duo.driver.find_element("xpath", "//label[contains(., '明天 18:00')]"))
    wait_until(dash_duo, lambda: dash_duo.find_element("#sreports-status-until").get_attribute("value")
               == "2026-12-03T18:00")
    set_text(dash_duo, "#sreports-status-note", "微波炉维修中")
    act(dash_duo, "status")
    message(dash_duo, "已设置：微波炉暂停服务")
    row = store.read("stations").set_index("id").loc[station["id"]]
    assert "microwave" in row["amenities_out"] and row["status_note"] == "微波炉维修中"
    # resolve with a public answer, ending the temporary status with it
    clear = dash_duo.find_element("#sreports-clear-status")
    wait_until(dash_duo, lambda: "同时结束临时状态" in clear.text)
    assert clear.find_element("css selector", "input").is_selected()
    set_text(dash_duo, "#sreports-answer", "已更换微波炉")
    act(dash_duo, "resolve")
    message(dash_duo, "已更新：已解决")
    row = store.read("stations").set_index("id").loc[station["id"]]
    assert "microwave" not in row["amenities_out"]
    public = public_report(store, sent["new"].ref)
    assert [s["state"] for s in public["steps"]] == ["new", "acknowledged", "in_progress", "resolved"]
    assert public["steps"][-1]["answer"] == "已更换微波炉" and public["answer"] == "已更换微波炉"
    assert "qu-bao" in dash_duo.find_element("#sreports-detail").text  # the history: who and when

    # a duplicate: the second closed-station report repeats the old one, whose riders add up
    open_row(dash_duo, sent["again"].ref)
    act(dash_duo, "duplicate")
    message(dash_duo, "请填写重复的报告编号")
    set_text(dash_duo, "#sreports-duplicate-of", sent["old"].ref)
    act(dash_duo, "duplicate")
    message(dash_duo, "已更新：重复")
    assert store.reports.get(sent["old"].report_id)["riders"] == 2
    # a rejection needs a reason, which the rider reads
    open_row(dash_duo, sent["old"].ref)
    assert "2 位骑手报告了这个问题" in dash_duo.find_element("#sreports-detail").text
    photo = dash_duo.find_element("#sreports-detail img.sreports-photo")  # the rider's photo, for staff only
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", photo)
    wait_until(dash_duo, lambda: dash_duo.driver.execute_script("return arguments[0].naturalWidth", photo) == 400)
    act(dash_duo, "reject")
    message(dash_duo, "请填写不予处理的理由")
    assert store.reports.get(sent["old"].report_id)["state"] == "new"
    set_text(dash_duo, "#sreports-reason", "该时段驿站按公示时间午休")
    act(dash_duo, "reject")
    message(dash_duo, "已更新：不予处理")
    assert public_report(store, sent["old"].ref)["answer"] == "该时段驿站按公示时间午休"
    wait_until(dash_duo, lambda: dash_duo.find_element("#sreports-counts").text == "待处理 0 · 超期 0")
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    clean(dash_duo)


def test_a_station_redeems_points_by_code_and_by_a_photo_of_the_qr(dash_duo, reports, tmp_path):
    app, store, _, other, code, sent = reports
    district = Account.of(store.accounts.get("qu-bao"))
    ledger.confirm(store, district, sent["new"].report_id)  # the rider has 10 points
    reward = rider_points.save_reward(store, district, {"adcode": int(other["adcode"]), "name": "矿泉水", "points": 6})
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "zhan-bao")
    # a station account's queue holds its own station's reports only
    queue = dash_duo.find_element("#sreports-queue").text
    assert sent["again"].ref in queue and sent["new"].ref not in queue and sent["old"].ref not in queue
    assert dash_duo.find_element("#sreports-counts").text == "待处理 1 · 超期 0"
    # the code typed with dashes: the balance, then a redemption takes the reward's points
    box = dash_duo.find_element("#sreports-code")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
    set_text(dash_duo, "#sreports-code", rider_codes.shown(code).lower())
    dash_duo.wait_for_contains_text("#sreports-balance", "余额 10 积分", timeout=10)
    dash_duo.wait_for_contains_text("#sreports-reward", "矿泉水（6 积分）", timeout=10)
    press(dash_duo, dash_duo.find_element("#sreports-redeem"))
    dash_duo.wait_for_contains_text("#sreports-redeem-message", "已兑换 矿泉水：扣 6 积分，余额 4", timeout=10)
    dash_duo.wait_for_contains_text("#sreports-balance", "余额 4 积分", timeout=10)
    assert rider_points.rider_points(store, code)["balance"] == 4
    # beyond the balance: refused with what there is
    press(dash_duo, dash_duo.find_element("#sreports-redeem"))
    dash_duo.wait_for_contains_text("#sreports-redeem-message", "积分不足：余额 4", timeout=10)
    assert rider_points.rider_points(store, code)["balance"] == 4
    assert [e["points"] for e in rider_points.rider_points(store, code)["entries"]] == [-6, 10]
    assert reward["id"] == rider_points.rider_points(store, code)["entries"][0]["reward_id"]
    # the phone's camera: a photo of the rider's QR (its transfer link) fills in the code
    set_text(dash_duo, "#sreports-code", "")
    picture = tmp_path / "qr.png"
    segno.make_qr(rider_codes.transfer_link("https://nuanxin.example", code), error="h").save(
        str(picture), kind="png", scale=8)
    dash_duo.driver.find_element("css selector", "#sreports-scan input[type=file]").send_keys(str(picture))
    dash_duo.wait_for_contains_text("#sreports-scan-message", f"已识别骑手码：{rider_codes.shown(code)}", timeout=15)
    wait_until(dash_duo, lambda: dash_duo.find_element("#sreports-code").get_attribute("value")
               == rider_codes.shown(code))
    dash_duo.wait_for_contains_text("#sreports-balance", "余额 4 积分", timeout=10)
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    clean(dash_duo)
