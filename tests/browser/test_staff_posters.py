"""The 暖新码 posters from the staff page, on a phone: a loaded station's A4 and A5 links, and a district's
posters in one PDF from a form that offers a district account its own district only (the city every district)."""
from __future__ import annotations

import subprocess

import pytest
import requests

from layers.services import services_of
from layers.staff.accounts import create_account
from tests.browser.test_staff_page import PASSWORD, phone, sign_in
from tests.helpers import clean, wait_until


@pytest.fixture()
def district(private_app):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    active = stations[stations["status"] != "retired"] if "retired" in set(stations["status"]) else stations
    adcode = int(active.groupby("adcode").size().idxmin())   # the smallest district: its PDF renders quickly
    mine = active[active["adcode"] == adcode].sort_values("name")
    create_account(store, name="qu-poster", role="district", password=PASSWORD, adcode=adcode, by="test")
    create_account(store, name="shi-poster", role="city", password=PASSWORD, by="test")
    return private_app, store, adcode, mine


def pdf_text(content: bytes, tmp_path) -> str:
    path = tmp_path / "poster.pdf"
    path.write_bytes(content)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_pages(content: bytes, tmp_path) -> int:
    path = tmp_path / "posters.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))


def test_a_district_prints_a_stations_poster_and_its_districts_posters(dash_duo, district, tmp_path):
    app, store, adcode, mine = district
    phone(dash_duo.driver)
    dash_duo.start_server(app)
    sign_in(dash_duo, "qu-poster")
    assert dash_duo.find_element("#staff-posters").text == ""   # nothing before a station is loaded
    dash_duo.find_element("#staff-list .staff-station").click()
    name = wait_until(dash_duo, lambda: dash_duo.find_element("#staff-name").get_attribute("value"))
    dash_duo.wait_for_contains_text("#staff-posters", "本站海报", timeout=10)
    links = {a.text: a.get_attribute("href") for a in dash_duo.driver.find_elements("css selector", "#staff-posters a")}
    assert set(links) == {"PDF A4", "PDF A5"}
    answer = requests.get(links["PDF A4"], timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/pdf"
    assert name in pdf_text(answer.content, tmp_path)

    # the district's posters: its own district only, the URL the form sends, one page per station
    options = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#staff-poster-district option')).map(o => o.value)")
    assert options == [str(adcode)]
    dash_duo.driver.execute_script("document.getElementById('staff-poster-size').value = 'A4'")
    url = dash_duo.driver.execute_script(
        "const f = document.querySelector('form.staff-district-posters');"
        "return f.action + '?' + new URLSearchParams(new FormData(f)).toString()")
    assert url.endswith(f"/api/v1/reports/posters.pdf?district={adcode}&size=A4")
    answer = requests.get(url, timeout=120)
    assert answer.status_code == 200 and pdf_pages(answer.content, tmp_path) == len(mine)
    assert dash_duo.driver.execute_script("return document.documentElement.scrollWidth") <= 375
    clean(dash_duo)


def test_the_city_may_print_any_district_and_a_station_account_sees_no_district_form(dash_duo, district):
    app, store, adcode, _ = district
    dash_duo.start_server(app)
    sign_in(dash_duo, "shi-poster")
    options = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#staff-poster-district option')).map(o => o.value)")
    assert len(options) == len(store.read("districts")) and str(adcode) in options
    dash_duo.find_element("#staff-logout").click()
    create_account(store, name="zhan-poster", role="station", password=PASSWORD,
                   stations=[str(store.read("stations").iloc[0]["id"])], by="test")
    sign_in(dash_duo, "zhan-poster")
    assert dash_duo.driver.find_elements("css selector", "#staff-poster-district") == []
    clean(dash_duo)
