"""How columns are kept in a store: GeoPackage has no set or time-zone types.

- ``amenities``: the keys joined by ``;`` (the OSM list separator), sorted in vocabulary order;
- datetimes: ISO 8601 text with the ``+08:00`` offset;
- everything else as its natural type.
"""
from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from mapdata.schemas import SPECS, LayerValidationError
from mapdata.vocabulary import AMENITY_KEYS, TIMEZONE

_AMENITY_ORDER = {k: i for i, k in enumerate(AMENITY_KEYS)}


def amenities_to_text(value) -> str:
    return ";".join(sorted(value, key=lambda k: (_AMENITY_ORDER.get(k, len(_AMENITY_ORDER)), k)))


def _text_to_amenities(value) -> frozenset:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return frozenset()
    if not isinstance(value, str):
        return value  # left for the schema to reject with the row id
    return frozenset(k.strip() for k in value.split(";") if k.strip())


def datetime_to_text(value) -> str | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).tz_convert(TIMEZONE).isoformat()


def serialise(gdf: gpd.GeoDataFrame, layer: str) -> gpd.GeoDataFrame:
    """The frame as it is written to the file."""
    spec = SPECS[layer]
    out = gdf[spec.column_names + ([gdf.geometry.name] if spec.geometry else [])].copy()
    for name, col in spec.columns.items():
        if col.kind == "amenities":
            out[name] = out[name].map(amenities_to_text).astype(object)
        elif col.kind == "datetime":
            out[name] = pd.Series([datetime_to_text(v) for v in out[name]], index=out.index, dtype=object)
        elif col.kind in ("str", "hours"):
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


def deserialise(raw: pd.DataFrame, layer: str) -> gpd.GeoDataFrame:
    """The frame as the app sees it; type errors are raised naming the layer, row id and field."""
    spec = SPECS[layer]
    out = raw.copy()
    ids = out[spec.id_column] if spec.id_column in out.columns else pd.Series(out.index, index=out.index)
    for name, col in spec.columns.items():
        if name not in out.columns:
            raise LayerValidationError(layer, None, name, "column is missing")
        s = out[name]
        if col.kind in ("str", "hours"):
            out[name] = s.astype(object).where(s.notna(), None)
        elif col.kind == "amenities":
            out[name] = s.astype(object).map(_text_to_amenities)
        elif col.kind == "datetime":
            parsed = pd.to_datetime(s.astype(object).where(s.notna(), None), errors="coerce", utc=True, format="ISO8601")
            bad = parsed.isna() & s.notna()
            if bad.any():
                i = bad[bad].index[0]
                raise LayerValidationError(layer, ids.loc[i], name, f"got {s.loc[i]!r}, expected an ISO 8601 date-time")
            out[name] = parsed.dt.tz_convert(TIMEZONE)
        elif col.kind in ("int", "float"):
            if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
                num = pd.to_numeric(s, errors="coerce")
                bad = num.isna() & s.notna() | (s.isna() & (not col.nullable))
                if bad.any():
                    i = bad[bad].index[0]
                    raise LayerValidationError(layer, ids.loc[i], name, f"got {s.loc[i]!r}, expected a number ({col.kind})")
                s = num
            if col.kind == "int":
                if s.isna().any() or (s % 1 != 0).any():
                    bad = s.isna() | (s % 1 != 0)
                    i = bad[bad].index[0]
                    raise LayerValidationError(layer, ids.loc[i], name, f"got {raw[name].loc[i]!r}, expected an integer")
                out[name] = s.astype("int64")
            else:
                out[name] = s.astype("float64")
        elif col.kind == "bool":
            if not pd.api.types.is_bool_dtype(s):
                mapped = s.map(lambda v: {1: True, 0: False, "1": True, "0": False,  # 1 == True, 0 == False
                                          "true": True, "false": False, "yes": True, "no": False}.get(v))
                bad = mapped.isna()
                if bad.any():
                    i = bad[bad].index[0]
                    raise LayerValidationError(layer, ids.loc[i], name, f"got {s.loc[i]!r}, expected yes/no (boolean)")
                s = mapped
            out[name] = s.astype(bool)
    return out



def jsonable(value):
    if isinstance(value, (frozenset, set)):
        return amenities_to_text(value).split(";") if value else []
    if isinstance(value, (pd.Timestamp, datetime)):
        return datetime_to_text(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return None if np.isnan(value) else float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if value is not None and isinstance(value, float) and np.isnan(value):
        return None
    if hasattr(value, "geom_type"):
        return shapely.to_geojson(value)
    return value
