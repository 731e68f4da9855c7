"""GeoJSON for any layer: WGS-84, coordinates rounded, every value made plain JSON (RFC 7946)."""
from __future__ import annotations

import json

import geopandas as gpd
import shapely

from layers.rider.catalogue import _plain


def feature_collection(gdf: gpd.GeoDataFrame, properties: list[str] | None = None, id_column: str | None = "id",
                       precision: int = 7, simplify_m: float | None = None) -> bytes:
    """The layer as GeoJSON bytes.

    Parameters
    ----------
    gdf : GeoDataFrame in EPSG:4326
    properties : the columns to publish (default: all but the geometry)
    id_column : column used as the Feature id
    precision : decimals kept in coordinates (7 ≈ 1 cm)
    simplify_m : simplify lines and polygons to about this many metres, for display
    """
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise ValueError(f"GeoJSON is WGS-84 (EPSG:4326); got {gdf.crs}")
    geoms = gdf.geometry.values
    if simplify_m:
        geoms = shapely.simplify(geoms, simplify_m / 111_000, preserve_topology=True)
    geoms = shapely.set_precision(geoms, 10.0 ** -precision)
    cols = properties if properties is not None else [c for c in gdf.columns if c != gdf.geometry.name]
    records = gdf[cols].to_dict("records")
    features = []
    for i, (geom, rec) in enumerate(zip(geoms, records)):
        feature = {"type": "Feature",
                   "geometry": json.loads(shapely.to_geojson(geom)) if geom is not None else None,
                   "properties": {k: _plain(v) for k, v in rec.items()}}
        if id_column and id_column in gdf.columns:
            feature["id"] = _plain(gdf[id_column].iat[i])
        features.append(feature)
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")
