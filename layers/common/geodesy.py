"""Distances on the sphere: great-circle metres, unit vectors for KD-trees, every pair within a radius."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Mean Earth radius (IUGG), the radius of every great-circle distance in the project.
EARTH_RADIUS_M = 6_371_008.8
#: Beyond this the neighbour search of :func:`pairs_within` stops being exact (it bins by a flat
#: lat/lon grid) and a "coverage radius" stops meaning a short ride anyway.
MAX_RADIUS_M = 50_000.0
#: Candidate pairs examined per block in :func:`pairs_within`: bounds the memory of one block to
#: a few hundred MB whatever the number of stations.
_BLOCK_CANDIDATES = 8_000_000
# The lat/lon bins are widened by this factor so that no pair within the radius can straddle more
# than one bin (the great circle is a little shorter than the parallel between two points).
_BIN_MARGIN = 1.02


def haversine_m(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in metres on the sphere of radius :data:`EARTH_RADIUS_M` (broadcasts)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    dphi = phi2 - phi1
    dlmb = np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dphi * 0.5) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlmb * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


def haversine_one_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """:func:`haversine_m` between two points given as plain floats, in plain floats (one rider's position: no
    array of one; the same formula, so it agrees with the array form to the last bit or two)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((phi2 - phi1) * 0.5) ** 2 + \
        math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) * 0.5) ** 2
    return 2.0 * EARTH_RADIUS_M * math.asin(math.sqrt(min(h, 1.0)))


def unit_vector_one(lat: float, lon: float) -> tuple[float, float, float]:
    """:func:`unit_vectors` of one point given as plain floats."""
    phi, lmb = math.radians(lat), math.radians(lon)
    cos_phi = math.cos(phi)
    return cos_phi * math.cos(lmb), cos_phi * math.sin(lmb), math.sin(phi)


def unit_vectors(lat, lon) -> np.ndarray:
    """Earth-centred unit vectors, shape (n, 3).

    The chord between two of them is ``2 sin(d / 2R)``, monotone in the great-circle distance
    ``d``, so a Euclidean KD-tree over them ranks points exactly as the great circle does.
    """
    phi, lmb = np.radians(np.asarray(lat, dtype=float)), np.radians(np.asarray(lon, dtype=float))
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lmb), cos_phi * np.sin(lmb), np.sin(phi)])


def chord_for(distance_m) -> np.ndarray:
    """The unit-sphere chord length of a great-circle distance in metres (capped at the antipode)."""
    angle = np.minimum(np.asarray(distance_m, dtype=float) / EARTH_RADIUS_M, np.pi)
    return 2.0 * np.sin(angle * 0.5)


def as_float_array(values, what: str) -> np.ndarray:
    arr = np.ascontiguousarray(np.asarray(values, dtype=float).reshape(-1))
    if not np.isfinite(arr).all():
        raise ValueError(f"{what} must be finite numbers")
    return arr


def check_lonlat(lon: np.ndarray, lat: np.ndarray, what: str) -> None:
    if lon.shape != lat.shape:
        raise ValueError(f"{what}: {len(lon)} longitudes for {len(lat)} latitudes")
    if len(lon) and (np.abs(lat).max() > 90 or np.abs(lon).max() > 180):
        raise ValueError(f"{what} must be WGS-84 longitude/latitude in degrees")


def check_radius(radius_m, limit: float = MAX_RADIUS_M) -> float:
    radius = float(radius_m)
    if not (np.isfinite(radius) and 0 < radius <= limit):
        raise ValueError(f"radius_m must be a number of metres in (0, {limit:,.0f}], got {radius_m!r}")
    return radius


def _ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every (s, c), without a Python loop."""
    total = int(count.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    offsets = np.cumsum(count) - count
    return np.arange(total, dtype=np.int64) - np.repeat(offsets - start, count)


def pairs_within(demand_lon, demand_lat, site_lon, site_lat, radius_m: float):
    """Every (demand point, site) pair whose great-circle distance is at most ``radius_m``.

    The demand points are binned on a latitude/longitude grid whose cells are a little wider than
    the radius, so that the points within reach of a site lie in the 3 × 3 cells around it; the
    candidates from those cells are then measured with :func:`layers.common.network.haversine_m` and
    cut at ``distance <= radius_m``. The result is exactly what a full haversine scan gives
    (same formula, same comparison), at a cost proportional to the pairs near each site.

    Parameters
    ----------
    demand_lon, demand_lat : array_like of float
        WGS-84 degrees, n points.
    site_lon, site_lat : array_like of float
        WGS-84 degrees, m sites (stations or candidate sites).
    radius_m : float
        In (0, :data:`MAX_RADIUS_M`].

    Returns
    -------
    demand_idx : numpy.ndarray of int32
    site_idx : numpy.ndarray of int32
    distance_m : numpy.ndarray of float64
        One entry per pair, in no particular order.

    Raises
    ------
    ValueError
        For a radius out of range, non-finite or non-WGS-84 coordinates.
    """
    grid = _Grid.of(demand_lon, demand_lat, site_lon, site_lat, radius_m)
    empty = (np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.float64))
    if grid is None:
        return empty
    radius, slon, slat = grid.radius, grid.slon, grid.slat
    order, sorted_lon, sorted_lat = grid.order, grid.sorted_lon, grid.sorted_lat
    start, count, per_site = grid.start, grid.count, grid.per_site
    flat_x, flat_r2 = grid.flat_x, grid.flat_r2
    out_i, out_j, out_d = [], [], []
    lo_site = 0
    cumulative = np.cumsum(per_site)
    while lo_site < len(slon):
        # sites in this block bring at most _BLOCK_CANDIDATES candidates (at least one site)
        base = cumulative[lo_site - 1] if lo_site else 0
        hi_site = max(lo_site + 1, int(np.searchsorted(cumulative, base + _BLOCK_CANDIDATES, side="right")))
        block = slice(lo_site, hi_site)
        c = count[block].reshape(-1)
        pos = _ranges(start[block].reshape(-1).astype(np.int64), c.astype(np.int64))
        site = np.repeat(np.arange(lo_site, hi_site, dtype=np.int64), per_site[block])
        # A flat-earth distance with the smallest cos(lat) never exceeds the great circle by more
        # than the bin margin, so this cheap cut keeps every pair and drops most of the rest
        # before the exact (and costlier) haversine. Reading the cell-sorted copies keeps the
        # memory access sequential.
        ddx = (sorted_lon[pos] - slon[site]) * flat_x
        ddy = sorted_lat[pos] - slat[site]
        near = ddx * ddx + ddy * ddy <= flat_r2
        pos, site = pos[near], site[near]
        d = haversine_m(sorted_lat[pos], sorted_lon[pos], slat[site], slon[site])
        keep = d <= radius
        out_i.append(order[pos[keep]].astype(np.int32))
        out_j.append(site[keep].astype(np.int32))
        out_d.append(d[keep])
        lo_site = hi_site
    return np.concatenate(out_i), np.concatenate(out_j), np.concatenate(out_d)


_MIN_CELL_DEG = 1e-7


@dataclass
class _Grid:
    """The demand points binned on a latitude/longitude grid a little wider than the radius, and for each
    site the 3 × 3 cells around it: every point within reach of a site lies in them."""

    radius: float
    slon: np.ndarray
    slat: np.ndarray
    order: np.ndarray
    sorted_lon: np.ndarray
    sorted_lat: np.ndarray
    start: np.ndarray      # (m, 9) first candidate of each cell, in sorted order
    count: np.ndarray      # (m, 9) candidates in each cell
    per_site: np.ndarray   # candidates per site
    flat_x: float
    flat_r2: float

    @classmethod
    def of(cls, demand_lon, demand_lat, site_lon, site_lat, radius_m) -> _Grid | None:
        radius = check_radius(radius_m)
        dlon, dlat = as_float_array(demand_lon, "demand_lon"), as_float_array(demand_lat, "demand_lat")
        slon, slat = as_float_array(site_lon, "site_lon"), as_float_array(site_lat, "site_lat")
        check_lonlat(dlon, dlat, "demand")
        check_lonlat(slon, slat, "sites")
        if len(dlon) == 0 or len(slon) == 0:
            return None
        max_abs_lat = float(max(np.abs(dlat).max(), np.abs(slat).max()))
        if max_abs_lat > 85:
            raise ValueError("pairs_within bins by latitude/longitude and does not work near the poles")
        # a cell of at least 1 cm: a radius of a few nanometres would make cells of zero size
        cell_lat = max(np.degrees(radius / EARTH_RADIUS_M) * _BIN_MARGIN, _MIN_CELL_DEG)
        cell_lon = cell_lat / np.cos(np.radians(max_abs_lat))
        gx = np.floor(dlon / cell_lon).astype(np.int64)
        gy = np.floor(dlat / cell_lat).astype(np.int64)
        # one integer key per cell: rows of 2**21 cells cover the whole latitude range at 50 m cells
        span = np.int64(1 << 32)
        key = gx * span + gy
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        sx = np.floor(slon / cell_lon).astype(np.int64)
        sy = np.floor(slat / cell_lat).astype(np.int64)
        starts, counts = [], []
        for ddx in (-1, 0, 1):
            for ddy in (-1, 0, 1):
                k = (sx + ddx) * span + (sy + ddy)
                lo = np.searchsorted(sorted_key, k, side="left")
                hi = np.searchsorted(sorted_key, k, side="right")
                starts.append(lo)
                counts.append(hi - lo)
        start, count = np.stack(starts, axis=1), np.stack(counts, axis=1)
        return cls(radius, slon, slat, order, dlon[order], dlat[order], start, count, count.sum(axis=1),
                   float(np.cos(np.radians(max_abs_lat))), float(cell_lat * cell_lat))


def candidate_counts(demand_lon, demand_lat, site_lon, site_lat, radius_m: float) -> np.ndarray:
    """Per site, the demand points :func:`pairs_within` would examine for it: an upper bound of its pairs.

    Costs one sort of the points and no distance: what a request will cost is known before it is paid
    (within a factor of about three: 3 × 3 cells a little wider than the radius against its circle).
    """
    grid = _Grid.of(demand_lon, demand_lat, site_lon, site_lat, radius_m)
    return np.zeros(len(np.atleast_1d(site_lon)), dtype=np.int64) if grid is None else grid.per_site
