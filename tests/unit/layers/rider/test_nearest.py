"""StationFinder.nearest gives exactly the brute-force answer, with amenities, hours, distance cut-offs and riding times."""
from __future__ import annotations

from datetime import datetime, timedelta

import geopandas as gpd
import numpy as np
import pytest

from bench.bench_nearest import (
    CENTRE_LAT,
    CENTRE_LON,
    CHENGDU_LAT,
    CHENGDU_LON,
    RARE_AMENITY,
    SHANGHAI,
    synthetic_stations,
)
from layers.common.amenities import amenity_mask, masks_for, parse_amenities, rarest
from layers.common.geodesy import haversine_m
from layers.common.hours import HoursTable
from layers.common.network import EBIKE_M_PER_MIN, RoadNetwork
from layers.rider.nearest import StationFinder
from mapdata.vocabulary import AMENITY_KEYS
from tests.helpers import brute_force_nearest

CENTRE = (30.690, 104.085)  # 春熙路 / 红星路, inside the OSM extract
LONGQUANYI = (30.560, 104.270)  # 龙泉驿, no road network


@pytest.fixture(scope="module")
def stations() -> gpd.GeoDataFrame:
    return synthetic_stations(430, seed=20250412)


@pytest.fixture(scope="module")
def network(store) -> RoadNetwork:
    """The riding network of the demo build's roads (the OSM extract's highways), as the app builds it."""
    return RoadNetwork.from_roads(store.read("roads"))


@pytest.fixture(scope="module")
def hours(stations) -> HoursTable:
    return HoursTable(stations["opening_hours"], stations["status"], stations["status_until"])


@pytest.fixture(scope="module")
def finder(stations, network, hours) -> StationFinder:
    return StationFinder(stations, network=network, hours=hours)


@pytest.fixture(scope="module", params=["direct scan", "spatial index"])
def any_finder(request, stations, network, hours) -> StationFinder:
    """Both search paths: small sets are scanned directly, so the index path is forced here."""
    found = StationFinder(stations, network=network, hours=hours)
    if request.param == "spatial index":
        found.direct_scan_max = 0
    return found


def _random_time(rng) -> datetime:
    return datetime(2025, 1, 1, tzinfo=SHANGHAI) + timedelta(minutes=int(rng.integers(0, 365 * 24 * 60)))


def test_nearest_equals_brute_force_on_random_queries(stations, network, hours, any_finder):
    finder = any_finder
    rng = np.random.default_rng(42)
    checked = {"distance": 0, "eta": 0, "network": 0, "cut": 0, "short": 0}
    for _ in range(400):
        if rng.random() < 0.4:
            lat, lon = rng.uniform(*CENTRE_LAT), rng.uniform(*CENTRE_LON)
        else:
            lat, lon = rng.uniform(*CHENGDU_LAT), rng.uniform(*CHENGDU_LON)
        asked = list(rng.choice(AMENITY_KEYS, size=int(rng.integers(0, 4)), replace=False))
        at = None if rng.random() < 0.3 else _random_time(rng)
        k = int(rng.integers(1, 21))
        max_d = None if rng.random() < 0.5 else float(rng.uniform(300, 15_000))
        sort = "eta" if rng.random() < 0.5 else "distance"
        got = finder.nearest(lat, lon, asked, at=at, k=k, max_distance_m=max_d, sort=sort)
        expected = brute_force_nearest(stations, lat, lon, asked, at, k, max_d, sort, network=network, hours=hours)
        assert [r["id"] for r in got] == expected, (lat, lon, asked, at, k, max_d, sort)
        assert finder.count_matching(lat, lon, asked, at, max_d) >= len(got)
        if max_d is not None:
            assert all(r["distance_m"] <= max_d + 0.05 for r in got)
            checked["cut"] += 1
        checked["short"] += len(got) < k
        checked[sort] += 1
        checked["network"] += any(r["eta_source"] == "network" for r in got)
    # the random queries did reach every branch the test is about
    assert min(checked.values()) >= 20, checked


def test_ties_at_the_same_position_go_to_the_lower_id(stations, any_finder):
    finder = any_finder
    positions = stations.geometry.to_wkb()
    twin = positions[positions.duplicated(keep=False)]
    assert len(twin) >= 2
    first = stations.loc[twin.index[0]]
    same = stations[positions == positions.loc[twin.index[0]]]
    got = finder.nearest(first.geometry.y, first.geometry.x, k=len(same))
    assert [r["id"] for r in got] == sorted(same["id"])
    assert {r["distance_m"] for r in got} == {0.0}


def test_rare_amenity_found_exactly_anywhere(stations, any_finder):
    finder = any_finder
    owners = stations[stations["amenities"].map(lambda a: RARE_AMENITY in a)]
    assert len(owners) == 3
    rng = np.random.default_rng(1)
    for _ in range(30):
        lat, lon = rng.uniform(*CHENGDU_LAT), rng.uniform(*CHENGDU_LON)
        got = finder.nearest(lat, lon, [RARE_AMENITY], k=5)
        assert sorted(r["id"] for r in got) == sorted(owners["id"])
        assert [r["id"] for r in got] == brute_force_nearest(stations, lat, lon, [RARE_AMENITY], None, 5, None)
        assert [r["distance_m"] for r in got] == sorted(r["distance_m"] for r in got)


def test_max_distance_excludes_and_an_impossible_search_is_empty(finder):
    lat, lon = CENTRE
    near = finder.nearest(lat, lon, k=20)
    cut = near[5]["distance_m"] - 0.05
    within = finder.nearest(lat, lon, k=20, max_distance_m=cut)
    assert [r["id"] for r in within] == [r["id"] for r in near[:5]]
    assert finder.count_matching(lat, lon, (), None, cut) == 5
    assert finder.nearest(lat, lon, k=5, max_distance_m=0.0) == []
    # all but one amenity: no synthetic station has that many
    everything = [key for key in AMENITY_KEYS if key != "wifi"]
    assert finder.nearest(lat, lon, everything, k=5) == []
    assert finder.count_matching(lat, lon, everything, None, None) == 0


def test_riding_time_on_the_network_in_the_centre_and_estimated_outside(finder, network):
    inside = finder.nearest(*CENTRE, k=10)
    assert inside and all(r["eta_source"] == "network" for r in inside if network.covers(r["lat"], r["lon"]))
    assert any(r["eta_source"] == "network" for r in inside)
    for r in inside:
        if r["eta_source"] == "network":
            assert r["eta_min"] >= round(r["distance_m"] / EBIKE_M_PER_MIN, 1) - 0.05
    outside = finder.nearest(*LONGQUANYI, k=10)
    assert outside and all(r["eta_source"] == "estimate" for r in outside)
    for r in outside:
        assert r["eta_min"] == pytest.approx(r["distance_m"] * 1.3 / (15_000 / 60), abs=0.051)


def test_sort_by_eta_orders_by_riding_time(finder):
    lat, lon = CENTRE
    by_eta = finder.nearest(lat, lon, k=15, sort="eta")
    etas = [r["eta_min"] for r in by_eta]
    assert etas == sorted(etas)
    by_distance = finder.nearest(lat, lon, k=15)
    # riding times reorder what the straight line ranks: the centre's streets are not straight
    assert [r["id"] for r in by_eta] != [r["id"] for r in by_distance]


def test_open_filter_and_closes_at(stations, finder):
    at = datetime(2025, 3, 12, 20, 15, tzinfo=SHANGHAI)  # a Wednesday evening
    got = finder.nearest(*CENTRE, at=at, k=20)
    assert got and all(r["open"] is True for r in got)
    by_id = stations.set_index("id")
    for r in got:
        hours = by_id.loc[r["id"], "opening_hours"]
        assert hours != "Mo-Fr 08:30-12:00,14:00-18:00; PH off"
        assert by_id.loc[r["id"], "status"] == "open" or by_id.loc[r["id"], "status_until"] < at
        if hours == "Mo-Su 08:00-22:00":
            assert r["closes_at"] == "2025-03-12T22:00:00+08:00"
        if hours == "Mo-Su 18:00-02:00":
            assert r["closes_at"] == "2025-03-13T02:00:00+08:00"
    assert all(r["open"] is None and r["closes_at"] is None for r in finder.nearest(*CENTRE, k=3))


def test_closing_times_are_the_hours_tables_whatever_was_asked_before(stations, network, hours):
    """Closing times kept per minute answer as the hours table does: asked first for a few stations then for many
    around them, at several minutes (a day's last hour, after midnight), and again from a fresh finder."""
    from layers.common.calendar import as_local

    rng = np.random.default_rng(17)
    kept = StationFinder(stations, network=network, hours=hours)
    position = {sid: i for i, sid in enumerate(stations["id"])}
    for at in (datetime(2025, 3, 12, 21, 59, tzinfo=SHANGHAI), datetime(2025, 3, 13, 1, 30, tzinfo=SHANGHAI),
               datetime(2025, 10, 1, 12, 0, tzinfo=SHANGHAI)):
        for k in (2, 40, 40):
            lat, lon = rng.uniform(*CHENGDU_LAT), rng.uniform(*CHENGDU_LON)
            got = kept.nearest(lat, lon, at=at, k=k)
            fresh = StationFinder(stations, network=network, hours=hours).nearest(lat, lon, at=at, k=k)
            assert got == fresh and len(got) == k
            want = hours.closes_at(at, idx=[position[r["id"]] for r in got])
            assert [r["closes_at"] for r in got] == [None if c is None else as_local(c).isoformat() for c in want]


def test_result_shape(finder):
    r = finder.nearest(*CENTRE, ["microwave", "toilet"], k=1)[0]
    assert set(r) == {"id", "name", "lat", "lon", "distance_m", "eta_min", "eta_source", "open", "closes_at",
                      "amenities", "amenities_out", "district", "address"}
    assert {"microwave", "toilet"} <= set(r["amenities"])
    assert r["amenities"] == [key for key in AMENITY_KEYS if key in r["amenities"]]
    assert r["distance_m"] == pytest.approx(float(haversine_m(*CENTRE, r["lat"], r["lon"])), abs=0.05)


def test_bad_input_is_refused(finder):
    with pytest.raises(ValueError, match="'sauna'") as err:
        finder.nearest(*CENTRE, ["toilet", "sauna"])
    assert "drinking_water" in str(err.value)
    with pytest.raises(ValueError, match="sort"):
        finder.nearest(*CENTRE, sort="fastest")
    with pytest.raises(ValueError, match="k must"):
        finder.nearest(*CENTRE, k=0)
    with pytest.raises(ValueError, match="EPSG:4326"):
        StationFinder(synthetic_stations(20).to_crs(32648))


def test_amenity_helpers(stations):
    assert parse_amenities("toilet; microwave,toilet") == ("microwave", "toilet")
    assert parse_amenities(None) == () == parse_amenities("")
    assert amenity_mask(["drinking_water", "microwave"]) == 0b11
    masks = masks_for(stations["amenities"])
    assert masks.dtype == np.uint32 and len(masks) == len(stations)
    assert masks_for(["toilet;wifi"])[0] == amenity_mask(("toilet", "wifi"))
    assert rarest(["drinking_water", RARE_AMENITY, "books"], masks) == RARE_AMENITY
    assert rarest(["drinking_water", "books"], masks) == "books"
