"""RoadNetwork: shortest riding paths on a hand-made graph and on the real centre of Chengdu."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from scipy.sparse import csgraph
from shapely.geometry import LineString

from layers.common.geodesy import haversine_m
from layers.common.network import RoadNetwork

CENTRE_LON, CENTRE_LAT = (104.0421, 104.1296), (30.6528, 30.7279)

# A block of four corners near 春熙路, (lat, lon)
A, B, C, D = (30.650, 104.050), (30.650, 104.060), (30.660, 104.060), (30.660, 104.050)
E = (30.655, 104.070)  # east of B, joined to B by a spur


def _xy(*points):
    return [(lon, lat) for lat, lon in points]


def _dist(p, q) -> float:
    return float(haversine_m(p[0], p[1], q[0], q[1]))


@pytest.fixture(scope="module")
def block() -> RoadNetwork:
    roads = gpd.GeoDataFrame({
        "highway": ["residential", "residential", "tertiary", "footway", "residential",
                    "motorway", "steps", "residential"],
        "oneway": [False, False, True, False, False, False, False, False],
    }, geometry=[
        LineString(_xy(A, B, C)),  # one way through B: B is a junction inside it
        LineString(_xy(A, B)),  # the same street mapped twice must not count twice
        LineString(_xy(C, D)),  # one-way, ridden both ways on purpose
        LineString(_xy(D, A)),
        LineString(_xy(B, E)),
        LineString(_xy(A, C)),  # a motorway diagonal, closed to e-bikes
        LineString(_xy(D, B)),  # steps diagonal, cannot be ridden
        LineString(_xy((30.9, 103.7), (30.9, 103.71))),  # a disconnected scrap far away
    ], crs="EPSG:4326")
    return RoadNetwork.from_roads(roads)


def test_hand_made_block_shortest_paths(block):
    assert block.n_nodes == 5  # the scrap is dropped with its component
    ab, bc, cd, da, be = _dist(A, B), _dist(B, C), _dist(C, D), _dist(D, A), _dist(B, E)
    got = block.riding_distances(*A, [B[0], C[0], D[0], E[0]], [B[1], C[1], D[1], E[1]])
    assert got == pytest.approx([ab, min(ab + bc, da + cd), da, ab + be], rel=1e-12)
    # against the oneway C->D
    assert block.riding_distances(*C, [D[0]], [D[1]])[0] == pytest.approx(cd, rel=1e-12)
    assert block.riding_distances(*D, [C[0]], [C[1]])[0] == pytest.approx(cd, rel=1e-12)


def test_snapping_adds_the_straight_legs(block):
    start = (A[0] + 0.0005, A[1] + 0.0005)  # about 72 m inside the block from A
    end = (E[0], E[1] - 0.0008)  # about 77 m west of E
    got = block.riding_distances(*start, [end[0]], [end[1]])[0]
    assert got == pytest.approx(_dist(start, A) + _dist(A, B) + _dist(B, E) + _dist(E, end), rel=1e-12)


def test_not_covered_is_nan(block):
    outside_extent = (A[0] - 0.001, A[1])  # 111 m from A, but beyond the mapped area
    assert not block.covers(*outside_extent)
    far_from_nodes = (30.6555, 104.055)  # inside the block, 500 m from every corner
    assert not block.covers(*far_from_nodes)
    assert np.isnan(block.riding_distances(*far_from_nodes, [B[0]], [B[1]])).all()
    assert np.isnan(block.riding_distances(*A, [30.9], [103.7])).all()  # the dropped scrap
    got = block.riding_distances(*A, [B[0], 30.9], [B[1], 103.7])
    assert np.isfinite(got[0]) and np.isnan(got[1])


def test_refuses_projected_roads():
    roads = gpd.GeoDataFrame({"highway": ["residential"]}, geometry=[LineString(_xy(A, B))],
                             crs="EPSG:4326").to_crs(32648)
    with pytest.raises(ValueError, match="EPSG:4326"):
        RoadNetwork.from_roads(roads)


@pytest.fixture(scope="module")
def centre(store) -> RoadNetwork:
    """The riding network of the demo build's roads (the OSM extract's highways), as the app builds it."""
    return RoadNetwork.from_roads(store.read("roads"))


def test_real_riding_is_never_shorter_than_the_straight_line(centre):
    rng = np.random.default_rng(5)
    lat = rng.uniform(*CENTRE_LAT, 200)
    lon = rng.uniform(*CENTRE_LON, 200)
    covered = 0
    for i in range(0, 200, 2):
        riding = centre.riding_distances(lat[i], lon[i], lat[i + 1:i + 2], lon[i + 1:i + 2])[0]
        if np.isnan(riding):
            continue
        covered += 1
        straight = float(haversine_m(lat[i], lon[i], lat[i + 1], lon[i + 1]))
        assert straight <= riding < 3 * straight + 600
    assert covered >= 70  # the centre is mapped densely


def test_one_point_snaps_as_the_array_form_does(centre):
    """A rider's position is snapped in plain floats: the same node, coverage and metres (to the last bits) as the
    array form gives, in the centre, at its edge and outside it."""
    rng = np.random.default_rng(11)
    lat = np.concatenate([rng.uniform(*CENTRE_LAT, 300), rng.uniform(30.4, 30.95, 300)])
    lon = np.concatenate([rng.uniform(*CENTRE_LON, 300), rng.uniform(103.7, 104.4, 300)])
    node, snap_m, covered = centre.snap(lat, lon)
    assert 0 < covered.sum() < len(lat)  # both kinds are asked
    for i in range(len(lat)):
        one = centre.snap_one(lat[i], lon[i])
        assert (one[0], one[2]) == (node[i], covered[i]) and isinstance(one[1], float)
        assert one[1] == pytest.approx(snap_m[i], rel=1e-12, abs=1e-9)


def test_real_network_is_nan_outside_the_centre(centre):
    longquanyi = (30.560, 104.270)
    wenjiang = (30.690, 103.840)
    assert centre.covers(30.690, 104.085)
    assert not centre.covers(*longquanyi) and not centre.covers(*wenjiang)
    assert np.isnan(centre.riding_distances(*longquanyi, [30.690], [104.085])).all()
    assert np.isnan(centre.riding_distances(30.690, 104.085, [longquanyi[0], wenjiang[0]],
                                            [longquanyi[1], wenjiang[1]])).all()


def test_cached_limited_search_still_exact_for_far_targets(centre):
    origin = (30.655, 104.045)  # south-west corner of the extract
    near, far = (30.660, 104.050), (30.725, 104.125)  # far is more than 10 km away
    first = centre.riding_distances(*origin, [near[0]], [near[1]])  # fills the cache with a limited run
    second = centre.riding_distances(*origin, [far[0], near[0]], [far[1], near[1]])
    nodes, snaps, _ = centre.snap([origin[0], far[0]], [origin[1], far[1]])
    full = csgraph.dijkstra(centre.graph, directed=False, indices=int(nodes[0]))
    assert second[0] == pytest.approx(snaps[0] + full[nodes[1]] + snaps[1], rel=1e-12)
    assert second[0] > 10_000
    assert second[1] == first[0]


def test_kept_rows_of_fixed_targets_answer_as_a_run_from_each_rider(store, monkeypatch):
    """A finder's stations keep their rows (the graph is undirected): every rider after the first is answered
    from them with no Dijkstra, with the metres a run from the rider's own node gives; a target farther than
    the first run's limit gets its whole row."""
    import layers.common.network as network_module

    network = RoadNetwork.from_roads(store.read("roads"))
    rng = np.random.default_rng(11)
    t_lat = np.array([30.660, 30.670, 30.680, 30.725, 30.700])
    t_lon = np.array([104.050, 104.080, 104.090, 104.125, 104.060])
    snapped = network.snap(t_lat, t_lon)
    # more riders than the per-rider cache holds
    origins = [(30.655 + rng.uniform(0, 0.06), 104.045 + rng.uniform(0, 0.08)) for _ in range(100)]
    runs = []
    real = csgraph.dijkstra
    monkeypatch.setattr(network_module.csgraph, "dijkstra", lambda *a, **k: runs.append(k) or real(*a, **k))
    first = network.riding_to_snapped(30.655, 104.045, *snapped, kept_rows=True)  # south-west: the far one > 8 km
    assert np.isfinite(first).all() and first[3] > 10_000
    made = len(runs)
    assert made == 2 and "limit" in runs[0] and "limit" not in runs[1]  # one batched limited run, one whole row
    covered = 0
    for lat, lon in origins:
        kept = network.riding_to_snapped(lat, lon, *snapped, kept_rows=True)
        own = network.riding_distances(lat, lon, t_lat, t_lon)  # a run from the rider's node (its own cache)
        assert np.array_equal(np.isnan(kept), np.isnan(own))
        assert kept[~np.isnan(kept)] == pytest.approx(own[~np.isnan(own)], rel=1e-12)
        covered += int(np.isfinite(kept).any())
    assert covered >= 75
    runs.clear()
    again = [network.riding_to_snapped(lat, lon, *snapped, kept_rows=True) for lat, lon in origins]
    assert runs == []  # every row is whole or reaches these riders now: no Dijkstra at all
    assert all(np.array_equal(a, network.riding_to_snapped(lat, lon, *snapped, kept_rows=True), equal_nan=True)
               for a, (lat, lon) in zip(again, origins))


def test_a_finder_keeps_station_rows_only_when_they_fit(store, monkeypatch):
    from layers.rider.nearest import StationFinder

    stations = store.read("stations")
    network = RoadNetwork.from_roads(store.read("roads"))
    finder = StationFinder(stations, network=network)
    assert finder._kept_rows
    small = RoadNetwork.from_roads(store.read("roads"))
    small.row_capacity = 3  # a network too large for a row per station node
    plain = StationFinder(stations, network=small)
    assert not plain._kept_rows
    for lat, lon in [(30.657, 104.066), (30.70, 104.10), (30.68, 104.06)]:
        a = finder.nearest(lat, lon, k=8, sort="eta")
        b = plain.nearest(lat, lon, k=8, sort="eta")
        assert [r["id"] for r in a] == [r["id"] for r in b]
        assert [r["eta_min"] for r in a] == [r["eta_min"] for r in b]
        assert any(r["eta_source"] == "network" for r in a)
