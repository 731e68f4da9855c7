"""A rider's report, from a station's card, a compound's entry view or a point on the map, and its state afterwards.

One function answers each question, and the rider page, the Open311 API and the tests call it:
:func:`submit_report` (check, rate-limit, merge, keep the photo without its metadata, give the
reference number) and :func:`public_report` (what the rider and any Open311 client may see: the
states with their times and the staff's public answers, never who reported or who answered).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely

from layers.common import rider_codes
from layers.common.calendar import as_local, check_moment
from layers.common.errors import QuestionError
from layers.common.geodesy import haversine_m
from layers.common.photos import clean_photo
from layers.staff.deadlines import CLOSED_STATES, due_dates
from mapdata import clock
from mapdata.store import Store
from mapdata.store.reports import Intake, Limit
from mapdata.vocabulary import AMENITY_KEYS, REPORT_KIND_KEYS, REPORT_KINDS, REPORT_STATE_NAMES

MAX_NOTE = 500
#: The same problem at the same place within this long is one report, counted once per rider.
MERGE_WINDOW = dt.timedelta(days=1)
#: A point on the map is "the same place" as an open report of the same kind within this distance.
MERGE_RADIUS_M = 50.0
#: At most this many reports per window from one rider code, and from one address (all shared by every worker:
#: the store counts the sightings it keeps).
LIMITS = (Limit("rider_code", 5, 600), Limit("rider_code", 30, 86_400),
          Limit("address", 20, 600), Limit("address", 120, 86_400))
KINDS = {k.key: k for k in REPORT_KINDS}
_REF = re.compile(r"^\s*(?:NX)?-?0*(\d{1,9})\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Submitted:
    """What the rider is told after sending: the reference number and what happens next."""

    ref: str
    report_id: int
    merged: bool
    riders: int
    state: str
    acknowledge_by: dt.datetime
    resolve_by: dt.datetime
    with_code: bool


def ref_of(report_id: int) -> str:
    return f"NX{int(report_id):06d}"


def parse_ref(text, field: str = "ref") -> int:
    """The report id of a reference number (``NX000123``, ``nx-123`` or ``123``)."""
    match = _REF.match(text) if isinstance(text, str) and len(text) <= 20 else None
    if not match:   # NX000000 is a well-formed number that no report has
        raise QuestionError(field, "expected a report's reference number, e.g. NX000123")
    return int(match.group(1))


def address_hash(address: str | None, secret: str) -> str | None:
    """What the store keeps of the sender's network address (for rate limits only): a keyed hash."""
    if not address:
        return None
    return hmac.new(secret.encode(), ("addr:" + address).encode(), hashlib.sha256).hexdigest()


def _note(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise QuestionError("note", f"expected text of at most {MAX_NOTE} characters")
    text = "".join(ch for ch in unicodedata.normalize("NFC", value)
                   if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()
    if len(text) > MAX_NOTE:
        raise QuestionError("note", f"the note is {len(text)} characters; at most {MAX_NOTE}")
    return text


def _number(value, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or \
            not np.isfinite(value):
        raise QuestionError(field, "expected a number (WGS-84 degrees)")
    return float(value)


def _station_place(store: Store, station_id) -> dict:
    stations = store.read("stations")
    if not isinstance(station_id, str) or len(station_id) > 64:
        raise QuestionError("station_id", "expected a station's id")
    hit = stations[stations["id"] == station_id]
    if hit.empty or ("retired_at" in hit and hit["retired_at"].notna().iloc[0]):
        raise QuestionError("station_id", f"no station with id {station_id[:40]!r}")
    row = hit.iloc[0]
    return {"station_id": station_id, "lon": float(row.geometry.x), "lat": float(row.geometry.y),
            "adcode": int(row["adcode"]), "street": row["street"] if isinstance(row["street"], str) else None,
            "place": str(row["name"]), "amenities": row["amenities"]}


def _nearest_street(store: Store, adcode: int, lon: float, lat: float) -> str | None:
    stations = store.read("stations")
    same = stations[(stations["adcode"].astype(int) == adcode) & stations["street"].notna()]
    if same.empty:
        return None
    d = haversine_m(lat, lon, same.geometry.y.to_numpy(), same.geometry.x.to_numpy())
    return str(same["street"].iloc[int(np.argmin(d))])


def _compound_place(store: Store, compound_id) -> dict:
    if not isinstance(compound_id, str) or len(compound_id) > 64:
        raise QuestionError("compound_id", "expected a compound's id")
    compounds = store.read("compounds")
    hit = compounds[compounds["id"] == compound_id]
    if hit.empty:
        raise QuestionError("compound_id", f"no compound with id {compound_id[:40]!r}")
    row = hit.iloc[0]
    centre = row.geometry.representative_point()
    adcode = int(row["adcode"])
    return {"compound_id": compound_id, "lon": float(centre.x), "lat": float(centre.y), "adcode": adcode,
            "street": _nearest_street(store, adcode, float(centre.x), float(centre.y)), "place": str(row["name"])}


def _point_place(store: Store, lon, lat) -> dict:
    lon, lat = _number(lon, "lon"), _number(lat, "lat")
    districts = store.read("districts")
    inside = shapely.contains_xy(districts.geometry.values, lon, lat)
    if not inside.any():
        raise QuestionError("lat", "the point lies outside Chengdu's districts")
    row = districts[inside].iloc[0]
    adcode = int(row["adcode"])
    return {"lon": lon, "lat": lat, "adcode": adcode, "street": _nearest_street(store, adcode, lon, lat),
            "place": f"{row['name']} ({lat:.5f}, {lon:.5f})"}


def check_place(store: Store, kind: str, station_id=None, compound_id=None, lon=None, lat=None) -> dict:
    """Where the report is: a station, a compound or a point; the kind decides which it may be."""
    about = KINDS[kind].about
    given = [name for name, v in (("station_id", station_id), ("compound_id", compound_id)) if v not in (None, "")]
    if len(given) > 1:
        raise QuestionError("compound_id", "a report is about one place: a station or a compound, not both")
    if about == "station" and "station_id" not in given:
        raise QuestionError("station_id", f"a {kind} report names the station (its id)")
    if about == "compound" and "station_id" in given:
        raise QuestionError("station_id", f"a {kind} report is about a compound: send compound_id or a point")
    if "station_id" in given:
        return _station_place(store, station_id)
    if "compound_id" in given:
        return _compound_place(store, compound_id)
    if lon is None or lat is None:
        raise QuestionError("lat" if lon is not None else "lon",
                            "expected a place: station_id, compound_id, or lon and lat of a point")
    return _point_place(store, lon, lat)


def _merge_key(kind: str, amenity: str | None, place: dict) -> str:
    where = f"station:{place['station_id']}" if "station_id" in place else \
        f"compound:{place['compound_id']}" if "compound_id" in place else "point"
    return f"{kind}|{amenity or ''}|{where}"


def submit_report(store: Store, values: Mapping, *, address_key: str | None = None, photo: bytes | None = None,
                  channel: str = "web", now: dt.datetime | None = None) -> Submitted:
    """Check a rider's report and keep it: merged into an open one of the same problem and place within a day,
    refused past the rate limits (``RateLimited``), the photo re-encoded without metadata.

    ``values``: kind, amenity (a facility_broken report names one of the station's amenities), station_id |
    compound_id | lon + lat (WGS-84), note, rider_code (optional). ``address_key`` is
    :func:`address_hash` of the sender's address.
    """
    if not isinstance(values, Mapping):
        raise QuestionError("body", "expected the report's fields")
    unknown = [k for k in values if k not in ("kind", "amenity", "station_id", "compound_id", "lon", "lat", "note",
                                              "rider_code")]
    if unknown:
        raise QuestionError(str(unknown[0])[:40], "unknown field; expected kind, amenity, station_id, compound_id, "
                                                  "lon, lat, note, rider_code")
    kind = values.get("kind")
    if kind not in REPORT_KIND_KEYS:
        raise QuestionError("kind", f"expected one of {', '.join(REPORT_KIND_KEYS)}")
    place = check_place(store, kind, values.get("station_id"), values.get("compound_id"), values.get("lon"),
                        values.get("lat"))
    amenity = values.get("amenity")
    if amenity in (None, ""):
        amenity = None
        if kind == "facility_broken":
            raise QuestionError("amenity", "say which facility is broken: one of the station's amenities")
    elif kind != "facility_broken":
        raise QuestionError("amenity", "only a facility_broken report names an amenity")
    elif amenity not in AMENITY_KEYS or amenity not in place.get("amenities", ()):
        raise QuestionError("amenity", "expected one of the station's amenities: "
                                       + ", ".join(sorted(place.get("amenities", ()))))
    note = _note(values.get("note"))
    code = values.get("rider_code")
    code = rider_codes.normalise(code) if code not in (None, "") else None
    cleaned = clean_photo(photo) if photo is not None else None
    received = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0)
    due = due_dates(received)
    report = {k: place.get(k) for k in ("station_id", "compound_id", "lon", "lat", "adcode", "street", "place")}
    report.update(kind=kind, amenity=amenity, note=note, received_at=received.isoformat(),
                  acknowledge_by=due.acknowledge_by.isoformat(), resolve_by=due.resolve_by.isoformat(),
                  merge_key=_merge_key(kind, amenity, place), channel=channel)
    near = None
    if "station_id" not in place and "compound_id" not in place:
        dlat = MERGE_RADIUS_M / 111_320.0
        dlon = dlat / max(0.2, np.cos(np.radians(place["lat"])))
        near = (place["lon"] - dlon, place["lon"] + dlon, place["lat"] - dlat, place["lat"] + dlat)
    intake = Intake(report=report, code_hash=rider_codes.code_hash(code) if code else None, addr_hash=address_key,
                    photo=None if cleaned is None else (cleaned.image, cleaned.media_type, cleaned.width,
                                                        cleaned.height),
                    merge_since=(received - MERGE_WINDOW).isoformat(), near=near)
    result = store.reports.take(intake, LIMITS, by="open311" if channel == "open311" else "rider")
    row = result.report
    return Submitted(ref_of(row["id"]), int(row["id"]), result.merged, int(row["riders"]), row["state"],
                     as_local(row["acknowledge_by"]), as_local(row["resolve_by"]), code is not None)


# -- what the rider (and anyone) sees ---------------------------------------------------------------
STATE_ACTIONS = ("report_new", "report_state")


def public_view(row: dict, events: list[dict] | None = None) -> dict:
    """A report as the rider and Open311 clients see it: kind, place, state, due date, public answers."""
    steps = [{"at": row["received_at"], "state": "new", "answer": ""}]
    for ev in events or ():
        if ev["action"] == "report_state" and ev["after"]:
            steps.append({"at": ev["at"], "state": ev["after"].get("state"), "answer": ev["after"].get("answer", "")})
    kind = KINDS[row["kind"]]
    return {"ref": ref_of(row["id"]), "id": int(row["id"]), "kind": row["kind"], "kind_zh": kind.zh,
            "kind_en": kind.en, "amenity": row["amenity"], "station_id": row["station_id"],
            "compound_id": row["compound_id"], "place": row["place"], "lon": row["lon"], "lat": row["lat"],
            "adcode": row["adcode"], "note": row["note"], "state": row["state"],
            "state_zh": REPORT_STATE_NAMES[row["state"]][0], "state_en": REPORT_STATE_NAMES[row["state"]][1],
            "open": row["state"] not in CLOSED_STATES, "riders": int(row["riders"]),
            "received_at": row["received_at"], "updated_at": row["updated_at"],
            "acknowledge_by": row["acknowledge_by"], "resolve_by": row["resolve_by"],
            "closed_at": row["closed_at"], "answer": row["public_answer"] or (row["reason"] or ""),
            "verified": row["verified_at"] is not None,
            "duplicate_of": ref_of(row["duplicate_of"]) if row["duplicate_of"] else None, "steps": steps}


def public_report(store: Store, ref) -> dict:
    """One report by its reference number, as anyone may see it (QuestionError when there is none)."""
    report_id = parse_ref(ref) if not isinstance(ref, int) else ref
    row = store.reports.get(report_id)
    if row is None:
        raise QuestionError("ref", f"no report {ref_of(report_id)}")
    return public_view(row, store.reports.events(report_id))


def my_reports(store: Store, refs, code: str | None = None, limit: int = 30) -> list[dict]:
    """The reports a phone remembers (their reference numbers) and those sent with its rider code, newest first."""
    ids: set[int] = set()
    for ref in list(refs or ())[:limit]:
        try:
            ids.add(parse_ref(ref))
        except QuestionError:
            continue
    rows = {r["id"]: r for r in store.reports.many(sorted(ids))}
    if code:
        for r in store.reports.reports_of_code(rider_codes.code_hash(rider_codes.normalise(code)), limit):
            rows[r["id"]] = r
    newest = sorted(rows.values(), key=lambda r: r["id"], reverse=True)[:limit]
    return [public_view(r, store.reports.events(r["id"])) for r in newest]
