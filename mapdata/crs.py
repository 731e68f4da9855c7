"""Coordinate conversion between WGS-84, GCJ-02 (Amap's "Mars" offset) and BD-09 (Baidu), vectorised.

pyproj does not know GCJ-02 or BD-09: they are obfuscations, not datums. The forward formulas
below are the ones published with the widely used open-source converters (eviltransform,
coordtransform); they use Krasovsky's semi-major axis and the WGS-84 eccentricity, as the original
leaked code does. GCJ-02 has no closed-form inverse, so :func:`gcj02_to_wgs84` iterates the forward
formula to convergence instead of the common one-step approximation, which is off by 1–2 m;
:func:`bd09_to_gcj02` likewise refines Baidu's published inverse, so round trips are exact.

Every function takes longitude first, accepts scalars or array-likes (broadcast together) and
returns NumPy arrays, or Python floats when both inputs are scalars. Outside China (the usual
``out_of_china`` box) all conversions are the identity, as in the reference implementations.
"""
from __future__ import annotations

from typing import Callable

import geopandas as gpd
import numpy as np
import shapely

#: UTM zone 48N: metric work (buffers, lengths, areas) over Chengdu.
METRIC_EPSG = 32648
METRIC_CRS = f"EPSG:{METRIC_EPSG}"
#: WGS-84 bounding box of Chengdu's 20 districts, with a margin of about 1 km.
CHENGDU_BOUNDS = (102.98, 30.08, 104.91, 31.45)

#: The coordinate systems understood by :func:`to_wgs84` and :func:`from_wgs84`.
SUPPORTED_CRS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")

_KRASOVSKY_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0
#: Iteration of the inverse stops once the forward image is this close to the target, in degrees;
#: 1e-10 deg is about 0.01 mm, far inside the 1e-7 deg the app needs.
_INVERSE_TOLERANCE = 1e-10
_INVERSE_MAX_ITER = 30

Converter = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _as_arrays(lon, lat) -> tuple[np.ndarray, np.ndarray, bool]:
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    return lon, lat, scalar


def _result(lon: np.ndarray, lat: np.ndarray, scalar: bool):
    if scalar:
        return float(lon), float(lat)
    return lon, lat


def out_of_china(lon, lat) -> np.ndarray:
    """Whether points lie outside the rough China box where GCJ-02 offsets are applied.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray of bool
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _converged(rlon: np.ndarray, rlat: np.ndarray) -> bool:
    # NaN inputs stay NaN and must not keep the loop running
    finite = np.isfinite(rlon) & np.isfinite(rlat)
    return not np.any((np.abs(rlon) >= _INVERSE_TOLERANCE) & finite) and \
        not np.any((np.abs(rlat) >= _INVERSE_TOLERANCE) & finite)


def _gcj02_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The GCJ-02 shift (dlon, dlat) in degrees to add to a WGS-84 point, zero outside China."""
    x, y = lon - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
            + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
            + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0)
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_KRASOVSKY_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    outside = out_of_china(lon, lat)
    return np.where(outside, 0.0, dlon), np.where(outside, 0.0, dlat)


def wgs84_to_gcj02(lon, lat):
    """Convert WGS-84 coordinates to GCJ-02.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input
        GCJ-02 coordinates; unchanged outside China.
    """
    lon, lat, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon, lat)
    return _result(lon + dlon, lat + dlat, scalar)


def gcj02_to_wgs84(lon, lat):
    """Convert GCJ-02 coordinates to WGS-84 by fixed-point iteration of the forward formula.

    Starting from the one-step estimate ``gcj - offset(gcj)``, each step corrects the estimate by
    the residual ``wgs84_to_gcj02(estimate) - gcj``. The offset field changes slowly (its slope is
    about 1e-3), so the error shrinks a thousandfold per step and two or three steps reach the
    1e-10 degree tolerance.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input
        WGS-84 coordinates whose GCJ-02 image is within 1e-10 degrees of the input.
    """
    lon, lat, scalar = _as_arrays(lon, lat)
    dlon, dlat = _gcj02_offset(lon, lat)
    wlon, wlat = lon - dlon, lat - dlat
    for _ in range(_INVERSE_MAX_ITER):
        dlon, dlat = _gcj02_offset(wlon, wlat)
        rlon, rlat = wlon + dlon - lon, wlat + dlat - lat
        wlon, wlat = wlon - rlon, wlat - rlat
        if _converged(rlon, rlat):
            break
    return _result(wlon, wlat, scalar)


def gcj02_to_bd09(lon, lat):
    """Convert GCJ-02 coordinates to Baidu's BD-09.

    Parameters
    ----------
    lon, lat : float or array_like
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input
        BD-09 coordinates; unchanged outside China.
    """
    lon, lat, scalar = _as_arrays(lon, lat)
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    outside = out_of_china(lon, lat)
    blon = np.where(outside, lon, z * np.cos(theta) + 0.0065)
    blat = np.where(outside, lat, z * np.sin(theta) + 0.006)
    return _result(blon, blat, scalar)


def _bd09_one_step(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published one-step BD-09 to GCJ-02 formula (no China test)."""
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon, lat):
    """Convert Baidu's BD-09 coordinates to GCJ-02.

    The one-step formula that Baidu and the reference implementations publish inverts
    :func:`gcj02_to_bd09` only to about 1e-6 degrees (0.1 m); it is used as the starting point
    and refined by fixed-point iteration, so that a round trip through BD-09 returns the same
    point (to 1e-10 degrees). The result differs from the one-step formula by at most 0.1 m.

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input
        GCJ-02 coordinates; unchanged outside China.
    """
    lon, lat, scalar = _as_arrays(lon, lat)
    glon, glat = _bd09_one_step(lon, lat)
    for _ in range(_INVERSE_MAX_ITER):
        blon, blat = gcj02_to_bd09(glon, glat)
        rlon, rlat = blon - lon, blat - lat
        glon, glat = glon - rlon, glat - rlat
        if _converged(rlon, rlat):
            break
    outside = out_of_china(lon, lat)
    return _result(np.where(outside, lon, glon), np.where(outside, lat, glat), scalar)


def wgs84_to_bd09(lon, lat):
    """Convert WGS-84 coordinates to BD-09 (through GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input
    """
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat):
    """Convert BD-09 coordinates to WGS-84 (through GCJ-02).

    Parameters
    ----------
    lon, lat : float or array_like
        BD-09 longitude and latitude in degrees.

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input
    """
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def _identity(lon, lat):
    lon, lat, scalar = _as_arrays(lon, lat)
    return _result(lon.copy(), lat.copy(), scalar)


_TO_WGS84: dict[str, Converter] = {"wgs84": _identity, "gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}
_FROM_WGS84: dict[str, Converter] = {"wgs84": _identity, "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}


def _converter(table: dict[str, Converter], crs: str) -> Converter:
    try:
        return table[crs]
    except (KeyError, TypeError):
        raise ValueError(f"unknown coordinate system {crs!r}; expected one of "
                         f"{', '.join(SUPPORTED_CRS)}") from None


def to_wgs84(lon, lat, crs: str):
    """Convert coordinates given in ``crs`` to WGS-84.

    Parameters
    ----------
    lon, lat : float or array_like
        Longitude and latitude in degrees, in ``crs``.
    crs : {"wgs84", "gcj02", "bd09"}

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input

    Raises
    ------
    ValueError
        If ``crs`` is not one of :data:`SUPPORTED_CRS`; the message names it.
    """
    return _converter(_TO_WGS84, crs)(lon, lat)


def from_wgs84(lon, lat, crs: str):
    """Convert WGS-84 coordinates to ``crs``.

    Parameters
    ----------
    lon, lat : float or array_like
        WGS-84 longitude and latitude in degrees.
    crs : {"wgs84", "gcj02", "bd09"}

    Returns
    -------
    (lon, lat) : tuple of numpy.ndarray, or of float for scalar input

    Raises
    ------
    ValueError
        If ``crs`` is not one of :data:`SUPPORTED_CRS`; the message names it.
    """
    return _converter(_FROM_WGS84, crs)(lon, lat)


def transform_geometry(geoms, func: Converter):
    """Apply a coordinate conversion to every vertex of shapely geometries.

    Parameters
    ----------
    geoms : shapely.Geometry, array_like of geometries, or geopandas.GeoSeries
    func : callable
        ``func(lon, lat) -> (lon, lat)`` on NumPy arrays, e.g. :func:`gcj02_to_wgs84`.

    Returns
    -------
    Same kind as ``geoms``: a geometry, a NumPy array of geometries, or a GeoSeries with the same
    index and CRS. Z values, if any, are dropped.
    """
    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = func(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    if isinstance(geoms, gpd.GeoSeries):
        out = shapely.transform(geoms.values.to_numpy(), convert, interleaved=True)
        return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs, name=geoms.name)
    return shapely.transform(geoms, convert, interleaved=True)


def gdf_to_wgs84(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    """Return a copy of ``gdf`` with its geometry converted from ``crs`` to WGS-84 (EPSG:4326).

    Parameters
    ----------
    gdf : geopandas.GeoDataFrame
        Longitude/latitude geometries in ``crs``. Files in GCJ-02 or BD-09 usually claim to be
        WGS-84 (or carry no CRS); any geographic CRS or none is accepted, a projected one is not.
    crs : {"wgs84", "gcj02", "bd09"}

    Returns
    -------
    geopandas.GeoDataFrame
        A copy in EPSG:4326.

    Raises
    ------
    ValueError
        If ``crs`` is unknown or ``gdf`` is in a projected CRS.
    """
    func = _converter(_TO_WGS84, crs)
    if gdf.crs is not None and not gdf.crs.is_geographic:
        raise ValueError(f"expected longitude/latitude coordinates labelled {crs!r}, "
                         f"got a projected CRS {gdf.crs.to_string()}")
    out = gdf.set_crs(4326, allow_override=True)  # set_crs copies by default
    converted = transform_geometry(gdf.geometry.values.to_numpy(), func)
    out[gdf.geometry.name] = gpd.GeoSeries(converted, index=gdf.index, crs=4326)
    return out


def check_wgs84(gdf, what: str) -> None:
    """Refuse anything but a GeoDataFrame in EPSG:4326: the one CRS check at every boundary.

    Raises
    ------
    ValueError
        Naming ``what`` and the CRS it has.
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise ValueError(f"{what} must be a GeoDataFrame in EPSG:4326 (WGS-84), got CRS {getattr(gdf, 'crs', None)}")
