"""Coverage and siting results as tables and geodata: what every report and download is made of.

Pure shapes of the answers (no file format, no display text): the district table with its
city-wide row, the hexagons, the gap hexagons as polygons, the recommended sites as points,
which stations a question counts. The exporters in ``exports/`` write these in their formats.
"""
from __future__ import annotations

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from layers.common.amenities import amenity_mask, masks_for
from layers.common.districts import district_index
from layers.planning.coverage import CoverageResult
from layers.planning.questions import name_picks
from layers.planning.siting import SitingResult

DISTRICT_COLUMNS = ["adcode", "name", "name_en", "demand", "covered", "uncovered", "share", "points",
                    "points_covered", "point_share"]
HEXAGON_COLUMNS = ["h3", "demand", "covered", "uncovered", "share", "points", "points_covered"]
#: What a gap hexagon carries of its district (the district its centre lies in) when asked.
GAP_DISTRICT_COLUMNS = ["adcode", "district", "district_en"]
SITE_COLUMNS = ["rank", "candidate", "id", "name", "name_en", "adcode", "coords", "lat", "lon", "candidate_name",
                "source", "gain", "gain_points", "covered", "share", "points_covered", "point_share"]


def _share(covered, demand):
    covered, demand = np.asarray(covered, dtype=float), np.asarray(demand, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(demand > 0, covered / demand, np.nan)


def district_table(result: CoverageResult) -> pd.DataFrame:
    """The districts of ``result`` with a closing city-wide row.

    Parameters
    ----------
    result : CoverageResult

    Returns
    -------
    DataFrame
        Columns :data:`DISTRICT_COLUMNS`; one row per district in the result's order, then the
        total (``adcode`` and ``name`` missing: the exporters label it) whose figures are
        ``result.overall``. ``share`` is missing where a district has no demand.
    """
    frame = result.districts.copy()
    frame["uncovered"] = frame["demand"] - frame["covered"]
    o = result.overall
    total = {"adcode": pd.NA, "name": None, "name_en": None, "demand": o["demand"],
             "covered": o["covered"], "uncovered": o["demand"] - o["covered"],
             "share": np.nan if o["share"] is None else o["share"], "points": o["points"],
             "points_covered": o["points_covered"],
             "point_share": np.nan if o["point_share"] is None else o["point_share"]}
    frame = pd.concat([frame[DISTRICT_COLUMNS], pd.DataFrame([total], columns=DISTRICT_COLUMNS)], ignore_index=True)
    frame["adcode"] = frame["adcode"].astype("Int64")
    return frame


def hexagon_table(result: CoverageResult) -> pd.DataFrame:
    """The hexagons of ``result`` with their share, columns :data:`HEXAGON_COLUMNS`."""
    frame = result.hexagons.copy()
    frame["share"] = _share(frame["covered"], frame["demand"])
    return frame[HEXAGON_COLUMNS]


def hexagon_rings(cells, digits: int = 7) -> list[np.ndarray]:
    """The closed boundary of each H3 cell as an array of ``(lon, lat)`` rows.

    H3 lists a cell's vertices counter-clockwise, which is the exterior ring order RFC 7946 asks
    for; 7 decimals are about 1 cm.
    """
    boundaries = [h3.cell_to_boundary(c) for c in cells]
    if boundaries and all(len(b) == 6 for b in boundaries):
        # every hexagon at once; only the 12 pentagons of the globe have 5 vertices
        arr = np.asarray(boundaries, dtype=float)[:, :, ::-1]
        return list(np.round(np.concatenate([arr, arr[:, :1]], axis=1), digits))
    rings = []
    for b in boundaries:
        arr = np.asarray(b, dtype=float)[:, ::-1]
        rings.append(np.round(np.concatenate([arr, arr[:1]]), digits))
    return rings


def hexagon_polygons(cells) -> np.ndarray:
    """H3 cells as shapely Polygons in WGS-84 (lon, lat), exterior counter-clockwise."""
    rings = hexagon_rings(cells)
    if not rings:
        return np.empty(0, dtype=object)
    if len({len(r) for r in rings}) == 1:
        return shapely.polygons(np.stack(rings))
    return np.array([shapely.Polygon(r) for r in rings], dtype=object)


def gap_hexagons(result: CoverageResult, min_uncovered: float = 0, within=None,
                 districts: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The hexagons where demand is left uncovered.

    Parameters
    ----------
    result : CoverageResult
    min_uncovered : float
        Keep hexagons with at least this much uncovered (weighted) demand; a hexagon whose
        demand is all covered is never a gap.
    within : shapely geometry, optional
        WGS-84 area (a district): keep the hexagons whose centre lies in it.
    districts : GeoDataFrame, optional
        The ``districts`` layer: each hexagon then carries the district its centre lies in,
        ``adcode``, ``district`` and ``district_en`` (:data:`GAP_DISTRICT_COLUMNS`).

    Returns
    -------
    GeoDataFrame
        EPSG:4326 polygons with ``h3``, ``demand``, ``covered``, ``uncovered``, ``share``,
        ``points``, ``points_covered`` (and the district's columns), the largest gap first.
    """
    hexes = result.hexagons
    # float sums can leave a fully covered cell with 1e-12 "uncovered"
    tolerance = 1e-9 * max(float(hexes["demand"].max()) if len(hexes) else 0.0, 1.0)
    keep = np.array((hexes["uncovered"] > tolerance) & (hexes["uncovered"] >= min_uncovered), dtype=bool)
    if within is not None and keep.any():
        idx = np.flatnonzero(keep)
        centres = np.array([h3.cell_to_latlng(c) for c in hexes["h3"].to_numpy()[idx]])
        shapely.prepare(within)
        keep[idx[~shapely.contains_xy(within, centres[:, 1], centres[:, 0])]] = False
    frame = hexes[keep].sort_values(["uncovered", "h3"], ascending=[False, True], kind="stable").copy()
    frame["share"] = _share(frame["covered"], frame["demand"])
    frame = frame[HEXAGON_COLUMNS].reset_index(drop=True)
    if districts is not None:
        centres = np.array([h3.cell_to_latlng(c) for c in frame["h3"]]).reshape(-1, 2)
        pos = district_index(centres[:, 1], centres[:, 0], districts)
        ok = pos >= 0
        at = np.where(ok, pos, 0)

        def column(name, dtype=object):
            values = districts[name].to_numpy(dtype=dtype)[at] if len(districts) else np.full(len(pos), None)
            return [v if good else None for v, good in zip(values, ok)]

        frame["adcode"] = pd.array(column("adcode", np.int64), dtype="Int64")
        frame["district"] = column("name")
        frame["district_en"] = column("name_en") if "name_en" in districts else column("name")
    return gpd.GeoDataFrame(frame, geometry=hexagon_polygons(frame["h3"]), crs="EPSG:4326")


def recommended_sites(siting_result: SitingResult, candidates: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The picks of a siting result as points, each named.

    Parameters
    ----------
    siting_result : SitingResult
        As :func:`layers.planning.questions.recommend_sites` gives it (its picks named); a result
        solved otherwise is named here from ``candidates``.
    candidates : GeoDataFrame, optional
        The candidate sites the result was solved over (``picks["candidate"]`` are positions
        in it); their own ``name`` (as ``candidate_name``) and ``source`` are copied when present.

    Returns
    -------
    GeoDataFrame
        EPSG:4326 points with the columns :data:`SITE_COLUMNS`, in pick order: ``name`` / ``name_en``
        the site's name (district and nearest named place, street or compound), ``coords`` its
        ``"lat, lon"`` to 6 decimals, ``adcode`` its district.
    """
    if not {"name", "name_en", "coords", "adcode"} <= set(siting_result.picks.columns):
        name_picks(siting_result, candidates if candidates is not None else pd.DataFrame())
    picks = siting_result.picks.copy()
    n = len(picks)
    for column, target in (("name", "candidate_name"), ("source", "source")):
        if candidates is not None and column in candidates and n:
            values = candidates[column].to_numpy(dtype=object)[picks["candidate"].to_numpy(dtype=np.int64)]
            picks[target] = [v if isinstance(v, str) else None for v in values]
        else:
            picks[target] = pd.Series([None] * n, dtype=object)
    picks = picks[SITE_COLUMNS]
    return gpd.GeoDataFrame(picks, geometry=gpd.points_from_xy(picks["lon"], picks["lat"]), crs="EPSG:4326")


def stations_counted(stations: gpd.GeoDataFrame, amenities=(), at=None, hours=None) -> np.ndarray:
    """Which stations count in a coverage question: every asked amenity, and open at ``at``.

    Parameters
    ----------
    stations : GeoDataFrame
        The ``stations`` layer.
    amenities : anything :func:`layers.common.amenities.parse_amenities` reads
    at : datetime or None
        None: opening hours do not matter.
    hours : HoursTable, optional
        Of ``stations``, in the same order; needed when ``at`` is given.

    Returns
    -------
    numpy.ndarray of bool, one per station
    """
    need = np.uint32(amenity_mask(amenities))
    ok = (masks_for(stations["amenities"]) & need) == need
    if at is not None:
        if hours is None:
            raise ValueError("stations_counted needs the stations' HoursTable when at is given")
        ok &= np.asarray(hours.open_at(at), dtype=bool)
    return ok
