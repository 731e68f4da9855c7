"""The OpenAPI document: valid, generated from the routes, and describing every /api route the app serves."""
from __future__ import annotations

import re

from openapi_spec_validator import validate


def _document(client) -> dict:
    r = client.get("/api/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def test_the_document_is_valid_openapi_3_1(client):
    doc = _document(client)
    assert doc["openapi"].startswith("3.1")
    validate(doc)


def test_every_api_route_of_the_app_is_in_the_document(client, dash_app):
    paths = _document(client)["paths"]
    served = []
    for rule in dash_app.server.url_map.iter_rules():
        if not rule.rule.startswith("/api"):
            continue
        template = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            served.append((template, method.lower()))
    assert len(served) >= 15
    missing = [(p, m) for p, m in served if m not in paths.get(p, {})]
    assert missing == []
    documented = [(p, m) for p, ops in paths.items() for m in ops]
    assert sorted(documented) == sorted(served), "the document describes a route the app does not serve"


def test_query_parameters_come_from_the_models_that_validate_them(client):
    doc = _document(client)
    nearest = {p["name"]: p for p in doc["paths"]["/api/v1/stations/nearest"]["get"]["parameters"]}
    assert set(nearest) == {"lat", "lon", "amenities", "at", "k", "sort", "max_distance_m"}
    assert nearest["lat"]["required"] and nearest["lat"]["schema"]["maximum"] == 90
    assert nearest["k"]["schema"]["maximum"] == 50
    assert set(nearest["sort"]["schema"]["enum"]) == {"distance", "eta"}
    layer = doc["paths"]["/api/v1/layers/{layer}"]["get"]["parameters"]
    assert {p["name"]: p["in"] for p in layer} == {"layer": "path", "highway": "query", "simplify_m": "query"}
    # the refusal a client gets is the one the document describes
    r = client.get("/api/v1/stations/nearest", query_string={"lat": 91, "lon": 104})
    error = doc["paths"]["/api/v1/stations/nearest"]["get"]["responses"]["400"]
    assert error["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert set(r.get_json()["error"]) >= {"code", "field", "message"}


def test_responses_follow_their_models(client):
    doc = _document(client)
    schemas = doc["components"]["schemas"]
    body = client.get("/api/v1/stations/nearest", query_string={"lat": 30.66, "lon": 104.06, "k": 3}).get_json()
    assert set(body) == set(schemas["NearestResponse"]["properties"])
    assert set(body["results"][0]) == set(schemas["NearestResult"]["properties"])
    coverage = client.get("/api/v1/coverage", query_string={"at": "any"}).get_json()
    assert set(coverage) == set(schemas["CoverageResponse"]["properties"])
    assert set(coverage["query"]) == set(schemas["CoverageEcho"]["properties"])
