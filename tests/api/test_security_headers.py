"""Every response carries the security headers: a Content-Security-Policy built from Dash's own inline-script
hashes, nosniff, no framing, a strict referrer policy; the offline map download gets a policy of its own."""
from __future__ import annotations

import pytest


def _policy(response) -> dict[str, list[str]]:
    out = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        out[name] = values
    return out


@pytest.mark.parametrize("path", ["/", "/planner", "/api/v1/amenities", "/api/v1/nope", "/assets/nuanxin.css",
                                  "/api/v1/stations/nearest?lat=30.66&lon=104.06&k=1"])
def test_every_response_has_the_security_headers(client, path):
    r = client.get(path)
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    policy = _policy(r)
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"]


def test_the_policy_allows_exactly_dash_s_inline_scripts(client, dash_app):
    policy = _policy(client.get("/"))
    assert set(dash_app.csp_hashes()) <= set(policy["script-src"])
    assert policy["connect-src"] == ["'self'"]


def test_the_offline_map_keeps_its_inline_scripts_and_reaches_nothing(client):
    r = client.get("/api/v1/reports/district_map.html", query_string={"adcode": 510104, "at": "any"})
    assert r.status_code == 200
    policy = _policy(r)
    assert policy["default-src"] == ["'none'"] and "'unsafe-inline'" in policy["script-src"]
    assert policy["connect-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
