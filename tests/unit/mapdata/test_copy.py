"""`python -m mapdata.copy SRC DST`: a whole store from a GeoPackage to PostGIS and back, without loss.

Runs in the PostGIS session (`make test` runs one; `pytest --store=postgis`), which has a throwaway cluster.
"""
from __future__ import annotations

import datetime as dt
import io
import sqlite3
from contextlib import closing

import numpy as np
import pandas as pd
import pytest
import shapely
from PIL import Image

from layers.common import rider_codes
from layers.rider.reports import submit_report
from layers.staff.accounts import Account, create_account, issue_token
from layers.staff.reports import confirm
from mapdata import clock
from mapdata.calendar import CalendarDay
from mapdata.copy import CARRIED, main
from mapdata.store import Change, open_store
from mapdata.store.throttle import Limit
from tests.helpers import TEST_NOW, raw_sql


@pytest.fixture()
def pg_or_skip(pg):
    if pg is None:
        pytest.skip("runs in the PostGIS session (make test; pytest --store=postgis)")
    return pg


def _lived_in(path):
    """The demo store after some use: edits, accounts and a token, reports with a photo and points, a reward and
    a redemption, an imported calendar year, failed logins, a planner's upload."""
    store = open_store(path)
    stations = store.read("stations")
    first = stations.iloc[0]
    store.apply_changes("stations", [Change(first["id"], {"status": "closed_temporarily", "status_note": "维修 ;'\"",
                                                          "geometry": shapely.Point(104.0700001, 30.6600002)})],
                        user="staff:li")
    store.confirm("stations", [stations.iloc[1]["id"]], user="staff:wang")
    create_account(store, name="district", role="district", password="correct horse battery", by="test",
                   adcode=int(first["adcode"]))
    issue_token(store, "district", "script", by="test")
    code = rider_codes.new_code()
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, format="JPEG")
    sent = submit_report(store, {"kind": "facility_broken", "station_id": first["id"],
                                 "amenity": sorted(first["amenities"])[0], "rider_code": code, "note": "坏了"},
                         photo=buf.getvalue())
    submit_report(store, {"kind": "hazard", "lon": 104.07, "lat": 30.66, "note": "积水"})
    confirm(store, Account(1, "district", "district", adcode=int(first["adcode"])), sent.report_id)
    reward = store.reports.save_reward({"adcode": int(first["adcode"]), "name": "热饮一杯", "points": 5},
                                       reward_id=None, expected_version=None, by="district", at=TEST_NOW.isoformat())
    store.reports.take_points(rider_codes.code_hash(code), "redemption", -5, by="desk", at=TEST_NOW.isoformat(),
                              reward_id=reward["id"], station_id=first["id"])
    store.calendar.replace_year(2027, [CalendarDay(dt.date(2027, 1, 1), "holiday", "new_year")],
                                published_on=dt.date(2026, 11, 1), by="city")
    store.throttle.reserve([Limit("name:district", 5, 600), Limit("address:10.0.0.1", 20, 600)])
    store.uploads.put("demand", "tok123", {"lon": np.array([104.0, 104.1]), "at": np.array(
        ["2026-12-02T08:00", "NaT"], dtype="datetime64[ns]")}, {"rows": 2}, keep=3)
    return store


def _everything(store) -> dict:
    """Every layer as read, every side table's rows as stored."""
    out = {f"layer:{n}": store.read(n) for n in store.layers()}
    for table in CARRIED:
        if store.has_table(table):
            out[table] = store.table_rows(table)
    return out


def test_a_store_goes_to_postgis_and_back_without_loss(pg_or_skip, writable_db, demo_gpkg, tmp_path, capsys):
    src = tmp_path / "lived.gpkg"
    src.write_bytes(demo_gpkg.read_bytes())
    with clock.frozen(TEST_NOW):
        before = _everything(_lived_in(src))
    assert len(before["reports"][1]) == 2 and len(before["points_entries"][1]) == 2
    assert len(before["report_photos"][1]) == 1 and len(before["staff_tokens"][1]) == 1

    pg_url = pg_or_skip.copy()
    try:
        assert main([str(src), pg_url]) == 2  # a dataset is there already
        assert "--replace" in capsys.readouterr().err
        assert main([str(src), pg_url, "--replace"]) == 0
        assert "reports 2" in capsys.readouterr().out
        back = tmp_path / "back.gpkg"
        assert main([pg_url, str(back)]) == 0
        in_pg, again = _everything(open_store(pg_url)), _everything(open_store(back))
        for name, value in before.items():
            for copy, where in ((in_pg, "PostGIS"), (again, "the GeoPackage copied back")):
                if name.startswith("layer:"):
                    pd.testing.assert_frame_equal(pd.DataFrame(copy[name]), pd.DataFrame(value), obj=f"{name} in {where}")
                    assert all(a.equals_exact(b, 0) for a, b in zip(copy[name].geometry, value.geometry)), name
                else:
                    assert copy[name] == value, f"{name} in {where}"
        # the copy answers as the source does: versions, the audit log, a login with the same password
        pg_store = open_store(pg_url)
        assert pg_store.version("stations") == open_store(src).version("stations")
        pd.testing.assert_frame_equal(pg_store.audit_log(), open_store(src).audit_log())
        from layers.staff.accounts import authenticate

        assert authenticate(pg_store.accounts, "district", "correct horse battery").name == "district"
        # identity counters go on after the carried keys: a new report gets the next number
        with clock.frozen(TEST_NOW):
            new = submit_report(pg_store, {"kind": "hazard", "lon": 104.08, "lat": 30.67})
        assert new.report_id == max(r[0] for r in before["reports"][1]) + 1
    finally:
        pg_or_skip.drop(pg_url)


def test_a_copy_that_fails_leaves_the_destination_as_it_was(pg_or_skip, writable_db, demo_gpkg, tmp_path, capsys):
    before = _everything(open_store(writable_db))
    bad_layer = tmp_path / "bad_layer.gpkg"
    bad_layer.write_bytes(demo_gpkg.read_bytes())
    raw_sql(bad_layer, "UPDATE stations SET status = 'gone' WHERE id = 'st-0005'")
    assert main([str(bad_layer), str(writable_db), "--replace"]) == 2
    err = capsys.readouterr().err
    assert "st-0005" in err and "status" in err
    # a row PostgreSQL refuses half-way through the write (after the old tables were dropped, in the transaction)
    bad_row = tmp_path / "bad_row.gpkg"
    bad_row.write_bytes(demo_gpkg.read_bytes())
    open_store(bad_row).reports.balance("x")  # the points table is made on first use
    with closing(sqlite3.connect(bad_row)) as conn, conn:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute('INSERT INTO points_entries (code_hash, at, entry, points, "by") VALUES (?, ?, ?, ?, ?)',
                     ["x", TEST_NOW.isoformat(), "gift", 1, "nobody"])
    assert main([str(bad_row), str(writable_db), "--replace"]) == 2
    err = capsys.readouterr().err
    assert "points_entries" in err and "nothing was written" in err
    after = _everything(open_store(writable_db))
    assert after.keys() == before.keys()
    for name, value in before.items():
        if name.startswith("layer:"):
            pd.testing.assert_frame_equal(pd.DataFrame(after[name]), pd.DataFrame(value))
        else:
            assert after[name] == value, name


def test_the_command_names_what_is_wrong(pg_or_skip, tmp_path, capsys):
    assert main([str(tmp_path / "none.gpkg"), str(tmp_path / "x.gpkg")]) == 2
    assert "no data store" in capsys.readouterr().err
    assert main(["postgresql:///nowhere?host=/nonexistent", str(tmp_path / "x.gpkg")]) == 2
    assert "cannot connect to the PostGIS store" in capsys.readouterr().err
