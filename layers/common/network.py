"""The road network for e-bike riding distances: graph from the ``roads`` layer, snapping, cached Dijkstra."""
from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse import csgraph
from scipy.spatial import cKDTree

from layers.common.caching import BoundedCache
from layers.common.geodesy import haversine_m, haversine_one_m, unit_vector_one, unit_vectors
from mapdata.crs import check_wgs84

#: A laden e-bike in city traffic, junctions included.
EBIKE_SPEED_KMH = 15.0
EBIKE_M_PER_MIN = EBIKE_SPEED_KMH * 1000.0 / 60.0
#: A point farther than this from every network node is not on the network: a rider there is
#: off the mapped streets (or the map has a hole) and a network time would be invented.
SNAP_RADIUS_M = 250.0
#: Roads an e-bike may not use: motorways are closed to non-motor vehicles by law, and a road
#: under construction or only proposed cannot be ridden. Steps cannot be ridden with a 50 kg
#: e-bike either. Footways and pedestrian streets stay in: riders push the bike along them.
EXCLUDED_HIGHWAYS = frozenset({"motorway", "motorway_link", "construction", "proposed", "steps"})
#: The first Dijkstra from an origin stops here; most riders look for a station within a few
#: kilometres, and a target beyond it triggers one unlimited run, so nothing is cut off.
_FIRST_RUN_LIMIT_M = 8_000.0
_CACHE_SIZE = 64
#: Memory the rows kept per target node may take (metres from a station's node to every node). The graph
#: is undirected, so a station's row answers every rider: the finder keeps one per station node when they
#: all fit here, and a rider's question then runs no Dijkstra at all once those rows are made.
ROWS_BUDGET_BYTES = 128 * 2**20


class RoadNetwork:
    """An undirected e-bike graph with great-circle edge lengths, its largest connected part only.

    ``oneway`` is ignored, on purpose: Chengdu's urban roads are mostly mapped as pairs of
    one-way carriageways metres apart, and the non-motor lane riders use runs beside them, so the
    legal route differs from the undirected one by a crossing at the next junction. Honouring
    ``oneway`` in a clipped extract, by contrast, turns every one-way road leaving the extract
    into a trap with no way back, which would report reachable stations as unreachable. The
    riding distance is therefore a slight underestimate, never an overestimate from a map edge.

    Build with :meth:`from_roads`.
    """

    def __init__(self, node_lat: np.ndarray, node_lon: np.ndarray, graph: sparse.csr_matrix, extent):
        self.node_lat = np.asarray(node_lat, dtype=float)
        self.node_lon = np.asarray(node_lon, dtype=float)
        self.graph = graph
        self.extent = extent
        shapely.prepare(self.extent)
        self._tree = cKDTree(unit_vectors(self.node_lat, self.node_lon))
        # origin node -> (complete, metres to every node); shared by request threads
        self._cache: BoundedCache[tuple[bool, np.ndarray]] = BoundedCache(_CACHE_SIZE)
        # target node -> (complete, metres from every node to it): the rows kept for fixed targets (stations)
        self.row_capacity = max(1, ROWS_BUDGET_BYTES // (8 * max(len(self.node_lat), 1)))
        self._rows: BoundedCache[tuple[bool, np.ndarray]] = BoundedCache(self.row_capacity)

    @property
    def n_nodes(self) -> int:
        return len(self.node_lat)

    @classmethod
    def from_roads(cls, roads: gpd.GeoDataFrame, extent=None) -> RoadNetwork:
        """Build the network from the ``roads`` layer.

        Parameters
        ----------
        roads : GeoDataFrame
            LineStrings in EPSG:4326 with a ``highway`` column (the ``roads`` layer, or OSM
            ``lines`` with ``highway`` not null). Ways joined at a shared OSM node share the
            exact coordinate, which is how junctions are found.
        extent : shapely geometry, optional
            Where the network is complete. By default the convex hull of the junctions (nodes
            where three or more road ends meet): an extract keeps whole ways that cross its
            border, but not their side streets, so beyond the border there are roads without
            junctions, and a route there would be a detour the map forces, not the city.

        Raises
        ------
        ValueError
            When ``roads`` is not in EPSG:4326 or has no rideable road.
        """
        check_wgs84(roads, "roads")
        highway = roads["highway"]
        keep = highway.notna() & ~highway.isin(EXCLUDED_HIGHWAYS)
        geoms = roads.geometry.values[keep.to_numpy()]
        geoms = geoms[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]
        geoms = shapely.get_parts(geoms)  # a MultiLineString from an import rides like its parts
        geoms = geoms[shapely.get_type_id(geoms) == 1]
        if len(geoms) == 0:
            raise ValueError("roads has no rideable LineString")
        coords, line = shapely.get_coordinates(geoms, return_index=True)
        xy, node = np.unique(coords, axis=0, return_inverse=True)
        node = node.ravel()
        same_line = line[1:] == line[:-1]
        u, v = node[:-1][same_line], node[1:][same_line]
        u, v = np.minimum(u, v), np.maximum(u, v)
        loop = u == v
        u, v = u[~loop], v[~loop]
        length = haversine_m(xy[u, 1], xy[u, 0], xy[v, 1], xy[v, 0])
        # Two ways along the same segment must not add up their lengths (csr sums duplicates):
        # keep the shortest of each pair of nodes.
        order = np.lexsort((length, v, u))
        u, v, length = u[order], v[order], length[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, length = u[first], v[first], length[first]
        n = len(xy)
        graph = sparse.coo_matrix((length, (u, v)), shape=(n, n)).tocsr()
        _, label = csgraph.connected_components(graph, directed=False)
        largest = np.bincount(label).argmax()
        kept = np.flatnonzero(label == largest)
        graph = graph[kept][:, kept]
        graph = (graph + graph.T).tocsr()
        node_lon, node_lat = xy[kept, 0], xy[kept, 1]
        if extent is None:
            degree = np.diff(graph.indptr)
            junction = degree >= 3
            use = junction if junction.sum() >= 3 else np.ones(len(node_lon), dtype=bool)
            pts = shapely.points(node_lon[use], node_lat[use])
            extent = shapely.convex_hull(shapely.multipoints(pts))
        return cls(node_lat, node_lon, graph, extent)

    def snap(self, lat, lon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The nearest network node of each point.

        Returns
        -------
        node : numpy.ndarray of int
        snap_m : numpy.ndarray of float
            Great-circle metres from the point to its node.
        covered : numpy.ndarray of bool
            Within :data:`SNAP_RADIUS_M` of the node and inside :attr:`extent`.
        """
        lat = np.atleast_1d(np.asarray(lat, dtype=float))
        lon = np.atleast_1d(np.asarray(lon, dtype=float))
        _, node = self._tree.query(unit_vectors(lat, lon))
        node = np.asarray(node, dtype=np.intp)
        snap_m = haversine_m(lat, lon, self.node_lat[node], self.node_lon[node])
        covered = (snap_m <= SNAP_RADIUS_M) & shapely.intersects_xy(self.extent, lon, lat)  # its edge too
        return node, snap_m, covered

    def snap_one(self, lat: float, lon: float) -> tuple[int, float, bool]:
        """:meth:`snap` of one point (a rider's), as plain values: its node, the metres to it, whether covered."""
        lat, lon = float(lat), float(lon)
        _, node = self._tree.query(unit_vector_one(lat, lon))
        node = int(node)
        snap_m = haversine_one_m(lat, lon, float(self.node_lat[node]), float(self.node_lon[node]))
        return node, snap_m, bool(snap_m <= SNAP_RADIUS_M and shapely.intersects_xy(self.extent, lon, lat))

    def covers(self, lat: float, lon: float) -> bool:
        """Whether a riding distance from or to this point can be computed on the network."""
        return bool(self.snap(lat, lon)[2][0])

    def _from_node(self, node: int, need: np.ndarray) -> np.ndarray:
        """Network metres from ``node`` to every node, exact at least for the nodes in ``need``."""
        hit = self._cache.get(node)
        if hit is not None:
            complete, dist = hit
            if complete or np.isfinite(dist[need]).all():
                return dist
        else:
            dist = csgraph.dijkstra(self.graph, directed=False, indices=node, limit=_FIRST_RUN_LIMIT_M)
            if np.isfinite(dist[need]).all():
                return self._cache.put(node, (False, dist))[1]
        # One component only, so every node is reachable: an infinite one lay beyond the limit.
        dist = csgraph.dijkstra(self.graph, directed=False, indices=node)
        return self._cache.put(node, (True, dist))[1]

    def _to_node(self, origin: int, targets: np.ndarray) -> np.ndarray:
        """Network metres from ``origin`` to each of ``targets``, read from the targets' kept rows (made, in one
        batched run, for the targets that have none or whose limited row stops short of ``origin``)."""
        found: dict[int, float] = {}
        fresh, short = [], []
        for t in dict.fromkeys(targets.tolist()):
            hit = self._rows.get(t)
            if hit is None:
                fresh.append(t)
            elif hit[0] or np.isfinite(hit[1][origin]):
                found[t] = hit[1][origin]
            else:
                short.append(t)
        if fresh:
            rows = csgraph.dijkstra(self.graph, directed=False, indices=fresh, limit=_FIRST_RUN_LIMIT_M)
            for t, row in zip(fresh, np.atleast_2d(rows)):
                if np.isfinite(row[origin]):
                    found[t] = self._rows.put(t, (False, row))[1][origin]
                else:
                    short.append(t)
        if short:
            rows = csgraph.dijkstra(self.graph, directed=False, indices=short)
            for t, row in zip(short, np.atleast_2d(rows)):
                found[t] = self._rows.put(t, (True, row))[1][origin]
        return np.fromiter((found[t] for t in targets.tolist()), dtype=float, count=len(targets))

    def riding_distances(self, lat: float, lon: float, targets_lat, targets_lon) -> np.ndarray:
        """Riding metres from one origin to many targets.

        Straight from the origin to its node, along the network, straight from the last node to
        the target. Every piece is at least the great-circle distance it spans, so the total is
        never shorter than the straight line.

        Returns
        -------
        numpy.ndarray of float
            One per target; NaN where the origin or that target is not covered.
        """
        targets_lat = np.atleast_1d(np.asarray(targets_lat, dtype=float))
        targets_lon = np.atleast_1d(np.asarray(targets_lon, dtype=float))
        if len(targets_lat) == 0:
            return np.full(0, np.nan)
        return self.riding_to_snapped(lat, lon, *self.snap(targets_lat, targets_lon))

    def riding_to_snapped(self, lat: float, lon: float, node: np.ndarray, snap_m: np.ndarray,
                          covered: np.ndarray, kept_rows: bool = False) -> np.ndarray:
        """:meth:`riding_distances` to targets already snapped (:meth:`snap`'s three answers for them).

        ``kept_rows``: the targets are a fixed set whose rows fit in :attr:`row_capacity` (a finder's
        stations): their rows are kept and read, instead of one Dijkstra per rider's node.
        """
        out = np.full(len(node), np.nan)
        start, snap_in, origin_covered = self.snap_one(lat, lon)
        if not origin_covered or not covered.any():
            return out
        want = node[covered]
        dist = self._to_node(start, want) if kept_rows else self._from_node(start, want)[want]
        out[covered] = snap_in + dist + snap_m[covered]
        return out

    def riding_minutes(self, lat: float, lon: float, targets_lat, targets_lon) -> np.ndarray:
        """:meth:`riding_distances` as minutes at :data:`EBIKE_SPEED_KMH`."""
        return self.riding_distances(lat, lon, targets_lat, targets_lon) / EBIKE_M_PER_MIN
