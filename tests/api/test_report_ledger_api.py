"""The reports ledger and points through the API as a district's script or the signed-in page uses them: areas,
steps with versions, confirmation paying once, the temporary status, the downloads, rewards and redemption."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from layers.common import rider_codes
from layers.rider.reports import submit_report
from layers.staff.accounts import create_account, issue_token
from mapdata.store import open_store
from mapdata.vocabulary import REPORT_POINTS

PASSWORD = "correct horse battery"


@pytest.fixture()
def http(private_app):
    return private_app.server.test_client()


@pytest.fixture()
def store(private_app, writable_db):
    return open_store(writable_db)


@pytest.fixture()
def setup(store):
    stations = store.read("stations")
    mine = stations[stations["amenities"].map(lambda a: "microwave" in a)].iloc[0]
    other = stations[stations["adcode"] != mine["adcode"]].iloc[0]
    create_account(store, name="district", role="district", password=PASSWORD, by="test", adcode=int(mine["adcode"]))
    create_account(store, name="elsewhere", role="district", password=PASSWORD, by="test",
                   adcode=int(other["adcode"]))
    create_account(store, name="desk", role="station", password=PASSWORD, by="test", stations=[mine["id"]])
    tokens = {n: {"Authorization": f"Bearer {issue_token(store, n, 'test', by='test')}"}
              for n in ("district", "elsewhere", "desk")}
    return mine, other, tokens


def test_the_queue_is_the_accounts_area_overdue_first(http, store, setup):
    mine, other, tok = setup
    late = submit_report(store, {"kind": "closed_in_hours", "station_id": mine["id"]},
                         now=dt.datetime(2026, 11, 20, 9, 0))
    fresh = submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave"})
    away = submit_report(store, {"kind": "hazard", "station_id": other["id"]})
    assert http.get("/api/v1/ledger/reports").status_code == 401
    page = http.get("/api/v1/ledger/reports", headers=tok["district"]).get_json()
    assert [r["ref"] for r in page["reports"]] == [late.ref, fresh.ref]
    assert page["reports"][0]["overdue"] == ["acknowledge", "resolve"] and page["overdue"] == 1
    assert page["counts"]["new"] == 2
    assert [r["ref"] for r in http.get("/api/v1/ledger/reports", headers=tok["elsewhere"]).get_json()["reports"]] \
        == [away.ref]
    only_late = http.get("/api/v1/ledger/reports?overdue=true", headers=tok["district"]).get_json()
    assert [r["ref"] for r in only_late["reports"]] == [late.ref]
    # another area's report is not found, whatever its number
    assert http.get(f"/api/v1/ledger/reports/{away.ref}", headers=tok["district"]).status_code == 400
    assert http.get("/api/v1/ledger/reports?limit=500", headers=tok["district"]).status_code == 400


def test_steps_are_versioned_audited_and_seen_by_the_rider(http, store, setup):
    mine, _, tok = setup
    sent = submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave"})
    url = f"/api/v1/ledger/reports/{sent.ref}"
    detail = http.get(url, headers=tok["desk"])
    assert detail.status_code == 200 and detail.headers["ETag"] == '"1"'
    r = http.post(url + "/actions", json={"action": "acknowledge"}, headers={**tok["desk"], "If-Match": '"1"'})
    assert r.status_code == 200 and r.get_json()["state"] == "acknowledged"
    stale = http.post(url + "/actions", json={"action": "start"}, headers={**tok["desk"], "If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    wrong = http.post(url + "/actions", json={"action": "reopen"}, headers=tok["desk"])
    assert wrong.status_code == 400 and wrong.get_json()["error"]["field"] == "action"
    no_reason = http.post(url + "/actions", json={"action": "reject"}, headers=tok["desk"])
    assert no_reason.status_code == 400 and no_reason.get_json()["error"]["field"] == "reason"
    done = http.post(url + "/actions", json={"action": "resolve", "answer": "已更换微波炉"}, headers=tok["desk"])
    assert done.get_json()["state"] == "resolved"
    public = http.get(f"/api/open311/v2/requests/{sent.ref}.json").get_json()[0]
    assert public["status"] == "closed" and public["status_notes"] == "已更换微波炉"
    history = http.get(url, headers=tok["district"]).get_json()["history"]
    assert [(h["by"], h["action"]) for h in history] == [("rider", "report_new"), ("desk", "report_state"),
                                                         ("desk", "report_state")]


def test_confirming_pays_each_code_once_and_redemption_never_goes_below_zero(http, store, setup):
    mine, _, tok = setup
    code, code2 = rider_codes.new_code(), rider_codes.new_code()
    sent = submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave",
                                 "rider_code": code})
    submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave",
                          "rider_code": code2})
    url = f"/api/v1/ledger/reports/{sent.ref}/confirm"
    # confirming a report that moved on since the caller loaded it: 412, and nobody is paid
    stale = http.post(url, headers={**tok["desk"], "If-Match": '"9"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'   # the second rider counted on it
    assert http.get(f"/api/v1/riders/{code}/points").get_json()["balance"] == 0
    first = http.post(url, headers={**tok["desk"], "If-Match": '"2"'}).get_json()
    again = http.post(url, headers=tok["district"]).get_json()
    assert len(first["awarded"]) == 2 and again["awarded"] == []
    points = http.get(f"/api/v1/riders/{rider_codes.shown(code)}/points").get_json()
    amount = REPORT_POINTS["facility_broken"]
    assert points["balance"] == amount and [e["entry"] for e in points["entries"]] == ["award"]
    # a district's catalogue and a redemption at the station
    reward = http.post("/api/v1/rewards", json={"adcode": int(mine["adcode"]), "name": "矿泉水一瓶",
                                                "points": amount - 2}, headers=tok["district"])
    assert reward.status_code == 201
    rid = reward.get_json()["id"]
    assert http.post("/api/v1/rewards", json={"adcode": int(mine["adcode"]), "name": "x", "points": 1},
                     headers=tok["desk"]).status_code == 403
    listed = http.get(f"/api/v1/rewards?adcode={int(mine['adcode'])}").get_json()["rewards"]
    assert [r["name"] for r in listed] == ["矿泉水一瓶"]
    body = {"reward_id": rid, "station_id": mine["id"]}
    ok = http.post(f"/api/v1/riders/{code}/redemptions", json=body, headers=tok["desk"])
    assert ok.status_code == 201 and ok.get_json()["balance"] == 2
    short = http.post(f"/api/v1/riders/{code}/redemptions", json=body, headers=tok["desk"])
    assert short.status_code == 409 and short.get_json()["error"]["balance"] == 2
    assert http.get(f"/api/v1/riders/{code}/points").get_json()["balance"] == 2
    fix = http.post(f"/api/v1/riders/{code}/corrections", json={"points": -3, "note": "误发"}, headers=tok["district"])
    assert fix.status_code == 409
    fix = http.post(f"/api/v1/riders/{code}/corrections", json={"points": 5, "note": "补发"}, headers=tok["district"])
    assert fix.status_code == 201 and fix.get_json()["balance"] == 7
    assert http.post(f"/api/v1/riders/{code}/corrections", json={"points": 5, "note": "补发"},
                     headers=tok["desk"]).status_code == 403
    entries = http.get(f"/api/v1/riders/{code}/points").get_json()["entries"]
    assert [e["entry"] for e in entries] == ["correction", "redemption", "award"]
    withdrawn = http.patch(f"/api/v1/rewards/{rid}", json={"active": False}, headers={**tok["district"],
                                                                                      "If-Match": '"1"'})
    assert withdrawn.status_code == 200 and http.get(f"/api/v1/rewards?adcode={int(mine['adcode'])}") \
        .get_json()["rewards"] == []


def test_a_temporary_status_from_a_report_is_seen_by_riders_and_cleared_on_resolve(http, store, setup):
    mine, _, tok = setup
    sent = submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave"})
    stale = http.post(f"/api/v1/ledger/reports/{sent.ref}/status", json={"until": "2026-12-05T18:00"},
                      headers={**tok["desk"], "If-Match": '"4"'})
    assert stale.status_code == 412
    untouched = http.get(f"/api/v1/stations/{mine['id']}").get_json()
    assert "microwave" not in untouched["properties"]["amenities_out"]
    r = http.post(f"/api/v1/ledger/reports/{sent.ref}/status", json={"until": "2026-12-05T18:00", "note": "维修"},
                  headers={**tok["desk"], "If-Match": '"1"'})
    assert r.status_code == 200 and r.get_json()["state"] == "in_progress"
    station = http.get(f"/api/v1/stations/{mine['id']}").get_json()
    assert "microwave" in station["properties"]["amenities_out"]
    done = http.post(f"/api/v1/ledger/reports/{sent.ref}/actions", json={"action": "resolve", "clear_status": True},
                     headers=tok["desk"])
    assert done.status_code == 200 and done.get_json()["status_set"]["cleared"]
    station = http.get(f"/api/v1/stations/{mine['id']}").get_json()
    assert "microwave" not in station["properties"]["amenities_out"]


def test_the_ledger_downloads_carry_the_review_columns_and_the_summary(http, store, setup):
    mine, _, tok = setup
    late = submit_report(store, {"kind": "closed_in_hours", "station_id": mine["id"]},
                         now=dt.datetime(2026, 11, 20, 9, 0))
    http.post(f"/api/v1/ledger/reports/{late.ref}/actions", json={"action": "resolve", "answer": "=HYPERLINK(1)"},
              headers=tok["district"])
    submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave"})
    csv = http.get("/api/v1/ledger/reports.csv", headers=tok["district"])
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    text = csv.data.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("编号,类型,地点,区,街道,报告时间,受理时间,办结时间,状态,用时（天）,超期")
    assert "受理超期、办结超期" in text and "未按时开放" in text and "'=HYPERLINK(1)" in text
    book = load_workbook(io.BytesIO(http.get("/api/v1/ledger/reports.xlsx?state=closed",
                                             headers=tok["district"]).data))
    assert book.sheetnames == ["骑手报告台账", "月度汇总"]
    rows = list(book["骑手报告台账"].values)
    assert len(rows) == 2 and rows[1][8] == "已解决"
    summary = list(book["月度汇总"].values)
    assert summary[0][:4] == ("月份", "区划代码", "区", "收到报告")
    assert summary[1][0] == "2026-11" and summary[1][3] == 1 and summary[1][5] == 0   # resolved late
    assert http.get("/api/v1/ledger/reports/summary.csv", headers=tok["district"]).status_code == 200
    assert http.get("/api/v1/ledger/reports.csv").status_code == 401


def test_a_photo_is_for_staff_of_the_area_only(http, store, setup):
    from PIL import Image
    mine, _, tok = setup
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), "blue").save(buf, "PNG")
    sent = submit_report(store, {"kind": "facility_broken", "station_id": mine["id"], "amenity": "microwave"},
                         photo=buf.getvalue())
    photo_id = http.get(f"/api/v1/ledger/reports/{sent.ref}", headers=tok["desk"]).get_json()["photos"][0]["id"]
    got = http.get(f"/api/v1/ledger/photos/{photo_id}.jpg", headers=tok["desk"])
    assert got.status_code == 200 and got.mimetype == "image/jpeg" and got.data[:2] == b"\xff\xd8"
    assert http.get(f"/api/v1/ledger/photos/{photo_id}.jpg").status_code == 401
    assert http.get(f"/api/v1/ledger/photos/{photo_id}.jpg", headers=tok["elsewhere"]).status_code == 400
