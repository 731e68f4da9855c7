"""One question, one answer: the planner page's recommended sites are the ones its download and the API give."""
from __future__ import annotations

import pytest


@pytest.fixture()
def in_app(dash_app):
    with dash_app.server.test_request_context("/planner"):
        yield


def _coords(features) -> list[tuple[float, float]]:
    return [tuple(round(c, 6) for c in f["geometry"]["coordinates"]) for f in features]


@pytest.mark.parametrize("mode", ["straight", "network"])
def test_page_download_and_api_recommend_the_same_sites(client, in_app, mode):
    import pages.planner.views as cb

    # 道路网 (or 直线), r = 1 km, any time, k = 5, the stored demand and the default candidate sites
    query, *_ = cb.question_view("1000", 1500, mode, [], "any", 2, 12, None, 8)
    _, items, _, page_sites = cb.sites_view(5, query, {"lang": "zh"})
    page = _coords(page_sites["features"])
    assert len(page) == 5

    href = cb.report_links(query, 5, None)[4]
    r = client.get(href)
    assert r.status_code == 200, href
    assert _coords(r.get_json(force=True)["features"]) == page, f"{mode}: the download differs from the page"

    body = {"k": 5, "radius_m": 1000, "at": "any", "mode": mode}
    r = client.post("/api/v1/siting", json=body)
    assert r.status_code == 200, r.get_json()
    api = [(round(p["lon"], 6), round(p["lat"], 6)) for p in r.get_json()["picks"]]
    assert api == page, f"{mode}: the API differs from the page"


def test_the_distance_mode_changes_the_baseline_the_sites_build_on(client):
    straight = client.post("/api/v1/siting", json={"k": 5, "radius_m": 1000, "at": "any"}).get_json()
    network = client.post("/api/v1/siting", json={"k": 5, "radius_m": 1000, "at": "any", "mode": "network"}).get_json()
    # riding is never shorter than the straight line: the stations cover less, and the query says so
    assert network["baseline"] < straight["baseline"]
    assert network["query"]["mode"] == "network" and straight["query"]["mode"] == "straight"
