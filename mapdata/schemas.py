"""Schemas of every stored layer as pandera DataFrameModels: column types, allowed values, geometry.

Each layer is one :class:`pandera.api.pandas.model.DataFrameModel`; its fields carry their
storage kind in ``metadata={"kind": …}`` (text, opening hours, amenity sets and datetimes need
more than a dtype to be written to and read back from a file), and :data:`SPECS` derives what
the store needs from the models. :func:`validate` runs a model and turns pandera's failure
cases, whatever check failed, into one :class:`LayerValidationError` naming the layer, the row
id and the field.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import geopandas as gpd
import numpy as np
import opening_hours
import pandas as pd
import pandera.extensions as extensions
import pandera.pandas as pa
import shapely
from pandera.typing import Series
from pandera.typing.geopandas import GeoSeries

from mapdata.crs import CHENGDU_BOUNDS
from mapdata.vocabulary import AMENITY_KEYS, PLACE_KINDS, SIGN_CONDITIONS, SIGN_KINDS, STATION_STATUSES, TIMEZONE


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
    """Why ``value`` is not a set of amenity keys from the vocabulary, or None when it is."""
    if not isinstance(value, (frozenset, set, list, tuple)):
        return "expected a set of amenity keys"
    unknown = sorted(set(value) - set(AMENITY_KEYS))
    if unknown:
        return f"unknown amenity {', '.join(map(repr, unknown))}; expected keys from {', '.join(AMENITY_KEYS)}"
    return None


# --- the checks the models name (registered once, used as Field(is_text=()) and so on) ----------

@extensions.register_check_method(check_type="element_wise")
def is_text(value) -> bool:
    return isinstance(value, str)


@extensions.register_check_method(check_type="element_wise")
def is_opening_hours(value) -> bool:
    return opening_hours_error(value) is None


@extensions.register_check_method(check_type="element_wise")
def is_amenity_set(value) -> bool:
    return amenities_error(value) is None


@extensions.register_check_method(statistics=["types"])
def geometry_type_in(series, *, types):
    return series.geom_type.isin(list(types))


@extensions.register_check_method(statistics=["bounds"])
def inside_box(series, *, bounds):
    x0, y0, x1, y1 = bounds
    pts = shapely.point_on_surface(series.values)
    return pd.Series(shapely.contains_xy(shapely.box(x0, y0, x1, y1), shapely.get_x(pts), shapely.get_y(pts)),
                     index=series.index)


# --- field builders: the storage kind goes with the pandera field ------------------------------

Datetime = Annotated[pd.DatetimeTZDtype, "us", TIMEZONE]


def _text(*, nullable: bool = False, isin=None, unique: bool = False):
    checks = {"isin": list(isin)} if isin else {}
    return pa.Field(nullable=nullable, unique=unique, coerce=True, is_text=(), metadata={"kind": "str"}, **checks)


def _hours():
    return pa.Field(coerce=True, is_opening_hours=(), metadata={"kind": "hours"})


def _amenity_set():
    return pa.Field(is_amenity_set=(), metadata={"kind": "amenities"})


def _moment(*, nullable: bool = False):
    # any resolution and any time zone in, microseconds in Asia/Shanghai out
    return pa.Field(nullable=nullable, coerce=True, metadata={"kind": "datetime"})


def _number(**checks):
    return pa.Field(metadata={"kind": "number"}, **checks)


def _geometry(*types: str):
    return pa.Field(geometry_type_in={"types": types}, inside_box={"bounds": CHENGDU_BOUNDS},
                    metadata={"kind": "geometry", "types": types})


class _Layer(pa.DataFrameModel):
    class Config:
        strict = False  # a frame may carry working columns; the store writes only the schema's


class Districts(_Layer):
    adcode: Series[np.int64] = _number(unique=True)
    name: Series[object] = _text()
    name_en: Series[object] = _text()
    population: Series[np.int64] = _number(ge=0)
    urban_share: Series[np.float64] = _number(ge=0, le=1)
    area_km2: Series[np.float64] = _number(gt=0)
    # districts are the outline everything else is checked against: no box check of their own
    geometry: GeoSeries = pa.Field(geometry_type_in={"types": ("Polygon", "MultiPolygon")},
                                   metadata={"kind": "geometry", "types": ("Polygon", "MultiPolygon")})


class Stations(_Layer):
    id: Series[object] = _text(unique=True)
    name: Series[object] = _text()
    adcode: Series[np.int64] = _number()
    district: Series[object] = _text()
    street: Series[object] = _text(nullable=True)
    address: Series[object] = _text()
    operator: Series[object] = _text()
    phone: Series[object] = _text(nullable=True)
    amenities: Series[object] = _amenity_set()
    #: amenities out of service (微波炉维修中) until ``status_until``, or until staff clear them
    amenities_out: Series[object] = _amenity_set()
    opening_hours: Series[object] = _hours()
    status: Series[object] = _text(isin=STATION_STATUSES)
    status_note: Series[object] = _text(nullable=True)
    status_until: Series[Datetime] = _moment(nullable=True)
    capacity: Series[np.int64] = _number(ge=0)
    confirmed_at: Series[Datetime] = _moment(nullable=True)
    confirmed_by: Series[object] = _text(nullable=True)
    retired_at: Series[Datetime] = _moment(nullable=True)
    version: Series[np.int64] = _number(ge=1)
    updated_at: Series[Datetime] = _moment()
    updated_by: Series[object] = _text()
    geometry: GeoSeries = _geometry("Point")


class Compounds(_Layer):
    id: Series[object] = _text(unique=True)
    name: Series[object] = _text()
    osm_id: Series[object] = _text(nullable=True)
    adcode: Series[np.int64] = _number()
    district: Series[object] = _text()
    geometry: GeoSeries = _geometry("Polygon", "MultiPolygon")


class Gates(_Layer):
    id: Series[object] = _text(unique=True)
    compound_id: Series[object] = _text()
    name: Series[object] = _text()
    rider_access: Series[bool] = _number()
    e_bike: Series[bool] = _number()
    opening_hours: Series[object] = _hours()
    version: Series[np.int64] = _number(ge=1)
    updated_at: Series[Datetime] = _moment()
    updated_by: Series[object] = _text()
    geometry: GeoSeries = _geometry("Point")


class Buildings(_Layer):
    id: Series[object] = _text(unique=True)
    compound_id: Series[object] = _text()
    number: Series[object] = _text()
    label: Series[object] = _text()
    osm_id: Series[object] = _text(nullable=True)
    geometry: GeoSeries = _geometry("Point", "Polygon", "MultiPolygon")


class EntryRoutes(_Layer):
    id: Series[object] = _text(unique=True)
    compound_id: Series[object] = _text()
    gate_id: Series[object] = _text()
    building_id: Series[object] = _text()
    length_m: Series[np.float64] = _number(ge=0)
    source: Series[object] = _text(isin=("osm_path", "generated"))
    #: staff marked it blocked (a locked door, works): riders are not sent this way
    blocked: Series[bool] = _number()
    version: Series[np.int64] = _number(ge=1)
    updated_at: Series[Datetime] = _moment()
    updated_by: Series[object] = _text()
    geometry: GeoSeries = _geometry("LineString")


class WayfindingSigns(_Layer):
    id: Series[object] = _text(unique=True)
    compound_id: Series[object] = _text()
    kind: Series[object] = _text(isin=SIGN_KINDS)
    gate_id: Series[object] = _text(nullable=True)
    building_id: Series[object] = _text(nullable=True)
    text: Series[object] = _text()
    condition: Series[object] = _text(isin=SIGN_CONDITIONS)
    version: Series[np.int64] = _number(ge=1)
    updated_at: Series[Datetime] = _moment()
    updated_by: Series[object] = _text()
    geometry: GeoSeries = _geometry("Point")


class Demand(_Layer):
    id: Series[object] = _text(unique=True)
    weight: Series[np.float64] = _number(ge=0)
    kind: Series[object] = _text(isin=("pickup", "dropoff", "residential"))
    adcode: Series[np.int64] = _number()
    geometry: GeoSeries = _geometry("Point")


class Roads(_Layer):
    id: Series[object] = _text(unique=True)
    osm_id: Series[object] = _text()
    name: Series[object] = _text(nullable=True)
    highway: Series[object] = _text()
    oneway: Series[bool] = _number()
    geometry: GeoSeries = _geometry("LineString")


class Places(_Layer):
    """Named and unnamed places riders pick orders up at (OSM): the planner's candidate sites."""

    id: Series[object] = _text(unique=True)
    osm_id: Series[object] = _text()
    name: Series[object] = _text(nullable=True)
    kind: Series[object] = _text(isin=PLACE_KINDS)
    geometry: GeoSeries = _geometry("Point")


# --- what the store needs, derived from the models ---------------------------------------------

@dataclass(frozen=True)
class Column:
    """How one column is stored: ``kind`` (str, hours, amenities, datetime, int, float, bool) and nullability."""

    kind: str
    nullable: bool = False


@dataclass(frozen=True)
class LayerSpec:
    name: str
    model: type[_Layer]
    geometry: tuple[str, ...]  # allowed geometry types
    columns: dict[str, Column]
    id_column: str = "id"

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def editable(self) -> bool:
        """Editable layers carry ``version``, ``updated_at`` and ``updated_by``."""
        return {"version", "updated_at", "updated_by"} <= set(self.columns)


def _kind(column) -> str:
    kind = column.metadata["kind"]
    if kind != "number":
        return kind
    dtype = str(column.dtype)
    return "bool" if dtype == "bool" else "int" if dtype.startswith("int") else "float"


def _spec(name: str, model: type[_Layer], id_column: str = "id") -> LayerSpec:
    schema = model.to_schema()
    columns = {n: Column(_kind(c), c.nullable) for n, c in schema.columns.items() if n != "geometry"}
    return LayerSpec(name, model, tuple(schema.columns["geometry"].metadata["types"]), columns, id_column)


SPECS: dict[str, LayerSpec] = {spec.name: spec for spec in (
    _spec("districts", Districts, id_column="adcode"),
    _spec("stations", Stations),
    _spec("compounds", Compounds),
    _spec("gates", Gates),
    _spec("buildings", Buildings),
    _spec("entry_routes", EntryRoutes),
    _spec("wayfinding_signs", WayfindingSigns),
    _spec("demand", Demand),
    _spec("roads", Roads),
    _spec("places", Places),
)}


# --- validation ----------------------------------------------------------------------------------

def _row_id(gdf: pd.DataFrame, spec: LayerSpec, index):
    if index is None or (isinstance(index, float) and np.isnan(index)) or index not in gdf.index:
        return None
    value = gdf.loc[index, spec.id_column] if spec.id_column in gdf.columns else index
    if isinstance(value, pd.Series):
        value = value.iloc[0]
    return value.item() if isinstance(value, np.generic) else value


def _value(gdf: pd.DataFrame, field: str, index, failure):
    if index is not None and field in gdf.columns and index in gdf.index:
        value = gdf.loc[index, field]
        return value.iloc[0] if isinstance(value, pd.Series) else value
    return failure


_EXPECTED = {"str": "text", "int": "an integer", "float": "a number", "bool": "yes/no (boolean)",
             "datetime": f"an ISO 8601 date-time ({TIMEZONE})", "hours": "an OSM opening_hours expression",
             "amenities": "a set of amenity keys"}


def _message(spec: LayerSpec, field: str, check: str, value) -> str:
    """The failure of ``check`` on ``value`` in words a data editor understands."""
    if check == "column_in_dataframe":
        return "column is missing"
    if field == "geometry":
        if check.startswith("geometry_type_in"):
            kind = getattr(value, "geom_type", None) or "missing geometry"
            return f"got {kind}, expected {' or '.join(spec.geometry)}"
        if check.startswith("inside_box"):
            x, y = _probe(value)
            return f"point ({x:.5f}, {y:.5f}) lies outside Chengdu"
        return "missing geometry" if value is None else f"invalid geometry ({check})"
    col = spec.columns.get(field)
    kind = col.kind if col else "value"
    if check == "is_amenity_set":
        return amenities_error(value) or _EXPECTED["amenities"]
    if check == "is_opening_hours":
        return opening_hours_error(value) or _EXPECTED["hours"]
    if check.startswith("isin"):
        allowed = check[check.index("(") + 1:-1] if "(" in check else ""
        return f"got {value!r}, expected one of {allowed.strip('[]').replace(chr(39), '')}"
    if check == "field_uniqueness":
        return f"duplicate value {value!r}; must be unique"
    if check == "not_nullable":
        return f"missing value; expected {_EXPECTED.get(kind, kind)}"
    if check.startswith(("greater_than", "less_than", "in_range")):
        return f"got {value!r}, expected a value {check.replace('_', ' ')}"
    return f"got {value!r}, expected {_EXPECTED.get(kind, kind)}"


def _probe(geom) -> tuple[float, float]:
    try:
        pt = shapely.point_on_surface(geom)
        return float(shapely.get_x(pt)), float(shapely.get_y(pt))
    except (TypeError, shapely.errors.ShapelyError):
        return float("nan"), float("nan")


def _first_failure(exc: pa.errors.SchemaErrors, spec: LayerSpec) -> tuple[str, str, object, object]:
    """(field, check, index, failure case) of the failure to report: the first row, then the first column."""
    cases = exc.failure_cases
    order = {name: i for i, name in enumerate([*spec.columns, "geometry"])}
    rows = []
    for case in cases.itertuples(index=False):
        index = None if pd.isna(case.index) else case.index
        rows.append(((index is not None, order.get(str(case.column), len(order))),
                     (str(case.column or ""), str(case.check), index, case.failure_case)))
    rows.sort(key=lambda r: r[0])
    return rows[0][1]


def _first_bad(gdf, field: str, ok) -> object:
    bad = ~gdf[field].map(ok).astype(bool)
    return bad[bad].index[0] if bad.any() else None


def validate(gdf: gpd.GeoDataFrame, layer: str, *, within=None) -> gpd.GeoDataFrame:
    """Check ``gdf`` against the model of ``layer``; return it (with text and times coerced) or raise.

    Parameters
    ----------
    gdf : GeoDataFrame
    layer : name of a layer in :data:`SPECS`
    within : shapely geometry, optional
        The Chengdu outline; every geometry must touch it (points: lie inside it). Without it
        the Chengdu bounding box alone is checked.

    Raises
    ------
    LayerValidationError
        For the first failure, naming the layer, the row id and the field.
    """
    spec = SPECS[layer]
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise LayerValidationError(layer, None, "geometry", "expected a geometry column")
    if gdf.crs is None or gdf.crs.to_epsg() != 4326:
        raise LayerValidationError(layer, None, "geometry", f"expected EPSG:4326 (WGS-84), got {gdf.crs}")
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        raise LayerValidationError(layer, _row_id(gdf, spec, empty[empty].index[0]), "geometry", "missing geometry")
    try:
        out = spec.model.validate(gdf, lazy=True)
    except pa.errors.SchemaErrors as exc:
        field, check, index, failure = _first_failure(exc, spec)
        if index is None and field in gdf.columns and check.startswith("coerce_dtype"):
            index = _first_bad(gdf, field, lambda v: v is None or isinstance(v, pd.Timestamp) and v.tzinfo is not None)
        if index is None and field in gdf.columns and check.startswith("dtype("):
            index = _first_bad(gdf, field, lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                               if spec.columns[field].kind in ("int", "float") else isinstance(v, (bool, np.bool_)))
        value = _value(gdf, field, index, failure)
        if check.startswith("coerce_dtype") and spec.columns.get(field, Column("")).kind == "datetime":
            message = (f"expected a time zone aware datetime column ({TIMEZONE})" if index is None
                       else f"got {value!r}, expected {_EXPECTED['datetime']}")
        else:
            message = _message(spec, field, check, value)
        raise LayerValidationError(layer, _row_id(gdf, spec, index), field, message) from None
    if within is not None and layer != "districts":
        _check_within(out, spec, within)
    return out


def _check_within(gdf: gpd.GeoDataFrame, spec: LayerSpec, within) -> None:
    geoms = gdf.geometry.values
    if spec.geometry[0] == "Point":
        inside = shapely.contains_xy(within, shapely.get_x(geoms), shapely.get_y(geoms))
    else:
        inside = shapely.intersects(within, geoms)
    if not np.all(inside):
        pos = int(np.flatnonzero(~np.asarray(inside))[0])
        x, y = _probe(geoms[pos])
        raise LayerValidationError(spec.name, _row_id(gdf, spec, gdf.index[pos]), "geometry",
                                   f"point ({x:.5f}, {y:.5f}) lies outside Chengdu")
