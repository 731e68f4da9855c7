"""Siting: greedy against exact and exhaustive answers, required existing stations, marginal gains, candidate sites."""
from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pulp
import pytest
import shapely

from layers.common.districts import chengdu_outline
from layers.common.errors import LimitError
from layers.common.geodesy import haversine_m
from layers.planning.siting import candidate_sites, exact_mclp, greedy_mclp
from mapdata.demo.districts import load_districts

CENTRE = (104.06, 30.66)


def random_instance(seed: int, n: int = 400, m: int = 40, spread: float = 0.04):
    rng = np.random.default_rng(seed)
    # clustered demand, as in a city: a few centres of activity
    centres = rng.uniform(-spread, spread, (6, 2))
    which = rng.integers(0, 6, n)
    dlon = CENTRE[0] + centres[which, 0] + rng.normal(0, spread / 4, n)
    dlat = CENTRE[1] + centres[which, 1] + rng.normal(0, spread / 4, n)
    weight = rng.lognormal(0, 0.8, n)
    clon = CENTRE[0] + rng.uniform(-spread, spread, m)
    clat = CENTRE[1] + rng.uniform(-spread, spread, m)
    existing = rng.random(n) < 0.15
    return dlon, dlat, weight, clon, clat, existing


def coverage_of(dlon, dlat, weight, clon, clat, existing, chosen, radius):
    if len(chosen) == 0:
        return float(weight[existing].sum())
    d = haversine_m(dlat[:, None], dlon[:, None], clat[None, chosen], clon[None, chosen])
    return float(weight[existing | (d <= radius).any(axis=1)].sum())


def test_greedy_against_exact_on_small_instances():
    ratios = []
    for seed in range(12):
        dlon, dlat, weight, clon, clat, existing = random_instance(seed)
        greedy = greedy_mclp(dlon, dlat, weight, clon, clat, existing, 800.0, 6)
        exact = exact_mclp(dlon, dlat, weight, clon, clat, existing, 800.0, 6)
        assert exact.objective >= greedy.objective - 1e-9
        # the reported objective is the coverage of the reported picks
        for result in (greedy, exact):
            chosen = result.picks["candidate"].to_numpy()
            assert result.objective == pytest.approx(
                coverage_of(dlon, dlat, weight, clon, clat, existing, chosen, 800.0))
        ratios.append(greedy.objective / exact.objective)
    # 400 points × 40 sites, k = 6: a few instances trap the greedy and its swaps (97.1 % at
    # seed 0, where the optimum differs in two sites); on average it is within half a percent
    assert min(ratios) >= 0.95
    assert np.mean(ratios) >= 0.995


def test_greedy_within_two_percent_of_exact_on_a_city_sized_instance():
    dlon, dlat, weight, clon, clat, existing = random_instance(77, n=2000, m=150, spread=0.08)
    greedy = greedy_mclp(dlon, dlat, weight, clon, clat, existing, 700.0, 12)
    exact = exact_mclp(dlon, dlat, weight, clon, clat, existing, 700.0, 12)
    assert exact.objective >= greedy.objective - 1e-9
    assert greedy.objective >= 0.98 * exact.objective


@pytest.mark.parametrize("seed", range(3))
def test_exact_is_optimal_by_exhaustion(seed):
    dlon, dlat, weight, clon, clat, existing = random_instance(100 + seed, n=150, m=12)
    k = 3
    best = max(coverage_of(dlon, dlat, weight, clon, clat, existing, np.array(c), 900.0)
               for c in itertools.combinations(range(12), k))
    exact = exact_mclp(dlon, dlat, weight, clon, clat, existing, 900.0, k)
    assert exact.objective == pytest.approx(best)


def test_exact_equals_spopt_with_predefined_facilities():
    """Dropping the demand existing stations cover is the same optimum as fixing them as columns."""
    from spopt.locate import MCLP

    rng = np.random.default_rng(8)
    dlon, dlat, weight, clon, clat, _ = random_instance(8, n=300, m=25)
    slon, slat = CENTRE[0] + rng.uniform(-0.04, 0.04, 5), CENTRE[1] + rng.uniform(-0.04, 0.04, 5)
    radius, k = 700.0, 4
    existing = (haversine_m(dlat[:, None], dlon[:, None], slat[None, :], slon[None, :]) <= radius).any(axis=1)
    cost = haversine_m(dlat[:, None], dlon[:, None], np.concatenate([slat, clat])[None, :],
                       np.concatenate([slon, clon])[None, :])
    predefined = np.r_[np.ones(5, int), np.zeros(25, int)]
    model = MCLP.from_cost_matrix(cost, weight, service_radius=radius, p_facilities=5 + k,
                                  predefined_facilities_arr=predefined)
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    spopt_objective = pulp.value(model.problem.objective)
    ours = exact_mclp(dlon, dlat, weight, clon, clat, existing, radius, k)
    assert ours.objective == pytest.approx(spopt_objective)


def test_marginal_gains_do_not_increase_and_add_up():
    dlon, dlat, weight, clon, clat, existing = random_instance(21, n=3000, m=200, spread=0.08)
    result = greedy_mclp(dlon, dlat, weight, clon, clat, existing, 600.0, 30)
    gains = result.picks["gain"].to_numpy()
    assert len(gains) == 30
    assert np.all(np.diff(gains) <= 1e-9)
    assert result.baseline == pytest.approx(weight[existing].sum())
    assert result.objective == pytest.approx(result.baseline + gains.sum())
    assert result.points_covered == result.baseline_points + result.picks["gain_points"].sum()
    assert result.picks["share"].iloc[-1] == pytest.approx(result.objective / weight.sum())
    assert result.picks["rank"].tolist() == list(range(1, 31))


def test_existing_stations_are_required_facilities():
    # two clusters; the existing stations already cover the heavier one
    rng = np.random.default_rng(1)
    heavy = (104.00 + rng.normal(0, 0.001, 50), 30.60 + rng.normal(0, 0.001, 50))
    light = (104.10 + rng.normal(0, 0.001, 20), 30.70 + rng.normal(0, 0.001, 20))
    dlon, dlat = np.concatenate([heavy[0], light[0]]), np.concatenate([heavy[1], light[1]])
    weight = np.r_[np.full(50, 10.0), np.full(20, 1.0)]
    existing = np.r_[np.ones(50, bool), np.zeros(20, bool)]
    clon, clat = np.array([104.00, 104.10]), np.array([30.60, 30.70])
    for solve in (greedy_mclp, exact_mclp):
        result = solve(dlon, dlat, weight, clon, clat, existing, 500.0, 1)
        assert result.picks["candidate"].tolist() == [1]
        assert result.picks["gain"].iloc[0] == pytest.approx(20.0)
        assert result.objective == pytest.approx(520.0)
    # with every point already covered nothing is worth adding
    everything = greedy_mclp(dlon, dlat, weight, clon, clat, np.ones(70, bool), 500.0, 5)
    assert everything.picks.empty and everything.objective == pytest.approx(weight.sum())


def test_k_larger_than_useful_stops_at_zero_gain():
    dlon, dlat, weight, clon, clat, existing = random_instance(5, n=200, m=15)
    greedy = greedy_mclp(dlon, dlat, weight, clon, clat, existing, 2000.0, 100)
    assert 0 < len(greedy.picks) < 15
    assert (greedy.picks["gain"] > 0).all()
    # every point some candidate reaches is covered: nothing is left to add
    d = haversine_m(dlat[:, None], dlon[:, None], clat[None, :], clon[None, :])
    reachable = existing | (d <= 2000.0).any(axis=1)
    assert greedy.objective == pytest.approx(weight[reachable].sum())
    exact = exact_mclp(dlon, dlat, weight, clon, clat, existing, 2000.0, 100)
    assert exact.objective == pytest.approx(greedy.objective)
    assert len(exact.picks) <= len(greedy.picks)


def test_bad_arguments_and_size_limit():
    dlon, dlat, weight, clon, clat, existing = random_instance(2, n=500, m=60)
    with pytest.raises(ValueError, match="k must be"):
        greedy_mclp(dlon, dlat, weight, clon, clat, existing, 500.0, 0)
    with pytest.raises(ValueError, match="k must be"):
        greedy_mclp(dlon, dlat, weight, clon, clat, existing, 500.0, 101)
    with pytest.raises(ValueError, match="existing_covered_mask"):
        greedy_mclp(dlon, dlat, weight, clon, clat, existing[:10], 500.0, 3)
    with pytest.raises(LimitError, match="use method=greedy") as refused:
        exact_mclp(dlon, dlat, weight, clon, clat, existing, 1500.0, 3, max_cells=1000)
    assert refused.value.field == "method" and refused.value.limit == 1000 and refused.value.asked > 1000


def test_candidate_sites(tmp_path):
    districts = load_districts()
    outline = chengdu_outline(districts)
    places = gpd.GeoDataFrame({"name": ["甲", "乙", "outside"]},
                              geometry=gpd.points_from_xy([104.07, 104.09, 110.0], [30.67, 30.70, 30.0]), crs=4326)
    compounds = gpd.GeoDataFrame({"name": ["小区"]},
                                 geometry=[shapely.box(104.05, 30.66, 104.052, 30.662)], crs=4326)
    planner = gpd.GeoDataFrame({"name": ["my site"]}, geometry=gpd.points_from_xy([103.9], [30.6]), crs=4326)
    sites = candidate_sites(districts, compounds=compounds, osm_places=places, spacing_m=2000, planner_sites=planner)
    assert sites.crs.to_epsg() == 4326
    assert sites["id"].is_unique and sites["id"].iloc[0] == "cs-000001"
    counts = sites["source"].value_counts()
    assert counts["osm_place"] == 2 and counts["compound"] == 1 and counts["planner"] == 1
    # about one grid point per 4 km² of Chengdu's 14,335 km²
    assert 3000 < counts["grid"] < 4000
    assert shapely.contains_xy(outline, sites.geometry.x, sites.geometry.y).all()
    assert (sites["adcode"] > 510000).all()
    hull = shapely.convex_hull(shapely.multipoints([(104.07, 30.67), (104.09, 30.70), (104.051, 30.661)]))
    grid = sites[sites["source"] == "grid"]
    assert not shapely.contains_xy(hull, grid.geometry.x, grid.geometry.y).any()
    only_planner = candidate_sites(districts, spacing_m=None, planner_sites=planner)
    assert only_planner["source"].tolist() == ["planner"]
    with pytest.raises(ValueError, match="EPSG:4326"):
        candidate_sites(districts, planner_sites=planner.to_crs(32648))
