"""Schemas of every stored layer: column types, allowed values, geometry type, the Chengdu extent.

One declaration per layer drives both validation (pandera) and storage (how a column is
written to and read back from the file). A failure is raised as :class:`LayerValidationError`
naming the layer, the row id and the field.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import pandera.pandas as pa
import shapely

from mapdata.vocabulary import AMENITY_KEYS, SIGN_CONDITIONS, SIGN_KINDS, STATION_STATUSES

#: WGS-84 bounding box of Chengdu's 20 districts, with a margin of about 1 km.
CHENGDU_BOUNDS = (102.98, 30.08, 104.91, 31.45)
TIMEZONE = "Asia/Shanghai"


class LayerValidationError(ValueError):
    """A stored or incoming layer broke its schema."""

    def __init__(self, layer: str, row_id, field: str, message: str):
        self.layer, self.row_id, self.field, self.message = layer, row_id, field, message
        where = f"row {row_id!s}" if row_id is not None else "all rows"
        super().__init__(f"layer {layer!r}, {where}, field {field!r}: {message}")

    def as_dict(self) -> dict:
        return {"layer": self.layer, "id": None if self.row_id is None else str(self.row_id),
                "field": self.field, "message": self.message}


def opening_hours_error(expression) -> str | None:
    """Why ``expression`` is not valid OSM ``opening_hours`` syntax, or None when it is."""
    if not isinstance(expression, str) or not expression.strip():
        return "expected an OSM opening_hours expression such as 'Mo-Fr 08:00-20:00; PH off'"
    try:
        opening_hours.OpeningHours(expression)
    except (opening_hours.ParserError, SyntaxError, ValueError) as exc:
        detail = " ".join(line.strip(" |") for line in str(exc).splitlines() if line.strip(" |"))
        return f"not valid OSM opening_hours syntax: {detail}"
    return None


def amenities_error(value) -> str | None:
    if not isinstance(value, (frozenset, set, list, tuple)):
        return "expected a set of amenity keys"
    unknown = sorted(set(value) - set(AMENITY_KEYS))
    if unknown:
        return f"unknown amenity {', '.join(map(repr, unknown))}; expected keys from {', '.join(AMENITY_KEYS)}"
    return None


@dataclass(frozen=True)
class Column:
    """One column: its storage kind, whether it may be empty, and its allowed values."""

    kind: str  # str, int, float, bool, datetime, amenities, hours
    nullable: bool = False
    isin: tuple | None = None
    unique: bool = False


@dataclass(frozen=True)
class LayerSpec:
    name: str
    geometry: tuple[str, ...]  # allowed geometry types, empty for a plain table
    columns: dict[str, Column]
    id_column: str = "id"
    editable: bool = False  # carries version / updated_at / updated_by
    extra_checks: tuple[Callable[[gpd.GeoDataFrame], list[tuple[int, str, str]]], ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)


VERSIONED = {
    "version": Column("int"),
    "updated_at": Column("datetime"),
    "updated_by": Column("str"),
}

SPECS: dict[str, LayerSpec] = {}


def _spec(spec: LayerSpec) -> LayerSpec:
    SPECS[spec.name] = spec
    return spec


DISTRICTS = _spec(LayerSpec(
    "districts", ("Polygon", "MultiPolygon"), {
        "adcode": Column("int", unique=True),
        "name": Column("str"),
        "name_en": Column("str"),
        "population": Column("int"),
        "urban_share": Column("float"),
        "area_km2": Column("float"),
    }, id_column="adcode"))

STATIONS = _spec(LayerSpec(
    "stations", ("Point",), {
        "id": Column("str", unique=True),
        "name": Column("str"),
        "adcode": Column("int"),
        "district": Column("str"),
        "street": Column("str", nullable=True),
        "address": Column("str"),
        "operator": Column("str"),
        "phone": Column("str", nullable=True),
        "amenities": Column("amenities"),
        "opening_hours": Column("hours"),
        "status": Column("str", isin=STATION_STATUSES),
        "status_note": Column("str", nullable=True),
        "status_until": Column("datetime", nullable=True),
        "capacity": Column("int"),
        **VERSIONED,
    }, editable=True))

COMPOUNDS = _spec(LayerSpec(
    "compounds", ("Polygon", "MultiPolygon"), {
        "id": Column("str", unique=True),
        "name": Column("str"),
        "osm_id": Column("str", nullable=True),
        "adcode": Column("int"),
        "district": Column("str"),
    }))

GATES = _spec(LayerSpec(
    "gates", ("Point",), {
        "id": Column("str", unique=True),
        "compound_id": Column("str"),
        "name": Column("str"),
        "rider_access": Column("bool"),
        "e_bike": Column("bool"),
        "opening_hours": Column("hours"),
        **VERSIONED,
    }, editable=True))

BUILDINGS = _spec(LayerSpec(
    "buildings", ("Point", "Polygon", "MultiPolygon"), {
        "id": Column("str", unique=True),
        "compound_id": Column("str"),
        "number": Column("str"),
        "label": Column("str"),
        "osm_id": Column("str", nullable=True),
    }))

ENTRY_ROUTES = _spec(LayerSpec(
    "entry_routes", ("LineString",), {
        "id": Column("str", unique=True),
        "compound_id": Column("str"),
        "gate_id": Column("str"),
        "building_id": Column("str"),
        "length_m": Column("float"),
        "source": Column("str", isin=("osm_path", "generated")),
    }))

WAYFINDING_SIGNS = _spec(LayerSpec(
    "wayfinding_signs", ("Point",), {
        "id": Column("str", unique=True),
        "compound_id": Column("str"),
        "kind": Column("str", isin=SIGN_KINDS),
        "gate_id": Column("str", nullable=True),
        "building_id": Column("str", nullable=True),
        "text": Column("str"),
        "condition": Column("str", isin=SIGN_CONDITIONS),
        **VERSIONED,
    }, editable=True))

DEMAND = _spec(LayerSpec(
    "demand", ("Point",), {
        "id": Column("str", unique=True),
        "weight": Column("float"),
        "kind": Column("str", isin=("pickup", "dropoff", "residential")),
        "adcode": Column("int"),
    }))

ROADS = _spec(LayerSpec(
    "roads", ("LineString",), {
        "id": Column("str", unique=True),
        "osm_id": Column("str"),
        "name": Column("str", nullable=True),
        "highway": Column("str"),
        "oneway": Column("bool"),
    }))


def _pandera_schema(spec: LayerSpec) -> pa.DataFrameSchema:
    columns = {}
    for name, col in spec.columns.items():
        checks = []
        if col.isin:
            checks.append(pa.Check.isin(list(col.isin), error=f"expected one of {', '.join(col.isin)}"))
        if col.kind == "str":
            dtype = None
            checks.append(pa.Check(lambda s: s.map(lambda v: isinstance(v, str)), element_wise=False,
                                   error="expected text"))
        elif col.kind == "int":
            dtype = "int64"
        elif col.kind == "float":
            dtype = "float64"
        elif col.kind == "bool":
            dtype = "bool"
        elif col.kind == "datetime":
            dtype = None  # any resolution (ns, us, ms); the time zone is checked in validate()
        elif col.kind == "amenities":
            dtype = None
            checks.append(pa.Check(lambda s: s.map(lambda v: amenities_error(v) is None), element_wise=False,
                                   error="expected a set of amenity keys from the vocabulary"))
        elif col.kind == "hours":
            dtype = None
            checks.append(pa.Check(lambda s: s.map(lambda v: opening_hours_error(v) is None), element_wise=False,
                                   error="expected valid OSM opening_hours syntax"))
        else:  # pragma: no cover - a programming error in a spec above
            raise AssertionError(col.kind)
        columns[name] = pa.Column(dtype, checks=checks, nullable=col.nullable, unique=col.unique,
                                  coerce=False, required=True)
    return pa.DataFrameSchema(columns, strict=False)


_SCHEMAS = {name: _pandera_schema(spec) for name, spec in SPECS.items()}


def _row_id(gdf: pd.DataFrame, spec: LayerSpec, index) -> object:
    if index is None or (isinstance(index, float) and np.isnan(index)):
        return None
    try:
        value = gdf.loc[index, spec.id_column] if spec.id_column in gdf.columns else index
    except KeyError:
        return index
    if isinstance(value, pd.Series):
        value = value.iloc[0]
    return value


def _explain(spec: LayerSpec, field: str, value) -> str:
    col = spec.columns.get(field)
    if col is None:
        return "unexpected value"
    if col.kind == "amenities":
        return amenities_error(value) or "expected a set of amenity keys"
    if col.kind == "hours":
        return opening_hours_error(value) or "expected valid OSM opening_hours syntax"
    if col.isin and value not in col.isin:
        return f"got {value!r}, expected one of {', '.join(col.isin)}"
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return f"missing value; expected {col.kind}"
    if col.unique:
        return f"duplicate value {value!r}; must be unique"
    return f"got {value!r}, expected {col.kind}"


def validate(gdf: gpd.GeoDataFrame, layer: str, *, within=None) -> gpd.GeoDataFrame:
    """Check ``gdf`` against the schema of ``layer``; return it unchanged or raise.

    Parameters
    ----------
    gdf : GeoDataFrame (or DataFrame for plain tables)
    layer : name of a layer in :data:`SPECS`
    within : shapely geometry, optional
        The Chengdu outline; without it the Chengdu bounding box is used.

    Raises
    ------
    LayerValidationError
        For the first failure, naming the layer, the row id and the field.
    """
    spec = SPECS[layer]
    missing = [c for c in spec.columns if c not in gdf.columns]
    if missing:
        raise LayerValidationError(layer, None, missing[0], "column is missing")
    # dtype problems are reported per column before pandera, with the first offending row
    for name, col in spec.columns.items():
        s = gdf[name]
        bad = None
        if col.kind in ("int", "float") and not pd.api.types.is_numeric_dtype(s):
            bad = s.map(lambda v: not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool))
        elif col.kind == "int" and pd.api.types.is_float_dtype(s):
            bad = ~(s.isna() & col.nullable) & (s.isna() | (s % 1 != 0))
        elif col.kind == "bool" and not pd.api.types.is_bool_dtype(s):
            bad = ~s.isin([True, False])
        elif col.kind == "datetime" and not isinstance(s.dtype, pd.DatetimeTZDtype):
            bad = s.map(lambda v: not (v is None or isinstance(v, pd.Timestamp) and v.tzinfo is not None
                                       or (isinstance(v, float) and np.isnan(v))))
            if not bad.any():
                raise LayerValidationError(layer, None, name, f"expected a time zone aware datetime column ({TIMEZONE})")
        elif col.kind == "datetime" and str(s.dtype.tz) != TIMEZONE:
            raise LayerValidationError(layer, None, name, f"expected times in {TIMEZONE}, got {s.dtype.tz}")
        if bad is not None and bad.any():
            idx = bad[bad].index[0]
            raise LayerValidationError(layer, _row_id(gdf, spec, idx), name, _explain(spec, name, s.loc[idx]))
    try:
        _SCHEMAS[layer].validate(gdf, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        row = fc.iloc[0]
        field = row.get("column") or ""
        index = row.get("index")
        value = gdf.loc[index, field] if index is not None and field in gdf.columns and index in gdf.index else row.get("failure_case")
        if isinstance(value, pd.Series):
            value = value.iloc[0]
        raise LayerValidationError(layer, _row_id(gdf, spec, index), str(field), _explain(spec, str(field), value)) from None
    if spec.geometry:
        _check_geometry(gdf, spec, within)
    for check in spec.extra_checks:
        problems = check(gdf)
        if problems:
            idx, field, message = problems[0]
            raise LayerValidationError(layer, _row_id(gdf, spec, idx), field, message)
    return gdf


def _check_geometry(gdf: gpd.GeoDataFrame, spec: LayerSpec, within) -> None:
    layer = spec.name
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise LayerValidationError(layer, None, "geometry", "expected a geometry column")
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise LayerValidationError(layer, None, "geometry", f"expected EPSG:4326 (WGS-84), got {gdf.crs}")
    geoms = gdf.geometry.values
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        idx = empty[empty].index[0]
        raise LayerValidationError(layer, _row_id(gdf, spec, idx), "geometry", "missing geometry")
    types = gdf.geom_type
    wrong = ~types.isin(spec.geometry)
    if wrong.any():
        idx = wrong[wrong].index[0]
        raise LayerValidationError(layer, _row_id(gdf, spec, idx), "geometry",
                                   f"got {types.loc[idx]}, expected {' or '.join(spec.geometry)}")
    if layer == "districts":
        return
    x0, y0, x1, y1 = CHENGDU_BOUNDS
    if within is None:
        inside = shapely.contains_xy(shapely.box(x0, y0, x1, y1), *_probe_xy(geoms))
    else:
        inside = shapely.intersects(within, geoms) if spec.geometry[0] != "Point" else shapely.contains_xy(within, *_probe_xy(geoms))
    if not np.all(inside):
        pos = int(np.flatnonzero(~np.asarray(inside))[0])
        idx = gdf.index[pos]
        x, y = _probe_xy(geoms[pos:pos + 1])
        raise LayerValidationError(layer, _row_id(gdf, spec, idx), "geometry",
                                   f"point ({float(x[0]):.5f}, {float(y[0]):.5f}) lies outside Chengdu")


def _probe_xy(geoms):
    pts = shapely.point_on_surface(geoms)
    return shapely.get_x(pts), shapely.get_y(pts)
