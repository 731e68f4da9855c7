"""What one request may cost: refusals are 422s naming the limit and by how much, decided before the
work, and a far radius is answered without growing what the server keeps (``bench/bench_costs.py`` times
the worst case of every route; no timing is asserted here)."""
from __future__ import annotations

import json

import pytest

from layers.services import services_of
from pages.ids import PLANNER
from tests.helpers import callback_request


@pytest.fixture()
def planning(dash_app):
    return services_of(dash_app.server).planning


def _limit(r, field):
    assert r.status_code == 422, (r.status_code, r.data[:300])
    error = r.get_json()["error"]
    assert error["code"] == "limit_exceeded" and error["field"] == field, error
    assert error["asked"] > error["limit"] > 0 and f"{error['limit']:,.0f}" in error["message"], error
    return error


def test_a_far_radius_is_answered_without_growing_the_kept_model(client, planning):
    model = planning.model()
    radius, pairs = model.max_radius_m, model.n_pairs
    far = client.get("/api/v1/coverage", query_string={"radius_m": 50000, "at": "any"})
    assert far.status_code == 200
    overall = far.get_json()["overall"]
    assert overall["points_covered"] >= 0.999 * overall["points"], "50 km from a station reaches nearly all"
    near = client.get("/api/v1/coverage", query_string={"radius_m": 500, "at": "any"}).get_json()["overall"]
    assert near["points_covered"] < overall["points_covered"]
    assert (planning.model().max_radius_m, planning.model().n_pairs) == (radius, pairs)


def test_riding_distance_beyond_the_table_is_refused_naming_the_radius(client, planning):
    radius = planning.model().max_radius_m
    error = _limit(client.get("/api/v1/coverage", query_string={"radius_m": 50000, "mode": "network"}), "radius_m")
    assert error["limit"] == radius and error["asked"] == 50000 and "mode=straight" in error["message"]
    week = client.get("/api/v1/coverage/week", query_string={"radius_m": 50000, "mode": "network"})
    _limit(week, "radius_m")
    ok = client.get("/api/v1/coverage", query_string={"radius_m": radius, "mode": "network", "at": "any"})
    assert ok.status_code == 200


def test_too_many_hexagons_are_refused_before_the_coverage_is_computed(client, planning, monkeypatch):
    import layers.planning.questions as questions

    model = planning.model()
    cells = model.hexagon_count(9)
    monkeypatch.setattr(questions, "MAX_HEXAGONS", cells - 1)
    monkeypatch.setattr(type(model), "coverage", lambda *a, **k: pytest.fail("computed before the refusal"))
    error = _limit(client.get("/api/v1/coverage", query_string={"h3_res": 9, "at": "any"}), "h3_res")
    assert (error["limit"], error["asked"]) == (cells - 1, cells) and "coarser" in error["message"]
    _limit(client.get("/api/v1/reports/gaps.geojson", query_string={"h3_res": 9, "at": "any"}), "h3_res")


def test_a_siting_problem_over_its_pair_budget_is_refused_naming_the_radius(client, monkeypatch):
    import layers.planning.siting as siting

    monkeypatch.setattr(siting, "SITING_CANDIDATE_BUDGET", 10_000)
    error = _limit(client.post("/api/v1/siting", json={"k": 3, "radius_m": 20000, "at": "any"}), "radius_m")
    assert error["limit"] == 10_000 and "smaller radius" in error["message"]


def test_an_exact_siting_refused_for_its_size_never_builds_the_solver_model(client, monkeypatch):
    import spopt.locate

    monkeypatch.setattr(spopt.locate.MCLP, "from_cost_matrix",
                        classmethod(lambda *a, **k: pytest.fail("the solver model was built")))
    error = _limit(client.post("/api/v1/siting", json={"k": 5, "radius_m": 1000, "at": "any", "method": "exact"}),
                   "method")
    assert "method=greedy" in error["message"]


def _page(dash_app, client, output_id, values):
    r = client.post("/_dash-update-component", json=callback_request(dash_app, output_id, values))
    assert r.status_code == 200, r.data[:300]
    return r.get_json()["response"]


def test_the_planner_page_says_why_when_a_question_is_refused(dash_app, client, planning, monkeypatch):
    import layers.planning.questions as questions

    model = planning.model()
    monkeypatch.setattr(questions, "MAX_HEXAGONS", model.hexagon_count(9) - 1)
    query = {"radius_m": 1000, "amenities": [], "at": None, "mode": "straight", "h3_res": 9}
    state = {"lang": "en"}
    shown = _page(dash_app, client, PLANNER.overall_share,
                  {PLANNER.query: query, PLANNER.whatif: {"added": [], "removed": []}, PLANNER.state: state})
    assert shown[PLANNER.overall_share]["children"] == "—"
    note = json.dumps(shown[PLANNER.network_note]["children"])
    assert "hexagons" in note and "coarser" in note and "too-costly" in note
    assert shown[PLANNER.hexagons]["hideout"]["levels"] == []
    drawn = _page(dash_app, client, f"{PLANNER.hexagons}.data", {PLANNER.h3_res: 9})
    assert drawn[PLANNER.hexagons]["data"]["features"] == []
    zh = _page(dash_app, client, PLANNER.overall_share, {PLANNER.query: query, PLANNER.state: {"lang": "zh"}})
    assert "六边形" in json.dumps(zh[PLANNER.network_note]["children"], ensure_ascii=False)
    # a coarser resolution is answered as before
    query["h3_res"] = 8
    fine = _page(dash_app, client, PLANNER.overall_share, {PLANNER.query: query, PLANNER.state: state})
    assert fine[PLANNER.overall_share]["children"].endswith("%")


def test_the_week_chart_and_the_sites_say_why_when_refused(dash_app, client, planning, monkeypatch):
    import layers.planning.siting as siting

    model = planning.model()
    monkeypatch.setattr(model, "max_radius_m", 500.0)  # as for an upload whose pair table had to shrink
    query = {"radius_m": 1000, "amenities": [], "at": None, "mode": "network", "h3_res": 8}
    week = _page(dash_app, client, PLANNER.week_graph, {PLANNER.query: query, PLANNER.state: {"lang": "en"}})
    texts = [a["text"] for a in week[PLANNER.week_graph]["figure"]["layout"]["annotations"]]
    assert texts and "straight-line" in texts[0] and "500" in texts[0]
    monkeypatch.setattr(siting, "SITING_CANDIDATE_BUDGET", 10)
    query["mode"] = "straight"
    sites = _page(dash_app, client, PLANNER.sites_msg, {PLANNER.recommend: 1, PLANNER.k: 3, PLANNER.query: query,
                                                       PLANNER.state: {"lang": "en"}})
    assert "smaller radius" in json.dumps(sites[PLANNER.sites_msg]["children"])
    assert sites[PLANNER.sites_list]["children"] == []
