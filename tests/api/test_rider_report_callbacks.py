"""The rider page's report callbacks as any client can call them: forged photos, wrong kinds, long notes, junk codes
and a flood each get a clear message naming what to fix (never a 500), and a good report is kept as sent."""
from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from layers.common import rider_codes
from layers.common.photos import MAX_BYTES
from layers.services import services_of
from pages.ids import RIDER, RIDER_REPORT
from pages.rider.reports import MAX_PHOTO_BASE64
from tests.helpers import callback_request

R = RIDER_REPORT


def text_of(node) -> str:
    """The text a serialised Dash component shows."""
    if node is None or isinstance(node, bool):
        return ""
    if isinstance(node, (str, int, float)):
        return str(node)
    if isinstance(node, list):
        return "".join(text_of(n) for n in node)
    if isinstance(node, dict):
        return text_of(node.get("props", {}).get("children"))
    return ""


def jpeg(size=(64, 48), colour=(200, 90, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def data_url(data: bytes, media_type: str = "image/jpeg") -> str:
    return f"data:{media_type};base64," + base64.b64encode(data).decode()


@pytest.fixture()
def app_and_station(private_app):
    store = services_of(private_app.server).store
    stations = store.read("stations")
    station = stations[stations["amenities"].map(lambda a: "microwave" in a)].iloc[0]
    return private_app, store, station


def post(app, output_id, values):
    r = app.server.test_client().post("/_dash-update-component", json=callback_request(app, output_id, values))
    assert r.status_code in (200, 204), r.data[:300]
    return r.get_json()["response"] if r.status_code == 200 else {}


def send(app, station, lang="zh", **fields):
    values = {R.send: 1, R.place: {"station_id": station["id"]}, R.kinds: "facility_broken",
              R.amenities: "microwave", R.note: "", R.photo: None, R.code: None, R.refs: [],
              RIDER.state: {"lang": lang}}
    values.update({getattr(R, k) if hasattr(R, k) else k: v for k, v in fields.items()})
    response = post(app, R.refs, values)
    return text_of(response[R.receipt]["children"]), response


def check_photo(app, contents, name="photo.jpg", lang="zh"):
    response = post(app, R.photo_in, {R.photo_in: {"name": name, "contents": contents}, RIDER.state: {"lang": lang}})
    return response


def test_a_good_report_is_kept_and_remembered(app_and_station):
    app, store, station = app_and_station
    code = rider_codes.new_code()
    said, response = send(app, station, note="微波炉不加热", code=code, refs=["NX000999", {"$ne": 1}])
    assert said.startswith("已收到，编号 NX"), said
    ref = said.split("编号 ")[1][:8]
    assert response[R.refs]["data"] == ["NX000999", ref]   # the junk ref dropped, the new one kept
    assert "前受理" in said and "前处理" in said and "10 积分" in said
    row = store.reports.get(int(ref[2:]))
    assert row["kind"] == "facility_broken" and row["amenity"] == "microwave" and row["note"] == "微波炉不加热"
    # the same problem again from another rider is merged, and the page says how many reported it
    again, _ = send(app, station, code=rider_codes.new_code())
    assert ref in again and "已有 2 位骑手报告了这个问题" in again
    assert store.reports.get(int(ref[2:]))["riders"] == 2


@pytest.mark.parametrize("contents, expected", [
    ("data:text/plain;base64," + base64.b64encode(b"hello").decode(), "只能加 JPEG 或 PNG 照片，这个文件是 text/plain"),
    ("data:application/pdf;base64,JVBERi0=", "这个文件是 application/pdf"),
    ("data:image/jpeg;base64,@@@not base64@@@", "照片打不开"),
    ("data:image/jpeg;base64," + base64.b64encode(b"GIF89a not a jpeg at all").decode(), "照片打不开"),
    ("data:image/png," + "x" * 100, "照片打不开"),
    ("x" * 20_000, "照片打不开"),
    ("data:image/jpeg;base64," + "A" * (MAX_PHOTO_BASE64 + 8), "照片太大（8.0 MB），最大 8 MB"),
    (["data:image/jpeg;base64,AAAA"], "照片打不开"),
])
def test_a_forged_photo_is_refused_with_what_to_fix(app_and_station, contents, expected):
    app, store, station = app_and_station
    response = check_photo(app, contents)
    assert expected in text_of(response[R.photo_msg]["children"])
    assert response[R.photo]["data"] is None
    # and the same contents sent straight to the send callback: not sent, the same words
    said, _ = send(app, station, photo=contents)
    assert said.startswith("没有发送") and expected in said, said
    assert store.reports.select() == []


def test_a_photo_is_cleaned_for_the_preview_and_the_english_page_says_so(app_and_station):
    app, _, _ = app_and_station
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (30.0, 39.0, 31.0), 3: "E", 4: (104.0, 3.0, 53.0)}
    out = io.BytesIO()
    Image.new("RGB", (2400, 1800), (30, 120, 200)).save(out, "JPEG", exif=exif)
    response = check_photo(app, data_url(out.getvalue()), name="IMG_0001.jpg", lang="en")
    sent = response[R.photo]["data"]
    assert sent.startswith("data:image/jpeg;base64,")
    kept = Image.open(io.BytesIO(base64.b64decode(sent.split(",", 1)[1])))
    assert max(kept.size) <= 1600 and dict(kept.getexif()) == {}
    assert "Photo attached: IMG_0001.jpg (location removed)" in text_of(response[R.photo_preview]["children"])
    assert response[R.photo_row]["hidden"] is False
    big = check_photo(app, data_url(b"\xff\xd8" + b"\0" * (MAX_BYTES + 10)), lang="en")
    assert "the photo is too large (8.0 MB); at most 8 MB" in text_of(big[R.photo_msg]["children"])


@pytest.mark.parametrize("fields, expected", [
    ({"kinds": "fly_to_the_moon"}, "请选择是什么问题"),
    ({"kinds": {"$ne": 1}}, "请选择是什么问题"),
    ({"kinds": ["hazard"]}, "请选择是什么问题"),
    ({"kinds": None}, "请选择是什么问题"),
    ({"kinds": "gate_refuses"}, "这里不能报告「小区门禁不让进」"),
    ({"amenities": None}, "请选择哪个设施坏了"),
    ({"amenities": "swimming_pool"}, "请选择哪个设施坏了"),
    ({"amenities": ["microwave"]}, "请选择哪个设施坏了"),
    ({"note": "太长" * 251}, "补充说明有 502 字，请缩短到 500 字以内"),
    ({"note": "x" * 20_000}, "请缩短到 500 字以内"),
    ({"note": 42}, "补充说明只能是文字"),
    ({"code": "not-a-code"}, "本机的暖新码无效"),
    ({"code": ["7K3MQ9XA2HFDT8WB"]}, "本机的暖新码无效"),
    ({"place": {"station_id": "st-nope"}}, "找不到要报告的地点"),
    ({"place": {"station_id": "st-0001", "compound_id": "x"}}, "找不到要报告的地点"),
    ({"place": {"lat": 1e308, "lon": "x"}}, "找不到要报告的地点"),
    ({"place": "st-0001"}, "找不到要报告的地点"),
    ({"place": {"lon": 116.39, "lat": 39.9}, "kinds": "hazard"}, "这个位置不在成都市范围内"),
])
def test_wrong_input_is_refused_naming_what_to_fix(app_and_station, fields, expected):
    app, store, station = app_and_station
    said, response = send(app, station, **fields)
    assert said.startswith("没有发送：") and expected in said, said
    assert R.refs not in response   # nothing remembered
    assert store.reports.select() == []


def test_english_refusals(app_and_station):
    app, _, station = app_and_station
    said, _ = send(app, station, lang="en", amenities=None)
    assert said == "Not sent: choose which facility is broken"


def test_a_report_at_a_point_and_one_at_a_compound(app_and_station):
    app, store, station = app_and_station
    said, _ = send(app, station, place={"lon": float(station.geometry.x), "lat": float(station.geometry.y)},
                   kinds="hazard", amenities=None, note="井盖没了")
    assert said.startswith("已收到"), said
    compound = store.read("compounds").iloc[0]
    said, _ = send(app, station, place={"compound_id": compound["id"]}, kinds="gate_refuses", amenities=None)
    assert said.startswith("已收到"), said
    kinds = sorted(r["kind"] for r in store.reports.select())
    assert kinds == ["gate_refuses", "hazard"]


def test_a_flood_is_refused_cleanly(app_and_station):
    app, store, station = app_and_station
    code = rider_codes.new_code()
    for _ in range(5):
        said, _ = send(app, station, code=code)
        assert said.startswith("已收到"), said
    said, response = send(app, station, code=code)
    assert said == "没有发送：提交太频繁，请 10 分钟后再试"
    assert R.refs not in response
    assert store.reports.get(1)["riders"] == 1   # one rider, counted once however often they sent it


def test_a_typed_code_is_checked(app_and_station):
    app = app_and_station[0]

    def typed(text, current=None, lang="zh"):
        return post(app, R.code_input, {R.code_use: 1, R.code_input: text, R.code: current,
                                        RIDER.state: {"lang": lang}})

    bad = typed("hello")
    assert "暖新码应为 16 位字母和数字" in bad[R.code_msg]["children"] and R.code not in bad
    assert R.code not in typed({"$ne": 1})
    moved = typed("7k3m-q9xa-2hfd-t8wb", current="0123456789ABCDEF")
    assert moved[R.code]["data"] == "7K3MQ9XA2HFDT8WB"
    assert moved[R.code_msg]["children"] == "暖新码已转移到本机（本机原来的暖新码 0123-4567-89AB-CDEF 已被替换）"
    same = typed("7K3MQ9XA2HFDT8WB", current="7K3MQ9XA2HFDT8WB", lang="en")
    assert same[R.code_msg]["children"] == "This phone has that code already"


def test_the_code_panel_shows_the_code_its_qr_and_my_reports(app_and_station):
    app, _, station = app_and_station
    code = rider_codes.new_code()
    said, response = send(app, station, code=code)
    refs = response[R.refs]["data"]
    panel = post(app, R.code_body, {R.code: code, R.refs: refs, R.code_panel: False, RIDER.state: {"lang": "zh"}})
    body = panel[R.code_body]["children"]
    shown = text_of(body)
    assert rider_codes.shown(code) in shown and "积分 0 分" in shown and "还没有积分记录" in shown
    assert refs[0] in shown and "设施损坏 · 微波炉" in shown and "新报告" in shown
    qr = next(c for c in body if isinstance(c, dict) and c["type"] == "Img")["props"]["src"]
    assert qr.startswith("data:image/svg+xml")
    # a forged panel request: nothing to show, no error
    assert post(app, R.code_body, {R.code: {"$ne": 1}, R.refs: "x", R.code_panel: False,
                                   RIDER.state: None})[R.code_body]["children"][-1]["props"]["className"] == "mine-none"
