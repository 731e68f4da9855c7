"""Editing stations as staff: checks by field, area, the version guard and conflicts, history, revert, confirm."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from layers.common.errors import QuestionError
from layers.rider.catalogue import StationCatalogue
from layers.staff import stations as edits
from layers.staff.access import AccessDenied, editable_mask, may_edit_station
from layers.staff.accounts import Account
from mapdata.store import open_store
from tests.helpers import raw_sql

NOW = dt.datetime(2026, 12, 2, 15, 0)


@pytest.fixture()
def store(writable_db):
    return open_store(writable_db)


@pytest.fixture()
def districts(store):
    return store.read("districts")


@pytest.fixture()
def station(store):
    return store.read("stations").iloc[0]


def staff_of(station) -> Account:
    return Account(1, "staff-a", "station", stations=(str(station["id"]),))


def test_roles_reach_exactly_their_area(store):
    stations = store.read("stations")
    first = stations.iloc[0]
    others_in_district = stations[(stations["adcode"] == first["adcode"]) & (stations["id"] != first["id"])]
    other_district = stations[stations["adcode"] != first["adcode"]].iloc[0]
    station_acc = staff_of(first)
    street_acc = Account(2, "street-a", "street", street=first["street"], adcode=int(first["adcode"]))
    district_acc = Account(3, "district-a", "district", adcode=int(first["adcode"]))
    city = Account(4, "city", "city")
    assert may_edit_station(station_acc, first) and not may_edit_station(station_acc, others_in_district.iloc[0])
    assert may_edit_station(street_acc, first) and not may_edit_station(street_acc, other_district)
    assert may_edit_station(district_acc, others_in_district.iloc[0]) and not may_edit_station(district_acc, other_district)
    assert may_edit_station(city, other_district)
    assert not may_edit_station(None, first)
    assert not may_edit_station(Account(5, "odd", "planner"), first)  # an unknown role reaches nothing
    assert editable_mask(station_acc, stations).sum() == 1
    assert editable_mask(city, stations).all()
    same_street = (stations["street"] == first["street"]) & (stations["adcode"] == first["adcode"])
    assert (editable_mask(street_acc, stations) == same_street.to_numpy()).all()


def test_an_edit_is_checked_by_field_and_shows_what_changes(station, districts):
    acc = staff_of(station)
    plan = edits.plan_edit(station, {"phone": "028-87654321", "name": station["name"]}, acc, districts, NOW)
    assert [(c.field, c.before, c.after) for c in plan.changes] == [("phone", station["phone"], "028-87654321")]
    for values, field in [({"phone": "call me"}, "phone"), ({"opening_hours": "Mo-Fr 25:00-26:00"}, "opening_hours"),
                          ({"capacity": -1}, "capacity"), ({"capacity": True}, "capacity"),
                          ({"amenities": ["sauna"]}, "amenities"), ({"status": "gone"}, "status"),
                          ({"status_until": "2020-01-01T00:00"}, "status_until"), ({"version": 9}, "version"),
                          ({"name": "x" * 101}, "name"), ({"position": {"lon": "104"}}, "position"),
                          ({"amenities_out": ["kitchen"]} if "kitchen" not in station["amenities"]
                           else {"amenities_out": ["books"]}, "amenities_out")]:
        with pytest.raises(QuestionError) as err:
            edits.plan_edit(station, values, acc, districts, NOW)
        assert err.value.field == field, values


def test_another_station_is_refused(store, districts):
    stations = store.read("stations")
    acc = staff_of(stations.iloc[0])
    with pytest.raises(AccessDenied):
        edits.save_edit(store, acc, str(stations.iloc[1]["id"]), {"phone": "028-1"}, 1, districts, NOW)
    assert store.audit_log("stations").empty


def test_a_move_warns_beyond_200_m_and_is_refused_outside_the_area(store, station, districts):
    acc = staff_of(station)
    x, y = station.geometry.x, station.geometry.y
    near = edits.plan_edit(station, {"position": {"lon": x + 0.0005, "lat": y}}, acc, districts, NOW)
    assert near.warnings == []
    far = edits.plan_edit(station, {"position": {"lon": x + 0.004, "lat": y}}, acc, districts, NOW)
    assert far.warnings and far.warnings[0].startswith("move:")
    other = districts[districts["adcode"] != station["adcode"]].iloc[0].geometry.representative_point()
    with pytest.raises(AccessDenied) as err:
        edits.plan_edit(station, {"position": {"lon": other.x, "lat": other.y}}, acc, districts, NOW)
    assert err.value.field == "position"


def test_saving_writes_once_with_its_audit_row_and_the_rider_sees_it(store, station, districts):
    acc = staff_of(station)
    catalogue = StationCatalogue(store, with_network=False)
    until = "2026-12-09T18:00:00+08:00"
    out = sorted(station["amenities"])[:1]
    result = edits.save_edit(store, acc, str(station["id"]),
                             {"status_note": "微波炉维修中", "amenities_out": out, "status_until": until,
                              "opening_hours": "24/7"}, 1, districts, NOW)
    assert result.saved and result.version == 2
    log = store.audit_log("stations", str(station["id"]))
    assert len(log) == 1 and log.iloc[0]["user"] == "staff-a"
    here = (station.geometry.y, station.geometry.x)
    assert catalogue.finder.nearest(*here, out, at=NOW, k=1, max_distance_m=1) == []  # no rider sent for it
    assert catalogue.finder.nearest(*here, out, at=None, k=1, max_distance_m=1) == []
    repaired = catalogue.finder.nearest(*here, out, at="2026-12-10T12:00", k=1, max_distance_m=1)
    assert [r["id"] for r in repaired] == [station["id"]]  # the outage ends with its end time
    card = catalogue.finder.nearest(station.geometry.y, station.geometry.x, (), at=None, k=1, max_distance_m=1)
    assert card[0]["amenities_out"] == out and out[0] not in card[0]["amenities"]


def test_a_stale_version_is_a_conflict_that_shows_both_edits(store, station, districts):
    sid = str(station["id"])
    a = staff_of(station)
    b = Account(9, "street-b", "street", street=station["street"], adcode=int(station["adcode"]))
    first = edits.save_edit(store, b, sid, {"phone": "028-11111111", "capacity": 7}, 1, districts, NOW)
    assert first.saved
    second = edits.save_edit(store, a, sid, {"phone": "028-22222222", "address": "新地址 1 号"}, 1, districts, NOW)
    assert not second.saved and second.conflict is not None
    c = second.conflict
    assert (c.loaded_version, c.current_version) == (1, 2)
    assert {ch.field: ch.after for ch in c.theirs} == {"phone": "028-11111111", "capacity": 7}
    assert {ch.field: ch.after for ch in c.mine} == {"phone": "028-22222222", "address": "新地址 1 号"}
    assert store.read("stations").set_index("id").loc[sid, "phone"] == "028-11111111"  # nothing of mine written
    merged = edits.save_edit(store, a, sid, {"phone": "028-22222222", "address": "新地址 1 号"}, c.current_version,
                             districts, NOW)
    row = store.read("stations").set_index("id").loc[sid]
    assert merged.saved and row["capacity"] == 7 and row["phone"] == "028-22222222"


def test_history_and_revert_to_any_earlier_state(store, station, districts):
    sid = str(station["id"])
    acc = staff_of(station)
    old_phone = station["phone"]
    edits.save_edit(store, acc, sid, {"phone": "028-33333333"}, 1, districts, NOW)
    edits.save_edit(store, acc, sid, {"capacity": 99, "phone": "028-44444444"}, 2, districts, NOW)
    timeline = edits.history(store, sid)
    assert [[(c.field, c.before, c.after) for c in e.changes] for e in timeline] == [
        [("phone", old_phone, "028-33333333")],
        [("capacity", int(station["capacity"]), 99), ("phone", "028-33333333", "028-44444444")]]
    result = edits.revert(store, acc, sid, timeline[0].seq, districts, now=NOW)
    row = store.read("stations").set_index("id").loc[sid]
    assert result.saved and row["phone"] == "028-33333333" and row["capacity"] == station["capacity"]
    assert edits.history(store, sid)[-1].action == "revert"
    edits.revert(store, acc, sid, 0, districts, now=NOW)  # as first built
    assert store.read("stations").set_index("id").loc[sid, "phone"] == old_phone
    with pytest.raises(QuestionError):
        edits.revert(store, acc, sid, 10_000, districts, now=NOW)


def test_confirm_records_who_and_when_without_a_new_version(store, station):
    sid = str(station["id"])
    acc = staff_of(station)
    edits.confirm(store, acc, [sid], now=NOW)
    row = store.read("stations").set_index("id").loc[sid]
    assert row["version"] == 1 and row["confirmed_by"] == "staff-a"
    assert row["confirmed_at"] == pd.Timestamp("2026-12-02T15:00", tz="Asia/Shanghai")
    assert store.audit_log("stations", sid).iloc[-1]["action"] == "confirm"


def test_attention_puts_expired_closures_and_old_confirmations_first(store, districts):
    stations = store.read("stations")
    city = Account(4, "city", "city")
    a, b = str(stations.iloc[0]["id"]), str(stations.iloc[1]["id"])
    edits.save_edit(store, city, a, {"status": "closed_temporarily", "status_note": "今天关闭",
                                     "status_until": "2026-12-02T18:00"}, int(stations.iloc[0]["version"]),
                    districts, NOW)
    later = dt.datetime(2026, 12, 3, 9, 0)
    edits.confirm(store, city, [b], now=later)
    todo = edits.attention(store.read("stations"), city, later)
    expired = todo["reasons"].map(lambda r: "status_expired" in r).to_numpy()
    assert expired[todo["id"] == a].all()
    assert expired[:expired.sum()].all()  # every expired status comes before anything else
    assert todo.set_index("id").loc[b, "reasons"] == []
    stale = todo[todo["reasons"].map(lambda r: "unconfirmed" in r)]
    assert len(stale) and (stale["days"] >= 30).all()


def test_create_and_retire_are_for_district_and_city_admins(store, station, districts):
    acc = staff_of(station)
    admin = Account(3, "district-a", "district", adcode=int(station["adcode"]))
    spot = {"lon": station.geometry.x + 0.001, "lat": station.geometry.y}
    values = {"name": "新驿站", "address": "测试路 1 号", "operator": "社区", "opening_hours": "Mo-Su 09:00-21:00",
              "amenities": ["drinking_water"], "position": spot}
    with pytest.raises(AccessDenied):
        edits.create_station(store, acc, values, districts, NOW)
    new = edits.create_station(store, admin, values, districts, NOW)
    assert new["version"] == 1 and new["adcode"] == station["adcode"]
    catalogue = StationCatalogue(store, with_network=False)
    assert catalogue.position(new["id"]) is not None
    with pytest.raises(AccessDenied):
        edits.retire_station(store, acc, new["id"], NOW)
    edits.retire_station(store, admin, new["id"], NOW)
    assert catalogue.position(new["id"]) is None  # hidden from riders
    assert new["id"] in set(store.read("stations")["id"])  # kept, with its history
    assert [e.action for e in edits.history(store, new["id"])] == ["insert", "retire"]


def test_an_older_store_gains_the_new_columns_in_place(writable_db):
    raw_sql(writable_db, "DELETE FROM schema_migrations WHERE id = 2")  # the release before staff edits
    for column in ("confirmed_at", "confirmed_by", "retired_at", "amenities_out"):  # as an older release made it
        raw_sql(writable_db, f'ALTER TABLE stations DROP COLUMN "{column}"')
    store = open_store(writable_db)
    added = sorted(c for a in store.upgrade() for c in a.changes)
    assert added == ["stations.amenities_out", "stations.confirmed_at", "stations.confirmed_by",
                                       "stations.retired_at"]
    stations = store.read("stations")
    assert stations["retired_at"].isna().all() and (stations["amenities_out"] == frozenset()).all()
    assert store.upgrade() == []
