"""The OpenAPI 3.1 description of the JSON API, derived from the same models that validate requests."""
from __future__ import annotations

from mapdata.vocabulary import AMENITY_KEYS

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string", "enum": ["invalid_parameter", "not_found", "method_not_allowed", "internal_error"]},
        "field": {"type": ["string", "null"], "description": "the parameter or field at fault"},
        "message": {"type": "string"}}}},
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


def _errors(*codes):
    return {str(c): {"description": {400: "a parameter is invalid", 404: "not found"}[c],
                     "content": {"application/json": {"schema": ERROR}}} for c in codes}


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
                    _param("simplify_m", {"type": "number", "exclusiveMinimum": 0, "maximum": 500},
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
        },
    }
