"""The OpenAPI 3.1 description of the JSON API, derived from the same models that validate requests."""
from __future__ import annotations

from mapdata.vocabulary import AMENITY_KEYS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": ["invalid_parameter", "invalid_rows", "invalid_body", "not_found",
                                             "method_not_allowed", "unsupported_media_type", "payload_too_large",
                                             "internal_error"]},
        "field": {"type": ["string", "null"], "description": "the parameter or field at fault"},
        "message": {"type": "string"},
        "rows": {"type": "array", "description": "invalid_rows / invalid_body: up to 100 problems; row is the 1-based "
                                                 "data row (CSV header not counted) or feature, null for the whole body",
                 "items": {"type": "object", "properties": {"row": {"type": ["integer", "null"]},
                                                            "field": {"type": ["string", "null"]},
                                                            "message": {"type": "string"}}}}}}},
}

POINT = {"type": "object", "properties": {"type": {"const": "Point"},
                                          "coordinates": {"type": "array", "items": {"type": "number"},
                                                          "minItems": 2, "maxItems": 2}}}

STATION_PROPERTIES = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "example": "st-0001"},
        "name": {"type": "string"},
        "district": {"type": "string"},
        "street": {"type": ["string", "null"]},
        "address": {"type": "string"},
        "phone": {"type": ["string", "null"]},
        "amenities": {"type": "array", "items": {"type": "string", "enum": list(AMENITY_KEYS)}},
        "opening_hours": {"type": "string", "description": "OpenStreetMap opening_hours syntax"},
        "status": {"type": "string", "enum": ["open", "closed_temporarily"]},
        "status_note": {"type": ["string", "null"]},
        "status_until": {"type": ["string", "null"], "format": "date-time"},
        "version": {"type": "integer"},
    },
}

FEATURE = {"type": "object", "properties": {"type": {"const": "Feature"}, "id": {"type": "string"},
                                            "geometry": POINT, "properties": STATION_PROPERTIES}}

NEAREST_RESULT = {
    "type": "object",
    "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "distance_m": {"type": "number", "description": "great-circle distance"},
        "eta_min": {"type": "number", "description": "riding time at 15 km/h"},
        "eta_source": {"type": "string", "enum": ["network", "estimate"],
                       "description": "network: riding distance on the OSM road network; estimate: straight line × 1.3"},
        "open": {"type": ["boolean", "null"], "description": "open at the asked time; null when at=any"},
        "closes_at": {"type": ["string", "null"], "format": "date-time"},
        "amenities": {"type": "array", "items": {"type": "string"}},
        "district": {"type": "string"}, "address": {"type": "string"},
    },
}


def _param(name, schema, description, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": description}


_ERROR_DESCRIPTIONS = {400: "a parameter, the body or some of its rows are invalid", 404: "not found",
                       405: "method not allowed", 413: "the body is too large",
                       415: "the Content-Type is not one the route reads"}


def _errors(*codes):
    return {str(c): {"description": _ERROR_DESCRIPTIONS[c],
                     "content": {"application/json": {"schema": ERROR}}} for c in codes}


def _model_params(model, skip=()) -> list[dict]:
    """Query parameters from a pydantic model: its JSON schema is the one that validates requests."""
    schema = model.model_json_schema()
    required = set(schema.get("required", ()))
    out = []
    for name, prop in schema["properties"].items():
        if name in skip:
            continue
        prop = dict(prop)
        description = prop.pop("description", "")
        prop.pop("title", None)
        out.append(_param(name, prop, description, name in required))
    return out


def planning_paths() -> dict:
    """The coverage, siting and report routes of :mod:`api.planning`."""
    from api.planning import (MAX_UPLOAD_BYTES, CompareQuery, CoverageQuery, ReportQuery, SitingBody,
                              WeekQuery)

    coverage_params = _model_params(CoverageQuery)
    report_params = _model_params(ReportQuery)
    number = {"type": "number"}
    coverage_result = {"type": "object", "properties": {
        "query": {"type": "object"},
        "overall": {"type": "object", "properties": {k: number for k in (
            "demand", "covered", "share", "points", "points_covered", "point_share")}},
        "districts": {"type": "array", "items": {"type": "object", "properties": {
            "adcode": {"type": "integer"}, "name": {"type": "string"}, "name_en": {"type": "string"},
            **{k: number for k in ("demand", "covered", "share", "points", "points_covered", "point_share")}}}},
        "hexagons": {"type": "array", "items": {"type": "object", "properties": {
            "h3": {"type": "string"}, **{k: number for k in ("demand", "covered", "points", "points_covered")}}}}}}
    json_ok = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}

    def download(summary, mimetype, extra=""):
        return {"get": {"summary": summary + extra, "parameters": report_params,
                        "responses": {"200": {"description": "an attachment (Content-Disposition carries its name)",
                                              "content": {mimetype: {}}}, **_errors(400)}}}

    upload_schema = {"description": f"demand points, at most {MAX_UPLOAD_BYTES // 2**20} MB and 1,000,000 rows",
                     "required": True, "content": {
                         "text/csv": {"schema": {"type": "string"}, "example": "lon,lat,weight\n104.0648,30.6586,3\n"},
                         "application/geo+json": {"schema": {"type": "object", "description": "a FeatureCollection of "
                                                             "Points; optional weight property (default 1)"}},
                         "application/json": {"schema": {"type": "object"}}}}
    return {
        "/api/v1/coverage": {
            "get": {"summary": "Coverage of the stored demand by the stations that count (amenities, open at at)",
                    "parameters": coverage_params,
                    "responses": {"200": {"description": "coverage", "content": {
                        "application/json": {"schema": coverage_result}}}, **_errors(400)}},
            "post": {"summary": "Coverage of your demand points (CSV or GeoJSON body in the crs given)",
                     "parameters": coverage_params, "requestBody": upload_schema,
                     "responses": {"200": {"description": "coverage", "content": {
                         "application/json": {"schema": coverage_result}}}, **_errors(400, 413, 415)}}},
        "/api/v1/coverage/week": {"get": {
            "summary": "Share of the stored demand covered at each hour of a real week (7 × 24, Monday first)",
            "parameters": _model_params(WeekQuery), "responses": {"200": json_ok, **_errors(400)}}},
        "/api/v1/coverage/compare": {"get": {
            "summary": "Hour-by-hour coverage of a normal week against a public-holiday week, and the difference",
            "parameters": _model_params(CompareQuery), "responses": {"200": json_ok, **_errors(400)}}},
        "/api/v1/siting": {"post": {
            "summary": "Where k new stations add the most covered demand (greedy, or exact for small problems "
                       "with the greedy's objective for comparison)",
            "parameters": [_param("crs", {"type": "string", "enum": ["wgs84", "gcj02", "bd09"]},
                                  "coordinate system of the candidates when the body does not say")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": SitingBody.model_json_schema()}}},
            "responses": {"200": json_ok, **_errors(400, 413, 415)}}},
        "/api/v1/reports/coverage.csv": download("District coverage table, UTF-8 CSV with BOM", "text/csv"),
        "/api/v1/reports/coverage.xlsx": download(
            "Excel workbook: overall, districts, hexagons, week",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        "/api/v1/reports/gaps.geojson": download("Hexagons with uncovered demand (RFC 7946)", "application/geo+json"),
        "/api/v1/reports/gaps.gpkg": download("GeoPackage: layer gaps, and recommended_sites when k is given",
                                              "application/geopackage+sqlite3"),
        "/api/v1/reports/sites.geojson": download("Recommended sites for k new stations (k required)",
                                                  "application/geo+json"),
        "/api/v1/reports/district_map.html": download(
            "A standalone map of one district (adcode required) that opens offline", "text/html"),
    }


def openapi_document() -> dict:
    from api.v1 import PUBLIC_LAYERS, NearestQuery

    fields = NearestQuery.model_json_schema()["properties"]
    nearest_params = [
        _param("lat", {"type": "number", "minimum": -90, "maximum": 90}, fields["lat"]["description"], True),
        _param("lon", {"type": "number", "minimum": -180, "maximum": 180}, fields["lon"]["description"], True),
        _param("amenities", {"type": "string", "example": "microwave,legal_counselling"},
               fields["amenities"]["description"] + f"; keys: {', '.join(AMENITY_KEYS)}"),
        _param("at", {"type": "string", "default": "now"}, fields["at"]["description"]),
        _param("k", {"type": "integer", "minimum": 1, "maximum": 50, "default": 5}, fields["k"]["description"]),
        _param("sort", {"type": "string", "enum": ["distance", "eta"], "default": "distance"},
               fields["sort"]["description"]),
        _param("max_distance_m", {"type": "number", "exclusiveMinimum": 0}, fields["max_distance_m"]["description"]),
    ]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Nuanxin Map API (暖新地图)", "version": "1.0.0",
                 "description": "Chengdu's warm stations (暖新驿站) for riders. Coordinates are WGS-84 in and out; "
                                "times are Asia/Shanghai. The bundled data is demonstration data."},
        "paths": {
            "/api/v1/amenities": {"get": {
                "summary": "The amenity vocabulary",
                "responses": {"200": {"description": "keys with Chinese and English labels", "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object", "properties": {
                        "key": {"type": "string"}, "zh": {"type": "string"}, "en": {"type": "string"}}}}}}}}}},
            "/api/v1/stations": {"get": {
                "summary": "All stations as a GeoJSON FeatureCollection",
                "parameters": [_param("fields", {"type": "string", "example": "id,name,status"},
                                      "comma-separated properties to include (default: all)")],
                "responses": {"200": {"description": "FeatureCollection", "content": {"application/geo+json": {
                    "schema": {"type": "object", "properties": {"type": {"const": "FeatureCollection"},
                                                                "features": {"type": "array", "items": FEATURE}}}}}}}}},
            "/api/v1/stations/{id}": {"get": {
                "summary": "One station",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "Feature", "content": {"application/geo+json": {"schema": FEATURE}}},
                              **_errors(404)}}},
            "/api/v1/layers/{layer}": {"get": {
                "summary": "A whole map layer as GeoJSON (districts, roads, compounds, gates, buildings, "
                           "entry_routes, wayfinding_signs)",
                "parameters": [
                    {"name": "layer", "in": "path", "required": True,
                     "schema": {"type": "string", "enum": list(PUBLIC_LAYERS)}},
                    _param("highway", {"type": "string", "example": "primary,secondary"},
                           "roads only: comma-separated OSM highway classes to keep"),
                    _param("simplify_m", {"type": "number", "enum": [1, 2, 5, 10, 30, 100]},
                           "simplify lines and polygons to about this many metres"),
                ],
                "responses": {"200": {"description": "FeatureCollection",
                                      "content": {"application/geo+json": {"schema": {"type": "object"}}}},
                              **_errors(400, 404)}}},
            "/api/v1/stations/nearest": {"get": {
                "summary": "The nearest stations that have every asked amenity and are open at the asked time",
                "parameters": nearest_params,
                "responses": {"200": {"description": "ranked stations", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"query": {"type": "object"}, "count": {"type": "integer"},
                                                     "results": {"type": "array", "items": NEAREST_RESULT}}}}}},
                              **_errors(400)}}},
            **planning_paths(),
        },
    }
