"""The JSON API, version 1: a Flask blueprint over the domain in layers/ (WGS-84 in and out)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint, Response, current_app, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from layers.common.amenities import parse_amenities
from layers.rider.catalogue import PUBLIC_PROPERTIES, StationCatalogue
from layers.common.errors import QuestionError
from layers.common.hours import as_local
from mapdata.vocabulary import AMENITIES

API_PREFIX = "/api/v1"
CATALOGUE_KEY = "nuanxin.catalogue"


class ApiError(Exception):
    """An error answered as ``{"error": {"code", "field", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> Response:
        body = {"error": {"code": self.code, "field": self.field, "message": self.message}}
        resp = jsonify(body)
        resp.status_code = self.status
        return resp


def parse_time(value: str | None, field: str = "at") -> datetime | None:
    """``now`` (default), ``any`` (ignore hours, None) or an ISO 8601 time (naive = Asia/Shanghai)."""
    if value is None or value == "" or value == "now":
        return as_local(datetime.now().astimezone())
    if value == "any":
        return None
    try:
        return as_local(datetime.fromisoformat(value))
    except (ValueError, TypeError):
        raise ApiError(400, "invalid_parameter",
                       f"got {value!r}; expected 'now', 'any' or an ISO 8601 time such as 2026-11-29T21:30+08:00",
                       field) from None


class NearestQuery(BaseModel):
    """Parameters of ``GET /api/v1/stations/nearest``."""

    model_config = ConfigDict(extra="ignore")

    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, description="latitude, WGS-84")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, description="longitude, WGS-84")
    amenities: str = Field("", description="comma-separated amenity keys; a station must have all of them")
    at: str = Field("now", description="'now', 'any' (ignore opening hours) or an ISO 8601 time")
    k: int = Field(5, ge=1, le=50, description="how many stations")
    sort: Literal["distance", "eta"] = Field("distance", description="rank by great-circle distance or riding time")
    max_distance_m: float | None = Field(None, gt=0, le=2_000_000, allow_inf_nan=False,
                                         description="only stations within this great-circle distance")

    @field_validator("max_distance_m", mode="before")
    @classmethod
    def _empty_is_none(cls, v):
        return None if v == "" else v


#: Layers published whole at /api/v1/layers/<name> (stations have their own routes).
PUBLIC_LAYERS = ("districts", "roads", "compounds", "gates", "buildings", "entry_routes", "wayfinding_signs")


class StationsQuery(BaseModel):
    """Parameters of ``GET /api/v1/stations``."""

    model_config = ConfigDict(extra="ignore")

    fields: str = Field("", description="comma-separated properties to include (default: all); "
                                        "the map asks for id,name,status to stay small at national scale")


class LayerQuery(BaseModel):
    """Parameters of ``GET /api/v1/layers/<name>``."""

    model_config = ConfigDict(extra="ignore")

    highway: str = Field("", description="roads only: comma-separated OSM highway classes to keep")
    simplify_m: float | None = Field(None, gt=0, le=500, allow_inf_nan=False,
                                     description="simplify lines and polygons to about this many metres")


def _pydantic_error(exc: ValidationError) -> ApiError:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or None
    got = first.get("input")
    message = first["msg"]
    if first["type"] == "missing":
        message = "required parameter is missing"
    elif got is not None and not isinstance(got, dict):
        message = f"{message} (got {got!r})"
    return ApiError(400, "invalid_parameter", message, field)


def parse_query(model: type[BaseModel], args) -> BaseModel:
    try:
        return model.model_validate({k: v for k, v in args.items()})
    except ValidationError as exc:
        raise _pydantic_error(exc) from None


def catalogue() -> StationCatalogue:
    return current_app.extensions[CATALOGUE_KEY]


def create_blueprint() -> Blueprint:
    bp = Blueprint("api_v1", __name__)

    @bp.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return exc.response()

    @bp.get(f"{API_PREFIX}/amenities")
    def amenities():
        return jsonify([{"key": a.key, "zh": a.zh, "en": a.en} for a in AMENITIES])

    @bp.get(f"{API_PREFIX}/stations")
    def stations():
        q = parse_query(StationsQuery, request.args)
        fields = tuple(f for f in q.fields.split(",") if f) if q.fields else PUBLIC_PROPERTIES
        unknown = [f for f in fields if f not in PUBLIC_PROPERTIES]
        if unknown:
            raise ApiError(400, "invalid_parameter", f"unknown field {unknown[0]!r}; fields: "
                           f"{', '.join(PUBLIC_PROPERTIES)}", "fields")
        if "gzip" in request.accept_encodings:
            resp = Response(catalogue().feature_collection_gzip(fields), mimetype="application/geo+json")
            resp.headers["Content-Encoding"] = "gzip"  # compressed once per store version, not per request
            resp.vary.add("Accept-Encoding")
            return resp
        return Response(catalogue().feature_collection_json(fields), mimetype="application/geo+json")

    @bp.get(f"{API_PREFIX}/stations/nearest")
    def nearest():
        q = parse_query(NearestQuery, request.args)
        try:
            keys = parse_amenities(q.amenities)
        except ValueError as exc:
            raise ApiError(400, "invalid_parameter", str(exc), "amenities") from None
        at = parse_time(q.at)
        results = catalogue().finder.nearest(q.lat, q.lon, amenities=keys, at=at, k=q.k,
                                             max_distance_m=q.max_distance_m, sort=q.sort)
        query = {"lat": q.lat, "lon": q.lon, "amenities": list(keys), "at": at.isoformat() if at else "any",
                 "k": q.k, "sort": q.sort, "max_distance_m": q.max_distance_m}
        return jsonify({"query": query, "count": len(results), "results": results})

    @bp.get(f"{API_PREFIX}/stations/<station_id>")
    def station(station_id: str):
        feature = catalogue().feature(station_id)
        if feature is None:
            raise ApiError(404, "not_found", f"no station with id {station_id!r}", "id")
        return Response(current_app.json.dumps(feature), mimetype="application/geo+json")

    @bp.get(f"{API_PREFIX}/layers/<layer>")
    def layer(layer: str):
        if layer not in PUBLIC_LAYERS:
            raise ApiError(404, "not_found", f"no layer {layer!r}; layers: {', '.join(PUBLIC_LAYERS)}", "layer")
        q = parse_query(LayerQuery, request.args)
        highway = tuple(h for h in q.highway.split(",") if h) if q.highway else ()
        try:
            body = catalogue().layer_geojson(layer, highway=highway, simplify_m=q.simplify_m)
        except QuestionError as exc:
            raise ApiError(400, "invalid_parameter", exc.message, exc.field) from None
        return Response(body, mimetype="application/geo+json")

    @bp.get("/api/openapi.json")
    def openapi():
        from api.openapi import openapi_document

        return jsonify(openapi_document())

    @bp.route(f"{API_PREFIX}/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(rest: str):
        # a route that exists for GET but was asked with another method is a 405, not a 404
        try:
            endpoint, _ = current_app.url_map.bind("").match(request.path, method="GET")
        except Exception:  # werkzeug raises NotFound / MethodNotAllowed / RequestRedirect
            endpoint = None
        if endpoint and not endpoint.endswith(".unknown") and request.method != "GET":
            raise ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}; use GET")
        raise ApiError(404, "not_found", f"no API route {API_PREFIX}/{rest} for {request.method}")

    return bp


def register(server, store) -> StationCatalogue:
    """Mount the API on a Flask server, with JSON errors for every /api path."""
    # imported here, not at the top: api.planning builds on this module's helpers
    from api.planning import create_blueprint as create_planning_blueprint

    cat = StationCatalogue(store)
    server.extensions[CATALOGUE_KEY] = cat
    server.register_blueprint(create_blueprint())
    server.register_blueprint(create_planning_blueprint())

    @server.errorhandler(405)
    def _method_not_allowed(exc):
        if request.path.startswith("/api/"):
            return ApiError(405, "method_not_allowed", f"{request.method} is not allowed on {request.path}").response()
        return exc

    @server.errorhandler(500)
    def _internal(exc):
        if request.path.startswith("/api/"):
            return ApiError(500, "internal_error", "the server failed to answer; the error was logged").response()
        return exc

    return cat
