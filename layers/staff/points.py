"""Riders' points (积分): an append-only ledger of awards, redemptions and corrections; the balance is their sum.

Awards come only with a confirmed report (:func:`layers.staff.reports.confirm`); this module answers
the rest: :func:`rider_points` (balance and history, for the rider page and the API), the districts'
reward catalogues (:func:`catalogue`, :func:`save_reward`), :func:`redeem` at a station against
that catalogue and :func:`correct`. No entry is ever edited or deleted (the store's triggers refuse
it); a redemption or correction that would take the balance below zero is refused.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from layers.common import rider_codes
from layers.common.calendar import as_local, check_moment
from layers.common.errors import AccessDenied, QuestionError
from layers.staff import stations as station_edits
from layers.staff.access import may_edit_station
from layers.staff.accounts import Account
from mapdata import clock
from mapdata.store import Store
from mapdata.store.reports import PointsRefused

MAX_REWARD_NAME = 60
MAX_REWARD_POINTS = 100_000
MAX_CORRECTION = 10_000

__all__ = ["PointsRefused", "catalogue", "correct", "redeem", "rider_points", "save_reward"]


def _entry(e: Mapping) -> dict:
    return {"id": int(e["id"]), "at": e["at"], "entry": e["entry"], "points": int(e["points"]),
            "report": f"NX{int(e['report_id']):06d}" if e["report_id"] else None,
            "reward_id": e["reward_id"], "station_id": e["station_id"], "note": e["note"]}


def rider_points(store: Store, code, limit: int = 100) -> dict:
    """A rider code's balance and its latest entries, newest first (an unknown code has 0 and none)."""
    code = rider_codes.normalise(code)
    digest = rider_codes.code_hash(code)
    entries = store.reports.entries(digest, limit)
    return {"code": rider_codes.shown(code), "balance": store.reports.balance(digest),
            "entries": [_entry(e) for e in entries]}


def _reward_view(r: Mapping) -> dict:
    return {"id": int(r["id"]), "adcode": int(r["adcode"]), "name": r["name"], "points": int(r["points"]),
            "active": bool(r["active"]), "version": int(r["version"])}


def catalogue(store: Store, adcode, active_only: bool = True) -> list[dict]:
    """The rewards a district offers for points."""
    if isinstance(adcode, bool) or not isinstance(adcode, (int, np.integer)):
        raise QuestionError("district", "expected a district's adcode, e.g. 510104")
    return [_reward_view(r) for r in store.reports.rewards(int(adcode), active_only)]


def save_reward(store: Store, account: Account, values: Mapping, *, reward_id: int | None = None,
                version: int | None = None, now=None) -> dict:
    """Add a reward to a district's catalogue, or change one (name, points, active): district and city admins."""
    if not isinstance(values, Mapping):
        raise QuestionError("body", "expected the reward's fields: name, points, active")
    unknown = [k for k in values if k not in ("adcode", "name", "points", "active")]
    if unknown:
        raise QuestionError(str(unknown[0])[:40], "unknown field; expected adcode, name, points, active")
    existing = None
    if reward_id is not None:
        existing = store.reports.reward(int(reward_id))
        if existing is None:
            raise QuestionError("reward_id", f"no reward {reward_id}")
        adcode = int(existing["adcode"])
    else:
        adcode = values.get("adcode", account.adcode)
        if isinstance(adcode, bool) or not isinstance(adcode, (int, np.integer)):
            raise QuestionError("adcode", "expected the district's adcode")
        if int(adcode) not in set(store.read("districts")["adcode"].astype(int)):
            raise QuestionError("adcode", f"no district {adcode}")
    if not (account.role == "city" or (account.role == "district" and account.adcode == int(adcode))):
        raise AccessDenied("adcode", "only the district's admin (or the city) keeps its rewards")
    clean: dict = {"adcode": int(adcode)}
    if "name" in values or existing is None:
        name = values.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= MAX_REWARD_NAME:
            raise QuestionError("name", f"expected the reward's name (1 to {MAX_REWARD_NAME} characters)")
        clean["name"] = name.strip()
    if "points" in values or existing is None:
        points = values.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or \
                not 1 <= points <= MAX_REWARD_POINTS:
            raise QuestionError("points", f"expected a whole number of points from 1 to {MAX_REWARD_POINTS}")
        clean["points"] = int(points)
    if "active" in values:
        if not isinstance(values["active"], bool):
            raise QuestionError("active", "expected true or false")
        clean["active"] = int(values["active"])
    stamp = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0).isoformat()
    return _reward_view(store.reports.save_reward(clean, reward_id=reward_id, expected_version=version,
                                                  by=account.name, at=stamp))


def redeem(store: Store, account: Account, code, reward_id, station_id, *, now=None) -> dict:
    """A rider shows their code at a station; its staff give a reward of the station's district catalogue and the
    points go (refused, PointsRefused, when the balance is short). The entry and the balance after it."""
    code = rider_codes.from_scan(code)
    if not isinstance(station_id, str):
        raise QuestionError("station_id", "expected the station where the reward is given")
    try:
        station = station_edits.row_by_id(store, "stations", station_id)
    except LookupError:
        raise QuestionError("station_id", f"no station with id {station_id[:40]!r}") from None
    if not may_edit_station(account, station):
        raise AccessDenied("station_id", f"station {station_id} is outside this account's area")
    if isinstance(reward_id, bool) or not isinstance(reward_id, (int, np.integer)):
        raise QuestionError("reward_id", "expected a reward's number from the district's catalogue")
    reward = store.reports.reward(int(reward_id))
    if reward is None or not reward["active"] or int(reward["adcode"]) != int(station["adcode"]):
        raise QuestionError("reward_id", "no such reward in this station's district catalogue")
    stamp = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0).isoformat()
    entry, balance = store.reports.take_points(rider_codes.code_hash(code), "redemption", -int(reward["points"]),
                                               by=account.name, at=stamp, note=reward["name"],
                                               reward_id=int(reward["id"]), station_id=station_id)
    return {"entry": _entry(entry), "balance": balance, "reward": _reward_view(reward)}


def correct(store: Store, account: Account, code, points, note, *, now=None) -> dict:
    """A correction entry (plus or minus) by a district or city admin, with the reason; never below zero."""
    if account.role not in ("district", "city"):
        raise AccessDenied("points", "only district and city admins correct points")
    code = rider_codes.from_scan(code)
    if isinstance(points, bool) or not isinstance(points, (int, np.integer)) or points == 0 or \
            abs(points) > MAX_CORRECTION:
        raise QuestionError("points", f"expected a whole number of points, not 0, at most {MAX_CORRECTION} either way")
    if not isinstance(note, str) or not 2 <= len(note.strip()) <= 200:
        raise QuestionError("note", "say why the points are corrected (2 to 200 characters)")
    stamp = as_local(check_moment(now or clock.now(), "now")).replace(microsecond=0).isoformat()
    entry, balance = store.reports.take_points(rider_codes.code_hash(code), "correction", int(points),
                                               by=account.name, at=stamp, note=note.strip())
    return {"entry": _entry(entry), "balance": balance}
