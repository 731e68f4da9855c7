"""The one GeoJSON writer (RFC 7946): WGS-84 [lon, lat], coordinates rounded, every value plain JSON."""
from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.crs import check_wgs84
from mapdata.vocabulary import AMENITY_KEYS

#: Decimals kept in coordinates: 7 is about 1 cm.
PRECISION = 7
_AMENITY_ORDER = {k: i for i, k in enumerate(AMENITY_KEYS)}


def amenity_list(value) -> list[str]:
    """A set of amenity keys as a list in vocabulary order."""
    return sorted(value, key=lambda k: (_AMENITY_ORDER.get(k, len(_AMENITY_ORDER)), k))


def plain(value):
    """``value`` as plain JSON: sets as sorted lists, times as ISO 8601, NumPy scalars as Python, NaN as null."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (frozenset, set)):
        return amenity_list(value)
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _round(coords, digits: int):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), digits) for c in coords]
    return [_round(c, digits) for c in coords]


def geometry(geom, precision: int = PRECISION) -> dict | None:
    """A shapely geometry as a GeoJSON geometry dict, coordinates rounded to ``precision`` decimals."""
    if geom is None or shapely.is_empty(geom):
        return None
    out = json.loads(shapely.to_geojson(geom))
    out["coordinates"] = _round(out["coordinates"], precision)
    return out


def point(lon: float, lat: float, precision: int = PRECISION) -> dict:
    return {"type": "Point", "coordinates": [round(float(lon), precision), round(float(lat), precision)]}


def feature(geometry_dict: dict | None, properties: dict, id=None) -> dict:
    """One Feature; the properties are made plain JSON."""
    out = {"type": "Feature", "geometry": geometry_dict, "properties": {k: plain(v) for k, v in properties.items()}}
    if id is not None:
        out["id"] = plain(id)
    return out


def collection(features: Iterable[dict]) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def dumps(doc) -> bytes:
    """Compact UTF-8 JSON; a NaN that slipped through is an error, not invalid JSON."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def records_collection(records: pd.DataFrame, geometries: Sequence[dict | None], id_column: str | None = None) -> bytes:
    """A FeatureCollection of table rows and their (already built) geometries, as bytes."""
    rows = records.astype(object).where(records.notna(), None).to_dict("records")
    return dumps(collection(feature(g, r, r[id_column] if id_column else None) for r, g in zip(rows, geometries)))


def frame_collection(gdf: gpd.GeoDataFrame, properties: Sequence[str] | None = None, id_column: str | None = "id",
                     precision: int = PRECISION, simplify_m: float | None = None) -> bytes:
    """A layer as GeoJSON bytes.

    Parameters
    ----------
    gdf : GeoDataFrame in EPSG:4326
    properties : the columns to publish (default: all but the geometry)
    id_column : column used as the Feature id (None for no id)
    precision : decimals kept in coordinates (7 ≈ 1 cm)
    simplify_m : simplify lines and polygons to about this many metres, for display
    """
    check_wgs84(gdf, "a GeoJSON layer")
    geoms = gdf.geometry.values
    if simplify_m:
        geoms = shapely.simplify(geoms, simplify_m / 111_000, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 10.0 ** -precision)
    cols = list(properties) if properties is not None else [c for c in gdf.columns if c != gdf.geometry.name]
    records = gdf[cols].to_dict("records")
    ids = gdf[id_column].tolist() if id_column and id_column in gdf.columns else [None] * len(gdf)
    features = [feature(json.loads(shapely.to_geojson(g)) if g is not None else None, r, i)
                for g, r, i in zip(geoms, records, ids)]
    return dumps(collection(features))


def point_collection(lon: np.ndarray, lat: np.ndarray, columns: dict[str, list], ids: list,
                     precision: int = PRECISION) -> bytes:
    """Many points at once (100,000 stations in well under a second): columns of plain values, one per point."""
    xs = np.round(np.asarray(lon, dtype=float), precision).tolist()
    ys = np.round(np.asarray(lat, dtype=float), precision).tolist()
    names = list(columns)
    values = [[plain(v) for v in columns[n]] for n in names]
    features = [{"type": "Feature", "id": ids[i], "geometry": {"type": "Point", "coordinates": [xs[i], ys[i]]},
                 "properties": {n: values[k][i] for k, n in enumerate(names)}} for i in range(len(ids))]
    return dumps(collection(features))
