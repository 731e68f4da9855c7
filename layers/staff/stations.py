"""Keeping stations true: checking an edit field by field, saving it with its version, conflicts, history and revert.

One function answers each question, and the staff page, the API and imports call the same one:
:func:`plan_edit` (what would change, with warnings), :func:`save_edit` (write it, or say who got there
first), :func:`history` and :func:`revert`, :func:`recent_changes`, :func:`confirm`, :func:`attention`,
:func:`create_station` and :func:`retire_station`.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from layers.common.amenities import parse_amenities
from layers.common.calendar import as_local, check_moment
from layers.common.errors import AccessDenied, QuestionError
from layers.common.geodesy import haversine_m
from layers.staff.access import editable_mask, may_create_or_retire, position_allowed, require_station
from layers.staff.accounts import Account
from mapdata import clock
from mapdata.schemas import opening_hours_error
from mapdata.store import Change, Store, VersionConflict
from mapdata.store.columns import jsonable
from mapdata.vocabulary import STATION_STATUSES

LAYER = "stations"
#: What staff may change on a station, in the order the editor shows them; ``position`` is the point.
EDITABLE = ("name", "address", "phone", "operator", "amenities", "amenities_out", "capacity", "opening_hours",
            "status", "status_note", "status_until", "position")
#: A move farther than this is shown as a warning before it is saved.
MOVE_WARNING_M = 200.0
#: Hours count as unconfirmed after this many days without a confirmation or an edit.
CONFIRM_EVERY_DAYS = 30
MAX_TEXT = {"name": 100, "address": 200, "operator": 100, "status_note": 200}
MAX_CAPACITY = 10_000
_PHONE = re.compile(r"[0-9+\-() 转#]{3,40}")


@dataclass(frozen=True)
class FieldChange:
    """One field of one station: its value before and after, as JSON would carry them."""

    field: str
    before: object
    after: object


@dataclass
class EditPlan:
    """What saving would write: the changes field by field, what to look at twice, and the store's values."""

    station_id: str
    version: int
    changes: list[FieldChange]
    warnings: list[str] = field(default_factory=list)
    values: dict = field(default_factory=dict)


@dataclass
class Conflict:
    """Someone saved this station after the editor loaded it: their changes, and the edit that was not written."""

    station_id: str
    loaded_version: int
    current_version: int
    theirs: list[FieldChange]
    mine: list[FieldChange]
    current: dict


@dataclass
class SaveResult:
    plan: EditPlan
    version: int | None = None
    conflict: Conflict | None = None

    @property
    def saved(self) -> bool:
        return self.conflict is None and self.version is not None


# -- values as staff give them, checked and turned into what the store keeps -----------------------

def _text(name: str, value, nullable: bool = False):
    if value is None or (isinstance(value, str) and not value.strip()):
        if nullable:
            return None
        raise QuestionError(name, "is required")
    if not isinstance(value, str):
        raise QuestionError(name, f"expected text, got {type(value).__name__}")
    value = " ".join(value.split())
    limit = MAX_TEXT.get(name, 200)
    if len(value) > limit:
        raise QuestionError(name, f"at most {limit} characters ({len(value)} given)")
    return value


def _phone(name, value, now):
    value = _text(name, value, nullable=True)
    if value is not None and not _PHONE.fullmatch(value):
        raise QuestionError(name, "expected a phone number such as 028-12345678")
    return value


def _amenity_keys(name, value, now):
    try:
        return frozenset(parse_amenities(value))
    except ValueError as exc:
        raise QuestionError(name, str(exc)) from None


def _capacity(name, value, now):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_CAPACITY:
        raise QuestionError(name, f"expected a whole number of places from 0 to {MAX_CAPACITY:,}")
    return int(value)


def _hours(name, value, now):
    if not isinstance(value, str):
        raise QuestionError(name, "expected OSM opening_hours text such as 'Mo-Fr 08:00-20:00; PH off'")
    value = value.strip()
    problem = opening_hours_error(value)
    if problem:
        raise QuestionError(name, problem)
    return value


def _status(name, value, now):
    if value not in STATION_STATUSES:
        raise QuestionError(name, f"got {value!r}; expected one of {', '.join(STATION_STATUSES)}")
    return value


def _until(name, value, now):
    if value is None or value == "":
        return None
    moment = check_moment(value, name)
    if now is not None and moment <= as_local(now):
        raise QuestionError(name, "a temporary status ends in the future")
    return pd.Timestamp(moment)


def _point(name, value, now):
    lon, lat = _position(value)
    return Point(lon, lat)


_CHECKS = {"name": lambda n, v, now: _text(n, v), "address": lambda n, v, now: _text(n, v),
           "operator": lambda n, v, now: _text(n, v), "status_note": lambda n, v, now: _text(n, v, nullable=True),
           "phone": _phone, "amenities": _amenity_keys, "amenities_out": _amenity_keys, "capacity": _capacity,
           "opening_hours": _hours, "status": _status, "status_until": _until, "position": _point}


def check_value(name: str, value, now: dt.datetime | None = None):
    """One field as the store keeps it, or QuestionError naming the field and what was expected."""
    check = _CHECKS.get(name)
    if check is None:
        raise QuestionError(str(name)[:40], f"unknown field; editable fields: {', '.join(EDITABLE)}")
    return check(name, value, now)


def _position(value) -> tuple[float, float]:
    lon = lat = None
    if isinstance(value, Mapping):
        lon, lat = value.get("lon"), value.get("lat")
    elif isinstance(value, (list, tuple)) and len(value) == 2:
        lon, lat = value
    ok = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and np.isfinite(v) for v in (lon, lat))
    if not ok or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise QuestionError("position", "expected {\"lon\": …, \"lat\": …} in WGS-84 degrees")
    return float(lon), float(lat)


def shown(name: str, value):
    """A stored value as JSON would carry it (what the diff, the history and the API show)."""
    if name == "position" or hasattr(value, "geom_type"):
        return None if value is None else {"lon": round(float(value.x), 7), "lat": round(float(value.y), 7)}
    return jsonable(value)


def _row_value(row: pd.Series, name: str):
    return row.geometry if name == "position" else row[name]


# -- planning and saving an edit ------------------------------------------------------------------

def plan_edit(row: pd.Series, values: Mapping, account: Account, districts: gpd.GeoDataFrame,
              now: dt.datetime | None = None) -> EditPlan:
    """What saving ``values`` over ``row`` would change, checked for ``account``; refusals name the field.

    Raises
    ------
    AccessDenied
        The station, or the position asked, is outside the account's area.
    QuestionError
        A value is not one the field takes.
    """
    require_station(account, row)
    if not isinstance(values, Mapping) or not values:
        raise QuestionError("body", "expected the fields to change, e.g. {\"phone\": \"028-12345678\"}")
    now = now or clock.now()
    clean = {}
    for name, value in values.items():
        if name not in EDITABLE:
            raise QuestionError(str(name)[:40], f"unknown or read-only field; editable fields: {', '.join(EDITABLE)}")
        clean[name] = check_value(name, value, None if name == "status_until" else now)
    until = clean.get("status_until")
    if until is not None and shown("status_until", until) != shown("status_until", row["status_until"]) \
            and until <= pd.Timestamp(as_local(now)):
        # only a new end is checked: an unchanged one that has passed is what "needs attention" shows
        raise QuestionError("status_until", "a temporary status ends in the future")
    status = clean.get("status", row["status"])
    if status == "open" and "status" in clean:
        # back to normal: the closure's note and end go with it unless given anew
        clean.setdefault("status_note", None)
        clean.setdefault("status_until", None)
        clean.setdefault("amenities_out", frozenset())
    out = clean.get("amenities_out", row["amenities_out"])
    has = clean.get("amenities", row["amenities"])
    if out - has:
        raise QuestionError("amenities_out", f"{', '.join(sorted(out - has))} is not among the station's amenities")
    warnings = []
    if "position" in clean:
        warnings += _check_move(row, clean["position"], account, districts)
    changes, store_values = [], {}
    for name, value in clean.items():
        before, after = shown(name, _row_value(row, name)), shown(name, value)
        if before != after:
            changes.append(FieldChange(name, before, after))
            store_values["geometry" if name == "position" else name] = value
    return EditPlan(str(row["id"]), int(row["version"]), changes, warnings, store_values)


def _check_move(row: pd.Series, point: Point, account: Account, districts: gpd.GeoDataFrame) -> list[str]:
    if not position_allowed(account, districts, point.x, point.y, int(row["adcode"])):
        raise AccessDenied("position", "the new position is outside this account's area")
    moved = float(haversine_m(row.geometry.y, row.geometry.x, point.y, point.x))
    if moved > MOVE_WARNING_M:
        return [f"move:{moved:.0f}"]
    return []


def row_by_id(store: Store, layer: str, row_id) -> pd.Series:
    """The row of ``layer`` with this id; LookupError when there is none, QuestionError for a non-id."""
    if not isinstance(row_id, str) or len(row_id) > 64:
        raise QuestionError("id", "expected an id such as st-0001")
    frame = store.read(layer)
    hit = frame[frame["id"] == row_id]
    if hit.empty:
        raise LookupError(row_id)
    return hit.iloc[0]


def _station(store: Store, station_id) -> pd.Series:
    return row_by_id(store, LAYER, station_id)


def save_edit(store: Store, account: Account, station_id: str, values: Mapping, loaded_version: int,
              districts: gpd.GeoDataFrame, now: dt.datetime | None = None, action: str = "update") -> SaveResult:
    """Write an edit made on the version ``loaded_version`` of the station, with its audit entry, all or nothing.

    When someone saved the station after that version, nothing is written and the result carries a
    :class:`Conflict`: their changes since ``loaded_version`` beside this edit, for the editor to
    choose per field and save again on the current version.
    """
    if isinstance(loaded_version, bool) or not isinstance(loaded_version, (int, np.integer)) or loaded_version < 1:
        raise QuestionError("version", "expected the version the editor loaded (a whole number from 1)")
    row = _station(store, station_id)
    plan = plan_edit(row, values, account, districts, now)
    if int(row["version"]) != int(loaded_version):
        return SaveResult(plan, conflict=_conflict(store, row, int(loaded_version), plan))
    if not plan.changes:
        return SaveResult(plan, version=int(row["version"]))
    try:
        new = store.apply_changes(LAYER, [Change(plan.station_id, plan.values, int(loaded_version))],
                                  user=account.name, now=now, action=action)
    except VersionConflict:
        row = _station(store, station_id)
        return SaveResult(plan, conflict=_conflict(store, row, int(loaded_version), plan))
    return SaveResult(plan, version=int(new["version"].iloc[0]))


def _conflict(store: Store, row: pd.Series, loaded: int, plan: EditPlan) -> Conflict:
    theirs: dict[str, FieldChange] = {}
    for entry in history(store, str(row["id"])):
        if entry.version is not None and entry.version > loaded:
            for ch in entry.changes:
                first = theirs.get(ch.field)
                theirs[ch.field] = FieldChange(ch.field, first.before if first else ch.before, ch.after)
    current = {name: shown(name, _row_value(row, name)) for name in EDITABLE}
    return Conflict(str(row["id"]), loaded, int(row["version"]), list(theirs.values()), plan.changes, current)


# -- history, revert, the feed of changes -----------------------------------------------------------

@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    at: str
    user: str
    action: str
    version: int | None
    changes: tuple[FieldChange, ...]


_BOOKKEEPING = {"version", "updated_at", "updated_by"}


def _entry(row) -> HistoryEntry:
    before, after = row["before"] or {}, row["after"] or {}
    names = [n for n in after if n not in _BOOKKEEPING]
    changes = tuple(FieldChange("position" if n == "geometry" else n,
                                _geometry_shown(before.get(n)) if n == "geometry" else before.get(n),
                                _geometry_shown(after.get(n)) if n == "geometry" else after.get(n))
                    for n in names if before.get(n) != after.get(n) or row["action"] == "insert")
    version = after.get("version")
    return HistoryEntry(int(row["seq"]), str(row["at"]), str(row["user"]), str(row["action"]),
                        int(version) if version is not None else None, changes)


def _geometry_shown(value):
    if value is None:
        return None
    geom = shapely.from_geojson(value) if isinstance(value, str) else value
    return shown("position", geom)


def history(store: Store, station_id: str) -> list[HistoryEntry]:
    """A station's timeline, oldest first: who, when, and each field before → after."""
    log = store.audit_log(LAYER, station_id)
    return [_entry(r) for r in log.to_dict("records")]


def rewind(current: dict, entries: list[HistoryEntry], seq: int, what: str) -> dict:
    """``current`` (field → value now) as it was right after history entry ``seq`` (0: as first stored),
    undoing the later entries newest first."""
    if seq != 0 and seq not in {e.seq for e in entries}:
        raise QuestionError("seq", f"{what} has no history entry {seq}")
    state = dict(current)
    for entry in reversed(entries):
        if entry.seq <= seq:
            break
        for ch in entry.changes:
            if ch.field in state:
                state[ch.field] = ch.before
    return state


def state_after(store: Store, station_id: str, seq: int) -> dict:
    """The station's editable fields as they were right after audit entry ``seq`` (0: as first stored)."""
    row = _station(store, station_id)
    current = {name: shown(name, _row_value(row, name)) for name in EDITABLE}
    return rewind(current, history(store, station_id), seq, f"station {station_id}")


def revert(store: Store, account: Account, station_id: str, seq: int, districts: gpd.GeoDataFrame,
           loaded_version: int | None = None, now: dt.datetime | None = None) -> SaveResult:
    """Put the station back as it was right after entry ``seq``: a new, audited change (nothing is erased)."""
    if isinstance(seq, bool) or not isinstance(seq, (int, np.integer)) or seq < 0:
        raise QuestionError("seq", "expected the number of a history entry")
    row = _station(store, station_id)
    target = state_after(store, station_id, int(seq))
    current = {name: shown(name, _row_value(row, name)) for name in EDITABLE}
    values = {name: target[name] for name in EDITABLE if target[name] != current[name]}
    ended = values.get("status_until") is not None and as_local(values["status_until"]) <= as_local(now or clock.now())
    if ended:  # a closure or an outage that has ended since is not brought back
        values["status_until"] = None
        values.update(status="open", status_note=None, amenities_out=[])
    version = int(row["version"]) if loaded_version is None else loaded_version
    if not values:
        plan = EditPlan(str(row["id"]), int(row["version"]), [])
        require_station(account, row)
        return SaveResult(plan, version=int(row["version"]))
    return save_edit(store, account, station_id, values, version, districts, now, action="revert")


def recent_changes(store: Store, since=None, until=None, adcode: int | None = None, user: str | None = None,
                   limit: int = 200) -> list[dict]:
    """The newest station changes first, filtered by time, district and account."""
    log = store.audit_log(LAYER)
    if log.empty:
        return []
    at = pd.to_datetime(log["at"], utc=True, format="ISO8601")
    keep = np.ones(len(log), dtype=bool)
    if since is not None:
        keep &= (at >= pd.Timestamp(check_moment(since, "since"))).to_numpy()
    if until is not None:
        keep &= (at <= pd.Timestamp(check_moment(until, "until"))).to_numpy()
    if user is not None:
        keep &= (log["user"] == user).to_numpy()
    if adcode is not None:
        stations = store.read(LAYER)
        ids = set(stations.loc[stations["adcode"].astype(np.int64) == int(adcode), "id"])
        keep &= log["row_id"].isin(ids).to_numpy()
    picked = log[keep].sort_values("seq", ascending=False).head(limit)
    out = []
    for r in picked.to_dict("records"):
        e = _entry(r)
        out.append({"seq": e.seq, "at": e.at, "user": e.user, "action": e.action, "station": str(r["row_id"]),
                    "version": e.version, "changes": [vars(c) for c in e.changes]})
    return out


def changes_in_area(store: Store, account: Account, since=None, until=None, adcode: int | None = None,
                    user: str | None = None, limit: int = 200) -> list[dict]:
    """:func:`recent_changes` of the stations ``account`` keeps only (the page's feed and the API's)."""
    stations = store.read(LAYER)
    mine = set(stations.loc[editable_mask(account, stations), "id"].astype(str))
    feed = recent_changes(store, since=since, until=until, adcode=adcode, user=user, limit=100_000)
    return [c for c in feed if c["station"] in mine][:limit]


# -- confirming, what needs attention, new and retired stations -------------------------------------

def confirm(store: Store, account: Account, station_ids, now: dt.datetime | None = None):
    """"Still correct": record who and when for these stations without changing their data."""
    stations = store.read(LAYER).set_index("id", drop=False)
    ids = list(dict.fromkeys(station_ids))
    for sid in ids:
        if not isinstance(sid, str) or sid not in stations.index:
            raise QuestionError("id", f"no station with id {str(sid)[:40]!r}")
        require_station(account, stations.loc[sid])
    return store.confirm(LAYER, ids, account.name, now)


def attention(stations: pd.DataFrame, account: Account, now: dt.datetime | None = None) -> pd.DataFrame:
    """The account's stations, what needs doing first on top: a temporary status past its end, hours not
    confirmed for :data:`CONFIRM_EVERY_DAYS` days; columns ``id``, ``name``, ``reasons`` (codes), ``days``."""
    now = pd.Timestamp(as_local(now or clock.now()))
    mine = stations[editable_mask(account, stations) & stations["retired_at"].isna().to_numpy()]
    expired = (mine["status"] != "open") & mine["status_until"].notna() & (mine["status_until"] <= now)
    expired |= mine["amenities_out"].map(bool) & mine["status_until"].notna() & (mine["status_until"] <= now)
    seen = mine["confirmed_at"].where(mine["confirmed_at"].notna(), mine["updated_at"])
    seen = seen.where(seen >= mine["updated_at"], mine["updated_at"])
    days = ((now - seen).dt.total_seconds() // 86400).astype(int)
    stale = days >= CONFIRM_EVERY_DAYS
    reasons = [[code for code, hit in (("status_expired", e), ("unconfirmed", s)) if hit]
               for e, s in zip(expired.to_numpy(), stale.to_numpy())]
    out = pd.DataFrame({"id": mine["id"].to_numpy(), "name": mine["name"].to_numpy(), "reasons": reasons,
                        "days": days.to_numpy(), "status": mine["status"].to_numpy(),
                        "version": mine["version"].to_numpy()})
    out["priority"] = [2 * ("status_expired" in r) + ("unconfirmed" in r) for r in reasons]
    return out.sort_values(["priority", "days", "id"], ascending=[False, False, True]).reset_index(drop=True)


def create_station(store: Store, account: Account, values: Mapping, districts: gpd.GeoDataFrame,
                   now: dt.datetime | None = None) -> pd.Series:
    """A new station from ``values`` (every required field and a position); only a district or city admin."""
    now = now or clock.now()
    if not isinstance(values, Mapping):
        raise QuestionError("body", "expected the new station's fields")
    point = check_value("position", values.get("position"))
    inside = districts[shapely.contains_xy(districts.geometry.values, point.x, point.y)]
    if inside.empty:
        raise QuestionError("position", "the position is outside Chengdu")
    district = inside.iloc[0]
    if not may_create_or_retire(account, int(district["adcode"])):
        raise AccessDenied("position", "only a district admin (in this district) or a city admin creates stations")
    unknown = [k for k in values if k not in (*EDITABLE, "street")]
    if unknown:
        raise QuestionError(str(unknown[0])[:40], f"unknown field; fields: {', '.join((*EDITABLE, 'street'))}")
    row = {"name": check_value("name", values.get("name")), "address": check_value("address", values.get("address")),
           "operator": check_value("operator", values.get("operator")),
           "phone": check_value("phone", values.get("phone")),
           "amenities": check_value("amenities", values.get("amenities", [])),
           "amenities_out": frozenset(),
           "opening_hours": check_value("opening_hours", values.get("opening_hours")),
           "capacity": check_value("capacity", values.get("capacity", 0)),
           "status": "open", "status_note": None, "status_until": pd.NaT,
           "street": _text("street", values.get("street"), nullable=True),
           "adcode": int(district["adcode"]), "district": str(district["name"]),
           "confirmed_at": pd.Timestamp(as_local(now)), "confirmed_by": account.name, "retired_at": pd.NaT}
    existing = store.read(LAYER)["id"].astype(str)
    numbers = existing.str.extract(r"^st-(\d+)$")[0].dropna().astype(int)
    row["id"] = f"st-{(numbers.max() + 1 if len(numbers) else 1):04d}"
    frame = gpd.GeoDataFrame([row], geometry=[point], crs=4326)
    for name in ("status_until", "confirmed_at", "retired_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).dt.tz_convert("Asia/Shanghai")
    return store.insert_rows(LAYER, frame, account.name, now).iloc[0]


def retire_station(store: Store, account: Account, station_id: str, now: dt.datetime | None = None) -> int:
    """Hide a station from riders and planners, keeping it and its history; only a district or city admin."""
    row = _station(store, station_id)
    if not may_create_or_retire(account, int(row["adcode"])):
        raise AccessDenied("id", "only a district admin (of the station's district) or a city admin retires stations")
    if pd.notna(row["retired_at"]):
        return int(row["version"])
    new = store.apply_changes(LAYER, [Change(str(row["id"]), {"retired_at": pd.Timestamp(as_local(now or clock.now()))},
                                             int(row["version"]))], user=account.name, now=now, action="retire")
    return int(new["version"].iloc[0])
