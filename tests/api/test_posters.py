"""The stations' QR posters over HTTP, read back as a person and a phone would: the PDF's text (pdftotext), its
page size (pdfinfo), and its QR code decoded from the printed page (pdftoppm at 150 dpi, then zbarimg).
The short link ``/s/<id>`` the QR code holds redirects to the rider page with the station's card open."""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pandas as pd
import pytest

from tests.helpers import JINJIANG

#: What the host tools are, and the Debian package `make test` installs each from.
TOOLS = {"pdftotext": "poppler-utils", "pdfinfo": "poppler-utils", "pdftoppm": "poppler-utils",
         "zbarimg": "zbar-tools"}
#: PDF points (1/72 in) of the paper sizes, portrait, rounded.
PAGE_POINTS = {"A4": (595, 842), "A5": (420, 595)}
#: The base URL of the test client's requests (no NUANXIN_PUBLIC_URL set).
BASE = "http://localhost"
#: Weekday office hours with a lunch break and no public holidays: worded as the rider card words hours.
OFFICE_HOURS = "Mo-Fr 08:30-12:00,14:00-18:00; PH off"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `make test` installs it (Debian package {TOOLS[name]}); "
                    f"or run `apt-get install {TOOLS[name]}`", pytrace=False)
    return path


def _run(*args, data: bytes | None = None) -> str:
    done = subprocess.run(args, input=data, capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8")


def pdf_text(pdf: bytes, page: int | None = None) -> str:
    pages = [] if page is None else ["-f", str(page), "-l", str(page)]
    return _run(_tool("pdftotext"), "-enc", "UTF-8", *pages, "-", "-", data=pdf)


def pdf_pages(pdf: bytes) -> tuple[int, tuple[float, float]]:
    info = _run(_tool("pdfinfo"), "-", data=pdf)
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    w, h = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M).groups()
    return pages, (float(w), float(h))


def qr_codes(pdf: bytes, tmp_path, page: int = 1) -> list[str]:
    """The QR codes a reader finds on ``page`` printed at 150 dpi."""
    stem = tmp_path / f"page{page}"
    (tmp_path / "poster.pdf").write_bytes(pdf)
    _run(_tool("pdftoppm"), "-r", "150", "-png", "-f", str(page), "-l", str(page), "-singlefile",
         str(tmp_path / "poster.pdf"), str(stem))
    done = subprocess.run([_tool("zbarimg"), "--raw", "-q", f"{stem}.png"], capture_output=True, timeout=120)
    assert done.returncode in (0, 4), done.stderr  # 4: ran, found no code
    return done.stdout.decode("utf-8").splitlines()


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def active(store):
    stations = store.read("stations")
    return stations[stations["retired_at"].isna()].reset_index(drop=True)


@pytest.fixture(scope="module")
def office(active):
    """A station keeping office hours (the demo data has several)."""
    return active[active["opening_hours"] == OFFICE_HOURS].iloc[0]


@pytest.mark.parametrize("size", ["A5", "A4"])
def test_a_station_poster_says_what_the_station_is_and_its_code_opens_it(client, office, size, tmp_path):
    r = client.get(f"/api/v1/stations/{office['id']}/poster.pdf?size={size}")
    assert r.status_code == 200, r.data[:300]
    assert r.mimetype == "application/pdf"
    disposition = r.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and f"{office['id']}-{size}.pdf" in disposition
    chinese = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    assert unquote(chinese).startswith("暖新码-") and unquote(chinese).endswith(f"-{size}.pdf")

    pages, (w, h) = pdf_pages(r.data)
    assert pages == 1
    assert (round(w), round(h)) == PAGE_POINTS[size]

    text = pdf_text(r.data)
    flat = _flat(text)
    assert _flat(office["name"]) in flat
    assert _flat(office["address"]) in flat
    # the hours in words, as the rider card writes them (not the OSM syntax)
    for words in ("周一至周五 08:30–12:00、14:00–18:00", "周六、周日 休息", "法定节假日 休息"):
        assert _flat(words) in flat, text
    assert "扫码查看开放时间 · 报告问题" in text
    assert "report a problem" in text

    assert qr_codes(r.data, tmp_path) == [f"{BASE}/s/{office['id']}"]


def test_the_poster_is_a5_unless_asked_and_names_exactly_the_stations_amenities(client, active):
    from mapdata.vocabulary import AMENITY_BY_KEY

    row = active[active["amenities"].map(len).between(3, len(AMENITY_BY_KEY) - 2)].iloc[0]
    r = client.get(f"/api/v1/stations/{row['id']}/poster.pdf")
    assert r.status_code == 200
    assert tuple(round(v) for v in pdf_pages(r.data)[1]) == PAGE_POINTS["A5"]
    amenities = _flat(pdf_text(r.data)).split("服务设施")[1].split("扫码查看")[0]
    shown = {k for k, a in AMENITY_BY_KEY.items() if _flat(a.zh) in amenities}
    assert shown == set(row["amenities"])


def test_a_districts_posters_are_one_page_per_active_station_ordered_by_name(client, active, tmp_path):
    mine = active[active["adcode"].astype(np.int64) == JINJIANG].sort_values(["name", "id"])
    r = client.get(f"/api/v1/reports/posters.pdf?district={JINJIANG}&size=A5")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert f"nuanxin-posters-{JINJIANG}-A5.pdf" in r.headers["Content-Disposition"]
    assert unquote(re.search(r"filename\*=UTF-8''(\S+)", r.headers["Content-Disposition"]).group(1)) == \
        "暖新码-锦江区-A5.pdf"
    pages, _ = pdf_pages(r.data)
    assert pages == len(mine) > 1
    for page, name in ((1, mine["name"].iloc[0]), (pages, mine["name"].iloc[-1])):
        assert _flat(name) in _flat(pdf_text(r.data, page))
    assert qr_codes(r.data, tmp_path, page=pages) == [f"{BASE}/s/{mine['id'].iloc[-1]}"]


def test_a_retired_station_has_no_poster_no_page_in_its_district_and_no_link(private_app):
    from layers.services import services_of
    from layers.staff.accounts import Account
    from layers.staff.stations import retire_station

    client = private_app.server.test_client()
    store = services_of(private_app.server).store
    stations = store.read("stations")
    mine = stations[(stations["adcode"].astype(np.int64) == JINJIANG) & stations["retired_at"].isna()]
    before = pdf_pages(client.get(f"/api/v1/reports/posters.pdf?district={JINJIANG}").data)[0]
    assert before == len(mine)
    gone = str(mine["id"].iloc[0])
    assert client.get(f"/s/{gone}").status_code == 302
    retire_station(store, Account(1, "city", "city"), gone)
    assert pdf_pages(client.get(f"/api/v1/reports/posters.pdf?district={JINJIANG}").data)[0] == before - 1
    r = client.get(f"/api/v1/stations/{gone}/poster.pdf")
    assert r.status_code == 404 and r.get_json()["error"]["field"] == "station_id"
    r = client.get(f"/s/{gone}")
    assert r.status_code == 404 and r.mimetype == "text/html"
    assert "没有找到这个驿站" in r.get_data(as_text=True) and gone in r.get_data(as_text=True)


def test_the_short_link_opens_the_rider_page_at_the_station_with_its_card(client, dash_app, office):
    r = client.get(f"/s/{office['id']}")
    assert r.status_code == 302
    location = urlsplit(r.headers["Location"])
    assert location.path == "/" and not location.netloc
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["s"] == office["id"]
    assert float(query["lat"]) == pytest.approx(office.geometry.y, abs=1e-6)
    assert float(query["lon"]) == pytest.approx(office.geometry.x, abs=1e-6)

    from pages.rider.views import card_view, initial_state, page_state

    with dash_app.server.test_request_context(r.headers["Location"]):
        body, hidden, centre = card_view(page_state(initial_state(**query)), None)
    assert hidden is False
    assert body[0].children == office["name"]  # the card's title: the station the poster hangs at
    assert centre == pytest.approx([office.geometry.y, office.geometry.x])
    page = client.get(r.headers["Location"])
    assert page.status_code == 200 and page.mimetype == "text/html"


@pytest.mark.parametrize("path", ["/s/st-9999", "/s/" + "x" * 65, "/s/st%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                                  "/s/st-0001%20OR%201=1"])
def test_an_unknown_or_malformed_short_link_is_a_404_page_in_plain_words(client, path):
    r = client.get(path)
    assert r.status_code == 404
    assert r.mimetype == "text/html"
    text = r.get_data(as_text=True)
    assert "没有找到这个驿站" in text and "Nuanxin Map" in text
    assert "<script>" not in text


@pytest.mark.parametrize("url, status, field", [
    ("/api/v1/stations/st-0001/poster.pdf?size=A3", 400, "size"),
    ("/api/v1/stations/st-0001/poster.pdf?size=a4", 400, "size"),
    ("/api/v1/stations/st-0001/poster.pdf?size=A4&size=A5", 400, "size"),
    ("/api/v1/stations/st-9999/poster.pdf", 404, "station_id"),
    ("/api/v1/stations/st%20x/poster.pdf", 400, "station_id"),
    ("/api/v1/stations/" + "x" * 65 + "/poster.pdf", 400, "station_id"),
    ("/api/v1/reports/posters.pdf", 400, "district"),
    ("/api/v1/reports/posters.pdf?district=chengdu", 400, "district"),
    ("/api/v1/reports/posters.pdf?district=5101", 400, "district"),
    ("/api/v1/reports/posters.pdf?district=123456", 404, "district"),
    (f"/api/v1/reports/posters.pdf?district={JINJIANG}&size=B5", 400, "size"),
])
def test_bad_inputs_are_refused_naming_the_field(client, url, status, field):
    r = client.get(url)
    assert r.status_code == status
    assert r.mimetype == "application/json"
    assert r.get_json()["error"]["field"] == field


def test_the_public_url_setting_is_what_the_codes_hold(dash_app, client, office, tmp_path):
    from layers.services import EXTENSION

    saved = dash_app.server.extensions[EXTENSION]
    settings = dataclasses.replace(saved.settings, public_url="https://nuanxin.example.cn/map")
    dash_app.server.extensions[EXTENSION] = dataclasses.replace(saved, settings=settings)
    try:
        r = client.get(f"/api/v1/stations/{office['id']}/poster.pdf")
    finally:
        dash_app.server.extensions[EXTENSION] = saved
    assert qr_codes(r.data, tmp_path) == [f"https://nuanxin.example.cn/map/s/{office['id']}"]


@pytest.mark.parametrize("value, expected", [
    ("https://nuanxin.example.cn", "https://nuanxin.example.cn"), ("http://10.0.0.5:8050/", "http://10.0.0.5:8050"),
    ("https://example.cn/nuanxin/", "https://example.cn/nuanxin"), ("", None), (None, None),
])
def test_the_public_url_setting_is_read_from_the_environment(value, expected):
    from mapdata.config import Settings

    env = {} if value is None else {"NUANXIN_PUBLIC_URL": value}
    assert Settings.from_env(env).public_url == expected


@pytest.mark.parametrize("value", ["ftp://example.cn", "example.cn", "https://", "https://example.cn/?from=poster",
                                   "https://example.cn/#top", "https://user:pw@example.cn", "https://exa mple.cn",
                                   "javascript:alert(1)", "https://example.cn:99999"])
def test_a_public_url_that_cannot_head_a_link_is_refused_at_start(value):
    from mapdata.config import Settings

    with pytest.raises(ValueError, match="NUANXIN_PUBLIC_URL"):
        Settings.from_env({"NUANXIN_PUBLIC_URL": value})


def test_a_stations_text_is_printed_as_text_never_read_as_markup(tmp_path):
    from exports.poster import station_poster_pdf

    hostile = {"id": "st-0999", "name": '<img src="http://127.0.0.1:9/x.png">驿站', "address": "</p><h1>地址</h1>",
               "opening_hours": "24/7", "amenities": frozenset({"microwave"}), "district": "锦江区", "street": None}
    pdf = station_poster_pdf(pd.DataFrame([hostile]), "https://nuanxin.example.cn", "A5")
    text = pdf_text(pdf)
    assert '<img src="http://127.0.0.1:9/x.png">驿站' in text
    assert "</p><h1>地址</h1>" in text
    assert "每天 24 小时" in text
    assert qr_codes(pdf, tmp_path) == ["https://nuanxin.example.cn/s/st-0999"]


@pytest.mark.parametrize("expression, words", [
    ("24/7", ("每天 24 小时",)),
    ("Mo-Su 08:00-24:00", ("每天 08:00–24:00",)),
    ("Mo-Su 18:00-02:00", ("每天 18:00–02:00",)),
    ("Mo-Su 07:00-23:00; PH 09:00-18:00", ("每天 07:00–23:00", "法定节假日 09:00–18:00")),
    ("Mo-Fr 08:30-18:00; Sa 09:00-12:00; PH off",
     ("周一至周五 08:30–18:00", "周六 09:00–12:00", "周日 休息", "法定节假日 休息", "调休上班日 按工作日时间")),
    ("Tu-Su 09:00-18:00; Mo off", ("周一 休息", "周二至周日 09:00–18:00", "调休上班日 按工作日时间")),
    # seasonal hours do not fit one week's words: the poster shows the OSM text, as the card does
    ("Oct-Mar Mo-Su 09:00-17:00; Apr-Sep Mo-Su 08:00-19:00", ("Oct-Mar Mo-Su 09:00-17:00; Apr-Sep Mo-Su 08:00-19:00",)),
])
def test_hours_are_worded_as_the_rider_card_words_them(expression, words):
    from exports.poster import hours_in_words

    assert hours_in_words(expression) == words
