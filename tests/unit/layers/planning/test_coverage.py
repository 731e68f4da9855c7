"""Coverage against a brute-force haversine count: hours, holidays, amenities, what-ifs, the week table."""
from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from layers.common.districts import chengdu_outline, district_index
from layers.common.geodesy import EARTH_RADIUS_M, haversine_m, pairs_within
from layers.common.network import RoadNetwork
from layers.planning.coverage import CoverageModel
from mapdata.vocabulary import AMENITY_KEYS

TIANFU = (104.0633, 30.6598)  # lon, lat of 天府广场, WGS-84 (approximate)
HOURS = ("24/7", "Mo-Su 08:00-22:00", "Mo-Fr 09:00-18:00; PH off")
NATIONAL_DAY = dt.datetime(2026, 10, 1, 12, 0)      # a Thursday, public holiday
ORDINARY_THURSDAY = dt.datetime(2026, 9, 24, 12, 0)  # the Thursday before, a working day


def make_stations(lon, lat, hours=None, amenities=None, status=None) -> gpd.GeoDataFrame:
    n = len(lon)
    return gpd.GeoDataFrame({
        "id": [f"st-{i:04d}" for i in range(n)],
        "amenities": amenities if amenities is not None else [frozenset(AMENITY_KEYS)] * n,
        "opening_hours": list(hours) if hours is not None else ["24/7"] * n,
        "status": list(status) if status is not None else ["open"] * n,
        "status_until": pd.Series([pd.NaT] * n, dtype=pd.DatetimeTZDtype(tz="Asia/Shanghai")),
    }, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def brute(dlon, dlat, slon, slat, eligible, radius):
    """Reference: every pair measured; covered when an eligible station is at most ``radius`` away."""
    d = haversine_m(dlat[:, None], dlon[:, None], slat[None, :], slon[None, :])
    return ((d <= radius) & np.asarray(eligible, bool)[None, :]).any(axis=1)


def destination(lon, lat, bearing_deg, distance_m):
    """The point ``distance_m`` along the great circle from (lon, lat) at ``bearing_deg``."""
    phi, lmb, th = np.radians(lat), np.radians(lon), np.radians(bearing_deg)
    delta = distance_m / EARTH_RADIUS_M
    phi2 = np.arcsin(np.sin(phi) * np.cos(delta) + np.cos(phi) * np.sin(delta) * np.cos(th))
    lmb2 = lmb + np.arctan2(np.sin(th) * np.sin(delta) * np.cos(phi), np.cos(delta) - np.sin(phi) * np.sin(phi2))
    return np.degrees(lmb2), np.degrees(phi2)


@pytest.fixture(scope="module")
def instance():
    """2,000 demand points and 80 stations over ~12 km of central Chengdu, mixed hours and amenities."""
    rng = np.random.default_rng(11)
    n, m = 2000, 80
    dlon = TIANFU[0] + rng.uniform(-0.06, 0.06, n)
    dlat = TIANFU[1] + rng.uniform(-0.05, 0.05, n)
    slon = TIANFU[0] + rng.uniform(-0.06, 0.06, m)
    slat = TIANFU[1] + rng.uniform(-0.05, 0.05, m)
    hours = rng.choice(HOURS, m)
    microwave = rng.random(m) < 0.4
    amenities = [frozenset({"drinking_water", "microwave"} if mw else {"drinking_water"}) for mw in microwave]
    weight = rng.lognormal(0, 1, n)
    stations = make_stations(slon, slat, hours, amenities)
    return dict(dlon=dlon, dlat=dlat, slon=slon, slat=slat, hours=hours, microwave=microwave, weight=weight,
                stations=stations)


def test_pairs_within_matches_a_full_scan():
    rng = np.random.default_rng(3)
    dlon, dlat = rng.uniform(103.9, 104.2, 3000), rng.uniform(30.5, 30.8, 3000)
    slon, slat = rng.uniform(103.9, 104.2, 50), rng.uniform(30.5, 30.8, 50)
    for radius in (150.0, 1000.0, 4000.0):
        i, j, d = pairs_within(dlon, dlat, slon, slat, radius)
        full = haversine_m(dlat[:, None], dlon[:, None], slat[None, :], slon[None, :])
        want = set(zip(*np.nonzero(full <= radius)))
        assert set(zip(i.tolist(), j.tolist())) == {(int(a), int(b)) for a, b in want}
        assert np.array_equal(d, full[i, j])


@pytest.mark.parametrize("radius", [300.0, 800.0, 1500.0])
@pytest.mark.parametrize("at", [None, ORDINARY_THURSDAY, NATIONAL_DAY, dt.datetime(2026, 9, 24, 3, 0)])
def test_coverage_matches_brute_force(instance, radius, at):
    model = CoverageModel(instance["stations"], instance["dlon"], instance["dlat"], instance["weight"],
                          max_radius_m=1000.0, h3_res=None)
    result = model.coverage(radius, at=at, h3_res=7)
    eligible = np.ones(len(instance["slon"]), bool) if at is None else model.hours.open_at(at)
    want = brute(instance["dlon"], instance["dlat"], instance["slon"], instance["slat"], eligible, radius)
    assert np.array_equal(result.covered, want)
    assert result.overall["points_covered"] == int(want.sum())
    assert result.overall["covered"] == pytest.approx(float(instance["weight"][want].sum()))
    assert result.overall["share"] == pytest.approx(instance["weight"][want].sum() / instance["weight"].sum())


def test_point_exactly_on_the_radius_is_covered():
    slon, slat = np.array([104.06]), np.array([30.66])
    bearings = np.arange(0, 360, 7.5)
    elon, elat = destination(slon[0], slat[0], bearings, 1000.0)
    # the radius is the measured distance itself: "<=" must take the point, "<" would not
    d = haversine_m(elat, elon, slat[0], slon[0])
    model = CoverageModel(make_stations(slon, slat), elon, elat, h3_res=None)
    for k in range(len(d)):
        covered = model.covered_mask(float(d[k]))
        assert covered[k]
        assert np.array_equal(covered, d <= d[k])
        assert np.array_equal(covered, brute(elon, elat, slon, slat, [True], float(d[k])))
        just_under = np.nextafter(d[k], 0)
        assert not model.covered_mask(float(just_under))[k]


def test_holiday_and_night_change_coverage():
    # one station of each kind, each alone covering its own cluster of points
    slon = np.array([104.00, 104.05, 104.10])
    slat = np.array([30.66, 30.66, 30.66])
    dlon = np.repeat(slon, 10)
    dlat = np.repeat(slat, 10) + np.tile(np.linspace(-0.003, 0.003, 10), 3)
    model = CoverageModel(make_stations(slon, slat, HOURS), dlon, dlat, h3_res=None)
    working_noon = model.coverage(500, at=ORDINARY_THURSDAY).overall["points_covered"]
    holiday_noon = model.coverage(500, at=NATIONAL_DAY).overall["points_covered"]
    night = model.coverage(500, at=dt.datetime(2026, 9, 24, 23, 30)).overall["points_covered"]
    assert working_noon == 30          # all three open
    assert holiday_noon == 20          # "PH off" closed on National Day
    assert night == 10                 # only the 24/7 station
    assert model.coverage(500).overall["points_covered"] == 30  # at=None: every station counts


def test_temporary_closure_is_applied():
    slon, slat = np.array([104.00, 104.05]), np.array([30.66, 30.66])
    stations = make_stations(slon, slat, status=["open", "closed_temporarily"])
    model = CoverageModel(stations, slon, slat, h3_res=None)
    assert model.coverage(100, at=ORDINARY_THURSDAY).overall["points_covered"] == 1


def test_amenity_filter(instance):
    model = CoverageModel(instance["stations"], instance["dlon"], instance["dlat"], instance["weight"], h3_res=None)
    result = model.coverage(800, amenities=["microwave"], at=ORDINARY_THURSDAY, h3_res=7)
    eligible = model.hours.open_at(ORDINARY_THURSDAY) & instance["microwave"]
    want = brute(instance["dlon"], instance["dlat"], instance["slon"], instance["slat"], eligible, 800)
    assert np.array_equal(result.covered, want)
    unfiltered = model.coverage(800, at=ORDINARY_THURSDAY, h3_res=7)
    assert result.overall["points_covered"] < unfiltered.overall["points_covered"]
    with pytest.raises(ValueError, match="unknown amenity"):
        model.coverage(800, amenities=["sauna"])


def test_district_and_hexagon_sums_equal_overall(districts):
    rng = np.random.default_rng(5)
    outline = chengdu_outline(districts)
    lon, lat = rng.uniform(103.6, 104.6, 30000), rng.uniform(30.3, 31.1, 30000)
    inside = shapely.contains_xy(outline, lon, lat)
    lon, lat = lon[inside][:10000], lat[inside][:10000]
    weight = rng.lognormal(0, 1, len(lon))
    slon, slat = rng.uniform(103.8, 104.3, 300), rng.uniform(30.5, 30.9, 300)
    model = CoverageModel(make_stations(slon, slat, rng.choice(HOURS, 300)), lon, lat, weight,
                          districts=districts, h3_res=8)
    result = model.coverage(1000, at=ORDINARY_THURSDAY, h3_res=8)
    o = result.overall
    assert len(result.districts) == 20
    assert result.districts["demand"].sum() == pytest.approx(o["demand"])
    assert result.districts["covered"].sum() == pytest.approx(o["covered"])
    assert result.districts["points"].sum() == o["points"]
    assert result.districts["points_covered"].sum() == o["points_covered"]
    assert result.hexagons["demand"].sum() == pytest.approx(o["demand"])
    assert result.hexagons["covered"].sum() == pytest.approx(o["covered"])
    assert result.hexagons["points_covered"].sum() == o["points_covered"]
    assert (result.hexagons["uncovered"] >= -1e-9).all()
    # each district's figures are those of the points inside its polygon
    pos = district_index(lon, lat, districts)
    for row, geom in zip(result.districts.itertuples(), districts.geometry.values):
        mine = shapely.contains_xy(geom, lon, lat)
        assert row.points == int((pos == row.Index).sum()) >= int(mine.sum()) - 1
        assert row.points_covered == int(result.covered[pos == row.Index].sum())
    body = result.to_dict()
    assert set(body) >= {"overall", "districts", "hexagons"}
    assert set(body["overall"]) == {"demand", "covered", "share", "points", "points_covered", "point_share"}
    assert set(body["districts"][0]) >= {"adcode", "name", "demand", "covered", "share", "points", "points_covered"}
    assert set(body["hexagons"][0]) >= {"h3", "demand", "covered"}
    assert isinstance(body["districts"][0]["adcode"], int)


def test_what_if_add_and_remove(instance):
    model = CoverageModel(instance["stations"], instance["dlon"], instance["dlat"], instance["weight"], h3_res=None)
    slon, slat = instance["slon"], instance["slat"]
    at = ORDINARY_THURSDAY
    open_now = model.hours.open_at(at)
    extra = [(104.03, 30.63), (104.09, 30.69)]
    removed = [f"st-{i:04d}" for i in np.flatnonzero(open_now)[:10]]
    result = model.coverage(700, at=at, h3_res=7, extra_stations=extra, removed_station_ids=removed)
    eligible = open_now.copy()
    eligible[np.flatnonzero(open_now)[:10]] = False
    all_lon = np.concatenate([slon, [e[0] for e in extra]])
    all_lat = np.concatenate([slat, [e[1] for e in extra]])
    want = brute(instance["dlon"], instance["dlat"], all_lon, all_lat, np.concatenate([eligible, [True, True]]), 700)
    assert np.array_equal(result.covered, want)
    base = model.coverage(700, at=at, h3_res=7).overall["points_covered"]
    only_removed = model.coverage(700, at=at, h3_res=7, removed_station_ids=removed).overall["points_covered"]
    assert only_removed < base
    with pytest.raises(ValueError, match="unknown station"):
        model.coverage(700, removed_station_ids=["nope"])


@pytest.mark.parametrize("radius", [2500.0, 12_000.0])
def test_radii_beyond_the_table_are_answered_exactly_without_growing_it(instance, radius):
    model = CoverageModel(instance["stations"], instance["dlon"], instance["dlat"], max_radius_m=500.0, h3_res=None)
    pairs = model.n_pairs
    everyone = np.ones(len(instance["slon"]), bool)
    covered = model.covered_mask(radius)
    assert np.array_equal(covered, brute(instance["dlon"], instance["dlat"], instance["slon"], instance["slat"],
                                         everyone, radius))
    microwave = instance["microwave"]
    result = model.coverage(radius, ("microwave",), extra_stations=[(104.20, 30.80)])
    expected = brute(np.append(instance["dlon"], []), instance["dlat"], np.append(instance["slon"][microwave], 104.20),
                     np.append(instance["slat"][microwave], 30.80), np.ones(microwave.sum() + 1, bool), radius)
    assert result.overall["points_covered"] == int(expected.sum())
    week = model.week(radius, (), dt.date(2026, 11, 11))
    assert week.shape == (7, 24) and np.nanmax(week.to_numpy()) <= 1
    assert model.max_radius_m == 500.0 and model.n_pairs == pairs, "the table keeps its size"
    with pytest.raises(ValueError, match="radius_m"):
        model.coverage(-5)


def test_the_table_shrinks_to_its_budget_and_limits_are_named(instance, monkeypatch):
    import layers.planning.coverage as coverage_module
    from layers.common.errors import LimitError

    monkeypatch.setattr(coverage_module, "PAIR_CANDIDATE_BUDGET", 20_000)
    model = CoverageModel(instance["stations"], instance["dlon"], instance["dlat"], h3_res=None)
    assert model.max_radius_m < 2000.0
    # the answer is the same whichever way it is computed
    everyone = np.ones(len(instance["slon"]), bool)
    for radius in (model.max_radius_m, 1000.0, 2000.0):
        assert np.array_equal(model.covered_mask(radius), brute(instance["dlon"], instance["dlat"], instance["slon"],
                                                                instance["slat"], everyone, radius))
    monkeypatch.setattr(coverage_module, "FAR_LOOKUP_BUDGET", 1_000)
    with pytest.raises(LimitError) as err:
        model.week(5000.0, (), dt.date(2026, 11, 11))
    assert err.value.field == "radius_m" and err.value.asked > err.value.limit == 1_000


def test_week_table_shows_the_night_gap():
    rng = np.random.default_rng(2)
    slon, slat = TIANFU[0] + rng.uniform(-0.03, 0.03, 20), TIANFU[1] + rng.uniform(-0.03, 0.03, 20)
    dlon, dlat = TIANFU[0] + rng.uniform(-0.03, 0.03, 500), TIANFU[1] + rng.uniform(-0.03, 0.03, 500)
    model = CoverageModel(make_stations(slon, slat, ["Mo-Su 08:00-22:00"] * 20), dlon, dlat, h3_res=None)
    week = model.week(1000, week_start=dt.date(2026, 9, 23))
    assert week.shape == (7, 24)
    assert list(week.index) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    assert week.attrs["dates"][0] == dt.date(2026, 9, 21)  # the Monday of that week
    day_share = model.coverage(1000, at=dt.datetime(2026, 9, 23, 12)).overall["share"]
    assert day_share > 0.5
    assert np.allclose(week.loc[:, 8:21].to_numpy(), day_share)
    assert np.allclose(week.loc[:, [22, 23, 0, 1, 2, 3, 4, 5, 6, 7]].to_numpy(), 0.0)
    # a cell is the coverage at the top of that hour
    assert week.loc["Wed", 21] == pytest.approx(model.coverage(1000, at=dt.datetime(2026, 9, 23, 21)).overall["share"])


def test_holiday_week_against_a_normal_week():
    rng = np.random.default_rng(4)
    slon, slat = TIANFU[0] + rng.uniform(-0.03, 0.03, 30), TIANFU[1] + rng.uniform(-0.03, 0.03, 30)
    dlon, dlat = TIANFU[0] + rng.uniform(-0.03, 0.03, 800), TIANFU[1] + rng.uniform(-0.03, 0.03, 800)
    hours = ["Mo-Fr 09:00-18:00; PH off"] * 15 + ["24/7"] * 15
    model = CoverageModel(make_stations(slon, slat, hours), dlon, dlat, h3_res=None)
    cmp = model.compare_weeks(dt.date(2026, 9, 21), dt.date(2026, 10, 1), 800)
    assert cmp.holiday.attrs["day_kind"][3] == "holiday"   # Thursday 1 October
    assert cmp.normal.attrs["day_kind"][3] == "workday"
    assert cmp.difference.loc["Thu", 12] < 0                  # office-hours stations shut on the holiday
    assert cmp.difference.loc["Thu", 3] == 0                  # at night only the 24/7 ones count anyway
    assert cmp.difference.loc["Mon", 12] == 0                 # 28 September is an ordinary Monday
    assert len(cmp.to_dict()["difference"]) == 7


def _grid_roads(lon0, lat0, n=9, step_m=100.0) -> gpd.GeoDataFrame:
    dlat = step_m / 111_195.0
    dlon = dlat / np.cos(np.radians(lat0))
    # one way per block side, so that the ways share their junction nodes
    pts = [(lon0 + a * dlon, lat0 + b * dlat) for a in range(n) for b in range(n)]
    segs = []
    for a in range(n):
        for b in range(n - 1):
            segs.append(shapely.LineString([pts[a * n + b], pts[a * n + b + 1]]))
            segs.append(shapely.LineString([pts[b * n + a], pts[(b + 1) * n + a]]))
    return gpd.GeoDataFrame({"highway": ["residential"] * len(segs)}, geometry=segs, crs="EPSG:4326"), dlon, dlat


def test_network_mode_uses_riding_distance_and_reports_the_fallback():
    lon0, lat0 = 104.05, 30.66
    roads, dlon, dlat = _grid_roads(lon0, lat0)
    net = RoadNetwork.from_roads(roads)
    station = (lon0 + 2 * dlon, lat0 + 2 * dlat)
    # along a street: 300 m both ways; diagonal: 283 m straight, 400 m riding
    along = (lon0 + 5 * dlon, lat0 + 2 * dlat)
    diagonal = (lon0 + 4 * dlon, lat0 + 4 * dlat)
    far_off = (lon0 + 2 * dlon, lat0 - 3 * dlat)  # 500 m south of the grid: off the network
    dlon_pts = np.array([along[0], diagonal[0], far_off[0]])
    dlat_pts = np.array([along[1], diagonal[1], far_off[1]])
    model = CoverageModel(make_stations([station[0]], [station[1]]), dlon_pts, dlat_pts, network=net, h3_res=None)
    straight = model.coverage(350, h3_res=9)
    riding = model.coverage(350, mode="network", h3_res=9)
    assert straight.covered.tolist() == [True, True, False]
    assert riding.covered.tolist() == [True, False, False]
    assert riding.network_points == 2 and riding.fallback_points == 1
    assert model.coverage(420, mode="network", h3_res=9).covered.tolist() == [True, True, False]
    assert model.coverage(520, mode="network", h3_res=9).covered.tolist() == [True, True, True]  # straight fallback
    # a hypothetical station is measured on the network as well
    added = model.coverage(110, mode="network", h3_res=9, extra_stations=[(lon0 + 4 * dlon, lat0 + 3 * dlat)])
    assert added.covered.tolist() == [False, True, False]
    with pytest.raises(ValueError, match="network"):
        CoverageModel(make_stations([station[0]], [station[1]]), dlon_pts, dlat_pts, h3_res=None).coverage(
            350, mode="network")


@pytest.mark.parametrize("day", [dt.date(2300, 1, 1), dt.date(1, 1, 1), dt.date(9999, 12, 31)])
def test_weeks_outside_the_calendar_are_refused_naming_the_field(instance, day):
    from layers.common.errors import QuestionError

    model = CoverageModel(instance["stations"], instance["dlon"], instance["dlat"], instance["weight"])
    with pytest.raises(QuestionError) as err:
        model.week(500, (), day)
    assert err.value.field == "week_start"
    with pytest.raises(QuestionError) as err:
        model.compare_weeks(dt.date(2026, 11, 9), day, 500)
    assert err.value.field == "holiday_week"
