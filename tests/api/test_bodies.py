"""Request bodies: over the limit is a 413 whether or not the length was declared, nothing is read in part,
a hostile GeoJSON gets a 400, and no refusal echoes a large input back."""
from __future__ import annotations

import io
import json

import pytest


def _chunked(client, path, data: bytes, content_type: str, **params):
    """POST ``data`` with Transfer-Encoding: chunked (no Content-Length), as a streaming client sends it."""
    return client.post(path, input_stream=io.BytesIO(data), content_type=content_type, query_string=params,
                       headers={"Transfer-Encoding": "chunked"},
                       environ_overrides={"wsgi.input_terminated": True, "CONTENT_LENGTH": ""})


def _csv(rows: int) -> bytes:
    return ("lon,lat,weight\n" + "104.0648,30.6586,1\n" * rows).encode()


def test_a_chunked_demand_over_the_limit_is_413_not_a_partial_answer(client, monkeypatch):
    import api.coverage

    monkeypatch.setattr(api.coverage, "MAX_UPLOAD_BYTES", 100_000)
    body = _csv(10_000)  # 190 kB
    r = _chunked(client, "/api/v1/coverage", body, "text/csv", at="any")
    assert r.status_code == 413, r.get_json()
    assert r.get_json()["error"]["code"] == "payload_too_large"
    small = _csv(1_000)
    r = _chunked(client, "/api/v1/coverage", small, "text/csv", at="any")
    assert r.status_code == 200 and r.get_json()["overall"]["points"] == 1_000


def test_a_declared_length_over_the_limit_is_413_before_reading(client, monkeypatch):
    import api.coverage

    monkeypatch.setattr(api.coverage, "MAX_UPLOAD_BYTES", 100_000)
    r = client.post("/api/v1/coverage", data=_csv(10_000), content_type="text/csv", query_string={"at": "any"})
    assert r.status_code == 413


def test_a_siting_body_over_its_limit_is_413(client, monkeypatch):
    import api.coverage

    monkeypatch.setattr(api.coverage, "MAX_SITING_BYTES", 10_000)
    sites = [{"lon": 104.07, "lat": 30.66, "name": "x" * 100}] * 200
    body = json.dumps({"k": 1, "candidates": sites}).encode()
    for r in (client.post("/api/v1/siting", data=body, content_type="application/json"),
              _chunked(client, "/api/v1/siting", body, "application/json")):
        assert r.status_code == 413, r.get_json()


@pytest.mark.parametrize("body, needle", [
    (b'{"type": "FeatureCollection", "features": ' + b"[" * 10_000 + b"]" * 10_000 + b"}", "JSON"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"weight": '
     + b"9" * 5000 + b'}, "geometry": {"type": "Point", "coordinates": [104.06, 30.65]}}]}', "JSON"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, '
     b'"geometry": {"type": "Point", "coordinates": [1e400, 30.65]}}]}', "not a number"),
    (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"weight": 1e400}, '
     b'"geometry": {"type": "Point", "coordinates": [104.06, 30.65]}}]}', "weight"),
])
def test_hostile_geojson_is_a_400(client, body, needle):
    r = client.post("/api/v1/coverage", data=body, content_type="application/geo+json", query_string={"at": "any"})
    assert r.status_code == 400, r.data[:300]
    assert needle in json.dumps(r.get_json(), ensure_ascii=False)


def test_weights_too_large_to_add_up_are_refused_by_row(client):
    feature = {"type": "Feature", "properties": {"weight": 1e308},
               "geometry": {"type": "Point", "coordinates": [104.06, 30.65]}}
    body = json.dumps({"type": "FeatureCollection", "features": [feature, feature]}).encode()
    r = client.post("/api/v1/coverage", data=body, content_type="application/geo+json", query_string={"at": "any"})
    assert r.status_code == 400
    error = r.get_json()["error"]
    assert error["code"] == "invalid_rows" and [p["row"] for p in error["rows"]] == [1, 2]


def test_a_refusal_does_not_echo_a_large_input(client):
    huge_header = b"x" * 2_000_000 + b"\n1,2\n"
    r = client.post("/api/v1/coverage", data=huge_header, content_type="text/csv", query_string={"at": "any"})
    assert r.status_code == 400
    assert len(r.data) < 5_000
    rows = b"lon,lat\n" + b"east," * 1 + b"x" * 500_000 + b",30.6\n"
    r = client.post("/api/v1/coverage", data=rows, content_type="text/csv", query_string={"at": "any"})
    assert r.status_code == 400 and len(r.data) < 5_000
    many = b"lon,lat\n" + b"nope,30.6\n" * 50_000
    r = client.post("/api/v1/coverage", data=many, content_type="text/csv", query_string={"at": "any"})
    error = r.get_json()["error"]
    assert r.status_code == 400 and len(error["rows"]) <= 100 and "50,000" in error["message"]
    assert len(r.data) < 50_000
