"""Getting into a compound ("进门难"): which gate to use, the way to a building number, the signs on the way.

Pure functions over the layers ``compounds``, ``gates``, ``buildings``, ``entry_routes`` and
``wayfinding_signs`` (as built by :mod:`mapdata.demo.compounds` or read from the store); no web
framework here.

Times: walking at 4.5 km/h, a common planning figure for an adult walking pace (riders often
push the bike or carry the order in on foot); riding at 10 km/h, the slow pace of an e-bike on
a compound's shared paths among residents. The riding time is given only when the gate lets
e-bikes in.
"""
from __future__ import annotations

import re
import unicodedata

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.crs import METRIC_CRS

WALK_KMH = 4.5
RIDE_KMH = 10.0
#: Signs this close to the route (metres) are "on the way".
SIGN_NEAR_M = 15.0

_SEPARATORS = re.compile(r"[\s·•・.．\-—_()（）]+")
_NUMBER = re.compile(r"^第?\s*(\d+)\s*(?:栋|号楼|幢|座|号|楼)?$")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}


class UnknownCompoundError(KeyError):
    """No compound has the requested id."""

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0]) if self.args else "unknown compound"


def _normalise(text: str) -> str:
    # NFKC folds full-width letters and digits; separators differ between sources
    # (万科·金域蓝湾, 万科.金域蓝湾, 万科金域蓝湾 are one place)
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", str(text))).casefold()


def find_compounds(compounds: pd.DataFrame, query: str, limit: int = 10) -> pd.DataFrame:
    """Compounds whose name contains ``query``, best matches first.

    Parameters
    ----------
    compounds : DataFrame
        The ``compounds`` layer (needs ``id`` and ``name``).
    query : str
        Part of a name; full-width characters, spaces and separators such as ``·`` are ignored,
        Latin letters match regardless of case.
    limit : int
        At most this many rows.

    Returns
    -------
    DataFrame
        Matching rows of ``compounds`` (same columns): exact name matches first, then names
        that start with the query, then the others; shorter names first within each group,
        then by id. Empty when the query is blank or nothing matches.
    """
    q = _normalise(query or "")
    if not q:
        return compounds.iloc[0:0].copy()
    names = compounds["name"].astype(str).map(_normalise)
    hit = names.str.contains(q, regex=False).to_numpy()
    if not hit.any():
        return compounds.iloc[0:0].copy()
    found = compounds[hit]
    n = names[hit]
    rank = np.where(n == q, 0, np.where(n.str.startswith(q), 1, 2))
    order = np.lexsort((found["id"].astype(str).to_numpy(), n.str.len().to_numpy(), rank))
    return found.iloc[order[:max(0, int(limit))]].copy()


def parse_building_number(text) -> str | None:
    """The building number in a rider's input, or None if there is none.

    Accepts ``"3"``, ``"3栋"``, ``"3号楼"``, ``"3幢"``, ``"第3栋"``, full-width ``"３栋"`` and the
    Chinese numerals 一 to 九十九 (``"三栋"``, ``"十二号楼"``). Leading zeros are dropped.
    """
    if text is None:
        return None
    if isinstance(text, (int, np.integer)) and not isinstance(text, bool):
        return str(int(text)) if text > 0 else None
    s = unicodedata.normalize("NFKC", str(text)).strip()
    s = re.sub(r"\s+", "", s)
    s = re.sub(r"[零〇一二两三四五六七八九十]+", lambda m: _chinese_number(m.group(0)), s)
    m = _NUMBER.match(s)
    if not m or int(m.group(1)) == 0:
        return None
    return str(int(m.group(1)))


def _chinese_number(text: str) -> str:
    """一 … 九十九 as digits; anything else is returned unchanged (and so fails to parse)."""
    if "十" not in text:
        if len(text) == 1 and text in _CN_DIGITS:
            return str(_CN_DIGITS[text])
        return text
    tens, _, units = text.partition("十")
    if len(tens) > 1 or len(units) > 1 or (tens and tens not in _CN_DIGITS) or (units and units not in _CN_DIGITS):
        return text
    return str((_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[units] if units else 0))


def _gate_record(row) -> dict:
    return {
        "id": row["id"], "name": row["name"],
        "rider_access": bool(row["rider_access"]), "e_bike": bool(row["e_bike"]),
        "refuses_riders": not bool(row["rider_access"]), "refuses_e_bikes": not bool(row["e_bike"]),
        "opening_hours": row["opening_hours"], "geometry": row.geometry,
    }


def entry_route(layers: dict[str, gpd.GeoDataFrame], compound_id: str, building) -> dict:
    """How a rider gets into compound ``compound_id`` and to building number ``building``.

    Parameters
    ----------
    layers : dict of str to GeoDataFrame
        At least ``compounds``, ``gates``, ``buildings``, ``entry_routes`` and
        ``wayfinding_signs``, in EPSG:4326.
    compound_id : str
        ``cp-0001`` …
    building : str or int
        A building number as a rider types it (see :func:`parse_building_number`).

    Returns
    -------
    dict
        ``compound`` (id, name, district, adcode, geometry); ``building`` (id, number, label,
        geometry) or None; ``gate``: the rider gate the route starts at, or None; ``other_gates``:
        every other gate of the compound, each with ``refuses_riders`` and ``refuses_e_bikes``;
        ``route`` (LineString, EPSG:4326) or None; ``source`` (``osm_path`` / ``generated``);
        ``length_m``; ``walking_min`` (at 4.5 km/h); ``riding_min`` (at 10 km/h, None when the
        gate refuses e-bikes); ``signs``: the signs within 15 m of the route, in the order met
        from the gate, each with kind, text, condition and ``distance_m`` along the route;
        ``reason``: None, or why there is no route (``"no rider gate: …"``, ``"no building given: …"``
        with ``gate`` set to the rider gate to enter by, ``"no such
        building: …"`` with the known numbers, ``"no recorded route: …"``); ``reason_code``: the same as a
        stable key (``no_rider_gate``,
        ``no_building_given``, ``no_such_building``, ``no_recorded_route``, ``route_blocked``) for translated
        messages; ``known_numbers``:
        the compound's building numbers.

    Raises
    ------
    UnknownCompoundError
        (a :class:`KeyError`, so a :class:`LookupError`) when no compound has that id.
    """
    compounds = layers["compounds"]
    match = compounds[compounds["id"] == compound_id]
    if match.empty:
        raise UnknownCompoundError(f"unknown compound id {compound_id!r}")
    crow = match.iloc[0]
    result: dict = {
        "compound": {"id": crow["id"], "name": crow["name"], "district": crow["district"],
                     "adcode": int(crow["adcode"]), "geometry": crow.geometry},
        "building": None, "gate": None, "other_gates": [], "route": None, "source": None,
        "length_m": None, "walking_min": None, "riding_min": None, "signs": [], "reason": None,
        "reason_code": None, "known_numbers": [],
    }
    gates = layers["gates"]
    gates = gates[gates["compound_id"] == compound_id].sort_values("id")
    buildings = layers["buildings"]
    buildings = buildings[buildings["compound_id"] == compound_id]
    known = sorted(buildings["number"].astype(str), key=lambda s: (len(s), s))
    result["known_numbers"] = known
    number = parse_building_number(building)
    brow = buildings[buildings["number"].astype(str) == number] if number is not None else buildings.iloc[0:0]
    name = crow["name"]

    if not brow.empty:
        b = brow.iloc[0]
        result["building"] = {"id": b["id"], "number": b["number"], "label": b["label"], "geometry": b.geometry}

    if not gates["rider_access"].astype(bool).any():
        result["other_gates"] = [_gate_record(r) for _, r in gates.iterrows()]
        result["reason"] = (f"no rider gate: none of the {len(gates)} gates of {name} lets riders in; "
                            f"meet the customer at a gate")
        result["reason_code"] = "no_rider_gate"
        return result
    if building is None or (isinstance(building, str) and not building.strip()):
        # no building asked for: the way into the compound is still an answer (the rider gate), not a miss
        gate = _main_rider_gate(gates, layers["entry_routes"])
        result["gate"] = _gate_record(gate)
        result["other_gates"] = [_gate_record(r) for _, r in gates[gates["id"] != gate["id"]].iterrows()]
        result["reason"] = (f"no building given: enter {name} by its rider gate {gate['name']}; "
                            "a building number gives the way to its door")
        result["reason_code"] = "no_building_given"
        return result
    if brow.empty:
        result["other_gates"] = [_gate_record(r) for _, r in gates.iterrows()]
        listed = ", ".join(known) if known else "none recorded"
        result["reason"] = f"no such building: {name} has no building {building!r}; known numbers: {listed}"
        result["reason_code"] = "no_such_building"
        return result

    routes = layers["entry_routes"]
    route = routes[(routes["compound_id"] == compound_id) & (routes["building_id"] == b["id"])]
    # staff keep gates and routes true: a route marked blocked, or through a gate that now refuses riders,
    # is not one to send a rider along
    open_gates = set(gates.loc[gates["rider_access"].astype(bool), "id"])
    usable = route[route["gate_id"].isin(open_gates)]
    if "blocked" in usable:
        usable = usable[~usable["blocked"].astype(bool)]
    if usable.empty and not route.empty:
        result["other_gates"] = [_gate_record(r) for _, r in gates.iterrows()]
        result["reason"] = (f"route blocked: the known way to {b['label']} of {name} is blocked or its gate no "
                            "longer lets riders in")
        result["reason_code"] = "route_blocked"
        return result
    route = usable
    if route.empty:
        result["other_gates"] = [_gate_record(r) for _, r in gates.iterrows()]
        result["reason"] = f"no recorded route: no way from a rider gate of {name} to {b['label']} is known"
        result["reason_code"] = "no_recorded_route"
        return result
    r = route.iloc[0]
    gate = gates[gates["id"] == r["gate_id"]].iloc[0]
    line = r.geometry
    length = float(r["length_m"])
    result.update({
        "gate": _gate_record(gate),
        "other_gates": [_gate_record(g) for _, g in gates[gates["id"] != r["gate_id"]].iterrows()],
        "route": line, "source": r["source"], "length_m": length,
        "walking_min": length / (WALK_KMH * 1000 / 60),
        "riding_min": length / (RIDE_KMH * 1000 / 60) if bool(gate["e_bike"]) else None,
        "signs": _signs_along(layers["wayfinding_signs"], compound_id, line),
    })
    return result


def _main_rider_gate(gates: gpd.GeoDataFrame, routes: gpd.GeoDataFrame):
    """The compound's rider gate most usable routes start from (ties and no routes: the first by id)."""
    open_gates = gates[gates["rider_access"].astype(bool)]
    usable = routes[routes["gate_id"].isin(set(open_gates["id"]))]
    if "blocked" in usable:
        usable = usable[~usable["blocked"].astype(bool)]
    counts = usable["gate_id"].value_counts()
    ranked = sorted(open_gates["id"], key=lambda g: (-int(counts.get(g, 0)), str(g)))
    return open_gates[open_gates["id"] == ranked[0]].iloc[0]


def _signs_along(signs: gpd.GeoDataFrame, compound_id: str, line) -> list[dict]:
    """Signs of the compound within :data:`SIGN_NEAR_M` of ``line``, in the order met along it."""
    own = signs[signs["compound_id"] == compound_id]
    if own.empty:
        return []
    metric = gpd.GeoSeries([line], crs="EPSG:4326").to_crs(METRIC_CRS).iloc[0]
    pts = own.geometry.to_crs(METRIC_CRS).values
    near = shapely.distance(metric, pts) <= SIGN_NEAR_M
    own, pts = own[near], pts[near]
    along = shapely.line_locate_point(metric, pts)
    out = []
    for k in np.argsort(along, kind="stable"):
        s = own.iloc[int(k)]
        out.append({"id": s["id"], "kind": s["kind"], "text": s["text"], "condition": s["condition"],
                    "gate_id": s["gate_id"], "building_id": s["building_id"],
                    "distance_m": float(along[k]), "geometry": s.geometry})
    return out
