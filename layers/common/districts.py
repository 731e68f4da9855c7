"""Chengdu's districts as the domain uses them: the city's outline, which district a point lies in."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from mapdata.crs import check_wgs84
from mapdata.geometry import polygonal


def chengdu_outline(districts: gpd.GeoDataFrame):
    """The outline of Chengdu: the union of the district polygons (WGS-84).

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        The ``districts`` layer.

    Returns
    -------
    shapely.Polygon or shapely.MultiPolygon
    """
    check_wgs84(districts, "districts")
    return polygonal(shapely.union_all(np.asarray(districts.geometry.values)))


def district_index(lon, lat, districts: gpd.GeoDataFrame, max_degrees: float | None = None) -> np.ndarray:
    """The row position in ``districts`` of the polygon containing each point.

    Points on no polygon (slivers between district outlines, rounding on a border) take the
    nearest district, so that every point of Chengdu counts in exactly one district; with
    ``max_degrees``, only when that district is at most so far (planar degrees), else -1: a point
    elsewhere in the country is in none of the districts known.

    Parameters
    ----------
    lon, lat : array_like of float
        WGS-84 degrees.
    districts : GeoDataFrame
        Polygons in EPSG:4326.

    Returns
    -------
    numpy.ndarray of int64
        Positions 0 … len(districts) - 1; -1 when ``districts`` is empty or the point is farther than
        ``max_degrees`` from every district.
    """
    check_wgs84(districts, "districts")
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    out = np.full(len(lon), -1, dtype=np.int64)
    if len(districts) == 0 or len(lon) == 0:
        return out
    geoms = districts.geometry.values.to_numpy()
    for pos, geom in enumerate(geoms):
        x0, y0, x1, y1 = geom.bounds
        # the bounding box rules out most points before the exact (and slower) polygon test
        cand = np.flatnonzero((out < 0) & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1))
        if len(cand):
            shapely.prepare(geom)
            hit = shapely.contains_xy(geom, lon[cand], lat[cand])
            out[cand[hit]] = pos
    lost = np.flatnonzero(out < 0)
    if len(lost):
        tree = shapely.STRtree(geoms)
        nearest = tree.query_nearest(shapely.points(lon[lost], lat[lost]), all_matches=False,
                                     max_distance=max_degrees)
        out[lost[nearest[0]]] = nearest[1]
    return out
