"""Riders' reports on the rider page in headless Chromium, on a 375 × 740 phone, offline: report a broken microwave
from a station's card with a photo (its GPS data gone), merged with a second rider's, a flood refused, photos too
large or not photos refused; the rider code made on the phone, its QR code, moved to a new phone, points shown."""
from __future__ import annotations

import io
import subprocess

import pytest
import requests
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from layers.common import rider_codes
from layers.rider.reports import submit_report
from layers.services import services_of
from layers.staff.accounts import Account
from layers.staff.reports import confirm
from pages.ids import RIDER, RIDER_REPORT
from tests.helpers import callback_request, clean, second_browser, texts, wait_until

R = RIDER_REPORT
WIDTH, HEIGHT = 375, 740


def phone(driver):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 2, "mobile": True})
    # the page asks where the phone is; on a closed network Chromium's own provider would fail in the console
    driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {"latitude": 30.6586, "longitude": 104.0648,
                                                                "accuracy": 30})
    driver.execute_cdp_cmd("Browser.setPermission", {"permission": {"name": "geolocation"}, "setting": "granted"})


@pytest.fixture()
def reporting(private_app):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    station = stations[stations["amenities"].map(lambda a: "microwave" in a) & (stations["status"] == "open")].iloc[0]
    return private_app, store, station


def station_link(station, lang: str | None = None) -> str:
    link = f"/?s={station['id']}&lat={station.geometry.y:.6f}&lon={station.geometry.x:.6f}"
    return link + (f"&lang={lang}" if lang else "")


def tap(dash_duo, selector):
    element = dash_duo.find_element(selector)
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    return element


def tap_chip(dash_duo, container, label):
    chip = wait_until(dash_duo, lambda: next((c for c in dash_duo.find_elements(f"{container} .chip")
                                              if c.text == label), None),
                      message=lambda: f"no chip {label!r} in {texts(dash_duo, container + ' .chip')}")
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", chip)
    chip.click()


def gps_jpeg(path, size=(2400, 1800)):
    """A phone photo with the place it was taken in its EXIF (GPS IFD) and the phone's make."""
    exif = Image.Exif()
    exif[0x010F] = "TestPhone"
    exif[0x8825] = {1: "N", 2: (30.0, 39.0, 31.0), 3: "E", 4: (104.0, 3.0, 53.0)}
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    img.save(path, "JPEG", exif=exif, quality=90)
    assert Image.open(path).getexif().get_ifd(0x8825)[1] == "N"
    return path


def attach(dash_duo, path):
    dash_duo.find_element(f"#{R.upload} input[type=file]").send_keys(str(path))


def my_code(dash_duo) -> str:
    """Open 我的暖新码 (made on the phone the first time) and read the code."""
    tap(dash_duo, f"#{R.code_open}")
    code, text = wait_until(dash_duo, lambda: dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e && [e.dataset.code, e.innerText];",
        f"#{R.code_body} .code-shown"))
    assert text == rider_codes.shown(code)
    return code


def close_code_panel(dash_duo):
    tap(dash_duo, f"#{R.code_close}")
    wait_until(dash_duo, lambda: not dash_duo.find_element(f"#{R.code_panel}").is_displayed())


def receipt(dash_duo) -> str:
    return dash_duo.find_element(f"#{R.receipt}").text


def no_sideways_scroll(dash_duo):
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= WIDTH


def small_targets(dash_duo, container) -> list[str]:
    """Every visible button, chip, field and file picker in ``container`` lower or narrower than 44 px."""
    return dash_duo.driver.execute_script("""
        const out = [];
        document.querySelectorAll(arguments[0] + " button, " + arguments[0] + " .chip, " + arguments[0] +
                                  " input:not([type=file]):not([type=radio]), " + arguments[0] + " .btn").forEach(e => {
            const r = e.getBoundingClientRect();
            if (r.width && r.height && (r.height < 44 || r.width < 44)) {
                out.push((e.id || e.className || e.tagName) + " " + r.width + "x" + r.height);
            }
        });
        return out;""", container)


def send_via_callback(dash_duo, app, station, code):
    """The page's send callback, called as the page calls it (from the same address)."""
    values = {R.send: 1, R.place: {"station_id": station["id"]}, R.kinds: "facility_broken",
              R.amenities: "microwave", R.note: "", R.photo: None, R.code: code, R.refs: [],
              RIDER.state: {"lang": "zh"}}
    r = requests.post(dash_duo.server_url + "/_dash-update-component", json=callback_request(app, R.refs, values),
                      timeout=30)
    assert r.status_code == 200, r.text[:300]
    return r.json()["response"]


def test_report_a_broken_microwave_with_a_photo_merge_flood_and_bad_photos(dash_duo, reporting, tmp_path):
    app, store, station = reporting
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + station_link(station))
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", station["name"], timeout=15)
    first_code = my_code(dash_duo)
    close_code_panel(dash_duo)

    # from the card, one tap: the form over the map, with the station's kinds only
    tap(dash_duo, "#rider-card .report-open")
    dash_duo.wait_for_contains_text(f"#{R.about}", station["name"], timeout=10)
    kinds = texts(dash_duo, f"#{R.kinds} .chip")
    assert kinds[:2] == ["设施损坏", "未按时开放"] and "小区门禁不让进" not in kinds and "安全隐患" in kinds
    assert not dash_duo.find_element(f"#{R.amenity_wrap}").is_displayed()
    tap_chip(dash_duo, f"#{R.kinds}", "设施损坏")
    wait_until(dash_duo, lambda: dash_duo.find_element(f"#{R.amenity_wrap}").is_displayed())
    assert "微波炉" in texts(dash_duo, f"#{R.amenities} .chip")
    tap_chip(dash_duo, f"#{R.amenities}", "微波炉")
    dash_duo.find_element(f"#{R.note}").send_keys("微波炉不加热")
    assert rider_codes.shown(first_code) in dash_duo.find_element(f"#{R.code_line}").text

    # a photo with GPS in its EXIF: previewed, named, its location gone
    attach(dash_duo, gps_jpeg(tmp_path / "IMG_2041.jpg"))
    dash_duo.wait_for_contains_text(f"#{R.photo_preview}", "已附照片：IMG_2041.jpg", timeout=15)
    assert dash_duo.find_element(f"#{R.photo_preview} img").get_attribute("src").startswith("data:image/jpeg;base64,")
    no_sideways_scroll(dash_duo)
    assert small_targets(dash_duo, f"#{R.panel}") == []

    tap(dash_duo, f"#{R.send}")
    dash_duo.wait_for_contains_text(f"#{R.receipt}", "已收到，编号 NX", timeout=15)
    ref = dash_duo.find_element(f"#{R.receipt} .report-ref").text.split("编号 ")[1]
    said = receipt(dash_duo)
    assert "前受理" in said and "前处理" in said and "已有" not in said
    font = dash_duo.driver.execute_script(
        "return parseFloat(getComputedStyle(document.querySelector('.report-ref')).fontSize)")
    assert font >= 22   # the number, big and clear

    report_id = int(ref[2:])
    row = store.reports.get(report_id)
    assert (row["kind"], row["amenity"], row["station_id"], row["note"], row["riders"]) == \
        ("facility_broken", "microwave", station["id"], "微波炉不加热", 1)
    assert store.reports.codes_of(report_id) == [rider_codes.code_hash(first_code)]
    [photo] = store.reports.photos_of(report_id)
    kept = Image.open(io.BytesIO(store.reports.photo(photo["id"])["image"]))
    assert kept.format == "JPEG" and max(kept.size) <= 1600
    assert dict(kept.getexif()) == {} and "exif" not in kept.info

    # "我的报告" has it, in words
    tap(dash_duo, f"#{R.follow}")
    mine = wait_until(dash_duo, lambda: dash_duo.find_elements(f"#{R.code_body} .mine-report[data-ref='{ref}']"))
    assert "新报告" in mine[0].text and "设施损坏 · 微波炉" in mine[0].text

    # a second rider (the code typed in, as when a code moves phones) sends the same problem: merged
    second = rider_codes.new_code()
    dash_duo.find_element(f"#{R.code_input}").send_keys(rider_codes.shown(second).lower())
    tap(dash_duo, f"#{R.code_use}")
    dash_duo.wait_for_contains_text(f"#{R.code_msg}", "暖新码已转移到本机", timeout=10)
    assert rider_codes.shown(first_code) in dash_duo.find_element(f"#{R.code_msg}").text  # the old one, said
    close_code_panel(dash_duo)
    assert rider_codes.shown(second) in dash_duo.find_element(f"#{R.code_line}").text
    tap(dash_duo, f"#{R.send}")
    dash_duo.wait_for_contains_text(f"#{R.receipt}", "已有 2 位骑手报告了这个问题", timeout=15)
    assert ref in receipt(dash_duo)
    assert [r["id"] for r in store.reports.select()] == [report_id]
    assert store.reports.get(report_id)["riders"] == 2

    # a flood from the second code: past the limit, refused in words, no 500
    for _ in range(4):
        assert "rreport-receipt" in send_via_callback(dash_duo, app, station, second)
    tap(dash_duo, f"#{R.send}")
    dash_duo.wait_for_contains_text(f"#{R.receipt}", "没有发送：提交太频繁，请 10 分钟后再试", timeout=15)
    assert store.reports.get(report_id)["riders"] == 2

    # a 9 MB picture and a file that is no picture: refused, saying why
    big = tmp_path / "huge.jpg"
    big.write_bytes((tmp_path / "IMG_2041.jpg").read_bytes() + b"\0" * (9 * 1024 * 1024))
    attach(dash_duo, big)
    dash_duo.wait_for_contains_text(f"#{R.photo_msg}", "照片没有加上：照片太大", timeout=20)
    assert "最大 8 MB" in dash_duo.find_element(f"#{R.photo_msg}").text
    # a text file named as a photo (the picker itself offers only JPEG and PNG files; a forged type is refused
    # by the server, tests/api/test_rider_report_callbacks.py)
    fake = tmp_path / "fake.jpg"
    fake.write_bytes(b"%PDF-1.4 this is no jpeg")
    attach(dash_duo, fake)
    dash_duo.wait_for_contains_text(f"#{R.photo_msg}", "照片没有加上：照片打不开：请换一张 JPEG 或 PNG 照片", timeout=15)
    assert not dash_duo.find_element(f"#{R.photo_row}").is_displayed()
    no_sideways_scroll(dash_duo)
    clean(dash_duo)


@pytest.fixture()
def new_phone():
    """A second browser with its own storage: the rider's new phone."""
    driver = second_browser()
    phone(driver)
    yield driver
    driver.quit()


def qr_screenshot(dash_duo) -> bytes:
    """The QR code as the phone's screen shows it (the panel may be drawn again under our feet: try again)."""
    def shot():
        try:
            qr = dash_duo.find_element(f"#{R.code_body} .code-qr")
            assert qr.size["width"] >= 180
            return qr.screenshot_as_png
        except StaleElementReferenceException:
            return None
    return wait_until(dash_duo, shot)


def decode_qr(png: bytes) -> str:
    done = subprocess.run(["zbarimg", "--raw", "-q", "-"], input=png, capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode().strip()


def test_the_rider_code_its_qr_a_new_phone_and_points(dash_duo, reporting, new_phone):
    app, store, station = reporting
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + "/")
    dash_duo.wait_for_element("#rider-results .result", timeout=15)
    assert "没有暖新码" in dash_duo.find_element(f"#{R.code_line}").get_attribute("textContent")
    code = my_code(dash_duo)
    assert set(code) <= set(rider_codes.ALPHABET) and len(code) == rider_codes.LENGTH
    stored = dash_duo.driver.execute_script(f"return window.localStorage.getItem('{R.code}')")
    assert code in stored
    # the same code on every opening; the QR code holds the link that moves it
    close_code_panel(dash_duo)
    assert my_code(dash_duo) == code
    link = rider_codes.transfer_link(dash_duo.server_url, code)
    assert decode_qr(qr_screenshot(dash_duo)) == link
    assert "积分 0 分" in dash_duo.find_element(f"#{R.code_body}").text
    no_sideways_scroll(dash_duo)
    assert small_targets(dash_duo, f"#{R.code_panel}") == []

    # a report sent with the code is confirmed by the city: 10 points, once
    sent = submit_report(store, {"kind": "facility_broken", "amenity": "microwave", "station_id": station["id"],
                                 "rider_code": code})
    city = Account(1, "city-admin", "city")
    assert len(confirm(store, city, sent.report_id)["awarded"]) == 1
    assert confirm(store, city, sent.report_id)["awarded"] == []

    # the new phone opens the QR code's link: the code moves there, the fragment is gone, points and reports shown
    new_phone.get(link)
    wait_until(dash_duo, lambda: "暖新码已转移到本机" in new_phone.find_element(By.ID, R.code_msg).text,
               timeout=15, message=lambda: new_phone.find_element(By.TAG_NAME, "body").text[:500])
    body = new_phone.find_element(By.ID, R.code_body)
    wait_until(dash_duo, lambda: "10 分" in body.text, timeout=10, message=lambda: body.text)
    assert rider_codes.shown(code) in body.text and "获得" in body.text and "+10" in body.text
    assert f"报告 {sent.ref}" in body.text and "已核实属实" in body.text
    assert new_phone.execute_script("return window.location.hash") == ""
    assert code in new_phone.execute_script(f"return window.localStorage.getItem('{R.code}')")
    assert new_phone.get_log("browser") == []

    # and the first phone sees the balance when it opens the panel again
    close_code_panel(dash_duo)
    my_code(dash_duo)
    dash_duo.wait_for_contains_text(f"#{R.code_body} .points-balance", "10 分", timeout=10)
    clean(dash_duo)


def test_english_compound_and_point_reports(dash_duo, reporting):
    app, store, station = reporting
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    dash_duo.driver.get(dash_duo.server_url + station_link(station, "en"))
    dash_duo.wait_for_text_to_equal("#rider-card .card-title", station["name"], timeout=15)
    assert dash_duo.find_element("#rider-card .report-open").text == "Report a problem"
    tap(dash_duo, "#rider-card-close")
    # the rider's own point: the kinds that may be anywhere, and the compound's
    tap(dash_duo, ".where-row .report-open")
    dash_duo.wait_for_contains_text(f"#{R.about}", "Here (", timeout=10)
    kinds = texts(dash_duo, f"#{R.kinds} .chip")
    assert "Hazard" in kinds and "Facility broken" not in kinds
    tap_chip(dash_duo, f"#{R.kinds}", "Hazard")
    tap(dash_duo, f"#{R.send}")
    dash_duo.wait_for_contains_text(f"#{R.receipt}", "Received: reference NX", timeout=15)
    assert "Acknowledged by" in receipt(dash_duo)
    [row] = store.reports.select()
    assert row["kind"] == "hazard" and abs(row["lat"] - station.geometry.y) < 1e-5
    tap(dash_duo, f"#{R.close}")
    # a compound's entry view has the button too
    compounds = store.read("compounds")
    names = compounds["name"].value_counts()
    compound = compounds[compounds["name"].map(names) == 1].iloc[0]
    tap(dash_duo, "#rider-compound-title")
    dash_duo.find_element("#rider-compound-name").send_keys(compound["name"])
    tap(dash_duo, "#rider-compound-go")
    dash_duo.wait_for_element("#rider-compound-msg .report-open", timeout=10)
    tap(dash_duo, "#rider-compound-msg .report-open")
    dash_duo.wait_for_contains_text(f"#{R.about}", compound["name"], timeout=10)
    tap_chip(dash_duo, f"#{R.kinds}", "Compound gate refuses riders")
    tap(dash_duo, f"#{R.send}")
    dash_duo.wait_for_contains_text(f"#{R.receipt}", "Received: reference NX", timeout=15)
    assert sorted(r["kind"] for r in store.reports.select()) == ["gate_refuses", "hazard"]
    assert store.reports.select("kind = 'gate_refuses'")[0]["compound_id"] == compound["id"]
    no_sideways_scroll(dash_duo)
    clean(dash_duo)
