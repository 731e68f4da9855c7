"""The service ledger out and back in: four formats, Chinese headers, a dry run listing every bad row and every
change, and an import written in one transaction or not at all."""
from __future__ import annotations

import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from layers.staff.accounts import create_account, issue_token
from mapdata.store import open_store
from tests.helpers import layer_rows

PASSWORD = "correct horse battery"


@pytest.fixture()
def app(private_app):
    return private_app


@pytest.fixture()
def setup(app, writable_db):
    store = open_store(writable_db)
    stations = store.read("stations")
    adcode = int(stations["adcode"].value_counts().index[0])
    create_account(store, name="qu", role="district", password=PASSWORD, adcode=adcode, by="test")
    token = issue_token(store, "qu", "test", by="test")
    return app.server.test_client(), store, {"Authorization": f"Bearer {token}"}, adcode


def export_csv(http, headers, **params):
    r = http.get("/api/v1/ledger/stations.csv", headers=headers, query_string=params)
    assert r.status_code == 200 and r.data.startswith(b"\xef\xbb\xbf")
    return pd.read_csv(io.BytesIO(r.data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def send(http, headers, frame, dry_run="true", crs="wgs84"):
    body = frame.to_csv(index=False).encode("utf-8-sig")
    return http.post("/api/v1/ledger/stations", data=body, content_type="text/csv", headers=headers,
                     query_string={"dry_run": dry_run, "crs": crs})


def state(store):
    return layer_rows(store), len(store.audit_log())


def test_the_ledger_has_the_districts_stations_in_every_format(setup):
    http, store, headers, adcode = setup
    table = export_csv(http, headers)
    stations = store.read("stations")
    assert list(table.columns)[:4] == ["编号", "名称", "区", "街道"]
    assert sorted(table["编号"]) == sorted(stations.loc[stations["adcode"] == adcode, "id"])
    wb = load_workbook(io.BytesIO(http.get("/api/v1/ledger/stations.xlsx", headers=headers).data))
    assert wb.active.max_row == len(table) + 1 and wb.active["A1"].value == "编号"
    gj = http.get("/api/v1/ledger/stations.geojson", headers=headers).get_json(force=True)
    assert len(gj["features"]) == len(table)
    gpkg = http.get("/api/v1/ledger/stations.gpkg", headers=headers)
    assert gpkg.data[:16] == b"SQLite format 3\x00"
    assert http.get("/api/v1/ledger/stations.csv").status_code == 401
    assert http.get("/api/v1/ledger/stations.pdf", headers=headers).status_code in (400, 404)


def test_text_a_spreadsheet_would_run_is_written_inert(setup):
    http, store, headers, adcode = setup
    table = export_csv(http, headers)
    sid = table["编号"].iloc[0]
    r = http.patch(f"/api/v1/stations/{sid}", json={"address": "=HYPERLINK(\"http://evil\")"},
                   headers={**headers, "If-Match": '"1"'})
    assert r.status_code == 200
    again = export_csv(http, headers)
    assert again.set_index("编号").loc[sid, "地址"].startswith("'=")
    wb = load_workbook(io.BytesIO(http.get("/api/v1/ledger/stations.xlsx", headers=headers).data))
    assert not any(str(c.value).startswith("=") for row in wb.active.iter_rows() for c in row if c.value)


def test_a_dry_run_lists_the_changes_and_writes_nothing_then_the_import_writes_them(setup):
    http, store, headers, _ = setup
    table = export_csv(http, headers)
    table.loc[0, "电话"] = "028-99990000"
    table.loc[1, "营业时间"] = "Mo-Su 07:00-23:00"
    table.loc[1, "服务设施"] = "饮水、充电"
    before = state(store)
    r = send(http, headers, table)
    body = r.get_json()
    assert r.status_code == 200 and body["ok"] and body["written"] == 0
    assert [c["id"] for c in body["changes"]] == list(table["编号"].iloc[:2])
    assert {ch["field"] for ch in body["changes"][1]["changes"]} == {"opening_hours", "amenities"}
    assert body["unchanged"] == len(table) - 2
    assert state(store) == before
    r = send(http, headers, table, dry_run="false")
    assert r.status_code == 200 and r.get_json()["written"] == 2
    rows = store.read("stations").set_index("id")
    assert rows.loc[table["编号"].iloc[0], "phone"] == "028-99990000"
    assert rows.loc[table["编号"].iloc[1], "amenities"] == frozenset({"drinking_water", "charging"})
    assert set(store.audit_log("stations")["action"]) == {"import"}


def test_bad_rows_are_listed_by_row_and_field_and_nothing_is_written(setup):
    http, store, headers, adcode = setup
    table = export_csv(http, headers)
    other = store.read("stations")
    other = other[other["adcode"] != adcode].iloc[0]
    table.loc[0, "电话"] = "028-12312312"  # a good change, not written because of the others
    table.loc[1, "营业时间"] = "Mo-Fr 25:00-26:00"
    table.loc[2, "容纳人数"] = "lots"
    table.loc[3, "服务设施"] = "桑拿"
    table.loc[4, "版本"] = "7"
    table.loc[5, "编号"] = "st-9999"
    table.loc[6, "编号"] = other["id"]
    before = state(store)
    body = send(http, headers, table).get_json()
    assert not body["ok"]
    assert [(p["row"], p["field"]) for p in body["problems"]] == [
        (2, "opening_hours"), (3, "capacity"), (4, "amenities"), (5, "version"), (6, "id"), (7, "id")]
    r = send(http, headers, table, dry_run="false")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_rows"
    assert state(store) == before


def test_coordinates_in_gcj02_come_back_to_the_same_place(setup):
    http, store, headers, _ = setup
    table = export_csv(http, headers, crs="gcj02")
    stations = store.read("stations").set_index("id")
    sid = table["编号"].iloc[0]
    assert abs(float(table["经度"].iloc[0]) - stations.loc[sid].geometry.x) > 1e-4  # really shifted
    body = send(http, headers, table, crs="gcj02").get_json()
    assert body["ok"] and body["changes"] == []  # the round trip moves nothing
    moved = table.copy()
    moved.loc[0, "经度"] = f"{float(table['经度'].iloc[0]) + 0.001:.7f}"
    body = send(http, headers, moved, crs="gcj02").get_json()
    assert [c["field"] for c in body["changes"][0]["changes"]] == ["position"]
