"""Keeping the way into compounds true: gates (may riders pass, with an e-bike, when), wayfinding signs
(their condition, new signs) and entry routes (blocked), with the same version guard, audit and history
as stations.

Who may: a city admin everywhere; a district admin in the district; a street worker the compounds of
their street, a compound's street being that of the nearest station of its district (compounds carry
no street of their own); station staff keep stations only.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point
from shapely.ops import nearest_points

from layers.common.errors import AccessDenied, QuestionError
from layers.common.geodesy import haversine_m
from layers.staff.accounts import Account
from layers.staff.stations import FieldChange, _entry, check_value, rewind, row_by_id, shown
from mapdata.schemas import opening_hours_error
from mapdata.store import Change, Store, VersionConflict
from mapdata.vocabulary import SIGN_CONDITIONS, SIGN_KINDS

GATE_FIELDS = ("name", "rider_access", "e_bike", "opening_hours")
SIGN_FIELDS = ("text", "condition", "kind")
ROUTE_FIELDS = ("blocked",)
LAYERS = {"gates": GATE_FIELDS, "wayfinding_signs": SIGN_FIELDS, "entry_routes": ROUTE_FIELDS}
#: A new sign stands inside its compound or at most this far from it (a site plan at the gate outside).
SIGN_REACH_M = 60.0


@dataclass
class FeatureSave:
    layer: str
    id: str
    version: int
    changes: list[FieldChange]
    conflict: dict | None = None


def _bool(name, value):
    if not isinstance(value, bool):
        raise QuestionError(name, "expected true or false")
    return value


def check_feature_value(layer: str, name: str, value):
    """One gate or sign field as the store keeps it, or QuestionError naming the field."""
    if name not in LAYERS[layer]:
        raise QuestionError(str(name)[:40], f"unknown or read-only field; editable fields: {', '.join(LAYERS[layer])}")
    if name in ("rider_access", "e_bike", "blocked"):
        return _bool(name, value)
    if name == "opening_hours":
        if not isinstance(value, str) or opening_hours_error(value.strip()):
            raise QuestionError(name, opening_hours_error(value if isinstance(value, str) else None)
                                or "expected OSM opening_hours text")
        return value.strip()
    if name == "condition":
        if value not in SIGN_CONDITIONS:
            raise QuestionError(name, f"expected one of {', '.join(SIGN_CONDITIONS)}")
        return value
    if name == "kind":
        if value not in SIGN_KINDS:
            raise QuestionError(name, f"expected one of {', '.join(SIGN_KINDS)}")
        return value
    return check_value("name", value)  # name, text: non-empty text of at most 100 characters


def compound_streets(store: Store) -> pd.Series:
    """Each compound's street: that of the nearest station in its district (index: compound id)."""
    compounds, stations = store.read("compounds"), store.read("stations")
    centres = compounds.geometry.representative_point()
    out = {}
    for cid, adcode, c in zip(compounds["id"], compounds["adcode"].astype(int), centres):
        same = stations[(stations["adcode"].astype(int) == adcode) & stations["street"].notna()]
        if same.empty:
            out[cid] = None
            continue
        d = haversine_m(c.y, c.x, same.geometry.y.to_numpy(), same.geometry.x.to_numpy())
        out[cid] = same["street"].iloc[int(np.argmin(d))]
    return pd.Series(out, dtype=object)


def may_edit_compound(account: Account | None, compound: pd.Series, street: str | None) -> bool:
    if account is None:
        return False
    if account.role == "city":
        return True
    if account.role == "district":
        return account.adcode is not None and int(compound["adcode"]) == account.adcode
    if account.role == "street":
        return account.adcode is not None and int(compound["adcode"]) == account.adcode and street == account.street
    return False


def compound_for(store: Store, compound_id: str, account: Account) -> pd.Series:
    compounds = store.read("compounds").set_index("id", drop=False)
    if compound_id not in compounds.index:
        raise QuestionError("compound_id", f"no compound with id {str(compound_id)[:40]!r}")
    compound = compounds.loc[compound_id]
    street = compound_streets(store).get(compound_id) if account.role == "street" else None
    if not may_edit_compound(account, compound, street):
        raise AccessDenied("compound_id", f"compound {compound_id} is outside this account's area")
    return compound


def feature_row(store: Store, layer: str, fid) -> pd.Series:
    return row_by_id(store, layer, fid)


def save_feature(store: Store, account: Account, layer: str, fid: str, values: Mapping, loaded_version: int,
                 now: dt.datetime | None = None, action: str = "update") -> FeatureSave:
    """Change a gate or a sign made on version ``loaded_version``; a newer version is a conflict (nothing written)."""
    if layer not in LAYERS:
        raise QuestionError("layer", "expected gates, wayfinding_signs or entry_routes")
    if isinstance(loaded_version, bool) or not isinstance(loaded_version, (int, np.integer)) or loaded_version < 1:
        raise QuestionError("version", "expected the version the editor loaded (a whole number from 1)")
    row = feature_row(store, layer, fid)
    compound_for(store, str(row["compound_id"]), account)
    if not isinstance(values, Mapping) or not values:
        raise QuestionError("body", "expected the fields to change")
    clean = {name: check_feature_value(layer, name, value) for name, value in values.items()}
    changes = [FieldChange(n, shown(n, row[n]), shown(n, v)) for n, v in clean.items() if shown(n, row[n]) != shown(n, v)]
    current = int(row["version"])
    if current != int(loaded_version):
        return FeatureSave(layer, fid, current, changes, _feature_conflict(store, layer, row, int(loaded_version)))
    if not changes:
        return FeatureSave(layer, fid, current, [])
    try:
        new = store.apply_changes(layer, [Change(fid, {c.field: clean[c.field] for c in changes}, int(loaded_version))],
                                  user=account.name, now=now, action=action)
    except VersionConflict:
        row = feature_row(store, layer, fid)
        return FeatureSave(layer, fid, int(row["version"]), changes,
                           _feature_conflict(store, layer, row, int(loaded_version)))
    return FeatureSave(layer, fid, int(new["version"].iloc[0]), changes)


def _feature_conflict(store: Store, layer: str, row: pd.Series, loaded: int) -> dict:
    theirs = [vars(c) for e in feature_history(store, layer, str(row["id"])) if e.version and e.version > loaded
              for c in e.changes]
    return {"current_version": int(row["version"]), "theirs": theirs,
            "current": {n: shown(n, row[n]) for n in LAYERS[layer]}}


def feature_history(store: Store, layer: str, fid: str):
    """A gate's or sign's timeline, oldest first."""
    if layer not in LAYERS:
        raise QuestionError("layer", "expected gates or wayfinding_signs")
    return [_entry(r) for r in store.audit_log(layer, fid).to_dict("records")]


def revert_feature(store: Store, account: Account, layer: str, fid: str, seq: int,
                   loaded_version: int | None = None, now: dt.datetime | None = None) -> FeatureSave:
    """Put a gate, sign or route back as it was right after history entry ``seq`` (0: as first stored), as a
    new audited change."""
    if layer not in LAYERS:
        raise QuestionError("layer", "expected gates, wayfinding_signs or entry_routes")
    if isinstance(seq, bool) or not isinstance(seq, (int, np.integer)) or seq < 0:
        raise QuestionError("seq", "expected the number of a history entry")
    row = feature_row(store, layer, fid)
    compound_for(store, str(row["compound_id"]), account)
    state = rewind({n: shown(n, row[n]) for n in LAYERS[layer]}, feature_history(store, layer, fid), int(seq), fid)
    values = {n: state[n] for n in LAYERS[layer] if state[n] != shown(n, row[n])}
    version = int(row["version"]) if loaded_version is None else loaded_version
    if not values:
        return FeatureSave(layer, fid, int(row["version"]), [])
    return save_feature(store, account, layer, fid, values, version, now, action="revert")


def new_sign(store: Store, account: Account, values: Mapping, now: dt.datetime | None = None) -> pd.Series:
    """A new wayfinding sign of a compound the account keeps, inside it or within :data:`SIGN_REACH_M`."""
    if not isinstance(values, Mapping):
        raise QuestionError("body", "expected the new sign's fields")
    compound = compound_for(store, values.get("compound_id"), account)
    point = check_value("position", values.get("position"))
    poly = compound.geometry
    if not shapely.contains_xy(poly, point.x, point.y):
        nearest = nearest_points(poly, point)[0]
        if float(haversine_m(nearest.y, nearest.x, point.y, point.x)) > SIGN_REACH_M:
            raise QuestionError("position", f"a sign stands in its compound or within {SIGN_REACH_M:.0f} m of it")
    signs = store.read("wayfinding_signs")
    numbers = signs["id"].astype(str).str.extract(r"(\d+)$")[0].dropna().astype(int)
    row = {"id": f"sg-{(numbers.max() + 1 if len(numbers) else 1):05d}", "compound_id": str(compound["id"]),
           "kind": check_feature_value("wayfinding_signs", "kind", values.get("kind")),
           "gate_id": values.get("gate_id") if isinstance(values.get("gate_id"), str) else None,
           "building_id": values.get("building_id") if isinstance(values.get("building_id"), str) else None,
           "text": check_feature_value("wayfinding_signs", "text", values.get("text")),
           "condition": check_feature_value("wayfinding_signs", "condition", values.get("condition", "good"))}
    frame = gpd.GeoDataFrame([row], geometry=[Point(point.x, point.y)], crs=4326)
    return store.insert_rows("wayfinding_signs", frame, account.name, now).iloc[0]
