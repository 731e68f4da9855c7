"""The Store: validated reads, all-or-nothing edits with versions and audit log, the reproducible build."""
from __future__ import annotations

import pandas as pd
import pytest
import shapely

from mapdata.schemas import SPECS, LayerValidationError
from mapdata.store import Change, VersionConflict, open_store
from tests.helpers import ids_in_box, raw_sql


def test_every_layer_reads_back_valid_and_in_wgs84(store):
    assert set(SPECS) <= set(store.layers())
    for layer in SPECS:
        gdf = store.read(layer)
        assert len(gdf) > 0, layer
        assert gdf.crs.to_epsg() == 4326, layer
    stations = store.read("stations")
    assert len(stations) >= 426
    assert stations["id"].is_unique
    assert isinstance(stations["amenities"].iloc[0], frozenset)
    assert str(stations["updated_at"].dt.tz) == "Asia/Shanghai"
    assert len(store.read("districts")) == 20
    assert len(store.read("compounds")) >= 150
    assert store.info().demo is True


def test_edit_bumps_version_and_appends_to_audit_log(writable_db):
    s = open_store(writable_db)
    before = s.read("stations").set_index("id").loc["st-0007"]
    changed = s.apply_changes("stations", [Change("st-0007", {
        "status": "closed_temporarily", "status_note": "微波炉维修中", "status_until": "2026-12-03T18:00:00+08:00",
        "amenities": ["drinking_water", "charging"]}, expected_version=int(before["version"]))], user="staff:li")
    assert changed.iloc[0]["version"] == before["version"] + 1
    after = s.read("stations").set_index("id").loc["st-0007"]
    assert after["status"] == "closed_temporarily"
    assert after["status_note"] == "微波炉维修中"
    assert after["status_until"] == pd.Timestamp("2026-12-03 18:00", tz="Asia/Shanghai")
    assert after["amenities"] == frozenset({"drinking_water", "charging"})
    assert after["version"] == before["version"] + 1
    assert after["updated_by"] == "staff:li"
    log = s.audit_log("stations", "st-0007")
    assert len(log) == 1
    entry = log.iloc[0]
    assert entry["user"] == "staff:li"
    assert entry["before"]["status"] == before["status"]
    assert entry["after"]["status"] == "closed_temporarily"
    assert entry["after"]["version"] == int(before["version"]) + 1


def test_a_bad_change_writes_nothing_and_names_layer_row_and_field(writable_db):
    s = open_store(writable_db)
    original = s.read("stations")
    with pytest.raises(LayerValidationError) as err:
        s.apply_changes("stations", [
            Change("st-0001", {"capacity": 12}),
            Change("st-0002", {"amenities": ["microwave", "jacuzzi"]}),
        ], user="staff:wang")
    assert (err.value.layer, err.value.row_id, err.value.field) == ("stations", "st-0002", "amenities")
    assert "jacuzzi" in err.value.message
    pd.testing.assert_frame_equal(s.read("stations").drop(columns="geometry"), original.drop(columns="geometry"))
    assert s.audit_log().empty


@pytest.mark.parametrize("values, field", [
    ({"opening_hours": "Mo-Fx 08:00-20:00"}, "opening_hours"),
    ({"status": "gone"}, "status"),
    ({"capacity": "many"}, "capacity"),
    ({"version": 99}, "version"),
    ({"colour": "red"}, "colour"),
    ({"geometry": shapely.Point(116.40, 39.90)}, "geometry"),  # Beijing
])
def test_invalid_edits_are_refused_with_the_field(writable_db, values, field):
    s = open_store(writable_db)
    with pytest.raises(LayerValidationError) as err:
        s.apply_changes("stations", [Change("st-0003", values)], user="staff:wang")
    assert err.value.field == field
    assert err.value.row_id == "st-0003"
    assert s.read("stations").set_index("id").loc["st-0003", "version"] == 1


def test_version_conflict_is_refused(writable_db):
    s = open_store(writable_db)
    s.apply_changes("stations", [Change("st-0004", {"capacity": 9}, expected_version=1)], user="a")
    with pytest.raises(VersionConflict):
        s.apply_changes("stations", [Change("st-0004", {"capacity": 7}, expected_version=1)], user="b")
    assert s.read("stations").set_index("id").loc["st-0004", "capacity"] == 9


def test_moving_a_station_updates_its_spatial_index(writable_db):
    s = open_store(writable_db)
    target = shapely.Point(104.0800, 30.6600)
    s.apply_changes("stations", [Change("st-0010", {"geometry": target})], user="staff:zhao")
    assert s.read("stations").set_index("id").loc["st-0010"].geometry.equals_exact(target, 1e-9)
    assert "st-0010" in ids_in_box(writable_db, "stations", (104.0799, 30.6599, 104.0801, 30.6601))


@pytest.mark.parametrize("sql, geometry, field", [
    ("UPDATE stations SET capacity = 'lots' WHERE id = 'st-0005'", None, "capacity"),
    ("UPDATE stations SET amenities = 'microwave;jacuzzi' WHERE id = 'st-0005'", None, "amenities"),
    ("UPDATE stations SET opening_hours = 'Mo-Fx 8-9' WHERE id = 'st-0005'", None, "opening_hours"),
    ("UPDATE stations SET status = 'gone' WHERE id = 'st-0005'", None, "status"),
    ("UPDATE stations SET geom = {geom} WHERE id = 'st-0005'", shapely.Point(116.4, 39.9), "geometry"),
    ("UPDATE stations SET updated_at = 'yesterday' WHERE id = 'st-0005'", None, "updated_at"),
])
def test_loading_a_bad_file_names_layer_row_and_field(writable_db, backend, sql, geometry, field):
    if field == "capacity" and backend == "postgis":
        with pytest.raises(Exception, match="invalid input syntax for type bigint"):  # the column refuses it
            raw_sql(writable_db, sql)
        return
    raw_sql(writable_db, sql, geometry=geometry)
    with pytest.raises(LayerValidationError) as err:
        open_store(writable_db).read("stations")
    assert (err.value.layer, err.value.row_id, err.value.field) == ("stations", "st-0005", field)
    assert "st-0005" in str(err.value) and field in str(err.value)


def test_loading_a_file_with_a_missing_column_names_it(writable_db):
    raw_sql(writable_db, "ALTER TABLE stations DROP COLUMN phone")
    with pytest.raises(LayerValidationError) as err:
        open_store(writable_db).read("stations")
    assert (err.value.layer, err.value.field) == ("stations", "phone")




def test_edits_are_stamped_with_the_real_time_whatever_the_server_zone(writable_db, monkeypatch):
    import datetime as dt
    import time as time_module

    # a server on UTC (as CI and most containers are): the stamp must still be the true instant
    from mapdata import clock

    monkeypatch.setenv("TZ", "UTC")
    time_module.tzset()
    try:
        with clock.frozen(None):
            s = open_store(writable_db)
            s.apply_changes("stations", [Change("st-0008", {"capacity": 11})], user="staff:li")
        stamp = s.read("stations").set_index("id").loc["st-0008", "updated_at"]
        logged = pd.Timestamp(s.audit_log("stations", "st-0008").iloc[0]["at"])
    finally:
        monkeypatch.undo()
        time_module.tzset()
    true_now = pd.Timestamp(dt.datetime.now(dt.timezone.utc))
    assert abs((stamp - true_now).total_seconds()) < 60
    assert abs((logged - true_now).total_seconds()) < 60


def test_the_clock_can_be_frozen_and_edits_follow_it(writable_db):
    import datetime as dt

    from mapdata import clock

    moment = dt.datetime(2026, 10, 9, 17, 0)
    with clock.frozen(moment):
        assert clock.now().isoformat() == "2026-10-09T17:00:00+08:00"
        s = open_store(writable_db)
        s.apply_changes("stations", [Change("st-0009", {"capacity": 12})], user="staff:li")
    assert s.read("stations").set_index("id").loc["st-0009", "updated_at"] == pd.Timestamp(
        "2026-10-09 17:00", tz="Asia/Shanghai")
    assert clock.now().year >= 2026 and clock.now() != pd.Timestamp(moment, tz="Asia/Shanghai")


def test_after_an_edit_the_store_answers_what_a_fresh_read_of_the_file_gives(writable_db):
    """The edited layer is kept from the write itself (no reload); it must equal what the file now holds."""
    import pandas as pd

    from mapdata.store import Change, open_store

    store = open_store(writable_db)
    store.read("stations")
    store.apply_changes("stations", [Change("st-0003", {"capacity": 77, "amenities": ["toilet"],
                                                        "status_until": "2026-12-24T18:00"}, 1)], user="t")
    kept, fresh = store.read("stations"), open_store(writable_db).read("stations")
    pd.testing.assert_frame_equal(kept.drop(columns="geometry"), fresh.drop(columns="geometry"))
    assert (kept.geometry.values == fresh.geometry.values).all()
    other = open_store(writable_db)  # another writer edits: this store must not keep its own stale copy
    other.apply_changes("stations", [Change("st-0004", {"capacity": 5}, 1)], user="other")
    store.apply_changes("stations", [Change("st-0003", {"capacity": 78}, 2)], user="t")
    assert store.read("stations").set_index("id").loc["st-0004", "capacity"] == 5


def test_inside_one_request_the_versions_are_read_once_and_its_own_edits_again(writable_db):
    from mapdata.store import versions_read_once

    here, there = open_store(writable_db), open_store(writable_db)  # two workers on one store
    capacity = int(here.read("stations").set_index("id").loc["st-0011", "capacity"])
    with versions_read_once():
        seen = here.version("stations")
        there.apply_changes("stations", [Change("st-0011", {"capacity": capacity + 1})], user="other")
        # another worker's edit is not half-seen in the middle of this request: its answer keeps one version
        assert here.version("stations") == seen
        assert int(here.read("stations").set_index("id").loc["st-0011", "capacity"]) == capacity
        # an edit this request makes is read back at once (and with it the other worker's)
        here.apply_changes("stations", [Change("st-0012", {"capacity": 3})], user="here")
        assert here.version("stations") != seen
        rows = here.read("stations").set_index("id")
        assert (int(rows.loc["st-0011", "capacity"]), int(rows.loc["st-0012", "capacity"])) == (capacity + 1, 3)
    other = here.version("stations")
    there.apply_changes("stations", [Change("st-0011", {"capacity": capacity + 7})], user="other")
    assert here.version("stations") != other  # outside a request every call looks at the database
    assert int(here.read("stations").set_index("id").loc["st-0011", "capacity"]) == capacity + 7
